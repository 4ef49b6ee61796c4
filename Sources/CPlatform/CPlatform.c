// Most of CPlatform is inline in include/CPlatform.h; this file holds its variables.
#include "CPlatform.h"

__thread otlp_mmap_thread_cache_entry otlp_mmap_thread_cache = {0, 0};
__thread uint64_t otlp_mmap_thread_truncations = 0;
