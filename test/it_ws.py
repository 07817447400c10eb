#!/usr/bin/python3
"""it_ws.py - `nestd server` as a WebSocket server: interop with
python-websockets (fragments, pings, large messages, close codes),
RFC 6455 conformance and bad input from a raw socket.  After every bad
client a second, already-authenticated client must still be served, the
server must be alive, and its descriptor count must return to baseline."""
import asyncio
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nestlib import (AUTH_OK, RawWS, Server, T, arun, auth_msg, check, healthy,  # noqa: E402
                     main, path, raw_auth, skip, token_new, wait_until, xfail)

import websockets  # noqa: E402

S = {}
NPAR = 50


def setup():
    tf = path("tokens")
    S["tokens"] = tf
    for n in ("keeper", "alice", "bad", "slow", "big"):
        S[n] = token_new(tf, n)
    S["par"] = [token_new(tf, "par%02d" % i) for i in range(NPAR)]
    srv = S["srv"] = Server(tf)
    S["keeper"] = raw_auth(srv.port, S["keeper"])
    S["fd_base"] = srv.nfds()
    check(S["fd_base"] > 0, "can read the server's /proc/PID/fd", S["fd_base"])
    # A client that connects and sends nothing: checked at the end (the
    # handshake timeout is 10 s, so it runs alongside the other cases).
    S["idle"] = RawWS(srv.port, timeout=30)
    S["idle_t0"] = time.monotonic()


def still_serving(what):
    check(healthy(S["keeper"]), "%s: the other client is still served" % what)
    check(S["srv"].alive(), "%s: server still running" % what)


def expect_close(c, code, name):
    got, reason = c.wait_close()
    check(got == code, "%s -> close %d" % (name, code), (got, reason))
    c.close()
    still_serving(name)


def authed():
    return raw_auth(S["srv"].port, S["bad"])


# ---- interop with python-websockets ----

async def pyconnect(**kw):
    return await websockets.connect(S["srv"].url, ping_interval=None, open_timeout=T(10),
                                    close_timeout=T(5), max_size=None, **kw)


def test_py_fragmented_auth():
    async def go():
        ws = await pyconnect()
        msg = auth_msg(S["alice"])

        async def frags():
            for i in range(0, len(msg), 17):
                yield msg[i:i + 17]
        await ws.send(frags())
        r = await asyncio.wait_for(ws.recv(), T(10))
        check(r == AUTH_OK, "fragmented auth message (async iterator) accepted", r)
        # A fragmented message after auth too, with a python ping in between.
        pong = await ws.ping(b"py-ping")
        try:
            await asyncio.wait_for(pong, T(10))
            ponged = True
        except asyncio.TimeoutError:
            ponged = False
        check(ponged, "python-websockets ping answered by a pong with its payload")
        await ws.send(iter(["{not", " json", "}"]))
        w = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
        check(w.get("status") == "warning", "fragmented malformed JSON -> warning", w)
        await ws.send(json.dumps({"status": "weird", "message": "x"}))
        w = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
        check(w.get("status") == "warning" and "unknown status" in w.get("message", ""),
              "unknown status -> warning", w)
        await ws.close()
    arun(go())


def test_py_large_messages():
    async def go():
        srv = S["srv"]
        ws = await pyconnect()
        await ws.send(auth_msg(S["big"]))
        check(await asyncio.wait_for(ws.recv(), T(10)) == AUTH_OK, "big: authenticated")
        # 64 KiB+ malformed JSON: answered with a warning.
        await ws.send("[" * (80 << 10))
        w = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
        check(w.get("status") == "warning", "80 KiB malformed message -> warning", w)
        for size in (70 << 10, 10 << 20):
            # Valid JSON up to its very last byte: the parser's complaint
            # names that byte, so the whole message was received and read.
            body = '{"status":"info","message":"' + "z" * size + '",}'
            await ws.send(body)
            w = json.loads(await asyncio.wait_for(ws.recv(), T(30)))
            check(w.get("status") == "warning" and ("at byte %d" % (len(body) - 1)) in w.get("message", ""),
                  "%d-byte message after auth received whole (warning names its last byte)" % len(body),
                  w)
        await ws.send("{x")
        w = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
        check(w.get("status") == "warning", "connection still open after 10 MiB", w)
        await ws.close()
        check(ws.close_code == 1000, "close 1000 echoed", ws.close_code)
        # Over the default 16 MiB limit.
        ws = await pyconnect()
        await ws.send(auth_msg(S["big"]))
        await asyncio.wait_for(ws.recv(), T(10))
        m = srv.mark()
        try:
            await ws.send("q" * ((16 << 20) + 1))
            await asyncio.wait_for(ws.recv(), T(30))
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(ws.wait_closed(), T(10))
        check(ws.close_code == 1009, "16 MiB + 1 after auth -> close 1009", ws.close_code)
        check(srv.wait_log(r"big disconnected \(.*1009", since=m, timeout=5),
              "server logs which agent sent the oversized message")
    arun(go(), 120)
    still_serving("large messages")


def test_max_message_flag():
    async def go():
        srv = Server(S["tokens"], ["--max-message", "64K"], name="server-max")
        ws = await websockets.connect(srv.url, ping_interval=None, max_size=None)
        await ws.send(auth_msg(S["alice"]))
        check(await asyncio.wait_for(ws.recv(), T(10)) == AUTH_OK, "max: authenticated")
        await ws.send("[" * (60 << 10))
        w = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
        check(w.get("status") == "warning", "60 KiB under --max-message 64K is read", w)
        try:
            await ws.send("[" * (65 << 10))
            await asyncio.wait_for(ws.recv(), T(10))
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(ws.wait_closed(), T(10))
        check(ws.close_code == 1009, "65 KiB over --max-message 64K -> close 1009", ws.close_code)
        check(srv.wait_log(r"alice disconnected \(.*1009"), "server logs the agent's name and 1009")
        srv.stop()
    arun(go())


def test_py_close_codes():
    async def go():
        for code, reason in ((1000, ""), (1001, "going away"), (3000, "app"), (4999, "é bye")):
            ws = await pyconnect()
            await ws.send(auth_msg(S["alice"]))
            await asyncio.wait_for(ws.recv(), T(10))
            await ws.close(code, reason)
            check(ws.close_code == code, "client close %d echoed" % code, ws.close_code)
        # Before authentication too.
        ws = await pyconnect()
        await ws.close(1000)
        check(ws.close_code == 1000, "close before authentication echoed", ws.close_code)
        # Registered by IANA and sent by python-websockets (service restart,
        # try again later, bad gateway); RFC 6455 7.4.2 leaves them allowed.
        for code in (1012, 1013, 1014):
            ws = await pyconnect()
            await ws.send(auth_msg(S["alice"]))
            await asyncio.wait_for(ws.recv(), T(10))
            await ws.close(code)
            # IANA codes 1012-1014 are valid close codes.
            check(ws.close_code == code, "client close %d echoed" % code,
                  "ws.c ws_close_code_ok rejects IANA codes 1012-1014, answers %s" % ws.close_code)
    arun(go())
    still_serving("close codes")


# ---- raw-socket conformance and bad input ----

def test_raw_interleaved_pings():
    c = RawWS(S["srv"].port).handshake()
    msg = auth_msg(S["bad"]).encode()
    a, b = len(msg) // 3, 2 * len(msg) // 3
    c.sendall(c.frame(1, msg[:a], fin=False) + c.frame(9, b"p1") +
              c.frame(0, msg[a:b], fin=False) + c.frame(9, b"p2") + c.frame(10, b"unsolicited") +
              c.frame(0, msg[b:], fin=True))
    frames = []
    while True:
        fin, op, p = c.recv_frame()
        frames.append((op, p))
        if op == 1:
            break
    check(frames[:2] == [(10, b"p1"), (10, b"p2")], "pings between fragments answered in order",
          frames)
    check(frames[-1] == (1, AUTH_OK.encode()), "fragmented auth with pings in between accepted",
          frames[-1])
    c.send(9, b"x" * 125)
    fin, op, p = c.recv_frame()
    check(op == 10 and p == b"x" * 125, "125-byte ping answered with the same payload")
    c.send(9, b"")
    check(c.recv_frame()[1:] == (10, b""), "empty ping answered")
    # Byte at a time.
    for byte in c.frame(1, b'{"status":"zzz"}'):
        c.sendall(bytes([byte]))
    r = c.recv_text()
    check(r and "unknown status" in r, "message sent one byte at a time", r)
    c.send(8, struct.pack("!H", 1000) + b"done")
    code, _ = c.wait_close()
    check(code == 1000, "raw close 1000 echoed", code)
    check(c.eof(), "server closes TCP after the close handshake")
    c.close()


def test_server_pings():
    srv = Server(S["tokens"], ["--ping-interval", "0.3"], name="server-ping")
    c = raw_auth(srv.port, S["alice"])
    t0 = time.monotonic()
    fin, op, p = c.recv_frame()
    check(op == 9, "server pings an idle client (--ping-interval 0.3)", (op, p))
    check(time.monotonic() - t0 < T(2), "ping came within about 0.3 s")
    c.send(10, p)
    fin, op, p2 = c.recv_frame()
    check(op == 9, "and pings again after the pong", op)
    c.close()
    srv.stop()


def test_server_pong_timeout():
    """CFG_PONG_TIMEOUT_MS is 20 s: only with NESTD_IT_LONG=1."""
    if os.environ.get("NESTD_IT_LONG") != "1":
        return skip("test_server_pong_timeout", "the pong timeout is 20 s; set NESTD_IT_LONG=1 to run it")
    srv = Server(S["tokens"], ["--ping-interval", "0.3"], name="server-pong")
    c = raw_auth(srv.port, S["alice"], timeout=40)
    t0 = time.monotonic()
    code, _ = c.wait_close()       # reads pings, never answers
    dt = time.monotonic() - t0
    check(dt >= 19, "server drops a client that stops answering pings after ~20 s (%.1f s)" % dt)
    check(srv.wait_log(r"alice disconnected \(peer stopped answering pings"), "server logs why")
    c.close()
    srv.stop()


def http_case(name, data, status, header=None):
    c = RawWS(S["srv"].port)
    try:
        c.sendall(data)
        st, hdrs, body = c.read_http()
    except Exception as e:
        st, hdrs, body = None, {}, repr(e)
    check(st == status, "%s -> HTTP %d" % (name, status), (st, body))
    if header:
        check(hdrs.get(header[0].lower()) == header[1], "%s: %s: %s" % (name, header[0], header[1]), hdrs)
    # Exactly Content-Length bytes of readable body, then the end.
    check(body[:1] not in (b"\r", b"") and body.endswith(b"\n") and b"Connection:" not in body,
          "%s: body is exactly Content-Length bytes of text" % name, body)
    rest = bytes(c.buf)
    check(c.eof() and rest == b"", "%s: connection closed after the answer, nothing extra" % name,
          rest)
    c.close()
    still_serving(name)


def test_bad_http():
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    http_case("garbage instead of an HTTP request", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" +
              os.urandom(64) + b"\r\n\r\n", 400)
    http_case("oversized header", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n", 431)
    http_case("oversized header without an end", b"GET / HTTP/1.1\r\nX: " + b"a" * 20000, 431)
    http_case("missing Sec-WebSocket-Key",
              b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n", 400)
    http_case("wrong Sec-WebSocket-Version",
              ("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 8\r\n\r\n" % key).encode(),
              426, ("Sec-WebSocket-Version", "13"))
    # Plain HTTP (no upgrade) gets the API's answer; keep-alive requests
    # pipelined in one write get two well-framed answers.
    c = RawWS(S["srv"].port)
    c.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    a = c.read_http()
    c.sendall(b"GET /nope2 HTTP/1.1\r\nHost: x\r\n\r\n")
    b = c.read_http()
    check(a[0] == 404 and b[0] == 404 and a[2] == b[2] and a[2].startswith(b"{"),
          "two keep-alive plain GETs -> two well-framed 404s", (a, b))
    c.close()
    c = RawWS(S["srv"].port, timeout=3)
    c.sendall(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /nope2 HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        a = c.read_http()
        b = c.read_http()
    except Exception as e:
        b = (None, {}, repr(e))
    check(b[0] == 404, "two pipelined plain GETs in one write -> two 404s", b)
    c.close()
    still_serving("pipelined HTTP")
    # Case-insensitive headers and Connection as a token list are fine.
    c = RawWS(S["srv"].port)
    c.sendall(("GET / HTTP/1.1\r\nhost: x\r\nUPGRADE: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
               "sec-websocket-key: %s\r\nsec-websocket-version: 13\r\n\r\n" % key).encode())
    st, hdrs, _ = c.read_http()
    check(st == 101 and hdrs.get("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
          "handshake with odd header case: 101 and the RFC sample accept key", (st, hdrs))
    c.close()


def test_bad_frames():
    cases = [
        ("unmasked client frame", lambda c: c.send(1, "{}", mask=False), 1002),
        ("126-byte ping", lambda c: c.send(9, b"x" * 126), 1002),
        ("fragmented ping", lambda c: c.send(9, b"a", fin=False), 1002),
        ("reserved bit 1", lambda c: c.send(1, "{}", rsv=4), 1002),
        ("reserved bits 2+3", lambda c: c.send(9, b"", rsv=3), 1002),
        ("unknown data opcode 3", lambda c: c.send(3, b"x"), 1002),
        ("unknown control opcode 0xB", lambda c: c.send(0xB, b""), 1002),
        ("continuation without a start", lambda c: c.send(0, b"x"), 1002),
        ("text frame inside a fragmented message",
         lambda c: (c.send(1, b"{", fin=False), c.send(1, b"}")), 1002),
        ("binary message", lambda c: c.send(2, b"\x00\x01"), 1003),
        ("invalid UTF-8 split across fragments",
         lambda c: (c.send(1, b'{"a":"\xce', fin=False), c.send(0, b"\xff\"}")), 1007),
        ("invalid UTF-8 fails fast (message never finished)",
         lambda c: c.send(1, b'{"a":"\xff', fin=False), 1007),
        ("text ending inside a character", lambda c: c.send(1, b'"\xe2\x82'), 1007),
        ("invalid UTF-8 in close reason",
         lambda c: c.send(8, struct.pack("!H", 1000) + b"\xff\xfe"), 1007),
        ("close code 1005", lambda c: c.send(8, struct.pack("!H", 1005)), 1002),
        ("close code 999", lambda c: c.send(8, struct.pack("!H", 999)), 1002),
        ("close code 1006", lambda c: c.send(8, struct.pack("!H", 1006)), 1002),
        ("close code 5000", lambda c: c.send(8, struct.pack("!H", 5000)), 1002),
        ("1-byte close payload", lambda c: c.send(8, b"\x03"), 1002),
    ]
    for name, act, code in cases:
        c = authed()
        act(c)
        expect_close(c, code, name)
    # The same rules before authentication.
    for name, act, code in cases[:2] + cases[9:11]:
        c = RawWS(S["srv"].port).handshake()
        act(c)
        expect_close(c, code, "before auth: " + name)


def test_huge_before_auth():
    srv = S["srv"]
    c = RawWS(srv.port).handshake()
    rss0 = rss(srv.pid)
    # Only the header of a 10 MiB frame and a little payload: the server
    # must refuse from the length alone, without waiting for (or buffering) it.
    c.sendall(RawWS.frame(1, b"{" * 1000, length=10 << 20)[:1014])
    t0 = time.monotonic()
    code, _ = c.wait_close()
    check(code == 1009, "10 MiB message before authentication -> close 1009", code)
    check(time.monotonic() - t0 < T(3), "refused from the header, without the payload")
    c.close()
    # Now really send 10 MiB: the server reads and drops it, memory stays flat.
    c = RawWS(srv.port).handshake()
    try:
        c.sendall(RawWS.frame(1, b"[" * (10 << 20)))
    except OSError:
        pass
    code, _ = c.wait_close()
    check(code in (1009, None), "10 MiB sent whole before authentication -> 1009 (or reset)", code)
    c.close()
    grew = rss(srv.pid) - rss0
    check(grew < 8 << 20, "server did not buffer the 10 MiB (RSS grew %d KiB)" % (grew >> 10))
    still_serving("10 MiB before auth")


def rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1]) * 1024
    return 0


def test_slow_reader():
    srv = S["srv"]
    c = RawWS(srv.port)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.handshake().auth(S["slow"])
    m = srv.mark()
    # Thousands of malformed messages, each answered with a warning we never read.
    burst = RawWS.frame(1, b"{x") * 40000
    t0 = time.monotonic()
    for _ in range(5):
        c.sendall(burst)
        check(healthy(S["keeper"]), "server not blocked by a client that stops reading") \
            if _ == 4 else healthy(S["keeper"])
    check(srv.wait_log(r"slow: malformed message", since=m), "server parsed the slow client's messages")
    check(time.monotonic() - t0 < T(30), "200000 messages sent without the server stalling")
    still_serving("slow reader")
    # The client then drains: everything queued arrives in order.
    c.s.settimeout(T(30))
    n = 0
    try:
        while n < 200000:
            r = c.recv_text()
            if r is None:
                break
            n += 1
    except Exception as e:
        check(False, "drain warnings", repr(e))
    check(n == 200000, "all 200000 warnings delivered once the client reads again", n)
    c.close()


def test_parallel():
    srv = S["srv"]

    async def one(i):
        ws = await websockets.unix_connect(srv.unix, "ws://localhost/", ping_interval=None) \
            if i % 5 == 0 else await pyconnect()
        await ws.send(auth_msg(S["par"][i]))
        ok = await asyncio.wait_for(ws.recv(), T(20)) == AUTH_OK
        await ws.send("{bad %d" % i)
        w = json.loads(await asyncio.wait_for(ws.recv(), T(20)))
        ok = ok and w.get("status") == "warning"
        return ws, ok

    async def go():
        res = await asyncio.gather(*[one(i) for i in range(NPAR)], return_exceptions=True)
        good = [r for r in res if not isinstance(r, BaseException) and r[1]]
        check(len(good) == NPAR, "%d parallel connections authenticated and served" % NPAR,
              [r for r in res if isinstance(r, BaseException)][:3])
        check(srv.count(r"par\d\d connected from") >= NPAR, "server logged all of them")
        await asyncio.gather(*[r[0].close() for r in good])
    arun(go(), 120)
    still_serving("parallel connections")


def test_idle_client_and_fds():
    srv = S["srv"]
    c = S["idle"]
    t = c.eof()
    elapsed = time.monotonic() - S["idle_t0"]
    check(t and elapsed >= 9.5, "client that sends nothing is closed after the 10 s handshake timeout",
          "%.1f s" % elapsed)
    c.close()
    base = S["fd_base"]
    n = wait_until(lambda: srv.nfds() == base, timeout=10)
    check(srv.nfds() == base, "fd count back to baseline after the bad clients left",
          (base, srv.nfds()))
    still_serving("idle client")


def test_sigterm():
    srv = S["srv"]
    k = S["keeper"]
    c = RawWS(srv.port).handshake()   # not authenticated yet
    srv.signal(15)
    code, reason = k.wait_close()
    check(code == 1001, "SIGTERM: authenticated client gets close 1001", (code, reason))
    k.send(8, struct.pack("!H", 1001))
    code, _ = c.wait_close()
    check(code == 1001, "SIGTERM: unauthenticated client gets close 1001", code)
    c.send(8, struct.pack("!H", 1001))
    rc = srv.wait(10)
    check(rc == 0, "server exits 0 after SIGTERM", rc)
    check(not os.path.exists(srv.unix), "Unix socket removed on exit")


if __name__ == "__main__":
    main([setup, test_py_fragmented_auth, (test_py_large_messages, 150), test_max_message_flag,
          test_py_close_codes, test_raw_interleaved_pings, test_server_pings, (test_server_pong_timeout, 60), test_bad_http,
          test_bad_frames, test_huge_before_auth, (test_slow_reader, 150), (test_parallel, 150),
          test_idle_client_and_fds, test_sigterm])
