#ifndef CAIRN_C_MALLOC_TUNING_H
#define CAIRN_C_MALLOC_TUNING_H

/// Sets glibc's allocator to map blocks of `mmapThreshold` bytes or more on their own (returned to the system when
/// freed; a fixed threshold also stops glibc from raising it) and to keep at most `maxArenas` heaps. Returns 1 when
/// both settings were applied, 0 where the C library is not glibc or refused one.
int cairn_tune_malloc(int mmapThreshold, int maxArenas);

/// Returns the allocator's free pages to the system (glibc's `malloc_trim(0)`, which also releases free pages in the
/// middle of its heaps). Returns 1 when memory was released, 0 otherwise or where the C library is not glibc.
int cairn_release_free_memory(void);

#endif
