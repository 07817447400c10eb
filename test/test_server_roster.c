/* test_server_roster.c - the history file's numbers read back exactly:
 * server_roster.c reads them by hand (no strtod in the static binary), and
 * every value must come back as the double libc's strtod gives for the
 * same text, the one it was written from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "buf.h"
#include "fmt.h"
#include "server_roster.h"

void test_roster_history_numbers(void);
void test_roster_history_round_trip(void);

/* xorshift64: the same sequence on every run. */
static unsigned long long rnd_next(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One history line whose LOAD1 is text: that field as read (or -2 when
 * the line did not read). */
static double read_back(struct roster *r, struct roster_agent *a, long long t, const char *text)
{
	char line[160];
	int n = fmt_snprintf(line, sizeof(line), "a1 %lld 1.0 %s 0.50 - 1 2 3 4 5\n", t, text);

	if (roster_history_parse(r, line, (size_t)n) != 0)
		return -2;
	return roster_sample_at(a, a->hn - 1)->load[0];
}

/* Random texts of every shape put_num writes (and more decimals than it
 * writes, up to the 9 read exactly), small to just under 9e18. */
static void random_text(unsigned long long *s, char *out, size_t n)
{
	unsigned long long x = rnd_next(s);
	int digits = 1 + (int)(rnd_next(s) % 19), dec = (int)(rnd_next(s) % 10), i, o = 0;

	if (dec > 2 && (x & 1))
		dec = (int)(x >> 1) % 3;             /* mostly what put_num writes */
	for (i = 0; i < digits && o < (int)n - 12; i++)
		out[o++] = (char)('0' + (i == 0 && digits == 19 ? rnd_next(s) % 9 : rnd_next(s) % 10));
	if (dec) {
		out[o++] = '.';
		for (i = 0; i < dec; i++)
			out[o++] = (char)('0' + rnd_next(s) % 10);
	}
	out[o] = '\0';
}

void test_roster_history_numbers(void)
{
	static const char *const edge[] = {
		"0", "0.00", "1", "0.1", "0.01", "0.5", "2.675", "9007199254740991", "9007199254740992",
		"9007199254740993", "9007199254740993.00", "9007199254740993.01", "9007199254740995",
		"3333333323500321.00", "3333333323500321.50", "4503599627370495.50",
		"4503599627370496.25", "4503599627370497.75", "90071992547409.93", "900719925474099.35",
		"8999999999999999999", "18014398509481985", "18014398509481986.5", "18014398509481986",
		"1e3", "0001.50", "123456789.123456789",
	};
	struct roster r;
	struct roster_info in = { .name = "a1" };
	struct roster_agent *a;
	unsigned long long s = 0x9e3779b97f4a7c15ULL;
	char text[40];
	long long t = 1;
	int bad = 0, i;

	roster_init(&r);
	a = roster_seen(&r, &in, 1);
	CHECK(a != NULL);
	if (!a)
		return;
	for (i = 0; i < (int)(sizeof(edge) / sizeof(edge[0])) + 200000; i++) {
		const char *p = i < (int)(sizeof(edge) / sizeof(edge[0])) ? edge[i] : text;
		double got, want;

		if (p == text)
			random_text(&s, text, sizeof(text));
		got = read_back(&r, a, t++, p);
		want = strtod(p, NULL);
		if (got != want && bad++ < 5)
			fprintf(stderr, "history field \"%s\": read %.17g, strtod %.17g\n", p, got, want);
	}
	CHECK(bad == 0);
	/* What does not read leaves the line out, as before. */
	CHECK(read_back(&r, a, t++, "9000000000000000000") == -2);
	CHECK(read_back(&r, a, t++, "1.5x") == -2);
	CHECK(read_back(&r, a, t++, "-3") == -2);
	CHECK(read_back(&r, a, t++, ".") == -2);
	CHECK(read_back(&r, a, t++, "-") == -1);
	roster_free(&r);
}

/* Written and read back twice: the same text (what fuzz_state checks on
 * what its inputs leave, here on values past 2^53 written with %.2f). */
void test_roster_history_round_trip(void)
{
	static const double v[] = { 3333333323500321.0, 9007199254740993.0, 1e17 + 2, 0.125, 7.005,
				    123456.785, 4503599627370495.5 };
	struct roster r, again;
	struct roster_info in = { .name = "a1" };
	struct roster_agent *a;
	struct buf h, h2;
	size_t i;

	roster_init(&r);
	roster_init(&again);
	a = roster_seen(&r, &in, 1);
	CHECK(a != NULL && roster_seen(&again, &in, 1) != NULL);
	if (!a)
		return;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct roster_sample smp = { .t = (long long)i + 1, .cpu = 12.5, .load = { v[i], v[i] / 3, 0.5 },
					     .mem_used = 1, .mem_total = 2, .disk_used = -1,
					     .disk_total = 4, .uptime = 5 };

		CHECK(roster_add_sample(&r, a, &smp) == 0);
	}
	buf_init(&h, 0);
	buf_init(&h2, 0);
	CHECK(roster_history_format(&r, &h) == 0);
	CHECK(roster_history_parse(&again, h.p, h.len) == 0);
	CHECK(roster_history_format(&again, &h2) == 0);
	CHECK_MEM(h2.p, h2.len, h.p, h.len);
	buf_free(&h);
	buf_free(&h2);
	roster_free(&r);
	roster_free(&again);
}
