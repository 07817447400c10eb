/* sort.h - qsort's contract (ascending by cmp, ties in no set order), in
 * a heap sort: O(n log n) comparisons in the worst case, no memory, a few
 * hundred bytes, where musl's qsort (smoothsort) is 2 KB of the static
 * binary.  Every sort in nestd goes through it, so qsort stays out. */
#ifndef NESTD_SORT_H
#define NESTD_SORT_H

#include <stddef.h>

typedef int (*sort_cmp)(const void *, const void *);

void sort_items(void *base, size_t n, size_t size, sort_cmp cmp);

#endif
