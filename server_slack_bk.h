/* server_slack_bk.h - Block Kit, written: the views and messages the Slack
 * face sends, built block by block into a buffer, inside the limits Slack
 * documents (api.slack.com/reference/block-kit: "Blocks", "Block
 * elements", "Composition objects", "Views"), so that Slack never answers
 * invalid_blocks:
 *
 *   blocks in a view (home tab, modal)      100;   in a message    50
 *   section text                            3000;  header text     150
 *   context: elements                       10;    actions: elements 25
 *   button text                             75;    value           2000
 *   action_id, block_id, callback_id        255;   private_metadata 3000
 *   modal title, submit, close              24
 *   confirm: title 100, text 300, confirm and deny 30
 *   option text 75, option value 150; options in a menu 100
 *
 * Text that could pass a limit is cut on a UTF-8 boundary with a marker
 * ("…"); a list that could pass the block count is cut with a last
 * context block saying so (bk_room tells the caller when to stop).  Ids
 * and values are ours and short; one that would not fit is an error (the
 * builder's sticky error, as jw's), never a cut.
 *
 * Text from an agent (process names, command lines, unit descriptions)
 * goes into mrkdwn only through bk_esc or bk_code, which replace &, < and
 * > with Slack's entities ("Formatting text for app surfaces": escaping),
 * so a process named "<!channel>" cannot mention anyone and "*bold*"
 * inside a code span stays as typed. */
#ifndef NESTD_SERVER_SLACK_BK_H
#define NESTD_SERVER_SLACK_BK_H

#include <stddef.h>
#include "buf.h"
#include "json.h"

#define BK_VIEW_BLOCKS     100
#define BK_MSG_BLOCKS      50
#define BK_SECTION_TEXT    3000
#define BK_HEADER_TEXT     150
#define BK_BUTTON_TEXT     75
#define BK_VALUE_MAX       2000
#define BK_ID_MAX          255
#define BK_METADATA_MAX    3000
#define BK_TITLE_MAX       24
#define BK_CONTEXT_MAX     10
#define BK_ACTIONS_MAX     25
#define BK_OPTION_TEXT     75
#define BK_OPTION_VALUE    150
#define BK_OPTIONS_MAX     100
#define BK_CONFIRM_TITLE   100
#define BK_CONFIRM_TEXT    300
#define BK_CONFIRM_BUTTON  30

struct bk {
	struct jw w;
	int blocks, max_blocks;
	int elems;               /* elements in the open actions block; -1 none */
	int err;
};

/* A view: type "home" or "modal"; for a modal title (and close, submit
 * when not NULL); callback and meta (private_metadata) when not NULL. */
void bk_view(struct bk *k, struct buf *b, const char *type, const char *title,
	     const char *submit, const char *callback, const char *meta);
/* A message: {"response_type":"ephemeral","text":FALLBACK,"blocks":[ */
void bk_message(struct bk *k, struct buf *b, const char *fallback);
/* Closes the blocks and the object: 0, or -1 when anything failed. */
int  bk_end(struct bk *k);

/* 1 while n more blocks fit with room left for the cut marker. */
int  bk_room(const struct bk *k, int n);
/* The marker: a context block "…" + why. */
void bk_cut(struct bk *k, const char *why);

void bk_header(struct bk *k, const char *plain);
void bk_divider(struct bk *k);
/* A section of mrkdwn text (already escaped), cut at 3000. */
void bk_text(struct bk *k, const char *mrkdwn);
void bk_context(struct bk *k, const char *mrkdwn);

struct bk_button {
	const char *text;        /* plain text */
	const char *action_id;
	const char *value;       /* or NULL */
	const char *style;       /* "primary", "danger" or NULL */
	const char *confirm;     /* the confirmation's text, or NULL: none */
};
/* A section of mrkdwn text with a button beside it. */
void bk_text_button(struct bk *k, const char *mrkdwn, const struct bk_button *btn);
/* An actions block; then buttons; then bk_actions_end. */
void bk_actions(struct bk *k);
void bk_button(struct bk *k, const struct bk_button *btn);
/* A static_select in the open actions block: options[i] shown as
 * texts[i], valued values[i]; initial: the index chosen, or -1. */
void bk_select(struct bk *k, const char *action_id, const char *placeholder,
	       const char *const *texts, const char *const *values, int n, int initial);
void bk_actions_end(struct bk *k);
/* An input block of radio buttons (a modal's form). */
void bk_radio(struct bk *k, const char *block_id, const char *action_id, const char *label,
	      const char *const *texts, const char *const *values, int n, int initial);

/* mrkdwn text from outside: s[0..n) with &, <, > as entities, appended to
 * out; control characters become spaces.  -1 past out's bound. */
int bk_esc(struct buf *out, const char *s, size_t n);
/* The same inside an inline code span (`…`): a backtick becomes ˋ
 * (U+02CB) so it cannot end the span; "" shows as "-". */
int bk_code(struct buf *out, const char *s, size_t n);
/* Appends s[0..n) cut to at most max bytes on a UTF-8 boundary, with "…"
 * when cut.  Returns the bytes appended, or -1. */
int bk_cutcpy(struct buf *out, const char *s, size_t n, size_t max);

#endif
