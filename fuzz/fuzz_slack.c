/* fuzz_slack.c - libFuzzer target for the Slack face's readers: Socket
 * Mode envelopes and their payloads (server_slack_env.c), and what the
 * face writes back from them.
 *
 * Properties checked (abort on violation):
 *  - slack_env_parse never crashes, leaks or reads out of bounds;
 *  - every field it fills is NUL-terminated within its array;
 *  - an envelope it says needs acting on names a user;
 *  - the acknowledgement of the envelope id it read is JSON and carries
 *    that id back, whatever bytes the id held;
 *  - a button value split as the views split it gives an agent part that
 *    fits its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../server_slack_env.h"
#include "../server_slack_views.h"
#include "../json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(c) do { if (!(c)) abort(); } while (0)
#define TERMINATED(f) MUST(memchr((f), '\0', sizeof(f)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slack_env e;
	char err[160], agent[65];
	const char *rest;
	struct buf b;
	struct json j;
	int r = slack_env_parse(&e, (const char *)data, size, err, sizeof(err));

	TERMINATED(e.envelope_id);
	TERMINATED(e.user);
	TERMINATED(e.value);
	TERMINATED(e.text);
	TERMINATED(e.metadata);
	TERMINATED(e.action_id);
	if (r == 0 && e.kind != SK_NONE)
		MUST(e.user[0]);
	if (r < 0)
		MUST(e.kind == SK_NONE);
	buf_init(&b, 0);
	MUST(slack_env_ack(&b, e.envelope_id, "{}", 2) == 0);
	MUST(json_parse(&j, b.p, b.len, err, sizeof(err)) == 0);
	MUST(json_str_eq(&j, json_get(&j, 0, "envelope_id"), e.envelope_id));
	json_free(&j);
	buf_free(&b);
	if (sv_split(e.value, agent, sizeof(agent), &rest) == 0)
		MUST(strlen(agent) < sizeof(agent) && rest > e.value);
	return 0;
}
