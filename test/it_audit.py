"""it_audit.py - GET /api/audit and `nestd ctl audit` on a single server:
the latest entries of its --audit-log, filtered by agent and operator
(the fleet's stream is test/cluster/it_cluster.py's)."""
import http.client as httpclient
import json
import os
import signal

import nestlib as N
from nestlib import T, check, path, wait_until

S = {}


def get(target, token=None, port=None):
    c = httpclient.HTTPConnection("127.0.0.1", port or S["srv"].port, timeout=T(20))
    return N.http_json(c, "GET", target, token=token or S["op"])


def post(agent, message, payload=None):
    c = httpclient.HTTPConnection("127.0.0.1", S["srv"].port, timeout=T(20))
    body = {"message": message}
    if payload is not None:
        body["payload"] = payload
    try:
        c.request("POST", "/api/clients/%s/commands" % agent, body=json.dumps(body),
                  headers={"Authorization": "Bearer " + S["op"]})
        return c.getresponse().status
    finally:
        c.close()


def setup():
    S["tokens"] = path("tokens")
    S["agent"] = N.token_new(S["tokens"], "box1")
    S["op"] = N.token_new(S["tokens"], "ops", role="operator")
    rc, out, err = N.run(["token", "new", "reader", "--role", "operator", "--scope", "can=read",
                          "--tokens", S["tokens"]])
    S["scoped"] = out.strip()
    S["tf"] = path("ops.token")
    with open(S["tf"], "w") as f:
        f.write(S["op"] + "\n")
    os.chmod(S["tf"], 0o600)
    S["srv"] = N.Server(S["tokens"], ["--audit-log", path("audit.log")])
    S["agent_p"] = N.Proc(["agent", "--server", S["srv"].url, "--services", "none",
                           "--reconnect-min", "0.2"], "agent", env={"NESTD_TOKEN": S["agent"]})
    check(S["srv"].wait_log(r"box1 connected", 15), "the agent is in")


def test_entries():
    for i in range(5):
        check(post("box1", "exec_command", {"command": "echo n%d" % i}) == 200, "command %d" % i)
    st, j = get("/api/audit?limit=3")
    check(st == 200 and isinstance(j, list) and len(j) == 3, "limit=3: three entries", (st, j))
    check(all(e.get("event") == "command" for e in j) and "n4" in json.dumps(j[-1]),
          "the latest, oldest first", j)
    st, j = get("/api/audit?agent=box1&operator=ops&limit=100")
    check(st == 200 and len(j) == 5 and all(e["agent"] == "box1" and e["operator"] == "ops" for e in j),
          "agent= and operator=: the five commands", (st, j))
    st, j = get("/api/audit?agent=box1")
    check(st == 200 and isinstance(j, list) and 0 < len(j) <= 20 and
          all(e.get("agent") == "box1" for e in j) and j[-1].get("event") == "command",
          "agent=box1 without limit: at most the default number, box1's", (st, j))
    st, j = get("/api/audit?operator=nobody")
    check(st == 200 and j == [], "an operator with no entries: none", (st, j))
    rc, out, err = N.run(["ctl", "--server", "http://127.0.0.1:%d" % S["srv"].port, "--token-file",
                          S["tf"], "audit", "--agent", "box1", "--limit", "2"])
    check(rc == 0 and out.count("exec_command") == 2 and "TIME" in out, "nestd ctl audit: a table", (rc, out, err))
    rc, out, err = N.run(["ctl", "--server", "http://127.0.0.1:%d" % S["srv"].port, "--token-file",
                          S["tf"], "--json", "audit", "--operator", "ops"])
    check(rc == 0 and isinstance(json.loads(out), list), "nestd ctl --json audit: the array", (rc, out))


def test_refusals():
    st, j = get("/api/audit", token=S["scoped"])
    check(st == 403 and "scope" in j.get("error", ""), "a scoped operator: 403", (st, j))
    for q in ("limit=0", "limit=1001", "limit=x", "agent=..", "agent=a%20b", "agent="):
        st, j = get("/api/audit?" + q)
        check(st == 400, "?%s: 400" % q, (st, j))
    rc, out, err = N.run(["ctl", "--token-file", S["tf"], "audit", "--limit", "0"])
    check(rc == 2 and "--limit" in err, "ctl audit --limit 0: a usage error", (rc, err))
    rc, out, err = N.run(["ctl", "--token-file", S["tf"], "clients", "--agent", "x"])
    check(rc == 2 and "go with audit" in err, "ctl clients --agent: a usage error", (rc, err))
    plain = N.Server(S["tokens"], name="plain")
    st, j = get("/api/audit", port=plain.port)
    check(st == 404 and "--audit-log" in j.get("error", ""), "no --audit-log: 404 that says so", (st, j))
    plain.stop()


def lines_with(fn, word):
    try:
        with open(fn) as f:
            return sum(1 for line in f if word in line)
    except FileNotFoundError:
        return 0


def test_rotate():
    """SIGHUP reopens the log at its path (logrotate moves it away first);
    when the path cannot be opened the old file keeps the lines."""
    log, old = path("audit.log"), path("audit.log.1")
    os.rename(log, old)
    m = S["srv"].mark()
    S["srv"].signal(signal.SIGHUP)
    check(S["srv"].wait_log(r"SIGHUP: audit log .* reopened", 10, since=m), "SIGHUP: reopened")
    check(post("box1", "exec_command", {"command": "echo rotated1"}) == 200, "a command after the rotation")
    check(wait_until(lambda: lines_with(log, "rotated1") == 1, 10), "its line is in the new file")
    check(lines_with(old, "rotated1") == 0, "and not in the moved one")
    os.rename(log, old)
    os.mkdir(log)                       # the path cannot be opened as a file now
    m = S["srv"].mark()
    S["srv"].signal(signal.SIGHUP)
    check(S["srv"].wait_log(r"SIGHUP: cannot open audit log .*still writing to the old file", 10, since=m),
          "a path that cannot be opened: the error says so")
    check(post("box1", "exec_command", {"command": "echo rotated2"}) == 200, "a command after the failure")
    check(wait_until(lambda: lines_with(old, "rotated2") == 1, 10), "its line went on to the file it had")
    os.rmdir(log)
    m = S["srv"].mark()
    S["srv"].signal(signal.SIGHUP)
    check(S["srv"].wait_log(r"SIGHUP: audit log .* reopened", 10, since=m), "SIGHUP once the path is free")
    st, j = get("/api/audit?limit=1")
    check(st == 200 and j == [], "the new file is empty: no entries yet", (st, j))


if __name__ == "__main__":
    N.main([setup, test_entries, test_refusals, test_rotate])
