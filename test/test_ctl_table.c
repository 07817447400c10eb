/* test_ctl_table.c - nestd ctl's output for people, as golden text: ps,
 * proc, sysinfo and clients against fixed agent and server replies at 80
 * columns (UTC, a fixed "now"), the command line cut to the width, units,
 * local times and ages, sorting and --user, colour only when asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../buf.h"
#include "../ctl_show.h"
#include "../ctl_table.h"
#include "../json.h"
#include "../out.h"
#include "t.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

#define NOW 1796119200LL     /* 2026-12-01 10:00:00 UTC */

static const char ps_reply[] =
	"[{\"pid\":1,\"ppid\":0,\"name\":\"systemd\",\"user\":\"root\",\"uid\":0,\"state\":\"sleeping\","
	"\"rss\":14680064,\"cpu_usage\":0.1,\"started\":1796090400.5,\"cmdline\":\"/sbin/init splash\"},"
	"{\"pid\":812,\"ppid\":1,\"name\":\"nginx\",\"user\":\"www-data\",\"uid\":33,\"state\":\"running\","
	"\"rss\":5361664,\"cpu_usage\":12.5,\"started\":1795900000,\"cmdline\":\"nginx: worker process "
	"--with a very long command line that cannot fit in eighty columns at all\"},"
	"{\"pid\":2,\"ppid\":0,\"name\":\"kthreadd\",\"user\":\"root\",\"uid\":0,\"state\":\"sleeping\","
	"\"rss\":0,\"cpu_usage\":0.0,\"started\":1796090400,\"cmdline\":\"\"},"
	"{\"pid\":4242,\"name\":\"orig\"}]";

/* What f printed, run with the view at 80 columns. */
static int test_width = 80;

static char *shown(int (*fn)(const struct json *, int, int), const char *reply)
{
	struct json j;
	struct buf b;
	struct out o;

	const char *sort = ctl_view.sort, *user = ctl_view.user;
	int color = ctl_view.color;

	setenv("TZ", "UTC0", 1);
	tzset();
	memset(&ctl_view, 0, sizeof(ctl_view));
	ctl_view.sort = sort;
	ctl_view.user = user;
	ctl_view.color = color;
	buf_init(&b, 0);
	buf_append(&b, "", 0);
	out_init_mem(&o, &b);
	ctl_view.out = &o;
	ctl_view.width = test_width;
	ctl_view.headers = 1;
	ctl_view.now = NOW;
	if (json_parse(&j, reply, strlen(reply), NULL, 0) == 0) {
		fn(&j, 0, 0);
		json_free(&j);
	}
	ctl_view.out = NULL;
	return buf_steal(&b);
}

static void golden(int (*fn)(const struct json *, int, int), const char *reply, const char *want)
{
	char *got = shown(fn, reply);

	CHECK_STR(got, want);
	free(got);
}

void test_ctl_table_ps(void)
{
	golden(ctl_show_ps, ps_reply,
	       " PID PPID USER     STATE    CPU%     RSS START  COMMAND\n"
	       "   1    0 root     sleeping  0.1  14 MiB 02:00  /sbin/init splash\n"
	       "   2    0 root     sleeping  0.0     0 B 02:00  [kthreadd]\n"
	       " 812    1 www-data running  12.5 5.1 MiB Nov 28 nginx: worker process --with a v\n"
	       "4242    - -        -           -       - -      orig\n");
	ctl_view.sort = "cpu";
	golden(ctl_show_ps, ps_reply,
	       " PID PPID USER     STATE    CPU%     RSS START  COMMAND\n"
	       " 812    1 www-data running  12.5 5.1 MiB Nov 28 nginx: worker process --with a v\n"
	       "   1    0 root     sleeping  0.1  14 MiB 02:00  /sbin/init splash\n"
	       "   2    0 root     sleeping  0.0     0 B 02:00  [kthreadd]\n"
	       "4242    - -        -           -       - -      orig\n");
	ctl_view.sort = "-pid";
	ctl_view.user = "root";
	golden(ctl_show_ps, ps_reply,
	       "PID PPID USER STATE    CPU%    RSS START COMMAND\n"
	       "  2    0 root sleeping  0.0    0 B 02:00 [kthreadd]\n"
	       "  1    0 root sleeping  0.1 14 MiB 02:00 /sbin/init splash\n");
	ctl_view.sort = ctl_view.user = NULL;
	CHECK(ctl_show_sort_key("bogus") == -1 && ctl_show_sort_key("-rss") == 0);
}

/* A terminal a little wider than the other columns: the command line gets
 * the few characters left, and no line is wider than the terminal. */
void test_ctl_table_narrow(void)
{
	char *got, *line, *save = NULL;
	size_t widest = 0;

	test_width = 55;
	got = shown(ctl_show_ps, ps_reply);
	test_width = 80;
	CHECK(got && strstr(got, "   1    0 root     sleeping  0.1  14 MiB 02:00  /sbin/i\n") != NULL);
	for (line = strtok_r(got, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strlen(line) > widest)
			widest = strlen(line);
	CHECK(widest == 55);
	free(got);
}

static const char clients_reply[] =
	"[{\"name\":\"web1\",\"online\":true,\"owner\":null,\"version\":\"0.1.0\",\"hostname\":\"web1.example.org\","
	"\"address\":\"10.0.0.7:51544\",\"connected_since\":1796116560,\"inflight\":0,\"services\":\"systemd\"},"
	"{\"name\":\"db-2\",\"online\":false,\"owner\":\"alice\",\"version\":\"0.1.0\",\"hostname\":\"db2\","
	"\"address\":null,\"connected_since\":null,\"inflight\":0,\"services\":\"openrc\",\"last_seen\":1796032800}]";

void test_ctl_table_clients(void)
{
	golden(ctl_show_clients, clients_reply,
	       "NAME STATE   HOST             VERSION SINCE       ADDRESS\n"
	       "web1 online  web1.example.org 0.1.0   up 44 min   10.0.0.7:51544\n"
	       "db-2 offline db2              0.1.0   1 d 0 h ago -\n");
	ctl_view.color = 1;
	golden(ctl_show_clients, clients_reply,
	       "NAME STATE   HOST             VERSION SINCE       ADDRESS\n"
	       "web1 \033[32monline\033[0m  web1.example.org 0.1.0   up 44 min   10.0.0.7:51544\n"
	       "db-2 \033[31moffline\033[0m db2              0.1.0   1 d 0 h ago -\n");
	ctl_view.color = 0;
}

void test_ctl_table_sysinfo(void)
{
	golden(ctl_show_kv, "{\"hostname\":\"vm\",\"uptime\":2670,\"load\":[1.36,1.97,1.43],\"cpu\":{\"cores\":2},"
	       "\"memory\":{\"total\":25276510208,\"available\":24254717952,\"used\":1021792256},"
	       "\"disk\":{\"path\":\"/\",\"total\":270553174016,\"used\":18588725248}}",
	       "hostname               vm\n"
	       "uptime                 44 min\n"
	       "load                   1.36 1.97 1.43\n"
	       "cpu.cores              2\n"
	       "memory.total           24 GiB\n"
	       "memory.available       23 GiB\n"
	       "memory.used            974 MiB\n"
	       "disk.path              /\n"
	       "disk.total             252 GiB\n"
	       "disk.used              17 GiB\n");
}

void test_ctl_table_proc(void)
{
	golden(ctl_show_kv, "{\"pid\":15780,\"name\":\"sleep\",\"cpu_usage\":0.0,\"cpu_time\":{\"user\":0.01,"
	       "\"system\":0.02},\"status\":\"sleeping\",\"memory\":{\"rss\":1736704,\"vms\":2990080,\"swap\":0},"
	       "\"started\":1796109395.99,\"cmdline\":\"sleep 1000\",\"safe_kill\":true}",
	       "pid                    15780\n"
	       "name                   sleep\n"
	       "cpu_usage              0.0 %\n"
	       "cpu_time.user          0.01 s\n"
	       "cpu_time.system        0.02 s\n"
	       "status                 sleeping\n"
	       "memory.rss             1.7 MiB\n"
	       "memory.vms             2.9 MiB\n"
	       "memory.swap            0 B\n"
	       "started                2026-12-01 07:16:35 (2 h 43 min ago)\n"
	       "cmdline                sleep 1000\n"
	       "safe_kill              true\n");
}

void test_ctl_table_actions(void)
{
	golden(ctl_show_kv, "[]", "[]\n");
}
