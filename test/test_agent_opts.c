/* test_agent_opts.c - `nestd agent`'s options: defaults, the config file
 * under the flags, the environment under both, the record owning its
 * strings (the file's line buffer is gone when parsing returns), the
 * token's sources and checks, and each kind of refusal with its code. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../agent_opts.h"
#include "../log.h"
#include "t.h"

/* Test functions are found by the Makefile, not declared in a header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* The seed document's token: valid form and checksum. */
#define GOOD_TOKEN "e70f344347c59f6619489ee2b11c453dc9c25b2e33ddc532c73ebbc0b2b4684f.ddc69770"

static const char *const env_names[] = {
	"NESTD_TOKEN", "CLIENT_TOKEN", "NESTD_TOKEN_FILE", "NESTD_SERVER", "DEV", "WS_URL", NULL
};

/* No token or server from the environment, and a HOME without the
 * original client's ~/.env.nest-management-bot (never the machine's). */
static void env_clear(void)
{
	int i;

	for (i = 0; env_names[i]; i++)
		unsetenv(env_names[i]);
	setenv("HOME", "/nonexistent-nestd-test-home", 1);
}

/* Parses "agent" + the NULL-terminated words. */
static int parse_words(struct agent_opts *o, char *err, size_t errlen, const char **words)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = "agent";
	while (*words && argc < 31)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	return agent_opts_parse(o, argc, argv, err, errlen);
}

#define PARSE(o, err, ...) parse_words((o), (err), sizeof(err), \
				       (const char *[]){ __VA_ARGS__, NULL })
#define PARSE0(o, err) parse_words((o), (err), sizeof(err), (const char *[]){ NULL })

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	if (fd >= 0)
		close(fd);
	chmod(path, mode);
}

void test_agent_opts_defaults(void)
{
	struct agent_opts o;
	char err[256], host[65] = "";

	env_clear();
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	CHECK(PARSE(&o, err, "--server", "ws://127.0.0.1:9/x") == AGENT_OPTS_RUN);
	CHECK_STR(o.server, "ws://127.0.0.1:9/x");
	CHECK_STR(o.url.host, "127.0.0.1");
	CHECK_STR(o.url.path, "/x");
	CHECK_STR(o.token, GOOD_TOKEN);
	CHECK(getenv("NESTD_TOKEN") == NULL);          /* no child will see it */
	gethostname(host, sizeof(host) - 1);
	CHECK_STR(o.hostname, host);
	CHECK(o.reconnect_min_ms == 1000 && o.reconnect_max_ms == 60000);
	CHECK(o.ping_ms == 20000 && !o.once && !o.insecure);
	CHECK(o.ca_file == NULL && o.pin == NULL);
	CHECK(o.cmd.services == SVC_AUTO && o.cmd.exec_timeout_s == 60);
	CHECK(o.cmd.max_output == 1u << 20 && o.cmd.max_exec == 4);
	CHECK(o.cmd.allow == NULL && o.cmd.deny == NULL && o.cmd.systemctl == NULL);
	CHECK(o.compat == COMPAT_AUTO && o.cmd.proc_root == NULL && o.cmd.cgroup == NULL);
	CHECK_STR(o.version, "0.1.0");
	agent_opts_free(&o);
	CHECK(o.token[0] == '\0' && o.server == NULL);
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	CHECK(PARSE(&o, err, "--server", "unix:/x", "--compat", "original", "--protocol-version",
		    "1.0.0", "--proc-root", "/host/proc", "--cgroup", "/sys/fs/cgroup/x") ==
	      AGENT_OPTS_RUN);
	CHECK(o.compat == COMPAT_ORIGINAL);
	CHECK_STR(o.version, "1.0.0");
	agent_opts_free(&o);
	/* in a config file, as protocol_version (or protocol-version) */
	{
		char conf[] = "/tmp/nestd-opts-conf-XXXXXX";
		int fd = mkstemp(conf);

		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
		write_file(conf, "server = unix:/x\nprotocol_version = 1.0.0\ncompat = nestd\n", 0600);
		setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
		CHECK(PARSE(&o, err, "--config", conf) == AGENT_OPTS_RUN);
		CHECK_STR(o.version, "1.0.0");
		CHECK(o.compat == COMPAT_NESTD);
		agent_opts_free(&o);
		unlink(conf);
	}
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	CHECK(PARSE(&o, err, "--server", "unix:/x", "--compat", "original", "--protocol-version",
		    "1.0.0", "--proc-root", "/host/proc", "--cgroup", "/sys/fs/cgroup/x") ==
	      AGENT_OPTS_RUN);
	CHECK_STR(o.cmd.proc_root, "/host/proc");
	CHECK_STR(o.cmd.cgroup, "/sys/fs/cgroup/x");
	agent_opts_free(&o);
}

/* Nothing but the original client's files: ~/.env.nest-management-bot's
 * CLIENT_TOKEN, and the server the original would have dialled (WS_URL
 * when DEV=true, else its Unix socket).  The environment wins over the
 * file, as python-dotenv never overrides it; options win over both. */
void test_agent_opts_original_files(void)
{
	char dir[] = "/tmp/nestd-opts-XXXXXX", env[64];
	struct agent_opts o;
	char err[256];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(env, sizeof(env), "%s/.env.nest-management-bot", dir);
	env_clear();
	setenv("HOME", dir, 1);
	/* no file at all: a token is still needed, the socket is the default */
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	CHECK(PARSE(&o, err, "--once") == AGENT_OPTS_RUN);
	CHECK_STR(o.server, "unix:/var/community/nest-management-bot.sock");
	CHECK_STR(o.url.unix_path, "/var/community/nest-management-bot.sock");
	agent_opts_free(&o);
	write_file(env, "# the original's\nCLIENT_TOKEN=\"" GOOD_TOKEN "\"\nDEV=true\n"
		   "WS_URL=ws://127.0.0.1:8989\n", 0600);
	CHECK(PARSE(&o, err, "--once") == AGENT_OPTS_RUN);
	CHECK_STR(o.token, GOOD_TOKEN);
	CHECK_STR(o.server, "ws://127.0.0.1:8989");
	agent_opts_free(&o);
	/* the environment's DEV over the file's; --server over both */
	setenv("DEV", "false", 1);
	CHECK(PARSE0(&o, err) == AGENT_OPTS_RUN);
	CHECK_STR(o.server, "unix:/var/community/nest-management-bot.sock");
	agent_opts_free(&o);
	unsetenv("DEV");
	CHECK(PARSE(&o, err, "--server", "ws://other:1/") == AGENT_OPTS_RUN);
	CHECK_STR(o.server, "ws://other:1/");
	agent_opts_free(&o);
	/* left 0644 by the original's setup: read (with a warning), so the
	 * drop-in works; a --token-file so loose is still refused */
	write_file(env, "export CLIENT_TOKEN='" GOOD_TOKEN "'  \n", 0644);
	CHECK(PARSE0(&o, err) == AGENT_OPTS_RUN);
	CHECK_STR(o.token, GOOD_TOKEN);
	agent_opts_free(&o);
	CHECK(PARSE(&o, err, "--token-file", env) == AGENT_OPTS_USAGE);
	agent_opts_free(&o);
	chmod(env, 0600);
	CHECK(PARSE(&o, err, "--token-file", env) == AGENT_OPTS_RUN);
	CHECK_STR(o.token, GOOD_TOKEN);
	agent_opts_free(&o);
	/* without CLIENT_TOKEN it gives none */
	write_file(env, "DEV=true\n", 0600);
	CHECK(PARSE0(&o, err) == AGENT_OPTS_USAGE);
	agent_opts_free(&o);
	unlink(env);
	rmdir(dir);
	env_clear();
}

void test_agent_opts_file_flags_env(void)
{
	char dir[] = "/tmp/nestd-opts-XXXXXX", conf[64], tf[64];
	struct agent_opts o;
	char err[256];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	snprintf(tf, sizeof(tf), "%s/token", dir);
	write_file(tf, GOOD_TOKEN "\n", 0600);
	write_file(conf, "# the agent\n"
		   "server = ws://file.example:1/\n"
		   "allow = \"read, exec\"\n"
		   "systemctl = /opt/bin/systemctl\n"
		   "services = openrc\n"
		   "reconnect-min = 0.25\n"
		   "once = yes\n"
		   "insecure = no\n"
		   "max-output = 2M\n"
		   "hostname = from-the-file\n", 0644);
	env_clear();
	setenv("NESTD_SERVER", "ws://env.example:1/", 1);
	setenv("NESTD_TOKEN_FILE", tf, 1);
	CHECK(PARSE(&o, err, "--config", conf, "--allow=process", "--max-exec", "9",
		    "--exec-timeout", "2.5", "--ping-interval", "0") == AGENT_OPTS_RUN);
	/* the file over the environment, the flags over the file */
	CHECK_STR(o.server, "ws://file.example:1/");
	CHECK_STR(o.cmd.allow, "process");
	/* the file's values outlive its line buffer: o owns copies */
	CHECK_STR(o.cmd.systemctl, "/opt/bin/systemctl");
	CHECK_STR(o.hostname, "from-the-file");
	CHECK(o.cmd.services == SVC_OPENRC);
	CHECK(o.reconnect_min_ms == 250 && o.once == 1 && o.insecure == 0);
	CHECK(o.cmd.max_output == 2u << 20 && o.cmd.max_exec == 9);
	CHECK(o.cmd.exec_timeout_s == 2 && o.ping_ms == 0);
	CHECK_STR(o.token, GOOD_TOKEN);                 /* from $NESTD_TOKEN_FILE */
	agent_opts_free(&o);

	/* the environment when nothing else says */
	setenv("CLIENT_TOKEN", GOOD_TOKEN, 1);
	CHECK(PARSE(&o, err, "--once") == AGENT_OPTS_RUN);
	CHECK_STR(o.server, "ws://env.example:1/");
	CHECK(getenv("CLIENT_TOKEN") == NULL);
	agent_opts_free(&o);
	/* --token-file over the environment's token */
	setenv("NESTD_TOKEN", "not a token", 1);
	CHECK(PARSE(&o, err, "--token-file", tf) == AGENT_OPTS_RUN);
	CHECK_STR(o.token, GOOD_TOKEN);
	agent_opts_free(&o);
	unlink(conf);
	unlink(tf);
	rmdir(dir);
	env_clear();
}

/* code and message of one refusal */
static void refused(int rc, int want_rc, const char *err, const char *want)
{
	CHECK(rc == want_rc);
	if (!strstr(err, want)) {
		t_failed++;
		fprintf(stderr, "FAIL agent_opts: '%s' does not say '%s'\n", err, want);
	} else {
		t_passed++;
	}
}

void test_agent_opts_refusals(void)
{
	char dir[] = "/tmp/nestd-opts-XXXXXX", conf[64], tf[64];
	struct agent_opts o;
	char err[256];
	int rc;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	snprintf(tf, sizeof(tf), "%s/token", dir);
	env_clear();
	rc = PARSE(&o, err, "--server", "ws://127.0.0.1:9/");
	refused(rc, AGENT_OPTS_USAGE, err, "no token: use --token-file FILE");
	refused(rc, AGENT_OPTS_USAGE, err, "or ~/.env.nest-management-bot");
	agent_opts_free(&o);
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	rc = PARSE(&o, err, "--server", "http://127.0.0.1:9/");
	refused(rc, AGENT_OPTS_USAGE, err, "--server wants ws://, wss:// or unix:PATH");
	agent_opts_free(&o);
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	rc = PARSE(&o, err, "--server", "ws://h:1/", "--reconnect-min", "5", "--reconnect-max", "1");
	refused(rc, AGENT_OPTS_BAD, err, "--reconnect-min is larger than --reconnect-max");
	agent_opts_free(&o);
	setenv("NESTD_TOKEN", GOOD_TOKEN "0", 1);
	rc = PARSE(&o, err, "--server", "ws://h:1/");
	refused(rc, AGENT_OPTS_BAD, err, "not in the nestd format");
	agent_opts_free(&o);
	setenv("NESTD_TOKEN", "e70f344347c59f6619489ee2b11c453dc9c25b2e33ddc532c73ebbc0b2b4684f.ddc69771", 1);
	rc = PARSE(&o, err, "--server", "ws://h:1/");
	refused(rc, AGENT_OPTS_BAD, err, "checksum does not match");
	agent_opts_free(&o);
	/* a token file others may read is refused */
	write_file(tf, GOOD_TOKEN "\n", 0644);
	rc = PARSE(&o, err, "--server", "ws://h:1/", "--token-file", tf);
	refused(rc, AGENT_OPTS_USAGE, err, "readable by others");
	agent_opts_free(&o);
	unlink(tf);
	rmdir(dir);
	env_clear();
}

void test_agent_opts_refusals_flags(void)
{
	static const struct { const char *flag, *value, *want; } flags[] = {
		{ "--max-exec", "0", "--max-exec wants 1..256" },
		{ "--max-exec", "3x", "--max-exec wants 1..256" },
		{ "--services", "upstart", "--services takes auto, systemd" },
		{ "--max-output", "10", "--max-output wants 1K..256M bytes" },
		{ "--exec-timeout", "0.5", "--exec-timeout wants 1..86400 seconds" },
		{ "--reconnect-max", "0.001", "bad number of seconds '0.001'" },
		{ "--ping-interval", "-1", "bad --ping-interval '-1'" },
		{ "--frobnicate", NULL, "unknown option '--frobnicate'" },
		{ "--once=yes", NULL, "takes no value" },
		{ "--server", NULL, "option '--server' needs a value" },
		{ "--compat", "psutil", "--compat takes auto, original or nestd" },
		{ "--protocol-version", "", "--protocol-version wants 1 to 32 printable" },
		{ "--protocol-version", "1.0 beta", "--protocol-version wants 1 to 32 printable" },
		{ "--protocol-version", "123456789012345678901234567890123", "wants 1 to 32" },
		{ "--proc-root", NULL, "option '--proc-root' needs a value" },
	};
	char dir[] = "/tmp/nestd-opts-XXXXXX", conf[64];
	struct agent_opts o;
	char err[256];
	size_t i;
	int rc;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(conf, sizeof(conf), "%s/agent.conf", dir);
	env_clear();
	/* flags: each setter's own words */
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		const char *words[] = { flags[i].flag, flags[i].value, NULL };

		rc = parse_words(&o, err, sizeof(err), words);
		refused(rc, AGENT_OPTS_USAGE, err, flags[i].want);
		agent_opts_free(&o);
	}
	CHECK(PARSE(&o, err, "--bogus-but-after-help", "--help") == AGENT_OPTS_USAGE);
	agent_opts_free(&o);
	CHECK(PARSE(&o, err, "--help") == AGENT_OPTS_HELP);
	agent_opts_free(&o);
	/* the config file: a key it may not hold, and a bad value with its line */
	write_file(conf, "config = /etc/other\n", 0644);
	rc = PARSE(&o, err, "--config", conf);
	refused(rc, AGENT_OPTS_BAD, err, ":1: unknown key 'config'");
	agent_opts_free(&o);
	write_file(conf, "once = yes\n\nmax-exec = lots\n", 0644);
	rc = PARSE(&o, err, "--config", conf);
	refused(rc, AGENT_OPTS_BAD, err, ":3: --max-exec wants 1..256");
	agent_opts_free(&o);
	/* a bad --log-level is refused; the process's level is left alone */
	{
		enum log_level before = log_threshold;

		rc = PARSE(&o, err, "--log-level", "loud");
		refused(rc, AGENT_OPTS_USAGE, err, "bad --log-level 'loud'");
		CHECK(log_threshold == before);
		agent_opts_free(&o);
	}
	unlink(conf);
	rmdir(dir);
	env_clear();
}

/* Several servers: --server repeated, commas, the environment under the
 * flags; each URL parsed and checked. */
void test_agent_opts_servers(void)
{
	struct agent_opts o;
	char err[512];
	int rc;

	env_clear();
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	rc = PARSE(&o, err, "--server", "ws://a:1/", "--server", "ws://b:2/x,unix:/tmp/c.sock");
	CHECK(rc == AGENT_OPTS_RUN && o.nservers == 3);
	if (rc == AGENT_OPTS_RUN && o.nservers == 3) {
		CHECK_STR(o.servers[0], "ws://a:1/");
		CHECK_STR(o.urls[1].host, "b");
		CHECK_STR(o.urls[1].path, "/x");
		CHECK(o.urls[2].scheme == URL_UNIX);
		CHECK_STR(o.url.host, "a");                 /* the first, for what wants one */
	}
	agent_opts_free(&o);
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	setenv("NESTD_SERVER", "ws://env1/,ws://env2/", 1);
	rc = PARSE(&o, err, "--once");
	CHECK(rc == AGENT_OPTS_RUN && o.nservers == 2);
	agent_opts_free(&o);
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	rc = PARSE(&o, err, "--server", "ws://flag/");     /* the flags replace the environment's */
	CHECK(rc == AGENT_OPTS_RUN && o.nservers == 1 && !strcmp(o.url.host, "flag"));
	agent_opts_free(&o);
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	rc = PARSE(&o, err, "--server", "ws://a/,,ws://b/");
	CHECK(rc == AGENT_OPTS_USAGE && strstr(err, "empty URL"));
	agent_opts_free(&o);
	setenv("NESTD_TOKEN", GOOD_TOKEN, 1);
	rc = PARSE(&o, err, "--server", "ws://a/", "--server", "http://b/");
	CHECK(rc == AGENT_OPTS_USAGE && strstr(err, "ws://"));
	agent_opts_free(&o);
	env_clear();
}
