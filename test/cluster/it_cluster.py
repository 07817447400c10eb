"""it_cluster.py - three nestd servers joined over a three-node NATS cluster
with JetStream, everything on loopback.

The NATS side is Debian's nats-server 2.9: three nodes with cluster routes
between them and JetStream in a temporary directory.  The nestd side is
the binary under test ($NESTD, built with libnats): servers A, B and C,
each with its own listener and all three NATS URLs, and real agents spread
over them, each given all three servers (--server repeated).  Operators
ask every server about every agent.

The Slack face on a fourth server: a person's agent on another server in
their App Home, commands routed to it, Get Token into the fleet's store.

Then the failures the fleet is for: one NATS node killed, a nestd server
killed with SIGKILL, the whole NATS cluster stopped and started again,
sessions taken over across servers.  Every wait is bounded; nothing is
timed.

Run: make test-cluster (test/cluster/setup.sh installs nats-server and
libnats-dev), or NESTD=./nestd /usr/bin/python3 test/cluster/it_cluster.py
"""
import http.client as httpclient
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import nestlib as N  # noqa: E402
from nestlib import T, check, path, skip, wait_until  # noqa: E402

NATS_SERVER = shutil.which("nats-server")
S = {}


# ---- NATS ----

class NatsNode:
    """One nats-server of the three: client, cluster and monitoring ports,
    its own JetStream directory (kept across a restart)."""

    def __init__(self, name, ports, routes):
        self.name = name
        self.port, self.cport, self.mport = ports
        self.url = "nats://127.0.0.1:%d" % self.port
        self.routes = routes
        self.store = path("js-" + name)
        self.proc = None
        self.log = None

    def start(self):
        self.log = open(path("nats-%s.%d.log" % (self.name, int(time.time() * 1000))), "wb")
        self.proc = subprocess.Popen(
            [NATS_SERVER, "-n", self.name, "-a", "127.0.0.1", "-p", str(self.port),
             "-m", str(self.mport), "-js", "-sd", self.store,
             "--cluster_name", "nestd-it", "--cluster", "nats://127.0.0.1:%d" % self.cport,
             "--routes", ",".join(self.routes)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(T(20))
        if self.log:
            self.log.close()
            self.log = None

    def jsz(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/jsz" % self.mport, timeout=2) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def js_ready(self):
        """JetStream on, and the cluster's meta leader elected."""
        j = self.jsz()
        return bool(j and j.get("meta_cluster", {}).get("leader"))


def nats_request(node, subject, payload=b"", timeout=5):
    """One request over NATS's own text protocol to node: the answer's
    payload as JSON (the tests need no NATS client library)."""
    inbox = "_INBOX.it%d" % random.randrange(1 << 30)
    with socket.create_connection(("127.0.0.1", node.port), timeout=T(timeout)) as sk:
        f = sk.makefile("rb")
        f.readline()                              # INFO
        sk.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB %s 1\r\n'
                   b"PUB %s %s %d\r\n%s\r\n" % (inbox.encode(), subject.encode(),
                                                 inbox.encode(), len(payload), payload))
        while True:
            line = f.readline()
            if not line:
                raise OSError("NATS closed the connection")
            if line.startswith(b"PING"):
                sk.sendall(b"PONG\r\n")
            elif line.startswith(b"MSG "):
                n = int(line.split()[-1])
                return json.loads(f.read(n + 2)[:n])
            elif line.startswith(b"-ERR"):
                raise OSError(line.decode().strip())


def js_request(subject, tries=6):
    """A JetStream API request, asked again while JetStream does not
    answer (a stream without a leader for a while after a node's loss)."""
    for i in range(tries):
        try:
            return nats_request(S["nats"][i % len(S["nats"])], subject)
        except OSError as e:          # socket.timeout too
            err = e
    return {"error": {"description": "no answer: %s" % err}}


def nats_start_all():
    for n in S["nats"]:
        n.start()
    ok = wait_until(lambda: all(n.js_ready() for n in S["nats"]), 60)
    return ok


def nats_urls(first):
    """All three URLs, node `first` first, so the servers spread over them."""
    ns = S["nats"]
    order = ns[first:] + ns[:first]
    return ",".join(n.url for n in order)


# ---- nestd ----

def start_server(name, idx, extra=()):
    port = S["ports"][name]
    p = N.Proc(["server", "--listen", "127.0.0.1:%d" % port, "--state-dir", path("state-" + name),
                "--cluster", nats_urls(idx), "--node", name, "--command-timeout", "3",
                "--audit-log", path("audit-%s.log" % name)] + list(extra),
               "server-" + name)
    p.port = port
    p.node = name
    if not p.wait_log(r"server ready", 20):
        raise RuntimeError("server %s did not start: %s" % (name, p.text()[-2000:]))
    S["srv"][name] = p
    return p


def token_cli(args):
    """nestd token ... --cluster (every NATS URL): (rc, stdout, stderr)."""
    return N.run(["token"] + args + ["--cluster", nats_urls(0)], timeout=T(30))


def new_token(name, role="agent", extra=()):
    rc, out, err = token_cli(["new", name, "--role", role] + list(extra))
    if rc != 0:
        raise RuntimeError("token new %s --cluster: %d %s" % (name, rc, err))
    return out.strip()


def token_file(name, tok):
    f = path(name + ".token")
    with open(f, "w") as fh:
        fh.write(tok + "\n")
    os.chmod(f, 0o600)
    return f


def srv_url(name):
    return "ws://127.0.0.1:%d/" % S["ports"][name]


def start_agent(name, first, extra=()):
    """A real agent given all three servers, the `first` one first."""
    order = ["A", "B", "C"]
    i = order.index(first)
    order = order[i:] + order[:i]
    args = ["agent", "--token-file", S["tf"][name], "--reconnect-min", "0.2",
            "--reconnect-max", "1", "--services", "none", "--hostname", "host-" + name]
    for s in order:
        args += ["--server", srv_url(s)]
    p = N.Proc(args + list(extra), "agent-" + name)
    S["agents"][name] = p
    return p


def http(server, method, target, body=None, token=None, timeout=30):
    c = httpclient.HTTPConnection("127.0.0.1", S["ports"][server], timeout=T(timeout))
    return N.http_json(c, method, target, body, None if token is False else token or S["op"],
                       oserror=True)


def post(server, agent, message, payload=None, timeout=30):
    body = {"message": message}
    if payload is not None:
        body["payload"] = payload
    return http(server, "POST", "/api/clients/%s/commands" % agent, body, timeout=timeout)


def listing(server, scope=""):
    """{agent: server} of the agents online (the roster's offline ones,
    "online": false, are left out: see remembered)."""
    j = full_listing(server, scope)
    if j is None:
        return None
    return {a["name"]: a.get("server") for a in j if a.get("online", True)}


def full_listing(server, scope=""):
    st, j = http(server, "GET", "/api/clients" + scope)
    return j if st == 200 and isinstance(j, list) else None


def remembered(server):
    """{agent: server} of the agents the server lists offline."""
    j = full_listing(server) or []
    return {a["name"]: a.get("server") for a in j if a.get("online") is False}


def healthz(server):
    st, j = http(server, "GET", "/healthz", token=False)
    return j if st == 200 and isinstance(j, dict) else {}


def fleet_is(servers, want):
    """Every server in `servers` lists exactly `want` ({agent: server})."""
    return all(listing(s) == want for s in servers)


def fleet_whole(servers):
    """Every server lists every agent once, all of them alike."""
    ls = [listing(s) for s in servers]
    return ls[0] is not None and set(ls[0]) == set(AGENTS) and all(l == ls[0] for l in ls)


def placement(servers):
    """{agent: server} as the first of servers lists it (None if it cannot)."""
    return listing(servers[0])


AGENTS = ["a1", "a2", "a3", "a4", "a5", "a6"]
HOME = {"a1": "A", "a2": "B", "a3": "C", "a4": "A", "a5": "B", "a6": "C"}


# ---- the tests ----

def setup():
    if not NATS_SERVER:
        raise RuntimeError("no nats-server (run test/cluster/setup.sh)")
    rc, out, err = N.run(["--version"])
    check(rc == 0 and "clustering: yes" in out, "nestd --version says clustering is built in", out)
    ports = [N.free_port() for _ in range(9)]
    cports = [ports[3], ports[4], ports[5]]
    S["nats"] = []
    for i in range(3):
        routes = ["nats://127.0.0.1:%d" % cports[j] for j in range(3) if j != i]
        S["nats"].append(NatsNode("n%d" % (i + 1), (ports[i], cports[i], ports[6 + i]), routes))
    check(nats_start_all(), "three nats-server nodes with JetStream and a meta leader")
    # Every token in the fleet's store, none in a file.
    S["tf"] = {}
    for a in AGENTS + ["fake1", "fake2", "dup", "ling", "rev"]:
        S["tok_" + a] = new_token(a)
        S["tf"][a] = token_file(a, S["tok_" + a])
    S["op"] = new_token("ops", "operator")
    S["op_tf"] = token_file("ops", S["op"])
    rc, out, err = token_cli(["list"])
    check(rc == 0 and all(("\n%s " % a) in out for a in AGENTS) and "\nops " in out,
          "nestd token list --cluster: the store's tokens", (rc, out, err))
    rc, out, err = token_cli(["new", "a1"])
    check(rc == 1 and "revoke it first" in err, "token new for a name the store has: refused", (rc, err))
    S["ports"] = {n: N.free_port() for n in "ABC"}
    S["srv"] = {}
    S["agents"] = {}
    for i, n in enumerate("ABC"):
        start_server(n, i)
    ready = wait_until(lambda: all(healthz(n).get("cluster", {}).get("ready") for n in "ABC"), 30)
    check(ready, "every server's /healthz: cluster ready", [healthz(n) for n in "ABC"])
    check(all(healthz(n)["cluster"]["servers"] == 3 for n in "ABC"),
          "... once it has heard the other two", [healthz(n) for n in "ABC"])
    for a in AGENTS:
        start_agent(a, HOME[a], ["--max-output", "8M"] if a == "a1" else [])
    ok = wait_until(lambda: fleet_is("ABC", HOME), 30)
    check(ok, "GET /api/clients on every server: the whole fleet, each with its server",
          [listing(n) for n in "ABC"])


def test_commands_everywhere():
    """Every operator command from every server to every agent."""
    cmds = [("obtain_system_info", None), ("obtain_all_process_info", None),
            ("list_services", None), ("exec_command", {"command": "echo hi-$PPID"}),
            ("obtain_process_info", {"pid": 1}), ("kill_process", {"pid": 999999999})]
    bad = []
    n = 0
    for s in "ABC":
        for a in AGENTS:
            for m, p in cmds:
                st, j = post(s, a, m, p)
                n += 1
                if st != 200 or not isinstance(j, dict) or j.get("message") != "response_" + m:
                    bad.append((s, a, m, st, str(j)[:200]))
    check(not bad, "%d commands: every one answered 200 with the agent's reply" % n, bad[:5])
    st, j = post("B", "a1", "exec_command", {"command": "echo routed"})
    check(st == 200 and j["payload"]["stdout"] == "routed\n",
          "an agent on A answers exec_command asked on B", (st, j))
    st, j = http("C", "GET", "/api/clients/a1")
    check(st == 200 and j.get("name") == "a1" and j.get("server") == "A" and j.get("hostname") == "host-a1",
          "GET /api/clients/NAME on C for an agent on A: its record, with its server", (st, j))
    st, j = http("A", "GET", "/api/clients/a1")
    check(st == 200 and j.get("server") == "A", "... and on A itself", (st, j))


def test_large_reply():
    """A reply larger than NATS's max_payload crosses in chunks, whole."""
    cmd = "head -c 3000000 /dev/urandom | base64 -w0; echo"
    st, j = post("C", "a1", "exec_command", {"command": cmd, "timeout": 20}, timeout=60)
    ok = st == 200 and isinstance(j, dict) and len(j["payload"]["stdout"]) == 4000001
    check(ok, "a 4 MB exec_command reply routed from A to C (max_payload 1 MiB): whole",
          (st, len(j["payload"]["stdout"]) if ok or (st == 200 and isinstance(j, dict)) else str(j)[:300]))
    st, j = post("A", "a1", "exec_command", {"command": "printf %s $(seq 1 200000) | sha256sum"})
    st2, j2 = post("B", "a1", "exec_command", {"command": "printf %s $(seq 1 200000) | sha256sum"})
    check(st == st2 == 200 and j["payload"]["stdout"] == j2["payload"]["stdout"],
          "the same command, asked locally and remotely: the same answer", (st, st2))


def test_not_found_and_deadline():
    st, j = post("B", "nobody", "obtain_system_info")
    check(st == 404 and "not connected" in j.get("error", ""),
          "a command for an agent no server holds: 404", (st, j))
    st, j = http("B", "GET", "/api/clients/nobody")
    check(st == 404, "GET /api/clients/NAME no server holds: 404", (st, j))
    # An agent that authenticates and then never answers, on A.
    fake = N.raw_auth(S["ports"]["A"], S["tok_fake1"])
    try:
        ok = wait_until(lambda: listing("B") and "fake1" in listing("B"), 15)
        check(ok, "a silent agent on A is listed on B")
        # (a raw agent announces nothing: an original client, asked one of its commands)
        st, j = post("B", "fake1", "list_services", timeout=30)
        check(st == 504 and "did not answer" in j.get("error", ""),
              "asked on B, an agent on A that never answers: 504 at the deadline", (st, j))
        st, j = post("C", "fake1", "obtain_system_info")
        check(st == 409 and "original client" in j.get("error", ""),
              "a command it did not announce, asked on C: 409 from its server, with the reason", (st, j))
    finally:
        fake.close()
    # An agent that leaves in the middle of the command.
    fake = N.raw_auth(S["ports"]["C"], S["tok_fake2"])
    ok = wait_until(lambda: listing("A") and "fake2" in listing("A"), 15)
    import threading
    res = {}

    def ask():
        res["r"] = post("A", "fake2", "list_services", timeout=30)

    t = threading.Thread(target=ask)
    t.start()
    try:
        fake.settimeout(15)
        cmd = fake.recv_text()        # the command reached the agent on C
        check(cmd is not None and '"list_services"' in cmd, "the routed command reaches the agent", cmd)
    finally:
        fake.close()
    t.join(T(30))
    st, j = res.get("r", (None, None))
    check(st == 502 and "disconnected" in str(j), "the agent leaves mid-command: 502 on A", (st, j))


def test_takeover_lingering():
    """An agent connecting to B while its old session lingers on A."""
    old = N.raw_auth(S["ports"]["A"], S["tok_ling"])
    ok = wait_until(lambda: (listing("C") or {}).get("ling") == "A", 15)
    check(ok, "the lingering session is the fleet's: listed on C as on A")
    mark = S["srv"]["A"].mark()
    new = start_agent("ling", "B")
    old.settimeout(10)
    code, reason = old.wait_close()
    check(code == 1008 and "replaced" in reason, "A drops the old session (1008, replaced)",
          (code, reason))
    check(S["srv"]["A"].wait_log(r"ling: a newer session holds it on server B", 5, mark),
          "A's log says a newer session on B took over")
    ok = wait_until(lambda: fleet_is("ABC", dict(HOME, ling="B")), 15)
    check(ok, "every server lists ling on B", [listing(n) for n in "ABC"])
    st, j = post("A", "ling", "obtain_system_info")
    check(st == 200, "asked on A, ling answers from B", (st, j))
    old.close()
    new.stop()
    S["agents"].pop("ling")
    ok = wait_until(lambda: fleet_is("ABC", HOME), 15)
    check(ok, "gone from every listing once it leaves", [listing(n) for n in "ABC"])


def test_newer_wins():
    """Two agents with one token on two servers: the newer wins."""
    first = start_agent("dup", "A", ["--once"])
    ok = wait_until(lambda: (listing("B") or {}).get("dup") == "A", 15)
    check(ok, "the first agent is on A")
    second = start_agent("dup", "C")
    rc = first.wait(20)
    check(rc is not None and first.wait_log(r"replaced by a newer connection", 1),
          "the older one is told it was replaced, and (with --once) exits", (rc, first.text()[-500:]))
    ok = wait_until(lambda: fleet_is("ABC", dict(HOME, dup="C")), 15)
    check(ok, "the newer one holds the name on C for every server", [listing(n) for n in "ABC"])
    check(second.alive() and second.count(r"server refused us") == 0,
          "the newer one was never refused")
    second.stop()
    S["agents"].pop("dup")
    wait_until(lambda: fleet_is("ABC", HOME), 15)


def test_revocation():
    """A revoked token is disconnected on whichever server holds it."""
    p = start_agent("rev", "C")
    ok = wait_until(lambda: (listing("A") or {}).get("rev") == "C", 15)
    check(ok, "agent rev is on C, as A sees it")
    mark = p.mark()
    rc, out, err = token_cli(["revoke", "rev"])
    check(rc == 0, "nestd token revoke rev --cluster", (rc, err))
    check(p.wait_log(r"1008 token revoked", 10, mark), "C drops rev's session (1008, token revoked)",
          p.text()[-400:])
    ok = wait_until(lambda: fleet_is("ABC", HOME), 15)
    check(ok, "rev is gone from every listing", [listing(n) for n in "ABC"])
    p.stop()
    S["agents"].pop("rev")
    # An operator token revoked: refused by every server.
    tok = new_token("ops2", "operator")
    ok = wait_until(lambda: all(http(n, "GET", "/api/clients", token=tok)[0] == 200 for n in "ABC"), 15)
    check(ok, "a new operator token works on every server at once")
    token_cli(["revoke", "ops2"])
    ok = wait_until(lambda: all(http(n, "GET", "/api/clients", token=tok)[0] == 401 for n in "ABC"), 15)
    check(ok, "revoked, it gets 401 from every server")


def test_tokens_api():
    """/api/tokens in a fleet: minted on A into the fleet's store, known on
    B; an agent on B with it is listed everywhere, offline (server null)
    on B alone once stopped; revoked on C, its session on B is dropped."""
    st, j = http("A", "POST", "/api/tokens", {"name": "tapi"})
    check(st == 201 and isinstance(j, dict) and len(j.get("token") or "") >= 32,
          "POST /api/tokens on A: 201 and the token", (st, j))
    rc, out, err = token_cli(["list"])
    check(rc == 0 and "\ntapi " in out, "... in the fleet's store (nestd token list --cluster)", out)
    ok = wait_until(lambda: any(t.get("name") == "tapi" for t in (http("B", "GET", "/api/tokens")[1] or [])
                                if isinstance(t, dict)), 10)
    check(ok, "GET /api/tokens on B lists it")
    st, e = http("B", "POST", "/api/tokens", {"name": "tapi"})
    check(st == 409, "POST /api/tokens on B for the same name: 409", (st, e))
    S["tf"]["tapi"] = token_file("tapi", j["token"])
    p = start_agent("tapi", "B")
    ok = wait_until(lambda: (listing("A") or {}).get("tapi") == "B" and (listing("C") or {}).get("tapi") == "B", 15)
    check(ok, "an agent with the minted token: on B, as A and C list it", [listing(n) for n in "AC"])
    st, ts = http("C", "GET", "/api/tokens")
    check(st == 200 and any(t.get("name") == "tapi" and t.get("online") is True for t in ts),
          "GET /api/tokens on C: tapi online (on B)", (st, ts))
    p.stop()
    ok = wait_until(lambda: remembered("B").get("tapi", "x") is None, 10)
    check(ok, "stopped: B lists tapi offline, with server null", remembered("B"))
    # A hears of the session's end through the presence bucket, a moment
    # after B, which held it.
    ok = wait_until(lambda: "tapi" not in (listing("A") or {}) and "tapi" not in remembered("A"), 10)
    check(ok, "... A, which never held it, does not list it", full_listing("A"))
    names = [a["name"] for a in full_listing("B") or []]
    check(names == sorted(set(names)) and set(AGENTS) <= set(names),
          "B's listing: the fleet and its memory, each once, in name order", names)
    check(fleet_is("ABC", HOME), "the fleet's online agents as before", [listing(n) for n in "ABC"])
    p = start_agent("tapi", "B")
    ok = wait_until(lambda: (listing("C") or {}).get("tapi") == "B", 15)
    check(ok, "tapi back on B")
    mark = p.mark()
    st, r = http("C", "DELETE", "/api/tokens/tapi")
    check(st == 200 and r == {"revoked": "tapi"}, "DELETE /api/tokens/tapi on C: 200", (st, r))
    check(p.wait_log(r"1008 token revoked", 10, mark), "B drops tapi's session (1008, token revoked)",
          p.text()[-400:])
    ok = wait_until(lambda: fleet_is("ABC", HOME) and "tapi" not in remembered("B"), 15)
    check(ok, "tapi is gone from every listing, offline ones too", [full_listing(n) for n in "ABC"])
    rc, out, err = token_cli(["list"])
    check(rc == 0 and "\ntapi " not in out, "... and from the fleet's store", out)
    p.stop()
    S["agents"].pop("tapi")


def test_import():
    """A token file imported once into the fleet's store."""
    f = path("old-tokens")
    tok = N.token_new(f, "imp1")
    N.token_new(f, "a1")                  # the store has an a1 already
    rc, out, err = N.run(["token", "import", "--tokens", f, "--cluster", nats_urls(1)])
    check(rc == 0 and "1 tokens imported" in err and "1 kept" in err,
          "nestd token import: the new name in, the taken one kept", (rc, err))
    S["tf"]["imp1"] = token_file("imp1", tok)
    p = start_agent("imp1", "B")
    ok = wait_until(lambda: (listing("C") or {}).get("imp1") == "B", 15)
    check(ok, "an agent with an imported token is in the fleet", listing("C"))
    st, j = post("C", "imp1", "obtain_system_info")
    check(st == 200, "... and answers", (st, j))
    p.stop()
    S["agents"].pop("imp1")
    wait_until(lambda: fleet_is("ABC", HOME), 15)


def test_slack_fleet():
    """The Slack face on one server of the fleet: a person's agents wherever
    they are, commands routed to them, Get Token into the fleet's store."""
    import slack_standin as SL
    st = SL.SlackStandin()
    st.http.handle_error = lambda *a: None   # a stopped server's keep-alive reset: no traceback
    try:
        slack_fleet(st, SL)
    finally:
        st.close()


def slack_fleet(st, SL):
    S["tf"]["sk1"] = token_file("sk1", new_token("sk1", extra=["--owner", "slack:U7"]))
    p = start_agent("sk1", "A")
    check(wait_until(lambda: (listing("B") or {}).get("sk1") == "A", 15),
          "U7's agent is on server A", listing("B"))
    port = N.free_port()
    S["ports"]["D"] = port
    d = N.Proc(["server", "--listen", "127.0.0.1:%d" % port, "--state-dir", path("state-D"),
                "--cluster", nats_urls(2), "--node", "D", "--command-timeout", "3",
                "--slack-app-token-file", secret("app.token", SL.APP_TOKEN),
                "--slack-bot-token-file", secret("bot.token", SL.BOT_TOKEN),
                "--slack-api-url", st.api_url], "server-D")
    try:
        check(d.wait_log(r"server ready", 20) and st.wait_links(1, T(10)) is not None,
              "server D with the Slack face joins the fleet")
        check(wait_until(lambda: healthz("D").get("cluster", {}).get("ready"), 20),
              "server D: cluster ready", healthz("D"))
        m = st.mark()
        st.send(st.env_home_opened("U7"))
        c = st.wait_call("views.publish", lambda c: "Uptime" in SL.all_text(
            (c.body if isinstance(c.body, dict) else {}).get("view") or {}), m, T(15))
        t = SL.all_text(c.body["view"]) if c else ""
        check(c is not None and "sk1" in t and "host-sk1" in t,
              "U7's App Home on server D shows their agent on server A, with its figures", t[:300])
        m = st.mark()
        st.send(st.env_action("U7", "ps", "sk1|0"))
        c = st.wait_call("views.publish", lambda c: "Processes on sk1" in SL.all_text(
            (c.body if isinstance(c.body, dict) else {}).get("view") or {}), m, T(15))
        check(c is not None, "Processes of it: routed from D to A", st.problems[-3:])
        m = st.mark()
        st.send(st.env_action("U7", "get_token"))
        c = st.wait_call("views.open", lambda c: "Your token" in json.dumps(c.body), m, T(15))
        tok = __import__("re").search(r"\b([0-9a-f]{64}\.[0-9a-f]{8})\b",
                                      SL.all_text(c.body["view"]) if c else "")
        rc, out, _ = token_cli(["list"])
        check(tok is not None and rc == 0 and "slack-u7 " in out and "slack:U7" in out,
              "Get Token on D: into the fleet's token store, owned by slack:U7", out[-400:])
        if tok:
            S["tf"]["slack-u7"] = token_file("slack-u7", tok.group(1))
            q = start_agent("slack-u7", "C")
            check(wait_until(lambda: (listing("A") or {}).get("slack-u7") == "C", 15),
                  "an agent with the minted token is in on server C", listing("A"))
            q.stop()
            S["agents"].pop("slack-u7")
    finally:
        d.stop()
        S["ports"].pop("D")
        p.stop()
        S["agents"].pop("sk1")
    check(wait_until(lambda: fleet_is("ABC", HOME) and healthz("A").get("cluster", {})
                     .get("servers") == 3, 15), "the fleet as before", healthz("A"))


def ctl(server, args):
    return N.run(["ctl", "--server", "http://127.0.0.1:%d" % S["ports"][server], "--token-file",
                  S["op_tf"]] + args, timeout=T(30))


def test_audit():
    """The fleet's audit stream: every server's entries, from any server."""
    marker = "audit-%d" % os.getpid()
    for s in "ABC":
        st, j = post(s, "a3", "exec_command", {"command": "echo " + marker})
        check(st == 200, "a command for a3 (on C) asked on %s" % s, (st, j))

    def entries(server, args):
        rc, out, err = ctl(server, ["--json", "audit"] + args)
        try:
            return rc, json.loads(out)
        except ValueError:
            return rc, (out, err)

    ok = wait_until(lambda: (lambda r: r[0] == 0 and isinstance(r[1], list) and
                             sum(1 for e in r[1] if marker in json.dumps(e)) == 3)(
        entries("A", ["--agent", "a3", "--limit", "50"])), 15)
    rc, es = entries("A", ["--agent", "a3", "--limit", "50"])
    check(ok, "ctl audit --agent a3 on A: the three commands, audited on C where a3 is", es)
    mine = [e for e in es if isinstance(es, list) and marker in json.dumps(e)]
    check(all(e.get("server") == "C" and e.get("agent") == "a3" and e.get("operator") == "ops"
              for e in mine), "... each with its server (C), agent and operator", mine)
    via = sorted(e.get("address", "").split("/")[0] if "/" in e.get("address", "") else "here"
                 for e in mine)
    check(via == ["A", "B", "here"], "... and the server each was asked on (NODE/address when "
          "another)", [e.get("address") for e in mine])
    rc, es = entries("B", ["--agent", "a1"])
    check(rc == 0 and isinstance(es, list) and es and all(e.get("agent") == "a1" for e in es)
          and any(e.get("server") == "A" for e in es), "ctl audit --agent a1 on B: a1's, from A", es)
    rc, es = entries("C", ["--operator", "ops", "--limit", "3"])
    check(rc == 0 and isinstance(es, list) and len(es) == 3 and
          all(e.get("operator") == "ops" for e in es), "--operator ops --limit 3: three of ops'", es)
    rc, out, err = ctl("B", ["audit", "--agent", "a3", "--limit", "5"])
    check(rc == 0 and "TIME" in out and "exec_command" in out, "ctl audit: a table", (rc, out, err))
    rc, es = entries("A", ["--agent", "nobody-at-all"])
    check(rc == 0 and es == [], "an agent with no entries: none", es)


def secret(name, text):
    f = path(name)
    with open(f, "w") as fh:
        fh.write(text + "\n")
    os.chmod(f, 0o600)
    return f


def lone_nats(args):
    """A standalone nats-server with JetStream, and its port."""
    port = N.free_port()
    log = open(path("nats-lone.%d.log" % port), "wb")
    p = subprocess.Popen([NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd",
                          path("js-lone-%d" % port)] + args,
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    S.setdefault("lone", []).append((p, log))
    return port


def lone_server(name, urls, extra):
    port = N.free_port()
    p = N.Proc(["server", "--listen", "127.0.0.1:%d" % port, "--state-dir", path("state-" + name),
                "--cluster", urls, "--node", name, "--cluster-prefix", "lone"] + extra, "server-" + name)
    p.wait_log(r"server ready", 20)
    return p, port


def lone_ready(port):
    c = httpclient.HTTPConnection("127.0.0.1", port, timeout=T(5))
    try:
        c.request("GET", "/healthz")
        return json.loads(c.getresponse().read()).get("cluster", {})
    except (OSError, ValueError):
        return {}
    finally:
        c.close()


def test_credentials():
    """NATS credentials from files, and NATS over TLS verified against a CA."""
    port = lone_nats(["--user", "nestd", "--pass", "s3cret-pw"])
    urls = "nats://127.0.0.1:%d" % port
    good = secret("nats.user", "nestd:s3cret-pw")
    p, hp = lone_server("U1", urls, ["--cluster-user-file", good])
    ok = wait_until(lambda: lone_ready(hp).get("ready"), 30)
    check(ok, "--cluster-user-file: the server logs in and its fleet is ready", lone_ready(hp))
    check("s3cret-pw" not in p.text(), "the password is in no log")
    p.stop()
    bad = secret("nats.bad", "nestd:wrong")
    p, hp = lone_server("U2", urls, ["--cluster-user-file", bad])
    ok = wait_until(lambda: lone_ready(hp).get("link") == "down" and
                    lone_ready(hp).get("reason", "").startswith("cluster link down: ") and
                    p.count(r"NATS connection closed") >= 1, 15)
    check(ok and p.alive(), "a wrong password: the link stays down with a reason; the server serves on",
          (lone_ready(hp), p.text()[-600:]))
    nlog = open(S["lone"][-1][1].name, "rb").read().decode("utf-8", "replace")
    check("nestd U2\" - authentication error" in nlog, "... and the NATS server refused those credentials")
    p.stop()
    loose = path("nats.loose")
    with open(loose, "w") as fh:
        fh.write("nestd:s3cret-pw\n")
    os.chmod(loose, 0o644)
    rc, out, err = N.run(["server", "--listen", "127.0.0.1:%d" % N.free_port(), "--state-dir",
                          path("state-U3"), "--cluster", urls, "--cluster-user-file", loose])
    check(rc != 0 and "readable by others" in err, "a credentials file others can read: refused", (rc, err))
    # TLS: a CA of our own, a certificate for 127.0.0.1.
    d = path("pki")
    os.makedirs(d, exist_ok=True)
    sh = ("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=nestd-test-ca "
          "-keyout ca.key -out ca.pem && "
          "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr && "
          "printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
          "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
          "-extfile ext -out srv.pem")
    r = subprocess.run(["sh", "-c", sh], cwd=d, capture_output=True, timeout=T(60))
    if r.returncode != 0:
        return skip("NATS over TLS", "openssl could not make a CA: " + r.stderr.decode()[-200:])
    tport = lone_nats(["--tls", "--tlscert", os.path.join(d, "srv.pem"), "--tlskey",
                       os.path.join(d, "srv.key")])
    p, hp = lone_server("T1", "tls://127.0.0.1:%d" % tport, ["--cluster-ca", os.path.join(d, "ca.pem")])
    ok = wait_until(lambda: lone_ready(hp).get("ready"), 30)
    check(ok, "--cluster-ca: NATS over TLS, verified, and the fleet ready", (lone_ready(hp), p.text()[-500:]))
    p.stop()
    p, hp = lone_server("T2", "nats://127.0.0.1:%d" % tport, [])
    ok = wait_until(lambda: lone_ready(hp).get("link") == "down", 15)
    check(ok and p.alive(), "no CA for a TLS NATS server: not connected, said so, serving on",
          (lone_ready(hp), p.text()[-400:]))
    p.stop()
    for q, log in S.pop("lone", []):
        q.kill()
        q.wait(T(10))
        log.close()


def agent_reconnects(since):
    return sum(p.count(r"authenticated to ", since.get(n, 0)) for n, p in S["agents"].items())


def test_kill_nats_node():
    """One NATS node killed: the fleet carries on."""
    marks = {n: p.mark() for n, p in S["agents"].items()}
    smarks = {n: p.mark() for n, p in S["srv"].items()}
    victim = S["nats"][0]             # A's first URL
    victim.kill()
    # How soon is the NATS cluster's to say: its streams elect new leaders
    # first (5 to 10 s here, more on a loaded machine), and nothing is
    # answered until then.
    t0 = time.monotonic()
    ok = wait_until(lambda: all(healthz(n).get("cluster", {}).get("ready") for n in "ABC"), 60)
    check(ok, "every server's cluster link is ready again", [healthz(n) for n in "ABC"])
    print("#   ready again after %.1f s" % (time.monotonic() - t0), flush=True)
    check(fleet_is("ABC", HOME) or wait_until(lambda: fleet_is("ABC", HOME), 15),
          "the fleet's listing is unchanged everywhere", [listing(n) for n in "ABC"])
    bad = [(s, a, st) for s in "ABC" for a in AGENTS
           for st, j in [post(s, a, "obtain_system_info")] if st != 200]
    check(not bad, "every command from every server still answered", bad)
    check(agent_reconnects(marks) == 0, "no agent lost its connection")
    check(all(S["srv"][n].count(r"dropping this one", smarks[n]) == 0 for n in "ABC"),
          "no session was dropped")
    victim.start()
    ok = wait_until(lambda: victim.js_ready(), 60)
    check(ok, "the NATS node is back in the cluster")


def test_bucket_lost():
    """The agents bucket deleted under the servers (a NATS cluster that
    lost its streams): they set the buckets up again by themselves and
    claim their agents again."""
    marks = {n: p.mark() for n, p in S["agents"].items()}
    smarks = {n: p.mark() for n, p in S["srv"].items()}
    # Once the stream has a leader again (the test before killed a NATS
    # node): a delete asked twice could take the bucket made anew too.
    ok = wait_until(lambda: js_request("$JS.API.STREAM.INFO.KV_nestd_agents", 1)
                    .get("cluster", {}).get("leader"), 60)
    check(ok, "the agents bucket's stream has a leader")
    j = nats_request(S["nats"][1], "$JS.API.STREAM.DELETE.KV_nestd_agents", timeout=30)
    check(j.get("success") is True, "the agents bucket's stream is deleted", j)
    # The first to follow it again finds it gone and sets the buckets up;
    # the others may find it made anew already.
    ok = wait_until(lambda: any(S["srv"][n].count(r"following the agents bucket: [^\n]*stream not found"
                                                   r"(?s:.*)JetStream buckets ready", smarks[n])
                                for n in "ABC"), 30)
    check(ok, "a server's watch finds the bucket gone and sets the buckets up again",
          [S["srv"][n].text()[smarks[n]:][-800:] for n in "ABC"])
    ok = wait_until(lambda: js_request("$JS.API.STREAM.INFO.KV_nestd_agents")
                    .get("state", {}).get("num_subjects") == len(AGENTS), 30)
    check(ok, "the bucket made anew holds a claim for every agent again",
          js_request("$JS.API.STREAM.INFO.KV_nestd_agents"))
    ok = wait_until(lambda: all(healthz(n).get("cluster", {}).get("ready") for n in "ABC") and
                    fleet_is("ABC", HOME), 60)
    check(ok, "... every server ready, the fleet whole and the same",
          ([healthz(n) for n in "ABC"], [listing(n) for n in "ABC"]))
    bad = [(s, a, st) for s in "ABC" for a in AGENTS
           for st, _ in [post(s, a, "obtain_system_info")] if st != 200]
    check(not bad, "every command from every server answered", bad)
    check(agent_reconnects(marks) == 0, "no agent lost its connection")


def test_kill9_server():
    """A nestd server killed with SIGKILL: its agents come back on the others."""
    marks = {n: p.mark() for n, p in S["agents"].items()}
    victim = S["srv"].pop("A")
    victim.p.kill()
    victim.wait(10)
    moved = [a for a in AGENTS if HOME[a] == "A"]
    ok = wait_until(lambda: (lambda l: l is not None and set(l) == set(AGENTS) and
                             all(l[a] in ("B", "C") for a in AGENTS))(listing("B")), 30)
    check(ok, "A's agents are listed on B or C (from B)", listing("B"))
    ok = wait_until(lambda: listing("C") == listing("B"), 15)
    check(ok, "C lists the same fleet", (listing("B"), listing("C")))
    bad = [(s, a, st) for s in "BC" for a in AGENTS for st, j in [post(s, a, "obtain_system_info")]
           if st != 200]
    check(not bad, "every agent answers from B and from C", bad)
    refused = [a for a in moved if S["agents"][a].count(r"server refused us", marks[a])]
    check(not refused, "no agent that moved was refused as a duplicate", refused)
    st, j = post("B", "nobody", "obtain_system_info")
    check(st == 404, "still 404 for an agent nobody holds", (st, j))
    # A comes back: it joins again, and its old agents stay where they are.
    start_server("A", 0)
    ok = wait_until(lambda: healthz("A").get("cluster", {}).get("ready"), 30)
    check(ok, "A, restarted, joins the fleet again")
    place = listing("B")
    ok = wait_until(lambda: listing("A") == place and place is not None, 15)
    check(ok, "A lists the fleet as B does", (listing("A"), place))
    for a in moved:                    # back home for the next tests
        S["agents"][a].stop()
        start_agent(a, "A", ["--max-output", "8M"] if a == "a1" else [])
    ok = wait_until(lambda: fleet_is("ABC", HOME), 30)
    check(ok, "A's agents are home again", [listing(n) for n in "ABC"])


def test_all_nats_down():
    """Every NATS node stopped: each server serves its own, says why for
    the rest, and the fleet comes back by itself."""
    for n in S["nats"]:
        n.kill(signal.SIGTERM)
    ok = wait_until(lambda: all(healthz(n).get("cluster", {}).get("link") == "down" for n in "ABC"), 30)
    check(ok, "/healthz says the cluster link is down", [healthz(n) for n in "ABC"])
    h = healthz("B")
    check(h.get("status") == "degraded" and h["cluster"].get("reason"),
          "... status degraded, with a reason", h)
    st, j = post("B", "a2", "obtain_system_info")
    check(st == 200, "a command for B's own agent on B: still answered", (st, j))
    st, j = post("B", "a3", "obtain_system_info")
    check(st == 503 and "cannot be asked" in j.get("error", ""),
          "a command for an agent on C asked on B: 503 with the reason", (st, j))
    st, j = http("B", "GET", "/api/clients")
    check(st == 503 and "cluster link down" in j.get("error", ""), "the fleet's listing: 503", (st, j))
    l = listing("B", "?scope=local")
    check(l == {"a2": "B", "a5": "B"}, "?scope=local: B's own agents", l)
    st, body = http("B", "GET", "/metrics", token=False)
    check(st == 200 and b"nestd_cluster_link_up 0" in body, "/metrics: nestd_cluster_link_up 0")
    check(all(S["agents"][a].alive() for a in AGENTS), "every agent still runs")
    # B restarted while NATS is away: it knows the tokens from its copy.
    S["srv"].pop("B").stop()
    b = start_server("B", 1)
    check(b.wait_log(r"tokens are the fleet's store \(--cluster\): [1-9]\d* known", 5),
          "B, started without NATS, knows the tokens from its copy of the store", b.text()[-500:])
    ok = wait_until(lambda: set(listing("A", "?scope=local") or {}) | set(listing("B", "?scope=local") or {})
                    | set(listing("C", "?scope=local") or {}) == set(AGENTS), 30)
    check(ok, "every agent is served by some server meanwhile")
    check(nats_start_all(), "the NATS cluster is back")
    ok = wait_until(lambda: all(healthz(n).get("cluster", {}).get("ready") for n in "ABC"), 60)
    check(ok, "every server's cluster link is ready again, by itself", [healthz(n) for n in "ABC"])
    ok = wait_until(lambda: fleet_whole("ABC"), 30)
    check(ok, "the fleet's listing is whole again, the same everywhere", [listing(n) for n in "ABC"])
    bad = [(s, a, st) for s in "ABC" for a in AGENTS for st, j in [post(s, a, "obtain_system_info")]
           if st != 200]
    check(not bad, "every command from every server answered again", bad)
    st, j = http("A", "GET", "/api/clients")
    where = {a["name"]: a["server"] for a in j} if st == 200 else {}
    local = {n: set(listing(n, "?scope=local") or {}) for n in "ABC"}
    check(all(a in local[where[a]] for a in AGENTS) and
          sum(len(v) for v in local.values()) == len(AGENTS),
          "one session per agent: each served by exactly the server the fleet names", (where, local))
    st, body = http("A", "GET", "/metrics", token=False)
    check(st == 200 and b"nestd_cluster_link_up 1" in body and b"nestd_cluster_nodes 3" in body,
          "/metrics: link up, three servers")


def test_shutdown():
    """SIGTERM: a server leaves the fleet at once and exits 0."""
    p = S["srv"].pop("C")
    rc = p.stop()
    check(rc == 0, "SIGTERM: exit 0", rc)
    ok = wait_until(lambda: healthz("A").get("cluster", {}).get("servers") == 2, 15)
    check(ok, "the others count one server fewer", healthz("A"))
    for n in list(S["agents"]):
        S["agents"][n].stop()
    for n in list(S["srv"]):
        rc = S["srv"][n].stop()
        check(rc == 0, "server %s: SIGTERM, exit 0" % n, (rc, S["srv"][n].text()[-300:]))
    for n in S["nats"]:
        n.kill(signal.SIGTERM)


if __name__ == "__main__":
    tests = [(setup, 240), test_commands_everywhere, test_large_reply, test_not_found_and_deadline,
             test_takeover_lingering, test_newer_wins, test_revocation, (test_tokens_api, 120),
             test_import, test_audit,
             (test_slack_fleet, 120),
             (test_credentials, 150),
             (test_kill_nats_node, 180),
             (test_bucket_lost, 150),
             (test_kill9_server, 180), (test_all_nats_down, 240), test_shutdown]
    try:
        N.main(tests)
    finally:
        for n in S.get("nats", []):
            n.kill()
        for q, log in S.get("lone", []):
            q.kill()
