#include "CMallocTuning.h"

#include <stdlib.h>  // defines __GLIBC__ where the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int cairn_tune_malloc(int mmapThreshold, int maxArenas) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, mmapThreshold) == 1 && mallopt(M_ARENA_MAX, maxArenas) == 1;
#else
    (void)mmapThreshold;
    (void)maxArenas;
    return 0;
#endif
}

int cairn_release_free_memory(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}
