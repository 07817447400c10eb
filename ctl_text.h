/* ctl_text.h - the one way text that an agent or the server supplies
 * reaches nestd ctl's terminal: ctl_show.c's lines and ctl_table.c's
 * cells both go through it, so no string can move the cursor, retitle
 * the window or hide what is printed. */
#ifndef NESTD_CTL_TEXT_H
#define NESTD_CTL_TEXT_H

#include <stddef.h>

/* ctl_text_put's flags. */
enum {
	CTL_TEXT_LINES = 1,          /* keep newlines and tabs: multi-line text */
	CTL_TEXT_JSON = 2            /* escapes as JSON writes them: for JSON text */
};

/* Writes s[0..n) to o so that nothing in it can drive a terminal: C0
 * controls, DEL, C1 controls (U+0080..U+009F) and the marks that reorder
 * text (U+200E/F, U+202A..E, U+2066..9) become visible escapes (\n \t
 * \xNN \uNNNN; with CTL_TEXT_JSON always \uNNNN, so JSON stays the
 * same JSON), and a byte that is not UTF-8 becomes \xNN (CTL_TEXT_JSON:
 * \ufffd).  width > 0: padded with spaces to width characters.  Returns
 * the characters written. */
struct out;
size_t ctl_text_put(struct out *o, const char *s, size_t n, int width, unsigned flags);
/* The same appended to b (ctl_table.c's cells: no open_memstream). */
struct buf;
size_t ctl_text_buf(struct buf *b, const char *s, size_t n, int width, unsigned flags);

#endif
