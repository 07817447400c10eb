#!/usr/bin/python3
"""it_openrc.py - the agent's service commands against real OpenRC 0.45
(Debian 12's openrc package) booted in a container: sysvinit's /sbin/init
as PID 1 runs OpenRC's runlevels through Debian's inittab, as a Debian
machine that chose OpenRC boots.  Driven through a nestd server on the host
and its HTTP API.

  make test-openrc             (root; test/systemd/setup.sh builds the root)
  NESTD=./nestd /usr/bin/python3 test/systemd/it_openrc.py [test_NAME...]

OpenRC's own tools are the truth: rc-status --servicelist for the list,
rc-service NAME status and the pid files for obtain_service_info.  Covers
start/stop/restart/reload and their real error texts, a service that fails
to start, the description and pid (start-stop-daemon's pidfile and
supervise-daemon's child) the replies carry, and install.sh's OpenRC
script: started, respawned by supervise-daemon after a kill -9, and gone
without a trace after --uninstall.
"""
import os
import re
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from nestlib import NESTD, T, Server, check, path, token_new, wait_until  # noqa: E402
from nspawn import Agent, Api, Container, err_of, ok, run_tests, tarball  # noqa: E402

S = types.SimpleNamespace(c=None)
BIN = "/opt/nestd-test/nestd"
TOP = os.path.dirname(os.path.dirname(HERE))
AGENTS = ("orc", "orc-inst", "orc-orig")

# A daemon that counts SIGHUPs (its reload) in /run/nt-loop.reloads.
LOOP = """#!/bin/sh
trap 'echo reload >> /run/nt-loop.reloads' HUP
while :; do sleep 1 & wait; done
"""

SCRIPTS = {
    "nt-daemon": """#!/sbin/openrc-run
description="nestd test: a daemon with a pidfile"
command=/bin/sh
command_args=/usr/local/bin/nt-loop
command_background=yes
pidfile=/run/nt-daemon.pid
extra_started_commands="reload"
reload() {
	ebegin "Reloading $RC_SVCNAME"
	kill -HUP "$(cat "$pidfile")"
	eend $?
}
""",
    "nt-super": """#!/sbin/openrc-run
description='nestd test: supervised'
supervisor=supervise-daemon
command=/bin/sleep
command_args=infinity
""",
    "nt-fail": """#!/sbin/openrc-run
description="nestd test: fails to start"
start() {
	ebegin "Starting $RC_SVCNAME"
	eerror "nt-fail: configuration is broken"
	eend 1
}
""",
    "nt-slow": """#!/sbin/openrc-run
description="nestd test: takes 3 s to start"
start() {
	ebegin "Starting $RC_SVCNAME"
	sleep 3
	eend 0
}
""",
    "nt-nodesc": """#!/sbin/openrc-run
command=/bin/sleep
command_args=infinity
command_background=yes
pidfile=/run/nt-nodesc.pid
""",
}


def rcs(*args, timeout=60):
    rc, out, err = S.c.run(["rc-service"] + list(args), timeout=timeout)
    return rc, out.strip(), err.strip()


def status(name):
    rc, out, err = rcs(name, "status")
    m = re.search(r"status: (\w+)", out + "\n" + err)
    return m.group(1) if m else (out + " " + err).strip()


def cat(p):
    rc, out, err = S.c.run(["cat", p])
    return out.strip() if rc == 0 else None


def ask(message, payload=None, agent="orc", timeout=60):
    return S.api.ask(agent, message, payload, timeout)


def svc(action, name, agent="orc"):
    return ask(action + "_service", {"service_name": name}, agent)


def info(name, agent="orc"):
    return ask("obtain_service_info", {"service_name": name}, agent)


def setup():
    if os.geteuid() != 0:
        raise RuntimeError("it_openrc.py needs root (containers)")
    t0 = time.monotonic()
    tar = tarball("openrc")
    S.c = Container("openrc", "nestd-orc-%d" % os.getpid(), path("container.log"))
    S.c.unpack(tar)
    # no ttys in a container: the gettys would only respawn and fail
    with open(S.c.path("/etc/inittab")) as f:
        tab = [l for l in f if not re.match(r"^[0-9]+:[0-9]+:respawn:/sbin/getty", l)]
    S.c.write("/etc/inittab", "".join(tab))
    S.c.write("/usr/local/bin/nt-loop", LOOP, 0o755)
    for name, text in SCRIPTS.items():
        S.c.write("/etc/init.d/" + name, text, 0o755)
    S.c.install_nestd(NESTD, BIN)
    t1 = time.monotonic()
    S.c.boot()
    up = wait_until(lambda: S.c.run(["rc-status", "--runlevel"])[1].strip() == "default" and
                    S.c.run(["test", "-e", "/run/openrc/softlevel"])[0] == 0, 60, 0.1)
    print("# root unpacked in %.1f s, OpenRC in its default runlevel after %.1f s" %
          (t1 - t0, time.monotonic() - t1))
    rc, out, err = S.c.run(["openrc", "--version"])
    check(up and "0.45" in out, "OpenRC 0.45 runs its default runlevel (sysvinit PID 1)", (out, S.c.text()[-800:]))
    S.tokens = path("tokens")
    S.op = token_new(S.tokens, "oscar", "operator")
    S.tok = {n: token_new(S.tokens, n) for n in AGENTS}
    S.srv = Server(S.tokens, ["--command-timeout", "30"])
    S.api = Api(S.srv, S.op)
    S.c.write("/root/.nestd-orc.token", S.tok["orc"] + "\n", 0o600)
    S.agent = Agent(S.c, BIN, ["--server", S.srv.url, "--token-file", "/root/.nestd-orc.token",
                               "--services", "openrc", "--log-level", "debug"], "agent-orc")
    if not S.api.wait_client("orc", 20):
        raise RuntimeError("agent did not connect: " + S.agent.text()[-2000:])


def by_name(reply):
    return {u["name"]: u for u in reply["payload"]} if ok(reply) else {}


def test_list_services():
    rcs("nt-super", "start")
    r = ask("list_services")
    got = by_name(r)
    rc, out, err = S.c.run(["rc-status", "--servicelist"])
    real = dict(re.findall(r"^ (\S+)\s+\[\s+(\w+)", out, re.M))
    check(ok(r) and set(got) == set(real) and len(got) > 10,
          "list_services: the services rc-status --servicelist shows", (sorted(got), sorted(real)))
    words = {"started": "active", "stopped": "inactive"}
    bad = [(n, got[n]["active_state"], real[n]) for n in set(got) & set(real)
           if words.get(real[n], "?") != got[n]["active_state"]]
    check(not bad, "each service's state as rc-status has it", bad)
    check(got.get("nt-super", {}).get("description") == "nestd test: supervised" and
          got.get("nt-daemon", {}).get("description") == "nestd test: a daemon with a pidfile" and
          got.get("nt-nodesc", {}).get("description") == "",
          "descriptions from the scripts (what rc-service NAME describe prints)",
          [got.get(n) for n in ("nt-super", "nt-daemon", "nt-nodesc")])
    rc, out, err = rcs("nt-super", "describe")
    check(out.splitlines()[0] == "* nestd test: supervised", "rc-service describe agrees", out)
    rcs("nt-super", "stop")


def test_info():
    rcs("nt-super", "start")
    p = info("nt-super").get("payload") or {}
    child = cat("/run/openrc/options/nt-super/child_pid")
    check(p.get("active_state") == "active" and p.get("sub_state") == "running" and
          p.get("description") == "nestd test: supervised" and
          p.get("file_location") == "/etc/init.d/nt-super" and str(p.get("pid")) == child,
          "supervised service: state, description, supervise-daemon's child pid", (p, child))
    check(cat("/proc/%s/comm" % child) == "sleep", "that pid is the service's process", child)
    check(isinstance(p.get("started"), int) and abs(p["started"] - time.time()) < T(30) and
          re.match(r"\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+; (.* ago|now)$", p.get("uptime") or ""),
          "supervised service: started from supervise-daemon's start_time", p)
    rcs("nt-super", "stop")
    p = info("nt-super").get("payload") or {}
    check(p.get("active_state") == "inactive" and p.get("pid") is None and p.get("started") is None,
          "stopped: no pid, no start", p)
    rcs("nt-daemon", "start")
    p = info("nt-daemon").get("payload") or {}
    check(p.get("active_state") == "active" and str(p.get("pid")) == cat("/run/nt-daemon.pid") and
          p.get("started") is None, "start-stop-daemon service: the pid from its pidfile", p)
    S.c.sh("kill -9 $(cat /run/nt-daemon.pid)")
    p = info("nt-daemon").get("payload") or {}
    check(p.get("pid") is None, "a pidfile whose process is gone: no pid", (p, status("nt-daemon")))
    rcs("nt-daemon", "zap")
    r = info("nope")
    check(err_of(r) == "no such service: nope", "a service that does not exist", r)


def test_actions():
    rcs("nt-daemon", "stop")
    r = svc("start", "nt-daemon")
    check(ok(r) and r["payload"] == {"service_name": "nt-daemon", "action": "start", "result": "done"} and
          status("nt-daemon") == "started", "start_service: started", r)
    pid1 = cat("/run/nt-daemon.pid")
    r = svc("reload", "nt-daemon")
    n = wait_until(lambda: (cat("/run/nt-loop.reloads") or "").count("reload"), 5)
    check(ok(r) and n == 1 and cat("/run/nt-daemon.pid") == pid1, "reload_service: the script's reload", (r, n))
    r = svc("restart", "nt-daemon")
    pid2 = cat("/run/nt-daemon.pid")
    check(ok(r) and pid2 and pid2 != pid1 and status("nt-daemon") == "started",
          "restart_service: a new process", (r, pid1, pid2))
    r = svc("stop", "nt-daemon")
    check(ok(r) and status("nt-daemon") == "stopped", "stop_service: stopped", r)
    cases = [
        ("start", "nt-fail", "* nt-fail: configuration is broken\n * ERROR: nt-fail failed to start"),
        ("reload", "nt-daemon", "* nt-daemon: cannot `reload' as it has not been started"),
        ("stop", "nope", "* rc-service: service `nope' does not exist"),
        ("start", "nope", "* rc-service: service `nope' does not exist"),
    ]
    for act, name, want in cases:
        r = svc(act, name)
        check(err_of(r) == want, "%s %s: OpenRC's own error" % (act, name), r)
    check(status("nt-fail") == "stopped", "the failed service stays stopped")


def test_original_shapes():
    """--compat original (an agent under the original server, which waits
    1 s for any reply): rc-service cannot queue a job, so an action still
    running after 0.7 s is answered "queued" and left to finish; the rest
    in the original's shapes."""
    S.c.write("/root/.nestd-orc-orig.token", S.tok["orc-orig"] + "\n", 0o600)
    a = Agent(S.c, BIN, ["--server", S.srv.url, "--token-file", "/root/.nestd-orc-orig.token",
                         "--services", "openrc", "--compat", "original", "--log-level", "debug"],
              "agent-orc-orig")
    try:
        if not check(S.api.wait_client("orc-orig", 20), "the original-shaped agent connects", a.text()[-800:]):
            return
        rcs("nt-slow", "stop")
        r = svc("start", "nt-slow", "orc-orig")
        st = status("nt-slow")
        check(ok(r) and r["payload"].get("result") == "queued" and st == "starting",
              "a 3 s start: answered while it runs (queued)", (r, st))
        check(wait_until(lambda: status("nt-slow") == "started", 15, 0.2),
              "and the script finishes on its own", status("nt-slow"))
        check(a.wait_log(r"start nt-slow: done", 10), "its end is logged")
        rcs("nt-daemon", "stop")
        r = svc("start", "nt-daemon", "orc-orig")
        check(ok(r) and r["payload"].get("result") == "done" and status("nt-daemon") == "started",
              "a quick start answers with its result (done)", r)
        r = svc("stop", "nope", "orc-orig")
        want = "* rc-service: service `nope' does not exist"
        check(err_of(r) == want and r.get("message") == want, "an error: OpenRC's words in message too", r)
        rcs("nt-nodesc", "stop")
        r = info("nt-nodesc", "orc-orig")
        p = r.get("payload") or {} if ok(r) else {}
        check(p.get("pid") == 0 and p.get("uptime") == "Unable to calculate :(",
              "a stopped service: pid 0, uptime 'Unable to calculate :('", r)
        r = ask("list_services", None, "orc-orig")
        names = r.get("payload") if ok(r) else None
        check(isinstance(names, list) and "nt-daemon" in names and all(isinstance(x, str) for x in names),
              "list_services: bare names", names)
    finally:
        a.stop()
        rcs("nt-slow", "stop")
        rcs("nt-daemon", "stop")


def snapshot():
    rc, out, err = S.c.run(["find", "/", "-xdev", "(", "-path", "/var/cache", "-o", "-path", "/tmp",
                            "-o", "-path", "/var/tmp", ")", "-prune", "-o", "-print"], timeout=120)
    return set(out.splitlines())


def test_install():
    d = "/opt/nestd-dist"
    S.c.install_nestd(NESTD, d + "/nestd-linux-x86_64")
    rc, out, err = S.c.run(["sha256sum", d + "/nestd-linux-x86_64"])
    S.c.write(d + "/nestd-linux-x86_64.sha256", out)
    S.c.write(d + "/install.sh", open(os.path.join(TOP, "install.sh")).read(), 0o755)
    before = snapshot()
    S.c.write("/root/inst.token", S.tok["orc-inst"] + "\n", 0o600)
    rc, out, err = S.c.run(["sh", d + "/install.sh", "--server", S.srv.url, "--token-file",
                            "/root/inst.token", "--base-url", d], timeout=120)
    check(rc == 0 and "started" in out and "/etc/init.d/nestd-agent" in out,
          "install.sh (OpenRC) writes and starts /etc/init.d/nestd-agent", (rc, out, err))
    check(status("nestd-agent") == "started", "nestd-agent started", rcs("nestd-agent", "status"))
    c0 = S.api.wait_client("orc-inst", 20)
    check(c0, "the installed agent connects to the server", cat("/var/log/nestd-agent.log"))
    p = info("nestd-agent", "orc-inst").get("payload") or {}
    child = cat("/run/openrc/options/nestd-agent/child_pid")
    check(p.get("description") == "nestd agent (Nest Management Bot)" and str(p.get("pid")) == child,
          "the installed agent describes itself: description and its own pid", (p, child))
    S.c.sh("kill -9 %s" % child)
    back = wait_until(lambda: cat("/run/openrc/options/nestd-agent/child_pid") not in (None, child), 20, 0.2)
    c1 = S.api.wait_client("orc-inst", 20, other_than=c0)
    check(back and c1 and status("nestd-agent") == "started",
          "supervise-daemon respawns the agent after kill -9, it reconnects",
          (child, cat("/run/openrc/options/nestd-agent/child_pid"), c0, c1))
    rc, out, err = S.c.run(["sh", d + "/install.sh", "--uninstall"], timeout=60)
    check(rc == 0 and "uninstalled" in out, "install.sh --uninstall", (rc, out, err))
    gone = wait_until(lambda: not S.api.clients().get("orc-inst"), 10)
    check(gone and rcs("nestd-agent", "status")[0] != 0, "the service is stopped and gone",
          rcs("nestd-agent", "status"))
    S.c.run(["rm", "-f", "/root/inst.token"])
    after = snapshot()
    check(after == before, "nothing left behind (%d paths compared)" % len(before),
          (sorted(after - before), sorted(before - after)))


if __name__ == "__main__":
    run_tests(S, [(setup, 240), test_list_services, test_info, test_actions, (test_original_shapes, 120), test_install])
