#!/usr/bin/python3
"""it_authz.py - who may do what (issue 15's model, applied by the HTTP API
and through it by `nestd ctl`), end to end: a real server, real agents
owned by different people, operators with scopes and without, the audit
log, and a token file that changes under a running server (issue 14 item
8: new tokens admitted and revoked ones dropped without SIGHUP).

Run with /usr/bin/python3 (Debian's, with python3-websockets)."""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import Server, T, check, main, path, run, wait_until  # noqa: E402

S = {}
TOK = {}


# ---- tokens ----

def make_token():
    """A token in the reference format, made here, not by nestd."""
    hexpart = os.urandom(32).hex()
    return hexpart + "." + hashlib.sha256(hexpart.encode()).hexdigest()[:8]


def save_token(name, tok):
    TOK[name] = tok
    tf = path(name + ".token")
    with open(tf, "w") as f:
        f.write(tok + "\n")
    os.chmod(tf, 0o600)
    return tf


def mint(name, *args, as_=None):
    """token new NAME ARGS; the token saved as AS_.token (default NAME)."""
    rc, out, err = run(["token", "new", name, "--tokens", S["tokens"]] + list(args))
    if rc != 0:
        raise RuntimeError("token new %s: %s" % (name, err))
    save_token(as_ or name, out.strip())
    return err


def agent(name, tokname=None):
    return nestlib.Proc(["agent", "--server", S["srv"].url, "--token-file",
                         path((tokname or name) + ".token"),
                         "--services", "none", "--reconnect-min", "0.2", "--reconnect-max", "1"],
                        "agent-" + name)


# ---- HTTP ----

def http(method, target, body=None, who=None, token=None):
    st, _, data, _ = nestlib.http_request(S["srv"].port, method, target, body,
                                          (token or (TOK[who] if who else None)) or None)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, data


def names(who):
    st, j = http("GET", "/api/clients", who=who)
    return sorted(c["name"] for c in j) if st == 200 else None


def post(who, agent_name, message, payload=None):
    body = {"message": message}
    if payload is not None:
        body["payload"] = payload
    return http("POST", "/api/clients/%s/commands" % agent_name, body, who=who)


def audit():
    out = []
    try:
        with open(S["audit"]) as f:
            for line in f:
                out.append(json.loads(line))
    except OSError:
        pass
    return out


def ctl(who, args):
    rc, out, err = run(["ctl", "--server", "http://127.0.0.1:%d" % S["srv"].port,
                        "--token-file", path(who + ".token")] + args)
    return rc, out, err


# ---- setup ----

OLD_HEADER = "# nestd tokens: NAME ROLE SHA256(TOKEN) CREATED. Edit with `nestd token`.\n"


def setup():
    """A token file as nestd before owners and scopes wrote it (admin and
    db1), then the new kinds added with `nestd token new`."""
    S["tokens"] = path("tokens")
    S["audit"] = path("audit.log")
    lines = [OLD_HEADER]
    for name, role in (("admin", "operator"), ("db1", "agent")):
        tok = make_token()
        save_token(name, tok)
        lines.append("%s %s %s %d\n" % (name, role, hashlib.sha256(tok.encode()).hexdigest(),
                                        int(time.time())))
    with open(S["tokens"], "w") as f:
        f.write("".join(lines))
    os.chmod(S["tokens"], 0o600)
    mint("web1", "--owner", "slack:U1")
    mint("web2", "--owner", "slack:U2")
    mint("u1", "--role", "operator", "--scope", "agents=owner:slack:U1")
    mint("webread", "--role", "operator", "--scope", "agents=web*;can=read")
    mint("controller", "--role", "operator", "--scope", "can=control")
    mint("execonly", "--role", "operator", "--scope", "can=exec")
    S["srv"] = Server(S["tokens"], ["--audit-log", S["audit"], "--command-timeout", "10"])
    S["agents"] = {n: agent(n) for n in ("web1", "web2", "db1")}
    ok = wait_until(lambda: names("admin") == ["db1", "web1", "web2"], 20)
    check(ok, "three agents connect; the old-format admin token sees them all", names("admin"))


# ---- tests ----

def test_owners_shown():
    st, j = http("GET", "/api/clients", who="admin")
    by = {c["name"]: c for c in j} if st == 200 else {}
    check(by.get("web1", {}).get("owner") == "slack:U1", "owner of web1 in /api/clients", by.get("web1"))
    check(by.get("web2", {}).get("owner") == "slack:U2", "owner of web2 in /api/clients", by.get("web2"))
    check("owner" in by.get("db1", {}) and by["db1"]["owner"] is None,
          "an agent of an old-format token: owner null", by.get("db1"))
    st, j = http("GET", "/api/clients/web1", who="admin")
    check(st == 200 and j.get("owner") == "slack:U1", "owner in GET /api/clients/NAME", (st, j))
    check(S["srv"].wait_log(r"web1 connected from .*owner slack:U1\)"), "the server log names the owner")


def test_old_tokens_unscoped():
    """A token file from before scopes: its operator reaches every agent
    and every kind of command, its agent connects as before."""
    st, j = post("admin", "db1", "obtain_system_info")
    check(st == 200 and j.get("status") == "command_response", "old operator: a read command", (st, j))
    st, j = post("admin", "web2", "exec_command", {"command": "echo hi"})
    check(st == 200 and j.get("payload", {}).get("stdout") == "hi\n", "old operator: exec_command", (st, j))
    st, j = http("GET", "/api/me", who="admin")
    check(st == 200 and j == {"name": "admin", "role": "operator", "scope": None, "agents": None,
                              "can": ["read", "control", "exec", "tokens"]}, "GET /api/me of an unscoped operator",
          (st, j))


def test_invisible_agents():
    """Out-of-scope agents are answered exactly like agents that are not
    connected: 404 with the same text, and absent from the list."""
    check(names("u1") == ["web1"], "owner:slack:U1 sees only web1", names("u1"))
    check(names("webread") == ["web1", "web2"], "agents=web* sees web1 and web2", names("webread"))
    check(names("controller") == ["db1", "web1", "web2"], "a scope without agents= sees all",
          names("controller"))
    st, j = http("GET", "/api/clients/web2", who="u1")
    st2, j2 = http("GET", "/api/clients/nosuch", who="u1")
    check(st == 404 and j == {"error": "agent 'web2' is not connected"},
          "GET of an out-of-scope agent: 404, 'not connected'", (st, j))
    check(st2 == 404 and j2 == {"error": "agent 'nosuch' is not connected"},
          "... the same answer as for an agent that is not there", (st2, j2))
    for cmd in ("obtain_system_info", "exec_command", "frobnicate"):
        st, j = post("u1", "web2", cmd, {"command": "true"} if cmd == "exec_command" else None)
        check(st == 404 and j == {"error": "agent 'web2' is not connected"},
              "POST %s to an out-of-scope agent: 404 like a missing one" % cmd, (st, j))
    st, j = post("u1", "nosuch", "frobnicate")
    check(st == 404, "POST of any command to a missing agent: 404 too (nothing tells them apart)",
          (st, j))
    st, j = post("webread", "db1", "obtain_system_info")
    check(st == 404, "agents=web* cannot reach db1", (st, j))
    st, j = post("u1", "web1", "exec_command", {"command": "echo mine"})
    check(st == 200 and j.get("payload", {}).get("stdout") == "mine\n",
          "owner:slack:U1 runs anything on its own agent (no can= part)", (st, j))


def test_forbidden_commands():
    """Out-of-scope kinds of command: 403 with the reason; nothing sent."""
    st, j = post("webread", "web1", "obtain_system_info")
    check(st == 200 and j.get("status") == "command_response", "can=read: a read command", (st, j))
    st, j = post("webread", "web1", "kill_process", {"pid": 1})
    check(st == 403 and j == {"error": "kill_process is a control command, and your scope allows only read"},
          "can=read: kill_process is 403 with the reason", (st, j))
    st, j = post("webread", "web1", "exec_command", {"command": "touch %s" % path("must-not-exist")})
    check(st == 403 and "exec" in j.get("error", ""), "can=read: exec_command is 403", (st, j))
    check(not os.path.exists(path("must-not-exist")), "the refused exec_command never ran")
    st, j = post("webread", "web1", "obtain_everything")
    check(st == 403 and "unknown name counts as exec" in j.get("error", ""),
          "an unknown command needs exec: 403 saying so", (st, j))

    # can=control: signals work, reads do not (kinds do not imply each other).
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        st, j = post("controller", "db1", "obtain_process_info", {"pid": sleeper.pid})
        check(st == 403 and "read" in j.get("error", ""), "can=control: a read command is 403", (st, j))
        st, j = post("controller", "db1", "pause_process", {"pid": sleeper.pid})
        check(st == 200 and j.get("status") == "command_response", "can=control: pause_process", (st, j))
        stopped = wait_until(lambda: open("/proc/%d/stat" % sleeper.pid).read().split(") ")[1][0] == "T", 5)
        check(stopped, "the process is stopped (in /proc)")
        st, j = post("controller", "db1", "resume_process", {"pid": sleeper.pid})
        check(st == 200, "can=control: resume_process", (st, j))
        st, j = post("controller", "db1", "exec_command", {"command": "true"})
        check(st == 403, "can=control: exec_command is 403", (st, j))
    finally:
        sleeper.kill()
        sleeper.wait()

    # can=exec: every command the agent announces is classified (none
    # falls to exec as an unknown name); only exec_command passes.
    st, j = http("GET", "/api/clients/web1", who="admin")
    announced = j.get("commands") or []
    check(len(announced) >= 13, "the agent announces its commands", announced)
    unclassified = []
    for cmd in announced:
        if cmd == "exec_command":
            continue
        st, j = post("execonly", "web1", cmd)
        if st != 403 or "unknown name" in j.get("error", ""):
            unclassified.append((cmd, st, j))
    check(not unclassified, "can=exec: every other announced command is 403 and classified",
          unclassified)
    st, j = post("execonly", "web1", "exec_command", {"command": "echo x"})
    check(st == 200 and j.get("payload", {}).get("stdout") == "x\n", "can=exec: exec_command runs", (st, j))


def test_api_me():
    st, j = http("GET", "/api/me", who="webread")
    check(st == 200 and j == {"name": "webread", "role": "operator", "scope": "agents=web*;can=read",
                              "agents": ["web*"], "can": ["read"]}, "GET /api/me of a scoped operator",
          (st, j))
    st, j = http("GET", "/api/me", who="u1")
    check(st == 200 and j.get("agents") == ["owner:slack:U1"] and
          j.get("can") == ["read", "control", "exec", "tokens"], "GET /api/me: an owner selector, every kind",
          (st, j))
    st, j = http("GET", "/api/me")
    check(st == 401, "GET /api/me without a token: 401", st)
    st, j = http("GET", "/api/me", who="web1")
    check(st == 401 and "agent tokens" in j.get("error", ""), "GET /api/me with an agent token: 401",
          (st, j))
    st, j = http("POST", "/api/me", {}, who="u1")
    check(st == 405, "POST /api/me: 405", st)


def test_ctl_applies_scope():
    rc, out, err = ctl("u1", ["--json", "clients"])
    got = sorted(c["name"] for c in json.loads(out)) if rc == 0 else None
    check(got == ["web1"], "nestd ctl clients with a scoped token: only its agents", (rc, out, err))
    rc, out, err = ctl("u1", ["sysinfo", "web2"])
    check(rc == 1 and "no agent named 'web2' is connected" in err, "ctl on an out-of-scope agent: not connected",
          (rc, out, err))
    rc, out, err = ctl("webread", ["kill", "web1", "1"])
    check(rc == 1 and "control" in (out + err), "ctl kill with can=read: refused with the reason",
          (rc, out, err))


def test_audit_who_asked():
    recs = [r for r in audit() if r.get("event") == "command"]
    forb = [r for r in recs if r.get("outcome") == "forbidden"]
    k = [r for r in forb if r.get("operator") == "webread" and r.get("command") == "kill_process"]
    check(k and k[0].get("http_status") == 403 and k[0].get("agent") == "web1" and
          k[0].get("payload") == {"pid": 1} and "control" in k[0].get("error", ""),
          "a 403 is audited: who asked, agent, command, payload, reason", k[:1])
    inv = [r for r in forb if r.get("operator") == "u1" and r.get("agent") == "web2"]
    check(inv and inv[0].get("http_status") == 404 and "scope" in inv[0].get("error", ""),
          "an attempt on an out-of-scope agent is audited (the operator saw a 404)", inv[:1])
    check(not [r for r in forb if r.get("agent") == "nosuch"],
          "a missing agent is no attempt on anyone's agent: not audited as forbidden")
    ok = [r for r in recs if r.get("outcome") == "ok" and r.get("operator") == "u1"]
    check(ok and ok[0].get("agent") == "web1", "an allowed command is audited with who asked", ok[:1])
    who = {r.get("operator") for r in recs}
    check({"admin", "u1", "webread", "controller", "execonly"} <= who,
          "every operator that acted is named in the audit log", who)


def test_new_tokens_without_sighup():
    """Issue 14 item 8: a token minted on a running server works at once,
    agent or operator, and `token new` says nothing needs restarting."""
    srv = S["srv"]
    m = srv.mark()
    err = mint("web3", "--owner", "slack:U1")
    check("nothing needs restarting" in err, "token new says nothing needs restarting", err)
    S["agents"]["web3"] = agent("web3")
    check(wait_until(lambda: "web3" in (names("admin") or []), 15), "the new agent is admitted, no SIGHUP")
    check(names("u1") == ["web1", "web3"], "its owner's scoped operator sees it at once", names("u1"))
    mint("late", "--role", "operator", "--scope", "can=read")
    st, j = http("GET", "/api/clients", who="late")
    check(st == 200, "a new operator token: its first request is served, no SIGHUP", (st, j))
    check(srv.count(r"SIGHUP", since=m) == 0, "no SIGHUP was involved")


def test_revoked_without_sighup():
    """A revoked token's session is dropped by the server itself; a name
    given to a new token is not the old session's (eviction by hash)."""
    srv = S["srv"]
    m = srv.mark()
    rc, out, err = run(["token", "revoke", "web2", "--tokens", S["tokens"]])
    check(rc == 0 and "no SIGHUP needed" in err, "token revoke web2", (rc, err))
    # Nobody authenticates meanwhile: the timer must find the change.
    check(srv.wait_log(r"web2: token revoked, disconnecting", 15, since=m),
          "the revoked agent is dropped without SIGHUP or any login")
    check("web2" not in (names("admin") or []), "web2 is gone from the list")
    check(S["agents"]["web2"].wait_log(r"server refused us: token revoked", 10),
          "the agent was told why")
    # Revoke and re-mint web1 at once: the name lives on, the token does
    # not; the old session must go.
    old = S["agents"]["web1"]
    m = srv.mark()
    rc1, _, _ = run(["token", "revoke", "web1", "--tokens", S["tokens"]])
    mint("web1", "--owner", "slack:U1", as_="web1-new")
    check(rc1 == 0 and TOK["web1-new"] != TOK["web1"], "web1 revoked and minted again")
    check(srv.wait_log(r"web1: token revoked, disconnecting", 15, since=m),
          "the session of the revoked web1 token is dropped though the name exists again")
    check(old.wait_log(r"server refused us: unknown or revoked token", 15),
          "and its agent is refused when it retries with the old token")
    # An operator's revocation takes effect on its next request.
    run(["token", "revoke", "webread", "--tokens", S["tokens"]])
    st, j = http("GET", "/api/clients", who="webread")
    check(st == 401 and "revoked" in j.get("error", ""), "a revoked operator token: 401 at once", (st, j))
    check(srv.count(r"SIGHUP", since=0) == 0, "no SIGHUP in the whole run")
    S["agents"]["web1-new"] = agent("web1", "web1-new")
    check(wait_until(lambda: "web1" in (names("admin") or []), 15), "web1 with its new token connects")


def test_bad_file_keeps_tokens():
    """A token file broken by hand under a running server: logged once,
    the old tokens kept; fixed, it is read again."""
    srv = S["srv"]
    with open(S["tokens"]) as f:
        good = f.read()
    m = srv.mark()
    tmp = S["tokens"] + ".edit"
    with open(tmp, "w") as f:
        f.write(good + "broken line\n")
    os.chmod(tmp, 0o600)
    os.rename(tmp, S["tokens"])
    st, j = http("GET", "/api/clients", who="admin")
    check(st == 200, "a broken token file: the old tokens still work", (st, j))
    check(srv.wait_log(r"keeping the old tokens: .*:\d+: ", 5, since=m), "the error names the line")
    for _ in range(3):
        http("GET", "/api/clients", who="admin")
    check(srv.count(r"keeping the old tokens", since=m) == 1,
          "logged once, not at every request", srv.count(r"keeping the old tokens", since=m))
    check(names("u1") is not None and "web3" in names("admin"), "agents stay connected")
    with open(tmp, "w") as f:
        f.write(good)
    os.chmod(tmp, 0o600)
    os.rename(tmp, S["tokens"])
    m = srv.mark()
    mint("after", "--role", "operator")
    st, j = http("GET", "/api/clients", who="after")
    check(st == 200, "once fixed, the file is read again", (st, j))
    # SIGHUP is the same reload.
    srv.signal(signal.SIGHUP)
    check(srv.wait_log(r"SIGHUP: \d+ tokens loaded", 10, since=m), "SIGHUP reloads the same way")


def test_no_secrets_in_logs():
    texts = [open(l, errors="replace").read() for l in nestlib._logs]
    texts.append(open(S["audit"]).read())
    leaked = [n for n, t in TOK.items() if any(t in x or t[:64] in x for x in texts)]
    check(not leaked, "no token in any log or the audit log", leaked)
    check(S["srv"].alive(), "the server is still up")
    check(re.search(r"server ready", S["srv"].text()), "one server all along")


if __name__ == "__main__":
    main([setup, test_owners_shown, test_old_tokens_unscoped, test_invisible_agents,
          test_forbidden_commands, test_api_me, test_ctl_applies_scope, test_audit_who_asked,
          test_new_tokens_without_sighup, test_revoked_without_sighup, test_bad_file_keeps_tokens,
          test_no_secrets_in_logs])
