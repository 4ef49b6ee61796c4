/*
 * A third-party OTLP-mmap writer, written in C from the protocol description (protocol.md and the
 * generated docs/), with libprotobuf-c for the record messages. It exists to be checked by
 * `otlp-mmap conform run`: it shares no code with the Swift toolkit.
 *
 * Usage: SDK_MMAP_EXPORTER_FILE=path OTLP_MMAP_SCENARIO=name otlp-mmap-c-writer [--break RULE]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "opentelemetry/proto/mmap/v1/mmap.pb-c.h"

/* Shorter names for the generated types. */
typedef Opentelemetry__Proto__Mmap__V1__SpanEvent SpanEvent;
typedef Opentelemetry__Proto__Mmap__V1__StartSpan StartSpan;
typedef Opentelemetry__Proto__Mmap__V1__EndSpan EndSpan;
typedef Opentelemetry__Proto__Mmap__V1__ChangeSpanName ChangeSpanName;
typedef Opentelemetry__Proto__Mmap__V1__UpdateAttributes UpdateAttributes;
typedef Opentelemetry__Proto__Mmap__V1__AddLink AddLink;
typedef Opentelemetry__Proto__Mmap__V1__Link Link;
typedef Opentelemetry__Proto__Mmap__V1__Status Status;
typedef Opentelemetry__Proto__Mmap__V1__Event Event;
typedef Opentelemetry__Proto__Mmap__V1__Measurement Measurement;
typedef Opentelemetry__Proto__Mmap__V1__MetricRef MetricRef;
typedef Opentelemetry__Proto__Mmap__V1__Sum Sum;
typedef Opentelemetry__Proto__Mmap__V1__Gauge Gauge;
typedef Opentelemetry__Proto__Mmap__V1__Histogram Histogram;
typedef Opentelemetry__Proto__Mmap__V1__ExponentialHistogram ExponentialHistogram;
typedef Opentelemetry__Proto__Mmap__V1__Resource Resource;
typedef Opentelemetry__Proto__Mmap__V1__InstrumentationScope InstrumentationScope;
typedef Opentelemetry__Proto__Mmap__V1__KeyValueRef KeyValueRef;
typedef Opentelemetry__Proto__Mmap__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Mmap__V1__SpanContext SpanContextMsg;

enum { EVENTS = 0, SPANS = 1, MEASUREMENTS = 2 };

/* Layout constants from the protocol: 64-byte file header, 32-byte ring headers, int32 flags. */
#define FILE_HEADER 64
#define RING_HEADER 32
#define DICT_HEADER 64
#define SLOTS 64
#define SLOT_BYTES 512
#define DICT_BYTES (1 << 20)

typedef struct {
    uint8_t *base;      /* ring header */
    int64_t slots;
    int64_t slot_bytes;
    int log2_slots;
} Ring;

static uint8_t *file_base;
static size_t file_size;
static Ring rings[3];
static int64_t dict_offset;
static const char *broken_rule = "";

static void die(const char *what) {
    fprintf(stderr, "otlp-mmap-c-writer: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int64_t *i64(uint8_t *p) { return (int64_t *)p; }

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

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

/* ---- file ------------------------------------------------------------------------------------ */

static void create_file(const char *path) {
    int64_t ring_bytes = RING_HEADER + 4 * SLOTS + (int64_t)SLOTS * SLOT_BYTES;
    int64_t offsets[3] = {FILE_HEADER, FILE_HEADER + ring_bytes, FILE_HEADER + 2 * ring_bytes};
    dict_offset = FILE_HEADER + 3 * ring_bytes;
    file_size = (size_t)(dict_offset + DICT_BYTES);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) die("open");
    if (ftruncate(fd, (off_t)file_size) != 0) die("ftruncate");
    file_base = mmap(NULL, file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (file_base == MAP_FAILED) die("mmap");
    close(fd);
    for (int r = 0; r < 3; r++) {
        uint8_t *h = file_base + offsets[r];
        rings[r] = (Ring){h, SLOTS, SLOT_BYTES, __builtin_ctzll(SLOTS)};
        *i64(h) = SLOTS;
        *i64(h + 8) = SLOT_BYTES;
        *i64(h + 16) = -1;
        *i64(h + 24) = -1;
        for (int s = 0; s < SLOTS; s++) ((int32_t *)(h + RING_HEADER))[s] = -1;
    }
    *i64(file_base + dict_offset) = dict_offset + DICT_HEADER;
    *i64(file_base + dict_offset + 8) = 0;
    /* The header last, start time last of all: a reader that sees it sees a complete layout. */
    *i64(file_base) = strcmp(broken_rule, "HDR-VERSION") == 0 ? 7 : 1;
    for (int r = 0; r < 3; r++) __atomic_store_n(i64(file_base + 8 + 8 * r), offsets[r], __ATOMIC_RELEASE);
    __atomic_store_n(i64(file_base + 32), dict_offset, __ATOMIC_RELEASE);
    __atomic_store_n((uint64_t *)(file_base + 40), now_ns(), __ATOMIC_RELEASE);
}

/* ---- dictionary ------------------------------------------------------------------------------ */

static int64_t dict_append(const uint8_t *payload, size_t length) {
    size_t total = varint_size(length) + length;
    int64_t at = __atomic_fetch_add(i64(file_base + dict_offset), (int64_t)total, __ATOMIC_ACQ_REL);
    if ((size_t)at + total > file_size) { errno = ENOSPC; die("dictionary full"); }
    size_t n = write_varint(file_base + at, length);
    memcpy(file_base + at + n, payload, length);
    __atomic_fetch_add(i64(file_base + dict_offset + 8), 1, __ATOMIC_ACQ_REL);
    return at;
}

typedef struct { const char *text; int64_t ref; } InternedString;
static InternedString strings[256];
static int string_count;

/* String entries are raw UTF-8 after the length; each distinct string is written once. */
static int64_t dict_string(const char *text) {
    for (int i = 0; i < string_count; i++) if (strcmp(strings[i].text, text) == 0) return strings[i].ref;
    int64_t ref = dict_append((const uint8_t *)text, strlen(text));
    if (string_count < 256) strings[string_count++] = (InternedString){text, ref};
    return ref;
}

static int64_t dict_message(const ProtobufCMessage *message) {
    size_t length = protobuf_c_message_get_packed_size(message);
    uint8_t *buffer = malloc(length ? length : 1);
    protobuf_c_message_pack(message, buffer);
    int64_t ref = dict_append(buffer, length);
    free(buffer);
    return ref;
}

/* ---- rings: claim with compare-and-swap, write, publish with a release store ------------------ */

static int64_t claim(Ring *ring) {
    int64_t *writer = i64(ring->base + 24), *reader = i64(ring->base + 16);
    uint64_t waited = 0;
    for (;;) {
        int64_t w = __atomic_load_n(writer, __ATOMIC_ACQUIRE);
        int64_t r = __atomic_load_n(reader, __ATOMIC_ACQUIRE);
        if (w + 1 - ring->slots >= r) {           /* full: wait for the consumer, at most 30 s */
            if (waited++ > 600000) { fprintf(stderr, "ring full for 30 s\n"); exit(3); }
            usleep(50);
            continue;
        }
        if (__atomic_compare_exchange_n(writer, &w, w + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return w + 1;
    }
}

static uint8_t *slot(Ring *ring, int64_t sequence) {
    return ring->base + RING_HEADER + 4 * ring->slots + (sequence & (ring->slots - 1)) * ring->slot_bytes;
}

static void publish(Ring *ring, int64_t sequence) {
    int32_t flag = (int32_t)((uint64_t)sequence >> ring->log2_slots);
    __atomic_store_n(&((int32_t *)(ring->base + RING_HEADER))[sequence & (ring->slots - 1)], flag, __ATOMIC_RELEASE);
}

/* The size is checked before claiming, so a record that does not fit leaves no hole. */
static void write_record(int ring_index, const ProtobufCMessage *message) {
    Ring *ring = &rings[ring_index];
    size_t length = protobuf_c_message_get_packed_size(message);
    if (varint_size(length) + length > (size_t)ring->slot_bytes) { fprintf(stderr, "record too large\n"); exit(4); }
    int64_t sequence = claim(ring);
    uint8_t *destination = slot(ring, sequence);
    size_t n = write_varint(destination, length);
    protobuf_c_message_pack(message, destination + n);
    publish(ring, sequence);
}

/* ---- values ---------------------------------------------------------------------------------- */

static int64_t scope_ref;

typedef struct { uint8_t trace[16]; uint8_t span[8]; } Ids;

static void random_bytes(uint8_t *out, size_t n) {
    do {
        for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(random() >> 7);
    } while (memcmp(out, (uint8_t[16]){0}, n) == 0);
}

static Ids new_span(const Ids *parent) {
    Ids ids;
    if (parent) memcpy(ids.trace, parent->trace, 16); else random_bytes(ids.trace, 16);
    random_bytes(ids.span, 8);
    return ids;
}

static AnyValue *string_value(const char *text) {
    AnyValue *v = calloc(1, sizeof *v);
    opentelemetry__proto__mmap__v1__any_value__init(v);
    v->value_case = OPENTELEMETRY__PROTO__MMAP__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = (char *)text;
    return v;
}

static AnyValue *int_value(int64_t number) {
    AnyValue *v = calloc(1, sizeof *v);
    opentelemetry__proto__mmap__v1__any_value__init(v);
    v->value_case = OPENTELEMETRY__PROTO__MMAP__V1__ANY_VALUE__VALUE_INT_VALUE;
    v->int_value = number;
    return v;
}

static KeyValueRef **attribute(const char *key, AnyValue *value) {
    KeyValueRef **list = calloc(1, sizeof *list);
    list[0] = calloc(1, sizeof **list);
    opentelemetry__proto__mmap__v1__key_value_ref__init(list[0]);
    list[0]->key_ref = dict_string(key);
    list[0]->value = value;
    return list;
}

static void span_event(const Ids *ids, SpanEvent *event) {
    event->trace_id = (ProtobufCBinaryData){16, (uint8_t *)ids->trace};
    event->span_id = (ProtobufCBinaryData){8, (uint8_t *)ids->span};
    event->scope_ref = scope_ref;
}

static void start_span(const Ids *ids, const Ids *parent, const char *name, int kind, KeyValueRef **attributes, size_t n) {
    SpanEvent event = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__INIT;
    StartSpan start = OPENTELEMETRY__PROTO__MMAP__V1__START_SPAN__INIT;
    span_event(ids, &event);
    if (parent) start.parent_span_id = (ProtobufCBinaryData){8, (uint8_t *)parent->span};
    start.name = (char *)name;
    start.kind = kind;
    start.start_time_unix_nano = now_ns();
    start.flags = 1;
    start.n_attributes = n;
    start.attributes = attributes;
    event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_START;
    event.start = &start;
    write_record(SPANS, &event.base);
}

static void end_span(const Ids *ids, int code, const char *message) {
    SpanEvent event = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__INIT;
    EndSpan end = OPENTELEMETRY__PROTO__MMAP__V1__END_SPAN__INIT;
    Status status = OPENTELEMETRY__PROTO__MMAP__V1__STATUS__INIT;
    span_event(ids, &event);
    status.code = code;
    status.message = (char *)message;
    end.end_time_unix_nano = now_ns();
    end.status = &status;
    event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_END;
    event.end = &end;
    write_record(SPANS, &event.base);
}

static void log_record(int severity, const char *body, const char *event_name, const Ids *span, KeyValueRef **attributes, size_t n) {
    Event event = OPENTELEMETRY__PROTO__MMAP__V1__EVENT__INIT;
    SpanContextMsg context = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_CONTEXT__INIT;
    event.scope_ref = scope_ref;
    event.time_unix_nano = now_ns();
    event.severity_number = severity;
    event.body = string_value(body);
    if (event_name) event.event_name_ref = dict_string(event_name);
    if (span) {
        context.trace_id = (ProtobufCBinaryData){16, (uint8_t *)span->trace};
        context.span_id = (ProtobufCBinaryData){8, (uint8_t *)span->span};
        context.flags = 1;
        event.span_context = &context;
    }
    event.n_attributes = n;
    event.attributes = attributes;
    write_record(EVENTS, &event.base);
}

static int64_t metric(const char *name, const char *aggregation) {
    MetricRef definition = OPENTELEMETRY__PROTO__MMAP__V1__METRIC_REF__INIT;
    Sum sum = OPENTELEMETRY__PROTO__MMAP__V1__SUM__INIT;
    Gauge gauge = OPENTELEMETRY__PROTO__MMAP__V1__GAUGE__INIT;
    Histogram histogram = OPENTELEMETRY__PROTO__MMAP__V1__HISTOGRAM__INIT;
    ExponentialHistogram exponential = OPENTELEMETRY__PROTO__MMAP__V1__EXPONENTIAL_HISTOGRAM__INIT;
    double bounds[] = {0, 10, 100};
    definition.name = (char *)name;
    definition.instrumentation_scope_ref = scope_ref;
    if (strcmp(aggregation, "sum") == 0) {
        sum.aggregation_temporality = OPENTELEMETRY__PROTO__MMAP__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
        sum.is_monotonic = 1;
        definition.aggregation_case = OPENTELEMETRY__PROTO__MMAP__V1__METRIC_REF__AGGREGATION_SUM;
        definition.sum = &sum;
    } else if (strcmp(aggregation, "histogram") == 0) {
        histogram.aggregation_temporality = OPENTELEMETRY__PROTO__MMAP__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA;
        histogram.n_bucket_boundaries = 3;
        histogram.bucket_boundaries = bounds;
        definition.aggregation_case = OPENTELEMETRY__PROTO__MMAP__V1__METRIC_REF__AGGREGATION_HISTOGRAM;
        definition.histogram = &histogram;
    } else if (strcmp(aggregation, "exp_hist") == 0) {
        exponential.aggregation_temporality = OPENTELEMETRY__PROTO__MMAP__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA;
        exponential.max_buckets = 160;
        exponential.max_scale = 20;
        definition.aggregation_case = OPENTELEMETRY__PROTO__MMAP__V1__METRIC_REF__AGGREGATION_EXP_HIST;
        definition.exp_hist = &exponential;
    } else {
        definition.aggregation_case = OPENTELEMETRY__PROTO__MMAP__V1__METRIC_REF__AGGREGATION_GAUGE;
        definition.gauge = &gauge;
    }
    return dict_message(&definition.base);
}

static void measure(int64_t metric_ref, int is_double, int64_t long_value, double double_value, KeyValueRef **attributes, size_t n) {
    Measurement m = OPENTELEMETRY__PROTO__MMAP__V1__MEASUREMENT__INIT;
    m.metric_ref = metric_ref;
    m.time_unix_nano = now_ns();
    m.n_attributes = n;
    m.attributes = attributes;
    if (is_double) {
        m.value_case = OPENTELEMETRY__PROTO__MMAP__V1__MEASUREMENT__VALUE_AS_DOUBLE;
        m.as_double = double_value;
    } else {
        m.value_case = OPENTELEMETRY__PROTO__MMAP__V1__MEASUREMENT__VALUE_AS_LONG;
        m.as_long = long_value;
    }
    write_record(MEASUREMENTS, &m.base);
}

/* ---- scenarios (the YAML files of ConformanceTests/scenarios) ------------------------------- */

#define KIND(k) OPENTELEMETRY__PROTO__MMAP__V1__SPAN_KIND__SPAN_KIND_##k
#define CODE(c) OPENTELEMETRY__PROTO__MMAP__V1__STATUS_CODE__STATUS_CODE_##c
#define SEVERITY(s) OPENTELEMETRY__PROTO__MMAP__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_##s

static void scenario_spans(void) {
    Ids a = new_span(NULL), b = new_span(&a);
    start_span(&a, NULL, "GET /orders", KIND(SERVER), attribute("http.method", string_value("GET")), 1);
    start_span(&b, &a, "db.query", KIND(CLIENT), NULL, 0);

    SpanEvent event = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__INIT;
    ChangeSpanName rename = OPENTELEMETRY__PROTO__MMAP__V1__CHANGE_SPAN_NAME__INIT;
    span_event(&b, &event);
    rename.name = "SELECT orders";
    event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_NAME;
    event.name = &rename;
    write_record(SPANS, &event.base);

    SpanEvent update_event = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__INIT;
    UpdateAttributes update = OPENTELEMETRY__PROTO__MMAP__V1__UPDATE_ATTRIBUTES__INIT;
    span_event(&b, &update_event);
    update.n_attributes = 1;
    update.attributes = attribute("db.rows", int_value(3));
    update_event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_ATTRIBUTES;
    update_event.attributes = &update;
    write_record(SPANS, &update_event.base);

    SpanEvent link_event = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__INIT;
    AddLink add = OPENTELEMETRY__PROTO__MMAP__V1__ADD_LINK__INIT;
    Link link = OPENTELEMETRY__PROTO__MMAP__V1__LINK__INIT;
    Link *links[] = {&link};
    span_event(&b, &link_event);
    link.trace_id = (ProtobufCBinaryData){16, a.trace};
    link.span_id = (ProtobufCBinaryData){8, a.span};
    add.n_links = 1;
    add.links = links;
    link_event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_LINK;
    link_event.link = &add;
    write_record(SPANS, &link_event.base);

    end_span(&b, CODE(ERROR), "timeout");
    end_span(&a, CODE(OK), "");
}

static void scenario_logs(void) {
    Ids a = new_span(NULL);
    start_span(&a, NULL, "handler", KIND(INTERNAL), NULL, 0);
    end_span(&a, CODE(UNSET), "");
    log_record(SEVERITY(INFO), "started", "app.start", NULL, NULL, 0);
    log_record(SEVERITY(WARN), "slow request", NULL, &a, attribute("duration.ms", int_value(1500)), 1);
    log_record(SEVERITY(ERROR), "failed", NULL, &a, attribute("error.type", string_value("timeout")), 1);
}

static void scenario_metrics(void) {
    int64_t requests = metric("requests", "sum");
    measure(requests, 0, 1, 0, attribute("route", string_value("/")), 1);
    measure(requests, 0, 2, 0, attribute("route", string_value("/")), 1);
    measure(metric("memory", "gauge"), 0, 123456789, 0, NULL, 0);
    measure(metric("latency", "histogram"), 1, 0, 12.5, NULL, 0);
    measure(metric("size", "exp_hist"), 1, 0, 0.25, NULL, 0);
}

static void scenario_dictionary(void) {
    static char keys[12][10][32], values[12][10][32], bodies[12][16];
    for (int r = 0; r < 12; r++) {
        KeyValueRef **attributes = calloc(10, sizeof *attributes);
        for (int k = 0; k < 10; k++) {
            snprintf(keys[r][k], sizeof keys[r][k], "dictionary.key.%02d.%d", r, k);
            snprintf(values[r][k], sizeof values[r][k], "value-%d-%d", r, k);
            attributes[k] = attribute(keys[r][k], string_value(values[r][k]))[0];
        }
        snprintf(bodies[r], sizeof bodies[r], "record %d", r);
        log_record(SEVERITY(INFO), bodies[r], NULL, NULL, attributes, 10);
    }
}

static void scenario_volume(void) {
    for (int i = 0; i < 500; i++) {
        Ids s = new_span(NULL);
        start_span(&s, NULL, "work", KIND(INTERNAL), NULL, 0);
        end_span(&s, CODE(OK), "");
    }
}

/* ---- rules broken on purpose ------------------------------------------------------------------ */

static void break_before(void) {
    if (strcmp(broken_rule, "RING-HOLE") == 0) (void)claim(&rings[SPANS]);    /* claimed, never published */
}

static void break_after(void) {
    if (strcmp(broken_rule, "SLOT-LENGTH") == 0) {
        /* A record truncated to fit its slot: the length prefix still says the whole length. */
        Ring *ring = &rings[EVENTS];
        int64_t sequence = claim(ring);
        uint8_t *destination = slot(ring, sequence);
        size_t n = write_varint(destination, (uint64_t)ring->slot_bytes + 100);
        memset(destination + n, 0x41, (size_t)ring->slot_bytes - n);
        publish(ring, sequence);
    } else if (strcmp(broken_rule, "REC-SPAN-ID") == 0) {
        SpanEvent event = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__INIT;
        ChangeSpanName rename = OPENTELEMETRY__PROTO__MMAP__V1__CHANGE_SPAN_NAME__INIT;
        uint8_t short_id[3] = {1, 2, 3};
        event.trace_id = (ProtobufCBinaryData){3, short_id};
        event.span_id = (ProtobufCBinaryData){3, short_id};
        event.scope_ref = scope_ref;
        rename.name = "bad ids";
        event.event_case = OPENTELEMETRY__PROTO__MMAP__V1__SPAN_EVENT__EVENT_NAME;
        event.name = &rename;
        write_record(SPANS, &event.base);
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--break") == 0 && i + 1 < argc) broken_rule = argv[++i];
        else { fprintf(stderr, "usage: %s [--break SLOT-LENGTH|RING-HOLE|REC-SPAN-ID|HDR-VERSION]\n", argv[0]); return 64; }
    }
    const char *path = getenv("SDK_MMAP_EXPORTER_FILE");
    const char *scenario = getenv("OTLP_MMAP_SCENARIO");
    if (!path || !scenario) { fprintf(stderr, "SDK_MMAP_EXPORTER_FILE and OTLP_MMAP_SCENARIO must be set\n"); return 64; }
    srandom((unsigned)now_ns() ^ (unsigned)getpid());
    create_file(path);

    Resource resource = OPENTELEMETRY__PROTO__MMAP__V1__RESOURCE__INIT;
    resource.n_attributes = 1;
    resource.attributes = attribute("service.name", string_value("otlp-mmap-c-writer"));
    InstrumentationScope scope = OPENTELEMETRY__PROTO__MMAP__V1__INSTRUMENTATION_SCOPE__INIT;
    scope.name_ref = dict_string("otlp-mmap-c-writer");
    scope.version_ref = dict_string("1.0");
    scope.resource_ref = dict_message(&resource.base);
    scope_ref = dict_message(&scope.base);

    break_before();
    if (strcmp(scenario, "spans") == 0) scenario_spans();
    else if (strcmp(scenario, "logs") == 0) scenario_logs();
    else if (strcmp(scenario, "metrics") == 0) scenario_metrics();
    else if (strcmp(scenario, "volume") == 0) scenario_volume();
    else if (strcmp(scenario, "dictionary") == 0) scenario_dictionary();
    else { fprintf(stderr, "unknown scenario %s\n", scenario); return 65; }
    break_after();
    return 0;
}
