/* sort.c - sort_items, qsort's contract in a heap sort (see sort.h). */
#include "sort.h"

static void swap_items(char *a, char *b, size_t size)
{
	while (size--) {
		char t = *a;

		*a++ = *b;
		*b++ = t;
	}
}

/* Moves item i down the max-heap of n items until both children are
 * no greater. */
static void sift(char *v, size_t i, size_t n, size_t size, sort_cmp cmp)
{
	size_t c;

	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && cmp(v + c * size, v + (c + 1) * size) < 0)
			c++;
		if (cmp(v + i * size, v + c * size) >= 0)
			return;
		swap_items(v + i * size, v + c * size, size);
		i = c;
	}
}

void sort_items(void *base, size_t n, size_t size, sort_cmp cmp)
{
	char *v = base;
	size_t i;

	if (n < 2 || !size)
		return;
	for (i = n / 2; i-- > 0;)
		sift(v, i, n, size, cmp);
	for (i = n - 1; i > 0; i--) {
		swap_items(v, v + i * size, size);
		sift(v, 0, i, size, cmp);
	}
}
