"""nspawn.py - a throwaway Debian 12 container booted with systemd-nspawn,
for the tests that need a real init system (it_systemd.py, it_openrc.py).

The root is unpacked from the tarball test/systemd/setup.sh caches, into a
new directory under /var/tmp, and removed at the end.  systemd-nspawn runs
with --keep-unit --register=no (the host has no systemd to register with)
inside a mount namespace of its own (unshare -m) holding a tmpfs on
/run/systemd/nspawn: nspawn keeps its propagation directory there and will
only remove it from a tmpfs, and that mount goes away with the namespace,
so nothing is mounted on the host at any time.  The container shares the
host's network namespace: a server on the host's 127.0.0.1 is reachable.

Commands run inside with `nsenter -t PID1 -a` (all of PID 1's namespaces,
its root and working directory).  Everything started is stopped by pid:
stop() asks the container to shut down (systemd: SIGTERM to nspawn, which
passes on SIGRTMIN+3; sysvinit ignores that: `telinit 0`), then kills PID 1 (and with it
every process of the container's PID namespace) if that did not end it.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SETUP = os.path.join(HERE, "setup.sh")

# Why each option is there:
#   --keep-unit --register=no  no systemd or machined on the host to ask
#   --rlimit=NOFILE=...        the host's hard limit (20000 here) is all
#       the container would get, and without CAP_SYS_RESOURCE (nspawn drops
#       it) dbus-daemon cannot raise its limit to 65536 ("Failed to set fd
#       limit to 65536: Operation not permitted"); systemd's own default
#       for services is 1024:524288, so that is what PID 1 gets
#   --console=read-only        boot messages to our log, nothing reads stdin
#   --link-journal=no          the journal stays in the throwaway root
NSPAWN_OPTS = ["--keep-unit", "--register=no", "--rlimit=NOFILE=1024:524288",
               "--console=read-only", "--link-journal=no"]


def _die_with_parent():
    """Should the harness itself be killed (SIGKILL: no finally runs), nspawn
    gets SIGTERM and shuts the container down.  Kept across exec."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def tarball(kind):
    """The cached root for kind ('systemd', 'openrc'), built if missing."""
    subprocess.run(["sh", SETUP, kind], check=True, timeout=900)
    p = subprocess.run(["sh", SETUP, "path", kind], check=True, capture_output=True,
                       text=True, timeout=30)
    return p.stdout.strip()


class Container:
    def __init__(self, kind, name, log, init=None, opts=()):
        self.kind, self.name, self.log = kind, name, log
        self.init = init            # None: -b (the root's /sbin/init)
        self.opts = list(opts)      # more nspawn options (--private-network)
        self.root = None
        self.proc = None            # the unshare+nspawn process
        self.pid1 = None            # the container's PID 1, as the host sees it
        self._made = []             # directories made on the host, removed at the end

    # ---- life cycle ----

    def unpack(self, tar):
        base = os.environ.get("NESTD_CTR_DIR", "/var/tmp")
        self.root = tempfile.mkdtemp(prefix="nestd-%s." % self.kind, dir=base)
        subprocess.run(["tar", "-C", self.root, "-xf", tar], check=True, timeout=300)
        # mkdtemp's 0700 would keep every user but root out of the container
        os.chmod(self.root, 0o755)
        return self.root

    def boot(self, timeout=60):
        for d in ("/run/systemd", "/run/systemd/nspawn"):
            if not os.path.isdir(d):
                os.mkdir(d, 0o755)
                self._made.append(d)
        cmd = ["systemd-nspawn", "-D", self.root, "--machine=" + self.name] + NSPAWN_OPTS + self.opts
        cmd += ["-b"] if self.init is None else [self.init]
        script = ('mount --make-rprivate / && mount -t tmpfs -o mode=0755 nestd-nspawn '
                  '/run/systemd/nspawn && exec "$@"')
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(["unshare", "-m", "sh", "-c", script, "sh"] + cmd,
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            self.pid1 = self._find_pid1()
            if self.pid1:
                return self.pid1
            time.sleep(0.05)
        raise RuntimeError("container %s did not start: %s" % (self.name, self.text()[-2000:]))

    def _find_pid1(self):
        """The descendant of our nspawn whose PID in its own namespace is 1
        (nspawn's child; a detour through /proc/PID/root would not do: it
        reads '/' for a process in another mount namespace)."""
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            try:
                with open("/proc/%d/status" % pid) as f:
                    for l in f:
                        if l.startswith("NSpid:"):
                            ids = l.split()[1:]
                            if len(ids) >= 2 and ids[-1] == "1":
                                return pid
                for t in os.listdir("/proc/%d/task" % pid):
                    with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                        todo += [int(x) for x in f.read().split()]
            except OSError:
                continue
        return None

    def text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout=20):
        """Shuts the container down; True when it ended without a kill."""
        clean = True
        if self.proc and self.proc.poll() is None:
            if self.kind == "openrc":
                # sysvinit does not take SIGRTMIN+3 for a halt: ask it
                self.run(["telinit", "0"], timeout=10)
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                clean = False
                if self.pid1:
                    try:
                        os.kill(self.pid1, signal.SIGKILL)
                    except OSError:
                        pass
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
        if self.proc:
            self.logf.close()
        return clean

    def remove(self):
        if self.root and os.path.isdir(self.root):
            # nothing of the container may still be mounted below the root:
            # its mounts lived in its own namespace, gone with it
            subprocess.run(["rm", "-rf", "--one-file-system", self.root], timeout=120)
        for d in reversed(self._made):
            try:
                os.rmdir(d)
            except OSError:
                pass

    # ---- inside ----

    def argv(self, args, user=None, env=None):
        """nsenter argv running args inside; as user (uid, gid, home) via
        setpriv, with env (a dict) through env(1)."""
        a = ["nsenter", "-t", str(self.pid1), "-a"]
        if user:
            uid, gid, home = user
            a += ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--init-groups"]
            env = dict({"HOME": home, "XDG_RUNTIME_DIR": "/run/user/%d" % uid,
                        "USER": str(uid)}, **(env or {}))
        if env is not None:
            a += ["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "LANG=C.UTF-8"] + ["%s=%s" % kv for kv in env.items() if kv[1] is not None]
        return a + list(args)

    def run(self, args, user=None, env=None, timeout=60, input=None):
        """(exit code, stdout, stderr) of args run inside."""
        p = subprocess.run(self.argv(args, user, env if env is not None else ({} if user else None)),
                           capture_output=True, text=True, timeout=timeout, input=input)
        return p.returncode, p.stdout, p.stderr

    def sh(self, script, user=None, timeout=60):
        return self.run(["sh", "-c", script], user=user, timeout=timeout)

    def path(self, p):
        """Where a path of the container's disk is on the host (not /run,
        /tmp or /proc: those are the container's own mounts)."""
        return os.path.join(self.root, p.lstrip("/"))

    def write(self, p, text, mode=0o644, uid=None):
        hp = self.path(p)
        os.makedirs(os.path.dirname(hp), exist_ok=True)
        with open(hp, "w") as f:
            f.write(text)
        os.chmod(hp, mode)
        if uid is not None:
            os.chown(hp, uid, uid)

    def install_nestd(self, binary, dest="/opt/nestd-test/nestd"):
        hp = self.path(dest)
        os.makedirs(os.path.dirname(hp), exist_ok=True)
        shutil.copy2(binary, hp)
        os.chmod(hp, 0o755)
        os.chmod(os.path.dirname(hp), 0o755)
        return dest


def child_of(pid, timeout=10):
    """nsenter forks to enter a PID namespace: the program is its child."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(0.02)
    return None


# ---- a nestd server on the host, agents inside, the HTTP API ----

import json  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

import nestlib  # noqa: E402  (the caller put test/ on sys.path)


class Agent(nestlib.Proc):
    """`nestd agent` inside the container (through nsenter), logging to a
    file on the host.  self.pid is the agent itself, nsenter's child."""

    def __init__(self, ctr, binary, args, name, user=None, env=None):
        self.name = name
        self.log = nestlib.path("%s.%d.log" % (name, len(nestlib._logs)))
        nestlib._logs.append(self.log)
        self.f = open(self.log, "wb")
        argv = ctr.argv([binary, "agent"] + list(args), user=user,
                        env=env if env is not None else ({} if user else None))
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.f,
                                  stderr=subprocess.STDOUT)
        self.nsenter = self.p.pid
        self.pid = child_of(self.p.pid) or self.p.pid
        nestlib._procs.append(self)

    def stop(self, timeout=10):
        if self.p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.p.wait(nestlib.T(timeout))
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait(10)
        self.f.close()
        return self.p.returncode


class Api:
    """The server's HTTP API as an operator."""

    def __init__(self, server, token):
        self.base = "http://127.0.0.1:%d" % server.port
        self.token = token

    def req(self, method, target, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.base + target, data=data, method=method,
                                   headers={"Authorization": "Bearer " + self.token,
                                            "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(r, timeout=nestlib.T(timeout)) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw

    def ask(self, agent, message, payload=None, timeout=60):
        """The agent's reply object (or the server's error object)."""
        body = {"message": message}
        if payload is not None:
            body["payload"] = payload
        return self.req("POST", "/api/clients/%s/commands" % agent, body, timeout)[1]

    def clients(self):
        """The connected agents (the server lists those it remembers too)."""
        st, j = self.req("GET", "/api/clients")
        return {c["name"]: c for c in j if c.get("online", True)} if st == 200 and isinstance(j, list) else {}

    def wait_client(self, name, timeout=20, other_than=None):
        """The client record once name is connected (and, with other_than,
        connected anew: another 'connected' than that)."""
        def f():
            c = self.clients().get(name)
            if c and (other_than is None or c.get("connected") != other_than.get("connected")
                      or c.get("address") != other_than.get("address")):
                return c
            return None
        return nestlib.wait_until(f, timeout, 0.1)


def ok(r):
    return isinstance(r, dict) and r.get("status") == "command_response"


def err_of(r):
    if isinstance(r, dict) and r.get("status") == "command_response_error":
        return (r.get("payload") or {}).get("error")
    if isinstance(r, dict) and "error" in r:
        return "server: " + str(r["error"])
    return None


def teardown_all(ctr, check):
    """Every agent stopped by pid, the container shut down, its root gone."""
    if ctr is None:
        return
    for p in list(nestlib._procs):
        try:
            p.stop()
        except Exception:
            pass
    clean = ctr.stop()
    check(clean, "the container shuts down when asked (no kill needed)", ctr.text()[-500:])
    ctr.remove()
    check(not os.path.exists(ctr.root), "the container's root is removed")


def run_tests(S, tests):
    """nestlib.main over tests, then teardown; the container goes away even
    when a test was left out by name or the run was interrupted."""
    def teardown():
        teardown_all(S.c, nestlib.check)

    def stopped(sig, frame):
        raise SystemExit(128 + sig)
    # SIGTERM and SIGHUP end the run through the finally below, like ^C
    signal.signal(signal.SIGTERM, stopped)
    signal.signal(signal.SIGHUP, stopped)
    try:
        nestlib.main(tests + [teardown], 120)
    finally:
        if S.c is not None and S.c.proc is not None and S.c.proc.poll() is None:
            S.c.stop(5)
            S.c.remove()
