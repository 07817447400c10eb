/* mem.h - a small single-threaded allocator, the static binaries' malloc.
 *
 * mem_alloc/mem_calloc/mem_realloc/mem_free behave as malloc, calloc,
 * realloc and free (16-byte alignment, NULL with errno ENOMEM when out of
 * memory or asked too much, free(NULL) does nothing, realloc(p, 0) keeps
 * a minimal block as musl's does).  Built with -DNESTD_MALLOC=1 (make
 * static, make static-agent) mem.c also defines malloc, calloc, realloc
 * and free with them, which replace the C library's; otherwise only the
 * unit tests call them.  One thread only. */
#ifndef NESTD_MEM_H
#define NESTD_MEM_H

#include <stddef.h>

void *mem_alloc(size_t n);
void *mem_calloc(size_t n, size_t m);
void *mem_realloc(void *p, size_t n);
void mem_free(void *p);
/* The usable size of a block from mem_alloc (its class's size, or a large
 * block's mapping less its header). */
size_t mem_size(const void *p);
/* The size class of an n-byte request, and a class's size (tests). */
unsigned mem_class_of(size_t n);
size_t mem_class_size(unsigned c);

#endif
