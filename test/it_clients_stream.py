#!/usr/bin/python3
"""it_clients_stream.py - GET /api/clients written as it goes (issue 12):
with 700 agents connected (python3-websockets, each announcing a long host
name and its commands) the list is some 400 KB, several pieces of
CFG_HTTP_STREAM_CHUNK (64 KiB) and more than loopback's socket buffers
hold, so it leaves the server in pieces: chunked to a keep-alive HTTP/1.1 client (Python's http.client,
then a second request on the same connection), close-delimited to
Connection: close (curl, nestd ctl) and HTTP/1.0, the head alone for HEAD;
agents that leave while a slow reader is half-way through leave a valid
list (no agent twice, the server fine).

Run with /usr/bin/python3 (Debian's, with python3-websockets)."""
import asyncio
import hashlib
import http.client as httpclient
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import Server, T, check, main, path, run, token_new  # noqa: E402

import websockets  # noqa: E402

N = 700
S = {}
COMMANDS = ["obtain_all_process_info", "obtain_process_info", "kill_process", "pause_process",
            "resume_process", "exec_command", "obtain_system_info", "list_services",
            "obtain_service_info", "start_service", "stop_service", "restart_service"]


def make_tokens():
    tokens = path("tokens")
    agents = []
    with open(tokens, "w") as f:
        for i in range(N):
            h = os.urandom(32).hex()
            tok = h + "." + hashlib.sha256(h.encode()).hexdigest()[:8]
            name = "st%03d" % i
            f.write("%s agent %s 0\n" % (name, hashlib.sha256(tok.encode()).hexdigest()))
            agents.append((name, tok))
    os.chmod(tokens, 0o600)
    return tokens, agents


class Crowd:
    """N agents on one asyncio loop in a thread; close(names) drops some."""

    def __init__(self, url, agents):
        self.loop = asyncio.new_event_loop()
        self.ws = {}
        self.ready = threading.Event()
        self.failed = []
        self.url, self.agents = url, agents
        self.t = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.t.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop)

    async def _one(self, name, tok):
        try:
            ws = await websockets.connect(self.url, max_size=None, ping_interval=None)
            await ws.send(json.dumps({
                "status": "let_me_in_pls", "message": "let me in! :D",
                "payload": {"version": "0.1.0", "client_token": tok,
                            "hostname": name + "." + "h" * 50, "services": "none",
                            "commands": COMMANDS}}))
            r = await asyncio.wait_for(ws.recv(), T(20))
            if "Authenticated" not in r:
                self.failed.append((name, r))
            self.ws[name] = ws
        except Exception as e:  # noqa: BLE001
            self.failed.append((name, repr(e)))

    async def _start(self):
        for k in range(0, len(self.agents), 50):
            await asyncio.gather(*(self._one(n, t) for n, t in self.agents[k:k + 50]))
        self.ready.set()

    def close(self, names):
        async def go():
            await asyncio.gather(*(self.ws.pop(n).close() for n in names if n in self.ws))
        asyncio.run_coroutine_threadsafe(go(), self.loop).result(T(30))

    def stop(self):
        self.close(list(self.ws))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.t.join(T(10))


def setup():
    S["tokens"], S["agents"] = make_tokens()
    S["op"] = token_new(S["tokens"], "ops", role="operator")
    S["srv"] = Server(S["tokens"])
    S["crowd"] = Crowd(S["srv"].url, S["agents"])
    check(S["crowd"].ready.wait(T(60)) and not S["crowd"].failed,
          "%d agents connected and authenticated" % N, S["crowd"].failed[:3])


def names_of(body, online=None):
    """The agents' names in a list; online=True: the connected ones only."""
    return [a["name"] for a in json.loads(body) if online is None or a.get("online") == online]


def connected(out):
    return len(names_of(out or "[]", online=True))


def test_keepalive_chunked():
    c = httpclient.HTTPConnection("127.0.0.1", S["srv"].port, timeout=T(20))
    h = {"Authorization": "Bearer " + S["op"]}
    c.request("GET", "/api/clients", headers=h)
    r = c.getresponse()
    body = r.read()
    names = names_of(body)
    check(r.status == 200 and r.getheader("Transfer-Encoding") == "chunked" and
          r.getheader("Content-Length") is None,
          "keep-alive HTTP/1.1: chunked, no Content-Length", (r.status, r.getheaders()))
    check(len(body) > 4 * 64 * 1024 and sorted(names) == sorted(n for n, _ in S["agents"]),
          "all %d agents in %d bytes (more than one 64 KiB piece)" % (N, len(body)),
          (len(names), len(body)))
    c.request("GET", "/api/clients/st007", headers=h)
    r = c.getresponse()
    one = json.loads(r.read())
    check(r.status == 200 and one.get("name") == "st007",
          "the same connection serves the next request after the chunks", (r.status, one))
    c.request("HEAD", "/api/clients", headers=h)
    r = c.getresponse()
    check(r.status == 200 and r.read() == b"", "HEAD: the head alone", r.status)
    c.close()


def raw_get(head, slow=None):
    s = socket.socket()
    if slow:     # a small window: the server cannot hand the kernel it all
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(T(20))
    s.connect(("127.0.0.1", S["srv"].port))
    s.sendall(head.encode())
    data = b""
    if slow:
        data = s.recv(2000)
        slow()
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    h, _, body = data.partition(b"\r\n\r\n")
    return h.decode("latin-1"), body


def test_close_delimited():
    auth = "Authorization: Bearer %s\r\n" % S["op"]
    h, body = raw_get("GET /api/clients HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n" % auth)
    check("200 OK" in h and "chunked" not in h and "Content-Length" not in h and
          len(names_of(body)) == N, "Connection: close: the body ends with the connection", h)
    h, body = raw_get("GET /api/clients HTTP/1.0\r\n%s\r\n" % auth)
    check("200 OK" in h and "chunked" not in h and len(names_of(body)) == N,
          "HTTP/1.0: no chunks, close-delimited", h)
    rc, out, err = run(["ctl", "--server", S["srv"].url.replace("ws://", "http://"), "--json",
                        "clients"], env=dict(os.environ, NESTD_TOKEN=S["op"]), timeout=T(30))
    check(rc == 0 and len(json.loads(out)) == N, "nestd ctl clients reads the streamed list",
          (rc, err[-300:]))
    rc, out, err = run(["ctl", "--server", "unix:" + S["srv"].unix, "--json", "clients"],
                       env=dict(os.environ, NESTD_TOKEN=S["op"]), timeout=T(30))
    check(rc == 0 and len(json.loads(out)) == N, "...over the Unix socket too", (rc, err[-300:]))


def test_agents_leave_midway():
    """A reader that takes the first bytes, then waits while half the agents go:
    the rest of the list has none of them twice, and is valid JSON."""
    gone = [n for n, _ in S["agents"][::2]]

    def leave():
        S["crowd"].close(gone)
        nestlib.wait_until(lambda: connected(
            run(["ctl", "--server", "unix:" + S["srv"].unix, "--json", "clients"],
                env=dict(os.environ, NESTD_TOKEN=S["op"]))[1]) == N - len(gone), 10)
    auth = "Authorization: Bearer %s\r\n" % S["op"]
    h, body = raw_get("GET /api/clients HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n" % auth,
                      slow=leave)
    names = names_of(body)
    # (How far the server had got when they went depends on the kernel's
    # buffers; that a walk survives its peers going is test_server_peer's.)
    check(len(names) == len(set(names)) and N - len(gone) <= len(names) <= N and
          set(names) <= set(n for n, _ in S["agents"]),
          "agents gone meanwhile: a valid list, each agent at most once (%d)" % len(names))
    c = httpclient.HTTPConnection("127.0.0.1", S["srv"].port, timeout=T(20))
    c.request("GET", "/api/clients", headers={"Authorization": "Bearer " + S["op"]})
    r = c.getresponse()
    body = r.read()
    check(r.status == 200 and sorted(names_of(body, online=True)) ==
          sorted(n for n, _ in S["agents"] if n not in set(gone)),
          "the next list has exactly the %d left connected" % (N - len(gone)))
    # The server remembers those that went (issue 14's roster): offline,
    # each once, in the same name-ordered list.
    check(sorted(names_of(body, online=False)) == sorted(gone) and
          names_of(body) == sorted(names_of(body)),
          "and the %d gone, offline, in name order" % len(gone))
    c.close()
    S["crowd"].stop()
    check(S["srv"].alive() and S["srv"].stop() == 0, "server alive, exits 0")


if __name__ == "__main__":
    main([setup, test_keepalive_chunked, test_close_delimited, test_agents_leave_midway])
