// Most of CPlatform is inline in include/CPlatform.h; this file holds its one variable.
#include "CPlatform.h"

__thread otlp_mmap_thread_cache_entry otlp_mmap_thread_cache = {0, 0};
