#!/usr/bin/python3
"""it_systemd.py - the agent's service commands against a real systemd 252
booted in a container (see nspawn.py), driven through a nestd server on the
host and its HTTP API, as an operator would.

  make test-systemd            (root; sh test/systemd/setup.sh installs
                                systemd-container and debootstrap, builds
                                the root once and caches it in /var/tmp)
  NESTD=./nestd /usr/bin/python3 test/systemd/it_systemd.py [test_NAME...]

The container's own systemctl is the truth every reply is checked against:
list_services against `systemctl list-units -o json`, obtain_service_info
against `systemctl show`, actions against is-active and MainPID.  Covers
active, inactive, failed, not-found and template units, every action's real
outcome and error text, a unit that takes seconds to start, a unit whose
name has dashes, dots and @, a pending job while the list is read (the JOB
column), the table form older systemctl print (the real one, without -o
json), a user's own manager (lingering, `--services systemd-user`), and
install.sh's system and user units: started, restarted by Restart= after a
kill -9, and gone without a trace after --uninstall.

Conventions of nestlib.py: check(), the final line "N passed, N failed".
"""
import os
import re
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import nestlib  # noqa: E402
from nestlib import NESTD, T, Server, check, path, token_new, wait_until  # noqa: E402
from nspawn import Agent, Api, Container, err_of, ok, run_tests, tarball  # noqa: E402

S = types.SimpleNamespace(c=None)
BIN = "/opt/nestd-test/nestd"
USER = (1500, 1500, "/home/nestu")          # uid, gid, home of the test user
UDIR = "/home/nestu/.config/systemd/user"
TOP = os.path.dirname(os.path.dirname(HERE))

UNITS = {
    "nt-simple.service": """[Unit]
Description=nestd test: a simple daemon that reloads on SIGHUP
[Service]
ExecStart=/bin/sh -c 'trap "echo reload >> /run/nt-simple.reloads" HUP; while :; do sleep 1 & wait; done'
ExecReload=/bin/sh -c 'kill -HUP $MAINPID'
""",
    "nt-noreload.service": """[Unit]
Description=nestd test: no ExecReload
[Service]
ExecStart=/bin/sleep infinity
""",
    "nt-fail.service": """[Unit]
Description=nestd test: fails to start
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo failing; exit 3'
""",
    # a oneshot is "activating" until its ExecStart ends: 3 s
    "nt-slow.service": """[Unit]
Description=nestd test: takes 3 s to start
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sleep 3
""",
    "nt-slowfail.service": """[Unit]
Description=nestd test: fails after 2 s
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'sleep 2; exit 1'
""",
    "nt-hang.service": """[Unit]
Description=nestd test: start job runs 60 s
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sleep 60
TimeoutStartSec=120
""",
    # its description begins with a job type on purpose: split on blanks,
    # "start start Waits..." would lose nothing visible
    "nt-after.service": """[Unit]
Description=start Waits For nt-hang
After=nt-hang.service
[Service]
ExecStart=/bin/sleep infinity
""",
    "worker@.service": """[Unit]
Description=nestd test worker %i
[Service]
ExecStart=/bin/sleep infinity
""",
    "my-app.v2@.service": """[Unit]
Description=nestd test: dashes, dots and @ (%i)
[Service]
ExecStart=/bin/sleep infinity
""",
}

USER_UNITS = {
    "nt-user.service": """[Unit]
Description=nestd test: a user's own service
[Service]
ExecStart=/bin/sleep infinity
""",
}

# A systemctl that predates -o json for tables (< 246) takes -o for the
# journal's output mode and prints the table: the real tool, with -o json
# taken away, is exactly that.
OLD_SYSTEMCTL = """#!/bin/sh
# systemctl as systemd < 246 answers list-units -o json: the table
for a in "$@"; do
	shift
	case $a in -o) skip=1; continue ;; esac
	[ -n "$skip" ] && { skip=; continue; }
	set -- "$@" "$a"
done
exec /bin/systemctl "$@"
"""


def sc(*args, user=False, timeout=60):
    """systemctl inside: (exit code, stdout stripped, stderr stripped)."""
    a = ["systemctl"] + (["--user"] if user else []) + list(args)
    rc, out, err = S.c.run(a, user=USER if user else None, timeout=timeout)
    return rc, out.strip(), err.strip()


def prop(unit, name, user=False):
    return sc("show", "-p", name, "--value", "--", unit, user=user)[1]


def ask(message, payload=None, agent="sd", timeout=60):
    return S.api.ask(agent, message, payload, timeout)


def svc(action, name, agent="sd"):
    return ask(action + "_service", {"service_name": name}, agent)


AGENTS = ("sd", "sd-old", "sd-short", "sd-user", "sd-inst", "sd-uinst", "sd-original")


def skip(name, why):
    """nestlib's counted skip where it has one."""
    f = getattr(nestlib, "skip", None)
    if f:
        return f(name, why)
    print("SKIP - %s [%s]" % (name, why), flush=True)


def host_can_raise_nofile():
    """CAP_SYS_RESOURCE (24) in our bounding set: else no container of
    ours can get a higher descriptor limit than the host's hard one."""
    with open("/proc/self/status") as f:
        for l in f:
            if l.startswith("CapBnd:"):
                return bool(int(l.split()[1], 16) >> 24 & 1)
    return False


def start_agent(name, args=(), user=None, env=None):
    tok = S.tok[name]
    home = user[2] if user else "/root"
    tf = "%s/.nestd-%s.token" % (home, name)
    S.c.write(tf, tok + "\n", 0o600, uid=user[0] if user else None)
    a = Agent(S.c, BIN, ["--server", S.srv.url, "--token-file", tf, "--reconnect-min", "0.2",
                         "--reconnect-max", "1", "--log-level", "debug"] + list(args),
              "agent-" + name, user=user, env=env)
    if not S.api.wait_client(name, 20):
        raise RuntimeError("agent %s did not connect: %s" % (name, a.text()[-2000:]))
    return a


# ---------------------------------------------------------------- setup

def setup():
    if os.geteuid() != 0:
        raise RuntimeError("it_systemd.py needs root (containers)")
    t0 = time.monotonic()
    tar = tarball("systemd")
    S.c = Container("systemd", "nestd-sd-%d" % os.getpid(), path("container.log"))
    S.c.unpack(tar)
    for name, text in UNITS.items():
        S.c.write("/etc/systemd/system/" + name, text)
    S.c.install_nestd(NESTD, BIN)
    S.c.write("/opt/nestd-test/systemctl-old", OLD_SYSTEMCTL, 0o755)
    t1 = time.monotonic()
    S.c.boot()
    # PID 1 is there before systemd is: its private socket says it is up
    wait_until(lambda: S.c.run(["test", "-S", "/run/systemd/private"])[0] == 0, 30, 0.05)
    rc, out, err = S.c.run(["systemctl", "is-system-running", "--wait"], timeout=T(60))
    t2 = time.monotonic()
    print("# root unpacked in %.1f s, booted to '%s' in %.1f s" % (t1 - t0, out.strip(), t2 - t1))
    check(out.strip() == "running", "systemd 252 boots to 'running' in the container",
          (out, err, sc("--failed", "--no-pager")))
    rc, out, err = sc("--version")
    check(out.startswith("systemd 252"), "it is systemd 252", out[:80])
    S.tokens = path("tokens")
    S.op = token_new(S.tokens, "oscar", "operator")
    # every agent's token before the server reads the file
    S.tok = {n: token_new(S.tokens, n) for n in AGENTS}
    S.srv = Server(S.tokens, ["--command-timeout", "30"])
    S.api = Api(S.srv, S.op)
    S.agent = start_agent("sd", ["--services", "systemd"])


def test_dbus_logind():
    for u in ("dbus.service", "systemd-logind.service"):
        check(prop(u, "ActiveState") == "active", "%s is active" % u, prop(u, "ActiveState"))
    rc, out, err = S.c.run(["journalctl", "-b", "-u", "dbus", "--no-pager"])
    name = "dbus-daemon raised its descriptor limit (nspawn --rlimit=NOFILE)"
    if host_can_raise_nofile():
        check("fd limit" not in out, name, [l for l in out.splitlines() if "limit" in l])
    else:
        skip(name, "this host has no CAP_SYS_RESOURCE and a hard limit of %d: dbus-daemon warns "
             "and goes on with it" % __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[1])
    check("timed out" not in out, "nothing on the bus timed out", out[-800:])


# ---------------------------------------------------------------- list

def by_name(reply):
    return {u["name"]: u for u in reply["payload"]} if ok(reply) else {}


def real_list(systemctl="systemctl"):
    import json
    rc, out, err = S.c.run([systemctl, "list-units", "--type=service", "--all", "--no-pager",
                            "--plain", "-o", "json"])
    return {u["unit"]: u for u in json.loads(out)}


def same_as_real(got, real):
    """Differences between list_services and systemctl's own JSON."""
    bad = []
    if set(got) != set(real):
        bad.append(("names", sorted(set(got) ^ set(real))))
    for n in set(got) & set(real):
        g, r = got[n], real[n]
        if (g["load_state"], g["active_state"], g["sub_state"], g["description"]) != \
                (r["load"], r["active"], r["sub"], r["description"]):
            bad.append((n, g, r))
    return bad


def test_list_services():
    sc("start", "nt-simple.service")      # list-units lists loaded units only
    r = ask("list_services")
    got = by_name(r)
    check(ok(r) and len(got) > 30, "list_services answers the container's units", r)
    bad = same_as_real(got, real_list())
    check(not bad, "every unit as `systemctl list-units -o json` has it", bad[:5])
    u = got.get("nt-simple.service", {})
    check(u.get("description") == "nestd test: a simple daemon that reloads on SIGHUP" and
          u.get("load_state") == "loaded", "a unit's description and load state", u)
    u = got.get("auditd.service", {})
    check(u.get("load_state") == "not-found", "a unit that is wanted but missing: not-found", u)


def test_job_pending():
    """While a start job runs (nt-hang) and another waits behind it
    (nt-after), list-units has a JOB column."""
    sc("start", "--no-block", "nt-hang.service", "nt-after.service")
    try:
        rc, out, err = S.c.run(["systemctl", "list-units", "--type=service", "--all",
                                "--no-pager", "--plain"])
        check(re.search(r"^UNIT +LOAD +ACTIVE +SUB +JOB +DESCRIPTION", out, re.M) and
              re.search(r"^nt-after\.service +loaded +inactive +dead +start +start Waits For nt-hang$",
                        out, re.M),
              "the real table has a JOB column while jobs are pending", out[:300])
        got = by_name(ask("list_services"))
        a, h = got.get("nt-after.service", {}), got.get("nt-hang.service", {})
        check(a.get("description") == "start Waits For nt-hang" and a.get("active_state") == "inactive"
              and a.get("sub_state") == "dead", "a waiting job does not leak into the description", a)
        check(h.get("description") == "nestd test: start job runs 60 s" and
              h.get("active_state") == "activating" and h.get("sub_state") == "start",
              "the running job's unit: activating/start", h)
        check(not same_as_real(got, real_list()), "the whole list as systemctl's JSON has it, jobs pending")
        # the same through the table, as systemctl < 246 prints it
        old = start_agent("sd-old", ["--services", "systemd", "--systemctl", "/opt/nestd-test/systemctl-old"])
        try:
            r = ask("list_services", agent="sd-old")
            got2 = by_name(r)
            check(got2 and got2 == got, "the table with its JOB column parses to the same list", 
                  [(k, got2.get(k), got.get(k)) for k in set(got) | set(got2) if got2.get(k) != got.get(k)][:4])
        finally:
            old.stop()
    finally:
        sc("stop", "nt-after.service", "nt-hang.service")
        sc("reset-failed", "nt-hang.service")


# ---------------------------------------------------------------- info

def info(name, agent="sd"):
    return ask("obtain_service_info", {"service_name": name}, agent)


def test_info_states():
    sc("start", "nt-simple.service")
    r = info("nt-simple")
    p = r.get("payload") or {}
    pid = int(prop("nt-simple.service", "MainPID") or 0)
    rc, since, _ = sc("show", "-p", "ActiveEnterTimestamp", "--value", "--timestamp=unix",
                      "nt-simple.service")
    when = prop("nt-simple.service", "ActiveEnterTimestamp")
    check(ok(r) and p.get("name") == "nt-simple.service" and p.get("active_state") == "active" and
          p.get("sub_state") == "running" and p.get("pid") == pid and pid > 0 and
          p.get("file_location") == "/etc/systemd/system/nt-simple.service",
          "active unit: states, MainPID, file", (r, pid))
    check(ok(r) and since.startswith("@") and abs(p.get("started", 0) - int(since[1:])) <= 1 and
          (p.get("uptime") or "").startswith(when + "; ") and p["uptime"].endswith(" ago"),
          "active unit: started is systemd's ActiveEnterTimestamp, uptime its text", (p, since, when))
    sc("stop", "nt-noreload.service")
    p = info("nt-noreload").get("payload") or {}
    check(p.get("active_state") == "inactive" and p.get("sub_state") == "dead" and p.get("pid") is None
          and p.get("started") is None and p.get("uptime") is None and
          p.get("description") == "nestd test: no ExecReload", "inactive unit: no pid, no uptime", p)
    sc("start", "nt-fail.service")
    p = info("nt-fail.service").get("payload") or {}
    check(p.get("active_state") == "failed" and p.get("sub_state") == "failed" and p.get("pid") is None,
          "failed unit: failed/failed", p)
    sc("reset-failed", "nt-fail.service")
    r = info("nope")
    check(err_of(r) == "no such service: nope.service", "not-found unit: an error", r)
    sc("start", "worker@1.service")
    try:
        p = info("worker@1").get("payload") or {}
        check(p.get("name") == "worker@1.service" and p.get("description") == "nestd test worker 1" and
              p.get("file_location") == "/etc/systemd/system/worker@.service" and
              p.get("active_state") == "active" and p.get("pid") == int(prop("worker@1.service", "MainPID")),
              "template instance worker@1: its own name, the template's file", p)
        check("worker@1.service" in by_name(ask("list_services")), "worker@1 is in the list")
    finally:
        sc("stop", "worker@1.service")
    r = info("worker@")
    check(err_of(r) == "Failed to get properties: Unit name worker@.service is neither a valid "
          "invocation ID nor unit name.", "a template without instance: systemd's own words", r)


# ---------------------------------------------------------------- actions

def test_actions():
    sc("stop", "nt-simple.service")
    r = svc("start", "nt-simple")
    check(ok(r) and r["payload"] == {"service_name": "nt-simple.service", "action": "start", "result": "done"},
          "start_service -> {service_name, action, result: done}", r)
    check(prop("nt-simple.service", "ActiveState") == "active", "started for real")
    pid1 = prop("nt-simple.service", "MainPID")
    r = svc("restart", "nt-simple")
    pid2 = prop("nt-simple.service", "MainPID")
    check(ok(r) and pid2 != pid1 and pid2 != "0", "restart_service: a new main process", (r, pid1, pid2))
    r = svc("reload", "nt-simple")
    n = wait_until(lambda: S.c.run(["cat", "/run/nt-simple.reloads"])[1].count("reload"), 5)
    check(ok(r) and n == 1 and prop("nt-simple.service", "MainPID") == pid2,
          "reload_service: ExecReload ran, same process", (r, n))
    r = svc("stop", "nt-simple")
    check(ok(r) and prop("nt-simple.service", "ActiveState") == "inactive", "stop_service: stopped", r)
    cases = [
        ("start", "nope", "Failed to start nope.service: Unit nope.service not found."),
        ("stop", "nope", "Failed to stop nope.service: Unit nope.service not loaded."),
        ("restart", "nope", "Failed to restart nope.service: Unit nope.service not found."),
        ("reload", "nt-simple", "nt-simple.service is not active, cannot reload."),
        ("start", "worker@", "Failed to start worker@.service: Unit name worker@.service is missing "
         "the instance name.\nSee system logs and 'systemctl status worker@.service' for details."),
        ("start", "nt-fail", "Job for nt-fail.service failed because the control process exited with "
         "error code.\nSee \"systemctl status nt-fail.service\" and \"journalctl -xeu nt-fail.service\" "
         "for details."),
    ]
    sc("start", "nt-noreload.service")
    cases.append(("reload", "nt-noreload", "Failed to reload nt-noreload.service: Job type reload is "
                  "not applicable for unit nt-noreload.service."))
    for act, name, want in cases:
        r = svc(act, name)
        check(err_of(r) == want, "%s %s: systemctl's own error" % (act, name), r)
    sc("stop", "nt-noreload.service")
    sc("reset-failed", "nt-fail.service")


# How each reply shape answers a unit that takes seconds to start.  nestd's
# waits for systemctl's job and says how it ended; the original's queues
# it (systemctl --no-block) and answers at once (the original server waits
# 1 s for any reply).
SLOW_MODES = [("nestd", [], True), ("original", ["--compat", "original"], False)]


def test_slow_start():
    for mode, extra, waits in SLOW_MODES:
        a = start_agent("sd-" + mode, ["--services", "systemd"] + extra) if extra else None
        name = "sd-" + mode if a else "sd"
        try:
            t0 = time.monotonic()
            r = svc("start", "nt-slow", name)
            took = time.monotonic() - t0
            state = prop("nt-slow.service", "ActiveState")
            if waits:
                check(ok(r) and state == "active" and took >= 2.5 and r["payload"].get("result") == "done",
                      "%s: start of a 3 s unit answers when it is up" % mode, (r, state, took))
                r = svc("start", "nt-slowfail", name)
                check((err_of(r) or "").startswith("Job for nt-slowfail.service failed because the "
                                                   "control process exited with error code."),
                      "%s: a unit failing after 2 s: the reply says it failed" % mode, r)
            else:
                check(ok(r) and state == "activating" and r["payload"].get("result") == "queued",
                      "%s: answered while it starts (queued)" % mode, (r, state))
        finally:
            sc("stop", "nt-slow.service")
            sc("reset-failed", "nt-slowfail.service")
            if a:
                a.stop()
    # a start outlasting the agent's deadline: answered within it, the job
    # left to systemd
    a = start_agent("sd-short", ["--services", "systemd", "--exec-timeout", "2"])
    try:
        t0 = time.monotonic()
        r = svc("start", "nt-hang", "sd-short")
        took = time.monotonic() - t0
        check(err_of(r) == "systemctl start nt-hang.service: no answer within 2 s; the job goes on in "
              "systemd: obtain_service_info tells how it ends" and took < T(10),
              "a start longer than --exec-timeout: answered at the deadline", (r, took))
        p = info("nt-hang", "sd-short").get("payload") or {}
        check(p.get("active_state") == "activating", "and systemd's job goes on", p)
    finally:
        a.stop()
        sc("stop", "nt-hang.service")
        sc("reset-failed", "nt-hang.service")


def test_odd_names():
    n = "my-app.v2@blue-1"
    r = svc("start", n)
    check(ok(r) and r["payload"]["service_name"] == n + ".service", "start %s" % n, r)
    check(prop(n + ".service", "ActiveState") == "active", "%s is active for real" % n)
    p = info(n).get("payload") or {}
    check(p.get("name") == n + ".service" and p.get("description") == "nestd test: dashes, dots and @ (blue-1)"
          and p.get("pid") == int(prop(n + ".service", "MainPID")), "obtain_service_info %s" % n, p)
    u = by_name(ask("list_services")).get(n + ".service", {})
    check(u.get("active_state") == "active" and u.get("description") == p.get("description"),
          "list_services has %s" % n, u)
    r = svc("stop", n + ".service")
    check(ok(r) and prop(n + ".service", "ActiveState") == "inactive", "stop %s.service" % n, r)


# ---------------------------------------------------------------- user manager

def test_user_manager():
    rc, out, err = S.c.run(["useradd", "-m", "-u", str(USER[0]), "-s", "/bin/sh", "nestu"])
    check(rc == 0, "test user created", err)
    for name, text in USER_UNITS.items():
        S.c.write(UDIR + "/" + name, text, uid=USER[0])
    for d in ("/home/nestu/.config", "/home/nestu/.config/systemd", UDIR):
        os.chown(S.c.path(d), USER[0], USER[1])
    rc, out, err = S.c.run(["loginctl", "enable-linger", "nestu"])
    check(rc == 0, "loginctl enable-linger (logind over D-Bus)", err)
    up = wait_until(lambda: S.c.run(["test", "-S", "/run/user/%d/systemd/private" % USER[0]])[0] == 0, 20)
    check(up and prop("user@%d.service" % USER[0], "ActiveState") == "active",
          "lingering starts the user's systemd --user", sc("status", "user@%d.service" % USER[0]))
    sc("daemon-reload", user=True)
    # started the way cron or su would: no XDG_RUNTIME_DIR in its environment
    a = start_agent("sd-user", ["--services", "systemd-user"], user=USER, env={"XDG_RUNTIME_DIR": None})
    try:
        r = svc("start", "nt-user", "sd-user")
        check(ok(r) and prop("nt-user.service", "ActiveState", user=True) == "active",
              "start_service on the user's manager (without XDG_RUNTIME_DIR)", r)
        p = info("nt-user", "sd-user").get("payload") or {}
        check(p.get("description") == "nestd test: a user's own service" and
              p.get("file_location") == UDIR + "/nt-user.service" and
              p.get("pid") == int(prop("nt-user.service", "MainPID", user=True)),
              "obtain_service_info of ~/.config/systemd/user/nt-user.service", p)
        got = by_name(ask("list_services", agent="sd-user"))
        check(got.get("nt-user.service", {}).get("active_state") == "active" and
              "nt-simple.service" not in got, "list_services: the user's units, not the system's", sorted(got))
        r = svc("restart", "nt-user", "sd-user")
        check(ok(r), "restart_service as the user", r)
        r = svc("stop", "nt-user", "sd-user")
        check(ok(r) and prop("nt-user.service", "ActiveState", user=True) == "inactive",
              "stop_service as the user", r)
        r = svc("start", "nt-simple", "sd-user")
        check(err_of(r) == "Failed to start nt-simple.service: Unit nt-simple.service not found.",
              "a system unit is not the user's", r)
    finally:
        a.stop()


# ---------------------------------------------------------------- install.sh

def snapshot(home=None):
    """Paths on the container's disk, less what systemd itself changes."""
    rc, out, err = S.c.run(["find", "/", "-xdev", "(", "-path", "/var/log/journal", "-o", "-path",
                            "/var/lib/systemd", "-o", "-path", "/var/cache", "-o", "-path",
                            "/tmp", "-o", "-path", "/var/tmp", ")", "-prune", "-o", "-print"],
                           timeout=120)
    return set(out.splitlines())


def dist_dir():
    """install.sh's --base-url: a directory with the binary and its sum."""
    d = "/opt/nestd-dist"
    S.c.install_nestd(NESTD, d + "/nestd-linux-x86_64")
    rc, out, err = S.c.run(["sha256sum", d + "/nestd-linux-x86_64"])
    S.c.write(d + "/nestd-linux-x86_64.sha256", out)
    S.c.write(d + "/install.sh", open(os.path.join(TOP, "install.sh")).read(), 0o755)
    return d


def restarted(name, user, api_name):
    """kill -9 the agent's main process; systemd brings it back."""
    c0 = S.api.clients().get(api_name)
    pid = prop(name, "MainPID", user=user)
    S.c.run(["sh", "-c", "kill -9 " + pid])
    back = wait_until(lambda: prop(name, "ActiveState", user=user) == "active" and
                      prop(name, "MainPID", user=user) not in ("0", pid), 20, 0.2)
    n = prop(name, "NRestarts", user=user)
    c1 = S.api.wait_client(api_name, 20, other_than=c0)
    return back and n == "1" and c1 is not None, (pid, prop(name, "MainPID", user=user), n, c0, c1)


def test_install_system():
    d = dist_dir()
    before = snapshot()
    S.c.write("/root/inst.token", S.tok["sd-inst"] + "\n", 0o600)
    rc, out, err = S.c.run(["sh", d + "/install.sh", "--server", S.srv.url, "--token-file",
                            "/root/inst.token", "--base-url", d], timeout=120)
    check(rc == 0 and "started" in out, "install.sh (system) installs and starts the unit", (rc, out, err))
    check(prop("nestd-agent.service", "ActiveState") == "active" and
          prop("nestd-agent.service", "UnitFileState") == "enabled", "nestd-agent.service active, enabled")
    check(S.api.wait_client("sd-inst", 20), "the installed agent connects to the server")
    r = ask("list_services", agent="sd-inst")
    check("nestd-agent.service" in by_name(r), "the installed agent lists its own unit", r)
    good, why = restarted("nestd-agent.service", False, "sd-inst")
    check(good, "Restart=always: kill -9 of the agent, systemd restarts it, it reconnects", why)
    rc, out, err = S.c.run(["sh", d + "/install.sh", "--uninstall"], timeout=60)
    check(rc == 0 and "uninstalled" in out, "install.sh --uninstall", (rc, out, err))
    check(prop("nestd-agent.service", "LoadState") == "not-found", "the unit is gone from systemd",
          prop("nestd-agent.service", "LoadState"))
    S.c.run(["rm", "-f", "/root/inst.token"])
    after = snapshot()
    check(after == before, "nothing left behind (%d paths compared)" % len(before),
          (sorted(after - before), sorted(before - after)))


def test_install_user():
    d = "/opt/nestd-dist"
    if not os.path.exists(S.c.path(d + "/install.sh")):
        d = dist_dir()
    before = snapshot()
    S.c.write("/home/nestu/inst.token", S.tok["sd-uinst"] + "\n", 0o600, uid=USER[0])
    rc, out, err = S.c.run(["sh", d + "/install.sh", "--server", S.srv.url, "--token-file",
                            "/home/nestu/inst.token", "--base-url", d], user=USER, timeout=120)
    check(rc == 0 and "started" in out, "install.sh (user) installs and starts the user unit", (rc, out, err))
    check(prop("nestd-agent.service", "ActiveState", user=True) == "active", "user's nestd-agent active")
    check(S.api.wait_client("sd-uinst", 20), "the user's agent connects to the server")
    good, why = restarted("nestd-agent.service", True, "sd-uinst")
    check(good, "Restart=always in the user manager: kill -9, restarted, reconnected", why)
    rc, out, err = S.c.run(["sh", d + "/install.sh", "--uninstall"], user=USER, timeout=60)
    check(rc == 0 and "uninstalled" in out, "install.sh --uninstall (user)", (rc, out, err))
    check(prop("nestd-agent.service", "LoadState", user=True) == "not-found", "the user unit is gone")
    S.c.run(["rm", "-f", "/home/nestu/inst.token"])
    after = snapshot()
    check(after == before, "nothing left behind in the user's home (%d paths compared)" % len(before),
          (sorted(after - before), sorted(before - after)))


if __name__ == "__main__":
    run_tests(S, [(setup, 240), test_dbus_logind, test_list_services, test_job_pending, test_info_states,
                  test_actions, test_slow_start, test_odd_names, test_user_manager, test_install_system,
                  test_install_user])
