/* test_agent_usage.c - obtain_user_usages' and get_port's parts
 * (agent_usage.c): the cgroup files' values, /proc/self/cgroup and
 * mountinfo as the kernel writes them (v2, hybrid, v1 only), the limits
 * that hold along a cgroup path, the du walk against GNU du's own answer
 * on the same tree (hard links, symlinks, empty folders), its bounds
 * (entries, depth, a folder it may not read: as uid 65534 when run as
 * root), and both reply shapes, the storage rows bounded for the
 * original's Slack view. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../agent_usage.h"
#include "../buf.h"
#include "../json.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-truncation"

static void put(const char *dir, const char *name, const char *text)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	if (fd >= 0)
		close(fd);
}

static void sub(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
	CHECK(system(cmd) == 0);
}

void test_usage_parse_value(void)
{
	CHECK(usage_parse_value("524288000\n", 10) == 524288000LL);
	CHECK(usage_parse_value("max\n", 4) == USAGE_NO_LIMIT);
	CHECK(usage_parse_value("max", 3) == USAGE_NO_LIMIT);
	CHECK(usage_parse_value("", 0) == USAGE_UNKNOWN);
	CHECK(usage_parse_value("\n", 1) == USAGE_UNKNOWN);
	CHECK(usage_parse_value("12a\n", 4) == USAGE_UNKNOWN);
	CHECK(usage_parse_value("-1\n", 3) == USAGE_UNKNOWN);
	CHECK(usage_parse_value("9999999999999999999999\n", 23) == USAGE_UNKNOWN);
	CHECK(usage_parse_value("0\n", 2) == 0);
}

void test_usage_cgroup_self(void)
{
	static const char v2[] = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service\n";
	static const char hybrid[] = "9:name=systemd:/\n8:pids:/\n4:memory:/a/b\n0::/\n";
	static const char v1[] = "12:pids:/user.slice\n11:memory:/user.slice\n1:name=systemd:/x\n";
	char out[256];

	CHECK(usage_cgroup_self(v2, sizeof(v2) - 1, out, sizeof(out)) == 0);
	CHECK_STR(out, "/user.slice/user-1000.slice/user@1000.service/app.slice/x.service");
	CHECK(usage_cgroup_self(hybrid, sizeof(hybrid) - 1, out, sizeof(out)) == 0);
	CHECK_STR(out, "/");
	CHECK(usage_cgroup_self(v1, sizeof(v1) - 1, out, sizeof(out)) == -1);
	CHECK(usage_cgroup_self(v2, sizeof(v2) - 1, out, 8) == -1);      /* no room: none */
	CHECK(usage_cgroup_self("0::/a", 5, out, sizeof(out)) == 0);     /* no final newline */
	CHECK_STR(out, "/a");
}

void test_usage_cgroup_mount(void)
{
	/* as Debian 12's kernel writes them */
	static const char v2[] =
		"22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
		"26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
		"rw,nsdelegate,memory_recursiveprot\n";
	static const char hybrid[] =
		"30 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
		"31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
		"cgroup2 rw,nsdelegate\n"
		"32 30 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:12 - cgroup cgroup rw,memory\n";
	static const char none[] =
		"32 30 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:12 - cgroup cgroup rw,memory\n"
		"33 30 0:29 / /weird\\040path rw master:1 - cgroup2 cgroup2 rw\n";
	char out[256];

	CHECK(usage_cgroup_mount(v2, sizeof(v2) - 1, out, sizeof(out)) == 0);
	CHECK_STR(out, "/sys/fs/cgroup");
	CHECK(usage_cgroup_mount(hybrid, sizeof(hybrid) - 1, out, sizeof(out)) == 0);
	CHECK_STR(out, "/sys/fs/cgroup/unified");
	CHECK(usage_cgroup_mount(none, sizeof(none) - 1, out, sizeof(out)) == -1);
	CHECK(usage_cgroup_mount("", 0, out, sizeof(out)) == -1);
	CHECK(usage_cgroup_mount("1 2 3", 5, out, sizeof(out)) == -1);
}

/* The limit that holds is the tightest on the way up; the figures are
 * the cgroup's own. */
void test_usage_cgroup_read(void)
{
	char top[] = "/tmp/nestd-cg-XXXXXX", a[300], b[300];
	struct cg_usage u;

	CHECK(mkdtemp(top) != NULL);
	sub(a, sizeof(a), top, "user.slice");
	CHECK(mkdir(a, 0755) == 0);
	sub(b, sizeof(b), a, "user-1000.slice");
	CHECK(mkdir(b, 0755) == 0);
	put(top, "memory.max", "max\n");
	put(a, "memory.max", "2147483648\n");
	put(a, "pids.max", "500\n");
	put(b, "memory.current", "524288000\n");
	put(b, "memory.max", "max\n");
	put(b, "pids.current", "7\n");
	put(b, "pids.max", "max\n");
	usage_cgroup_read(b, top, &u);
	CHECK(u.mem_used == 524288000LL && u.mem_limit == 2147483648LL);
	CHECK(u.pids == 7 && u.pids_limit == 500);
	CHECK_STR(u.dir, b);
	/* on its own (--cgroup): only its files */
	usage_cgroup_read(b, NULL, &u);
	CHECK(u.mem_limit == USAGE_NO_LIMIT && u.pids_limit == USAGE_NO_LIMIT);
	/* a tighter limit below wins over a looser one above */
	put(b, "memory.max", "1000\n");
	usage_cgroup_read(b, top, &u);
	CHECK(u.mem_limit == 1000);
	/* no files at all: unknown, not 0 */
	usage_cgroup_read(top, top, &u);
	CHECK(u.mem_used == USAGE_UNKNOWN && u.pids == USAGE_UNKNOWN);
	CHECK(u.mem_limit == USAGE_NO_LIMIT);
	rm_tree(top);
}

/* A tree du and nestd must agree on. */
static void make_tree(const char *top)
{
	char p[512], q[512];
	int i;

	sub(p, sizeof(p), top, "alpha");
	CHECK(mkdir(p, 0755) == 0);
	put(p, "one.bin", "1234567890");
	sub(q, sizeof(q), p, "deeper");
	CHECK(mkdir(q, 0755) == 0);
	for (i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		put(q, name, "xyz");
	}
	sub(p, sizeof(p), top, "beta");
	CHECK(mkdir(p, 0755) == 0);
	put(p, "two.bin", "abcdefghijabcdefghij");
	/* a hard link: counted once */
	sub(q, sizeof(q), p, "two.link");
	snprintf(p, sizeof(p), "%s/beta/two.bin", top);
	CHECK(link(p, q) == 0);
	/* symlinks: counted as themselves, never followed (out of the tree,
	 * and in a loop) */
	sub(p, sizeof(p), top, "beta/root-link");
	CHECK(symlink("/", p) == 0);
	sub(p, sizeof(p), top, "alpha/deeper/loop");
	CHECK(symlink("..", p) == 0);
	sub(p, sizeof(p), top, "empty");
	CHECK(mkdir(p, 0755) == 0);
	put(top, "top.txt", "top");
}

/* `du -b --max-depth=1 -c DIR` in rows "BYTES\tPATH" into out. */
static int du_says(const char *dir, char *out, size_t cap)
{
	char cmd[600];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "du -b --max-depth=1 -c '%s' 2>/dev/null", dir);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	return pclose(f) == 0 ? 0 : -1;
}

/* The bytes du gives path, or -1. */
static long long du_row(const char *du, const char *path)
{
	char want[600];
	const char *p = du, *tab;

	snprintf(want, sizeof(want), "\t%s\n", path);
	while ((tab = strstr(p, want))) {
		const char *b = tab;

		while (b > du && b[-1] != '\n')
			b--;
		return strtoll(b, NULL, 10);
	}
	return -1;
}

static long long our_row(const struct du_result *r, const char *path)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->rows[i].path, path))
			return (long long)r->rows[i].bytes;
	return -1;
}

void test_usage_du_agrees_with_du(void)
{
	static const struct du_limits lim = { 10000, 100000, 64 };
	char top[] = "/tmp/nestd-du-XXXXXX", du[8192], err[256], p[512];
	struct du_result r;
	size_t i;

	CHECK(mkdtemp(top) != NULL);
	make_tree(top);
	CHECK(usage_du(top, &lim, &r, err, sizeof(err)) == 0);
	CHECK(r.complete && r.unreadable == 0 && r.skipped == 0);
	if (du_says(top, du, sizeof(du)) < 0) {
		SKIP("GNU du is not here to compare with");
	} else {
		static const char *const names[] = { "alpha", "beta", "empty" };

		for (i = 0; i < 3; i++) {
			sub(p, sizeof(p), top, names[i]);
			CHECK(our_row(&r, p) == du_row(du, p));
			if (our_row(&r, p) != du_row(du, p))
				fprintf(stderr, "  %s: ours %lld, du's %lld\n", p, our_row(&r, p),
					du_row(du, p));
		}
		CHECK(our_row(&r, top) == du_row(du, top));
		CHECK((long long)r.total == du_row(du, "total"));
		/* folders only, then DIR itself, as du prints them */
		CHECK(r.n == 4 && !strcmp(r.rows[r.n - 1].path, top));
	}
	usage_du_free(&r);
	/* a dir it cannot open at all */
	CHECK(usage_du("/nonexistent-nestd", &lim, &r, err, sizeof(err)) == -1 &&
	      strstr(err, "/nonexistent-nestd"));
	usage_du_free(&r);
	rm_tree(top);
}

void test_usage_du_bounds(void)
{
	struct du_limits lim = { 10000, 5, 64 };
	char top[] = "/tmp/nestd-du-XXXXXX", err[256], p[512];
	struct du_result r;
	int i;

	CHECK(mkdtemp(top) != NULL);
	make_tree(top);
	/* 5 entries, then it stops: what it counted, flagged */
	CHECK(usage_du(top, &lim, &r, err, sizeof(err)) == 0);
	CHECK(!r.complete && r.entries == 6 && r.n >= 1);
	CHECK(!strcmp(r.rows[r.n - 1].path, top) && r.rows[r.n - 1].bytes == r.total);
	usage_du_free(&r);
	/* deeper than the bound: not entered, counted by its own size */
	snprintf(p, sizeof(p), "%s/d", top);
	for (i = 0; i < 5; i++) {
		CHECK(mkdir(p, 0755) == 0);
		strcat(p, "/d");
	}
	lim.entries = 100000;
	lim.depth = 3;
	CHECK(usage_du(top, &lim, &r, err, sizeof(err)) == 0);
	CHECK(r.complete && r.skipped == 1);
	usage_du_free(&r);
	rm_tree(top);
}

/* A folder the walker may not read: noted, its own size counted, the rest
 * of the tree still walked.  As root that needs another uid. */
void test_usage_du_unreadable(void)
{
	static const struct du_limits lim = { 10000, 100000, 64 };
	char top[] = "/tmp/nestd-du-XXXXXX", err[256], p[512];
	struct du_result r;
	long long res[3] = { -1, -1, -1 };
	struct stat sb;
	int fd[2], st;
	pid_t pid;

	CHECK(mkdtemp(top) != NULL);
	CHECK(chmod(top, 0755) == 0);
	make_tree(top);
	sub(p, sizeof(p), top, "locked");
	CHECK(mkdir(p, 0755) == 0);
	put(p, "secret", "0123456789012345678901234567890123456789");
	CHECK(chmod(p, 0) == 0 && stat(p, &sb) == 0);
	CHECK(pipe(fd) == 0);
	pid = fork();
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(3);
		if (usage_du(top, &lim, &r, err, sizeof(err)) < 0)
			_exit(4);
		res[0] = r.unreadable;
		res[1] = our_row(&r, p);
		res[2] = r.complete;
		if (write(fd[1], res, sizeof(res)) != sizeof(res))
			_exit(5);
		_exit(0);
	}
	close(fd[1]);
	CHECK(read(fd[0], res, sizeof(res)) == sizeof(res));
	close(fd[0]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(res[0] == 1 && res[2] == 1);
	CHECK(res[1] == (long long)sb.st_size);      /* the folder itself, not its secret */
	rm_tree(top);
}

/* One reply payload parsed. */
static int payload_of(struct buf *b, struct json *j)
{
	char err[128];

	return json_parse(j, b->p, b->len, err, sizeof(err));
}

void test_usage_port(void)
{
	struct buf b;
	struct jw w;
	struct json j;
	char err[128], text[64];
	long long port = 0;
	struct sockaddr_in a;
	int s;

	buf_init(&b, 0);
	jw_init(&w, &b);
	CHECK(usage_write_port(1, NULL, 0, &w, err, sizeof(err)) == 0);
	CHECK(payload_of(&b, &j) == 0 && json_type(&j, 0) == JSON_STRING);
	json_strcpy(&j, 0, text, sizeof(text));
	CHECK(sscanf(text, "Port %lld is free to use!\n", &port) == 1 && port > 0 && port < 65536);
	CHECK(text[strlen(text) - 1] == '\n');
	json_free(&j);
	/* it is free: bind it */
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)port);
	CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	close(s);
	/* nestd's shape, with `nest get_port`'s text */
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(usage_write_port(0, "Port 4242 is free to use!\n", 26, &w, err, sizeof(err)) == 0);
	CHECK_STR(b.p, "{\"port\":4242,\"text\":\"Port 4242 is free to use!\\n\"}");
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(usage_write_port(0, "no port today\n", 14, &w, err, sizeof(err)) == 0);
	CHECK_STR(b.p, "{\"port\":null,\"text\":\"no port today\\n\"}");
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(usage_write_port(1, "Port 4242 is free to use!\n", 26, &w, err, sizeof(err)) == 0);
	CHECK_STR(b.p, "\"Port 4242 is free to use!\\n\"");
	buf_free(&b);
}

/* A working directory (the du tree) and a cgroup stand-in; the old
 * working directory into old. */
static void usage_fixture(char *top, char *cg, char *old, size_t oldn)
{
	CHECK(getcwd(old, oldn) != NULL);
	CHECK(mkdtemp(top) != NULL && mkdtemp(cg) != NULL);
	put(cg, "memory.current", "524288000\n");
	put(cg, "memory.max", "2147483648\n");
	put(cg, "pids.current", "7\n");
	make_tree(top);
	CHECK(chdir(top) == 0);
}

static void usage_fixture_end(const char *top, const char *cg, const char *old)
{
	CHECK(chdir(old) == 0);
	rm_tree(top);
	rm_tree(cg);
}

/* obtain_user_usages in a working directory: both shapes, the cgroup
 * stand-in's figures. */
void test_usage_write(void)
{
	char top[] = "/tmp/nestd-uw-XXXXXX", cg[] = "/tmp/nestd-cg-XXXXXX", old[4096];
	struct usage_opts o = { cg, NULL, 1 };
	struct buf b, res;
	struct jw w;
	struct json j;
	char err[256];
	long long v = 0;
	int st, n, e;

	usage_fixture(top, cg, old, sizeof(old));
	buf_init(&b, 0);
	buf_init(&res, 0);
	jw_init(&w, &b);
	CHECK(usage_write(&o, NULL, 0, &w, err, sizeof(err)) == 0);
	CHECK(payload_of(&b, &j) == 0);
	json_str(&j, json_get(&j, 0, "resources"), &res);
	CHECK(res.p && strstr(res.p, "Memory usage: 0.52 GB used out of 2.15 GB limit\n"));
	CHECK(res.p && strstr(res.p, "Processes: 7\n") && strstr(res.p, "Disk usage: "));
	st = json_get(&j, 0, "storage");
	n = json_count(&j, st);
	CHECK(n == 5);          /* alpha, beta, empty, DIR, total */
	e = json_elem(&j, st, n - 1);
	CHECK(json_type(&j, json_elem(&j, e, 0)) == JSON_STRING);   /* du's text */
	CHECK(json_str_eq(&j, json_elem(&j, e, 1), "total"));
	CHECK(json_get(&j, 0, "memory") < 0);     /* the original's shape has no numbers */
	json_free(&j);
	/* nestd's shape: numbers */
	o.original = 0;
	buf_reset(&b);
	jw_init(&w, &b);
	CHECK(usage_write(&o, "Disk usage: 1.25 GB\n", 20, &w, err, sizeof(err)) == 0);
	CHECK(payload_of(&b, &j) == 0);
	CHECK(json_str_eq(&j, json_get(&j, 0, "resources"), "Disk usage: 1.25 GB\n"));
	e = json_elem(&j, json_get(&j, 0, "storage"), 0);
	CHECK(json_type(&j, json_elem(&j, e, 0)) == JSON_NUMBER);
	CHECK(json_int(&j, json_get(&j, json_get(&j, 0, "memory"), "limit"), &v) == 0 &&
	      v == 2147483648LL);
	CHECK(json_int(&j, json_get(&j, json_get(&j, 0, "processes"), "count"), &v) == 0 && v == 7);
	json_free(&j);
	buf_free(&b);
	buf_free(&res);
	usage_fixture_end(top, cg, old);
}

/* 300 folders with long names: the original's rows stay under Slack's
 * 3,000 characters a section, the rest summed in one row and said so. */
void test_usage_write_rows_bounded(void)
{
	char top[] = "/tmp/nestd-uw-XXXXXX", cg[] = "/tmp/nestd-cg-XXXXXX", old[4096], p[512];
	struct usage_opts o = { cg, NULL, 1 };
	struct buf b, res;
	struct jw w;
	struct json j;
	char err[256];
	int st, i, n, e, more = 0, big = 0;
	size_t rowtext = 0, len;

	usage_fixture(top, cg, old, sizeof(old));
	for (i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "%s/a-folder-with-a-rather-long-name-number-%03d", top, i);
		CHECK(mkdir(p, 0755) == 0);
		if (i % 50 == 7) {   /* six large ones, which must be among the rows kept */
			static char blob[200000];
			FILE *f;

			snprintf(p + strlen(p), sizeof(p) - strlen(p), "/blob");
			f = fopen(p, "w");
			CHECK(f && fwrite(blob, 1, sizeof(blob), f) == sizeof(blob));
			if (f)
				fclose(f);
		}
	}
	buf_init(&b, 0);
	buf_init(&res, 0);
	jw_init(&w, &b);
	CHECK(usage_write(&o, NULL, 0, &w, err, sizeof(err)) == 0);
	CHECK(payload_of(&b, &j) == 0);
	st = json_get(&j, 0, "storage");
	n = json_count(&j, st);
	for (i = 0, e = st + 1; i < n; i++, e = json_next(&j, e)) {
		const char *name = json_raw(&j, json_elem(&j, e, 1), &len);

		more += name[0] == '(';
		const char *num = memmem(name, len, "number-", 7);

		big += num && atoi(num + 7) % 50 == 7;
		rowtext += len + 24;
	}
	CHECK(n < 303 && more == 1 && rowtext < 3000);
	CHECK(big >= 6);
	json_str(&j, json_get(&j, 0, "resources"), &res);
	CHECK(res.p && strstr(res.p, "smaller folders are summed in one row"));
	json_free(&j);
	buf_free(&b);
	buf_free(&res);
	usage_fixture_end(top, cg, old);
}
