/* server_slack_store.c - the Slack face's per-person settings on disk
 * (see server_slack_store.h). */
#include "server_slack_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fmt.h"
#include "log.h"
#include "token.h"
#include "token_file.h"

static const char *const units[] = { "gb", "gib", "bytes" };

/* Through the token file's writer (token_file_replace_at): a temporary
 * file beside it, write, fsync, rename over the file, fsync of the
 * directory. */
static int write_atomic(const char *path, const char *data, size_t n, char *err, size_t errlen)
{
	char dir[4200];
	const char *base;
	int dfd, rc;

	if (token_path_split(path, dir, sizeof(dir), &base) < 0 ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fmt_snprintf(err, errlen, "cannot open the directory of %s: %s", path, strerror(errno));
		return -1;
	}
	rc = token_file_replace_at(dfd, base, data, n);
	if (rc < 0)
		fmt_snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
	close(dfd);
	return rc;
}

/* The next blank-separated word of *p, NUL-terminated in place; NULL at
 * the line's end. */
static char *word(char **p)
{
	char *w = *p + strspn(*p, " \t");
	size_t n = strcspn(w, " \t");

	*p = w[n] ? w + n + 1 : w + n;
	w[n] = '\0';
	return *w ? w : NULL;
}

/* One line into a record: 0, or -1 when it is not one. */
static int parse_line(char *line, struct slack_user *u)
{
	char *w = word(&line);
	int i;

	memset(u, 0, sizeof(*u));
	if (!w || (w[0] != 'U' && w[0] != 'W') || strlen(w) >= sizeof(u->id))
		return -1;
	strcpy(u->id, w);
	while ((w = word(&line))) {
		if (strncmp(w, "unit=", 5) == 0) {
			for (i = 0; i < 3 && strcmp(w + 5, units[i]); i++)
				;
			if (i == 3)
				return -1;
			u->unit = (enum sv_unit)i;
		} else if (strncmp(w, "agent=", 6) == 0 && token_name_valid(w + 6)) {
			strcpy(u->agent, w + 6);
		} else {
			return -1;
		}
	}
	return 0;
}

/* The file read whole (bounded: a line a person, each well under 256
 * bytes), then its lines; no stdio stream for it. */
void slack_users_load(struct slack_users *s, const char *dir)
{
	struct buf b;
	char *line, *next;
	int no = 0;

	memset(s, 0, sizeof(*s));
	fmt_snprintf(s->path, sizeof(s->path), "%s/slack-users", dir);
	buf_init(&b, (size_t)CFG_SLACK_MAX_USERS * 256);
	if (buf_read_file(&b, s->path) < 0 || !b.p) {
		buf_free(&b);
		return;
	}
	for (line = b.p; *line; line = next) {
		struct slack_user u, *p;

		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		no++;
		line[strcspn(line, "\r")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (parse_line(line, &u) < 0 || !(p = slack_users_get(s, u.id, 1))) {
			log_warn("%s:%d: not a setting, skipped", s->path, no);
			continue;
		}
		*p = u;
	}
	buf_free(&b);
}

void slack_users_free(struct slack_users *s)
{
	free(s->u);
	s->u = NULL;
	s->n = s->cap = 0;
}

struct slack_user *slack_users_get(struct slack_users *s, const char *id, int create)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->u[i].id, id))
			return &s->u[i];
	if (!create || s->n >= CFG_SLACK_MAX_USERS || strlen(id) >= sizeof(s->u[0].id))
		return NULL;
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 16;
		struct slack_user *nu = realloc(s->u, (size_t)cap * sizeof(*nu));

		if (!nu)
			return NULL;
		s->u = nu;
		s->cap = cap;
	}
	memset(&s->u[s->n], 0, sizeof(s->u[0]));
	strcpy(s->u[s->n].id, id);
	return &s->u[s->n++];
}

int slack_users_save(const struct slack_users *s, char *err, size_t errlen)
{
	struct buf b;
	int i, r;

	buf_init(&b, 0);
	buf_puts(&b, "# nestd: Slack users' settings (written by the server)\n");
	for (i = 0; i < s->n; i++) {
		buf_printf(&b, "%s unit=%s", s->u[i].id, units[s->u[i].unit]);
		if (s->u[i].agent[0])
			buf_printf(&b, " agent=%s", s->u[i].agent);
		buf_putc(&b, '\n');
	}
	r = write_atomic(s->path, b.p, b.len, err, errlen);
	buf_free(&b);
	return r;
}
