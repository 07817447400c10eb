#!/usr/bin/python3
"""it_state.py - what the server remembers and the dashboard's server side
(issue 14 items 1, 6, 7, 9 and 10), through the real binary: agents listed
offline across a restart and forgotten on request; a usage history taken
only from agents that announced obtain_system_info, kept across a restart;
a login exchanged for an HttpOnly SameSite=Strict cookie that needs a
header of the page's; agent tokens minted, listed and revoked through the
API, a new one admitted at once; gzip'd answers that Python's gzip reads.

Run with /usr/bin/python3 (Debian's, with python3-websockets)."""
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import RawWS, Server, T, check, main, path, run, skip, wait_until  # noqa: E402

S = {}
TOK = {}
HIST = "0.3"          # --history-interval for these tests, seconds


def mint(name, *args):
    rc, out, err = run(["token", "new", name, "--tokens", S["tokens"]] + list(args))
    if rc != 0:
        raise RuntimeError("token new %s: %s" % (name, err))
    TOK[name] = out.strip()
    tf = path(name + ".token")
    with open(tf, "w") as f:
        f.write(TOK[name] + "\n")
    os.chmod(tf, 0o600)
    return tf


def agent(name, *extra):
    return nestlib.Proc(["agent", "--server", S["srv"].url, "--token-file", path(name + ".token"),
                         "--services", "none", "--reconnect-min", "0.2", "--reconnect-max", "1"]
                        + list(extra), "agent-" + name)


def server(name="server", args=()):
    S["srv"] = Server(S["tokens"], ["--history-interval", HIST, "--audit-log", S["audit"]] + list(args),
                      name, port=S.get("port"))
    S["port"] = S["srv"].port
    return S["srv"]


def http(method, target, body=None, who=None, headers=None, port=None, raw=False):
    """(status, headers with lowercase names, JSON body or bytes)."""
    st, hdrs, data, cookies = nestlib.http_request(port or S["srv"].port, method, target, body,
                                                   TOK[who] if who else None, headers)
    hdrs["set-cookie"] = cookies
    if raw:
        return st, hdrs, data
    try:
        return st, hdrs, json.loads(data)
    except ValueError:
        return st, hdrs, data


def clients(who="op"):
    st, _, j = http("GET", "/api/clients", who=who)
    return {c["name"]: c for c in j} if st == 200 else None


def online(name, who="op"):
    c = (clients(who) or {}).get(name)
    return c is not None and c.get("online") is True


def offline(name, who="op"):
    c = (clients(who) or {}).get(name)
    return c is not None and c.get("online") is False


def history(name, who="op"):
    st, _, j = http("GET", "/api/clients/%s/history" % name, who=who)
    return j.get("samples") if st == 200 else None


def audit_lines():
    try:
        with open(S["audit"]) as f:
            return [json.loads(l) for l in f if l.strip()]
    except OSError:
        return []


def restart():
    """SIGTERM (the state is written at shutdown), then the same server again."""
    code = S["srv"].stop()
    check(code == 0, "the server exits 0 on SIGTERM", code)
    return server("server-again")


def setup():
    S["tokens"] = path("state/tokens")
    os.makedirs(path("state"), mode=0o700)
    S["audit"] = path("audit.log")
    mint("op", "--role", "operator")
    mint("web1", "--owner", "alice")
    mint("web2", "--owner", "bob")
    mint("quiet")
    mint("alices", "--role", "operator", "--scope", "agents=owner:alice")
    mint("reader", "--role", "operator", "--scope", "can=read")
    server()
    S["web1"] = agent("web1")
    S["web2"] = agent("web2")
    check(wait_until(lambda: online("web1") and online("web2"), 15), "two agents online")


# ---- item 1: agents remembered ----

def test_offline_across_restart():
    c = clients()["web2"]
    check(c.get("first_seen") and c["first_seen"] <= time.time() + 1 and c.get("hostname"),
          "an online agent: first_seen and its hostname", c)
    S["web2"].stop()
    check(wait_until(lambda: offline("web2"), 10), "a stopped agent stays listed, online false")
    c = clients()["web2"]
    check(c["address"] is None and c["connected_since"] is None and c["hostname"] and
          c["version"] and c["owner"] == "bob" and isinstance(c["commands"], list) and
          abs(c["last_seen"] - time.time()) < 30, "offline: last seen, host, version, owner, commands", c)
    seen = c["last_seen"]
    st, _, one = http("GET", "/api/clients/web2", who="op")
    check(st == 200 and one.get("online") is False and one.get("last_seen") == seen,
          "GET /api/clients/web2 of an offline agent: the remembered one", (st, one))
    restart()
    check(wait_until(lambda: online("web1"), 15), "web1 comes back after the restart")
    c = clients().get("web2")
    check(c and c["online"] is False and c["last_seen"] == seen and c["hostname"] and c["owner"] == "bob",
          "after a restart the offline agent is still listed as it was", c)
    lines = open(path("state/agents")).read().splitlines()
    check(len(lines) >= 2 and all(json.loads(l)["name"] for l in lines),
          "the agents file: one JSON object a line", lines[:2])
    check(os.stat(path("state/agents")).st_mode & 0o777 == 0o600, "the agents file is 0600")
    S["web2"] = agent("web2")
    check(wait_until(lambda: online("web2"), 15), "the agent connects again: online")


def test_forget():
    st, _, j = http("DELETE", "/api/clients/web2", who="op")
    check(st == 409 and "only an offline agent" in j.get("error", ""), "forgetting a connected agent: 409",
          (st, j))
    st, _, j = http("DELETE", "/api/clients/web2", who="reader")
    check(st == 403 and "control" in j.get("error", ""), "forgetting needs the control kind", (st, j))
    S["web2"].stop()
    wait_until(lambda: offline("web2"), 10)
    st, _, j = http("DELETE", "/api/clients/web2", who="alices")
    check(st == 404, "out of the scope: as unknown", (st, j))
    st, _, j = http("DELETE", "/api/clients/web2", who="op")
    check(st == 200 and j == {"forgotten": "web2"}, "forgetting an offline agent", (st, j))
    check("web2" not in clients(), "gone from the list")
    st, _, j = http("DELETE", "/api/clients/nosuch", who="op")
    check(st == 404, "forgetting an unknown agent: 404", (st, j))
    restart()
    check(wait_until(lambda: online("web1"), 15) and "web2" not in clients(),
          "still forgotten after a restart")
    S["web2"] = agent("web2")
    check(wait_until(lambda: online("web2"), 15), "and listed again when it connects")


def test_scope_and_revoked():
    S["web2"].stop()
    wait_until(lambda: offline("web2"), 10)
    check(sorted(clients("alices")) == ["web1"], "a scoped operator sees no offline agent outside its scope",
          sorted(clients("alices") or {}))
    st, _, _ = http("GET", "/api/clients/web2/history", who="alices")
    check(st == 404, "nor its history", st)
    rc, _, err = run(["token", "revoke", "web2", "--tokens", S["tokens"]])
    check(rc == 0, "token revoke web2", err)
    check(wait_until(lambda: "web2" not in clients(), 10), "an offline agent whose token was revoked is not listed")
    mint("web2", "--owner", "bob")
    check(wait_until(lambda: offline("web2"), 10), "a new token of that name lists it again (offline)")


# ---- item 7: the history ----

def test_history():
    got = wait_until(lambda: (lambda h: h if h and len(h) >= 4 else None)(history("web1")), 20)
    check(got, "samples accumulate at --history-interval", got)
    if not got:
        return
    s = got[-1]
    check(isinstance(s["t"], int) and len(s["load"]) == 3 and s["memory"]["total"] > 0 and
          s["memory"]["used"] > 0 and s["disk"]["total"] > 0 and s["uptime"] > 0,
          "a sample: time, load, memory, disk, uptime", s)
    cpus = [x["cpu"] for x in got[1:]]
    check(all(c is not None and 0 <= c <= 100 for c in cpus), "CPU % from the second sample on, 0-100", cpus)
    check([x["t"] for x in got] == sorted(x["t"] for x in got), "oldest first")
    st, _, j = http("GET", "/api/clients/web1/history", who="op")
    check(j.get("interval") == float(HIST) and j.get("online") is True, "the interval and the state", j)
    u = clients()["web1"].get("usage") or {}
    check(u.get("t", 0) >= s["t"] and "cpu" in u and u.get("memory", {}).get("total"),
          "/api/clients carries the last sample as usage", u)
    cmds = [a for a in audit_lines() if a.get("event") == "command" and a.get("command") == "obtain_system_info"]
    check(cmds == [], "the history's samples are not in the audit log", cmds[:2])
    S["web1"].stop()
    wait_until(lambda: offline("web1"), 10)
    before = history("web1")
    check(before and len(before) >= 4, "an offline agent's history is still served", len(before or []))
    restart()
    after = history("web1")
    check(after and [x["t"] for x in after] == [x["t"] for x in before],
          "the history is kept across a restart", (len(before or []), len(after or [])))
    check(os.path.exists(path("state/history")), "in the state directory's history file")
    S["web1"] = agent("web1")
    check(wait_until(lambda: (history("web1") or [])[-1:] and history("web1")[-1]["t"] > after[-1]["t"], 20),
          "sampling goes on after the restart")


def test_history_only_from_announcers():
    """An agent that denies obtain_system_info, and a client that announces
    nothing (the original client), are never sent it."""
    p = agent("quiet", "--deny", "obtain_system_info")
    check(wait_until(lambda: online("quiet"), 15), "an agent without obtain_system_info")
    raw = RawWS(S["srv"].port, timeout=2).handshake()
    mint("orig")
    raw.send_text(json.dumps({"status": "let_me_in_pls", "payload": {"version": "0.1.0",
                                                                      "client_token": TOK["orig"]}}))
    check(raw.recv_text() == nestlib.AUTH_OK, "a client announcing nothing is admitted")
    got = []
    end = time.monotonic() + max(6 * float(HIST), 2.5)
    raw.settimeout(0.3)
    while time.monotonic() < end:
        try:
            m = raw.recv_text()
        except (socket.timeout, OSError):
            continue
        if m is None:
            break
        got.append(m)
    check(got == [], "nothing is sent to a client that announced nothing", got[:3])
    check(history("quiet") == [] and history("orig") == [], "neither has a history",
          (history("quiet"), history("orig")))
    st, _, text = http("GET", "/metrics", raw=True)
    errs = re.findall(r'nestd_commands_total\{command="obtain_system_info",result="error"\} (\d+)',
                      text.decode())
    check(st == 200 and errs in ([], ["0"]), "no obtain_system_info was refused by an agent", errs)
    raw.close()
    p.stop()


# ---- item 9: sessions ----

CSRF = {"X-Nestd-CSRF": "1"}


def cookie_of(hdrs):
    for c in hdrs["set-cookie"]:
        if c.startswith("nestd_session="):
            return c
    return None


def login(who="op", port=None):
    st, h, j = http("POST", "/api/session", who=who, headers=CSRF, port=port)
    c = cookie_of(h)
    return st, c, j


def with_cookie(cookie, csrf=True):
    h = {"Cookie": cookie.split(";")[0]}
    if csrf:
        h.update(CSRF)
    return h


def test_sessions():
    st, h, j = http("POST", "/api/session", who="op")
    check(st == 403 and "X-Nestd-CSRF" in j.get("error", "") and not cookie_of(h),
          "a login without the page's header: 403, no cookie", (st, j))
    st, h, j = http("POST", "/api/session", headers=CSRF)
    check(st == 401 and not cookie_of(h), "a login without a token: 401", (st, j))
    st, h, j = http("POST", "/api/session", headers=dict(CSRF, Authorization="Bearer " + TOK["web1"]))
    check(st == 401 and "agent tokens" in j.get("error", ""), "an agent token cannot log in", (st, j))
    st, c, j = login()
    check(st == 200 and j.get("name") == "op" and j["expires"] - j["created"] == 43200,
          "a login: 200, the operator and the session's end (CFG_SESSION_TTL_S)", (st, j))
    attrs = [a.strip() for a in (c or "").split(";")]
    check(c and re.fullmatch(r"nestd_session=[0-9a-f]{64}", attrs[0]) and "HttpOnly" in attrs and
          "SameSite=Strict" in attrs and "Max-Age=43200" in attrs and "Secure" not in attrs and
          not any(a.lower().startswith("path=") for a in attrs),
          "the cookie: HttpOnly, SameSite=Strict, an expiry, not Secure on plain HTTP", c)
    S["cookie"] = c
    st, _, j = http("GET", "/api/clients", headers=with_cookie(c))
    check(st == 200 and "web1" in [x["name"] for x in j], "the cookie and the header reach the API", st)
    st, _, j = http("GET", "/api/me", headers=with_cookie(c))
    check(st == 200 and j.get("name") == "op", "/api/me through the session", (st, j))
    st, _, j = http("GET", "/api/clients", headers=with_cookie(c, csrf=False))
    check(st == 403 and "X-Nestd-CSRF" in j.get("error", ""), "the cookie without the header: 403", (st, j))
    st, _, j = http("POST", "/api/clients/web1/commands", {"message": "obtain_system_info"},
                    headers=with_cookie(c, csrf=False))
    check(st == 403, "a command sent with the cookie alone (a cross-site form): 403", st)
    st, _, j = http("GET", "/api/session", headers=with_cookie(c))
    check(st == 200 and j.get("name") == "op", "GET /api/session", (st, j))
    st, _, j = http("GET", "/api/clients", headers={"Cookie": "nestd_session=" + "0" * 64, **CSRF})
    check(st == 401 and "log in again" in j.get("error", ""), "an unknown session: 401", (st, j))
    sessions = open(path("state/sessions")).read() if os.path.exists(path("state/sessions")) else ""
    restart()
    st, _, j = http("GET", "/api/me", headers=with_cookie(c))
    check(st == 200 and j.get("name") == "op", "the session survives a server restart", (st, j))
    text = open(path("state/sessions")).read()
    check(c.split(";")[0].split("=")[1] not in text + sessions and re.search(r"^[0-9a-f]{64} [0-9a-f]{64} \d+ \d+ op$",
                                                                             text, re.M),
          "the sessions file holds hashes, never the cookie", text[:300])
    st, h, j = http("DELETE", "/api/session", headers=with_cookie(c))
    check(st == 200 and j == {"ended": 1} and "Max-Age=0" in (cookie_of(h) or ""),
          "logout: the session ended, the cookie cleared", (st, j, cookie_of(h)))
    st, _, j = http("GET", "/api/me", headers=with_cookie(c))
    check(st == 401, "after logout the cookie is refused", (st, j))
    st, _, j = http("GET", "/api/me", who="op")
    check(st == 200, "Bearer tokens keep working beside sessions", st)


def test_session_revoked_token():
    mint("temp", "--role", "operator")
    st, c, _ = login("temp")
    c2 = login("temp")[1]
    check(st == 200 and c and c2, "two sessions of one token")
    st, _, j = http("DELETE", "/api/session?all=1", headers=with_cookie(c))
    check(st == 200 and j == {"ended": 2}, "logout everywhere ends both", (st, j))
    st, c, _ = login("temp")
    rc, _, err = run(["token", "revoke", "temp", "--tokens", S["tokens"]])
    check(rc == 0, "revoke the operator token", err)
    st, _, j = wait_until(lambda: (lambda r: r if r[0] == 401 else None)(
        http("GET", "/api/me", headers=with_cookie(c))), 10) or (0, 0, {})
    check(st == 401 and "revoked" in j.get("error", ""), "a session of a revoked token: 401", (st, j))


def test_session_secure_on_tls():
    if subprocess.run(["openssl", "version"], capture_output=True).returncode != 0:
        return skip("Secure cookie over TLS", "no openssl")
    key, cert = path("key.pem"), path("cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                   capture_output=True, check=True)
    port = nestlib.free_port()
    srv = nestlib.Proc(["server", "--listen", "tls:127.0.0.1:%d" % port, "--tokens", S["tokens"],
                        "--tls-cert", cert, "--tls-key", key], "server-tls")
    if not srv.wait_log(r"server ready", 15):
        check(False, "a TLS server starts", srv.text()[-1000:])
        return
    out = subprocess.run(["curl", "-sS", "-k", "-D", "-", "-o", "/dev/null", "-X", "POST", "-H", "X-Nestd-CSRF: 1",
                          "-H", "Authorization: Bearer " + TOK["op"], "https://127.0.0.1:%d/api/session" % port],
                         capture_output=True, text=True, timeout=T(30)).stdout
    line = [l for l in out.splitlines() if l.lower().startswith("set-cookie:")]
    check(line and "; Secure" in line[0] and "HttpOnly" in line[0], "over TLS the cookie is Secure", line)
    srv.stop()


# ---- item 6: agent tokens through the API ----

def test_tokens_api():
    st, _, j = http("GET", "/api/tokens", who="op")
    names = [t["name"] for t in j] if st == 200 else []
    check(st == 200 and "web1" in names and "op" not in names and "alices" not in names,
          "GET /api/tokens: agent tokens only", (st, j))
    check(all(set(t) == {"name", "owner", "created", "online"} for t in j), "name, owner, created, online", j[:2])
    st, _, j = http("GET", "/api/tokens", who="reader")
    check(st == 403 and "tokens" in j.get("error", ""), "can=read may not manage tokens", (st, j))
    st, _, j = http("POST", "/api/tokens", {"name": "fresh"}, who="op")
    check(st == 201 and j.get("name") == "fresh" and re.fullmatch(r"[0-9a-f]{64}\.[0-9a-f]{8}", j.get("token", "")),
          "POST /api/tokens: 201 and the token, once", (st, j))
    TOK["fresh"] = j.get("token", "")
    with open(path("fresh.token"), "w") as f:
        f.write(TOK["fresh"] + "\n")
    os.chmod(path("fresh.token"), 0o600)
    m = S["srv"].mark()
    p = agent("fresh")
    check(wait_until(lambda: online("fresh"), 10), "the new token is admitted at once, no SIGHUP")
    check(S["srv"].count(r"SIGHUP", since=m) == 0, "and nobody sent one")
    rc, out, _ = run(["token", "list", "--tokens", S["tokens"]])
    check(rc == 0 and re.search(r"^fresh\s+agent", out, re.M), "nestd token list shows it", out)
    st, _, j = http("POST", "/api/tokens", {"name": "fresh"}, who="op")
    check(st == 409 and "exists" in j.get("error", ""), "a taken name: 409", (st, j))
    for bad in ({"name": "-x"}, {"name": 3}, {}, {"name": "ok", "owner": "bad owner"}, []):
        st, _, j = http("POST", "/api/tokens", bad, who="op")
        check(st == 400, "bad body %r: 400" % (bad,), (st, j))
    st, _, j = http("POST", "/api/tokens", {"name": "alice2"}, who="alices")
    check(st == 201 and j.get("owner") == "alice", "an owner:alice scope mints alice's by default", (st, j))
    st, _, j = http("POST", "/api/tokens", {"name": "bob2", "owner": "bob"}, who="alices")
    check(st == 403 and "does not reach" in j.get("error", ""), "...and not bob's", (st, j))
    st, _, j = http("GET", "/api/tokens", who="alices")
    check(st == 200 and sorted(t["name"] for t in j) == ["alice2", "web1"], "it lists only alice's", j)
    st, _, j = http("DELETE", "/api/tokens/fresh", who="alices")
    check(st == 404, "revoking outside the scope: as unknown", (st, j))
    st, _, j = http("DELETE", "/api/tokens/op", who="op")
    check(st == 404, "operator tokens are not revoked here", (st, j))
    st, _, j = http("DELETE", "/api/tokens/fresh", who="op")
    check(st == 200 and j == {"revoked": "fresh"}, "DELETE /api/tokens/fresh", (st, j))
    check(p.wait_log(r"token revoked|revoked", 10), "its agent is dropped at once", p.text()[-300:])
    ev = [a["event"] for a in audit_lines() if a.get("event", "").startswith("token_")]
    check("token_minted" in ev and "token_revoked" in ev, "minting and revoking are audited", ev)
    st, _, j = http("PUT", "/api/tokens", who="op")
    check(st == 405, "PUT /api/tokens: 405", st)
    p.stop()


# ---- item 10: gzip ----

def test_gzip():
    st, h, plain = http("POST", "/api/clients/web1/commands", {"message": "obtain_all_process_info"},
                        who="op", raw=True)
    check(st == 200 and "content-encoding" not in h, "no Accept-Encoding: plain", h)
    st, h, z = http("POST", "/api/clients/web1/commands", {"message": "obtain_all_process_info"},
                    who="op", headers={"Accept-Encoding": "gzip"}, raw=True)
    check(st == 200 and h.get("content-encoding") == "gzip" and "accept-encoding" in h.get("vary", "").lower(),
          "Accept-Encoding: gzip: Content-Encoding gzip, Vary", h)
    body = gzip.decompress(z) if h.get("content-encoding") == "gzip" else z
    a, b = json.loads(plain), json.loads(body)
    check(a["status"] == b["status"] == "command_response" and len(a["payload"]) > 10 and
          {p["pid"] for p in a["payload"]} & {p["pid"] for p in b["payload"]},
          "Python's gzip reads it back to the same reply", (len(plain), len(body)))
    check(len(z) * 4 < len(body), "compressed to under a quarter", (len(z), len(body)))
    st, h, _ = http("GET", "/api/me", who="op", headers={"Accept-Encoding": "gzip"}, raw=True)
    check(st == 200 and "content-encoding" not in h, "a small answer goes plain", h)
    st, h, z = http("GET", "/api/clients/web1/history", who="op", headers={"Accept-Encoding": "gzip;q=0"}, raw=True)
    check(st == 200 and "content-encoding" not in h, "gzip;q=0 is a refusal", h)
    out = subprocess.run(["curl", "-sS", "--compressed", "-H", "Authorization: Bearer " + TOK["op"],
                          "-d", '{"message":"obtain_all_process_info"}', "-w", "\n%{size_download}",
                          "http://127.0.0.1:%d/api/clients/web1/commands" % S["srv"].port],
                         capture_output=True, text=True, timeout=T(30)).stdout
    text, _, size = out.rpartition("\n")
    check(json.loads(text)["status"] == "command_response" and int(size) * 4 < len(text),
          "curl --compressed: the same reply, a quarter of the bytes", (size, len(text)))


def test_dir_trouble():
    """A state directory others can write to is refused for state, and the
    server carries on in memory."""
    d = path("open")
    os.makedirs(d)
    os.chmod(d, 0o777)
    port = nestlib.free_port()
    srv = nestlib.Proc(["server", "--listen", "127.0.0.1:%d" % port, "--tokens", S["tokens"],
                        "--state-dir", d], "server-open")
    check(srv.wait_log(r"server ready", 15), "a server with an unsafe state directory still starts")
    check(srv.wait_log(r"state directory: .*writable by others.*memory only", 5),
          "and says its state is kept in memory only", srv.text()[-800:])
    st, _, _ = http("GET", "/api/clients", who="op", port=port)
    check(st == 200, "and answers", st)
    srv.stop()
    check(os.listdir(d) == [], "nothing was written there", os.listdir(d))


if __name__ == "__main__":
    main([setup, test_offline_across_restart, test_forget, test_scope_and_revoked, test_history,
          test_history_only_from_announcers, test_sessions, test_session_revoked_token,
          test_session_secure_on_tls, test_tokens_api, test_gzip, test_dir_trouble])
