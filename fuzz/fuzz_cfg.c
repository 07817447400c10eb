/* fuzz_cfg.c - libFuzzer target for the option reader (cfg.c) through the
 * real option tables: `key = value` config files (agent and server) and
 * command lines (one argument per NUL-separated piece).
 *
 * The first byte picks the way in: even, the rest is a config file (in a
 * memfd, read through its /proc/self/fd path as any file would be); odd,
 * the rest is an argument vector.  Checks: every parse ends with a verdict
 * and, when refused, a NUL-terminated one-line reason; the number readers
 * agree with what they accept (seconds in range, byte counts under 1 TiB,
 * booleans 0 or 1); nothing leaks (the options are freed every time). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent_opts.h"
#include "cfg.h"
#include "log.h"
#include "server_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64

static void reason_ok(const char *err, size_t cap)
{
	if (!memchr(err, '\0', cap))
		abort();
}

/* The shared number readers on one value, as every setter calls them. */
static void numbers(const char *v)
{
	long long ms;
	unsigned long long b;
	int t;

	if (cfg_parse_seconds(v, &ms) == 0 && (ms < 0 || ms > 1000000000000LL))
		abort();
	if (cfg_parse_bytes(v, &b) == 0 && b > (1ull << 40))
		abort();
	if (cfg_parse_bool(v, &t) == 0 && t != 0 && t != 1)
		abort();
}

static void both_roles(int argc, char **argv)
{
	struct agent_opts ao;
	struct server_opts so;
	char err[1024];
	int rc;

	memset(err, 0x5a, sizeof(err));
	rc = agent_opts_parse(&ao, argc, argv, err, sizeof(err));
	if (rc < AGENT_OPTS_USAGE || rc > AGENT_OPTS_HELP)
		abort();
	if (rc < 0)
		reason_ok(err, sizeof(err));
	agent_opts_free(&ao);
	memset(err, 0x5a, sizeof(err));
	if (server_opts_parse(&so, argc, argv, err, sizeof(err)) == SERVER_OPTS_BAD)
		reason_ok(err, sizeof(err));
	else if (server_opts_validate(&so, err, sizeof(err)) < 0)
		reason_ok(err, sizeof(err));
	log_set_level("error");      /* the input's --log-level, undone */
}

static void from_file(const uint8_t *data, size_t size)
{
	char path[64], *argv[3];
	int fd = memfd_create("fuzz_cfg", MFD_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		argv[0] = "--config";
		argv[1] = path;
		argv[2] = NULL;
		both_roles(2, argv);
	}
	close(fd);
}

static void from_args(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 1], *p;
	int argc = 0;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (p = copy; argc < MAX_ARGS && p <= copy + size; p += strlen(p) + 1) {
		numbers(p);
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	both_roles(argc, argv);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* --log-level from the input takes effect at once; the logs of
	 * refused options would drown the fuzzer's own output. */
	log_set_level("error");
	/* no token from the environment: the parse goes as deep as a
	 * token file named in the input lets it */
	unsetenv("NESTD_TOKEN");
	unsetenv("CLIENT_TOKEN");
	unsetenv("NESTD_TOKEN_FILE");
	unsetenv("NESTD_SERVER");
	if (size < 1)
		return 0;
	if (data[0] & 1)
		from_args(data + 1, size - 1);
	else
		from_file(data + 1, size - 1);
	return 0;
}
