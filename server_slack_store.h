/* server_slack_store.h - what the Slack face remembers of each person: the
 * unit storage is shown in and the machine they chose.  One file in the
 * server's state directory, "slack-users", a line a person:
 *
 *   U0123ABCD unit=gib agent=alice-laptop
 *
 * read whole at start (a bad line is skipped with a warning: a setting is
 * not worth refusing to start over) and written whole, atomically (a
 * temporary file, fsync, rename, fsync of the directory), after every
 * change, so a crash leaves the old file or the new one. */
#ifndef NESTD_SERVER_SLACK_STORE_H
#define NESTD_SERVER_SLACK_STORE_H

#include <stddef.h>
#include "config.h"
#include "server_slack_views.h"

struct slack_user {
	char id[24];                       /* U…/W… */
	enum sv_unit unit;
	char agent[TOKEN_NAME_MAX + 1];    /* chosen machine, "" none */
	int home_seen;                     /* opened the home tab in this run */
	int home_due;                      /* their home tab is to be published again */
};

struct slack_users {
	char path[4200];
	struct slack_user *u;
	int n, cap;
};

/* Reads dir/slack-users (missing: no one yet). */
void slack_users_load(struct slack_users *s, const char *dir);
void slack_users_free(struct slack_users *s);
/* The person's record (created with the defaults when create); NULL when
 * absent or past CFG_SLACK_MAX_USERS. */
struct slack_user *slack_users_get(struct slack_users *s, const char *id, int create);
/* Writes the file; 0, or -1 with the reason in err (the old file stays). */
int slack_users_save(const struct slack_users *s, char *err, size_t errlen);

#endif
