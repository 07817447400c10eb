#!/usr/bin/python3
"""it_commands.py - the agent's command set end to end (issue 3): a real
`nestd agent` dials a python-websockets bot (it_agent.Bot) and answers every
command of docs/PROTOCOL.md's "Commands" over the WebSocket; once more through
`nestd server` and its HTTP API.

Covers reply shapes, bad payloads, processes that vanish mid-scan, odd
process names, exec floods/timeouts/daemons/concurrency, signals as a
non-root agent, reply ordering with and without ids, service backends
(recording stand-ins in test/stubs), the --allow/--deny policy, the exec
environment and the agent stopping mid-exec."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nestlib import (Server, T, can_run_as_others, check, main, path, proc_state, skip, token_new,  # noqa: E402
                     wait_until, xfail)
from it_agent import Bot, agent, cmd, new_token  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STUBS = os.path.join(HERE, "stubs")
U_FFFD = "\ufffd"


class Sess:
    """A bot and one connected agent: ask() sends a command and returns the
    next reply, parsed."""

    def __init__(self, args=(), env=None, name="agent", pre=None):
        self.bot = Bot()
        self.tok = new_token()
        self.a = agent(self.bot.url, self.tok, list(args), env=env, name=name) if pre is None \
            else pre(self.bot.url, self.tok)
        self.c = self.bot.wait_conn()
        if not self.c or not self.a.wait_log("authenticated to"):
            raise RuntimeError("agent did not connect: " + self.a.text()[-1500:])

    def send(self, name, payload=None, id=None):
        self.bot.send(self.c, cmd(name, id=id, payload=payload))

    def send_raw(self, text):
        self.bot.send(self.c, text)

    def get(self, timeout=10):
        return self.c.get(timeout)

    def ask(self, name, payload=None, id=None, timeout=10):
        self.send(name, payload, id)
        return self.get(timeout)

    def up(self):
        """Still connected and answering."""
        r = self.ask("obtain_system_info", id="up?")
        return bool(r and r.get("status") == "command_response" and r.get("id") == "up?"
                    and self.a.alive() and self.c.close_code is None)

    def close(self):
        try:
            self.a.stop()
        finally:
            self.bot.shutdown()


def ok(r):
    return bool(r) and r.get("status") == "command_response"


def err_of(r):
    if r and r.get("status") == "command_response_error":
        return r.get("payload", {}).get("error", "")
    return None


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def shape(obj, spec):
    """Keys missing or of the wrong type: spec maps key -> type check (a
    callable) or a nested spec dict."""
    bad = []
    if not isinstance(obj, dict):
        return ["not an object: %r" % (obj,)]
    for k, t in spec.items():
        if k not in obj:
            bad.append("missing " + k)
        elif isinstance(t, dict):
            bad += ["%s.%s" % (k, b) for b in shape(obj[k], t)]
        elif not t(obj[k]):
            bad.append("%s=%r" % (k, obj[k]))
    return bad


STR = lambda v: isinstance(v, str)  # noqa: E731
BOOL = lambda v: isinstance(v, bool)  # noqa: E731
STR_OR_NULL = lambda v: v is None or isinstance(v, str)  # noqa: E731
INT_OR_NULL = lambda v: v is None or is_int(v)  # noqa: E731

LIST_ITEM = {"pid": is_int, "ppid": is_int, "name": STR, "user": STR, "uid": is_int, "state": STR,
             "rss": is_int, "cpu_time": {"user": is_num, "system": is_num}, "started": is_num,
             "threads": is_int, "cmdline": STR_OR_NULL}
PROC_INFO = {"pid": is_int, "name": STR, "cpu_usage": is_num,
             "cpu_time": {"user": is_num, "system": is_num}, "status": STR,
             "memory": {"rss": is_int, "vms": is_int}, "started": is_num, "safe_kill": BOOL,
             "ppid": is_int, "user": STR, "uid": is_int, "threads": is_int, "cmdline": STR_OR_NULL}
SYS_INFO = {"hostname": STR, "kernel": STR, "uptime": is_num,
            "load": lambda v: isinstance(v, list) and len(v) == 3 and all(is_num(x) for x in v),
            "cpu": {"cores": is_int}, "memory": {"total": is_int, "available": is_int, "used": is_int},
            "swap": {"total": is_int, "used": is_int},
            "disk": {"path": STR, "total": is_int, "used": is_int}}
EXEC = {"exit_code": INT_OR_NULL, "signal": STR_OR_NULL, "stdout": STR, "stderr": STR,
        "timed_out": BOOL, "truncated": BOOL, "duration_ms": is_num}
PSUTIL_STATES = {"running", "sleeping", "disk-sleep", "stopped", "tracing-stop", "zombie", "dead",
                 "idle", "parked", "wake-kill", "waking", "locked", "waiting"}

_kids = []


def spawn(args, **kw):
    """A helper process in its own session, so reap_kids() kills its group."""
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True, **kw)
    _kids.append(p)
    return p


def reap_kids():
    for p in _kids:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        if p.poll() is None:
            p.kill()
        try:
            p.wait(5)
        except Exception:
            pass
    del _kids[:]


def cmdline_pids(needle):
    """pids whose /proc/PID/cmdline contains needle (bytes)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if needle in f.read():
                        out.append(int(d))
            except OSError:
                pass
    return out


def children_of(pid):
    """[(child pid, state)] of pid, from /proc/*/stat."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    f2 = f.read().rsplit(")", 1)[1].split()
                if int(f2[1]) == pid:
                    out.append((int(d), f2[0]))
            except (OSError, IndexError, ValueError):
                pass
    return out


def btime():
    with open("/proc/stat") as f:
        for l in f:
            if l.startswith("btime "):
                return int(l.split()[1])
    return 0


def ps_sleeps(tag):
    return cmdline_pids(b"sleep\x00" + tag.encode() + b"\x00")


# ---------------------------------------------------------------- reads

def test_read_commands():
    s = Sess()
    target = spawn(["sleep", "300"])
    try:
        for with_id in (False, True):
            how = "with id" if with_id else "without id"
            r = s.ask("obtain_all_process_info", id="L" if with_id else None)
            check(ok(r) and r.get("message") == "response_obtain_all_process_info",
                  "obtain_all_process_info (%s) -> command_response" % how, str(r)[:300])
            check(r and (r.get("id") == "L") == with_id and (("id" in r) == with_id),
                  "obtain_all_process_info (%s): id handled" % how, r and r.get("id"))
            lst = r.get("payload") if r else None
            check(isinstance(lst, list) and len(lst) > 3, "process list is an array", type(lst))
            lst = lst or []
            bad = [(p.get("pid"), shape(p, LIST_ITEM)) for p in lst if shape(p, LIST_ITEM)]
            check(not bad, "every list entry has the documented keys and types", bad[:3])
            me = [p for p in lst if p.get("pid") == target.pid]
            check(me and me[0]["name"] == "sleep" and me[0]["ppid"] == os.getpid() and
                  me[0]["user"] == "root" and me[0]["uid"] == 0 and "300" in (me[0]["cmdline"] or ""),
                  "list holds our sleep with name, ppid, user, cmdline", me)
            states = {p.get("state") for p in lst}
            check(states <= PSUTIL_STATES, "states are psutil's words", states - PSUTIL_STATES)
            kt = [p for p in lst if p.get("pid") == 2]
            if kthreadd_visible():
                check(kt and kt[0].get("name") == "kthreadd" and kt[0].get("kernel_thread") is True,
                      "kernel threads are listed and marked (kthreadd, kernel_thread true)", kt)
            else:
                skip("kernel threads are listed and marked (%s)" % how,
                     "no kthreadd at pid 2 here (a PID namespace shows no kernel threads)")
            check(me and me[0].get("kernel_thread") is False, "a user process: kernel_thread false",
                  me and me[0].get("kernel_thread"))

            r = s.ask("obtain_process_info", {"pid": target.pid}, id="P" if with_id else None)
            check(ok(r) and r.get("message") == "response_obtain_process_info",
                  "obtain_process_info (%s) -> command_response" % how, r)
            p = r.get("payload") if r else None
            check(not shape(p, PROC_INFO), "obtain_process_info has the reference keys plus "
                  "ppid,user,uid,cmdline,threads,memory.vms", shape(p, PROC_INFO))
            if p:
                check(p["pid"] == target.pid and p["name"] == "sleep" and p["status"] == "sleeping"
                      and p["safe_kill"] is True and p["memory"]["rss"] > 0 and
                      p["memory"]["vms"] >= p["memory"]["rss"] and abs(p["started"] - time.time()) < 120,
                      "obtain_process_info values plausible", p)
            r = s.ask("obtain_system_info", id="S" if with_id else None)
            check(ok(r), "obtain_system_info (%s) -> command_response" % how, r)
            check(r and not shape(r.get("payload"), SYS_INFO), "obtain_system_info shape",
                  r and shape(r.get("payload"), SYS_INFO))
            if ok(r):
                sp = r["payload"]
                check(sp["memory"]["total"] > sp["memory"]["available"] > 0 and sp["cpu"]["cores"] >= 1
                      and sp["disk"]["total"] >= sp["disk"]["used"] and sp["kernel"] == os.uname().release,
                      "obtain_system_info values plausible", sp)
        # safe_kill false for pid 1 and the agent itself
        r1 = s.ask("obtain_process_info", {"pid": 1})
        ra = s.ask("obtain_process_info", {"pid": s.a.pid})
        check(ok(r1) and r1["payload"]["safe_kill"] is False, "pid 1: safe_kill false", r1)
        check(ok(ra) and ra["payload"]["safe_kill"] is False, "agent's own pid: safe_kill false", ra)
        r = s.ask("obtain_process_info", {"pid": 4000000 - 7})
        e = err_of(r)
        check(e is not None and ("no such process" in e.lower() or "not found" in e.lower()),
              "obtain_process_info on a missing pid -> clear error", r)
        # a stopped process reads exactly "stopped" (the reference bot's Resume button)
        os.kill(target.pid, signal.SIGSTOP)
        # The signal lands asynchronously: ask once the kernel says T.
        wait_until(lambda: proc_state(target.pid) == "T", 5)
        r = s.ask("obtain_process_info", {"pid": target.pid})
        check(ok(r) and r["payload"]["status"] == "stopped", "a stopped process reads 'stopped'",
              r and r.get("payload", {}).get("status"))
        os.kill(target.pid, signal.SIGCONT)
    finally:
        s.close()
        reap_kids()


# ---------------------------------------------------------------- bad payloads

def test_bad_payloads():
    s = Sess(["--services", "systemd", "--systemctl", os.path.join(STUBS, "systemctl")],
             env={"NESTD_STUB_LOG": path("bad-stub.log")})
    try:
        pids = [("string", "123"), ("negative", -5), ("zero", 0), ("float", 1.5), ("huge 2**40", 2 ** 40),
                ("null", None), ("object", {"x": 1}), ("bool", True)]
        for c in ("obtain_process_info", "kill_process", "pause_process", "resume_process"):
            for what, v in pids:
                r = s.ask(c, {"pid": v}, id="b")
                e = err_of(r)
                check(e is not None and "pid" in e, "%s with pid %s -> error naming pid" % (c, what), r)
            r = s.ask(c, {}, id="b")
            check(err_of(r) is not None and "pid" in err_of(r), "%s without pid -> error" % c, r)
            r = s.ask(c, None, id="b")
            check(err_of(r) is not None and "pid" in err_of(r), "%s without a payload -> error" % c, r)
        r = s.ask("kill_process", {"pid": 4000000 - 7, "method": "SIGFOO"})
        check(err_of(r) is not None and "method" in err_of(r), "kill_process method SIGFOO -> error", r)
        for c in ("start_service", "stop_service", "restart_service", "reload_service",
                  "obtain_service_info"):
            r = s.ask(c, {})
            check(err_of(r) is not None and "service_name" in err_of(r),
                  "%s without service_name -> error" % c, r)
            r = s.ask(c, {"service_name": 5})
            check(err_of(r) is not None and "service_name" in err_of(r),
                  "%s with a numeric service_name -> error" % c, r)
        names = [("leading '-'", "-H evil"), ("leading '-' only", "--now"), ("';'", "a;reboot"),
                 ("'$(...)'", "$(touch /tmp/pwned)"), ("spaces", "a b"), ("257 bytes", "a" * 257),
                 ("empty", ""), ("slash", "../x"), ("newline", "a\nb"), ("NUL", "a\u0000b"),
                 ("backtick", "`id`")]
        before = open(path("bad-stub.log")).read() if os.path.exists(path("bad-stub.log")) else ""
        for what, n in names:
            r = s.ask("start_service", {"service_name": n}, id="n")
            e = err_of(r)
            check(e is not None and ("service name" in e or "service_name" in e),
                  "service name with %s -> clear error" % what, r)
        after = open(path("bad-stub.log")).read() if os.path.exists(path("bad-stub.log")) else ""
        check(after == before, "no systemctl run for any refused name", after[len(before):])
        check(not os.path.exists("/tmp/pwned"), "nothing from a name was ever run")
        r = s.ask("start_service", {"service_name": "a" * 256}, id="n")
        check(ok(r), "a 256-byte name is accepted", r)
        for what, v in (("missing", None), ("a number", 5), ("empty", "")):
            r = s.ask("exec_command", {} if v is None else {"command": v})
            check(err_of(r) is not None and "command" in err_of(r), "exec_command with %s command -> error"
                  % what, r)
        r = s.ask("exec_command", {"command": "echo " + "x" * (100 << 10)}, id="big")
        e = err_of(r)
        check(e is not None and "at most" in e and r.get("id") == "big",
              "a 100 KiB command -> error (too long)", str(r)[:200])
        for t in (-1, 0, "5", [1]):
            r = s.ask("exec_command", {"command": "true", "timeout": t})
            check(err_of(r) is not None and "timeout" in err_of(r), "exec_command timeout %r -> error" % (t,), r)
        s.send_raw('{"status":"command","message":"exec_command","payload":{"command":"true","timeout":1e999}}')
        r = s.get()
        check(r and r.get("status", "").startswith("command_response"), "timeout 1e999 answered", r)
        s.send_raw('{"status":"command","message":"obtain_process_info","payload":"notanobject"}')
        r = s.get()
        check(err_of(r) is not None, "payload that is a string -> error", r)
        s.send_raw('{"status":"command","message":"obtain_process_info","payload":{"pid":1e3}}')
        r = s.get()
        check(r is not None and r.get("status", "").startswith("command_response"), "pid 1e3 answered", r)
        s.send_raw('{"status":"command","message":"obtain_process_info","payload":{"pid":99999999999999999999999}}')
        r = s.get()
        check(err_of(r) is not None, "pid with 23 digits -> error", r)
        check(s.up(), "agent still up and connected after all bad payloads")
    finally:
        s.close()


# ---------------------------------------------------------------- process churn and odd names

def test_vanishing_processes():
    s = Sess()
    churn = subprocess.Popen([sys.executable, "-c", r"""
import os, time, signal
end = time.time() + 4
while time.time() < end:
    kids = []
    for i in range(40):
        pid = os.fork()
        if pid == 0:
            time.sleep(0.002 * (i % 5))
            os._exit(0)
        kids.append(pid)
    for k in kids[::2]:
        try: os.kill(k, signal.SIGKILL)
        except OSError: pass
    for k in kids:
        os.waitpid(k, 0)
"""])
    _kids.append(churn)
    try:
        n, errs, bad = 0, [], 0
        t_end = time.monotonic() + 3
        while time.monotonic() < t_end:
            r = s.ask("obtain_all_process_info", timeout=10)
            n += 1
            if not ok(r):
                errs.append(r)
                break
            bad += sum(1 for p in r["payload"] if shape(p, LIST_ITEM))
        check(not errs and n >= 3, "%d listings while 40-process bursts fork and die: all succeed" % n,
              errs[:1])
        check(bad == 0, "no half-read entries (every entry complete)", bad)
        # single-process reads of processes that are going away
        errs2 = []
        for i in range(30):
            p = subprocess.Popen(["true"])
            s.send("obtain_process_info", {"pid": p.pid}, id=str(i))
            p.wait()
            r = s.get()
            if not r or r.get("id") != str(i) or not r.get("status", "").startswith("command_response"):
                errs2.append(r)
        check(not errs2, "obtain_process_info on dying processes answers (data or error)", errs2[:2])
        check(s.up(), "agent up after the churn")
    finally:
        churn.kill()
        churn.wait()
        s.close()
        reap_kids()


ODD_COMM = b'\xff"q\\\x01\t\xc3('      # invalid UTF-8, quote, backslash, controls
ODD_SETTER = r"""
import ctypes, os, sys, time
libc = ctypes.CDLL(None)
libc.prctl(15, ctypes.c_char_p(bytes.fromhex(sys.argv[1])), 0, 0, 0)
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(60)
"""


def test_odd_names():
    s = Sess()
    d = path("odd")
    os.makedirs(d, exist_ok=True)
    # a program file whose name holds odd bytes, with odd argv too
    exe = os.path.join(d.encode(), b'x\xfe"\\\x02y')
    os.symlink(b"/bin/sleep", exe)
    p1 = spawn([sys.executable, "-c", ODD_SETTER, ODD_COMM.hex()], stdout=subprocess.PIPE)
    p1.stdout.readline()
    # a name that looks like the rest of /proc/PID/stat: "x) R 1 2 (y"
    p4 = spawn([sys.executable, "-c", ODD_SETTER, b"x) R 1 2 (y".hex()], stdout=subprocess.PIPE)
    p4.stdout.readline()
    p2 = spawn([exe, "299"], executable=exe)
    # sh keeps running (two commands: no exec of the last) with an odd $0 argument
    p3 = spawn(["sh", "-c", "sleep 298; true", "arg\xff\"\\\x01\u00e9".encode("latin-1")])
    try:
        time.sleep(0.1)
        c = s.c
        s.send("obtain_all_process_info", id="odd")
        raw = c.q.get(timeout=T(10))
        try:
            r = json.loads(raw)
            parsed = True
        except ValueError as e:
            r, parsed = None, False
            print("# bad JSON: %s" % e)
        check(parsed, "process list with odd names is valid JSON")
        lst = r["payload"] if r else []
        by = {p["pid"]: p for p in lst}
        e1 = by.get(p1.pid)
        want1 = ODD_COMM.decode("utf-8", "replace")
        check(e1 and e1["name"] == want1, "prctl name %r arrives as %r" % (ODD_COMM, want1),
              e1 and e1.get("name"))
        e2 = by.get(p2.pid)
        check(e2 and U_FFFD in e2["name"] and '"' in e2["name"] and "\\" in e2["name"],
              "exec'd file with odd bytes: name keeps quote/backslash, U+FFFD for invalid bytes",
              e2 and e2.get("name"))
        e3 = by.get(p3.pid)
        check(e3 and e3["cmdline"] and U_FFFD in e3["cmdline"] and '"\\\x01' in e3["cmdline"],
              "cmdline with invalid bytes and controls survives as valid JSON", e3 and e3.get("cmdline"))
        e4 = by.get(p4.pid)
        check(e4 and e4["name"] == "x) R 1 2 (y" and e4["ppid"] == os.getpid() and e4["state"] == "sleeping",
              "a name holding ') R 1 2 (' does not confuse the stat parser", e4)
        r = s.ask("obtain_process_info", {"pid": p1.pid})
        check(ok(r) and r["payload"]["name"] == want1, "obtain_process_info of the odd name", r)
        r = s.ask("obtain_process_info", {"pid": p4.pid})
        check(ok(r) and r["payload"]["name"] == "x) R 1 2 (y" and r["payload"]["ppid"] == os.getpid(),
              "obtain_process_info of the ')' name", r)
        # exec output with invalid UTF-8 and controls
        r = s.ask("exec_command", {"command": r"""printf 'a\377b"c\\d\001e\033[0m\n'; printf '\376' >&2"""})
        check(ok(r) and r["payload"]["stdout"] == 'a\ufffdb"c\\d\x01e\x1b[0m\n' and
              r["payload"]["stderr"] == U_FFFD, "exec output with invalid UTF-8 -> U+FFFD, JSON valid", r)
    finally:
        s.close()
        reap_kids()


# ---------------------------------------------------------------- exec

def test_exec_basic():
    s = Sess()
    try:
        r = s.ask("exec_command", {"command": "echo out; echo err >&2; exit 3"})
        check(ok(r) and not shape(r["payload"], EXEC), "exec_command reply shape", r)
        if ok(r):
            p = r["payload"]
            check(p["stdout"] == "out\n" and p["stderr"] == "err\n" and p["exit_code"] == 3 and
                  p["signal"] is None and not p["timed_out"] and not p["truncated"],
                  "exec: stdout, stderr, exit code", p)
            check(p.get("total_bytes") == {"stdout": 4, "stderr": 4}, "exec: total_bytes", p.get("total_bytes"))
        r = s.ask("exec_command", {"command": "kill -KILL $$"}, id="k")
        check(ok(r) and r["payload"]["signal"] == "SIGKILL" and r["payload"]["exit_code"] is None,
              "exec killed by a signal: signal SIGKILL, exit_code null", r)
        r = s.ask("exec_command", {"command": "cat; echo done"})
        check(ok(r) and r["payload"]["stdout"] == "done\n", "stdin is /dev/null", r)
        r = s.ask("exec_command", {"command": "ps -o pgid= -p $$; ps -o pid= -p $$"})
        if ok(r):
            v = r["payload"]["stdout"].split()
            check(len(v) == 2 and v[0] == v[1], "exec runs in its own process group", v)
    finally:
        s.close()


def test_exec_environment():
    tok = new_token()
    s = Sess(env={"NESTD_TOKEN": tok, "CLIENT_TOKEN": tok, "KEEP_ME": "yes"})
    try:
        r = s.ask("exec_command", {"command": "env"})
        out = r["payload"]["stdout"] if ok(r) else ""
        check(ok(r) and "KEEP_ME=yes" in out, "exec sees the agent's environment", out[:200])
        check("NESTD_TOKEN" not in out and "CLIENT_TOKEN" not in out and tok not in out,
              "exec environment has no NESTD_TOKEN/CLIENT_TOKEN", out)
    finally:
        s.close()


def test_exec_flood():
    s = Sess(["--max-output", "1M"])
    try:
        n = 50 << 20
        t0 = time.monotonic()
        r = s.ask("exec_command", {"command": "printf HEADMARK; head -c %d /dev/zero | tr '\\0' x; "
                                   "printf TAILMARK; echo e >&2" % n}, timeout=60)
        dt = time.monotonic() - t0
        check(ok(r), "exec printing 50 MiB answers (%.1f s)" % dt, str(r)[:300])
        if ok(r):
            p = r["payload"]
            out = p["stdout"]
            check(p["truncated"] is True, "truncated = true")
            check(p.get("total_bytes", {}).get("stdout") == n + 16, "total_bytes.stdout = 50 MiB + 16",
                  p.get("total_bytes"))
            check(out.startswith("HEADMARKxxxx") and out.endswith("xxxxTAILMARK"),
                  "head and tail kept", (out[:20], out[-20:]))
            check(len(out) <= (1 << 20) + 4096, "stdout within --max-output 1M (%d bytes)" % len(out))
            check(p["stderr"] == "e\n" and p["exit_code"] == 0, "stderr and exit code intact", p["stderr"])
        check(s.up(), "agent up after the flood")
    finally:
        s.close()


def test_exec_timeout():
    s = Sess()
    tag = "3131.%d" % os.getpid()
    try:
        t0 = time.monotonic()
        r = s.ask("exec_command", {"command": "sleep %s & sleep %s; echo never" % (tag, tag), "timeout": 1},
                  timeout=20)
        dt = time.monotonic() - t0
        check(ok(r) and r["payload"]["timed_out"] is True, "exec that never ends, timeout 1 -> timed_out", r)
        check(dt < T(6), "timed-out reply within a few seconds (%.1f s)" % dt)
        if ok(r):
            check(r["payload"]["signal"] in ("SIGTERM", "SIGKILL") and r["payload"]["exit_code"] is None,
                  "timed out exec reports the signal", r["payload"])
        left = wait_until(lambda: not ps_sleeps(tag), 3)
        check(left, "the whole process group killed: no sleep survives", ps_sleeps(tag))
        # a group that ignores TERM is KILLed
        tag2 = "3132.%d" % os.getpid()
        r = s.ask("exec_command", {"command": "trap '' TERM; sleep %s & trap '' TERM; sleep %s" % (tag2, tag2),
                                   "timeout": 1}, timeout=20)
        check(ok(r) and r["payload"]["timed_out"], "a TERM-ignoring command times out too", r)
        check(wait_until(lambda: not ps_sleeps(tag2), 5), "and its group is KILLed", ps_sleeps(tag2))
        check(s.up(), "agent answers after timeouts")
    finally:
        for p in ps_sleeps(tag) + ps_sleeps("3132.%d" % os.getpid()):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        s.close()


def test_exec_daemon():
    s = Sess(["--exec-timeout", "20"])
    tag = "3133.%d" % os.getpid()
    try:
        t0 = time.monotonic()
        # the grandchild leaves the group (setsid) and keeps stdout/stderr open
        r = s.ask("exec_command", {"command": "setsid sleep %s & echo started" % tag, "timeout": 15},
                  timeout=30)
        dt = time.monotonic() - t0
        check(ok(r) and r["payload"]["stdout"].startswith("started") and r["payload"]["exit_code"] == 0,
              "exec forking a daemon that keeps the pipe open: reply arrives", r)
        check(dt < T(5), "and promptly, not when the daemon ends (%.1f s)" % dt)
        check(s.up(), "agent answers while the daemon lives")
        d = ps_sleeps(tag)
        # the daemon ended (its timer): reaped by the agent as subreaper
        for p in d:
            os.kill(p, signal.SIGKILL)
        time.sleep(0.5)
        z = [c for c in children_of(s.a.pid) if c[1] == "Z"]
        check(d and not z, "daemon inherited by the agent (subreaper) and reaped: no zombie child", (d, z))
        # many short-lived daemons
        r = s.ask("exec_command", {"command": "for i in 1 2 3 4 5 6 7 8; do (sleep 0.2 &) ; done; echo x"},
                  timeout=20)
        time.sleep(1.0)
        z = [c for c in children_of(s.a.pid) if c[1] == "Z"]
        check(ok(r) and not z, "8 double-forked grandchildren reaped: no zombies", z)
    finally:
        for p in ps_sleeps(tag):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        s.close()


def test_exec_concurrency():
    s = Sess(["--max-exec", "4"])
    try:
        for i in range(20):
            s.send("exec_command", {"command": "sleep 0.5; echo %d" % i}, id="e%d" % i)
        got = [s.get(10) for _ in range(20)]
        okk = [g for g in got if ok(g)]
        busy = [g for g in got if err_of(g) is not None and "busy" in err_of(g)]
        check(len(okk) == 4 and len(busy) == 16, "20 concurrent execs with --max-exec 4: 4 run, 16 busy",
              (len(okk), len(busy), [g for g in got if not ok(g) and g not in busy][:2]))
        check(sorted(g["id"] for g in okk) == ["e0", "e1", "e2", "e3"], "the first four ran",
              [g["id"] for g in okk])
        check(all(g["payload"]["stdout"] == g["id"][1:] + "\n" for g in okk), "each with its own output")
        check(all(g and g.get("id") for g in got) and len({g["id"] for g in got}) == 20,
              "every command answered once, with its id")
        # the busy ones come back first (no waiting behind the sleeps)
        first = [g["id"] for g in got[:16]]
        check(all(err_of(g) for g in got[:16]), "busy replies come back before the running ones", first)
        r = s.ask("exec_command", {"command": "echo again"})
        check(ok(r) and r["payload"]["stdout"] == "again\n", "slots free again afterwards", r)
    finally:
        s.close()


# ---------------------------------------------------------------- signals

def test_signals():
    s = Sess()
    try:
        p = spawn(["sleep", "300"])
        r = s.ask("pause_process", {"pid": p.pid})
        check(ok(r) and r["payload"] == {"pid": p.pid}, "pause_process -> {pid}", r)
        check(wait_until(lambda: proc_state(p.pid) == "T", 3), "paused: /proc state T", proc_state(p.pid))
        r = s.ask("obtain_process_info", {"pid": p.pid})
        check(ok(r) and r["payload"]["status"] == "stopped", "status 'stopped'", r)
        r = s.ask("resume_process", {"pid": p.pid})
        check(ok(r) and r["payload"] == {"pid": p.pid}, "resume_process -> {pid}", r)
        check(wait_until(lambda: proc_state(p.pid) not in ("T", None), 3), "resumed: state not T",
              proc_state(p.pid))
        r = s.ask("kill_process", {"pid": p.pid})
        check(ok(r) and r["payload"] == {"pid": p.pid, "signal": "SIGTERM"},
              "kill_process default SIGTERM -> {pid, signal}", r)
        check(p.wait(5) == -signal.SIGTERM, "the sleep died of SIGTERM", p.returncode)
        check(proc_state(p.pid) is None, "gone from /proc")
        for meth, sig in (("SIGKILL", signal.SIGKILL), ("SIGUSR1", signal.SIGUSR1), ("HUP", signal.SIGHUP)):
            q = spawn(["sleep", "300"])
            r = s.ask("kill_process", {"pid": q.pid, "method": meth})
            check(ok(r) and r["payload"]["signal"] == "SIG" + meth.replace("SIG", "") and
                  q.wait(5) == -sig, "kill_process method %s" % meth, r)
        r = s.ask("kill_process", {"pid": p.pid})
        e = err_of(r)
        check(e is not None and "no such process" in e.lower(), "kill a gone pid -> ESRCH text", r)
        for c in ("kill_process", "pause_process", "resume_process"):
            for what, pid in (("pid 1", 1), ("the agent's own pid", s.a.pid)):
                r = s.ask(c, {"pid": pid, "method": "SIGKILL"} if c == "kill_process" else {"pid": pid})
                check(err_of(r) is not None and "refus" in err_of(r).lower() or
                      err_of(r) is not None and "not allowed" in err_of(r).lower(),
                      "%s on %s refused" % (c, what), r)
        check(s.a.alive() and s.up(), "agent alive after refusing to signal itself")
    finally:
        s.close()
        reap_kids()


def test_nonroot_kill():
    if not can_run_as_others():
        return skip("test_nonroot_kill", "needs root and a / that other uids can search, to drop to uid 65534")
    target = spawn(["sleep", "300"])

    def pre(url, tok):
        # Proc runs [nestlib.NESTD] + args: make setpriv the program for this one
        import nestlib
        old = nestlib.NESTD
        nestlib.NESTD = "/usr/bin/setpriv"
        try:
            return nestlib.Proc(["--reuid=65534", "--regid=65534", "--clear-groups", old, "agent",
                                 "--server", url, "--log-level", "debug", "--services", "none"],
                                "agent-nobody", env={"NESTD_TOKEN": tok})
        finally:
            nestlib.NESTD = old
    s = Sess(pre=pre)
    try:
        st = os.stat("/proc/%d" % s.a.pid)
        # s.a.pid is setpriv's pid, which exec'd nestd in place
        check(st.st_uid == 65534, "agent runs as uid 65534", st.st_uid)
        r = s.ask("kill_process", {"pid": target.pid})
        e = err_of(r)
        check(e is not None and ("not permitted" in e.lower() or "eperm" in e.lower() or "permission" in e.lower()),
              "killing a root-owned sleep as nobody -> EPERM text", r)
        check(target.poll() is None, "the sleep still lives")
        r = s.ask("pause_process", {"pid": target.pid})
        check(err_of(r) is not None, "pause of a root process refused (EPERM)", r)
        r = s.ask("obtain_process_info", {"pid": target.pid})
        check(ok(r) and r["payload"]["user"] == "root", "but it can be read (user root)", r)
        own = s.ask("exec_command", {"command": "sleep 300 & echo $!"})
        if ok(own):
            pid = int(own["payload"]["stdout"].split()[0])
            r = s.ask("kill_process", {"pid": pid})
            check(ok(r), "killing its own child works as nobody", r)
        check(s.up(), "nobody agent still up")
    finally:
        s.close()
        reap_kids()


# ---------------------------------------------------------------- ordering

def test_ordering():
    s = Sess()
    try:
        seq = []
        for i in range(10):
            if i in (0, 4, 7):
                seq.append(("exec_command", {"command": "sleep 0.3; echo %d" % i}))
            elif i % 3 == 1:
                seq.append(("obtain_system_info", None))
            elif i % 3 == 2:
                seq.append(("obtain_process_info", {"pid": os.getpid()}))
            else:
                seq.append(("nope_%d" % i, None))
        for name, p in seq:
            s.send(name, p)
        got = [s.get(10) for _ in seq]
        check([g and g.get("message") for g in got] == ["response_" + n for n, _ in seq],
              "10 commands without ids (slow execs among fast reads): replies in command order",
              [g and g.get("message") for g in got])
        check(all(g and "id" not in g for g in got), "replies without id carry no id")
        ex = [g["payload"]["stdout"] for g in got if g and g.get("message") == "response_exec_command"]
        check(ex == ["0\n", "4\n", "7\n"], "each exec reply is its own", ex)

        s.send("exec_command", {"command": "sleep 0.3; echo slow"}, id="slow")
        s.send("obtain_system_info", id="fast")
        a, b = s.get(), s.get()
        check(a and b and a.get("id") == "fast" and b.get("id") == "slow",
              "with ids the fast reply may overtake the slow one", (a and a.get("id"), b and b.get("id")))
        # mixing: an id-less command behind an id'd slow one is still answered
        s.send("exec_command", {"command": "sleep 0.3"}, id="slow2")
        s.send("obtain_system_info")
        a, b = s.get(), s.get()
        check(a and b and {a.get("id"), b.get("id")} == {"slow2", None}, "mixed id/no-id both answered",
              (a and a.get("id"), b and b.get("id")))
    finally:
        s.close()


# ---------------------------------------------------------------- services

def test_services_systemd():
    log = path("systemctl-stub.log")
    s = Sess(["--services", "systemd", "--systemctl", os.path.join(STUBS, "systemctl")],
             env={"NESTD_STUB_LOG": log})

    def calls():
        try:
            with open(log) as f:
                return f.read().splitlines()
        except OSError:
            return []
    try:
        n0 = len(calls())
        for act in ("start", "stop", "restart", "reload"):
            r = s.ask(act + "_service", {"service_name": "nginx"})
            check(ok(r) and r["payload"] == {"service_name": "nginx.service", "action": act} or
                  ok(r) and r["payload"].get("action") == act and "nginx" in r["payload"].get("service_name", ""),
                  "%s_service -> {service_name, action}" % act, r)
        c = calls()[n0:]
        check(len(c) == 4 and all(l.endswith(" nginx.service") for l in c),
              "systemctl got 'nginx.service' (.service appended)", c)
        r = s.ask("start_service", {"service_name": "getty@tty1"})
        r2 = s.ask("start_service", {"service_name": "foo.timer"})
        r3 = s.ask("start_service", {"service_name": "a:b_c.d@e-f\\x2d"})
        c = calls()[n0 + 4:]
        check(ok(r) and ok(r2) and ok(r3) and c[0].endswith(" getty@tty1.service") and
              c[1].endswith(" foo.timer"), "suffix kept when given, appended otherwise", c)
        # exactly one argv element: a stand-in that prints its argv count
        argc_log = path("argc.log")
        wrap = path("systemctl-argc")
        with open(wrap, "w") as f:
            f.write('#!/bin/sh\nfor a in "$@"; do printf "[%%s]" "$a"; done >> %s; echo >> %s\nexec %s "$@"\n'
                    % (argc_log, argc_log, os.path.join(STUBS, "systemctl")))
        os.chmod(wrap, 0o755)
        s.close()
        s = Sess(["--services", "systemd", "--systemctl", wrap], env={"NESTD_STUB_LOG": log}, name="agent-argc")
        r = s.ask("restart_service", {"service_name": "a:b_c.d@e-f\\x2d"})
        with open(argc_log) as f:
            line = f.read().splitlines()[-1]
        check(ok(r) and line.endswith("[a:b_c.d@e-f\\x2d.service]") and line.count("[") <= 4,
              "the unit name is exactly one argv element", line)
        r = s.ask("start_service", {"service_name": "missing"})
        e = err_of(r)
        check(e is not None and "not found" in e, "a failing systemctl returns its own message", r)
        r = s.ask("start_service", {"service_name": "slow"}, id="slow")
        check(ok(r), "a slow systemctl answers", r)
        r = s.ask("list_services")
        check(ok(r) and isinstance(r["payload"], list) and len(r["payload"]) >= 5, "list_services -> array", r)
        if ok(r):
            bad = [x for x in r["payload"] if shape(x, {"name": STR, "load_state": STR, "active_state": STR,
                                                        "sub_state": STR, "description": STR})]
            check(not bad, "list_services entries {name, load_state, active_state, sub_state, description}", bad)
            names = [x["name"] for x in r["payload"]]
            check("ssh.service" in names and "nginx.service" in names, "bullet-marked unit parsed", names)
        r = s.ask("obtain_service_info", {"service_name": "nginx"})
        spec = {"name": STR, "description": STR, "active_state": STR, "sub_state": STR,
                "file_location": STR_OR_NULL, "pid": INT_OR_NULL, "started": lambda v: v is None or is_num(v),
                "uptime": STR_OR_NULL}
        check(ok(r) and not shape(r["payload"], spec), "obtain_service_info shape", r)
        if ok(r):
            p = r["payload"]
            check(p["name"] == "nginx.service" and p["pid"] == 1234 and p["active_state"] == "active" and
                  p["file_location"] == "/lib/systemd/system/nginx.service" and
                  # the stand-in's wall time (2026-11-24 19:03:11 UTC) and its monotonic
                  # 1 s after boot disagree; either source is right on a real systemd
                  min(abs(p["started"] - 1795546991), abs(p["started"] - btime() - 1)) < 3 and
                  (p["uptime"] or "").startswith("Tue 2026-11-24 19:03:11 UTC"),
                  "obtain_service_info values (started epoch, uptime text)", p)
        r = s.ask("obtain_service_info", {"service_name": "missing"})
        check(r is not None and r.get("status", "").startswith("command_response"),
              "obtain_service_info of a missing unit answered", r)
    finally:
        s.close()


def test_services_openrc():
    log = path("openrc-stub.log")
    s = Sess(["--services", "openrc", "--rc-service", os.path.join(STUBS, "rc-service"),
              "--rc-status", os.path.join(STUBS, "rc-status")], env={"NESTD_STUB_LOG": log})
    try:
        r = s.ask("restart_service", {"service_name": "sshd"})
        check(ok(r) and r["payload"].get("action") == "restart", "openrc restart_service", r)
        r = s.ask("list_services")
        check(ok(r) and isinstance(r["payload"], list) and r["payload"], "openrc list_services", r)
        try:
            c = open(log).read()
        except OSError:
            c = ""
        check("rc-service sshd restart" in c or "sshd" in c, "rc-service called with the name", c)
    finally:
        s.close()


def test_services_none():
    s = Sess(["--services", "none"])
    try:
        for c in ("start_service", "stop_service", "restart_service", "reload_service",
                  "obtain_service_info", "list_services"):
            r = s.ask(c, None if c == "list_services" else {"service_name": "nginx"})
            e = err_of(r)
            check(e is not None and "no service manager" in e.lower(), "--services none: %s says so" % c, r)
        check(json.loads(s.c.hello)["payload"].get("services") == "none", "hello says services none")
    finally:
        s.close()


# ---------------------------------------------------------------- policy

def test_policy():
    s = Sess(["--allow", "read,kill_process", "--deny", "obtain_system_info"])
    try:
        m = s.a.mark()
        r = s.ask("exec_command", {"command": "touch %s" % path("policy-ran")}, id="x")
        e = err_of(r)
        check(e is not None and "not allowed" in e and r.get("id") == "x", "exec refused by --allow", r)
        check(not os.path.exists(path("policy-ran")), "refused command did not run")
        check(s.a.wait_log(r"refused exec_command", since=m), "agent logs the refusal")
        r = s.ask("obtain_system_info")
        check(err_of(r) is not None and "not allowed" in err_of(r), "--deny beats --allow", r)
        r = s.ask("obtain_process_info", {"pid": os.getpid()})
        check(ok(r), "allowed group 'read' works", r)
        r = s.ask("pause_process", {"pid": os.getpid()})
        check(err_of(r) is not None and "not allowed" in err_of(r), "pause_process not in the allow list", r)
        cmds = json.loads(s.c.hello)["payload"].get("commands")
        check(cmds is not None and "exec_command" not in cmds and "kill_process" in cmds and
              "obtain_system_info" not in cmds, "hello lists only the allowed commands", cmds)
    finally:
        s.close()
    s = Sess(["--deny", "exec,service"], name="agent-deny")
    try:
        r = s.ask("exec_command", {"command": "true"})
        check(err_of(r) is not None and "not allowed" in err_of(r), "--deny exec group", r)
        r = s.ask("restart_service", {"service_name": "x"})
        check(err_of(r) is not None and "not allowed" in err_of(r), "--deny service group", r)
        # the 'service' group is the changing commands; list_services and
        # obtain_service_info belong to 'read' (agent_cmd.c cmd_tab)
        r = s.ask("obtain_process_info", {"pid": 1})
        check(ok(r), "everything else allowed", r)
    finally:
        s.close()
    cf = path("agent.conf")
    with open(cf, "w") as f:
        f.write("deny = process\n")
    s = Sess(["--config", cf], name="agent-conf")
    try:
        r = s.ask("kill_process", {"pid": 4000000 - 7})
        check(err_of(r) is not None and "not allowed" in err_of(r), "deny from the config file", r)
    finally:
        s.close()
    from nestlib import run
    rc, out, err = run(["agent", "--server", "ws://127.0.0.1:1/", "--allow", "reed"], env={"NESTD_TOKEN": new_token()})
    check(rc == 2 and "reed" in err, "unknown --allow name -> usage error", (rc, err))


# ---------------------------------------------------------------- stop mid-exec

def test_restart_mid_exec():
    tag = "3134.%d" % os.getpid()
    s = Sess(name="agent-mid")
    try:
        s.send("exec_command", {"command": "sleep %s; echo done" % tag, "timeout": 60}, id="long")
        check(wait_until(lambda: ps_sleeps(tag), 5), "sleep running under the agent")
        t0 = time.monotonic()
        s.a.signal(signal.SIGTERM)
        rc = s.a.wait(10)
        dt = time.monotonic() - t0
        check(rc == 0, "agent exits 0 on SIGTERM mid-exec", rc)
        check(dt < T(3), "promptly (%.2f s)" % dt)
        check(wait_until(lambda: not ps_sleeps(tag), 3), "no orphan sleep survives", ps_sleeps(tag))
        check(s.c.done.wait(T(5)) and s.c.close_code == 1001, "connection closed 1001", s.c.close_code)
        a2 = agent(s.bot.url, s.tok, name="agent-mid2")
        c2 = s.bot.wait_conn(2)
        check(c2 is not None and a2.wait_log("authenticated to"), "restarted agent connects")
        if c2:
            s.bot.send(c2, cmd("exec_command", id="again", payload={"command": "echo back"}))
            r = c2.get()
            check(ok(r) and r["payload"]["stdout"] == "back\n", "restarted agent works", r)
        a2.stop()
    finally:
        for p in ps_sleeps(tag):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        s.close()


def kthreadd_visible():
    try:
        with open("/proc/2/comm") as f:
            return f.read().strip() == "kthreadd"
    except OSError:
        return False


def test_values_vs_psutil():
    """Field values against psutil (the reference client's source) and the
    kernel: user of a non-dumpable process, cpu_usage sampling, zombies."""
    try:
        import psutil
    except ImportError:
        psutil = None
    s = Sess()
    busy = spawn([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<60: pass"])
    idle = spawn(["sleep", "297"])
    # a non-dumpable process owned by nobody: /proc/PID is then root-owned
    nd = spawn(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                "import ctypes,sys,time\nctypes.CDLL(None).prctl(4,0,0,0,0)\n"
                "sys.stdout.write('ready\\n');sys.stdout.flush()\ntime.sleep(60)"], stdout=subprocess.PIPE)
    nd.stdout.readline()
    zombie = subprocess.Popen(["true"])     # never waited for until the end
    try:
        time.sleep(0.6)
        r = s.ask("obtain_all_process_info")
        by = {p["pid"]: p for p in r["payload"]} if ok(r) else {}
        st = os.stat("/proc/%d" % nd.pid)
        e = by.get(nd.pid)
        check(e and e["uid"] == 65534 and e["user"] == "nobody",
              "non-dumpable process of nobody (/proc/PID owned by %d, its status by %d): listed as nobody"
              % (st.st_uid, os.stat("/proc/%d/status" % nd.pid).st_uid), e)
        r1 = s.ask("obtain_process_info", {"pid": nd.pid})
        check(ok(r1) and r1["payload"]["user"] == "nobody" and r1["payload"]["uid"] == 65534,
              "obtain_process_info: non-dumpable process's real owner", r1 and r1.get("payload"))
        time.sleep(0.1)
        z = by.get(zombie.pid)
        check(z and z["state"] == "zombie", "a zombie reads 'zombie'", z)
        if not psutil:
            skip("test_values_vs_psutil: started, rss, vms, threads, ppid, cpu_time against psutil",
                 "python3-psutil is not installed (apt-get install python3-psutil)")
        else:
            for p in (busy, idle):
                q = psutil.Process(p.pid)
                r = s.ask("obtain_process_info", {"pid": p.pid})
                if not ok(r):
                    check(False, "obtain_process_info of a helper", r)
                    continue
                v = r["payload"]
                mi = q.memory_info()
                check(abs(v["started"] - q.create_time()) < 1.0, "started within 1 s of psutil's create_time",
                      (v["started"], q.create_time()))
                check(abs(v["memory"]["rss"] - mi.rss) <= max(mi.rss // 10, 1 << 20) and
                      abs(v["memory"]["vms"] - mi.vms) <= max(mi.vms // 10, 1 << 20),
                      "rss and vms in bytes, as psutil", (v["memory"], mi))
                check(v["threads"] == q.num_threads() and v["ppid"] == q.ppid(), "threads and ppid as psutil")
                ct = q.cpu_times()
                check(abs(v["cpu_time"]["user"] - ct.user) < 0.5, "cpu_time.user in seconds, as psutil",
                      (v["cpu_time"], ct))
        # cpu_usage: first sample a lifetime average, then since the previous sample
        # The spinner gets what the shared machine leaves it: compare with
        # the CPU the kernel charged it over the same window, not with 100%.
        def ticks(pid):
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        k0, w0 = ticks(busy.pid), time.monotonic()
        r = s.ask("obtain_process_info", {"pid": busy.pid})
        time.sleep(0.5)
        r2 = s.ask("obtain_process_info", {"pid": busy.pid})
        k1, w1 = ticks(busy.pid), time.monotonic()
        kernel_pct = (k1 - k0) * 100.0 / os.sysconf("SC_CLK_TCK") / (w1 - w0)
        s.ask("obtain_process_info", {"pid": idle.pid})
        time.sleep(0.5)
        ri2 = s.ask("obtain_process_info", {"pid": idle.pid})
        if ok(r2) and ok(ri2):
            cu = r2["payload"]["cpu_usage"]
            check(abs(cu - kernel_pct) <= max(15, 0.3 * kernel_pct) and cu > 5,
                  "a spinning process: cpu_usage %.1f as the kernel charged it (%.1f)" % (cu, kernel_pct))
            check(ri2["payload"]["cpu_usage"] < 5, "a sleeping process: cpu_usage ~0 (%.1f)"
                  % ri2["payload"]["cpu_usage"])
        else:
            check(False, "cpu_usage samples", (r2, ri2))
        t0 = time.monotonic()
        for i in range(50):
            s.send("obtain_process_info", {"pid": busy.pid}, id="c%d" % i)
        got = [s.get() for _ in range(50)]
        check(all(ok(g) for g in got) and time.monotonic() - t0 < T(2),
              "50 back-to-back samples answer without blocking", time.monotonic() - t0)
    finally:
        zombie.wait()
        s.close()
        reap_kids()


def test_exec_limits():
    s = Sess(["--exec-timeout", "1", "--max-output", "64K"])
    try:
        t0 = time.monotonic()
        r = s.ask("exec_command", {"command": "sleep 30", "timeout": 100}, timeout=20)
        dt = time.monotonic() - t0
        check(ok(r) and r["payload"]["timed_out"] and dt < T(4), "payload timeout capped by --exec-timeout 1 "
              "(%.1f s)" % dt, r)
        r = s.ask("exec_command", {"command": "head -c 3000000 /dev/zero | tr '\\0' e >&2; echo o"})
        if ok(r):
            p = r["payload"]
            check(p["truncated"] and len(p["stderr"]) <= (64 << 10) + 1024 and p["stdout"] == "o\n" and
                  p["total_bytes"]["stderr"] == 3000000, "stderr flood truncated at --max-output, stdout intact",
                  (len(p["stderr"]), p["total_bytes"]))
        else:
            check(False, "stderr flood answered", r)
        # 4 floods at once, each 20 MiB, while pings and reads still answer
        for i in range(4):
            s.send("exec_command", {"command": "head -c 20000000 /dev/zero"}, id="f%d" % i)
        r = s.ask("obtain_system_info", id="during")
        check(r and r.get("id") == "during", "reads answer while 4 floods run", r and r.get("id"))
        got = [s.get(30) for _ in range(4)]
        check(all(ok(g) and g["payload"]["total_bytes"]["stdout"] == 20000000 for g in got),
              "4 concurrent 20 MB floods all counted", [g and g.get("payload", {}).get("total_bytes") for g in got])
        check(s.up(), "agent up")
    finally:
        s.close()


def test_disconnect_mid_exec():
    tag = "3135.%d" % os.getpid()
    s = Sess(["--reconnect-min", "0.05", "--reconnect-max", "0.2"])
    try:
        s.send("exec_command", {"command": "sleep %s" % tag, "timeout": 60}, id="long")
        check(wait_until(lambda: ps_sleeps(tag), 5), "exec running")
        s.bot.close(s.c, 1000)
        c2 = s.bot.wait_conn(2)
        check(c2 is not None, "agent reconnects after the bot hangs up mid-exec")
        check(wait_until(lambda: not ps_sleeps(tag), 5),
              "the exec of the lost connection is cancelled (no orphan sleep)", ps_sleeps(tag))
        if c2:
            r = c2.get(2)
            check(r is None or r.get("id") != "long", "its reply never reaches the new connection", r)
            s.bot.send(c2, cmd("obtain_system_info", id="n"))
            r = c2.get()
            check(ok(r) and r.get("id") == "n", "new connection answers", r)
        time.sleep(0.3)
        z = [c for c in children_of(s.a.pid) if c[1] == "Z"]
        check(not z, "no zombie after the cancel", z)
    finally:
        for p in ps_sleeps(tag):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        s.close()


def test_max_output_vs_message_limit():
    """--max-output accepts up to 256M, but a reply can never exceed the
    16 MiB agent->server message limit; output that escapes (control bytes:
    6 bytes each) past it is cut further, head and tail kept."""
    s = Sess(["--max-output", "4M"])
    try:
        r = s.ask("exec_command", {"command": "head -c 4000000 /dev/zero | tr '\\0' '\\1'"}, timeout=60)
        check(ok(r) and r["payload"]["truncated"] and r["payload"]["total_bytes"]["stdout"] == 4000000,
              "exec with --max-output 4M printing 4 MB of control bytes: a (further) truncated reply",
              str(r)[:160])
        out = r["payload"]["stdout"] if ok(r) else ""
        check(out.startswith("\x01" * 1000) and out.endswith("\x01" * 1000) and "left out so the reply fits" in out,
              "the reply keeps the output's head and tail around a marker", out[:80])
        check(s.up(), "agent up after the too-large reply")
    finally:
        s.close()


def test_passwd_refresh():
    if not can_run_as_others():
        return skip("test_passwd_refresh", "needs root and a / that other uids can search")
    if not os.path.exists("/usr/bin/unshare"):
        return skip("test_passwd_refresh", "needs /usr/bin/unshare (util-linux)")
    pw = path("passwd")
    with open("/etc/passwd") as f:
        base = f.read()
    with open(pw, "w") as f:
        f.write(base)
    uid = 4242
    while any(l.split(":")[2] == str(uid) for l in base.splitlines() if l.count(":") >= 3):
        uid += 1

    def pre(url, tok):
        import nestlib
        old = nestlib.NESTD
        nestlib.NESTD = "/usr/bin/unshare"
        try:
            return nestlib.Proc(["-m", "sh", "-c", 'mount --bind "$0" /etc/passwd && exec "$@"', pw, old, "agent",
                                 "--server", url, "--log-level", "debug"], "agent-pw", env={"NESTD_TOKEN": tok})
        finally:
            nestlib.NESTD = old
    s = Sess(pre=pre)
    p = spawn(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups", "sleep", "296"])
    try:
        time.sleep(0.2)
        r = s.ask("obtain_process_info", {"pid": p.pid})
        check(ok(r) and r["payload"]["user"] == str(uid) and r["payload"]["uid"] == uid,
              "a uid without a passwd entry shows as its number", r and r.get("payload"))
        with open(pw, "a") as f:      # in place: the bind mount sees it
            f.write("nesttester:x:%d:%d::/nonexistent:/bin/false\n" % (uid, uid))
        # the agent looks at the file once a second: asked until it shows
        r = wait_until(lambda: (lambda r: r if ok(r) and r["payload"]["user"] == "nesttester" else None)(
            s.ask("obtain_process_info", {"pid": p.pid})), timeout=5, step=0.1)
        check(ok(r) and r["payload"]["user"] == "nesttester", "a user added to /etc/passwd shows up by name "
              "within a second, without restarting the agent", r and r.get("payload"))
        r = s.ask("obtain_all_process_info")
        e = [x for x in r["payload"] if x["pid"] == p.pid] if ok(r) else []
        check(e and e[0]["user"] == "nesttester", "and in the list", e)
    finally:
        s.close()
        reap_kids()


def test_exec_stress_and_service_order():
    s = Sess(["--services", "systemd", "--systemctl", os.path.join(STUBS, "systemctl"), "--max-exec", "8"],
             env={"NESTD_STUB_LOG": path("stress-stub.log")})
    try:
        t0 = time.monotonic()
        bad = None
        for i in range(300):
            r = s.ask("exec_command", {"command": "true"}, id=str(i), timeout=5)
            if not ok(r) or r.get("id") != str(i):
                bad = (i, r)
                break
        check(bad is None, "300 execs one after another, none lost (%.2f s)" % (time.monotonic() - t0), bad)
        bad = None
        for k in range(50):
            for i in range(8):
                s.send("exec_command", {"command": "true"}, id="b%d.%d" % (k, i))
            g = [s.get(5) for _ in range(8)]
            if not all(ok(x) for x in g):
                bad = g
                break
        check(bad is None, "50 bursts of 8 execs at --max-exec 8: all answered (no lost SIGCHLD)", bad)
        time.sleep(0.2)
        z = [c for c in children_of(s.a.pid) if c[1] == "Z"]
        check(not z, "no zombie after 700 execs", z)
        seq = [("restart_service", {"service_name": "slow"}), ("obtain_system_info", None), ("list_services", None),
               ("obtain_service_info", {"service_name": "x"}), ("obtain_system_info", None)]
        for n, p in seq:
            s.send(n, p)
        g = [s.get(5) for _ in seq]
        check([x and x.get("message") for x in g] == ["response_" + n for n, _ in seq],
              "without ids: a slow service command keeps its place in the reply order",
              [x and x.get("message") for x in g])
        for i in range(10):
            s.send("restart_service", {"service_name": "slow"}, id="s%d" % i)
        g = [s.get(5) for _ in range(10)]
        busy = [x for x in g if err_of(x) and "busy" in err_of(x)]
        check(len(busy) == 2 and sum(1 for x in g if ok(x)) == 8,
              "10 service commands at once: 8 run, 2 get busy", [(x and x.get("id"), err_of(x)) for x in g])
    finally:
        s.close()


# ---------------------------------------------------------------- through nestd server

def api(srv, optok, method, url, body=None, timeout=20):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (srv.port, url), method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + optok,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=T(timeout)) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        b = e.read()
        try:
            return e.code, json.loads(b)
        except ValueError:
            return e.code, b


def test_through_server():
    tf = path("tokens")
    atok = token_new(tf, "box")
    optok = token_new(tf, "op", role="operator")
    srv = Server(tf)
    a = agent(srv.url, atok, ["--services", "systemd", "--systemctl", os.path.join(STUBS, "systemctl")],
              env={"NESTD_STUB_LOG": path("srv-stub.log")}, name="srv-agent")
    target = spawn(["sleep", "300"])
    try:
        check(a.wait_log("authenticated to"), "agent authenticated to nestd server")
        st, r = api(srv, optok, "POST", "/api/clients/box/commands", {"message": "obtain_all_process_info"})
        check(st == 200 and ok(r) and isinstance(r["payload"], list) and
              not [p for p in r["payload"] if shape(p, LIST_ITEM)], "server API: obtain_all_process_info",
              (st, str(r)[:200]))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                    {"message": "obtain_process_info", "payload": {"pid": target.pid}})
        check(st == 200 and ok(r) and not shape(r["payload"], PROC_INFO), "server API: obtain_process_info",
              (st, r))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands", {"message": "obtain_system_info"})
        check(st == 200 and ok(r) and not shape(r["payload"], SYS_INFO), "server API: obtain_system_info", (st, r))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                    {"message": "exec_command", "payload": {"command": "echo via-server"}})
        check(st == 200 and ok(r) and r["payload"]["stdout"] == "via-server\n", "server API: exec_command", (st, r))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                    {"message": "pause_process", "payload": {"pid": target.pid}})
        check(st == 200 and ok(r) and wait_until(lambda: proc_state(target.pid) == "T", 3),
              "server API: pause_process", (st, r))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                    {"message": "resume_process", "payload": {"pid": target.pid}})
        check(st == 200 and ok(r), "server API: resume_process", (st, r))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                    {"message": "kill_process", "payload": {"pid": target.pid, "method": "SIGKILL"}})
        check(st == 200 and ok(r) and target.wait(5) == -9, "server API: kill_process", (st, r))
        for c in ("start_service", "stop_service", "restart_service", "reload_service", "obtain_service_info"):
            st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                        {"message": c, "payload": {"service_name": "nginx"}})
            check(st == 200 and ok(r), "server API: %s" % c, (st, r))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands", {"message": "list_services"})
        check(st == 200 and ok(r) and isinstance(r["payload"], list), "server API: list_services", (st, r))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                    {"message": "kill_process", "payload": {"pid": "1"}})
        check(err_of(r) is not None and "pid" in err_of(r), "server API: bad payload -> command_response_error",
              (st, r))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                    {"message": "exec_command", "payload": {"command": "sleep 5", "timeout": 1}})
        check(st == 200 and ok(r) and r["payload"]["timed_out"], "server API: exec timeout 1", (st, r))
        st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                    {"message": "exec_command", "payload": {"command": "head -c 3000000 /dev/zero | tr '\\0' y"}})
        check(st == 200 and ok(r) and r["payload"]["truncated"], "server API: a 2 MiB-ish exec reply relayed",
              (st, str(r)[:200]))
        # the worst case at defaults: 1 MiB kept per stream, every byte a
        # control character (6 bytes escaped): a ~12 MiB reply, under 16 MiB
        st, r = api(srv, optok, "POST", "/api/clients/box/commands",
                    {"message": "exec_command", "payload": {"command": "head -c 3000000 /dev/zero | tr '\\0' '\\1';"
                                                            " head -c 3000000 /dev/urandom >&2"}}, timeout=60)
        check(st == 200 and ok(r) and r["payload"]["truncated"] and len(r["payload"]["stdout"]) >= 1000000,
              "server API: worst-case escaping at default --max-output relayed (~12 MiB)", (st, str(r)[:200]))
        check(a.alive() and "1009" not in srv.text(), "no 1009 on the way", srv.text()[-300:])
    finally:
        a.stop()
        srv.stop()
        reap_kids()


if __name__ == "__main__":
    main([test_read_commands, test_bad_payloads, test_vanishing_processes, test_odd_names,
          test_exec_basic, test_exec_environment, (test_exec_flood, 120), test_exec_timeout,
          test_exec_daemon, test_exec_concurrency, test_signals, test_nonroot_kill, test_ordering,
          test_services_systemd, test_services_openrc, test_services_none, test_policy,
          test_restart_mid_exec, test_through_server, test_values_vs_psutil, test_exec_limits,
          test_disconnect_mid_exec, test_max_output_vs_message_limit, test_passwd_refresh,
          test_exec_stress_and_service_order])
