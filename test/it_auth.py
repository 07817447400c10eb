#!/usr/bin/python3
"""it_auth.py - python-websockets (a client nobody here wrote) against
`nestd server`: the first message, every way it can be wrong in the
reference order, version acceptance, the 16 KiB first-message limit and
the takeover of a duplicate token."""
import asyncio
import hashlib
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nestlib import (AUTH_OK, Server, T, arun, auth_msg, can_run_as_others, check, main, path,  # noqa: E402
                     run, skip, token_new, xfail)

import websockets  # noqa: E402

S = {}


def fake_token():
    h = os.urandom(32).hex()
    return h + "." + hashlib.sha256(h.encode()).hexdigest()[:8]


def flip(tok):
    return tok[:-1] + ("0" if tok[-1] != "0" else "1")


def setup():
    tf = path("tokens")
    S["tokens"] = tf
    S["alice"] = token_new(tf, "alice")
    S["bob"] = token_new(tf, "bob")
    S["dave"] = token_new(tf, "dave")
    S["op"] = token_new(tf, "oscar", "operator")
    S["srv"] = Server(tf, ["--auth-timeout", "1"])


_src = [0]


def next_src():
    """A fresh loopback source address (127.0.2.1 ...): the server budgets
    failed authentications per address (CFG_AUTH_FAIL_BURST), and the
    cases here fail on purpose many times."""
    _src[0] += 1
    n = _src[0]
    return "127.0.%d.%d" % (2 + n // 250, 1 + n % 250)


async def connect(url=None, unix=None, src=None):
    if unix:
        return await websockets.unix_connect(unix, "ws://localhost/", ping_interval=None,
                                             open_timeout=T(10), close_timeout=T(5))
    return await websockets.connect(url or S["srv"].url, ping_interval=None,
                                    open_timeout=T(10), close_timeout=T(5), max_size=None,
                                    local_addr=(src or next_src(), 0))


async def rejected(first, url=None, src=None):
    """Sends first (None: nothing) and returns (error message or raw text, close code, seconds)."""
    ws = await connect(url, src=src)
    t0 = time.monotonic()
    if first is not None:
        await ws.send(first)
    msg = None
    try:
        raw = await asyncio.wait_for(ws.recv(), T(10))
        try:
            j = json.loads(raw)
            msg = j.get("message") if set(j) == {"status", "message"} and j["status"] == "error" \
                else raw
        except ValueError:
            msg = raw
        await asyncio.wait_for(ws.recv(), T(10))
    except websockets.ConnectionClosed:
        pass
    await asyncio.wait_for(ws.wait_closed(), T(10))
    return msg, ws.close_code, time.monotonic() - t0


async def accepted(first, url=None, src=None):
    ws = await connect(url, src=src)
    await ws.send(first)
    r = await asyncio.wait_for(ws.recv(), T(10))
    return ws, r


def test_success():
    async def go():
        srv = S["srv"]
        m = srv.mark()
        ws, r = await accepted(auth_msg(S["alice"]))
        check(r == AUTH_OK, "success message byte for byte", r)
        check(srv.wait_log(r"alice connected from 127\.0\.\d+\.\d+:\d+", since=m), "server logs 'alice connected from'")
        # The connection stays usable: malformed JSON gets a warning.
        await ws.send("{oops")
        w = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
        check(w.get("status") == "warning", "open connection answers malformed JSON with a warning", w)
        await ws.close()
        check(ws.close_code == 1000, "normal close answered with 1000", ws.close_code)
        check(srv.wait_log(r"alice disconnected", since=m), "server logs the disconnect")
        check(S["alice"] not in srv.text(), "the token never appears in the server log")
        # Over the Unix socket too.
        ws = await connect(unix=srv.unix)
        await ws.send(auth_msg(S["alice"]))
        r = await asyncio.wait_for(ws.recv(), T(10))
        check(r == AUTH_OK, "authenticated over the Unix socket", r)
        await ws.close()
    arun(go())


def test_failures_in_order():
    al = S["alice"]
    cases = [
        ("no first message within --auth-timeout", None, "authentication timed out"),
        ("not JSON", "hello there", "first message is not valid JSON"),
        ("truncated JSON", auth_msg(al)[:-1], "first message is not valid JSON"),
        ("wrong status", auth_msg(al, status="info"), "expected status let_me_in_pls"),
        ("no status", json.dumps({"message": "hi", "payload": {"client_token": al}}),
         "expected status let_me_in_pls"),
        ("bad token format", auth_msg("abc"), "invalid token format"),
        ("uppercase token", auth_msg(al.upper()), "invalid token format"),
        ("token missing", json.dumps({"status": "let_me_in_pls", "payload": {"version": "0.1.0"}}),
         "invalid token format"),
        ("bad checksum (last char flipped)", auth_msg(flip(al)), "invalid token checksum"),
        ("unknown token", auth_msg(fake_token()), "unknown or revoked token"),
        ("operator token as agent", auth_msg(S["op"]), "operator tokens cannot connect as agents"),
        ("version not accepted", auth_msg(al, version="1.0.0"), "version 1.0.0 not accepted"),
        ("version missing", json.dumps({"status": "let_me_in_pls", "payload": {"client_token": al}}),
         "not accepted"),
        # The reference order: the earlier check wins when several fail.
        ("order: wrong status beats bad token", auth_msg("abc", status="nope"), "expected status"),
        ("order: bad format beats bad version", auth_msg("abc", version="9.9"), "invalid token format"),
        ("order: checksum beats bad version", auth_msg(flip(al), version="9.9"), "invalid token checksum"),
        ("order: unknown token beats bad version", auth_msg(fake_token(), version="9.9"),
         "unknown or revoked token"),
    ]

    async def go():
        srv = S["srv"]
        for name, first, want in cases:
            m = srv.mark()
            msg, code, secs = await rejected(first)
            check(msg is not None and want in msg and code == 1008,
                  "%s -> error '%s' and close 1008" % (name, want), (msg, code))
            if first is None:
                check(0.8 <= secs <= T(4), "auth timeout of 1 s honoured", "%.2f s" % secs)
                # Silence is no failed authentication (not charged): the
                # line is the one of any connection closing early.
                check(srv.wait_log(r"closed before authentication \(authentication timed out",
                                   since=m, timeout=5), "%s: server logs the close" % name)
                continue
            check(srv.wait_log(r"authentication failed from", since=m, timeout=5),
                  "%s: server logs the failure" % name)
        check(al not in srv.text() and flip(al) not in srv.text(), "no token in the server log")
    arun(go(), 120)


def test_odd_first_messages():
    async def go():
        al = S["alice"]
        esc = auth_msg(al).replace(al, "\\u%04x" % ord(al[0]) + al[1:])
        ws, r = await accepted(esc)
        check(r == AUTH_OK, "token with a \\u-escaped character accepted (same JSON string)", r)
        await ws.close()
        msg, code, _ = await rejected(auth_msg(al).replace(al, al + "\\u0000junk"))
        check(msg == "invalid token format", "token followed by \\u0000 and junk refused", msg)
        msg, code, _ = await rejected(auth_msg(al)[:-1] + "} x")
        check(msg and "not valid JSON" in msg, "trailing garbage after the object -> not JSON", msg)
        msg, code, _ = await rejected(json.dumps([1, 2]))
        check(msg == "expected status let_me_in_pls", "a JSON array -> wrong status", msg)
        for extra in ({"message": 5}, {"id": 5}):
            first = json.loads(auth_msg(al))
            first.update(extra)
            ws = await connect()
            await ws.send(json.dumps(first))
            r = await asyncio.wait_for(ws.recv(), T(10))
            await ws.close()
            # Only status and payload decide (as in the reference server).
            check(r == AUTH_OK or "expected status" not in r,
                  "first message with %s: accepted or refused for the right reason" % json.dumps(extra),
                  "server.c authenticate: got %s" % r)
        # Pings before the first message do not extend --auth-timeout.
        ws = await connect()
        t0 = time.monotonic()
        closed = None
        while time.monotonic() - t0 < T(5):
            try:
                await ws.ping()
                await asyncio.sleep(0.1)
            except websockets.ConnectionClosed:
                closed = time.monotonic() - t0
                break
        check(closed is not None and closed < T(1.8), "pings do not extend the auth timeout (%s s)"
              % (closed and round(closed, 2)))
        check(ws.close_code == 1008, "auth timeout with pings -> 1008", ws.close_code)
    arun(go())


def test_revoked():
    async def go():
        srv = S["srv"]
        ws, r = await accepted(auth_msg(S["dave"]))
        check(r == AUTH_OK, "dave authenticates before the revocation", r)
        rc, out, err = run(["token", "revoke", "dave", "--tokens", S["tokens"]])
        check(rc == 0, "token revoke dave", err)
        m = srv.mark()
        srv.signal(signal.SIGHUP)
        check(srv.wait_log(r"SIGHUP: \d+ tokens loaded", since=m), "server reloads tokens on SIGHUP")
        try:
            r = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
            check(r == {"status": "error", "message": "token revoked"},
                  "connected agent with a revoked token gets an error", r)
            await asyncio.wait_for(ws.recv(), T(10))
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(ws.wait_closed(), T(10))
        check(ws.close_code == 1008, "and is closed with 1008", ws.close_code)
        msg, code, _ = await rejected(auth_msg(S["dave"]))
        check(msg == "unknown or revoked token" and code == 1008, "revoked token refused", (msg, code))
        ws, r = await accepted(auth_msg(S["alice"]))
        check(r == AUTH_OK, "other tokens still accepted after SIGHUP", r)
        await ws.close()
    arun(go())


def test_versions():
    async def go():
        ws, r = await accepted(auth_msg(S["alice"], "0.1.7"))
        check(r == AUTH_OK, "default accepts the server's major.minor (0.1.7)", r)
        await ws.close()
        msg, code, _ = await rejected(auth_msg(S["alice"], "0.10.0"))
        check(msg and "not accepted" in msg, "default refuses 0.10.0 (prefix must end a number)", msg)
        # The seed's own example message, with a real token.
        seed = {"status": "let_me_in_pls", "message": "let me in! :D",
                "payload": {"version": "0.1.0a", "client_token": S["bob"]}}
        ws, r = await accepted(json.dumps(seed, indent=2))
        check(r == AUTH_OK, "the seed's example message (version 0.1.0a) is accepted", r)
        await ws.close()
        for accept, good, bad in (("*", ["1.0.0", "7", "0.0.1"], []),
                                  ("1.0", ["1.0.0", "1.0"], ["1.1.0", "1.00"]),
                                  ("1.0, 0.1", ["1.0.0", "0.1.0a"], ["2.0"])):
            srv = Server(S["tokens"], ["--accept-versions", accept], name="server-v")
            for v in good:
                ws, r = await accepted(auth_msg(S["alice"], v), srv.url)
                check(r == AUTH_OK, "--accept-versions %r lets %s in" % (accept, v), r)
                await ws.close()
            for v in bad:
                msg, code, _ = await rejected(auth_msg(S["alice"], v), srv.url)
                check(msg and "not accepted" in msg and code == 1008,
                      "--accept-versions %r refuses %s" % (accept, v), (msg, code))
            srv.stop()
    arun(go(), 120)


def test_first_message_limit():
    async def go():
        srv = S["srv"]
        big = json.dumps({"status": "let_me_in_pls", "payload": {"version": "0.1.0",
                                                                  "client_token": S["alice"],
                                                                  "pad": "x" * (17 << 10)}})
        msg, code, _ = await rejected(big)
        check(code == 1009 and msg is None, "first message over 16 KiB -> close 1009", (msg, code))
        # Before authentication the server logs this at debug level only
        # (no agent name to report yet); the post-auth case is in it_ws.py.
        pad = (16 << 10) - len(auth_msg(S["alice"])) - 20
        ok = json.dumps({"status": "let_me_in_pls", "message": "let me in! :D",
                         "payload": {"version": "0.1.0", "client_token": S["alice"], "p": "y" * pad}})
        check(len(ok) <= 16 << 10, "(padded message is within 16 KiB)", len(ok))
        ws, r = await accepted(ok)
        check(r == AUTH_OK, "a first message just under 16 KiB is accepted", r)
        await ws.close()
    arun(go())


def test_duplicate_token():
    async def go():
        srv = S["srv"]
        m = srv.mark()
        ws1, r1 = await accepted(auth_msg(S["bob"]))
        ws2, r2 = await accepted(auth_msg(S["bob"]))
        check(r1 == AUTH_OK and r2 == AUTH_OK, "both connections authenticate", (r1, r2))
        try:
            r = json.loads(await asyncio.wait_for(ws1.recv(), T(10)))
            check(r == {"status": "error", "message": "replaced by a newer connection"},
                  "first connection gets 'replaced by a newer connection'", r)
            await asyncio.wait_for(ws1.recv(), T(10))
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(ws1.wait_closed(), T(10))
        check(ws1.close_code is not None and ws1.close_code != 1006,
              "first connection is closed with a close frame", ws1.close_code)
        check(srv.wait_log(r"bob: replaced by a newer connection", since=m), "server logs the takeover")
        await ws2.send("{bad")
        w = json.loads(await asyncio.wait_for(ws2.recv(), T(10)))
        check(w.get("status") == "warning", "newer connection still served", w)
        # A third takes over from the second, over the Unix socket.
        ws3 = await connect(unix=srv.unix)
        await ws3.send(auth_msg(S["bob"]))
        check(await asyncio.wait_for(ws3.recv(), T(10)) == AUTH_OK, "third connection (unix) authenticates")
        try:
            r = json.loads(await asyncio.wait_for(ws2.recv(), T(10)))
            check(r.get("message") == "replaced by a newer connection", "second replaced by the third", r)
        except websockets.ConnectionClosed:
            check(False, "second replaced by the third", "closed without the error message")
        await ws3.close()
        await ws2.close()
    arun(go())


def test_failure_budget():
    """CFG_AUTH_FAIL_BURST (10) failures per address, then failures are
    answered with retry_after (late, summarised in the log) until the
    budget refills (one per 3 s); a valid token is admitted throughout."""
    async def go():
        srv = S["srv"]
        src = next_src()
        for i in range(10):
            msg, code, _ = await rejected(auth_msg(flip(S["alice"])), src=src)
            if msg != "invalid token checksum (mistyped token?)":
                break
        check(i == 9 and msg == "invalid token checksum (mistyped token?)",
              "10 failures from one address each get their own reason", (i, msg))
        m = srv.mark()
        ws = await connect(src=src)
        await ws.send(auth_msg(flip(S["alice"])))
        r = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
        await ws.close()
        check(r.get("status") == "error" and "too many failed" in r.get("message", "") and
              isinstance(r.get("payload", {}).get("retry_after"), int) and r["payload"]["retry_after"] >= 1,
              "11th failing attempt: refused with retry_after", r)
        ws, r = await accepted(auth_msg(S["alice"]), src=src)
        check(r == AUTH_OK, "a valid token from that address is still admitted", r)
        await ws.close()
        check(srv.wait_log(r"more failed authentications from 127\.0\.\d+\.\d+ in the last",
                           since=m, timeout=15), "server summarises the failures over budget")
        ws, r = await accepted(auth_msg(S["alice"]), src=next_src())
        check(r == AUTH_OK, "another address is not affected", r)
        await ws.close()
        ws = await connect(unix=srv.unix)
        await ws.send(auth_msg(S["alice"]))
        r = await asyncio.wait_for(ws.recv(), T(10))
        check(r == AUTH_OK, "the Unix socket is not affected", r)
        await ws.close()
        # Two failures dug the budget two units below empty: once they
        # refill (3 s each), a failure gets its own reason again.
        await asyncio.sleep(3 * 3 + 0.5)
        msg, code, _ = await rejected(auth_msg(flip(S["alice"])), src=src)
        check(msg == "invalid token checksum (mistyped token?)",
              "after the refill a failure is told its own reason again", msg)
        # Unix-socket peers are told apart by their uid (SO_PEERCRED): a
        # stranger (another local user) exhausting its own budget must not
        # lock out the agents of other users on the same socket.
        if not can_run_as_others():
            return skip("test_failure_budget: a stranger on the Unix socket",
                        "needs root and a / that other uids can search, to run as uid 65534")
        import subprocess
        sockdir = os.path.dirname(srv.unix)
        os.chmod(sockdir, os.stat(sockdir).st_mode | 0o011)
        os.chmod(srv.unix, 0o777)
        # The stranger starts in the socket's directory and then drops to
        # uid 65534, so it needs no access to the directories above it.
        stranger = (
            "import asyncio, os, sys, websockets\n"
            "os.chdir(os.path.dirname(sys.argv[1]))\n"
            "os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
            "async def go():\n"
            "    for i in range(12):\n"
            "        async with websockets.unix_connect(os.path.basename(sys.argv[1]), 'ws://localhost/', ping_interval=None) as ws:\n"
            "            await ws.send(sys.argv[2])\n"
            "            print(await ws.recv(), flush=True)\n"
            "asyncio.run(go())\n")
        out = subprocess.run(["/usr/bin/python3", "-c", stranger, srv.unix, auth_msg("stranger")],
                             capture_output=True, text=True, timeout=T(60))
        check("too many failed authentications" in out.stdout,
              "the stranger (uid 65534) exhausts its own budget", out.stdout[-300:] + out.stderr[-300:])
        ws = await connect(unix=srv.unix)
        await ws.send(auth_msg(S["alice"]))
        r = await asyncio.wait_for(ws.recv(), T(10))
        await ws.close()
        check(r == AUTH_OK, "a stranger's failures on the Unix socket do not lock another user's agent out", r)
        check(srv.wait_log(r"unix:uid=65534", since=m), "the server names the Unix peer by its uid")
    arun(go())


def test_server_alive():
    srv = S["srv"]
    check(srv.alive(), "server still running after all cases")
    rc = srv.stop()
    check(rc == 0, "server exits 0 on SIGTERM", rc)
    check(srv.wait_log(r"server stopped", timeout=2), "server logs 'server stopped'")


if __name__ == "__main__":
    main([setup, test_success, (test_failures_in_order, 180), test_odd_first_messages, test_revoked, (test_versions, 120),
          test_first_message_limit, test_duplicate_token, test_failure_budget, test_server_alive])
