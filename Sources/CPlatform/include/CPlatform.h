// Processor and thread primitives Swift has no direct way to reach: for the writer's hot path, the
// cycle counter (OTLPMmapSDK's CycleClock) and a one-entry thread-local cache (ThreadSlots); for
// Core's TruncationGuard, a per-thread count a signal handler may update.
#ifndef OTLP_MMAP_PLATFORM_H
#define OTLP_MMAP_PLATFORM_H

#include <stdint.h>

/// 1 where otlp_mmap_cycle_counter reads a real counter, 0 where it always returns 0.
static inline int otlp_mmap_has_cycle_counter(void) {
#if defined(__x86_64__) || defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}

/// The time-stamp counter (x86-64) or the virtual counter (AArch64); 0 elsewhere.
static inline uint64_t otlp_mmap_cycle_counter(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t value;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(value));
    return value;
#else
    return 0;
#endif
}

/// Counter ticks per second where the processor states it (AArch64's CNTFRQ_EL0); 0 where the
/// frequency must be measured (x86-64).
static inline uint64_t otlp_mmap_cycle_counter_frequency(void) {
#if defined(__aarch64__)
    uint64_t value;
    __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(value));
    return value;
#else
    return 0;
#endif
}

/// The last (owner, value) pair this thread looked up: a thread-local variable costs one load,
/// pthread_getspecific a library call. Owners are never-reused numbers, not addresses, so an
/// entry of an owner that no longer exists can never match a new one.
typedef struct {
    uint64_t owner;
    void *value;
} otlp_mmap_thread_cache_entry;

extern __thread otlp_mmap_thread_cache_entry otlp_mmap_thread_cache;

/// The value cached for `owner` on this thread, or NULL.
static inline void *otlp_mmap_thread_cache_get(uint64_t owner) {
    return otlp_mmap_thread_cache.owner == owner ? otlp_mmap_thread_cache.value : (void *)0;
}

static inline void otlp_mmap_thread_cache_set(uint64_t owner, void *value) {
    otlp_mmap_thread_cache.owner = owner;
    otlp_mmap_thread_cache.value = value;
}

/// Truncated pages replaced for reads by this thread (TruncationGuard's SIGBUS handler runs on the
/// faulting thread, and a thread-local counter is async-signal-safe to bump).
extern __thread uint64_t otlp_mmap_thread_truncations;

static inline uint64_t otlp_mmap_thread_truncation_count(void) { return otlp_mmap_thread_truncations; }
static inline void otlp_mmap_count_thread_truncation(void) { otlp_mmap_thread_truncations += 1; }

#endif
