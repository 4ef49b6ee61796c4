#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) made by the
/// calling thread since it started. Only in the allocation probe, which links this file and so
/// replaces the C library's allocator entry points with counting ones.
uint64_t otlp_mmap_thread_allocations(void);

#endif
