/* server_slack_bk.c - Block Kit builders inside Slack's limits (see
 * server_slack_bk.h). */
#include "server_slack_bk.h"

#include <string.h>

/* ---- text ---- */

int bk_cutcpy(struct buf *out, const char *s, size_t n, size_t max)
{
	size_t k = n;

	if (n > max) {
		k = max >= 3 ? max - 3 : 0;     /* room for the 3 bytes of "…" */
		while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
	}
	if (buf_append(out, s, k) < 0 || (k < n && buf_puts(out, "\xe2\x80\xa6") < 0))
		return -1;
	return (int)(k < n ? k + 3 : k);
}

static int esc(struct buf *out, const char *s, size_t n, int code)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '&')
			r = buf_puts(out, "&amp;");
		else if (c == '<')
			r = buf_puts(out, "&lt;");
		else if (c == '>')
			r = buf_puts(out, "&gt;");
		else if (code && c == '`')
			r = buf_puts(out, "\xcb\x8b");
		else
			r = buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	return r;
}

int bk_esc(struct buf *out, const char *s, size_t n)
{
	return esc(out, s, n, 0);
}

int bk_code(struct buf *out, const char *s, size_t n)
{
	if (!n)
		return buf_putc(out, '-');
	if (buf_putc(out, '`') < 0 || esc(out, s, n, 1) < 0)
		return -1;
	return buf_putc(out, '`');
}

/* {"type":TYPE,"text":S cut at max[,"emoji":true]} as the value of key
 * (NULL: an array's element). */
static void text_obj(struct bk *k, const char *key, const char *type, const char *s, size_t max)
{
	struct buf t;
	size_t n = s ? strlen(s) : 0;

	buf_init(&t, 0);
	if (!n)
		s = "-", n = 1;      /* Slack refuses empty text */
	if (bk_cutcpy(&t, s, n, max) < 0)
		k->err = 1;
	if (key)
		jw_key(&k->w, key);
	jw_obj(&k->w);
	jw_kstr(&k->w, "type", type);
	jw_key(&k->w, "text");
	jw_strn(&k->w, t.p ? t.p : "", t.len);
	if (type[0] == 'p')
		jw_kbool(&k->w, "emoji", 1);
	jw_obj_end(&k->w);
	buf_free(&t);
}

#define PLAIN(k, key, s, max) text_obj((k), (key), "plain_text", (s), (max))

/* An id or value of ours: an error, not a cut, when it does not fit. */
static void id(struct bk *k, const char *key, const char *v, size_t max)
{
	if (!v)
		return;
	if (!*v || strlen(v) > max)
		k->err = 1;
	jw_kstr(&k->w, key, v);
}

/* ---- views and messages ---- */

static void open_blocks(struct bk *k, int max)
{
	k->blocks = 0;
	k->max_blocks = max;
	k->elems = -1;
	jw_key(&k->w, "blocks");
	jw_arr(&k->w);
}

void bk_view(struct bk *k, struct buf *b, const char *type, const char *title,
	     const char *submit, const char *callback, const char *meta)
{
	memset(k, 0, sizeof(*k));
	jw_init(&k->w, b);
	jw_obj(&k->w);
	jw_kstr(&k->w, "type", type);
	if (title) {
		PLAIN(k, "title", title, BK_TITLE_MAX);
		PLAIN(k, "close", "Close", BK_TITLE_MAX);
	}
	if (submit)
		PLAIN(k, "submit", submit, BK_TITLE_MAX);
	id(k, "callback_id", callback, BK_ID_MAX);
	id(k, "private_metadata", meta, BK_METADATA_MAX);
	open_blocks(k, BK_VIEW_BLOCKS);
}

void bk_message(struct bk *k, struct buf *b, const char *fallback)
{
	struct buf t;

	memset(k, 0, sizeof(*k));
	buf_init(&t, 0);
	jw_init(&k->w, b);
	jw_obj(&k->w);
	jw_kstr(&k->w, "response_type", "ephemeral");
	if (bk_cutcpy(&t, fallback, strlen(fallback), BK_SECTION_TEXT) < 0)
		k->err = 1;
	jw_key(&k->w, "text");
	jw_strn(&k->w, t.p ? t.p : "", t.len);
	buf_free(&t);
	open_blocks(k, BK_MSG_BLOCKS);
}

int bk_end(struct bk *k)
{
	if (k->elems >= 0)
		bk_actions_end(k);
	jw_arr_end(&k->w);
	jw_obj_end(&k->w);
	return k->err || jw_error(&k->w) ? -1 : 0;
}

int bk_room(const struct bk *k, int n)
{
	return k->blocks + n <= k->max_blocks - 1;
}

/* Opens a block of type; 0 when it may not (the limit: an error). */
static int block(struct bk *k, const char *type, int reserved)
{
	if (k->elems >= 0)
		bk_actions_end(k);
	if (k->blocks >= k->max_blocks - (reserved ? 0 : 1)) {
		k->err = 1;
		return 0;
	}
	k->blocks++;
	jw_obj(&k->w);
	jw_kstr(&k->w, "type", type);
	return 1;
}

void bk_header(struct bk *k, const char *plain)
{
	if (!block(k, "header", 0))
		return;
	PLAIN(k, "text", plain, BK_HEADER_TEXT);
	jw_obj_end(&k->w);
}

void bk_divider(struct bk *k)
{
	if (block(k, "divider", 0))
		jw_obj_end(&k->w);
}

void bk_text(struct bk *k, const char *mrkdwn)
{
	bk_text_button(k, mrkdwn, NULL);
}

/* A context block of one mrkdwn text; reserved: the block kept for the cut
 * marker may be taken. */
static void context(struct bk *k, const char *mrkdwn, int reserved)
{
	if (!block(k, "context", reserved))
		return;
	jw_key(&k->w, "elements");
	jw_arr(&k->w);
	text_obj(k, NULL, "mrkdwn", mrkdwn, BK_SECTION_TEXT);
	jw_arr_end(&k->w);
	jw_obj_end(&k->w);
}

void bk_context(struct bk *k, const char *mrkdwn)
{
	context(k, mrkdwn, 0);
}

void bk_cut(struct bk *k, const char *why)
{
	context(k, why, 1);
}

static void button(struct bk *k, const struct bk_button *b)
{
	jw_obj(&k->w);
	jw_kstr(&k->w, "type", "button");
	PLAIN(k, "text", b->text, BK_BUTTON_TEXT);
	id(k, "action_id", b->action_id, BK_ID_MAX);
	id(k, "value", b->value, BK_VALUE_MAX);
	if (b->style)
		jw_kstr(&k->w, "style", b->style);
	if (b->confirm) {
		jw_key(&k->w, "confirm");
		jw_obj(&k->w);
		PLAIN(k, "title", "Are you sure?", BK_CONFIRM_TITLE);
		text_obj(k, "text", "mrkdwn", b->confirm, BK_CONFIRM_TEXT);
		PLAIN(k, "confirm", b->text, BK_CONFIRM_BUTTON);
		PLAIN(k, "deny", "Cancel", BK_CONFIRM_BUTTON);
		if (b->style && strcmp(b->style, "danger") == 0)
			jw_kstr(&k->w, "style", "danger");
		jw_obj_end(&k->w);
	}
	jw_obj_end(&k->w);
}

void bk_text_button(struct bk *k, const char *mrkdwn, const struct bk_button *btn)
{
	if (!block(k, "section", 0))
		return;
	text_obj(k, "text", "mrkdwn", mrkdwn, BK_SECTION_TEXT);
	if (btn) {
		jw_key(&k->w, "accessory");
		button(k, btn);
	}
	jw_obj_end(&k->w);
}

void bk_actions(struct bk *k)
{
	if (!block(k, "actions", 0))
		return;
	jw_key(&k->w, "elements");
	jw_arr(&k->w);
	k->elems = 0;
}

/* Room for one more element in the open actions block. */
static int elem(struct bk *k)
{
	if (k->elems < 0 || k->elems >= BK_ACTIONS_MAX) {
		k->err = 1;
		return 0;
	}
	k->elems++;
	return 1;
}

void bk_button(struct bk *k, const struct bk_button *btn)
{
	if (elem(k))
		button(k, btn);
}

static void option(struct bk *k, const char *text, const char *value)
{
	jw_obj(&k->w);
	PLAIN(k, "text", text, BK_OPTION_TEXT);
	id(k, "value", value, BK_OPTION_VALUE);
	jw_obj_end(&k->w);
}

static void options(struct bk *k, const char *const *texts, const char *const *values, int n,
		    int initial)
{
	int i;

	if (n > BK_OPTIONS_MAX)
		n = BK_OPTIONS_MAX;
	jw_key(&k->w, "options");
	jw_arr(&k->w);
	for (i = 0; i < n; i++)
		option(k, texts[i], values[i]);
	jw_arr_end(&k->w);
	if (initial >= 0 && initial < n) {
		jw_key(&k->w, "initial_option");
		option(k, texts[initial], values[initial]);
	}
}

void bk_select(struct bk *k, const char *action_id, const char *placeholder,
	       const char *const *texts, const char *const *values, int n, int initial)
{
	if (!elem(k))
		return;
	jw_obj(&k->w);
	jw_kstr(&k->w, "type", "static_select");
	id(k, "action_id", action_id, BK_ID_MAX);
	PLAIN(k, "placeholder", placeholder, BK_HEADER_TEXT);
	options(k, texts, values, n, initial);
	jw_obj_end(&k->w);
}

void bk_actions_end(struct bk *k)
{
	if (k->elems < 0)
		return;
	if (k->elems == 0)
		k->err = 1;     /* Slack refuses an empty actions block */
	k->elems = -1;
	jw_arr_end(&k->w);
	jw_obj_end(&k->w);
}

void bk_radio(struct bk *k, const char *block_id, const char *action_id, const char *label,
	      const char *const *texts, const char *const *values, int n, int initial)
{
	if (!block(k, "input", 0))
		return;
	id(k, "block_id", block_id, BK_ID_MAX);
	PLAIN(k, "label", label, BK_TITLE_MAX * 2);
	jw_key(&k->w, "element");
	jw_obj(&k->w);
	jw_kstr(&k->w, "type", "radio_buttons");
	id(k, "action_id", action_id, BK_ID_MAX);
	options(k, texts, values, n, initial);
	jw_obj_end(&k->w);
	jw_obj_end(&k->w);
}
