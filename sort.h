/* sort.h - qsort's contract (ascending by cmp, ties in no set order), in
 * a heap sort: O(n log n) comparisons in the worst case, no memory, a few
 * hundred bytes, where musl's qsort (smoothsort) is 2 KB of the static
 * binary.  For the lead: ctl_show.c, server_api_agents.c, server_fleet.c
 * and token.c still call qsort; once they call sort_items it leaves. */
#ifndef NESTD_SORT_H
#define NESTD_SORT_H

#include <stddef.h>

typedef int (*sort_cmp)(const void *, const void *);

void sort_items(void *base, size_t n, size_t size, sort_cmp cmp);

#endif
