/* test_server_slack.c - the Slack face's text-only rooms: the envelope
 * parser and the acknowledgement (server_slack_env.c), the Block Kit
 * builders and their limits, the mrkdwn escaper (server_slack_bk.c), and
 * the views built from agents' replies (server_slack_views.c). */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "server_slack_bk.h"
#include "server_slack_env.h"
#include "server_slack_views.h"
#include "t.h"

void test_slack_env_shapes(void);
void test_slack_env_refusals(void);
void test_slack_ack(void);
void test_slack_escape(void);
void test_slack_bk_limits(void);
void test_slack_views_processes(void);
void test_slack_views_modals(void);
void test_slack_views_usage(void);

static int parse(struct slack_env *e, const char *s)
{
	char err[160];

	return slack_env_parse(e, s, strlen(s), err, sizeof(err));
}

void test_slack_env_shapes(void)
{
	struct slack_env e;

	CHECK(parse(&e, "{\"type\":\"hello\",\"num_connections\":1,\"debug_info\":{\"host\":\"a\"}}") == 0);
	CHECK(e.type == SE_HELLO && e.kind == SK_NONE);
	CHECK(parse(&e, "{\"type\":\"disconnect\",\"reason\":\"refresh_requested\"}") == 0);
	CHECK(e.type == SE_DISCONNECT);
	CHECK_STR(e.reason, "refresh_requested");
	CHECK(parse(&e, "{\"envelope_id\":\"e1\",\"type\":\"events_api\",\"accepts_response_payload\":false,"
		  "\"retry_attempt\":2,\"retry_reason\":\"timeout\",\"payload\":{\"type\":\"event_callback\","
		  "\"event\":{\"type\":\"app_home_opened\",\"user\":\"U1\",\"tab\":\"home\",\"channel\":\"D1\"}}}") == 0);
	CHECK(e.type == SE_EVENTS_API && e.kind == SK_HOME_OPENED && e.retry_attempt == 2);
	CHECK_STR(e.envelope_id, "e1");
	CHECK_STR(e.user, "U1");
	/* The Messages tab is not the Home tab. */
	CHECK(parse(&e, "{\"envelope_id\":\"e2\",\"type\":\"events_api\",\"payload\":{\"event\":"
		  "{\"type\":\"app_home_opened\",\"user\":\"U1\",\"tab\":\"messages\"}}}") == 0);
	CHECK(e.kind == SK_NONE);
	CHECK(parse(&e, "{\"envelope_id\":\"e3\",\"type\":\"interactive\",\"accepts_response_payload\":false,"
		  "\"payload\":{\"type\":\"block_actions\",\"user\":{\"id\":\"U2\",\"username\":\"x\"},"
		  "\"trigger_id\":\"1.2.abc\",\"container\":{\"type\":\"view\",\"view_id\":\"V9\"},"
		  "\"view\":{\"id\":\"V9\",\"type\":\"modal\",\"hash\":\"h1\",\"callback_id\":\"proc\","
		  "\"private_metadata\":\"a|1\"},\"actions\":[{\"type\":\"button\",\"action_id\":\"kill.term\","
		  "\"block_id\":\"b\",\"value\":\"web-1.x|42\",\"action_ts\":\"1\"}]}}") == 0);
	CHECK(e.type == SE_INTERACTIVE && e.kind == SK_ACTION);
	CHECK_STR(e.user, "U2");
	CHECK_STR(e.trigger_id, "1.2.abc");
	CHECK_STR(e.view_id, "V9");
	CHECK_STR(e.view_type, "modal");
	CHECK_STR(e.action_id, "kill.term");
	CHECK_STR(e.value, "web-1.x|42");
	/* A select's choice is its value. */
	CHECK(parse(&e, "{\"envelope_id\":\"e4\",\"type\":\"interactive\",\"payload\":{\"type\":\"block_actions\","
		  "\"user\":{\"id\":\"U2\"},\"actions\":[{\"type\":\"static_select\",\"action_id\":\"choose\","
		  "\"selected_option\":{\"text\":{\"type\":\"plain_text\",\"text\":\"b\"},\"value\":\"box\"}}]}}") == 0);
	CHECK_STR(e.value, "box");
	CHECK(parse(&e, "{\"envelope_id\":\"e5\",\"type\":\"interactive\",\"payload\":{\"type\":\"view_submission\","
		  "\"user\":{\"id\":\"U3\"},\"view\":{\"id\":\"V1\",\"callback_id\":\"settings\",\"state\":{\"values\":"
		  "{\"unit\":{\"unit\":{\"type\":\"radio_buttons\",\"selected_option\":{\"value\":\"gib\"}}}}}}}}") == 0);
	CHECK(e.kind == SK_SUBMIT);
	CHECK_STR(e.callback_id, "settings");
	CHECK_STR(e.value, "gib");
	CHECK(parse(&e, "{\"envelope_id\":\"e6\",\"type\":\"slash_commands\",\"accepts_response_payload\":true,"
		  "\"payload\":{\"token\":\"t\",\"team_id\":\"T1\",\"channel_id\":\"C1\",\"user_id\":\"U4\","
		  "\"command\":\"/nest\",\"text\":\"ps box\",\"response_url\":\"https://x\",\"trigger_id\":\"9\"}}") == 0);
	CHECK(e.kind == SK_COMMAND && e.accepts_response_payload);
	CHECK_STR(e.command, "/nest");
	CHECK_STR(e.text, "ps box");
	CHECK_STR(e.channel, "C1");
	/* Something else entirely: read, nothing to do. */
	CHECK(parse(&e, "{\"type\":\"interactive\",\"envelope_id\":\"e7\",\"payload\":{\"type\":\"view_closed\","
		  "\"user\":{\"id\":\"U1\"}}}") == 0);
	CHECK(e.kind == SK_NONE);
}

void test_slack_env_refusals(void)
{
	struct slack_env e;
	char longid[200];

	CHECK(parse(&e, "") < 0);
	CHECK(parse(&e, "[1]") < 0);
	CHECK(parse(&e, "{\"type\":1}") < 0);
	CHECK(parse(&e, "{\"no\":\"type\"}") < 0);
	/* A member of the wrong type: refused, but the envelope id is kept
	 * so that it can still be acknowledged. */
	CHECK(parse(&e, "{\"envelope_id\":\"e1\",\"type\":\"interactive\",\"payload\":{\"type\":\"block_actions\","
		  "\"user\":{\"id\":7},\"actions\":[{\"action_id\":\"x\"}]}}") < 0);
	CHECK(e.kind == SK_NONE);
	CHECK_STR(e.envelope_id, "e1");
	CHECK(parse(&e, "{\"envelope_id\":\"e1\",\"type\":\"slash_commands\",\"payload\":{\"command\":\"/nest\"}}") < 0);
	CHECK(e.kind == SK_NONE);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	{
		char s[400];

		snprintf(s, sizeof(s), "{\"envelope_id\":\"%s\",\"type\":\"events_api\"}", longid);
		CHECK(parse(&e, s) < 0);
		CHECK(e.envelope_id[0] == '\0');
	}
	/* A NUL inside a string cannot sneak through. */
	CHECK(parse(&e, "{\"envelope_id\":\"e\\u0000x\",\"type\":\"events_api\"}") < 0);
}

void test_slack_ack(void)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(slack_env_ack(&b, "abc-1", NULL, 0) == 0);
	CHECK_STR(b.p, "{\"envelope_id\":\"abc-1\"}");
	buf_reset(&b);
	CHECK(slack_env_ack(&b, "x\"y", "{\"text\":\"hi\"}", 13) == 0);
	CHECK_STR(b.p, "{\"envelope_id\":\"x\\\"y\",\"payload\":{\"text\":\"hi\"}}");
	buf_free(&b);
	buf_init(&b, 10);
	CHECK(slack_env_ack(&b, "a-long-envelope-id", NULL, 0) < 0);
	CHECK(b.len == 0);
	buf_free(&b);
}

void test_slack_escape(void)
{
	struct buf b;

	buf_init(&b, 0);
	bk_esc(&b, "<!channel> & <@U1|x> *bold*", 27);
	CHECK_STR(b.p, "&lt;!channel&gt; &amp; &lt;@U1|x&gt; *bold*");
	buf_reset(&b);
	bk_code(&b, "a`b\nc<", 6);
	CHECK_STR(b.p, "`a\xcb\x8b" "b c&lt;`");
	buf_reset(&b);
	bk_code(&b, "", 0);
	CHECK_STR(b.p, "-");
	buf_reset(&b);
	/* Cut on a character, never inside one, with the marker. */
	CHECK(bk_cutcpy(&b, "ab\xc3\xa9" "cd", 6, 5) == 5);
	CHECK_STR(b.p, "ab\xe2\x80\xa6");
	buf_reset(&b);
	CHECK(bk_cutcpy(&b, "abc", 3, 3) == 3);
	CHECK_STR(b.p, "abc");
	buf_free(&b);
}

/* The view parses, and its blocks array has n blocks. */
static int blocks_of(const struct buf *b, struct json *j)
{
	char err[120];
	int t;

	if (json_parse(j, b->p, b->len, err, sizeof(err)) < 0) {
		fprintf(stderr, "not JSON: %s\n%.300s\n", err, b->p);
		return -1;
	}
	t = json_get(j, 0, "blocks");
	return json_type(j, t) == JSON_ARRAY ? json_count(j, t) : -1;
}

void test_slack_bk_limits(void)
{
	struct bk k;
	struct buf b, big;
	struct json j;
	struct bk_button ok = { "Go", "go", "v", NULL, NULL };
	int i;

	buf_init(&b, 0);
	buf_init(&big, 0);
	for (i = 0; i < 5000; i++)
		buf_putc(&big, 'x');
	bk_view(&k, &b, "home", NULL, NULL, NULL, NULL);
	bk_header(&k, big.p);
	bk_text(&k, big.p);
	for (i = 0; bk_room(&k, 1); i++)
		bk_divider(&k);
	bk_cut(&k, "cut");
	CHECK(bk_end(&k) == 0);
	CHECK(blocks_of(&b, &j) == BK_VIEW_BLOCKS);
	{
		int hdr = json_elem(&j, json_get(&j, 0, "blocks"), 0);
		int sec = json_elem(&j, json_get(&j, 0, "blocks"), 1);
		size_t n;

		json_raw(&j, json_get(&j, json_get(&j, hdr, "text"), "text"), &n);
		CHECK(n <= BK_HEADER_TEXT);
		json_raw(&j, json_get(&j, json_get(&j, sec, "text"), "text"), &n);
		CHECK(n <= BK_SECTION_TEXT && n > BK_SECTION_TEXT - 10);
	}
	json_free(&j);
	/* One more block than the limit is the builder's error. */
	buf_reset(&b);
	bk_view(&k, &b, "home", NULL, NULL, NULL, NULL);
	for (i = 0; i < BK_VIEW_BLOCKS + 1; i++)
		bk_divider(&k);
	CHECK(bk_end(&k) < 0);
	/* Ids and values of ours that do not fit are errors, never cut. */
	buf_reset(&b);
	bk_view(&k, &b, "modal", "A title far longer than twenty-four", NULL, NULL, NULL);
	ok.value = big.p;
	bk_text_button(&k, "x", &ok);
	CHECK(bk_end(&k) < 0);
	buf_reset(&b);
	bk_view(&k, &b, "modal", "A title far longer than twenty-four", NULL, NULL, NULL);
	ok.value = "v";
	bk_actions(&k);
	for (i = 0; i < BK_ACTIONS_MAX; i++)
		bk_button(&k, &ok);
	CHECK(bk_end(&k) == 0);
	CHECK(blocks_of(&b, &j) == 1);
	{
		size_t n;

		json_raw(&j, json_get(&j, json_get(&j, 0, "title"), "text"), &n);
		CHECK(n <= BK_TITLE_MAX);
	}
	json_free(&j);
	buf_reset(&b);
	bk_view(&k, &b, "modal", "t", NULL, NULL, NULL);
	bk_actions(&k);
	for (i = 0; i < BK_ACTIONS_MAX + 1; i++)
		bk_button(&k, &ok);
	CHECK(bk_end(&k) < 0);
	/* An empty actions block is refused by Slack: an error here. */
	buf_reset(&b);
	bk_message(&k, &b, "m");
	bk_actions(&k);
	bk_actions_end(&k);
	CHECK(bk_end(&k) < 0);
	buf_free(&b);
	buf_free(&big);
}

/* 40 processes, some of uid 1000, one with a hostile name. */
static void proc_list(struct buf *b)
{
	int i;

	buf_puts(b, "[");
	for (i = 0; i < 40; i++)
		buf_printf(b, "%s{\"pid\":%d,\"name\":\"%s\",\"uid\":%d,\"state\":\"sleeping\",\"rss\":1000000,"
			   "\"cmdline\":\"sleep 1000\"}", i ? "," : "", 100 + i,
			   i == 3 ? "<!channel> *bold*" : "sleep", i % 2 ? 1000 : 0);
	buf_puts(b, "]");
}

void test_slack_views_processes(void)
{
	struct sv_ctx c = { .agent = "web-1.x", .host = "h", .uid = -1 };
	struct buf in, out;
	struct json j, v;
	char err[80];

	buf_init(&in, 0);
	buf_init(&out, 0);
	proc_list(&in);
	CHECK(json_parse(&j, in.p, in.len, err, sizeof(err)) == 0);
	CHECK(sv_processes(&out, &c, &j, 0) == 0);
	/* header, 15 entries, the navigation */
	CHECK(blocks_of(&out, &v) == 17);
	json_free(&v);
	CHECK(strstr(out.p, "page 1/3") != NULL);
	CHECK(strstr(out.p, "\"value\":\"web-1.x|100\"") != NULL);
	CHECK(strstr(out.p, "\"value\":\"web-1.x|1\"") != NULL);     /* Next: page 1 */
	CHECK(strstr(out.p, "Previous") == NULL);
	CHECK(strstr(out.p, "<!channel>") == NULL);
	CHECK(strstr(out.p, "`&lt;!channel&gt; *bold*`") != NULL);
	/* The last page, and a page past it shows the last. */
	buf_reset(&out);
	c.page = 7;
	CHECK(sv_processes(&out, &c, &j, 0) == 0);
	CHECK(strstr(out.p, "page 3/3") != NULL && strstr(out.p, "Previous") != NULL);
	CHECK(strstr(out.p, "\"Next\"") == NULL);
	CHECK(blocks_of(&out, &v) == 12);
	json_free(&v);
	/* Only uid 1000's: 20 of them, 2 pages. */
	buf_reset(&out);
	c.page = 0;
	c.uid = 1000;
	CHECK(sv_processes(&out, &c, &j, 0) == 0);
	CHECK(strstr(out.p, "page 1/2") != NULL);
	CHECK(strstr(out.p, "web-1.x|100\"") == NULL && strstr(out.p, "web-1.x|101\"") != NULL);
	/* The original's shape: pid and name only. */
	json_free(&j);
	buf_reset(&out);
	c.uid = 1000;
	CHECK(json_parse(&j, "[{\"pid\":5,\"name\":\"a\"}]", 22, err, sizeof(err)) == 0);
	CHECK(sv_processes(&out, &c, &j, 0) == 0);
	CHECK(strstr(out.p, "web-1.x|5") != NULL);
	json_free(&j);
	/* /nest ps: a message, the first page. */
	buf_reset(&out);
	c.uid = -1;
	CHECK(json_parse(&j, in.p, in.len, err, sizeof(err)) == 0);
	c.message = 1;
	CHECK(sv_processes(&out, &c, &j, 0) == 0);
	CHECK(strstr(out.p, "\"response_type\":\"ephemeral\"") != NULL);
	CHECK(blocks_of(&out, &v) == 17);
	json_free(&v);
	json_free(&j);
	buf_free(&in);
	buf_free(&out);
}

static int view(int (*fn)(struct buf *, const struct sv_ctx *, const struct json *, int),
		const struct sv_ctx *c, const char *reply, struct buf *out)
{
	struct json j;
	char err[80];
	int r;

	buf_reset(out);
	if (json_parse(&j, reply, strlen(reply), err, sizeof(err)) < 0)
		return -1;
	r = fn(out, c, &j, 0);
	json_free(&j);
	return r;
}

void test_slack_views_modals(void)
{
	struct sv_ctx c = { .agent = "a1", .uid = -1 };
	struct buf out;

	buf_init(&out, 0);
	CHECK(view(sv_process, &c, "{\"pid\":42,\"name\":\"x\",\"cpu_usage\":1.5,\"cpu_time\":{\"user\":1,"
		   "\"system\":2},\"status\":\"stopped\",\"memory\":{\"rss\":2000000000,\"swap\":0},"
		   "\"started\":1700000000,\"safe_kill\":true}", &out) == 0);
	CHECK(strstr(out.p, "\"action_id\":\"resume\"") && !strstr(out.p, "\"action_id\":\"pause\""));
	CHECK(strstr(out.p, "kill.term") && strstr(out.p, "kill.kill") && strstr(out.p, "\"confirm\""));
	CHECK(strstr(out.p, "2.000 GB") != NULL);
	CHECK(strstr(out.p, "Process 42") != NULL);
	CHECK(view(sv_process, &c, "{\"pid\":7,\"name\":\"nestd\",\"status\":\"sleeping\",\"safe_kill\":false}",
		   &out) == 0);
	CHECK(!strstr(out.p, "kill.term") && strstr(out.p, "safe_kill: false") && strstr(out.p, "\"pause\""));
	c.unit = SV_GIB;
	CHECK(view(sv_service, &c, "{\"name\":\"my-app@1.x.service\",\"description\":\"<b>\",\"active_state\":"
		   "\"failed\",\"sub_state\":\"failed\",\"file_location\":\"/x\",\"uptime\":\"Unable to calculate :(\","
		   "\"pid\":0}", &out) == 0);
	CHECK(strstr(out.p, "svc_do.start") && !strstr(out.p, "svc_do.stop") && !strstr(out.p, "proc.push"));
	CHECK(strstr(out.p, "\"value\":\"a1|my-app@1.x.service\"") != NULL);
	CHECK(strstr(out.p, "&lt;b&gt;") != NULL);
	CHECK(view(sv_service, &c, "{\"name\":\"b.service\",\"active_state\":\"active\",\"pid\":99}", &out) == 0);
	CHECK(strstr(out.p, "svc_do.stop") && strstr(out.p, "svc_do.restart") && strstr(out.p, "svc_do.reload"));
	CHECK(strstr(out.p, "\"value\":\"a1|99\"") != NULL);
	/* A list in the original's shape: bare names. */
	CHECK(view(sv_services, &c, "[\"a-b.service\",\"c.service\"]", &out) == 0);
	CHECK(strstr(out.p, "a1|a-b.service") != NULL);
	CHECK(sv_settings(&out, SV_BYTES) == 0 && strstr(out.p, "\"initial_option\"") != NULL);
	buf_reset(&out);
	CHECK(sv_token(&out, "slack-u1", "abc.def", "http://h:1", NULL) == 0);
	CHECK(strstr(out.p, "install.sh | sh -s -- --token-file") != NULL);
	buf_free(&out);
}

void test_slack_views_usage(void)
{
	struct sv_ctx c = { .agent = "a1", .uid = -1 };
	struct buf out, in;
	int i;

	buf_init(&out, 0);
	buf_init(&in, 0);
	/* The original's strings and nestd's numbers alike. */
	CHECK(view(sv_usage, &c, "{\"resources\":\"mem: 1G ```x```\",\"storage\":[[\"1000000000\",\"/h/a\"],"
		   "[2000000000,\"/h\"],[\"3000000000\",\"total\"]]}", &out) == 0);
	CHECK(strstr(out.p, "`/h/a`: 1.000 GB") && strstr(out.p, "`total`: 3.000 GB"));
	CHECK(strstr(out.p, "x\xcb\x8b\xcb\x8b\xcb\x8b") != NULL);     /* no ``` from the agent */
	/* Thousands of rows: cut to fit with a marker. */
	buf_puts(&in, "{\"resources\":\"r\",\"storage\":[");
	for (i = 0; i < 3000; i++)
		buf_printf(&in, "%s[%d,\"/home/user/folder-%d\"]", i ? "," : "", i, i);
	buf_puts(&in, "]}");
	CHECK(view(sv_usage, &c, in.p, &out) == 0);
	CHECK(strstr(out.p, "\xe2\x80\xa6 2") != NULL);
	CHECK(view(sv_port, &c, "\"Port 4242 is free to use!\\n\"", &out) == 0);
	CHECK(strstr(out.p, "Port 4242 is free to use!") != NULL);
	CHECK(view(sv_port, &c, "{\"port\":4243,\"text\":\"Port 4243 is free to use!\\n\"}", &out) == 0);
	CHECK(strstr(out.p, "Port 4243 is free to use!") != NULL);
	buf_free(&out);
	buf_free(&in);
}
