// The processor's cycle counter, for a wall clock that needs no system call per reading
// (OTLPMmapSDK's CycleClock). Swift has no intrinsic for it, hence this header.
#ifndef OTLP_MMAP_CYCLE_COUNTER_H
#define OTLP_MMAP_CYCLE_COUNTER_H

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

#endif
