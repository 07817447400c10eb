"""nestlib.py - helpers for nestd's integration tests.

Run the tests with /usr/bin/python3 (Debian's interpreter, which has
python3-websockets 10.x); the python3 first on PATH lacks Debian packages.

Environment:
  NESTD          the binary under test (default ./nestd)
  NESTD_AGENT    the binary that runs `nestd agent` (default: NESTD), e.g.
                 the agent-only nestd-agent-static (make test-static-agent)
  NESTD_IT_DIR   directory for logs and temp files (default: a new temp dir,
                 removed at the end when every check passed)
  NESTD_SLOW     multiplier for timeouts (default 1, or 4 for *asan* binaries)

Everything a test starts is registered here and killed at the end; every
wait is bounded.  main() prints exactly one final line
"N passed, N failed, N skipped" (after the list of skips and their reasons)
and exits non-zero when anything failed.
"""
import asyncio
import atexit
import base64
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

NESTD = os.path.abspath(os.environ.get("NESTD", "./nestd"))
NESTD_AGENT = os.path.abspath(os.environ["NESTD_AGENT"]) if os.environ.get("NESTD_AGENT") else None


def binary_for(args):
    """The binary for a command line: NESTD_AGENT (when set) for `agent`,
    else NESTD (or whatever a test put in nestlib.NESTD for a while)."""
    if NESTD_AGENT and args and args[0] == "agent":
        return NESTD_AGENT
    return NESTD
SLOW = float(os.environ.get("NESTD_SLOW", "4" if "asan" in os.path.basename(NESTD) else "1"))

_passed = 0
_failed = 0
_skips = []
_procs = []
_logs = []
_tmp = None
_own_tmp = False


def T(seconds):
    """A timeout scaled for slow (sanitizer) builds: use for upper bounds only."""
    return seconds * SLOW


def check(cond, name, detail=""):
    global _passed, _failed
    if cond:
        _passed += 1
        print("ok   - %s" % name, flush=True)
    else:
        _failed += 1
        print("FAIL - %s%s" % (name, (": " + str(detail)) if detail != "" else ""), flush=True)
    return bool(cond)


def skip(name, reason):
    """A check (or a whole test) that cannot run here: counted as skipped,
    with its reason, and listed again at the end.  Returns False so that
    `if not can_x: return skip(...)` reads naturally."""
    _skips.append("%s: %s" % (name, reason))
    print("SKIP - %s: %s" % (name, reason), flush=True)
    return False


def xfail(cond, name, bug):
    """A known bug (named in bug): reported, not counted as a failure.  If it
    starts passing it counts as passed and says so, so the mark can go."""
    global _passed
    if cond:
        _passed += 1
        print("XPASS - %s (known bug fixed? %s)" % (name, bug), flush=True)
    else:
        print("XFAIL - %s [%s]" % (name, bug), flush=True)
    return bool(cond)


def can_run_as_others():
    """True when a process of another uid can run here at all: root, and a
    searchable / (a root made with `mktemp -d`, as some throwaway chroots
    are, leaves / at 0700, and then nothing but root can even load libc)."""
    return os.geteuid() == 0 and (os.stat("/").st_mode & 0o005) == 0o005


_others_exe = None


def nestd_for_others():
    """NESTD at a path another uid can run: the binary itself when every
    folder above it lets others through, else a copy in a 0755 folder of
    its own under /tmp (a checkout below a 0700 folder, as a `mktemp -d`
    clean clone is, is out of their reach)."""
    global _others_exe
    exe = os.path.abspath(NESTD)
    d, ok = exe, True
    while d != "/":
        d = os.path.dirname(d)
        ok = ok and (os.stat(d).st_mode & 0o001) == 0o001
    if ok and (os.stat(exe).st_mode & 0o005) == 0o005:
        return exe
    if _others_exe is None:
        d = tempfile.mkdtemp(prefix="nestd-exe.", dir="/tmp")
        os.chmod(d, 0o755)
        atexit.register(shutil.rmtree, d, True)
        _others_exe = os.path.join(d, os.path.basename(exe))
        shutil.copy2(exe, _others_exe)
        os.chmod(_others_exe, 0o755)
    return _others_exe


def _exchange(c, method, target, body, token, headers=None):
    """One request on the connection c and its whole response, then c
    closed: (the response, its body bytes).  A dict or list body goes as
    JSON; token, when given, as a Bearer header."""
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    try:
        c.request(method, target, body=body, headers=h)
        r = c.getresponse()
        return r, r.read()
    finally:
        c.close()


def http_request(port, method, target, body=None, token=None, headers=None, src=None, timeout=30):
    """One request on a connection of its own to 127.0.0.1:port: (status,
    headers by lowercase name, body bytes, the Set-Cookie lines)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=T(timeout),
                                   source_address=(src, 0) if src else None)
    r, data = _exchange(c, method, target, body, token, headers)
    return (r.status, {k.lower(): v for k, v in r.getheaders()}, data,
            r.headers.get_all("Set-Cookie") or [])


def http_json(c, method, target, body=None, token=None, oserror=False):
    """One request on the connection c (an http.client connection, TCP or
    UnixHTTP), closed after: (status, the body as JSON, or as bytes when
    it is not JSON).  With oserror, a connection that fails gives
    (None, why) instead of raising."""
    try:
        r, data = _exchange(c, method, target, body, token)
    except OSError as e:
        if not oserror:
            raise
        return None, str(e)
    try:
        return r.status, json.loads(data)
    except ValueError:
        return r.status, data


def tmpdir():
    global _tmp, _own_tmp
    if _tmp is None:
        base = os.environ.get("NESTD_IT_DIR")
        if base:
            os.makedirs(base, exist_ok=True)
            _tmp = tempfile.mkdtemp(prefix=os.path.basename(sys.argv[0]).replace(".py", "") + ".",
                                    dir=base)
        else:
            _tmp = tempfile.mkdtemp(prefix="nestd-it.")
            _own_tmp = True
    return _tmp


def path(name):
    return os.path.join(tmpdir(), name)


def free_port(host="127.0.0.1"):
    """A TCP port free on host right now (pass "0.0.0.0" for a wildcard
    listener: a port free on loopback may be taken on another address)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(args, env=None, timeout=None, input=None):
    """Runs the binary to completion: (exit code, stdout, stderr)."""
    e = dict(os.environ)
    for k in ("NESTD_TOKEN", "CLIENT_TOKEN", "NESTD_TOKEN_FILE", "NESTD_SERVER"):
        e.pop(k, None)
    if env:
        e.update(env)
    p = subprocess.run([binary_for(args)] + list(args), env=e, capture_output=True, text=True,
                       timeout=timeout or T(20), input=input)
    for stream in (p.stdout, p.stderr):
        if "AddressSanitizer" in stream or "runtime error:" in stream:
            check(False, "no sanitizer report from nestd %s" % " ".join(args[:2]), stream[-2000:])
    return p.returncode, p.stdout, p.stderr


def token_new(tokens, name, role="agent"):
    rc, out, err = run(["token", "new", name, "--role", role, "--tokens", tokens])
    if rc != 0:
        raise RuntimeError("token new %s failed (%d): %s" % (name, rc, err))
    return out.strip()


class Proc:
    """A nestd subprocess whose stdout and stderr go to a log file."""

    def __init__(self, args, name, env=None):
        self.name = name
        self.log = path("%s.%d.log" % (name, len(_logs)))
        _logs.append(self.log)
        e = dict(os.environ)
        for k in ("NESTD_TOKEN", "CLIENT_TOKEN", "NESTD_TOKEN_FILE", "NESTD_SERVER"):
            e.pop(k, None)
        if env:
            e.update(env)
        self.f = open(self.log, "wb")
        self.p = subprocess.Popen([binary_for(args)] + list(args), stdin=subprocess.DEVNULL,
                                  stdout=self.f, stderr=subprocess.STDOUT, env=e)
        self.pid = self.p.pid
        _procs.append(self)

    def text(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def mark(self):
        """Position in the log: wait_log(..., since=mark) looks only after it."""
        return len(self.text())

    def wait_log(self, pattern, timeout=10, since=0):
        """Waits for a regex in the log (after offset since); the match or None."""
        rx = re.compile(pattern)
        end = time.monotonic() + T(timeout)
        while True:
            m = rx.search(self.text(), since)
            if m:
                return m
            if time.monotonic() > end or (self.p.poll() is not None and not rx.search(self.text(), since)):
                return None
            time.sleep(0.02)

    def count(self, pattern, since=0):
        return len(re.findall(pattern, self.text()[since:]))

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def wait(self, timeout=10):
        try:
            return self.p.wait(T(timeout))
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL: the exit code (negative when killed)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(T(timeout))
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.f.close()
        return self.p.returncode

    def nfds(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.pid))
        except OSError:
            return -1


class Server(Proc):
    """nestd server on 127.0.0.1:PORT and a Unix socket, ready when it returns."""

    def __init__(self, tokens, args=(), name="server", port=None):
        self.port = port or free_port()
        self.unix = path("nest.%d.sock" % self.port)
        self.url = "ws://127.0.0.1:%d/" % self.port
        Proc.__init__(self, ["server", "--listen", "127.0.0.1:%d" % self.port,
                             "--listen", "unix:" + self.unix, "--tokens", tokens] + list(args),
                      name)
        if not self.wait_log(r"server ready", 15):
            raise RuntimeError("server did not start: " + self.text()[-2000:])


class UnixHTTP(http.client.HTTPConnection):
    """http.client over a Unix socket (the server's unix: listener)."""

    def __init__(self, sock, timeout):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.sock_path = sock

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.sock_path)
        self.sock = s


def proc_state(pid):
    """The state letter of /proc/PID/stat (S, R, T, Z...), or None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def wait_until(fn, timeout=10, step=0.02):
    end = time.monotonic() + T(timeout)
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def auth_msg(token, version="0.1.0", status="let_me_in_pls"):
    import json
    return json.dumps({"status": status, "message": "let me in! :D",
                       "payload": {"version": version, "client_token": token}})


AUTH_OK = '{"status":"info","message":"Authenticated :D"}'


# ---- a raw WebSocket client, for traffic no library will send ----

class Closed(Exception):
    pass


class RawWS:
    def __init__(self, port=None, unix=None, timeout=10):
        if unix:
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(T(timeout))
            self.s.connect(unix)
        else:
            self.s = socket.create_connection(("127.0.0.1", port), timeout=T(timeout))
        self.buf = bytearray()
        self.pos = 0

    def settimeout(self, t):
        self.s.settimeout(T(t))

    def sendall(self, data):
        self.s.sendall(data)

    def recv_some(self):
        d = self.s.recv(65536)
        if not d:
            raise Closed()
        return d

    def read_http(self):
        """Reads a response head (and a Content-Length body): (status, headers dict, body)."""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.recv_some()
        head, rest = bytes(self.buf).split(b"\r\n\r\n", 1)
        self.buf = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        try:
            while len(self.buf) < n:
                self.buf += self.recv_some()
        except (Closed, OSError):
            pass
        body, self.buf = bytes(self.buf[:n]), self.buf[n:]
        return status, hdrs, body

    def handshake(self, path="/", extra=""):
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n%s\r\n" % (path, key, extra))
        self.sendall(req.encode())
        status, hdrs, _ = self.read_http()
        if status != 101:
            raise RuntimeError("handshake: HTTP %d" % status)
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if hdrs.get("sec-websocket-accept") != want:
            raise RuntimeError("bad Sec-WebSocket-Accept")
        return self

    @staticmethod
    def frame(opcode, payload=b"", fin=True, mask=True, rsv=0, key=None, length=None):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload) if length is None else length
        m = 0x80 if mask else 0
        if n < 126:
            h = struct.pack("!BB", b0, m | n)
        elif n < 65536:
            h = struct.pack("!BBH", b0, m | 126, n)
        else:
            h = struct.pack("!BBQ", b0, m | 127, n)
        if mask:
            key = key if key is not None else os.urandom(4)
            payload = bytes(c ^ key[i & 3] for i, c in enumerate(payload)) \
                if len(payload) < 4096 else _mask_fast(payload, key)
            h += key
        return h + payload

    def send(self, opcode, payload=b"", **kw):
        self.sendall(self.frame(opcode, payload, **kw))

    def send_text(self, text):
        self.send(1, text)

    def recv_frame(self):
        """(fin, opcode, payload) of the next frame from the server."""
        while True:
            buf, pos = self.buf, self.pos
            avail = len(buf) - pos
            if avail >= 2:
                b0, b1 = buf[pos], buf[pos + 1]
                n = b1 & 0x7f
                off = 2
                if n == 126 and avail >= 4:
                    n = struct.unpack_from("!H", buf, pos + 2)[0]
                    off = 4
                elif n == 127 and avail >= 10:
                    n = struct.unpack_from("!Q", buf, pos + 2)[0]
                    off = 10
                if b1 & 0x80:
                    raise RuntimeError("server sent a masked frame")
                if (b1 & 0x7f) < 126 or off > 2:
                    if avail >= off + n:
                        p = bytes(buf[pos + off:pos + off + n])
                        self.pos = pos + off + n
                        return bool(b0 & 0x80), b0 & 0x0f, p
            if self.pos > (1 << 20) or self.pos == len(self.buf):
                del self.buf[:self.pos]
                self.pos = 0
            self.buf += self.recv_some()

    def recv_text(self):
        """The next text message (pings answered, pongs skipped); None on close."""
        parts = []
        while True:
            fin, op, p = self.recv_frame()
            if op == 9:
                self.send(10, p)
                continue
            if op == 10:
                continue
            if op == 8:
                self.last_close = p
                return None
            parts.append(p)
            if fin:
                return b"".join(parts).decode("utf-8")

    def wait_close(self):
        """Reads until the server's close frame: (code, reason); (None, '')
        when the connection ended without one."""
        try:
            while True:
                fin, op, p = self.recv_frame()
                if op == 8:
                    code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                    return code, p[2:].decode("utf-8", "replace")
        except (Closed, OSError):
            return None, ""

    def eof(self):
        """True when the server closes the TCP connection (after any data,
        or with a reset); False when it is still open once the socket's
        timeout has run out."""
        try:
            while True:
                self.recv_some()
        except Closed:
            return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def auth(self, token, version="0.1.0"):
        self.send_text(auth_msg(token, version))
        r = self.recv_text()
        if r != AUTH_OK:
            raise RuntimeError("auth failed: %r" % r)
        return self

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def _mask_fast(payload, key):
    n = len(payload)
    whole = n // 4 * 4
    out = b""
    if whole:
        x = int.from_bytes(payload[:whole], "big") ^ int.from_bytes(key * (whole // 4), "big")
        out = x.to_bytes(whole, "big")
    return out + bytes(c ^ key[i & 3] for i, c in enumerate(payload[whole:]))


def raw_auth(port, token, **kw):
    return RawWS(port, **kw).handshake().auth(token)


def healthy(conn):
    """A second, already-authenticated client still gets answers: malformed
    JSON must come back as a warning."""
    try:
        conn.send_text("{not json")
        r = conn.recv_text()
        return r is not None and '"status":"warning"' in r
    except Exception:
        return False


def arun(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, T(timeout)))


# ---- the runner ----

class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def cleanup():
    for p in _procs:
        try:
            if p.p.poll() is None:
                p.p.kill()
                p.p.wait(5)
        except Exception:
            pass
        try:
            p.f.close()
        except Exception:
            pass


def scan_logs():
    """Every captured log: no sanitizer report."""
    bad = []
    for l in _logs:
        try:
            with open(l, "rb") as f:
                t = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if "AddressSanitizer" in t or "runtime error:" in t or "LeakSanitizer" in t:
            bad.append(l)
    check(not bad, "no sanitizer report in %d captured logs" % len(_logs), " ".join(bad))


def main(tests, default_timeout=90):
    """tests: functions (or (function, timeout seconds)) run in order."""
    signal.signal(signal.SIGALRM, _alarm)
    only = sys.argv[1:]
    t0 = time.monotonic()
    try:
        for t in tests:
            fn, to = (t if isinstance(t, tuple) else (t, default_timeout))
            if only and fn.__name__ not in only and fn.__name__ != "setup":
                continue
            print("# %s" % fn.__name__, flush=True)
            t1 = time.monotonic()
            signal.alarm(int(T(to)) + 1)
            try:
                fn()
            except _Timeout:
                check(False, "%s finished in time" % fn.__name__, "timed out after %ds" % T(to))
            except Exception:
                check(False, "%s ran without an exception" % fn.__name__, traceback.format_exc())
            finally:
                signal.alarm(0)
                print("#   %.1f s" % (time.monotonic() - t1), flush=True)
    finally:
        cleanup()
        scan_logs()
    print("# %s: %.1f s, logs in %s" % (os.path.basename(sys.argv[0]), time.monotonic() - t0, tmpdir()),
          flush=True)
    if _own_tmp and _failed == 0:
        shutil.rmtree(_tmp, ignore_errors=True)
    for r in _skips:
        print("# skipped: %s" % r, flush=True)
    print("%d passed, %d failed, %d skipped" % (_passed, _failed, len(_skips)), flush=True)
    sys.exit(1 if _failed else 0)
