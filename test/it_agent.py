#!/usr/bin/python3
"""it_agent.py - `nestd agent` against a python-websockets SERVER standing
in for the bot: the first message, commands and replies, warnings,
reconnection and backoff, retry_after, pings, SIGTERM.

The pong-timeout case (a bot that stops answering pings) needs
CFG_PONG_TIMEOUT_MS (20 s) to pass; it runs only with NESTD_IT_LONG=1."""
import asyncio
import hashlib
import json
import os
import queue
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nestlib import (AUTH_OK, Proc, T, check, free_port, main, path, run,  # noqa: E402
                     skip, wait_until, xfail)

import websockets  # noqa: E402

LONG = os.environ.get("NESTD_IT_LONG") == "1"


def new_token():
    h = os.urandom(32).hex()
    return h + "." + hashlib.sha256(h.encode()).hexdigest()[:8]


class Conn:
    def __init__(self, ws):
        self.ws = ws
        self.t = time.monotonic()
        self.hello = None
        self.q = queue.Queue()
        self.close_code = None
        self.closed_at = None
        self.done = threading.Event()

    def get(self, timeout=10):
        """The next message from the agent, parsed; None on timeout or close."""
        try:
            m = self.q.get(timeout=T(timeout))
        except queue.Empty:
            return None
        return None if m is None else json.loads(m)


# What a nestd server says of itself, right after "Authenticated :D", to an
# agent that announced itself (its commands list): the agent answers in
# nestd's shapes from then on (docs/PROTOCOL.md, "The negotiation").
NESTD_INFO = json.dumps({"status": "info", "message": "nestd",
                         "payload": {"server": "nestd", "version": "0.1.0",
                                     "features": ["id", "shapes", "service_wait"],
                                     "command_timeout": 30}})


def announced(hello):
    try:
        return isinstance(json.loads(hello).get("payload", {}).get("commands"), list)
    except (ValueError, AttributeError):
        return False


async def accept(bot, conn):
    """As a nestd server: Authenticated :D, then its info to a nestd agent."""
    await conn.ws.send(AUTH_OK)
    if announced(conn.hello):
        await conn.ws.send(NESTD_INFO)
    return True


async def accept_as_original(bot, conn):
    """As the original server: Authenticated :D and nothing else."""
    await conn.ws.send(AUTH_OK)
    return True


class Bot:
    """A python-websockets server on 127.0.0.1 (or a Unix socket) in a thread."""

    def __init__(self, port=None, unix=None, on_hello=accept):
        self.port = port or free_port()
        self.unix = unix
        self.url = "unix:" + unix if unix else "ws://127.0.0.1:%d/" % self.port
        self.on_hello = on_hello
        self.conns = []
        self.pings = []
        self.answer_pings = True
        self.server = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.start()

    def call(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(T(timeout))

    def _protocol(self):
        bot = self

        class P(websockets.WebSocketServerProtocol):
            async def pong(self, data=b""):
                bot.pings.append(time.monotonic())
                if bot.answer_pings:
                    await super().pong(data)
        return P

    async def _start(self):
        kw = dict(ping_interval=None, max_size=None, create_protocol=self._protocol(),
                  close_timeout=T(5))
        if self.unix:
            self.server = await websockets.unix_serve(self.handler, self.unix, **kw)
        else:
            self.server = await websockets.serve(self.handler, "127.0.0.1", self.port, **kw)

    def start(self):
        self.call(self._start())

    async def _stop(self):
        self.server.close()
        await self.server.wait_closed()

    def stop(self):
        if self.server:
            self.call(self._stop(), 20)
            self.server = None

    def shutdown(self):
        try:
            self.stop()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)

    async def handler(self, ws, path=None):
        conn = Conn(ws)
        self.conns.append(conn)
        try:
            conn.hello = await asyncio.wait_for(ws.recv(), T(10))
            if await self.on_hello(self, conn):
                async for m in ws:
                    conn.q.put(m)
        except (websockets.ConnectionClosed, asyncio.TimeoutError):
            pass
        finally:
            await ws.wait_closed()
            conn.close_code = ws.close_code
            conn.closed_at = time.monotonic()
            conn.q.put(None)
            conn.done.set()

    def send(self, conn, text):
        self.call(conn.ws.send(text))

    def close(self, conn, code=1000, reason=""):
        self.call(conn.ws.close(code, reason), 20)

    def wait_conn(self, n=1, timeout=10):
        """The n-th connection (1-based) once its first message arrived."""
        ok = wait_until(lambda: len(self.conns) >= n and self.conns[n - 1].hello is not None, timeout)
        return self.conns[n - 1] if ok else None


def agent(url, token=None, args=(), env=None, name="agent"):
    e = dict(env or {})
    if token and "CLIENT_TOKEN" not in e and "NESTD_TOKEN_FILE" not in e:
        e["NESTD_TOKEN"] = token
    return Proc(["agent", "--server", url, "--log-level", "debug"] + list(args), name, env=e)


FAST = ["--reconnect-min", "0.05", "--reconnect-max", "0.2"]


def cmd(name, id=None, payload=None):
    m = {"status": "command", "message": name}
    if id is not None:
        m["id"] = id
    if payload is not None:
        m["payload"] = payload
    return json.dumps(m)


def test_hello_and_commands():
    bot = Bot()
    tok = new_token()
    a = agent(bot.url, tok, ["--hostname", "testhost"])
    try:
        c = bot.wait_conn()
        check(c is not None, "agent connects to a python-websockets server")
        h = json.loads(c.hello)
        check(h.get("status") == "let_me_in_pls", "first message has status let_me_in_pls", h)
        p = h.get("payload", {})
        check(p.get("client_token") == tok, "payload.client_token is the token")
        check(p.get("version") == run(["--version"])[1].split()[1], "payload.version is nestd's version",
              p.get("version"))
        check(p.get("hostname") == "testhost", "payload.hostname", p.get("hostname"))
        check(isinstance(h.get("message"), str), "first message has a message", h)
        check(isinstance(p.get("commands", []), list) and isinstance(p.get("services", ""), str),
              "optional commands (array) and services (string) in the payload", p)
        check(a.wait_log(r"authenticated to"), "agent logs 'authenticated to'")
        check(tok not in a.text(), "agent never logs its token")

        bot.send(c, cmd("definitely_not_a_command", id="abc-1"))
        r = c.get()
        check(r and r.get("status") == "command_response_error", "unknown command -> command_response_error", r)
        check(r and r.get("message") == "response_definitely_not_a_command", "reply message response_NAME", r)
        check(r and "unknown command" in r.get("payload", {}).get("error", ""), "payload.error says unknown command", r)
        check(r and r.get("id") == "abc-1", "id copied", r)

        bot.send(c, cmd("definitely_not_a_command"))
        r = c.get()
        check(r and r.get("status") == "command_response_error" and "id" not in r,
              "without id: reply without id", r)

        odd = 'q"\\\u00e9\U0001F600/\n'
        bot.send(c, cmd("nope_x", id=odd, payload={"pid": 1}))
        r = c.get()
        check(r and r.get("id") == odd, "an id with escapes and non-ASCII copied exactly", r)

        # Several in a row, answered in order.
        for i in range(20):
            bot.send(c, cmd("nope_%d" % i))
        got = [c.get() for _ in range(20)]
        check([g and g.get("message") for g in got] == ["response_nope_%d" % i for i in range(20)],
              "20 commands answered in order", [g and g.get("message") for g in got][:5])

        bot.send(c, json.dumps({"status": "command"}))
        r = c.get()
        check(r and r.get("status") == "command_response_error", "command without a message -> error", r)

        bot.send(c, "{this is not json")
        r = c.get()
        check(r and r.get("status") == "warning", "malformed JSON -> warning", r)
        bot.send(c, json.dumps({"status": "frobnicate", "message": "x"}))
        r = c.get()
        check(r and r.get("status") == "warning" and "unknown status" in r.get("message", ""),
              "unknown status -> warning", r)
        bot.send(c, json.dumps({"status": "info", "message": "hello agent"}))
        check(a.wait_log(r"server: hello agent"), "info from the server is logged")

        # Interop: a fragmented command, a ping from python, a large command.
        async def frag():
            s = cmd("fragmented_cmd", id="f")
            await c.ws.send(iter([s[:5], s[5:11], s[11:]]))
            pong = await c.ws.ping(b"bot")
            try:
                await asyncio.wait_for(pong, T(10))
            except asyncio.TimeoutError:
                return False
            return True
        ponged = bot.call(frag(), 20)
        r = c.get()
        check(r and r.get("message") == "response_fragmented_cmd", "fragmented command answered", r)
        check(ponged, "python ping answered by the agent with a pong (its payload: python matches it)")
        bot.send(c, cmd("big_cmd", id="b", payload={"pad": "p" * (600 << 10)}))
        r = c.get()
        check(r and r.get("id") == "b", "600 KiB command answered", r and r.get("id"))
        check(c.close_code is None and a.alive(), "still connected after all of that")

        # Over the 1 MiB server -> agent limit: the agent closes 1009.
        bot.send(c, cmd("huge", payload={"pad": "h" * (1 << 20)}))
        c.done.wait(T(10))
        check(c.close_code == 1009, "command over 1 MiB -> agent closes 1009", c.close_code)
        c2 = bot.wait_conn(2, timeout=10)
        check(c2 is not None, "agent reconnects after that")
    finally:
        a.stop()
        bot.shutdown()


def test_token_sources():
    tok = new_token()
    sock = path("bot.sock")
    bot = Bot(unix=sock)
    try:
        a = agent(bot.url, args=["--once"], env={"CLIENT_TOKEN": tok}, name="agent-ct")
        c = bot.wait_conn(1)
        check(c and json.loads(c.hello)["payload"]["client_token"] == tok,
              "CLIENT_TOKEN works (over unix:PATH)")
        check(c and a.wait_log("authenticated to"), "agent authenticated over the Unix socket")
        bot.close(c, 1000)
        check(a.wait(10) == 0, "--once: exits 0 after an authenticated connection ends", a.p.returncode)

        tf = path("agent.token")
        with open(tf, "w") as f:
            f.write(tok + "\n")
        os.chmod(tf, 0o600)
        a = agent(bot.url, args=["--once", "--token-file", tf], name="agent-tf")
        c = bot.wait_conn(2)
        check(c and json.loads(c.hello)["payload"]["client_token"] == tok, "--token-file (0600) works")
        a.stop()
        a = agent(bot.url, env={"NESTD_TOKEN_FILE": tf}, args=["--once"], name="agent-tfe")
        c = bot.wait_conn(3)
        check(c and json.loads(c.hello)["payload"]["client_token"] == tok, "$NESTD_TOKEN_FILE works")
        a.stop()
        os.chmod(tf, 0o644)
        rc, out, err = run(["agent", "--server", bot.url, "--once", "--token-file", tf])
        check(rc == 2 and "chmod" in err, "token file with mode 0644 refused (exit 2)", (rc, err))
        check(len(bot.conns) == 3, "refused agent never dialled")
    finally:
        bot.shutdown()


def test_reconnect():
    bot = Bot()
    a = agent(bot.url, new_token(), FAST)
    try:
        c = bot.wait_conn(1)
        check(c and a.wait_log("authenticated to"), "agent up")
        m = a.mark()
        bot.stop()
        check(c.done.wait(T(10)) and c.close_code == 1001, "agent answers the bot's going-away close",
              c.close_code)
        t_down = time.monotonic()
        time.sleep(1.0)
        n = a.count(r"reconnecting in", since=m)
        check(n >= 4, "agent keeps retrying while the server is away (%d attempts in 1 s)" % n, n)
        delays = [float(x) for x in __import__("re").findall(r"reconnecting in ([0-9.]+) s",
                                                             a.text()[m:])]
        check(delays and max(delays) <= 0.2, "every delay within --reconnect-max 0.2", delays)
        bot.start()
        t_up = time.monotonic()
        c2 = bot.wait_conn(2, timeout=5)
        check(c2 is not None, "agent reconnects after the server comes back on the same port")
        if c2:
            check(c2.t - t_up < T(0.6), "reconnected within ~0.2 s of the restart (%.2f s)" % (c2.t - t_up))
        check(a.wait_log("authenticated to", since=m), "authenticated again")
        _ = t_down
    finally:
        a.stop()
        bot.shutdown()


async def reject(bot, conn):
    await conn.ws.send(json.dumps({"status": "error", "message": "unknown or revoked token"}))
    await conn.ws.close(1008, "unknown or revoked token")
    return False


def test_rejected_backoff():
    bot = Bot(on_hello=reject)
    a = agent(bot.url, new_token(), FAST)
    try:
        c1 = bot.wait_conn(1)
        c2 = bot.wait_conn(2, timeout=5)
        c3 = bot.wait_conn(3, timeout=5)
        check(c1 and c2 and c3, "agent retries after a rejection")
        if c1 and c2 and c3:
            gaps = [c2.t - c1.closed_at, c3.t - c2.closed_at]
            check(min(gaps) >= 0.5, "rejected token: next attempt no sooner than 0.5 s "
                  "(--reconnect-max 0.2)", ["%.2f" % g for g in gaps])
            check(max(gaps) <= T(1.5), "and within the jittered long delay", ["%.2f" % g for g in gaps])
        check(a.wait_log(r"server refused us: unknown or revoked token"), "agent logs the server's reason")
    finally:
        a.stop()
        bot.shutdown()


def test_retry_after():
    async def auth_then_error(bot, conn):
        await conn.ws.send(AUTH_OK)
        if len(bot.conns) == 1:
            await asyncio.sleep(0.1)
            await conn.ws.send(json.dumps({"status": "error", "message": "restarting",
                                           "payload": {"retry_after": 1.5}}))
            await conn.ws.close(1001)
            return False
        return True

    bot = Bot(on_hello=auth_then_error)
    a = agent(bot.url, new_token(), FAST)
    try:
        c1 = bot.wait_conn(1)
        c2 = bot.wait_conn(2, timeout=6)
        check(c2 is not None, "agent comes back after a retry_after error")
        if c1 and c2:
            gap = c2.t - c1.closed_at
            check(gap >= 1.4, "retry_after 1.5 honoured (%.2f s)" % gap)
            check(gap <= T(3), "and not much longer (%.2f s)" % gap)
        check(a.wait_log(r"server refused us: restarting"), "agent logs the error")
    finally:
        a.stop()
        bot.shutdown()

    async def reject_retry(bot, conn):
        await conn.ws.send(json.dumps({"status": "error", "message": "busy",
                                       "payload": {"retry_after": 1.5}}))
        await conn.ws.close(1008)
        return False
    bot = Bot(on_hello=reject_retry)
    a = agent(bot.url, new_token(), FAST)
    try:
        c1 = bot.wait_conn(1)
        c2 = bot.wait_conn(2, timeout=6)
        if c1 and c2:
            gap = c2.t - c1.closed_at
            check(gap >= 1.4, "retry_after 1.5 in an auth error honoured (%.2f s)" % gap)
        else:
            check(False, "agent comes back after a retry_after auth error")
    finally:
        a.stop()
        bot.shutdown()


def test_sigterm_and_once():
    bot = Bot()
    a = agent(bot.url, new_token(), FAST)
    try:
        c = bot.wait_conn(1)
        check(a.wait_log("authenticated to"), "agent up")
        a.signal(signal.SIGTERM)
        check(c.done.wait(T(10)), "connection ends after SIGTERM")
        check(c.close_code == 1001, "python server receives close 1001", c.close_code)
        rc = a.wait(10)
        check(rc == 0, "agent exits 0 after SIGTERM", rc)
        check(len(bot.conns) == 1, "no reconnect after SIGTERM")
        # SIGTERM while waiting to reconnect.
        b = agent("ws://127.0.0.1:%d/" % free_port(), new_token(), ["--reconnect-min", "5",
                                                                    "--reconnect-max", "10"], name="agent-idle")
        check(b.wait_log(r"reconnecting in"), "agent with no server waits to reconnect")
        b.signal(signal.SIGTERM)
        check(b.wait(5) == 0, "SIGTERM while waiting: exit 0 at once", b.p.returncode)
        # --once against a server that refuses: exit 1.
        bot.on_hello = reject
        o = agent(bot.url, new_token(), ["--once"], name="agent-once")
        check(o.wait(10) == 1, "--once after a rejection exits 1", o.p.returncode)
        o = agent("ws://127.0.0.1:%d/" % free_port(), new_token(), ["--once"], name="agent-once2")
        check(o.wait(10) == 1, "--once with nothing listening exits 1", o.p.returncode)
    finally:
        a.stop()
        bot.shutdown()


def test_pings():
    bot = Bot()
    a = agent(bot.url, new_token(), FAST + ["--ping-interval", "0.3"])
    try:
        c = bot.wait_conn(1)
        check(a.wait_log("authenticated to"), "agent up")
        n0 = len(bot.pings)
        time.sleep(1.5)
        n = len(bot.pings) - n0
        check(n >= 3, "python server sees the agent's pings (%d in 1.5 s with --ping-interval 0.3)" % n)
        check(c.close_code is None and a.alive(), "answered pings keep the link up")
    finally:
        a.stop()
        bot.shutdown()


def test_pong_timeout():
    """Needs CFG_PONG_TIMEOUT_MS (20 s): only with NESTD_IT_LONG=1."""
    if not LONG:
        return skip("test_pong_timeout", "the pong timeout is 20 s; set NESTD_IT_LONG=1 to run it")
    bot = Bot()
    a = agent(bot.url, new_token(), FAST + ["--ping-interval", "0.3"])
    try:
        c = bot.wait_conn(1)
        a.wait_log("authenticated to")
        bot.answer_pings = False
        t0 = time.monotonic()
        check(a.wait_log(r"stopped answering pings", timeout=30), "agent drops a server that stops answering")
        check(time.monotonic() - t0 >= 19, "after the 20 s pong timeout")
        check(bot.wait_conn(2, timeout=10) is not None, "and reconnects")
    finally:
        a.stop()
        bot.shutdown()


def test_close_codes_from_bot():
    bot = Bot()
    a = agent(bot.url, new_token(), FAST)
    try:
        for i, code in enumerate((1000, 1001, 4000), 1):
            c = bot.wait_conn(i)
            bot.close(c, code, "bye")
            check(c.close_code == code, "agent echoes the bot's close %d" % code, c.close_code)
        # python-websockets servers may close with 1012 (service restart) or
        # 1013 (try again later).
        c = bot.wait_conn(4)
        bot.close(c, 1012, "restart")
        # IANA codes 1012-1014 are valid close codes.
        check(c.close_code == 1012, "agent echoes the bot's close 1012",
              "ws.c ws_close_code_ok rejects 1012-1014; agent answered %s" % c.close_code)
        check(bot.wait_conn(5) is not None, "agent reconnects after a 1012 close")
    finally:
        a.stop()
        bot.shutdown()


class RawBot:
    """A hand-written WebSocket server, one connection at a time, for
    answers no library would give.  respond(sock, key) does the rest."""

    def __init__(self, respond):
        self.port = free_port()
        self.url = "ws://127.0.0.1:%d/" % self.port
        self.respond = respond
        self.results = queue.Queue()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", self.port))
        self.ls.listen(8)
        self.ls.settimeout(0.2)
        self.stopping = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stopping:
            try:
                s, _ = self.ls.accept()
            except OSError:
                continue
            s.settimeout(T(10))
            try:
                req = b""
                while b"\r\n\r\n" not in req:
                    d = s.recv(4096)
                    if not d:
                        raise EOFError()
                    req += d
                key = ""
                for l in req.decode("latin-1").split("\r\n"):
                    if l.lower().startswith("sec-websocket-key:"):
                        key = l.split(":", 1)[1].strip()
                self.results.put(self.respond(s, key, req))
            except Exception as e:
                self.results.put(("exception", repr(e)))
            finally:
                s.close()

    def result(self, timeout=10):
        try:
            return self.results.get(timeout=T(timeout))
        except queue.Empty:
            return None

    def stop(self):
        self.stopping = True
        self.t.join(5)
        self.ls.close()


def accept_key(key):
    import base64
    return base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                         .encode()).digest()).decode()


def upgrade(s, key, accept=None):
    s.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"
               % (accept or accept_key(key))).encode())


def read_frame(s):
    """(opcode, payload) of one client frame, unmasked; None at EOF."""
    def need(n):
        b = b""
        while len(b) < n:
            d = s.recv(n - len(b))
            if not d:
                raise EOFError()
            b += d
        return b
    try:
        b0, b1 = need(2)
        n = b1 & 0x7f
        if n == 126:
            n = int.from_bytes(need(2), "big")
        elif n == 127:
            n = int.from_bytes(need(8), "big")
        key = need(4) if b1 & 0x80 else None
        p = need(n)
        if key:
            p = bytes(c ^ key[i & 3] for i, c in enumerate(p))
        return b0 & 0x0f, p, bool(b1 & 0x80)
    except (EOFError, OSError):
        return None


def close_code_after(send):
    """respond(): upgrade, read the hello, run send(s), then the agent's close code."""
    def respond(s, key, req):
        upgrade(s, key)
        f = read_frame(s)
        if not f or f[0] != 1 or not f[2]:
            return ("bad hello", f)
        send(s)
        while True:
            f = read_frame(s)
            if f is None:
                return ("eof", None)
            if f[0] == 8:
                return ("close", int.from_bytes(f[1][:2], "big") if len(f[1]) >= 2 else 1005)
    return respond


def test_negotiation():
    """The reply shapes each kind of server gets: the original's until a
    nestd server says what it is, as the first message after
    Authenticated :D; --compat overrides either way."""
    def shapes(on_hello, args=(), first=None):
        bot = Bot(on_hello=on_hello)
        a = agent(bot.url, new_token(), ["--services", "none"] + list(args), name="agent-shapes")
        try:
            c = bot.wait_conn()
            if not c or not a.wait_log("authenticated to"):
                return None
            for m in first or ():
                bot.send(c, m)
                if json.loads(m).get("status") == "command":
                    c.get()           # its reply
            bot.send(c, cmd("obtain_all_process_info"))
            lst = c.get()
            bot.send(c, cmd("no_such_thing"))
            err = c.get()
            bot.send(c, "{not json")
            warn = c.get(1.5)
            return lst, err, warn
        finally:
            a.stop()
            bot.shutdown()

    def original(r, name):
        if not check(r is not None, name + ": the agent answered", r):
            return
        lst, err, warn = r
        p = lst.get("payload") if lst else None
        check(isinstance(p, list) and p and all(set(x) == {"pid", "name"} for x in p),
              name + ": the process list is [{pid, name}]", p[:2] if isinstance(p, list) else lst)
        check(err and err.get("message") == "unknown command: no_such_thing" ==
              err.get("payload", {}).get("error"), name + ": the error's text in message too", err)
        check(warn is None, name + ": nothing unasked (no warning for bad JSON)", warn)

    def nestd(r, name):
        if not check(r is not None, name + ": the agent answered", r):
            return
        lst, err, warn = r
        p = lst.get("payload") if lst else None
        check(isinstance(p, list) and p and all("ppid" in x and "cmdline" in x for x in p),
              name + ": the process list has nestd's fields", p[:1] if isinstance(p, list) else lst)
        check(err and err.get("message") == "response_no_such_thing", name + ": response_NAME", err)
        check(warn and warn.get("status") == "warning", name + ": a warning for bad JSON", warn)

    original(shapes(accept_as_original), "original server")
    nestd(shapes(accept), "nestd server (its info after Authenticated :D)")
    nestd(shapes(accept_as_original, ["--compat", "nestd"]), "--compat nestd under the original server")
    original(shapes(accept, ["--compat", "original"]), "--compat original under a nestd server")
    other = json.dumps({"status": "info", "message": "hi",
                        "payload": {"server": "other", "features": ["shapes"]}})
    original(shapes(accept_as_original, first=[other]), "an info from a server that is not nestd")
    original(shapes(accept_as_original, first=[cmd("obtain_system_info"), NESTD_INFO]),
             "nestd's info after a command (it counts only as the first message)")


def test_client_role_conformance():
    from nestlib import RawWS
    F = RawWS.frame
    ok_auth = F(1, AUTH_OK, mask=False)
    cases = [
        ("masked frame from the server", lambda s: s.sendall(F(1, AUTH_OK, mask=True)), 1002),
        ("binary frame from the server", lambda s: s.sendall(ok_auth + F(2, b"\x00", mask=False)), 1003),
        ("reserved bit from the server", lambda s: s.sendall(ok_auth + F(1, "{}", mask=False, rsv=4)), 1002),
        ("invalid UTF-8 from the server", lambda s: s.sendall(ok_auth + F(1, b'"\xff"', mask=False)), 1007),
        ("126-byte ping from the server", lambda s: s.sendall(ok_auth + F(9, b"x" * 126, mask=False)), 1002),
        ("fragmented ping from the server", lambda s: s.sendall(F(9, b"x", fin=False, mask=False)), 1002),
    ]
    for name, send, want in cases:
        bot = RawBot(close_code_after(send))
        a = agent(bot.url, new_token(), ["--once"], name="agent-raw")
        try:
            r = bot.result()
            check(r == ("close", want), "%s -> agent closes %d" % (name, want), r)
            check(a.wait(10) is not None, "%s: agent --once exits" % name, a.p.returncode)
        finally:
            a.stop()
            bot.stop()

    # Pings from the server between fragments of a command are answered.
    def frag_with_pings(s, key, req):
        upgrade(s, key)
        read_frame(s)
        c = cmd("nope_frag", id="x").encode()
        s.sendall(ok_auth + F(1, NESTD_INFO, mask=False) + F(1, c[:7], fin=False, mask=False) +
                  F(9, b"hi", mask=False) + F(0, c[7:], mask=False))
        got = [read_frame(s), read_frame(s)]
        s.sendall(F(8, (1000).to_bytes(2, "big"), mask=False))
        return ("frames", [(g[0], g[1], g[2]) for g in got if g])
    bot = RawBot(frag_with_pings)
    a = agent(bot.url, new_token(), ["--once"], name="agent-raw")
    try:
        r = bot.result()
        fr = r[1] if r and r[0] == "frames" else []
        check(fr and fr[0][:2] == (10, b"hi") and fr[0][2], "ping between fragments answered with a masked pong", r)
        check(len(fr) > 1 and fr[1][0] == 1 and b"response_nope_frag" in fr[1][1],
              "fragmented command answered", r)
        check(a.wait(10) == 0, "--once: exit 0 after a clean close", a.p.returncode)
    finally:
        a.stop()
        bot.stop()

    # Handshake answers the agent must refuse.
    bad_handshakes = [
        ("wrong Sec-WebSocket-Accept", lambda s, key, req: upgrade(s, key, accept_key("x" + key))),
        ("HTTP 403 instead of 101", lambda s, key, req: s.sendall(
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")),
        ("garbage instead of a response", lambda s, key, req: s.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")),
    ]
    for name, respond in bad_handshakes:
        def r2(s, key, req, respond=respond):
            respond(s, key, req)
            return ("sent", read_frame(s))
        bot = RawBot(r2)
        a = agent(bot.url, new_token(), ["--once"], name="agent-hs")
        try:
            r = bot.result()
            check(r and r[0] == "sent" and r[1] is None, "%s: agent sends nothing and hangs up" % name, r)
            check(a.wait(10) == 1, "%s: agent --once exits 1" % name, a.p.returncode)
            check(a.wait_log(r"(?i)handshake|malformed"), "%s: agent logs why" % name)
        finally:
            a.stop()
            bot.stop()
    # The agent's own request is a proper upgrade.
    def look(s, key, req):
        return ("req", req.decode("latin-1"))
    bot = RawBot(look)
    a = agent(bot.url, new_token(), ["--once"], name="agent-req")
    try:
        r = bot.result()
        req = r[1] if r else ""
        low = req.lower()
        check(req.startswith("GET / HTTP/1.1\r\n") and "upgrade: websocket" in low and
              "sec-websocket-version: 13" in low and "host: 127.0.0.1" in low and len(
                  [l for l in req.split("\r\n") if l.lower().startswith("sec-websocket-key:")]) == 1,
              "agent's handshake request is a proper RFC 6455 upgrade", req)
    finally:
        a.stop()
        bot.stop()


def test_end_to_end():
    """nestd agent against nestd server: TCP and Unix, takeover, revocation,
    server restart."""
    from nestlib import Server, token_new
    tf = path("tokens")
    tok = token_new(tf, "alice")
    srv = Server(tf, ["--auth-timeout", "2"], name="e2e-server")
    a = agent(srv.url, tok, FAST + ["--hostname", "h1"], name="e2e-a")
    b = None
    try:
        check(srv.wait_log(r"alice connected from 127\.0\.0\.1:\d+ \(version [^,]+, host h1\)"),
              "server logs 'alice connected from' with version and host")
        check(a.wait_log("authenticated to"), "agent authenticated to nestd server")
        m, ma = srv.mark(), a.mark()
        b = agent("unix:" + srv.unix, tok, FAST + ["--hostname", "h2"], name="e2e-b")
        check(srv.wait_log(r"alice: replaced by a newer connection", since=m), "second agent (unix) takes over")
        check(a.wait_log(r"server refused us: replaced by a newer connection", since=ma),
              "first agent logs the server's reason")
        b.stop()
        check(a.wait_log("authenticated to", since=ma, timeout=10), "first agent comes back after a long-ish wait")
        m, ma = srv.mark(), a.mark()
        run(["token", "revoke", "alice", "--tokens", tf])
        srv.signal(signal.SIGHUP)
        check(a.wait_log(r"server refused us: token revoked", since=ma), "revoked agent logs why")
        check(a.wait_log(r"server refused us: unknown or revoked token", since=ma, timeout=10),
              "and is refused on its next attempt")
        n = srv.count(r"authentication failed from", since=m)
        time.sleep(2)
        n2 = srv.count(r"authentication failed from", since=m)
        check(n2 - n <= 4, "rejected agent does not hammer the server (%d attempts in 2 s)" % (n2 - n))
        port = srv.port
        srv.stop()
        check(a.alive(), "agent survives the server going away")
        tok2 = token_new(tf, "alice2")
        a.stop()
        a = agent("ws://127.0.0.1:%d/" % port, tok2, FAST, name="e2e-c")
        check(a.wait_log(r"reconnecting in"), "agent retries while no server listens")
        ma = a.mark()
        srv = Server(tf, name="e2e-server2", port=port)
        check(a.wait_log("authenticated to", since=ma, timeout=5), "agent reconnects to the restarted server")
        rc = a.stop()
        check(rc == 0, "agent exits 0 on SIGTERM", rc)
        check(srv.wait_log(r"alice2 disconnected \(peer closed \(1001"), "server sees the agent's 1001")
    finally:
        a.stop()
        if b:
            b.stop()
        srv.stop()


if __name__ == "__main__":
    main([test_hello_and_commands, test_token_sources, test_reconnect, test_rejected_backoff,
          test_retry_after, test_sigterm_and_once, test_pings, (test_pong_timeout, 120),
          test_close_codes_from_bot, (test_negotiation, 120), (test_client_role_conformance, 150),
          (test_end_to_end, 120)])
