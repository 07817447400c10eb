/* ctl_text.c - text from agents made safe for a terminal (see ctl_text.h). */
#include "ctl_text.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "fmt.h"
#include "out.h"
#include "utf8.h"

/* The length of the valid UTF-8 character at p (n bytes left) and its code
 * point; 0 when p does not start one. */
static size_t utf8_char(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t st = UTF8_ACCEPT, c;
	size_t len = p[0] < 0x80 ? 1 : p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4, i;

	if (len > n)
		return 0;
	for (i = 0; i < len; i++)
		if ((st = utf8_step(st, p[i])) == UTF8_REJECT)
			return 0;
	if (st != UTF8_ACCEPT)
		return 0;
	c = len == 1 ? p[0] : p[0] & (0x7f >> len);
	for (i = 1; i < len; i++)
		c = c << 6 | (p[i] & 0x3f);
	*cp = c;
	return len;
}

/* What a terminal or a text layout could act on: C0, DEL, C1, and the
 * marks that reorder text (U+200E/F, U+202A..E, U+2066..9). */
static int unsafe_char(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* The visible form of an unsafe character or of a byte that is not UTF-8
 * (len 0), into out (at least 8 bytes). */
static void escape_char(uint32_t c, size_t len, unsigned flags, char *out)
{
	if (flags & CTL_TEXT_JSON)
		fmt_snprintf(out, 8, "\\u%04x", len ? (unsigned)c : 0xfffdu);
	else if (!len)
		fmt_snprintf(out, 8, "\\x%02x", (unsigned)c);
	else if (c == '\n' || c == '\t')
		fmt_snprintf(out, 8, "\\%c", c == '\n' ? 'n' : 't');
	else if (c < 0x80)
		fmt_snprintf(out, 8, "\\x%02x", (unsigned)c);
	else
		fmt_snprintf(out, 8, "\\u%04x", (unsigned)c);
}

size_t ctl_text_put(struct out *o, const char *s, size_t n, int width, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, len, chars = 0;
	uint32_t c;
	char esc[8];

	/* Safe runs go out whole: on stderr (unbuffered) a write per run. */
	while (i < n) {
		len = utf8_char(p + i, n - i, &c);
		if (!len)
			c = p[i];
		if (len && (!unsafe_char(c) || ((flags & CTL_TEXT_LINES) && (c == '\n' || c == '\t')))) {
			i += len;
			chars++;
			continue;
		}
		out_write(o, p + run, i - run);
		escape_char(c, len, flags, esc);
		out_write(o, esc, strlen(esc));
		chars += strlen(esc);
		i += len ? len : 1;
		run = i;
	}
	out_write(o, p + run, n - run);
	for (; width > 0 && chars < (size_t)width; chars++)
		out_write(o, " ", 1);
	return chars;
}

size_t ctl_text_buf(struct buf *b, const char *s, size_t n, int width, unsigned flags)
{
	struct out o;

	out_init_mem(&o, b);
	return ctl_text_put(&o, s, n, width, flags);
}
