#!/usr/bin/python3
"""orig_client.py - a model of the ORIGINAL Nest Management Bot's client
(API-Troubles/my-website, nest_management_bot/client.py, version 1.0.0),
written here from what it does (docs/ORIGINAL.md lists the facts); none of
its code is copied.  For test/it_original.py, which runs it under
the real `nestd server`.

  /usr/bin/python3 test/orig_client.py [--socket PATH] [--systemctl PATH]

Like the original it takes CLIENT_TOKEN (and DEV, WS_URL) from the
environment or from ./.env.nest-management-bot (the working directory's;
the environment wins), dials WS_URL when DEV=true and otherwise the Unix
socket /var/community/nest-management-bot.sock (--socket overrides the path,
for tests only), sends its hello WITHOUT a message, and then answers each
command in order, in the original's shapes, from the local /proc (psutil's
view of it) and `nest` (Hack Club Nest's CLI) on PATH.  Service commands
go to `systemctl --user` (--systemctl: a stand-in) where the original used
systemd's D-Bus API; jobs are queued (--no-block) as StartUnit(...,
'replace') queued them.

It exits (status 1) exactly where the original stops for good: an error
from the server, any message after authentication that is not a command
(an `info` included), a command it does not know ("Server sent illegal
command ..."), and the commands its code does not guard (no such unit, no
`nest` tool, a pid that is not an integer for obtain_process_info, a
process it may not read, ...).  A clean close (1000/1001) reconnects, as
the original's `async for websocket in connect(...)` did; an abnormal one
ends it.

Every event is one JSON line on stdout: {"ev": "connected"|"hello"|
"recv"|"sent"|"authenticated"|"closed"|"exit", ...}.
"""
import asyncio
import datetime
import json
import os
import signal
import subprocess
import sys

import websockets

VERSION = "1.0.0"
SOCKET = "/var/community/nest-management-bot.sock"
ENV_FILE = ".env.nest-management-bot"
GONE_TAIL = (" it no longer exists :( You can safely close this error window and continue life as "
             "normal. (sry for the scare lol)")
SHRUG = "\u00af\\_(\u30c4)_/\u00af"

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# psutil's words for /proc/PID/stat's state letter.
STATES = {"R": "running", "S": "sleeping", "D": "disk-sleep", "T": "stopped", "t": "tracing-stop",
          "Z": "zombie", "X": "dead", "x": "dead", "K": "wake-kill", "W": "waking", "I": "idle",
          "P": "parked"}


def event(ev, **kw):
    kw["ev"] = ev
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


class Fatal(Exception):
    """Where the original raises out of its loop and the process ends."""


# ---------------------------------------------------------------- .env

def load_env_file(path):
    """python-dotenv's reading of KEY=VALUE lines (export, comments, quotes);
    never overrides what the environment already holds."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return
    for line in lines:
        s = line.strip()
        if not s or s.startswith("#") or "=" not in s:
            continue
        if s.startswith("export "):
            s = s[7:].lstrip()
        k, v = s.split("=", 1)
        k, v = k.strip(), v.strip()
        if v[:1] in ("'", '"') and v[-1:] == v[:1] and len(v) >= 2:
            v = v[1:-1]
        elif " #" in v:
            v = v.split(" #", 1)[0].rstrip()
        os.environ.setdefault(k, v)


# ---------------------------------------------------------------- /proc, as psutil sees it

class NoSuchProcess(Exception):
    def __init__(self, pid):
        Exception.__init__(self, "process no longer exists (pid=%s)" % pid)


class AccessDenied(Exception):
    def __init__(self, pid):
        Exception.__init__(self, "(pid=%s)" % pid)


def _read(pid, name, mode="r"):
    try:
        with open("/proc/%d/%s" % (pid, name), mode) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError):
        raise NoSuchProcess(pid)
    except PermissionError:
        raise AccessDenied(pid)


class Process:
    def __init__(self, pid=None):
        if pid is None:                       # psutil: the calling process
            pid = os.getpid()
        if not isinstance(pid, int):
            raise TypeError("pid must be an integer (got %r)" % (pid,))
        if pid < 0:
            raise ValueError("pid must be a positive integer (got %d)" % pid)
        self.pid = pid
        if not os.path.isdir("/proc/%d" % pid):
            raise NoSuchProcess(pid)

    def _stat(self):
        s = _read(self.pid, "stat", "rb").decode("utf-8", "surrogateescape")
        comm = s[s.index("(") + 1:s.rindex(")")]
        return comm, s[s.rindex(")") + 2:].split()

    def name(self):
        comm = self._stat()[0]
        if len(comm) >= 15:
            argv = _read(self.pid, "cmdline", "rb").split(b"\0")
            if argv and argv[0]:
                ext = os.path.basename(argv[0].decode("utf-8", "surrogateescape"))
                if ext.startswith(comm):
                    comm = ext
        return comm

    def status(self):
        return STATES.get(self._stat()[1][0], "?")

    def cpu_times(self):
        f = self._stat()[1]
        return int(f[11]) / CLK_TCK, int(f[12]) / CLK_TCK

    def create_time(self):
        with open("/proc/stat") as fh:
            btime = next(int(l.split()[1]) for l in fh if l.startswith("btime"))
        return btime + int(self._stat()[1][19]) / CLK_TCK

    def memory_full_info(self):
        rss = int(_read(self.pid, "statm").split()[1]) * PAGE
        swap = 0
        for line in _read(self.pid, "smaps_rollup").splitlines():
            if line.startswith("Swap:"):
                swap = int(line.split()[1]) * 1024
        return rss, swap

    def send_signal(self, sig):
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            raise NoSuchProcess(self.pid)
        except PermissionError:
            raise AccessDenied(self.pid)


def all_pids():
    return sorted(int(d) for d in os.listdir("/proc") if d.isdigit())


# ---------------------------------------------------------------- commands

def ok(payload=None, message=None):
    r = {"status": "command_response"}
    if message is not None:
        r["message"] = message
    if payload is not None:
        r["payload"] = payload
    return r


def proc_gone(what, pid):
    return {"status": "command_response_error", "message": "Could not %s process," % what + GONE_TAIL,
            "payload": {"pid": pid}}


def cmd_all_processes(payload):
    out = []
    for pid in all_pids():
        try:
            out.append({"pid": pid, "name": Process(pid).name()})
        except NoSuchProcess:
            # The original crashed when a process vanished mid-listing (psutil
            # raised out of name()); the model skips it, or the tests would
            # flake on every short-lived process of the machine.
            continue
    return ok(out)


def cmd_process_info(payload):
    pid = payload.get("pid")
    try:
        p = Process(pid)
    except NoSuchProcess:
        return {"status": "command_response_error", "message": "Could not get process info," + GONE_TAIL,
                "payload": {"pid": pid}}
    rss, swap = p.memory_full_info()          # AccessDenied: the original crashed here
    name = p.name()
    user, system = p.cpu_times()
    return ok({"pid": p.pid, "name": name, "cpu_usage": 0.0,  # psutil's first cpu_percent() is 0.0
               "cpu_time": {"user": user, "system": system}, "status": p.status(),
               "memory": {"rss": rss, "swap": swap}, "started": p.create_time(),
               "safe_kill": p.pid != os.getpid() and name != "dbus-daemon"})


def _signal_cmd(what, done, failed, sigs):
    def run(payload):
        pid = payload.get("pid")
        try:
            try:
                p = Process(pid)
            except NoSuchProcess:
                return proc_gone(what, pid)
            sig = sigs(payload)
            if sig is not None:
                p.send_signal(sig)
            return ok(message=done)
        except Exception as e:
            return {"status": "command_response_error", "message": "%s Error: %s" % (failed, e)}
    return run


def _kill_signal(payload):
    m = payload.get("method")
    # Only these two exact words do anything; anything else (or nothing)
    # kills nothing and still answers success.
    return signal.SIGKILL if m == "SIGKILL" else signal.SIGTERM if m == "SIGTERM" else None


cmd_kill = _signal_cmd("kill", "You're a killer now... >:( (process was killed successfully)",
                       "Process was not killed.", _kill_signal)
cmd_pause = _signal_cmd("pause", "Poor process didn't even get a choice, it was just forced to SIGSTOP",
                        "Process was not paused.", lambda p: signal.SIGSTOP)
cmd_resume = _signal_cmd("resume", "Keep going! The process is back in action (SIGCONT) :D",
                         "Process was not resumed.", lambda p: signal.SIGCONT)


SYSTEMCTL = "systemctl"


def systemctl(*args):
    return subprocess.run([SYSTEMCTL, "--user"] + list(args), capture_output=True, text=True)


def unit_props(unit):
    r = systemctl("show", "--no-pager", "--", unit)
    props = dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)
    if r.returncode != 0 or props.get("LoadState") == "not-found":
        # GetUnit raised NoSuchUnit, which the original did not catch.
        raise Fatal("org.freedesktop.systemd1.NoSuchUnit: Unit %s not loaded." % unit)
    return props


def cmd_list_services(payload):
    r = systemctl("list-units", "--type=service", "--all", "--no-pager", "--no-legend", "--plain")
    mine = os.path.expanduser("~/.config/systemd/user")
    names = []
    for line in r.stdout.splitlines():
        w = line.replace("\u25cf", " ").split()
        if w and w[0].endswith(".service") and unit_props(w[0]).get("FragmentPath", "").startswith(mine):
            names.append(w[0])
    return ok(names)


def naturaltime(then):
    d = (datetime.datetime.now() - then).total_seconds()
    suffix = "ago" if d >= 0 else "from now"
    d = abs(d)
    for n, one, many in ((86400, "a day", "days"), (3600, "an hour", "hours"), (60, "a minute", "minutes")):
        if d >= n:
            k = int(d // n)
            return "%s %s" % (one if k == 1 else "%d %s" % (k, many), suffix)
    return "now" if d < 1 else "%d seconds %s" % (d, suffix)


def service_name(payload):
    name = payload["service_name"]            # KeyError: the original crashed
    return name if name.endswith(".service") else name + ".service"


def cmd_service_info(payload):
    name = service_name(payload)
    p = unit_props(name)
    pid = int(p.get("MainPID") or 0)
    uptime = "Unable to calculate :("
    ts = p.get("ActiveEnterTimestamp", "")
    if pid > 0 and ts:
        then = datetime.datetime.strptime(" ".join(ts.split()[:3]), "%a %Y-%m-%d %H:%M:%S")
        # A naive datetime's %Z is empty: the original showed "...:11 ; 2 hours ago".
        uptime = "%s; %s" % (then.strftime("%a %Y-%m-%d %H:%M:%S %Z"), naturaltime(then))
    return ok({"name": name, "description": p.get("Description", ""),
               "active_state": p.get("ActiveState", ""), "sub_state": p.get("SubState", ""),
               "file_location": p.get("FragmentPath", ""), "uptime": uptime, "pid": pid})


def _service_cmd(verb, done, failed):
    def run(payload):
        name = service_name(payload)
        r = systemctl("--no-block", verb, "--", name)
        if r.returncode == 0:
            return ok(message=done)
        return {"status": "command_response_error",
                "payload": {"error": "%s%s" % (failed, "DBusException(%r)" % r.stderr.strip())}}
    return run


def cmd_user_usages(payload):
    res = subprocess.run(["nest", "resources"], capture_output=True, text=True, check=True)
    du = subprocess.run(["du", "--max-depth=1", "-c", "-b", os.getcwd()], capture_output=True,
                        text=True, check=True)
    return ok({"resources": res.stdout, "storage": [l.split("\t") for l in du.stdout.splitlines()]})


def cmd_get_port(payload):
    r = subprocess.run(["nest", "get_port"], capture_output=True, text=True, check=True)
    return ok(r.stdout, "Here's a port for you :D ~~stolen~~")


COMMANDS = {
    "obtain_user_usages": cmd_user_usages,
    "obtain_all_process_info": cmd_all_processes,
    "obtain_process_info": cmd_process_info,
    "kill_process": cmd_kill,
    "pause_process": cmd_pause,
    "resume_process": cmd_resume,
    "list_services": cmd_list_services,
    "obtain_service_info": cmd_service_info,
    "start_service": _service_cmd("start", "Started service, what a lovely day :D",
                                  "Service was not started. Error: "),
    "stop_service": _service_cmd("stop", "Service stopped, what a sad day :(",
                                 "Service was not stopped. Error: "),
    "restart_service": _service_cmd("restart", "Service was given a bit of a mental restart " + SHRUG,
                                    "Service was not restarted. Error: "),
    "reload_service": _service_cmd("reload", "Service was given a mental reload " + SHRUG,
                                   "Service was not reloaded. "),
    "get_port": cmd_get_port,
}


def handle(message, payload):
    fn = COMMANDS.get(message)
    if fn is None:
        raise Fatal("Server sent illegal command of type '%s' and payload of '%s'" % (message, payload))
    try:
        # payload None: the original's payload.get(...) raised AttributeError.
        return fn(payload)
    except Fatal:
        raise
    except Exception as e:
        raise Fatal("%s: %s" % (type(e).__name__, e))


# ---------------------------------------------------------------- the connection

async def session(ws, n):
    token = os.environ["CLIENT_TOKEN"]
    hello = json.dumps({"status": "let_me_in_pls", "payload": {"version": VERSION, "client_token": token}})
    await ws.send(hello)
    event("hello", n=n)
    try:
        first = await asyncio.wait_for(ws.recv(), 60)
    except asyncio.TimeoutError:
        raise Fatal("Server did not respond in time")
    event("recv", n=n, msg=first)
    try:
        first = json.loads(first)
    except ValueError:
        raise Fatal("Broke the server code prob lol")
    if first.get("status") == "error":
        raise Fatal("Server sent error, we did a goof: %s" % first.get("message"))
    event("authenticated", n=n)
    try:
        async for raw in ws:
            event("recv", n=n, msg=raw)
            try:
                m = json.loads(raw)
            except ValueError:
                raise Fatal("Server sent message which couldn't be decoded into json: '%s'" % raw)
            st = m.get("status")
            if st == "command":
                reply = json.dumps(handle(m.get("message"), m.get("payload")))
                await ws.send(reply)
                event("sent", n=n, msg=reply)
            elif st == "error":
                raise Fatal("Received error from server: %s" % m.get("message"))
            else:
                raise Fatal('Server sent illegal message of "%s" type with data %s' % (st, m.get("message")))
    except websockets.ConnectionClosedError as e:
        raise Fatal("connection closed abnormally: %s" % e)
    event("closed", n=n, code=ws.close_code)


async def main():
    global SYSTEMCTL
    args = sys.argv[1:]
    sock = SOCKET
    while args:
        if args[0] == "--socket" and len(args) > 1:
            sock = args[1]
            args = args[2:]
        elif args[0] == "--systemctl" and len(args) > 1:
            SYSTEMCTL = args[1]
            args = args[2:]
        else:
            print("usage: orig_client.py [--socket PATH] [--systemctl PATH]", file=sys.stderr)
            sys.exit(2)
    load_env_file(ENV_FILE)
    if "CLIENT_TOKEN" not in os.environ:
        raise Fatal("KeyError: 'CLIENT_TOKEN'")
    dev = os.environ.get("DEV") == "true"
    n = 0
    while True:
        try:
            if dev:
                ws = await websockets.connect(os.environ["WS_URL"], open_timeout=10)
            else:
                ws = await websockets.unix_connect(sock, "ws://localhost/", open_timeout=10)
        except (OSError, asyncio.TimeoutError) as e:
            # The original retried these with the library's backoff (first
            # delay random up to 5 s, then 3.1 s growing to 90 s); shorter here.
            event("connect_failed", why=str(e))
            await asyncio.sleep(0.2)
            continue
        n += 1
        event("connected", n=n, dev=dev)
        try:
            await session(ws, n)
        finally:
            await ws.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Fatal as e:
        event("exit", why=str(e))
        sys.exit(1)
    except KeyboardInterrupt:
        pass
