#!/usr/bin/python3
"""it_api.py - the operators' side of `nestd server` end to end (issue 4):
a real server, real `nestd agent`s and agents on python3-websockets
(test/api_fakes.py: the reference client's id-less replies, a reply-less
agent, a slow one, one that holds 1,000 commands), operators over HTTP with
curl and Python's http.client, every status code, the audit log, /metrics,
SIGHUP with revoked and new tokens, the per-address authentication budget
and `nestd ctl`.

Run with /usr/bin/python3 (Debian's, with python3-websockets)."""
import asyncio
import gzip
import http.client as httpclient
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import (Server, T, check, main, path, run, token_new,  # noqa: E402
                     wait_until)

import websockets  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
S = {}          # shared state: tokens, server, agents
TOKENS = {}     # name -> token text (for the "no secret in any log" check)

try:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192) if hard > 0 else 8192, hard))
except (ValueError, OSError):
    pass


# ---- processes ----

class Fake:
    """An agent from api_fakes.py, killed at the end like nestlib's Procs."""

    def __init__(self, mode, name, arg=None, url=None):
        self.name = name
        self.log = path("fake-%s.log" % name)
        self.f = open(self.log, "wb")
        tf = path("%s.token" % name)
        args = [PY, os.path.join(HERE, "api_fakes.py"), mode, url or S["srv"].url, tf]
        if arg is not None:
            args.append(str(arg))
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.f,
                                  stderr=subprocess.STDOUT)
        self.pid = self.p.pid
        nestlib._procs.append(self)


def new_agent_token(name, role="agent"):
    tok = token_new(S["tokens"], name, role)
    TOKENS[name] = tok
    with open(path("%s.token" % name), "w") as f:
        f.write(tok + "\n")
    os.chmod(path("%s.token" % name), 0o600)
    return tok


def real_agent(name, extra=()):
    return nestlib.Proc(["agent", "--server", S["srv"].url, "--token-file", path(name + ".token"),
                         "--reconnect-min", "0.2", "--reconnect-max", "1"] + list(extra),
                        "agent-" + name)


# ---- HTTP ----

def http(method, target, body=None, token=None, headers=None, src=None, timeout=30, port=None):
    """One request on its own connection: (status, headers, body bytes)."""
    return nestlib.http_request(port or S["srv"].port, method, target, body, token, headers, src,
                                timeout)[:3]


def http_json(*a, **kw):
    st, h, data = http(*a, **kw)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, data


def post(agent, message, payload=None, token=None, **kw):
    body = {"message": message}
    if payload is not None:
        body["payload"] = payload
    return http_json("POST", "/api/clients/%s/commands" % agent, body,
                     token=token or S["op"], **kw)


def clients():
    st, j = http_json("GET", "/api/clients", token=S["op"])
    return {c["name"]: c for c in j} if st == 200 else {}


def curl(*args, token=None, data=None):
    """curl: (status, body text)."""
    cmd = ["curl", "-sS", "--max-time", str(T(30)), "-o", "-", "-w", "\n%{http_code}"]
    if token:
        cmd += ["-H", "Authorization: Bearer " + token]
    if data is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", data]
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=T(40))
    body, _, code = p.stdout.rpartition("\n")
    return int(code or 0), body


async def raw_post(port, target, body, token, read_timeout=60):
    """POST over a raw asyncio connection: (status, body bytes)."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    b = body.encode()
    w.write(("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" %
             (target, token, len(b))).encode() + b)
    await w.drain()
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), T(read_timeout))
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    data = await r.readexactly(int(m.group(1))) if m else b""
    w.close()
    return status, data


def wait_connected(*names, timeout=15):
    return wait_until(lambda: all(n in clients() for n in names), timeout, 0.05)


# ---- setup ----

def setup():
    S["tokens"] = path("tokens")
    S["audit"] = path("audit.log")
    S["op"] = new_agent_token("oscar", "operator")
    for n in ("a1", "a2", "a3", "noid", "silent", "slow", "batch", "lag"):
        new_agent_token(n)
    S["srv"] = Server(S["tokens"], ["--audit-log", S["audit"], "--command-timeout", "3",
                                    "--accept-versions", "0.1,1.0"])
    S["a1"] = real_agent("a1")
    S["a2"] = real_agent("a2", ["--services", "none"])
    S["a3"] = real_agent("a3")
    S["noid"] = Fake("noid", "noid")
    S["silent"] = Fake("silent", "silent")
    S["slow"] = Fake("slow", "slow", 1.5)
    S["batch"] = Fake("batch", "batch", 1000)
    S["lag"] = Fake("noidlag", "lag", 3.6)
    ok = wait_connected("a1", "a2", "a3", "noid", "silent", "slow", "batch", "lag", timeout=20)
    check(ok, "three real agents and five python-websockets agents connect", clients().keys())


# ---- tests ----

def test_clients_and_health():
    st, j = http_json("GET", "/api/clients", token=S["op"])
    check(st == 200 and isinstance(j, list), "GET /api/clients: 200 and a JSON array", (st, j))
    by = {c["name"]: c for c in j}
    a1 = by.get("a1", {})
    for k in ("name", "version", "address", "connected_since", "inflight"):
        check(k in a1, "client entry has %s" % k, a1)
    check(a1.get("version") == "0.1.0", "real agent's version is 0.1.0", a1.get("version"))
    check(by.get("noid", {}).get("version") == "1.0.0", "reference-style agent's version 1.0.0")
    check(re.match(r"^127\.0\.0\.1:\d+$", a1.get("address", "")), "address is 127.0.0.1:PORT",
          a1.get("address"))
    check(abs(a1.get("connected_since", 0) - time.time()) < 120, "connected_since is epoch seconds",
          a1.get("connected_since"))
    check(a1.get("inflight") == 0, "nothing in flight at rest", a1.get("inflight"))
    st, j1 = http_json("GET", "/api/clients/a1", token=S["op"])
    check(st == 200 and j1.get("name") == "a1", "GET /api/clients/a1: that agent", (st, j1))
    code, body = curl("http://127.0.0.1:%d/api/clients" % S["srv"].port, token=S["op"])
    check(code == 200 and "a1" in [c["name"] for c in json.loads(body)], "curl GET /api/clients",
          (code, body[:200]))
    st, j = http_json("GET", "/healthz")
    check(st == 200 and j.get("status") == "ok" and j.get("agents") == 8,
          "/healthz without a token: ok and 8 agents", (st, j))
    st, j = http_json("GET", "/api/clients/")
    check(st == 401, "GET /api/clients without a token: 401", st)


def test_status_codes():
    port = S["srv"].port
    pid = os.getpid()
    # 200, with curl and http.client
    code, body = curl("http://127.0.0.1:%d/api/clients/a1/commands" % port, token=S["op"],
                      data=json.dumps({"message": "obtain_process_info", "payload": {"pid": pid}}))
    j = json.loads(body) if code == 200 else {}
    check(code == 200 and j.get("status") == "command_response" and
          j.get("payload", {}).get("pid") == pid, "curl POST obtain_process_info: 200, our pid",
          (code, body[:300]))
    check(j.get("message") == "response_obtain_process_info", "reply's message is response_<cmd>")
    st, j = post("a1", "obtain_process_info", {"pid": pid})
    check(st == 200 and j["payload"]["pid"] == pid, "http.client POST: 200", (st, j))
    st, j = post("a1", "nosuch_command")
    e = j.get("error", "") if isinstance(j, dict) else ""
    check(st == 409 and "'a1'" in e and "nosuch_command" in e and "not supported" in e,
          "a command the agent did not announce: 409 naming the agent and the command, never sent",
          (st, j))
    st, j = post("a1", "obtain_process_info", {"pid": -1})
    check(st == 200 and j.get("status") == "command_response_error" and "error" in j.get("payload", {}),
          "an announced command the agent refuses: 200 with its command_response_error", (st, j))
    st, j = post("a1", "obtain_process_info", None)
    check(st == 200 and j.get("status") == "command_response_error",
          "no payload: sent as is, the agent's error comes back", (st, j))

    # 400, one per body problem, each with its reason
    tgt = "/api/clients/a1/commands"
    for body, why, rx in [
            ("{not json", "not JSON", r"not valid JSON"),
            ("", "empty body", r"not valid JSON"),
            ("[1,2]", "an array", r"JSON object"),
            ('"obtain_process_info"', "a string", r"JSON object"),
            ('{"payload":{}}', "no message", r"message"),
            ('{"message":42}', "message is a number", r"message"),
            ('{"message":null}', "message is null", r"message"),
            ('{"message":"Bad Name!"}', "message not a command name", r"command name"),
            ('{"message":"obtain_process_info","payload":"x"}', "payload a string", r"payload"),
            ('{"message":"obtain_process_info","payload":[1]}', "payload an array", r"payload"),
            ('{"message":"obtain_process_info","payload":7}', "payload a number", r"payload")]:
        st, j = http_json("POST", tgt, body, token=S["op"])
        err = j.get("error", "") if isinstance(j, dict) else ""
        check(st == 400 and re.search(rx, err), "400 for a body that is %s (reason given)" % why,
              (st, j))
    st, j = http_json("POST", tgt, '{"message":"obtain_process_info","payload":null}', token=S["op"])
    check(st == 200, "payload null is accepted (same as none)", (st, j))

    # 401, and the reason; from their own source address so the budget of
    # 127.0.0.1 stays whole for the rest
    src = "127.0.0.2"
    a1tok = TOKENS["a1"]
    bad_sum = S["op"][:-1] + ("0" if S["op"][-1] != "0" else "1")
    unknown = "ab" * 32
    import hashlib
    unknown += "." + hashlib.sha256(unknown.encode()).hexdigest()[:8]
    for tok, hdr, why, rx in [
            (None, None, "missing token", r"missing"),
            (None, "Basic dXNlcjpwdw==", "Basic auth", r"format"),
            (None, "Bearer short", "malformed token", r"format"),
            (bad_sum, None, "bad checksum", r"checksum"),
            (unknown, None, "unknown token", r"unknown"),
            (a1tok, None, "an agent's token", r"agent tokens")]:
        headers = {"Authorization": hdr} if hdr else None
        st, h, data = http("POST", tgt, {"message": "obtain_process_info"}, token=tok,
                           headers=headers, src=src)
        try:
            err = json.loads(data).get("error", "")
        except ValueError:
            err = ""
        check(st == 401 and re.search(rx, err), "401 for %s (%s)" % (why, err), (st, data[:200]))
        check("www-authenticate" in h, "401 carries WWW-Authenticate (%s)" % why)
    code, body = curl("http://127.0.0.1:%d/api/clients" % port, token=a1tok)
    check(code == 401, "curl with an agent's token: 401", code)

    # 404
    st, j = post("nobody", "obtain_process_info", {"pid": 1})
    check(st == 404 and "not connected" in j.get("error", ""), "404 for an agent not connected", (st, j))
    st, j = http_json("GET", "/api/clients/nobody", token=S["op"])
    check(st == 404, "GET /api/clients/nobody: 404", st)
    for p in ("/nope", "/api", "/api/clientsX", "/api/clients/a1/other", "/api/clients/a1/commands/x",
              "/api/clients/a%20b/commands"):
        st, _, _ = http("GET" if "commands" not in p else "POST", p, "{}", token=S["op"])
        check(st == 404, "404 for unknown path %s" % p, st)

    # 405
    for m, p in (("GET", tgt), ("PUT", tgt), ("DELETE", "/api/clients"), ("POST", "/api/clients"),
                 ("PUT", "/api/clients/a1")):
        st, h, _ = http(m, p, "{}" if m != "GET" else None, token=S["op"])
        check(st == 405 and "allow" in h, "405 with Allow for %s %s" % (m, p), (st, h))

    # 413: a body over CFG_HTTP_MAX_BODY (256 KiB); exactly the limit passes
    limit = 256 << 10
    pad = limit - len(json.dumps({"message": "echo", "payload": {"x": ""}}))
    exact = json.dumps({"message": "echo", "payload": {"x": "y" * pad}})
    st, j = http_json("POST", "/api/clients/noid/commands", exact, token=S["op"])
    check(len(exact) == limit and st == 200 and len(j.get("payload", {}).get("x", "")) == pad,
          "a body of exactly 256 KiB is routed and echoed", (len(exact), st))
    s = socket.create_connection(("127.0.0.1", port), timeout=T(10))
    big = limit + 1
    s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n"
               % (tgt, S["op"], big)).encode())
    try:
        s.sendall(b"x" * big)
    except OSError:
        pass
    resp = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            resp += d
    except OSError:
        pass
    s.close()
    check(resp.startswith(b"HTTP/1.1 413"), "413 for a body of 256 KiB + 1", resp[:100])
    with open(path("big.json"), "w") as f:
        f.write("{" + " " * (1 << 20) + "}")
    code, body = curl("http://127.0.0.1:%d%s" % (port, tgt), token=S["op"],
                      data="@" + path("big.json"))
    # and bodies between the 8 KiB head limit and the body limit, in one write
    for size in (9000, 70000, 200000):
        b = json.dumps({"message": "echo", "payload": {"x": "z" * size}})
        s = socket.create_connection(("127.0.0.1", port), timeout=T(10))
        s.sendall(("POST /api/clients/noid/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   "Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (S["op"], len(b), b)).encode())
        resp = b""
        try:
            while True:
                d = s.recv(1 << 20)
                if not d:
                    break
                resp += d
        except OSError:
            pass
        s.close()
        check(resp.startswith(b"HTTP/1.1 200") and resp.count(b"z") == size,
              "a %d-byte body sent with its head in one write: 200" % len(b), resp[:80])
    check(code == 413, "curl with a 1 MiB body: 413", code)
    st, j = post("a1", "obtain_process_info", {"pid": pid})
    check(st == 200, "server still routes after the 413s", st)


def test_keepalive_and_pipelining():
    c = httpclient.HTTPConnection("127.0.0.1", S["srv"].port, timeout=T(10))
    ok = True
    for i in range(5):
        c.request("POST", "/api/clients/a1/commands",
                  json.dumps({"message": "obtain_process_info", "payload": {"pid": os.getpid()}}),
                  {"Authorization": "Bearer " + S["op"]})
        r = c.getresponse()
        d = json.loads(r.read())
        ok = ok and r.status == 200 and d["payload"]["pid"] == os.getpid()
    c.close()
    check(ok, "five commands on one keep-alive connection")
    # two requests in one write (HTTP/1.1 pipelining)
    s = socket.create_connection(("127.0.0.1", S["srv"].port), timeout=T(5))
    req = ("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").encode()
    s.sendall(req + req)
    data = b""
    end = time.monotonic() + T(3)
    try:
        while data.count(b"HTTP/1.1 200") < 2 and time.monotonic() < end:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        pass
    s.close()
    check(data.count(b"HTTP/1.1 200") == 2, "two pipelined requests in one write: two answers",
          data.count(b"HTTP/1.1 200"))


def test_role_separation():
    async def go():
        ws = await websockets.connect(S["srv"].url, ping_interval=None, open_timeout=T(10),
                                      local_addr=("127.0.0.4", 0))
        await ws.send(nestlib.auth_msg(S["op"]))
        r = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
        try:
            await asyncio.wait_for(ws.recv(), T(5))
        except websockets.ConnectionClosed:
            pass
        return r, ws.close_code
    r, code = nestlib.arun(go())
    check(r.get("status") == "error" and "operator" in r.get("message", ""),
          "an operator's token is refused as an agent", r)
    check(code == 1008, "and the connection closes with 1008", code)
    check("oscar" not in clients(), "no agent named after the operator token")


def test_noid_agent_concurrent():
    """The reference client answers in order without ids; 64 concurrent
    operators must each get the answer to their own command."""
    res = {}

    def one(i):
        pid = 100000 + i
        res[i] = post("noid", "obtain_process_info", {"pid": pid})
    ts = [threading.Thread(target=one, args=(i,)) for i in range(64)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(T(30))
    bad = [i for i in range(64) if not (i in res and res[i][0] == 200 and
                                        res[i][1]["payload"]["pid"] == 100000 + i)]
    check(not bad, "64 concurrent commands to an id-less agent: each gets its own pid back",
          [(i, res.get(i)) for i in bad[:3]])
    st, j = post("noid", "obtain_process_info", {"pid": "x"})
    check(st == 200 and j["status"] == "command_response_error", "an id-less error reply routes too",
          (st, j))
    check(clients().get("noid", {}).get("inflight") == 0, "nothing left in flight for noid")


def test_1000_in_flight():
    port, op = S["srv"].port, S["op"]

    async def batch():
        tasks = [raw_post(port, "/api/clients/batch/commands",
                          json.dumps({"message": "echo", "payload": {"n": i}}), op)
                 for i in range(1000)]
        return await asyncio.gather(*tasks, return_exceptions=True)
    t0 = time.monotonic()
    out = nestlib.arun(batch(), 90)
    bad = [i for i, r in enumerate(out) if isinstance(r, Exception) or r[0] != 200 or
           json.loads(r[1])["payload"].get("n") != i]
    check(not bad, "1,000 commands held in flight at once by one agent, answered in reverse: "
          "each operator gets its own (%.2f s)" % (time.monotonic() - t0),
          [out[i] for i in bad[:3]])

    pids = [os.getpid(), S["srv"].pid, S["a1"].pid, S["a2"].pid, S["a3"].pid]

    async def real():
        tasks = [raw_post(port, "/api/clients/a1/commands",
                          json.dumps({"message": "obtain_process_info",
                                      "payload": {"pid": pids[i % len(pids)]}}), op)
                 for i in range(1000)]
        return await asyncio.gather(*tasks, return_exceptions=True)
    t0 = time.monotonic()
    out = nestlib.arun(real(), 90)
    bad = [i for i, r in enumerate(out) if isinstance(r, Exception) or r[0] != 200 or
           json.loads(r[1])["payload"].get("pid") != pids[i % len(pids)]]
    check(not bad, "1,000 concurrent obtain_process_info to a real agent: all right (%.2f s)"
          % (time.monotonic() - t0), [out[i] for i in bad[:3]])
    check(clients().get("a1", {}).get("inflight") == 0, "nothing left in flight for a1")


def test_slow_agent_isolation():
    """Many operators to many agents; one agent that takes 1.5 s per reply
    holds up nobody else."""
    slow_done = []
    fast = {"n": 0, "bad": 0, "end": None}
    lock = threading.Lock()

    def slow(i):
        st, j = post("slow", "echo", {"i": i})
        with lock:
            slow_done.append((time.monotonic(), st == 200 and j["payload"]["i"] == i))

    def quick(agent, k):
        for i in range(15):
            if agent == "a1" or agent == "a3":
                st, j = post(agent, "obtain_process_info", {"pid": os.getpid()})
                good = st == 200 and j["payload"]["pid"] == os.getpid()
            else:
                st, j = post(agent, "obtain_process_info", {"pid": k * 100 + i})
                good = st == 200 and j["payload"]["pid"] == k * 100 + i
            with lock:
                fast["n"] += 1
                fast["bad"] += not good
        with lock:
            fast["end"] = max(fast["end"] or 0, time.monotonic())
    t0 = time.monotonic()
    ts = [threading.Thread(target=slow, args=(i,)) for i in range(16)]
    ts += [threading.Thread(target=quick, args=(a, k)) for k, a in
           enumerate(["a1", "a3", "noid", "batch_never", "a1", "noid"]) if a != "batch_never"]
    for t in ts:
        t.start()
    for t in ts:
        t.join(T(30))
    first_slow = min(t for t, _ in slow_done) if slow_done else None
    check(len(slow_done) == 16 and all(ok for _, ok in slow_done), "16 commands to the slow agent answered",
          slow_done)
    check(fast["n"] == 75 and fast["bad"] == 0, "75 commands to 3 other agents answered right",
          fast)
    check(fast["end"] is not None and first_slow is not None and fast["end"] < first_slow,
          "all of them done before the slow agent's first reply (%.2f s vs %.2f s)" %
          ((fast["end"] or 0) - t0, (first_slow or 0) - t0))


def test_timeout_504():
    t0 = time.monotonic()
    st, j = post("silent", "obtain_process_info", {"pid": 1})
    dt = time.monotonic() - t0
    check(st == 504 and "did not answer" in j.get("error", ""), "504 from a reply-less agent", (st, j))
    check(2.5 < dt < T(8), "after --command-timeout 3 s (%.2f s)" % dt)
    check(clients().get("silent", {}).get("inflight") == 1,
          "the timed-out command stays queued for the id-less matching", clients().get("silent"))
    code, body = curl("http://127.0.0.1:%d/api/clients/silent/commands" % S["srv"].port,
                      token=S["op"], data='{"message":"echo"}')
    check(code == 504, "curl sees 504 too", code)


def test_noid_late_reply_after_timeout():
    """An id-less agent answers the first command after the operator got
    504: that late reply must be matched to the timed-out command (kept
    queued), not to the next operator's."""
    st, j = post("lag", "obtain_process_info", {"pid": 111})
    check(st == 504, "first command to the lagging id-less agent: 504 after 3 s", (st, j))
    t0 = time.monotonic()
    st, j = post("lag", "obtain_process_info", {"pid": 222})
    check(st == 200 and j.get("payload", {}).get("pid") == 222,
          "the next command gets its own reply, not the late one (%.2f s)" % (time.monotonic() - t0), (st, j))
    check(clients().get("lag", {}).get("inflight") == 0, "nothing left in flight")


def test_exec_gets_longer_timeout():
    t0 = time.monotonic()
    st, j = post("a1", "exec_command", {"command": "sleep 3.5; echo done", "timeout": 10})
    dt = time.monotonic() - t0
    check(st == 200 and j.get("payload", {}).get("stdout") == "done\n",
          "exec_command outlives --command-timeout 3 (its own timeout + margin) (%.2f s)" % dt, (st, j))


def test_agent_killed_502():
    res = {}

    def go():
        t = time.monotonic()
        res["r"] = post("a3", "exec_command", {"command": "sleep 5", "timeout": 30})
        res["t"] = time.monotonic() - t
    th = threading.Thread(target=go)
    th.start()
    wait_until(lambda: clients().get("a3", {}).get("inflight") == 1, 5)
    time.sleep(0.3)
    os.kill(S["a3"].pid, signal.SIGKILL)
    th.join(T(20))
    st, j = res.get("r", (None, {}))
    check(st == 502 and "disconnected" in j.get("error", ""),
          "502 when the agent is SIGKILLed mid exec_command", res)
    check(res.get("t", 99) < 4.5, "at once, not after the command's end (%.2f s)" % res.get("t", 99))
    st, j = post("a3", "obtain_process_info", {"pid": 1})
    check(st == 404, "then 404: the agent is gone", (st, j))
    S["a3"].wait(5)


def parse_metrics(text):
    samples, types = {}, {}
    bad = []
    for line in text.splitlines():
        if not line:
            continue
        m = re.match(r"^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$", line)
        if m:
            types[m.group(1)] = m.group(2)
            continue
        if line.startswith("# HELP ") or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][\w:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? '
                     r'([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\+Inf|-Inf|NaN))$', line)
        if not m:
            bad.append(line)
            continue
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return samples, types, bad


def metrics():
    st, h, data = http("GET", "/metrics")
    return st, h, data.decode()


def test_metrics():
    st, h, text = metrics()
    check(st == 200 and h.get("content-type", "").startswith("text/plain"),
          "/metrics: 200 text/plain without a token", (st, h.get("content-type")))
    s0, types, bad = parse_metrics(text)
    check(not bad, "every /metrics line is Prometheus text format", bad[:3])
    base = lambda n: re.sub(r"_(bucket|sum|count)$", "", n.split("{")[0])  # noqa: E731
    undeclared = [k for k in s0 if k.split("{")[0] not in types and base(k) not in types]
    check(not undeclared, "every sample has a # TYPE", undeclared[:3])
    check(types.get("nestd_command_duration_seconds") == "histogram", "latency is a histogram", types)
    online = [c for c in clients().values() if c.get("online")]
    check(s0.get("nestd_agents_connected") == len(online), "nestd_agents_connected matches /api/clients",
          (s0.get("nestd_agents_connected"), len(online)))

    k_ok = 'nestd_commands_total{command="obtain_process_info",result="ok"}'
    k_err = 'nestd_commands_total{command="obtain_process_info",result="error"}'
    for _ in range(3):
        post("a1", "obtain_process_info", {"pid": os.getpid()})
    post("a1", "obtain_process_info", {"pid": "not a pid"})
    http("GET", "/api/clients", token=S["op"][:-1] + "x", src="127.0.0.3")
    st, h, text = metrics()
    s1, _, bad = parse_metrics(text)
    check(s1.get(k_ok, 0) - s0.get(k_ok, 0) == 3, "3 ok commands counted", (s0.get(k_ok), s1.get(k_ok)))
    check(s1.get(k_err, 0) - s0.get(k_err, 0) == 1, "1 error reply counted", s1.get(k_err))
    c0 = s0.get("nestd_command_duration_seconds_count", 0)
    c1 = s1.get("nestd_command_duration_seconds_count", 0)
    check(c1 - c0 == 4, "histogram count moved by 4", (c0, c1))
    # (durations come from the loop's millisecond clock: sub-millisecond
    # commands add 0 to the sum, so it may stay put)
    check(s1.get("nestd_command_duration_seconds_sum", 0) >= s0.get("nestd_command_duration_seconds_sum", 0),
          "histogram sum did not go down")
    check(s1.get("nestd_auth_failures_total", 0) - s0.get("nestd_auth_failures_total", 0) == 1,
          "a bad token counted in nestd_auth_failures_total",
          (s0.get("nestd_auth_failures_total"), s1.get("nestd_auth_failures_total")))
    check(s1.get("nestd_http_requests_total", 0) > s0.get("nestd_http_requests_total", 0),
          "http requests counted")
    buckets = [(float(re.search(r'le="([^"]+)"', k).group(1).replace("+Inf", "inf")), v)
               for k, v in s1.items() if k.startswith("nestd_command_duration_seconds_bucket")]
    buckets.sort()
    vals = [v for _, v in buckets]
    check(len(vals) > 5 and vals == sorted(vals), "histogram buckets are cumulative (monotonic)", buckets)
    check(buckets and buckets[-1][0] == float("inf") and vals[-1] == c1, "+Inf bucket equals the count",
          (buckets[-1:], c1))
    for res in ("timeout", "agent_gone"):
        tot = sum(v for k, v in s1.items() if 'result="%s"' % res in k)
        check(tot >= 1, "commands with result=%s counted" % res, tot)


def ctl(args, env=None, input=None):
    e = {"NESTD_SERVER": "http://127.0.0.1:%d" % S["srv"].port, "NESTD_TOKEN_FILE": path("oscar.token")}
    if env is not None:
        e = env
    return run(["ctl"] + list(args), env=e, input=input)


def test_ctl():
    me = os.getpid()
    rc, out, err = ctl(["clients"])
    check(rc == 0 and re.search(r"(?m)^NAME\s+STATE\s+HOST\s+VERSION", out) and re.search(r"(?m)^a1\s", out),
          "ctl clients: a table with a1 (env NESTD_SERVER, NESTD_TOKEN_FILE)", out + err)
    rc, out, err = ctl(["--json", "clients"])
    try:
        names = [c["name"] for c in json.loads(out)]
    except ValueError:
        names = []
    check(rc == 0 and "a1" in names, "ctl --json clients parses", out[:200])
    rc, out, err = ctl(["ps", "a1"])
    check(rc == 0 and re.search(r"(?m)^\s*PID\s+PPID", out) and re.search(r"(?m)^\s*%d\s" % me, out),
          "ctl ps a1: a table holding our pid", (rc, out[:300], err))
    rc, out, err = ctl(["--json", "ps", "a1"])
    try:
        j = json.loads(out)
        pids = [p["pid"] for p in j["payload"]]
    except (ValueError, KeyError, TypeError):
        pids = []
    check(rc == 0 and me in pids, "ctl --json ps parses and holds our pid", out[:200])
    rc, out, err = ctl(["proc", "a1", str(me)])
    check(rc == 0 and re.search(r"(?m)^pid\s+%d$" % me, out), "ctl proc a1 PID", (rc, out[:300], err))
    rc, out, err = ctl(["--json", "proc", "a1", str(me)])
    check(rc == 0 and json.loads(out)["payload"]["pid"] == me, "ctl --json proc parses", out[:200])

    victim = subprocess.Popen(["sleep", "60"])
    try:
        rc, out, err = ctl(["kill", "a1", str(victim.pid), "--signal", "SIGKILL"])
        try:
            code = victim.wait(T(5))
        except subprocess.TimeoutExpired:
            code = None
        check(rc == 0 and code == -9, "ctl kill --signal SIGKILL kills our sleep with 9", (rc, code, err))
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    rc, out, err = ctl(["kill", "a1", "abc"])
    check(rc == 2, "ctl kill with a bad pid: usage error 2", (rc, err))

    rc, out, err = ctl(["services", "a2"])
    check(rc == 1 and "no service manager" in err, "ctl services on --services none: exit 1, clear error",
          (rc, err))
    rc, out, err = ctl(["service", "a2", "start", "foo"])
    check(rc == 1 and "no service manager" in err, "ctl service start on --services none: clear error",
          (rc, err))
    rc, out, err = ctl(["service", "a2", "bogus", "foo"])
    check(rc == 2, "ctl service with a bad action: 2", rc)

    rc, out, err = ctl(["exec", "a1", "--", "echo out; echo err >&2; exit 3"])
    check(rc == 3, "ctl exec exits with the command's exit code (3)", (rc, out, err))
    check(out == "out\n" and "err\n" in err, "ctl exec passes stdout and stderr through", (out, err))
    rc, out, err = ctl(["exec", "a1", "--", "printf", "'a b\\n'"])
    check(rc == 0 and out == "a b\n", "ctl exec: words joined into one shell command", (rc, out, err))
    rc, out, err = ctl(["exec", "a1", "--timeout", "1", "--", "sleep 5"])
    check(rc == 124, "ctl exec --timeout 1 on sleep 5: 124", (rc, err))
    rc, out, err = ctl(["--json", "exec", "a1", "--", "echo hi; exit 4"])
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    check(rc == 4 and j.get("payload", {}).get("stdout") == "hi\n", "ctl --json exec parses; still exits 4",
          (rc, out))

    rc, out, err = ctl(["--json", "send", "a1", "obtain_process_info", "pid=%d" % me])
    check(rc == 0 and json.loads(out)["payload"]["pid"] == me, "ctl send key=value (number)", (rc, out[:200]))
    rc, out, err = ctl(["--json", "send", "a1", "exec_command", "command=echo x y", "timeout:=5"])
    check(rc == 0 and json.loads(out)["payload"]["stdout"] == "x y\n", "ctl send key=value and key:=JSON",
          (rc, out[:200], err))
    rc, out, err = ctl(["--json", "send", "noid", "echo", 'obj:={"a":[1,true,null]}', "s=007"])
    try:
        p = json.loads(out)["payload"]
    except (ValueError, KeyError):
        p = {}
    check(rc == 0 and p.get("obj") == {"a": [1, True, None]} and p.get("s") == "007",
          "ctl send: key:=JSON nests, 007 stays a string", (rc, out, err))
    rc, out, err = ctl(["send", "a1", "obtain_process_info", "pid:={bad"])
    check(rc == 2, "ctl send key:=bad JSON: 2", (rc, err))
    rc, out, err = ctl(["send", "a1", "nosuch_cmd3"])
    check(rc == 1 and ("nosuch_cmd3" in err.lower() or "unknown" in err.lower()),
          "ctl send unknown command: 1 with the agent's error", (rc, err))
    rc, out, err = ctl(["ps", "nobody"])
    check(rc == 1 and "no agent named 'nobody' is connected" in err and "404" not in err,
          "ctl to an agent not connected: 1, said in words",
          (rc, err))
    rc, out, err = ctl(["clients"], env={"NESTD_SERVER": "http://127.0.0.1:%d" % S["srv"].port})
    check(rc == 2 and "token" in err, "ctl without a token: 2, says so", (rc, err))
    rc, out, err = ctl(["frobnicate"])
    check(rc == 2, "ctl unknown subcommand: 2", rc)
    port = nestlib.free_port()
    rc, out, err = ctl(["clients"], env={"NESTD_SERVER": "http://127.0.0.1:%d" % port,
                                         "NESTD_TOKEN_FILE": path("oscar.token")})
    check(rc == 1 and err.strip(), "ctl against no server: 1 and a message", (rc, err))


def test_ctl_config_and_unix():
    cfg = path("ctl.conf")
    with open(cfg, "w") as f:
        f.write("# ctl config\nserver = http://127.0.0.1:%d\ntoken-file = %s\n" %
                (S["srv"].port, path("oscar.token")))
    rc, out, err = ctl(["--config", cfg, "clients"], env={})
    check(rc == 0 and re.search(r"(?m)^a1\s", out), "ctl --config F (server =, token-file =)", (rc, out, err))
    rc, out, err = ctl(["--config", cfg, "--server", "unix:" + S["srv"].unix, "--json", "clients"], env={})
    check(rc == 0 and "a1" in [c["name"] for c in json.loads(out or "[]")],
          "ctl --server unix:PATH (flag over config)", (rc, out[:200], err))
    rc, out, err = ctl(["--json", "proc", "a1", str(os.getpid())],
                       env={"NESTD_SERVER": "unix:" + S["srv"].unix, "NESTD_TOKEN_FILE": path("oscar.token")})
    check(rc == 0 and json.loads(out)["payload"]["pid"] == os.getpid(), "ctl over unix: from NESTD_SERVER",
          (rc, err))
    code, body = curl("--unix-socket", S["srv"].unix, "http://localhost/api/clients", token=S["op"])
    check(code == 200, "curl over the Unix socket", code)


def test_sighup_revoke_and_new():
    """The server picks token-file changes up by itself (issue 14 item 8:
    re-stat on every authentication and on a short timer); SIGHUP still
    reloads on demand."""
    srv = S["srv"]
    a2, m = S["a2"], S["a2"].mark()
    rc, _, err = run(["token", "revoke", "a2", "--tokens", S["tokens"]])
    check(rc == 0, "token revoke a2", err)
    gone = wait_until(lambda: "a2" not in clients(), 10)
    check(gone, "revoke without SIGHUP: a2 disconnected")
    check(wait_until(lambda: "a1" in clients() and "noid" in clients(), 2), "others stay connected")
    st, j = post("a2", "obtain_process_info", {"pid": 1})
    check(st == 404, "a2 is now 404", st)
    new_agent_token("a4")
    new_agent_token("olga", "operator")
    st, _, _ = http("GET", "/api/clients", token=TOKENS["olga"], src="127.0.0.5")
    check(st == 200, "a new operator token works at once, without SIGHUP", st)
    S["a4"] = real_agent("a4")
    check(wait_connected("a4"), "a new agent token works without SIGHUP, no restart")
    ms = srv.mark()
    srv.signal(signal.SIGHUP)
    check(srv.wait_log(r"SIGHUP: \d+ tokens loaded", since=ms), "SIGHUP still reloads the token file")
    st, j = post("a4", "obtain_process_info", {"pid": os.getpid()}, token=TOKENS["olga"])
    check(st == 200 and j["payload"]["pid"] == os.getpid(), "and a new operator token works", (st, j))
    check(srv.alive(), "the server is still the same process")
    # The revoked agent is told why and waits the long way: a refused
    # token backs off 5 x --reconnect-max (1 s), jittered over its second
    # half, not the short reconnect delay (0.2 s..1 s).
    why = a2.wait_log(r"server refused us: .*revoked", 5, since=m)
    wait = why and a2.wait_log(r"reconnecting in ([0-9.]+) s", 5, since=why.end())
    check(a2.alive() and wait and 2.5 <= float(wait.group(1)) <= 5,
          "revoked agent: told why, stays up and backs off 2.5-5 s", a2.text()[m:][-600:])


def test_rate_limit_429():
    srv, src = S["srv"], "127.0.0.9"
    bad = S["op"][:-1] + ("0" if S["op"][-1] != "0" else "1")
    sts = [http("GET", "/api/clients", token=bad, src=src)[0] for _ in range(10)]
    check(sts == [401] * 10, "10 bad tokens from one address: 401 each (the burst)", sts)
    mk = srv.mark()
    st, h, data = http("GET", "/api/clients", token=bad, src=src)
    ra = h.get("retry-after", "")
    check(st == 429 and ra.isdigit() and 1 <= int(ra) <= 34, "the 11th: 429 with Retry-After (%s)" % ra, (st, h))
    st, h, _ = http("GET", "/api/clients", token=S["op"], src=src)
    check(st == 200, "a good token from that address is served all the same", st)
    st, h, _ = http("GET", "/api/clients", token=S["op"])
    check(st == 200, "another address (127.0.0.1) is not affected", st)
    st, h, _ = http("GET", "/healthz", src=src)
    check(st == 200, "/healthz needs no token and is not blocked", st)

    async def agent_try(tok):
        ws = await websockets.connect(srv.url, ping_interval=None, open_timeout=T(10),
                                      local_addr=(src, 0))
        await ws.send(nestlib.auth_msg(tok))
        r = json.loads(await asyncio.wait_for(ws.recv(), T(10)))
        await ws.close()
        return r
    r = nestlib.arun(agent_try(TOKENS["a1"][:-1] + ("0" if TOKENS["a1"][-1] != "0" else "1")))
    ra = (r.get("payload") or {}).get("retry_after")
    check(r.get("status") == "error" and isinstance(ra, int) and ra >= 1,
          "a failing agent from that address: error with payload.retry_after", r)
    st, h, _ = http("GET", "/api/clients", token=bad, src=src)
    check(st == 429, "still over budget: 429 again", st)
    check(srv.count(r"operator authentication failed from 127\.0\.0\.9", mk) == 0,
          "failures over budget are not logged one by one")
    check(srv.wait_log(r"more failed authentications from 127\.0\.0\.9 in the last", 15, since=mk),
          "but summarised, with the address")


def test_audit_log():
    with open(S["audit"]) as f:
        lines = f.read().splitlines()
    recs, bad = [], []
    for l in lines:
        try:
            recs.append(json.loads(l))
        except ValueError:
            bad.append(l)
    check(lines and not bad, "audit log: %d lines, every one a JSON object" % len(lines), bad[:2])
    check(all("time" in r and "event" in r for r in recs), "every line has time and event")
    cmds = [r for r in recs if r["event"] == "command"]
    outcomes = {r.get("outcome") for r in cmds}
    for o in ("ok", "error", "timeout", "agent_gone"):
        check(o in outcomes, "a command with outcome %s" % o, outcomes)
    ok = [r for r in cmds if r.get("outcome") == "ok" and r.get("agent") == "a1" and
          r.get("command") == "obtain_process_info"]
    r = ok[0] if ok else {}
    check(r.get("operator") == "oscar" and re.match(r"127\.0\.0\.1:\d+", r.get("address", "")) and
          isinstance(r.get("payload"), dict) and r.get("http_status") == 200 and r.get("id"),
          "an ok line: operator, address, agent, command, payload, status, id", r)
    gone = [r for r in cmds if r.get("outcome") == "agent_gone"]
    check(gone and gone[0].get("agent") == "a3" and gone[0].get("payload", {}).get("command") == "sleep 5"
          and gone[0].get("http_status") == 502, "the SIGKILL line: a3, exec_command sleep 5, 502",
          gone[:1])
    to = [r for r in cmds if r.get("outcome") == "timeout"]
    check(to and to[0].get("agent") == "silent" and to[0].get("http_status") == 504,
          "the timeout line: silent, 504", to[:1])
    olga = [r for r in cmds if r.get("operator") == "olga"]
    check(olga, "the operator token added while running is named in its lines")
    af = [r for r in recs if r["event"] == "auth_failure"]
    kinds = {r.get("kind") for r in af}
    check({"operator", "agent"} <= kinds, "auth failures of operators and agents", kinds)
    check(any(r.get("address", "").startswith("127.0.0.9") for r in af), "auth failures carry the address")
    check(any(r["event"] == "agent_disconnected" and r.get("agent") == "a2" and
              "revoked" in r.get("reason", "") for r in recs), "a2's revocation is in the audit log")
    check(any(r["event"] == "agent_connected" and r.get("agent") == "a4" for r in recs),
          "agent_connected lines")
    late = [r for r in cmds if r.get("agent") == "lag" and r.get("outcome", "").startswith("late")]
    check(late and late[0].get("payload", {}).get("pid") == 111,
          "the late id-less reply is audited against the timed-out command", late[:1])


def test_no_secrets_in_logs():
    srv = S["srv"]
    texts = {"audit log": open(S["audit"]).read(), "server log": srv.text()}
    for n in ("a1", "a2", "a4"):
        if n in S:
            texts["agent %s log" % n] = S[n].text()
    leaks = [(where, name) for where, t in texts.items() for name, tok in TOKENS.items()
             if tok in t or tok[:64] in t]
    check(not leaks, "no token (nor its 64 hex) in the audit log, the server's or agents' logs", leaks)
    check(len(texts["server log"]) > 0 and "authentication failed" in texts["server log"],
          "the server log does record the failures")


def test_sigterm():
    rc = S["srv"].stop()
    check(rc == 0, "SIGTERM: the server exits 0", rc)


def test_dashboard_encoding():
    """The dashboard is stored gzip-compressed: sent as is to a client that
    takes gzip, inflated for one that does not; install.sh always plain.
    The script and the style as the build of the binary under test made
    them (tools/minify, then terser for the script when it is installed):
    build/min/ for ./nestd, build/static/min/ for nestd-static, the
    binary's own directory's min/ for build/asan/nestd-asan."""
    root = os.path.dirname(HERE)
    exe = os.path.abspath(nestlib.NESTD)
    if os.path.basename(exe) == "nestd-static":
        bdir = os.path.join(root, "build", "static")
    elif os.path.basename(exe) == "nestd":
        bdir = os.path.join(root, "build")
    else:
        bdir = os.path.dirname(exe)
    if not os.path.isfile(os.path.join(bdir, "min", "app.js")):
        return nestlib.skip("test_dashboard_encoding", "no %s/min/app.js (run make first)" % bdir)
    for name, target in (("index.html", "/"), ("app.js", "/app.js"), ("style.css", "/style.css")):
        src = os.path.join(root, "ui", name) if name == "index.html" else os.path.join(bdir, "min", name)
        with open(src, "rb") as f:
            want = f.read()
        st, h, body = http("GET", target, headers={"Accept-Encoding": "gzip, deflate, br"})
        check(st == 200 and h.get("content-encoding") == "gzip" and
              "accept-encoding" in h.get("vary", "").lower() and
              int(h.get("content-length", -1)) == len(body) < len(want) and
              gzip.decompress(body) == want, "GET %s, Accept-Encoding gzip: gzip, inflates to ui/%s" % (target, name))
        for ae in ("identity", "gzip;q=0, deflate", None):
            st, h, body = http("GET", target, headers={"Accept-Encoding": ae} if ae else {"Accept-Encoding": ""})
            check(st == 200 and "content-encoding" not in h and body == want and
                  "accept-encoding" in h.get("vary", "").lower(),
                  "GET %s, Accept-Encoding %r: ui/%s plain" % (target, ae, name))
        st, h, body = http("HEAD", target, headers={"Accept-Encoding": "gzip"})
        check(st == 200 and body == b"" and h.get("content-encoding") == "gzip" and
              int(h.get("content-length", -1)) < len(want), "HEAD %s: the gzip length, no body" % target)
    st, h, body = http("GET", "/install.sh", headers={"Accept-Encoding": "gzip"})
    check(st == 200 and "content-encoding" not in h and body.startswith(b"#!/bin/sh\n"),
          "GET /install.sh: plain even to a gzip client (curl without --compressed)")


if __name__ == "__main__":
    main([(setup, 60), test_clients_and_health, test_dashboard_encoding, test_status_codes, test_keepalive_and_pipelining,
          test_role_separation, test_noid_agent_concurrent, (test_1000_in_flight, 200),
          test_slow_agent_isolation, test_timeout_504, test_noid_late_reply_after_timeout,
          test_exec_gets_longer_timeout, test_agent_killed_502, test_metrics,
          (test_ctl, 120), test_ctl_config_and_unix, test_sighup_revoke_and_new, test_rate_limit_429,
          test_audit_log, test_no_secrets_in_logs, test_sigterm])
