#!/usr/bin/python3
"""soak.py - `make soak`: a few minutes of mixed load on one real server
and its agents, then the question whether anything grew (issue 11).

  NESTD=./nestd /usr/bin/python3 test/soak.py [SECONDS]     (default 180)

The load, all at once, on loopback:
  - operators (keep-alive and fresh connections, TCP and the Unix socket):
    listings, system info, services, exec_command (some killed by their
    timeout), errors, the dashboard, /metrics, /install.sh, /healthz, and
    commands for agents that just left
  - three long-lived nestd agents, the ones measured
  - agents that come and go: nestd agents stopped by SIGTERM or SIGKILL,
    often in the middle of an exec_command, a second agent on the same
    token (it replaces the first), python-websockets agents
    (test/api_fakes.py) that answer without ids, never answer, or vanish
  - strangers from 127.0.0.2 and up (their own addresses, so that their
    failures are charged to them): garbage, oversized heads, half-sent
    heads held open, pipelined requests never read, WebSocket upgrades
    followed by garbage, unknown tokens or silence, wrong bearer tokens

RSS and open descriptors of the server and of the long-lived agents are
taken at quiet points: after a warm-up round of the whole mix, every
SOAK_POINT_EVERY seconds (60) on the way, and after the main run.  Each
quiet point pauses the load and waits (bounded) for the visitors to be
gone.  The first and the last are compared (under ASan only the
descriptors: RSS there is its quarantine).  The run fails if either grows beyond a small bound, if a
long-lived agent's command fails, if anything died or left a zombie, or
if a log holds a sanitizer report.  The last line is "soak: PASS" or
"soak: FAIL (reasons)"."""
import http.client as httpclient
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import Proc, RawWS, Server, T, path, token_new, wait_until  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
DURATION = float(sys.argv[1]) if len(sys.argv) > 1 else float(os.environ.get("SOAK_TIME", "180"))
WARMUP = min(30.0, max(5.0, DURATION / 6))
POINT_EVERY = float(os.environ.get("SOAK_POINT_EVERY", "60"))   # quiet points on the way
SERVER_RSS_KB = 8192       # growth allowed between the first and last quiet point
AGENT_RSS_KB = 2048
FDS = 2
# Under ASan freed memory sits in its quarantine: RSS says nothing there
# (leaks are LeakSanitizer's to report, at exit); descriptors still count.
ASAN = "asan" in os.path.basename(os.environ.get("NESTD", ""))

stop = threading.Event()     # the end
quiet = threading.Event()    # workers pause while set
stats = {}
stats_lock = threading.Lock()
problems = []


def count(key, n=1):
    with stats_lock:
        stats[key] = stats.get(key, 0) + n


def problem(text):
    with stats_lock:
        if len(problems) < 50:
            problems.append(text)


def pause_point(on_pause=None):
    """Workers call this between steps: wait while a measurement runs
    (on_pause first: let go of what would be counted)."""
    if quiet.is_set() and on_pause:
        on_pause()
    while quiet.is_set() and not stop.is_set():
        time.sleep(0.05)


# ---- measuring ----

def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def nfds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def zombies_of(pid):
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    rest = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if rest[0] == "Z" and int(rest[1]) == pid:
                n += 1
    return n


def show_point(label, snap):
    print("soak: quiet point %-6s " % label + "  ".join(
        "%s %d KB %d fds" % (name, r, f) for name, (r, f) in snap.items()), flush=True)


def snapshot(srv, agents):
    return {name: (rss_kb(p.pid), nfds(p.pid)) for name, p in [("server", srv)] + agents}


# ---- operators ----

class Operator:
    def __init__(self, srv, token, unix):
        self.srv, self.token, self.unix = srv, token, unix
        self.c = None

    def conn(self, fresh):
        if fresh or self.c is None:
            if self.c:
                self.c.close()
            self.c = nestlib.UnixHTTP(self.srv.unix, T(60)) if self.unix else \
                httpclient.HTTPConnection("127.0.0.1", self.srv.port, timeout=T(60))
        return self.c

    def req(self, method, target, body=None, token=True, fresh=False):
        h = {"Authorization": "Bearer " + self.token} if token else {}
        try:
            c = self.conn(fresh)
            c.request(method, target, body=json.dumps(body) if body is not None else None, headers=h)
            r = c.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.c.close()
                self.c = None
            return r.status, data
        except (OSError, httpclient.HTTPException) as e:
            if self.c:
                self.c.close()
            self.c = None
            return None, str(e).encode()

    def close(self):
        if self.c:
            self.c.close()
        self.c = None

    def command(self, agent, message, payload=None):
        body = {"message": message}
        if payload is not None:
            body["payload"] = payload
        return self.req("POST", "/api/clients/%s/commands" % agent, body,
                        fresh=random.random() < 0.2)


STABLE_CMDS = [
    ("obtain_all_process_info", None), ("obtain_system_info", None), ("list_services", None),
    ("obtain_process_info", {"pid": 1}),
    ("exec_command", {"command": "echo soak; head -c 30000 /dev/zero | tr '\\0' x"}),
    ("exec_command", {"command": "sleep 30", "timeout": 0.3}),
    ("kill_process", {"pid": 999999999}),
    ("no_such_command", None),       # refused by the server: not announced
]
REFUSED = {"no_such_command": 409}


def operator_worker(srv, token, stable, churn, unix):
    op = Operator(srv, token, unix)
    while not stop.is_set():
        pause_point(op.close)
        r = random.random()
        if r < 0.6:
            name = random.choice(stable)
            msg, payload = random.choice(STABLE_CMDS)
            st, data = op.command(name, msg, payload)
            count("operator %s" % st)
            try:
                ok = st == REFUSED[msg] if msg in REFUSED else \
                    st == 200 and json.loads(data).get("status") in (
                        "command_response", "command_response_error")
            except ValueError:
                ok = False
            if not ok:
                problem("stable agent %s, %s: %s %s" % (name, msg, st, data[:200]))
        elif r < 0.75:
            st, _ = op.command(random.choice(churn), random.choice(["obtain_system_info",
                                                                    "exec_command"]),
                               {"command": "sleep 0.5; echo x"})
            count("operator (leaving agents) %s" % st)
        else:
            target = random.choice(["/api/clients", "/metrics", "/healthz", "/", "/install.sh",
                                    "/api/clients/" + random.choice(stable)])
            st, _ = op.req("GET", target, token=target.startswith("/api"))
            count("operator %s" % st)
            if st != 200:
                problem("GET %s: %s" % (target, st))
        time.sleep(random.uniform(0, 0.02))
    if op.c:
        op.c.close()


# ---- agents that come and go ----

def churn_worker(srv, tfs, k):
    rnd = random.Random(k)
    live = []
    while not stop.is_set():
        pause_point()
        name = rnd.choice(sorted(tfs))
        kind = rnd.random()
        if kind < 0.5:
            p = Proc(["agent", "--server", srv.url if rnd.random() < 0.7 else "unix:" + srv.unix,
                      "--token-file", tfs[name], "--reconnect-min", "0.05", "--reconnect-max", "0.3",
                      "--log-level", "warn"], "churn-" + name)
            kinds = ("nestd",)
        else:
            mode = rnd.choice(["noid", "silent", "echo", "slow"])
            args = [PY, os.path.join(HERE, "api_fakes.py"), mode, srv.url, tfs[name]]
            if mode == "slow":
                args.append("0.5")
            p = FakeProc(args, "fake-" + name)
            kinds = ("fake", mode)
        live.append(p)
        count("agent sessions (%s)" % " ".join(kinds))
        end = time.monotonic() + rnd.uniform(0.2, 3)
        while time.monotonic() < end and not stop.is_set() and not quiet.is_set():
            time.sleep(0.05)
        p.p.send_signal(signal.SIGKILL if rnd.random() < 0.4 else signal.SIGTERM)
        try:
            p.p.wait(T(10))
        except subprocess.TimeoutExpired:
            p.p.kill()
            problem("a leaving agent did not stop on SIGTERM")
        p.f.close()
        live.remove(p)


class FakeProc(Proc):
    def __init__(self, argv, name):
        self.name = name
        self.log = path("%s.%d.log" % (name, len(nestlib._logs)))
        self.f = open(self.log, "wb")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.f,
                                  stderr=subprocess.STDOUT)
        self.pid = self.p.pid
        nestlib._procs.append(self)


# ---- strangers ----

def stranger_socket(srv, k):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(T(5))
    s.bind(("127.0.0.%d" % (2 + k % 200), 0))
    s.connect(("127.0.0.1", srv.port))
    return s


def drain_close(s, wait=0.5):
    try:
        s.settimeout(wait)
        while s.recv(65536):
            pass
    except OSError:
        pass
    s.close()


def stranger(srv, k, held):
    kind = k % 9
    s = stranger_socket(srv, k)
    if kind == 0:
        s.sendall(os.urandom(random.randint(1, 4000)))
    elif kind == 1:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n")
    elif kind == 2:          # half a head, held open a while
        s.sendall(b"GET /api/clients HTTP/1.1\r\nHost: x\r\n")
        held.append((time.monotonic() + random.uniform(1, 4), s))
        return
    elif kind == 3:          # pipelined, never read
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 200)
        held.append((time.monotonic() + random.uniform(0.5, 2), s))
        return
    elif kind in (4, 5, 6):
        ws = RawWS.__new__(RawWS)        # on the stranger's own socket
        ws.s, ws.buf, ws.pos = s, bytearray(), 0
        try:
            ws.handshake()
            if kind == 4:
                ws.sendall(os.urandom(random.randint(2, 3000)))
            elif kind == 5:
                ws.send_text(nestlib.auth_msg(os.urandom(32).hex() + ".00000000"))
            else:            # silence: the auth timeout ends it
                held.append((time.monotonic() + random.uniform(1, 3), s))
                return
        except (OSError, RuntimeError, nestlib.Closed):
            pass
    elif kind == 7:
        s.sendall(b"GET /api/clients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  os.urandom(20).hex().encode() + b"\r\n\r\n")
    else:
        s.sendall(b"POST /api/clients/s1/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n")
    drain_close(s)


def stranger_worker(srv, base):
    held = []
    k = base
    while not stop.is_set():
        now = time.monotonic()
        for item in [h for h in held if h[0] <= now or quiet.is_set()]:
            held.remove(item)
            item[1].close()
        if quiet.is_set():
            time.sleep(0.05)
            continue
        if len(held) < 40:
            try:
                stranger(srv, k, held)
                count("stranger connections")
            except OSError:
                count("stranger connections refused or reset")
            k += 1
        time.sleep(random.uniform(0, 0.02))
    for _, s in held:
        s.close()


# ---- the run ----

def connections(srv, token):
    """nestd_connections from /metrics, or -1."""
    try:
        c = httpclient.HTTPConnection("127.0.0.1", srv.port, timeout=T(10))
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        m = re.search(r"(?m)^nestd_connections\s+(\d+)", text)
        return int(m.group(1)) if m else -1
    except (OSError, httpclient.HTTPException):
        return -1


def quiet_point(srv, token, stable_n, label):
    """Pauses the load and waits (bounded) for the visitors to leave."""
    quiet.set()
    time.sleep(1)
    # the long-lived agents, plus the one /metrics request asking
    settled = wait_until(lambda: connections(srv, token) <= stable_n + 1, 30, step=0.5)
    time.sleep(1)
    if not settled:
        problem("%s: connections did not settle (%d)" % (label, connections(srv, token)))


def main():
    signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(TimeoutError("soak overran")))
    signal.alarm(int(DURATION + WARMUP + T(180)))
    tokens = path("tokens")
    op = token_new(tokens, "op", "operator")
    stable_names = ["s1", "s2", "s3"]
    churn_names = ["c%d" % i for i in range(1, 7)]
    tfs = {}
    for n in stable_names + churn_names:
        tok = token_new(tokens, n)
        tfs[n] = path(n + ".token")
        with open(tfs[n], "w") as f:
            f.write(tok + "\n")
        os.chmod(tfs[n], 0o600)
    srv = Server(tokens, ["--audit-log", path("audit.log"), "--ping-interval", "2"])
    stable = [(n, Proc(["agent", "--server", srv.url, "--token-file", tfs[n], "--ping-interval", "2",
                        "--reconnect-min", "0.05", "--reconnect-max", "0.5", "--log-level", "warn"],
                       "agent-" + n)) for n in stable_names]
    op_for = Operator(srv, op, False)
    if not wait_until(lambda: all(op_for.command(n, "obtain_system_info")[0] == 200
                                  for n in stable_names), 20):
        print("soak: FAIL (the long-lived agents did not connect)")
        return 1
    workers = [threading.Thread(target=operator_worker, args=(srv, op, stable_names, churn_names, u))
               for u in (False, False, True)]
    workers += [threading.Thread(target=churn_worker, args=(srv, {n: tfs[n] for n in churn_names}, k))
                for k in range(2)]
    workers += [threading.Thread(target=stranger_worker, args=(srv, k * 1000)) for k in range(2)]
    t0 = time.monotonic()
    for w in workers:
        w.daemon = True
        w.start()
    print("soak: warm-up %.0f s, then %.0f s of load" % (WARMUP, DURATION), flush=True)
    time.sleep(WARMUP)
    quiet_point(srv, op, len(stable_names), "start")
    start = snapshot(srv, stable)
    quiet.clear()
    show_point("start", start)
    end_at = time.monotonic() + DURATION
    next_point = time.monotonic() + POINT_EVERY
    while time.monotonic() < end_at:
        time.sleep(min(10, max(0.1, end_at - time.monotonic())))
        print("soak: %3.0f s, %d operator requests, %d stranger connections" % (
            time.monotonic() - t0,
            sum(v for k, v in stats.items() if k.startswith("operator")),
            stats.get("stranger connections", 0)), flush=True)
        if time.monotonic() >= next_point and end_at - time.monotonic() > 20:
            # a quiet point on the way: shows whether growth is a plateau
            quiet_point(srv, op, len(stable_names), "on the way")
            show_point("%.0f s" % (time.monotonic() - t0), snapshot(srv, stable))
            quiet.clear()
            next_point = time.monotonic() + POINT_EVERY
    quiet_point(srv, op, len(stable_names), "end")
    end = snapshot(srv, stable)
    show_point("end", end)
    stop.set()
    for w in workers:
        w.join(T(30))
    signal.alarm(0)

    for k in sorted(stats):
        print("soak: %-40s %d" % (k, stats[k]))
    fail = list(problems)
    for name, _ in [("server", srv)] + stable:
        (r0, f0), (r1, f1) = start[name], end[name]
        bound = SERVER_RSS_KB if name == "server" else AGENT_RSS_KB
        print("soak: %-7s RSS start %6d KB end %6d KB (%+d)   fds start %3d end %3d (%+d)" %
              (name, r0, r1, r1 - r0, f0, f1, f1 - f0))
        if r0 < 0 or r1 < 0:
            fail.append("%s died" % name)
        elif r1 - r0 > bound and not ASAN:
            fail.append("%s RSS grew by %d KB (bound %d)" % (name, r1 - r0, bound))
        if f1 - f0 > FDS:
            fail.append("%s holds %d more descriptors" % (name, f1 - f0))
    for name, p in stable:
        z = zombies_of(p.pid)
        if z:
            fail.append("agent %s has %d zombie children" % (name, z))
    if not srv.alive() or not all(p.alive() for _, p in stable):
        fail.append("a long-lived process died")
    for _, p in stable:
        p.stop()
    srv.stop()
    nestlib.cleanup()
    for log in nestlib._logs + [path("audit.log")]:
        try:
            with open(log, "rb") as f:
                t = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if "AddressSanitizer" in t or "runtime error:" in t or "LeakSanitizer" in t:
            fail.append("sanitizer report in %s" % log)
    if fail:
        print("soak: logs in %s" % nestlib.tmpdir())
        for f in fail[:20]:
            print("soak: problem: %s" % f)
        print("soak: FAIL (%d problems)" % len(fail))
        return 1
    print("soak: PASS")
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        stop.set()
        nestlib.cleanup()
    sys.exit(rc)
