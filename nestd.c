/* nestd.c - one binary, several roles: the subcommand picks the role.
 *
 *   nestd server   the bot's side (server.c, server_api.c)
 *   nestd agent    the protocol's client (agent.c, agent_*.c)
 *   nestd token    token file management (token_cmd.c, token_file.c, token.c)
 *   nestd ctl      the operator's command line (ctl.c, ctl_io.c, ctl_show.c)
 *   nestd slack    the Slack app's manifest (server_slack.c)
 *
 * Built with NESTD_AGENT_ONLY=1 (make static-agent: nestd-agent-static),
 * only the agent is dispatched; nothing else is referenced, so the linker
 * drops the server, the dashboard, the installer, ctl, slack and the token
 * tools (and BearSSL's server half) from the binary. */
#include <string.h>

#include "agent.h"
#include "config.h"
#include "ctl.h"
#include "fmt.h"
#include "server.h"
#include "help.h"
#include "out.h"
#include "server_nats.h"
#include "server_slack.h"
#include "tls.h"
#include "token.h"

#if NESTD_AGENT_ONLY
static const char usage[] =
	"usage: nestd agent --server URL [options]          connect and answer commands\n"
	"       nestd --version | --help | help agent\n"
	"\n"
	"nestd speaks the Nest Management Bot's WebSocket protocol.  This is the\n"
	"agent-only build: the server, ctl, slack and token tools are in the full nestd.\n";
#define put_usage(o) out_puts(o, usage)
#define BUILD_KIND ", agent only"
#else
/* nestd --help: HELP_TEXT(NESTD) in help_text.h */
#define put_usage(o) help_print(HELP_NESTD, o)
#define BUILD_KIND ""
#endif

/* Build facts for --version: TLS, and whether servers can form a fleet
 * (the agent-only build has no server, so nothing to say about a fleet). */
static void build_features(char *out, size_t n)
{
	const char *tls = tls_available() ? "TLS: yes (BearSSL)" : "TLS: no";

#if NESTD_AGENT_ONLY
	fmt_snprintf(out, n, "(%s)", tls);
#else
	fmt_snprintf(out, n, "(%s) (clustering: %s%s)", tls,
		 nats_available() ? "yes, NATS through " : "no", nats_version());
#endif
}

static int dispatch(const char *cmd, int argc, char **argv)
{
	if (strcmp(cmd, "agent") == 0)
		return agent_main(argc, argv);
#if NESTD_AGENT_ONLY
	if (strcmp(cmd, "server") == 0 || strcmp(cmd, "token") == 0 || strcmp(cmd, "ctl") == 0 ||
	    strcmp(cmd, "slack") == 0) {
		out_printf(&out_stderr, "nestd: '%s' is not in this agent-only build; "
			"the full nestd binary has it\n", cmd);
		return 2;
	}
#else
	if (strcmp(cmd, "server") == 0)
		return server_main(argc, argv);
	if (strcmp(cmd, "token") == 0)
		return token_main(argc, argv);
	if (strcmp(cmd, "ctl") == 0)
		return ctl_main(argc, argv);
	if (strcmp(cmd, "slack") == 0)
		return slack_main(argc, argv);
#endif
	out_printf(&out_stderr, "nestd: unknown subcommand '%s'\nTry 'nestd --help'.\n", cmd);
	return 2;
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		put_usage(&out_stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		char features[160];

		build_features(features, sizeof(features));
		out_print("nestd %s %s%s\n", NESTD_VERSION, features, BUILD_KIND);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		put_usage(&out_stdout);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		char *hargv[] = { argv[2], "--help", NULL };

		if (argc < 3) {
			put_usage(&out_stdout);
			return 0;
		}
		return dispatch(argv[2], 2, hargv);
	}
	return dispatch(argv[1], argc - 1, argv + 1);
}

/* What is still in out_stdout goes out here, as stdio's did at exit: every
 * role returns through main (none calls exit), so this is the one place. */
int main(int argc, char **argv)
{
	int rc = run(argc, argv);

	out_flush(&out_stdout);
	return rc;
}
