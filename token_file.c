/* token_file.c - the token file on disk (see token.h), and an agent's or
 * operator's token file (token_read_file), bare or in the original
 * client's .env form.
 *
 * Every access goes through the directory's descriptor, opened once and
 * checked (owned by this user or root, writable by no one else): a file
 * name resolved against it cannot be swapped for another directory's
 * halfway.  Writers open that directory, the lock file and the token file
 * without following symlinks (a symlink planted in the state directory
 * must not redirect a write), and replace the file by rename, so a reader
 * (the server) sees the old file or the new one, never half of one; a
 * failed write, a full disk included, leaves the old file as it was. */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dotenv.h"
#include "fmt.h"
#include "out.h"
#include "token_file.h"

int token_path_split(const char *path, char *dir, size_t dcap, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t dl = slash ? (size_t)(slash - path) : 0;

	*base = slash ? slash + 1 : path;
	if (!**base || !strcmp(*base, ".") || !strcmp(*base, ".."))
		return -1;
	if (!slash)
		return fmt_snprintf(dir, dcap, ".") < 0 ? -1 : 0;
	if (dl == 0)
		dl = 1;   /* "/tokens": the root */
	if (dl >= dcap)
		return -1;
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	return 0;
}

int token_dir_check(const char *dir, const struct stat *st, char *err, size_t errlen)
{
	if (!S_ISDIR(st->st_mode)) {
		fmt_snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		fmt_snprintf(err, errlen, "the token directory %s belongs to uid %u, not to uid %u that runs "
			 "nestd: run nestd as its owner, or chown the directory", dir,
			 (unsigned)st->st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st->st_mode & 022) {
		fmt_snprintf(err, errlen, "the token directory %s is writable by %s (mode %04o): anyone "
			 "there could replace the token file; chmod go-w %s", dir,
			 (st->st_mode & 002) ? "others" : "its group", (unsigned)(st->st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

int token_dir_open(const char *dir, int nofollow, char *err, size_t errlen)
{
	struct stat st;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	int e = errno;

	if (dfd < 0) {
		if (e == ELOOP || (nofollow && e == ENOTDIR && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)))
			fmt_snprintf(err, errlen, "the token directory %s is a symbolic link: give the "
				 "directory it points to", dir);
		else
			fmt_snprintf(err, errlen, "cannot open the token directory %s: %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(dfd, &st) < 0) {
		e = errno;
		fmt_snprintf(err, errlen, "cannot stat %s: %s", dir, strerror(e));
	} else if (token_dir_check(dir, &st, err, errlen) < 0) {
		e = EPERM;
	} else {
		return dfd;
	}
	close(dfd);
	errno = e;
	return -1;
}

static void id_of(const struct stat *st, struct token_file_id *id)
{
	memset(id, 0, sizeof(*id));
	id->exists = 1;
	id->dev = (unsigned long long)st->st_dev;
	id->ino = (unsigned long long)st->st_ino;
	id->size = (unsigned long long)st->st_size;
	id->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	id->ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

/* The whole of fd (a regular file of st_size bytes, at most
 * CFG_TOKEN_FILE_MAX) into b. */
static int read_all(int fd, const char *path, struct buf *b, char *err, size_t errlen)
{
	for (;;) {
		ssize_t r;

		if (buf_reserve(b, 65536) < 0) {
			fmt_snprintf(err, errlen, "%s is larger than %u bytes", path, CFG_TOKEN_FILE_MAX);
			return -1;
		}
		r = read(fd, b->p + b->len, b->cap - b->len);
		if (r == 0)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fmt_snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			return -1;
		}
		b->len += (size_t)r;
		b->p[b->len] = '\0';
	}
}

/* The opened token file fd: checked, read, parsed. */
static int load_fd(int fd, const char *path, struct token_db *db, struct token_file_id *id,
		   char *err, size_t errlen)
{
	struct stat st;
	struct buf b;
	int rc;

	if (fstat(fd, &st) < 0) {
		fmt_snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	id_of(&st, id);
	if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) {
		fmt_snprintf(err, errlen, "%s is %s, not a token file", path,
			 S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
		return -1;
	}
	if ((unsigned long long)st.st_size > CFG_TOKEN_FILE_MAX) {
		fmt_snprintf(err, errlen, "%s is larger than %u bytes", path, CFG_TOKEN_FILE_MAX);
		return -1;
	}
	buf_init(&b, CFG_TOKEN_FILE_MAX);
	rc = read_all(fd, path, &b, err, errlen);
	if (rc == 0)
		rc = token_db_parse(b.p ? b.p : "", b.len, path, db, err, errlen);
	buf_free(&b);
	return rc;
}

int token_db_load_at(int dfd, const char *base, const char *path, int nofollow,
		     struct token_db *db, struct token_file_id *id, char *err, size_t errlen)
{
	int fd, rc;

	db->e = NULL;
	db->n = 0;
	fd = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
		    (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0 && errno == ENOENT) {
		memset(id, 0, sizeof(*id));
		return 0;
	}
	if (fd < 0) {
		if (nofollow && errno == ELOOP)
			fmt_snprintf(err, errlen, "%s is a symbolic link: nestd token replaces the file "
				 "whole, which would replace the link; give --tokens the file it "
				 "points to", path);
		else
			fmt_snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	rc = load_fd(fd, path, db, id, err, errlen);
	close(fd);
	return rc;
}

int token_db_load_id(const char *path, struct token_db *db, struct token_file_id *id,
		     char *err, size_t errlen)
{
	char dir[4096];
	const char *base;
	int dfd, rc;

	db->e = NULL;
	db->n = 0;
	/* What a failure below was about, so a caller need not retry it until
	 * the file changes; the descriptor's own fstat replaces it. */
	token_file_stat(path, id);
	err[0] = '\0';
	if (token_path_split(path, dir, sizeof(dir), &base) < 0) {
		fmt_snprintf(err, errlen, "%s: not a file name", path);
		return -1;
	}
	dfd = token_dir_open(dir, 0, err, errlen);
	if (dfd < 0 && errno == ENOENT) {
		err[0] = '\0';    /* no directory, so no file: no tokens yet */
		return 0;
	}
	if (dfd < 0)
		return -1;
	rc = token_db_load_at(dfd, base, path, 0, db, id, err, errlen);
	close(dfd);
	return rc;
}

int token_db_load(const char *path, struct token_db *db, char *err, size_t errlen)
{
	struct token_file_id id;

	return token_db_load_id(path, db, &id, err, errlen);
}

void token_file_stat(const char *path, struct token_file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (stat(path, &st) == 0)
		id_of(&st, id);
}

int token_file_changed(const char *path, const struct token_file_id *id)
{
	struct token_file_id now;

	token_file_stat(path, &now);
	return now.exists != id->exists || now.dev != id->dev || now.ino != id->ino ||
	       now.size != id->size || now.mtime_ns != id->mtime_ns || now.ctime_ns != id->ctime_ns;
}

/* p[0..n) into dfd's TMP, synced: 0, or -1 with errno set. */
static int write_temp(int dfd, const char *tmp, const char *p, size_t n)
{
	int fd, e;

	unlinkat(dfd, tmp, 0);   /* a crashed run's, of this pid: ours by name */
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) < 0 || out_fd_write(fd, p, n) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int token_file_replace_at(int dfd, const char *base, const char *p, size_t n)
{
	char tmp[600];
	int e;

	if (strlen(base) > 500) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fmt_snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", base, (long)getpid());
	if (write_temp(dfd, tmp, p, n) < 0 || renameat(dfd, tmp, dfd, base) < 0) {
		e = errno;
		unlinkat(dfd, tmp, 0);
		errno = e;
		return -1;
	}
	fsync(dfd);   /* the rename itself on disk; the file is whole either way */
	return 0;
}

int token_db_save_at(int dfd, const char *base, const char *path, const struct token_db *db,
		     char *err, size_t errlen)
{
	struct buf b;
	int e;

	buf_init(&b, CFG_TOKEN_FILE_MAX);
	if (token_db_format(db, &b) < 0) {
		fmt_snprintf(err, errlen, "%s would pass %u bytes (or out of memory)", path, CFG_TOKEN_FILE_MAX);
		buf_free(&b);
		return -1;
	}
	if (token_file_replace_at(dfd, base, b.p, b.len) < 0) {
		e = errno;
		buf_free(&b);
		fmt_snprintf(err, errlen, "cannot write the new token file beside %s: %s (%s is unchanged)",
			 path, strerror(e), path);
		return -1;
	}
	buf_free(&b);
	return 0;
}

int token_db_save(const char *path, const struct token_db *db, char *err, size_t errlen)
{
	char dir[4096];
	const char *base;
	int dfd, rc;

	err[0] = '\0';
	if (token_path_split(path, dir, sizeof(dir), &base) < 0) {
		fmt_snprintf(err, errlen, "%s: not a file name", path);
		return -1;
	}
	dfd = token_dir_open(dir, 1, err, errlen);
	if (dfd < 0)
		return -1;
	rc = token_db_save_at(dfd, base, path, db, err, errlen);
	close(dfd);
	return rc;
}

void token_default_state_dir(char *out, size_t n)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct stat st;

	/* Root's, and that of the user it belongs to: the Debian package's
	 * server user (nestd), whose `nestd token new` must find the
	 * server's file whatever $HOME sudo left. */
	if (geteuid() == 0 || (lstat(CFG_STATE_DIR_ROOT, &st) == 0 && S_ISDIR(st.st_mode) &&
			       st.st_uid == geteuid()))
		fmt_copy(out, n, CFG_STATE_DIR_ROOT);
	else if (x && x[0] == '/')
		fmt_snprintf(out, n, "%s/nestd", x);
	else
		fmt_snprintf(out, n, "%s/.local/state/nestd", home && *home ? home : ".");
}

/* Up to CFG_TOKEN_READ_MAX bytes of fd into buf (NUL-terminated); *more
 * when the file goes on past them. */
static ssize_t read_head(int fd, char *buf, int *more)
{
	size_t len = 0;
	char extra;

	*more = 0;
	while (len < CFG_TOKEN_READ_MAX) {
		ssize_t r = read(fd, buf + len, CFG_TOKEN_READ_MAX - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len == CFG_TOKEN_READ_MAX) {
		ssize_t r;

		while ((r = read(fd, &extra, 1)) < 0 && errno == EINTR)
			;
		*more = r > 0;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

int token_dotenv(const char *text, size_t n, char *out, size_t cap)
{
	if (!dotenv_has_binding(text, n))
		return 0;
	return dotenv_get(text, n, "CLIENT_TOKEN", out, cap) > 0 ||
	       dotenv_get(text, n, "NESTD_TOKEN", out, cap) > 0 ? 1 : -1;
}

/* A token file in the .env form (the original client's): 1 with the
 * token, 0 when it is not one, -1 with err. */
static int read_dotenv(const char *path, const char *buf, size_t n, int more, char *out,
		       size_t cap, char *err, size_t errlen)
{
	int rc = token_dotenv(buf, n, out, cap);

	if (rc > 0 && !more)
		return 1;
	if (rc > 0 || (rc == 0 && more && dotenv_has_binding(buf, n)))
		fmt_snprintf(err, errlen, "token file %s: KEY=VALUE lines over %d bytes; refused rather "
			 "than read in part", path, CFG_TOKEN_READ_MAX);
	else if (rc < 0)
		fmt_snprintf(err, errlen, "token file %s holds KEY=VALUE lines but no CLIENT_TOKEN that "
			 "is a token", path);
	out[0] = '\0';
	return rc ? -1 : 0;
}

int token_read_file(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
	struct stat st;
	char buf[CFG_TOKEN_READ_MAX + 1];
	ssize_t r;
	size_t len;
	char *s, *e;
	int more, env, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		fmt_snprintf(err, errlen, "cannot read token file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 0077)) {
		close(fd);
		fmt_snprintf(err, errlen, "token file %s is readable by others (mode %03o); chmod 600 it",
			 path, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	r = read_head(fd, buf, &more);
	close(fd);
	if (r < 0) {
		fmt_snprintf(err, errlen, "cannot read token file %s: %s", path, strerror(errno));
		return -1;
	}
	if ((env = read_dotenv(path, buf, (size_t)r, more, out, cap, err, errlen)) != 0) {
		memset(buf, 0, sizeof(buf));
		return env > 0 ? 0 : -1;
	}
	for (s = buf; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
		;
	for (e = s; *e && *e != '\n' && *e != '\r' && *e != ' ' && *e != '\t'; e++)
		;
	len = (size_t)(e - s);
	if (len == 0 && !*e && more)
		fmt_snprintf(err, errlen, "token file %s starts with over %d blank bytes", path,
			 CFG_TOKEN_READ_MAX);
	else if (len == 0)
		fmt_snprintf(err, errlen, "token file %s holds no token", path);
	else if (len >= cap || (!*e && more))
		fmt_snprintf(err, errlen, "token file %s: its first line is longer than a token can be "
			 "(%zu bytes); refused rather than cut", path, cap - 1);
	if (len == 0 || len >= cap || (!*e && more)) {
		memset(buf, 0, sizeof(buf));
		return -1;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	memset(buf, 0, sizeof(buf));
	return 0;
}

/* ---- changes under the lock ---- */

int token_dir_make(const char *dir)
{
	char tmp[4096];
	size_t i, n = strlen(dir);

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == '\0') {
			char c = tmp[i];

			tmp[i] = '\0';
			if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
				return -1;
			tmp[i] = c;
		}
	}
	return 0;
}

int token_lock(const char *dir, const char *base, int nonblock, int *dfd, char *err,
	       size_t errlen)
{
	char lockn[600];
	struct stat st;
	int fd, e;

	if (token_dir_make(dir) < 0) {
		fmt_snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	*dfd = token_dir_open(dir, 1, err, errlen);
	if (*dfd < 0)
		return -1;
	fmt_snprintf(lockn, sizeof(lockn), "%.500s.lock", base);
	fd = openat(*dfd, lockn, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0 || flock(fd, LOCK_EX | (nonblock ? LOCK_NB : 0)) < 0) {
		e = errno;
		fmt_snprintf(err, errlen, "cannot lock %s/%s: %s", dir, lockn,
			 e == ELOOP ? "it is a symbolic link" : e == EINVAL ? "not a regular file" :
			 e == EWOULDBLOCK ? "another writer holds it; try again" : strerror(e));
		if (fd >= 0)
			close(fd);
		close(*dfd);
		*dfd = -1;
		errno = e;
		return -1;
	}
	return fd;
}

/* Under the lock (without waiting for it): the file loaded, edit applied
 * (0 to save, or a negative result), saved. */
int token_edit(const char *path, int (*edit)(struct token_db *db, const void *arg),
	       const void *arg, char *err, size_t errlen)
{
	char dir[4096];
	const char *base;
	struct token_db db;
	struct token_file_id id;
	int lockfd, dfd = -1, rc;

	if (token_path_split(path, dir, sizeof(dir), &base) < 0) {
		fmt_snprintf(err, errlen, "%s: not a file name", path);
		return TOKEN_EDIT_ERROR;
	}
	if ((lockfd = token_lock(dir, base, 1, &dfd, err, errlen)) < 0)
		return errno == EWOULDBLOCK ? TOKEN_EDIT_BUSY : TOKEN_EDIT_ERROR;
	rc = token_db_load_at(dfd, base, path, 1, &db, &id, err, errlen);
	if (rc == 0) {
		rc = edit(&db, arg);
		if (rc == 0 && token_db_save_at(dfd, base, path, &db, err, errlen) < 0)
			rc = TOKEN_EDIT_ERROR;
		token_db_free(&db);
	} else {
		rc = TOKEN_EDIT_ERROR;
	}
	close(lockfd);
	close(dfd);
	return rc;
}

static int edit_add(struct token_db *db, const void *arg)
{
	const struct token_entry *e = arg;

	if (token_db_by_name(db, e->name))
		return TOKEN_EDIT_EXISTS;
	return token_db_add(db, e) < 0 ? TOKEN_EDIT_ERROR : 0;
}

int token_edit_add(const char *path, const struct token_entry *e, char *err, size_t errlen)
{
	int rc = token_edit(path, edit_add, e, err, errlen);

	if (rc == TOKEN_EDIT_EXISTS)
		fmt_snprintf(err, errlen, "a token named '%s' exists; revoke it first", e->name);
	return rc;
}

struct removal {
	const char *name;
	enum token_role role;
};

static int edit_remove(struct token_db *db, const void *arg)
{
	const struct removal *r = arg;
	const struct token_entry *e = token_db_by_name(db, r->name);

	if (!e || e->role != r->role)
		return TOKEN_EDIT_MISSING;
	token_db_remove(db, (int)(e - db->e));
	return 0;
}

int token_edit_remove(const char *path, const char *name, enum token_role role, char *err,
		      size_t errlen)
{
	struct removal r = { name, role };
	int rc = token_edit(path, edit_remove, &r, err, errlen);

	if (rc == TOKEN_EDIT_MISSING)
		fmt_snprintf(err, errlen, "no %s token named '%s'", token_role_name(role), name);
	return rc;
}
