/*
 * A third-party OTLP-mmap writer in C, written from the protocol description (protocol.md and the
 * generated docs/), with libprotobuf-c for the record messages and the generated layout header
 * (generated/c/otlp_mmap_layout.h) for every offset, size and ring formula. It shares no code with
 * the Swift toolkit. It is a *testee*: it reads testee-protocol commands (docs/testee.md) on standard input,
 * writes what they say into the file, and answers each on standard output, so that
 * `otlp-mmap conform run` and `conform fuzz` can check it.
 *
 * Usage: otlp-mmap-c-writer [--break RULE | --bug NAME]
 *   --break SLOT-LENGTH|RING-HOLE|REC-SPAN-ID|HDR-VERSION  break one rule in a way any check sees
 *   --bug long-strings|overwrite|early-publish|claim-before-size|racy-grow   bugs that only some inputs or timings show
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "opentelemetry/proto/mmap/v1/mmap.pb-c.h"
#include "otlp_mmap/testee/v1/testee.pb-c.h"
/* Offsets, sizes, struct views and the ring formulas, generated from spec/ (generated/c/). */
#include "otlp_mmap_layout.h"

/* Shorter names for the generated types: the file's records, and the testee commands. */
#define M(name) Opentelemetry__Proto__Mmap__V1__##name
#define MINIT(NAME) OPENTELEMETRY__PROTO__MMAP__V1__##NAME##__INIT
#define T(name) OtlpMmap__Testee__V1__##name
#define STATUS(s) OTLP_MMAP__TESTEE__V1__REPLY_STATUS__REPLY_STATUS_##s

enum { EVENTS = OTLP_MMAP_RING_EVENTS, SPANS = OTLP_MMAP_RING_SPANS, MEASUREMENTS = OTLP_MMAP_RING_MEASUREMENTS };

/* The whole file is mapped once at this size; the file itself grows into it with ftruncate, so the
 * mapping never moves while other threads hold pointers into it. */
#define MAX_FILE_BYTES (1ll << 32)

typedef struct {
    otlp_mmap_ring_header *header;
    int32_t *availability;
    uint8_t *slots_base;
    int64_t slots;
    int64_t slot_bytes;
    int log2_slots;
} Ring;

static uint8_t *file_base;
static int file_fd = -1;
static int64_t file_size;
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;
static Ring rings[OTLP_MMAP_RING_COUNT];
static int64_t dict_offset;
/* How long a record waits for room in a full ring: create_file's full_ring_wait_micros, else 100 ms. */
static uint64_t full_ring_wait_ns = 100000000u;
static int64_t default_scope;
static int64_t resource_ref;
static const char *broken_rule = "";
static const char *bug = "";


static size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

static size_t write_varint(uint8_t *out, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) { out[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    out[n++] = (uint8_t)v;
    return n;
}

static uint64_t monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- an arena per command: everything a command allocates is freed together ------------------- */

typedef struct Chunk { struct Chunk *next; } Chunk;
typedef struct { Chunk *chunks; } Arena;

static void *arena_alloc(Arena *arena, size_t bytes) {
    Chunk *chunk = calloc(1, sizeof(Chunk) + bytes + 16);
    if (!chunk) { fprintf(stderr, "out of memory\n"); exit(2); }
    chunk->next = arena->chunks;
    arena->chunks = chunk;
    return (uint8_t *)(chunk + 1) + ((16 - sizeof(Chunk) % 16) % 16);
}

static void arena_free(Arena *arena) {
    while (arena->chunks) { Chunk *next = arena->chunks->next; free(arena->chunks); arena->chunks = next; }
}

/* ---- file ------------------------------------------------------------------------------------ */

static otlp_mmap_file_header *file_header(void) { return (otlp_mmap_file_header *)file_base; }
static otlp_mmap_dictionary_header *dictionary_header(void) { return (otlp_mmap_dictionary_header *)(file_base + dict_offset); }

static const char *create_file(const T(CreateFile) *create) {
    const T(RingGeometry) *geometry[OTLP_MMAP_RING_COUNT] = {create->events, create->spans, create->measurements};
    int64_t offsets[OTLP_MMAP_RING_COUNT], at = OTLP_MMAP_FILE_HEADER_SIZE;
    for (int r = 0; r < OTLP_MMAP_RING_COUNT; r++) {
        int64_t slots = geometry[r] ? geometry[r]->slots : OTLP_MMAP_DEFAULT_NUM_BUFFERS;
        int64_t bytes = geometry[r] ? geometry[r]->slot_size : OTLP_MMAP_DEFAULT_BUFFER_SIZE;
        int64_t ring_bytes;
        if (slots <= 0 || (slots & (slots - 1)) != 0 || bytes < 2) return "ring geometry: slots must be a power of two and slot_size at least 2";
        if (otlp_mmap_ring_byte_size(slots, bytes, &ring_bytes) != 0 || __builtin_add_overflow(at, ring_bytes, &at)) return "ring geometry: the rings' size overflows";
        rings[r] = (Ring){NULL, NULL, NULL, slots, bytes, __builtin_ctzll((unsigned long long)slots)};
        offsets[r] = at - ring_bytes;
    }
    dict_offset = at;
    full_ring_wait_ns = create->full_ring_wait_micros > 0 ? (uint64_t)create->full_ring_wait_micros * 1000u : 100000000u;
    int64_t dictionary = create->dictionary_bytes > OTLP_MMAP_DICTIONARY_HEADER_SIZE ? create->dictionary_bytes : 1 << 20;
    file_size = dict_offset + dictionary;
    file_fd = open(create->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (file_fd < 0) return strerror(errno);
    if (ftruncate(file_fd, (off_t)file_size) != 0) return strerror(errno);
    file_base = mmap(NULL, MAX_FILE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, file_fd, 0);
    if (file_base == MAP_FAILED) return strerror(errno);
    for (int r = 0; r < OTLP_MMAP_RING_COUNT; r++) {
        Ring *ring = &rings[r];
        int64_t availability, slots;
        if (otlp_mmap_ring_availability_offset(ring->slots, ring->slot_bytes, &availability) != 0
            || otlp_mmap_ring_slots_offset(ring->slots, ring->slot_bytes, &slots) != 0) return "ring geometry: the ring's parts overflow";
        ring->header = (otlp_mmap_ring_header *)(file_base + offsets[r]);
        ring->availability = (int32_t *)(file_base + offsets[r] + availability);
        ring->slots_base = file_base + offsets[r] + slots;
        ring->header->num_buffers = ring->slots;
        ring->header->buffer_size = ring->slot_bytes;
        ring->header->reader_index = OTLP_MMAP_RING_HEADER_READER_INDEX_INITIAL;
        ring->header->writer_index = OTLP_MMAP_RING_HEADER_WRITER_INDEX_INITIAL;
        for (int64_t s = 0; s < ring->slots; s++) ring->availability[s] = OTLP_MMAP_RING_AVAILABILITY_INITIAL;
    }
    dictionary_header()->end = otlp_mmap_first_entry_offset(dict_offset);
    dictionary_header()->num_entries = OTLP_MMAP_DICTIONARY_HEADER_NUM_ENTRIES_INITIAL;
    /* The header last, start time last of all: a reader that sees it sees a complete layout. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    otlp_mmap_file_header *header = file_header();
    header->version = strcmp(broken_rule, OTLP_MMAP_RULE_HDR_VERSION) == 0 ? 7 : OTLP_MMAP_FORMAT_VERSION;
    __atomic_store_n(&header->events, offsets[EVENTS], __ATOMIC_RELEASE);
    __atomic_store_n(&header->spans, offsets[SPANS], __ATOMIC_RELEASE);
    __atomic_store_n(&header->measurements, offsets[MEASUREMENTS], __ATOMIC_RELEASE);
    __atomic_store_n(&header->dictionary, dict_offset, __ATOMIC_RELEASE);
    __atomic_store_n(&header->start_time_unix_nano, (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec, __ATOMIC_RELEASE);
    return NULL;
}

/* ---- dictionary ------------------------------------------------------------------------------ */

/* Reserves an entry with a fetch-add on `end`, grows the file (doubling) when the entry does not fit,
 * writes it, then counts it. Entries are never de-duplicated (the protocol allows that). */
static int64_t dict_append(const uint8_t *payload, size_t length) {
    size_t prefix = varint_size(length);
    if (strcmp(bug, "long-strings") == 0) prefix = 1;  /* BUG: a one-byte length, whatever the length */
    size_t total = prefix + length;
    int64_t at = __atomic_fetch_add(&dictionary_header()->end, (int64_t)total, __ATOMIC_ACQ_REL);
    if (at + (int64_t)total > __atomic_load_n(&file_size, __ATOMIC_ACQUIRE) && strcmp(bug, "racy-grow") == 0) {
        /* BUG racy-grow: grows without the lock, to a size worked out from the size it read first. Two
         * threads growing at once each truncate the file to their own size; when the smaller one lands
         * last it cuts off the other's entries (lost, or SIGBUS for the thread still writing one). Only
         * some interleavings show it, as with the existing writer's dictionary race. */
        int64_t size = __atomic_load_n(&file_size, __ATOMIC_ACQUIRE);
        while (size < at + (int64_t)total) size = dict_offset + (size - dict_offset) * 2;
        if (size > MAX_FILE_BYTES) { fprintf(stderr, "dictionary full\n"); exit(2); }
        sched_yield();
        if (ftruncate(file_fd, (off_t)size) != 0) { perror("ftruncate"); exit(2); }
        __atomic_store_n(&file_size, size, __ATOMIC_RELEASE);
    } else if (at + (int64_t)total > __atomic_load_n(&file_size, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&grow_lock);
        int64_t size = file_size;
        while (size < at + (int64_t)total) size = dict_offset + (size - dict_offset) * 2;
        if (size > MAX_FILE_BYTES) { fprintf(stderr, "dictionary full\n"); exit(2); }
        if (size > file_size) {
            if (ftruncate(file_fd, (off_t)size) != 0) { perror("ftruncate"); exit(2); }
            __atomic_store_n(&file_size, size, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&grow_lock);
    }
    if (strcmp(bug, "long-strings") == 0) file_base[at] = (uint8_t)length;
    else write_varint(file_base + at, length);
    memcpy(file_base + at + prefix, payload, length);
    __atomic_fetch_add(&dictionary_header()->num_entries, 1, __ATOMIC_ACQ_REL);
    return at;
}

static int64_t dict_string(const char *text) {
    return text && *text ? dict_append((const uint8_t *)text, strlen(text)) : 0;
}

static int64_t dict_message(const ProtobufCMessage *message, Arena *arena) {
    size_t length = protobuf_c_message_get_packed_size(message);
    uint8_t *buffer = arena_alloc(arena, length + 1);
    protobuf_c_message_pack(message, buffer);
    return dict_append(buffer, length);
}

/* ---- rings: claim with compare-and-swap, write, publish with a release store ------------------ */

/* Claims the next sequence, waiting at most full_ring_wait_ns for room; -1 when the ring stays full. */
static int64_t claim(Ring *ring) {
    int64_t *writer = &ring->header->writer_index, *reader = &ring->header->reader_index;
    uint64_t give_up = monotonic_ns() + full_ring_wait_ns;
    for (;;) {
        int64_t w = __atomic_load_n(writer, __ATOMIC_ACQUIRE);
        int64_t r = __atomic_load_n(reader, __ATOMIC_ACQUIRE);
        int full = w + 1 - ring->slots >= r;
        if (full && strcmp(bug, "overwrite") != 0) { /* BUG overwrite: claims over the oldest unread slot */
            if (monotonic_ns() > give_up) return -1;
            usleep(20);
            continue;
        }
        if (__atomic_compare_exchange_n(writer, &w, w + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return w + 1;
    }
}

static uint8_t *slot(Ring *ring, int64_t sequence) {
    return ring->slots_base + otlp_mmap_slot_index(sequence, ring->slots) * ring->slot_bytes;
}

static void publish(Ring *ring, int64_t sequence) {
    __atomic_store_n(&ring->availability[otlp_mmap_slot_index(sequence, ring->slots)], otlp_mmap_flag(sequence, (unsigned)ring->log2_slots), __ATOMIC_RELEASE);
}

/* The size is checked before claiming, so a record that does not fit leaves no hole. */
static int write_record(int ring_index, const ProtobufCMessage *message, Arena *arena) {
    Ring *ring = &rings[ring_index];
    size_t length = protobuf_c_message_get_packed_size(message);
    if (strcmp(bug, "claim-before-size") == 0) {
        /* BUG: claims first, then finds the record too large: the claimed slot is never published. */
        int64_t claimed = claim(ring);
        if (claimed < 0) return STATUS(DROPPED);
        if (varint_size(length) + length > (size_t)ring->slot_bytes) return STATUS(TOO_LARGE);
        uint8_t *at = slot(ring, claimed);
        size_t n = write_varint(at, length);
        protobuf_c_message_pack(message, at + n);
        publish(ring, claimed);
        return STATUS(OK);
    }
    if (varint_size(length) + length > (size_t)ring->slot_bytes) return STATUS(TOO_LARGE);
    int64_t sequence = claim(ring);
    if (sequence < 0) return STATUS(DROPPED);
    uint8_t *destination = slot(ring, sequence);
    if (strcmp(bug, "early-publish") == 0) {
        /* BUG: the flag goes up before the bytes are in place. */
        uint8_t *bytes = arena_alloc(arena, length + 10);
        size_t n = write_varint(bytes, length);
        protobuf_c_message_pack(message, bytes + n);
        publish(ring, sequence);
        usleep(500);  /* 0.5 ms: a paused runner watches the published slots continuously and must still see it */
        memcpy(destination, bytes, n + length);
        return STATUS(OK);
    }
    size_t n = write_varint(destination, length);
    protobuf_c_message_pack(message, destination + n);
    publish(ring, sequence);
    return STATUS(OK);
}

/* ---- commands → records ---------------------------------------------------------------------- */

#define MAX_HANDLES 4096
static int64_t scopes[MAX_HANDLES];
static int64_t metrics[MAX_HANDLES];

static M(AnyValue) *any_value(const T(Value) *value, Arena *arena);

static M(KeyValueRef) **key_values(T(KeyValue) **list, size_t n, Arena *arena) {
    M(KeyValueRef) **out = arena_alloc(arena, (n + 1) * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i] = arena_alloc(arena, sizeof **out);
        opentelemetry__proto__mmap__v1__key_value_ref__init(out[i]);
        out[i]->key_ref = dict_string(list[i]->key);
        out[i]->value = list[i]->value ? any_value(list[i]->value, arena) : NULL;
    }
    return out;
}

/* A testee Value as the file's AnyValue: the oneof members have the same numbers (1 to 7). */
static M(AnyValue) *any_value(const T(Value) *value, Arena *arena) {
    M(AnyValue) *out = arena_alloc(arena, sizeof *out);
    opentelemetry__proto__mmap__v1__any_value__init(out);
    out->value_case = (int)value->value_case;
    switch (value->value_case) {
    case OTLP_MMAP__TESTEE__V1__VALUE__VALUE_STRING_VALUE: out->string_value = value->string_value; break;
    case OTLP_MMAP__TESTEE__V1__VALUE__VALUE_BOOL_VALUE: out->bool_value = value->bool_value; break;
    case OTLP_MMAP__TESTEE__V1__VALUE__VALUE_INT_VALUE: out->int_value = value->int_value; break;
    case OTLP_MMAP__TESTEE__V1__VALUE__VALUE_DOUBLE_VALUE: out->double_value = value->double_value; break;
    case OTLP_MMAP__TESTEE__V1__VALUE__VALUE_BYTES_VALUE: out->bytes_value = value->bytes_value; break;
    case OTLP_MMAP__TESTEE__V1__VALUE__VALUE_ARRAY_VALUE: {
        M(ArrayValue) *array = arena_alloc(arena, sizeof *array);
        opentelemetry__proto__mmap__v1__array_value__init(array);
        array->n_values = value->array_value->n_values;
        array->values = arena_alloc(arena, (array->n_values + 1) * sizeof *array->values);
        for (size_t i = 0; i < array->n_values; i++) array->values[i] = any_value(value->array_value->values[i], arena);
        out->array_value = array;
        break;
    }
    case OTLP_MMAP__TESTEE__V1__VALUE__VALUE_KVLIST_VALUE: {
        M(KeyValueList) *list = arena_alloc(arena, sizeof *list);
        opentelemetry__proto__mmap__v1__key_value_list__init(list);
        list->n_values = value->kvlist_value->n_values;
        list->values = key_values(value->kvlist_value->values, list->n_values, arena);
        out->kvlist_value = list;
        break;
    }
    default: break;
    }
    return out;
}

static int ids_ok(ProtobufCBinaryData trace, ProtobufCBinaryData span) { return trace.len == 16 && span.len == 8; }

static M(SpanContext) *span_context(ProtobufCBinaryData trace, ProtobufCBinaryData span, uint32_t flags, Arena *arena) {
    if (trace.len == 0 && span.len == 0) return NULL;
    M(SpanContext) *context = arena_alloc(arena, sizeof *context);
    opentelemetry__proto__mmap__v1__span_context__init(context);
    context->trace_id = trace;
    context->span_id = span;
    context->flags = flags;
    return context;
}

static int64_t scope_ref(int64_t id) {
    if (id == 0) return default_scope;
    return id > 0 && id < MAX_HANDLES ? scopes[id] : 0;
}

/* One span record with the given event. Non-start events use the default scope: readers take a
 * span's scope from its start. */
static int span_record(ProtobufCBinaryData trace, ProtobufCBinaryData span, int64_t scope, M(SpanEvent) *event, Arena *arena) {
    event->trace_id = trace;
    event->span_id = span;
    event->scope_ref = scope;
    return write_record(SPANS, &event->base, arena);
}

static int perform(const T(Command) *command, T(Reply) *reply, Arena *arena);

typedef struct { T(CommandGroup) *group; T(Reply) **replies; Arena arena; } GroupWork;

/* A thread's commands, in order, each allocating from the thread's own arena. */
static void *run_group(void *argument) {
    GroupWork *work = argument;
    for (size_t i = 0; i < work->group->n_commands; i++) perform(work->group->commands[i], work->replies[i], &work->arena);
    return NULL;
}

/* Fills `reply` for `command`; message strings live in static storage or the arena. */
static int perform(const T(Command) *command, T(Reply) *reply, Arena *arena) {
    reply->id = command->id;
    reply->status = STATUS(OK);
    if (command->command_case != OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_CREATE_FILE && !file_base) {
        reply->status = STATUS(ERROR);
        reply->message = "create_file must come first";
        return 0;
    }
    switch (command->command_case) {
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_CREATE_FILE: {
        const char *problem = create_file(command->create_file);
        if (problem) { reply->status = STATUS(ERROR); reply->message = (char *)problem; return 0; }
        M(Resource) resource = MINIT(RESOURCE);
        resource.n_attributes = command->create_file->n_resource;
        resource.attributes = key_values(command->create_file->resource, resource.n_attributes, arena);
        M(InstrumentationScope) scope = MINIT(INSTRUMENTATION_SCOPE);
        scope.name_ref = dict_string("otlp-mmap-c-writer");
        resource_ref = dict_message(&resource.base, arena);
        scope.resource_ref = resource_ref;
        default_scope = dict_message(&scope.base, arena);
        if (strcmp(broken_rule, OTLP_MMAP_RULE_RING_HOLE) == 0) (void)claim(&rings[SPANS]); /* claimed, never published */
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_DEFINE_SCOPE: {
        const T(DefineScope) *define = command->define_scope;
        if (define->scope_id <= 0 || define->scope_id >= MAX_HANDLES) { reply->status = STATUS(ERROR); reply->message = "scope_id out of range"; break; }
        M(InstrumentationScope) scope = MINIT(INSTRUMENTATION_SCOPE);
        scope.name_ref = dict_string(define->name);
        scope.version_ref = dict_string(define->version);
        scope.n_attributes = define->n_attributes;
        scope.attributes = key_values(define->attributes, define->n_attributes, arena);
        scope.resource_ref = resource_ref;
        scopes[define->scope_id] = dict_message(&scope.base, arena);
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_START_SPAN: {
        const T(BeginSpan) *start = command->start_span;
        if (!ids_ok(start->trace_id, start->span_id)) { reply->status = STATUS(ERROR); reply->message = "ids of the wrong length"; break; }
        M(SpanEvent) event = MINIT(SPAN_EVENT);
        M(SpanEvent__StartSpan) body = MINIT(SPAN_EVENT__START_SPAN);
        body.parent_span_id = start->parent_span_id;
        body.name = start->name;
        body.kind = (int)start->kind;
        body.start_time_unix_nano = start->start_time_unix_nano;
        body.flags = start->flags;
        body.n_attributes = start->n_attributes;
        body.attributes = key_values(start->attributes, start->n_attributes, arena);
        event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_START;
        event.start = &body;
        reply->status = span_record(start->trace_id, start->span_id, scope_ref(start->scope_id), &event, arena);
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_SET_SPAN_ATTRIBUTES: {
        const T(SetSpanAttributes) *update = command->set_span_attributes;
        M(SpanEvent) event = MINIT(SPAN_EVENT);
        M(SpanEvent__UpdateAttributes) body = MINIT(SPAN_EVENT__UPDATE_ATTRIBUTES);
        body.n_attributes = update->n_attributes;
        body.attributes = key_values(update->attributes, update->n_attributes, arena);
        event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_ATTRIBUTES;
        event.attributes = &body;
        reply->status = span_record(update->trace_id, update->span_id, default_scope, &event, arena);
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_RENAME_SPAN: {
        M(SpanEvent) event = MINIT(SPAN_EVENT);
        M(SpanEvent__ChangeSpanName) body = MINIT(SPAN_EVENT__CHANGE_SPAN_NAME);
        body.name = command->rename_span->name;
        event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_NAME;
        event.name = &body;
        reply->status = span_record(command->rename_span->trace_id, command->rename_span->span_id, default_scope, &event, arena);
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_ADD_SPAN_LINKS: {
        const T(AddSpanLinks) *add = command->add_span_links;
        M(SpanEvent) event = MINIT(SPAN_EVENT);
        M(SpanEvent__AddLink) body = MINIT(SPAN_EVENT__ADD_LINK);
        body.n_links = add->n_links;
        body.links = arena_alloc(arena, (add->n_links + 1) * sizeof *body.links);
        for (size_t i = 0; i < add->n_links; i++) {
            M(SpanEvent__AddLink__Link) *link = arena_alloc(arena, sizeof *link);
            opentelemetry__proto__mmap__v1__span_event__add_link__link__init(link);
            link->trace_id = add->links[i]->trace_id;
            link->span_id = add->links[i]->span_id;
            link->trace_state = add->links[i]->trace_state;
            link->flags = add->links[i]->flags;
            link->n_attributes = add->links[i]->n_attributes;
            link->attributes = key_values(add->links[i]->attributes, link->n_attributes, arena);
            body.links[i] = link;
        }
        event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_LINK;
        event.link = &body;
        reply->status = span_record(add->trace_id, add->span_id, default_scope, &event, arena);
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_END_SPAN: {
        const T(FinishSpan) *end = command->end_span;
        M(SpanEvent) event = MINIT(SPAN_EVENT);
        M(SpanEvent__EndSpan) body = MINIT(SPAN_EVENT__END_SPAN);
        M(Status) status = MINIT(STATUS);
        status.code = (int)end->status_code;
        status.message = end->status_message;
        body.end_time_unix_nano = end->end_time_unix_nano;
        body.status = &status;
        event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_END;
        event.end = &body;
        reply->status = span_record(end->trace_id, end->span_id, default_scope, &event, arena);
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_LOG: {
        const T(EmitLog) *log = command->log;
        M(Event) event = MINIT(EVENT);
        event.scope_ref = scope_ref(log->scope_id);
        event.time_unix_nano = log->time_unix_nano;
        event.severity_number = (int)log->severity_number;
        event.severity_text = log->severity_text;
        event.body = log->body ? any_value(log->body, arena) : NULL;
        event.event_name_ref = dict_string(log->event_name);
        event.span_context = span_context(log->trace_id, log->span_id, log->flags, arena);
        event.n_attributes = log->n_attributes;
        event.attributes = key_values(log->attributes, log->n_attributes, arena);
        reply->status = write_record(EVENTS, &event.base, arena);
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_DEFINE_INSTRUMENT: {
        const T(DefineInstrument) *define = command->define_instrument;
        if (define->instrument_id <= 0 || define->instrument_id >= MAX_HANDLES) { reply->status = STATUS(ERROR); reply->message = "instrument_id out of range"; break; }
        M(MetricRef) metric = MINIT(METRIC_REF);
        M(MetricRef__Sum) sum = MINIT(METRIC_REF__SUM);
        M(MetricRef__Gauge) gauge = MINIT(METRIC_REF__GAUGE);
        M(MetricRef__Histogram) histogram = MINIT(METRIC_REF__HISTOGRAM);
        M(MetricRef__ExponentialHistogram) exponential = MINIT(METRIC_REF__EXPONENTIAL_HISTOGRAM);
        metric.name = define->name;
        metric.description = define->description;
        metric.unit = define->unit;
        metric.instrumentation_scope_ref = scope_ref(define->scope_id);
        switch (define->kind) {
        case OTLP_MMAP__TESTEE__V1__INSTRUMENT_KIND__INSTRUMENT_KIND_COUNTER:
        case OTLP_MMAP__TESTEE__V1__INSTRUMENT_KIND__INSTRUMENT_KIND_UP_DOWN_COUNTER:
            sum.aggregation_temporality = (int)define->temporality;
            sum.is_monotonic = define->kind == OTLP_MMAP__TESTEE__V1__INSTRUMENT_KIND__INSTRUMENT_KIND_COUNTER;
            metric.aggregation_case = OPENTELEMETRY__PROTO__MMAP__V1__METRIC_REF__AGGREGATION_SUM;
            metric.sum = &sum;
            break;
        case OTLP_MMAP__TESTEE__V1__INSTRUMENT_KIND__INSTRUMENT_KIND_HISTOGRAM:
            histogram.aggregation_temporality = (int)define->temporality;
            histogram.n_bucket_boundaries = define->n_boundaries;
            histogram.bucket_boundaries = define->boundaries;
            metric.aggregation_case = OPENTELEMETRY__PROTO__MMAP__V1__METRIC_REF__AGGREGATION_HISTOGRAM;
            metric.histogram = &histogram;
            break;
        case OTLP_MMAP__TESTEE__V1__INSTRUMENT_KIND__INSTRUMENT_KIND_EXPONENTIAL_HISTOGRAM:
            exponential.aggregation_temporality = (int)define->temporality;
            exponential.max_buckets = define->max_buckets;
            exponential.max_scale = define->max_scale;
            metric.aggregation_case = OPENTELEMETRY__PROTO__MMAP__V1__METRIC_REF__AGGREGATION_EXP_HIST;
            metric.exp_hist = &exponential;
            break;
        case OTLP_MMAP__TESTEE__V1__INSTRUMENT_KIND__INSTRUMENT_KIND_GAUGE:
            metric.aggregation_case = OPENTELEMETRY__PROTO__MMAP__V1__METRIC_REF__AGGREGATION_GAUGE;
            metric.gauge = &gauge;
            break;
        default:
            reply->status = STATUS(UNSUPPORTED);
            reply->message = "unknown instrument kind";
            return 0;
        }
        metrics[define->instrument_id] = dict_message(&metric.base, arena);
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_RECORD: {
        const T(RecordMeasurement) *record = command->record;
        if (record->instrument_id <= 0 || record->instrument_id >= MAX_HANDLES || !metrics[record->instrument_id]) {
            reply->status = STATUS(ERROR);
            reply->message = "no such instrument";
            break;
        }
        M(Measurement) measurement = MINIT(MEASUREMENT);
        measurement.metric_ref = metrics[record->instrument_id];
        measurement.time_unix_nano = record->time_unix_nano;
        measurement.n_attributes = record->n_attributes;
        measurement.attributes = key_values(record->attributes, record->n_attributes, arena);
        measurement.span_context = span_context(record->trace_id, record->span_id, record->flags, arena);
        if (record->value_case == OTLP_MMAP__TESTEE__V1__RECORD_MEASUREMENT__VALUE_AS_DOUBLE) {
            measurement.value_case = OPENTELEMETRY__PROTO__MMAP__V1__MEASUREMENT__VALUE_AS_DOUBLE;
            measurement.as_double = record->as_double;
        } else {
            measurement.value_case = OPENTELEMETRY__PROTO__MMAP__V1__MEASUREMENT__VALUE_AS_LONG;
            measurement.as_long = record->as_long;
        }
        reply->status = write_record(MEASUREMENTS, &measurement.base, arena);
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_RUN_PARALLEL: {
        const T(RunParallel) *parallel = command->run_parallel;
        size_t total = 0;
        for (size_t g = 0; g < parallel->n_groups; g++) total += parallel->groups[g]->n_commands;
        reply->n_parts = total;
        reply->parts = arena_alloc(arena, (total + 1) * sizeof *reply->parts);
        pthread_t *threads = arena_alloc(arena, (parallel->n_groups + 1) * sizeof *threads);
        GroupWork *work = arena_alloc(arena, (parallel->n_groups + 1) * sizeof *work);
        size_t next = 0;
        for (size_t g = 0; g < parallel->n_groups; g++) {
            work[g].group = parallel->groups[g];
            work[g].replies = reply->parts + next;
            for (size_t i = 0; i < parallel->groups[g]->n_commands; i++) {
                T(Reply) *part = arena_alloc(arena, sizeof *part);
                otlp_mmap__testee__v1__reply__init(part);
                reply->parts[next++] = part;
            }
        }
        for (size_t g = 0; g < parallel->n_groups; g++) pthread_create(&threads[g], NULL, run_group, &work[g]);
        for (size_t g = 0; g < parallel->n_groups; g++) {
            pthread_join(threads[g], NULL);
            /* The threads' allocations are freed with this command's, after the reply is sent. */
            while (work[g].arena.chunks) {
                Chunk *chunk = work[g].arena.chunks;
                work[g].arena.chunks = chunk->next;
                chunk->next = arena->chunks;
                arena->chunks = chunk;
            }
        }
        break;
    }
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_SYNC:
        break; /* every record is published before its command's reply */
    case OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_EXIT:
        break;
    default:
        reply->status = STATUS(UNSUPPORTED);
        reply->message = "unknown command";
    }
    return 0;
}

/* ---- rules broken on purpose, after everything commanded was written --------------------------- */

static void break_after(Arena *arena) {
    if (strcmp(broken_rule, OTLP_MMAP_RULE_SLOT_LENGTH) == 0) {
        /* A record truncated to fit its slot: the length prefix still says the whole length. */
        Ring *ring = &rings[EVENTS];
        int64_t sequence = claim(ring);
        if (sequence < 0) return;
        uint8_t *destination = slot(ring, sequence);
        size_t n = write_varint(destination, (uint64_t)ring->slot_bytes + 100);
        memset(destination + n, 0x41, (size_t)ring->slot_bytes - n);
        publish(ring, sequence);
    } else if (strcmp(broken_rule, OTLP_MMAP_RULE_REC_SPAN_ID) == 0) {
        M(SpanEvent) event = MINIT(SPAN_EVENT);
        M(SpanEvent__ChangeSpanName) rename = MINIT(SPAN_EVENT__CHANGE_SPAN_NAME);
        static uint8_t short_id[3] = {1, 2, 3};
        rename.name = "bad ids";
        event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_NAME;
        event.name = &rename;
        span_record((ProtobufCBinaryData){3, short_id}, (ProtobufCBinaryData){3, short_id}, default_scope, &event, arena);
    }
}

/* ---- the protocol loop: 4-byte little-endian length, then the message --------------------------- */

/* Standard input and output, or the descriptors the runner names in OTLP_MMAP_TESTEE_FDS ("3,4"). */
static int command_fd = 0, reply_fd = 1;

static int read_exactly(uint8_t *buffer, size_t length) {
    size_t done = 0;
    while (done < length) {
        ssize_t n = read(command_fd, buffer + done, length - done);
        if (n <= 0) { if (n < 0 && errno == EINTR) continue; return -1; }
        done += (size_t)n;
    }
    return 0;
}

static void write_exactly(const uint8_t *buffer, size_t length) {
    while (length > 0) {
        ssize_t n = write(reply_fd, buffer, length);
        if (n <= 0) { if (n < 0 && errno == EINTR) continue; exit(3); }
        buffer += n;
        length -= (size_t)n;
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--break") == 0 && i + 1 < argc) broken_rule = argv[++i];
        else if (strcmp(argv[i], "--bug") == 0 && i + 1 < argc) bug = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--break SLOT-LENGTH|RING-HOLE|REC-SPAN-ID|HDR-VERSION] [--bug long-strings|overwrite|early-publish|claim-before-size|racy-grow]\n", argv[0]);
            return 64;
        }
    }
    const char *descriptors = getenv("OTLP_MMAP_TESTEE_FDS");
    if (descriptors && sscanf(descriptors, "%d,%d", &command_fd, &reply_fd) != 2) {
        fprintf(stderr, "OTLP_MMAP_TESTEE_FDS is %s: expected two descriptors, such as 3,4\n", descriptors);
        return 64;
    }
    for (;;) {
        uint8_t prefix[4];
        if (read_exactly(prefix, 4) != 0) { fprintf(stderr, "standard input ended before exit\n"); return 65; }
        uint32_t length = (uint32_t)prefix[0] | (uint32_t)prefix[1] << 8 | (uint32_t)prefix[2] << 16 | (uint32_t)prefix[3] << 24;
        if (length > (16u << 20)) { fprintf(stderr, "a frame of %u bytes\n", length); return 65; }
        uint8_t *payload = malloc(length + 1);
        if (read_exactly(payload, length) != 0) { fprintf(stderr, "standard input ended inside a frame\n"); return 65; }
        T(Command) *command = otlp_mmap__testee__v1__command__unpack(NULL, length, payload);
        free(payload);
        if (!command) { fprintf(stderr, "a command that does not decode\n"); return 65; }
        Arena arena = {0};
        T(Reply) reply = OTLP_MMAP__TESTEE__V1__REPLY__INIT;
        perform(command, &reply, &arena);
        int exiting = command->command_case == OTLP_MMAP__TESTEE__V1__COMMAND__COMMAND_EXIT;
        if (exiting) break_after(&arena);
        size_t size = otlp_mmap__testee__v1__reply__get_packed_size(&reply);
        uint8_t *out = arena_alloc(&arena, size + 4);
        out[0] = (uint8_t)size; out[1] = (uint8_t)(size >> 8); out[2] = (uint8_t)(size >> 16); out[3] = (uint8_t)(size >> 24);
        otlp_mmap__testee__v1__reply__pack(&reply, out + 4);
        write_exactly(out, size + 4);
        arena_free(&arena);
        otlp_mmap__testee__v1__command__free_unpacked(command, NULL);
        if (exiting) return 0;
    }
}
