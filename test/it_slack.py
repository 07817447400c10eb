#!/usr/bin/python3
"""it_slack.py - `nestd server` as the Nest Management Bot in Slack, end to
end: the real server and real agents (a nestd agent owned by U1, one owned
by U2, an original-style client owned by U1 too: test/orig_client.py),
and test/slack_standin.py in Slack's place (its Web API over plain http://
on loopback, its Socket Mode WebSocket, a Block Kit validator that fails
any view outside Slack's documented limits).

What it checks, in order: the manifest; the options (tokens only from
files or the config file, their modes); the Socket Mode link and which
token each call carries; each envelope acknowledged before anything is
done for it; U1's App Home with their machines only, chosen from;
processes paged; a `sleep` paused, resumed and killed (checked in /proc);
units started and stopped through the recording systemctl, names with
dashes, dots and @; usage and a free port; the storage unit remembered;
a token minted and an agent connected with it, then reset (the old
session dropped); U2 reaching nothing of U1's by forging values; an admin
seeing every agent; /nest; a process named with <!channel> and *bold*
shown as text; 429 and ok:false; and the link surviving drops and
disconnect refreshes with no lost and no double action.
"""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import (NESTD, T, Proc, check, main, path, proc_state, run, skip, tmpdir,
                     wait_until, free_port, can_run_as_others)
import slack_standin as S

HERE = os.path.dirname(os.path.abspath(__file__))
STUBS = os.path.join(HERE, "stubs")
SYSTEMCTL = os.path.join(STUBS, "systemctl")
ADMIN = "UADMIN1"

st = None        # the stand-in
srv = None       # nestd server
env = {}         # what setup made: tokens, agents, files


def write_secret(name, text, mode=0o600):
    p = path(name)
    with open(p, "w") as f:
        f.write(text + "\n")
    os.chmod(p, mode)
    return p


def token_new(name, owner=None):
    args = ["token", "new", name, "--tokens", env["tokens"]]
    if owner:
        args += ["--owner", owner]
    rc, out, err = run(args)
    if rc != 0:
        raise RuntimeError("token new %s: %s" % (name, err))
    return out.strip()


def start_agent(name, token, extra=(), envx=None):
    tf = write_secret(name + ".token", token)
    e = {"NESTD_STUB_LOG": env["stub_log"], "PATH": STUBS + ":" + os.environ["PATH"]}
    e.update(envx or {})
    return Proc(["agent", "--server", srv.url, "--token-file", tf, "--systemctl", SYSTEMCTL,
                 "--services", "systemd", "--reconnect-min", "0.1", "--reconnect-max", "0.5"]
                + list(extra), name, env=e)


class Server(Proc):
    def __init__(self, args, name="server"):
        self.port = free_port()
        self.url = "ws://127.0.0.1:%d/" % self.port
        Proc.__init__(self, ["server", "--listen", "127.0.0.1:%d" % self.port,
                             "--state-dir", env["state"], "--accept-versions", "1.0,0.1",
                             "--audit-log", env["audit"], "--command-timeout", "5"] + list(args),
                      name)
        if not self.wait_log(r"server ready", 15):
            raise RuntimeError("server did not start: " + self.text()[-2000:])


def slack_args():
    return ["--slack-app-token-file", env["app"], "--slack-bot-token-file", env["bot"],
            "--slack-api-url", st.api_url, "--slack-admins", ADMIN]


def connected(name):
    rc, out, _ = run(["ctl", "--server", "http://127.0.0.1:%d" % srv.port, "--token-file",
                      env["op_file"], "--json", "clients"])
    return rc == 0 and any(a.get("name") == name for a in json.loads(out or "[]"))


def audit_commands(op, command):
    n = 0
    try:
        with open(env["audit"]) as f:
            for line in f:
                r = json.loads(line)
                if r.get("event") == "command" and r.get("operator") == op and \
                        r.get("command") == command:
                    n += 1
    except OSError:
        pass
    return n


# ---- driving the stand-in ----

def send_acked(e, what):
    """Sends e and waits for its ack: the ack, checked against Slack's rules."""
    eid = st.send(e)
    a = st.wait_ack(eid, T(10))
    check(a is not None, "%s: acknowledged" % what)
    if a:
        d = st.ack_delay(eid)
        check(d is not None and d < 3.0, "%s: acknowledged within Slack's 3 s" % what, d)
    return a


def action(user, action_id, value=None, view_id=None, view_type="home", selected=None,
           what=None):
    m = st.mark()
    send_acked(st.env_action(user, action_id, value, view_id, view_type, selected),
               what or "%s %s" % (user, action_id))
    return m


def view_call(method, since, pred=lambda v: True, user=None, timeout=15):
    def ok(c):
        b = c.body if isinstance(c.body, dict) else {}
        return (user is None or b.get("user_id") == user) and pred(b.get("view") or {})
    return st.wait_call(method, ok, since, T(timeout))


def text_of(c):
    return S.all_text(c.body["view"]) if c else ""


def home_of(user, since, pred=lambda v: True, timeout=15):
    return view_call("views.publish", since, pred, user=user, timeout=timeout)


def modal(since, pred=lambda v: True, timeout=15):
    """The modal a job filled: the views.update after a views.open."""
    return view_call("views.update", since, lambda v: v.get("type") == "modal" and pred(v),
                     timeout=timeout)


# ---- the tests ----

def setup():
    global st, srv
    tmpdir()
    env["state"] = path("state")
    os.makedirs(env["state"], mode=0o700)
    env["tokens"] = os.path.join(env["state"], "tokens")
    env["audit"] = path("audit.log")
    env["stub_log"] = path("stub.log")
    open(env["stub_log"], "w").close()
    st = S.SlackStandin()
    env["app"] = write_secret("app.token", S.APP_TOKEN)
    env["bot"] = write_secret("bot.token", S.BOT_TOKEN)
    env["u1"] = token_new("u1box", "slack:U1")
    env["u2"] = token_new("u2box", "slack:U2")
    env["orig"] = token_new("u1orig", "slack:U1")
    env["mute"] = token_new("u1mute", "slack:U1")
    token_new("u3box", "slack:U3")
    env["u4"] = token_new("u4shared", "slack:U4")
    env["op"] = token_new("ops-cli")
    rc, out, err = run(["token", "new", "ops", "--role", "operator", "--tokens", env["tokens"]])
    env["op_file"] = write_secret("op.token", out.strip())
    srv = Server(slack_args())
    env["a1"] = start_agent("u1box", env["u1"])
    env["a2"] = start_agent("u2box", env["u2"], ["--deny", "kill_process"])
    oe = {"CLIENT_TOKEN": env["orig"], "DEV": "true", "WS_URL": srv.url,
          "PATH": STUBS + ":" + os.environ["PATH"], "NESTD_STUB_LOG": env["stub_log"]}
    odir = path("orig-home")
    os.makedirs(odir)
    env["orig_log"] = path("orig.log")
    env["origp"] = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "orig_client.py"),
                                     "--systemctl", SYSTEMCTL], cwd=odir, env=dict(os.environ, **oe),
                                    stdout=open(env["orig_log"], "w"), stderr=subprocess.STDOUT)
    ok = wait_until(lambda: all(connected(n) for n in ("u1box", "u2box", "u1orig")), 15)
    check(ok, "three agents connected (two nestd agents, one original-style client)")
    # one that never answers: it says nothing after its hello
    from nestlib import RawWS
    env["mute_ws"] = RawWS(srv.port).handshake().auth(env["mute"])
    check(st.wait_links(1, T(10)) is not None, "the server opened a Socket Mode link")


def test_manifest():
    rc, out, err = run(["slack", "manifest"])
    m = json.loads(out) if rc == 0 else {}
    check(rc == 0 and m.get("settings", {}).get("socket_mode_enabled") is True,
          "slack manifest: JSON with Socket Mode on", err)
    check(sorted(m.get("oauth_config", {}).get("scopes", {}).get("bot", [])) ==
          ["chat:write", "commands"], "slack manifest: only the bot scopes it needs")
    s = m.get("settings", {})
    check(s.get("event_subscriptions", {}).get("bot_events") == ["app_home_opened"] and
          s.get("interactivity", {}).get("is_enabled") is True, "slack manifest: app_home_opened, "
          "interactivity")
    f = m.get("features", {})
    check(f.get("app_home", {}).get("home_tab_enabled") is True and
          [c["command"] for c in f.get("slash_commands", [])] == ["/nest"],
          "slack manifest: the Home tab and /nest")
    rc, out, _ = run(["slack", "manifest", "--slack-command", "/box"])
    check(rc == 0 and '"/box"' in out, "slack manifest --slack-command /box")
    rc, _, err = run(["slack", "nonsense"])
    check(rc == 2 and "usage" in err, "slack with a wrong verb: usage error", err)


def test_options():
    base = ["server", "--listen", "127.0.0.1:%d" % free_port(), "--state-dir", env["state"]]
    rc, _, err = run(base + ["--slack-app-token", S.APP_TOKEN])
    check(rc == 2 and "command line" in err and S.APP_TOKEN not in err,
          "a token on the command line is refused without echoing it", err)
    rc, _, err = run(base + ["--slack-app-token-file", env["app"]])
    check(rc == 2 and "both tokens" in err, "one token alone is a usage error", err)
    loose = write_secret("loose.token", S.BOT_TOKEN, 0o644)
    rc, _, err = run(base + ["--slack-app-token-file", env["app"], "--slack-bot-token-file", loose,
                             "--slack-api-url", st.api_url])
    check(rc == 1 and "readable by others" in err and S.BOT_TOKEN not in err,
          "a token file others can read is refused", err)
    cfg = write_secret("slack.conf", "slack-app-token = %s\nslack-bot-token = %s\n" %
                       (S.APP_TOKEN, S.BOT_TOKEN), 0o644)
    rc, _, err = run(base + ["--config", cfg])
    check(rc == 2 and "chmod 600" in err, "a config file holding tokens must be private", err)
    rc, _, err = run(base + ["--slack-api-url", "ftp://x/"])
    check(rc == 2 and "slack-api-url" in err, "--slack-api-url wants http(s)", err)
    rc, _, err = run(base + ["--slack-admins", "alice"])
    check(rc == 2 and "slack-admins" in err, "--slack-admins wants Slack user ids", err)
    rc, _, err = run(base + ["--slack-command", "nest"])
    check(rc == 2 and "slack-command" in err, "--slack-command wants a slash command", err)
    rc, out, _ = run(["server", "--help"])
    check("--slack-app-token-file" in out and "--slack-api-url" in out, "server --help names them")


def test_link():
    opens = st.calls_of("apps.connections.open")
    check(opens and all(c.token == S.APP_TOKEN for c in opens),
          "apps.connections.open carries the app-level token")
    others = [c for c in st.calls if c.method != "apps.connections.open"]
    check(others and all(c.token == S.BOT_TOKEN for c in others), "every other call the bot token")
    check(st.calls_of("auth.test"), "auth.test checks the bot token at start")
    check(srv.wait_log(r"signed in to Stand-in", 5), "the server logs the workspace it is in")


def test_home():
    m = st.mark()
    e = st.env_home_opened("U1")
    send_acked(e, "app_home_opened")
    c = home_of("U1", m, lambda v: "Usage" in S.all_text(v))
    t = text_of(c)
    check(c is not None, "U1's App Home is published", st.problems[-3:])
    if not c:
        return
    check("u1box" in t and "u1orig" in t and "u2box" not in t,
          "U1 sees their two machines and not U2's", t[:400])
    for k in ("Uptime", "Load", "Memory", "Disk"):
        check(k in t, "the home tab shows the chosen machine's %s" % k)
    b = S.buttons(c.body["view"])
    names = [x[2] for x in b]
    for k in ("Usage", "Processes", "Services", "Get a Port", "Manage Token", "Settings"):
        check(k in names, "the home tab has %s" % k)
    check(("choose", "u1orig", "u1orig") in b, "several machines: chosen from a menu")
    check(all(v is None or len(v) < 100 for _, v, _ in b), "button values are short ids")
    # choose the original-style client: it reports no system figures
    m = action("U1", "choose", selected="u1orig")
    c = home_of("U1", m, lambda v: "original client" in S.all_text(v))
    check(c is not None, "choosing u1orig: its home says it reports no figures")
    m = action("U1", "choose", selected="u1box")
    check(home_of("U1", m, lambda v: "Uptime" in S.all_text(v)) is not None,
          "choosing u1box again")


def test_processes():
    m = action("U1", "ps", "u1box|0")
    c = home_of("U1", m, lambda v: "Processes on u1box" in S.all_text(v))
    check(c is not None, "Processes: a page", st.problems[-3:])
    if not c:
        return
    t = text_of(c)
    mg = [x for x in S.buttons(c.body["view"]) if x[0] == "proc"]
    check(len(mg) == 15, "15 processes a page, each with Manage", len(mg))
    pages = re.search(r"page 1/(\d+)", t)
    check(pages and int(pages.group(1)) >= 2, "the header tells the pages", t[:200])
    nxt = [x for x in S.buttons(c.body["view"]) if x[0] == "ps.next"]
    check(nxt and nxt[0][1] == "u1box|1", "Next names page 2 by number")
    m = action("U1", "ps.next", "u1box|1")
    c = home_of("U1", m, lambda v: "page 2/" in S.all_text(v))
    check(c is not None and any(x[0] == "ps.prev" for x in S.buttons(c.body["view"])),
          "page 2 has Previous")
    # a page past the end shows the last, not an error
    m = action("U1", "ps.next", "u1box|99999")
    c = home_of("U1", m, lambda v: "Processes on u1box" in S.all_text(v))
    check(c is not None and "Next" not in [x[2] for x in S.buttons(c.body["view"])],
          "a page past the last shows the last")


def test_process_actions():
    sl = subprocess.Popen(["sleep", "1000"])
    pid = sl.pid
    wait_until(lambda: proc_state(pid) == "S", 5)
    try:
        m = action("U1", "proc", "u1box|%d" % pid)
        check(st.wait_call("views.open", since=m) is not None, "Manage opens a modal at once")
        c = modal(m, lambda v: "Process %d" % pid in S.all_text(v))
        t = text_of(c)
        check(c is not None and "sleeping" in t, "the process modal: status sleeping", t[:300])
        for k in ("CPU", "CPU time", "Memory", "Started"):
            check(k in t, "the process modal shows %s" % k)
        b = [x[0] for x in S.buttons(c.body["view"])] if c else []
        check("kill.term" in b and "kill.kill" in b and "pause" in b and "resume" not in b,
              "Kill (SIGTERM), Kill (SIGKILL), Pause; no Resume while it runs", b)
        kills = [x for x in S.buttons(c.body["view"]) if x[0].startswith("kill")] if c else []
        check(kills and all("confirm" in json.dumps(c.body["view"]) for _ in kills),
              "kills ask for confirmation")
        vid = c.body["view_id"] if c else ""
        m = action("U1", "pause", "u1box|%d" % pid, view_id=vid, view_type="modal")
        c = modal(m, lambda v: "stopped" in S.all_text(v))
        check(c is not None and wait_until(lambda: proc_state(pid) == "T", 5),
              "Pause: stopped in /proc, and the modal says so")
        check(c and "resume" in [x[0] for x in S.buttons(c.body["view"])],
              "a stopped process offers Resume")
        m = action("U1", "resume", "u1box|%d" % pid, view_id=vid, view_type="modal")
        check(modal(m, lambda v: "Resumed" in S.all_text(v)) is not None and
              wait_until(lambda: proc_state(pid) in ("S", "R"), 5), "Resume: running again")
        m = action("U1", "kill.term", "u1box|%d" % pid, view_id=vid, view_type="modal")
        c = modal(m, lambda v: "Signal sent" in S.all_text(v))
        check(c is not None, "Kill (SIGTERM): the modal tells", st.problems[-3:])
        check(wait_until(lambda: sl.poll() is not None, 5) and sl.returncode == -signal.SIGTERM,
              "the sleep ended by SIGTERM", sl.returncode)
        # the agent itself: safe_kill false, no kill buttons
        apid = env["a1"].pid
        m = action("U1", "proc", "u1box|%d" % apid)
        c = modal(m, lambda v: "Process %d" % apid in S.all_text(v))
        check(c is not None and "safe_kill: false" in text_of(c) and
              not any(x[0].startswith("kill") for x in S.buttons(c.body["view"])),
              "the agent's own process cannot be killed from here, and says why")
    finally:
        if sl.poll() is None:
            sl.kill()
            sl.wait()


def stub_lines(since):
    with open(env["stub_log"]) as f:
        return f.read()[since:]


def test_services():
    m = action("U1", "svcs", "u1box|0")
    c = home_of("U1", m, lambda v: "Services on u1box" in S.all_text(v))
    t = text_of(c)
    check(c is not None and "getty@tty1.service" in t and "nginx.service" in t,
          "Services: the agent's units", t[:300])
    b = S.buttons(c.body["view"]) if c else []
    check(("svc", "u1box|getty@tty1.service", "Manage") in b, "a unit with @ is valued whole")
    # inactive: Start (the stand-in's show says inactive for such names)
    m = action("U1", "svc", "u1box|inactive-job.service")
    c = modal(m, lambda v: "inactive-job.service" in S.all_text(v))
    check(c and [x[0] for x in S.buttons(c.body["view"])][:1] == ["svc_do.start"],
          "an inactive unit offers Start, and nothing else", c and S.buttons(c.body["view"]))
    # the stand-in's show says active for any other name: Stop, Restart, Reload
    name = "my-app.v2@x.service"
    m = action("U1", "svc", "u1box|" + name)
    c = modal(m, lambda v: name in S.all_text(v))
    t = text_of(c)
    for k in ("State", "Description", "File", "Uptime", "Main PID"):
        check(k in t, "the service modal shows %s" % k)
    b = [x[0] for x in S.buttons(c.body["view"])] if c else []
    check("svc_do.stop" in b and "svc_do.restart" in b and "svc_do.reload" in b and
          "proc.push" in b, "an active unit: Stop, Restart, Reload, Manage Process", b)
    vid = c.body["view_id"] if c else ""
    mark = len(stub_lines(0))
    m = action("U1", "svc_do.stop", "u1box|" + name, view_id=vid, view_type="modal")
    check(modal(m, lambda v: "Stopped" in S.all_text(v)) is not None, "Stop: the modal tells")
    m = action("U1", "svc_do.start", "u1box|" + name, view_id=vid, view_type="modal")
    check(modal(m, lambda v: "Started" in S.all_text(v)) is not None, "Start: the modal tells")
    m = action("U1", "svc_do.start", "u1box|missing.service", view_id=vid, view_type="modal")
    c = modal(m, lambda v: "missing.service" in S.all_text(v))
    check(c is not None and "not found" in text_of(c), "a failing Start shows the agent's error",
          text_of(c)[:300])
    rec = stub_lines(mark)
    check(re.search(r"systemctl .*\bstop\b.* %s" % re.escape(name), rec) and
          re.search(r"systemctl .*\bstart\b.* %s" % re.escape(name), rec),
          "the recording systemctl saw stop and start of %s" % name, rec)
    m = action("U1", "proc.push", "u1box|1234", view_id=vid, view_type="modal")
    check(st.wait_call("views.push", since=m) is not None, "Manage Process pushes a modal")


def test_usage_port():
    # The original-style client answers obtain_user_usages and get_port
    # from `nest` (the stand-in in test/stubs).
    m = action("U1", "usage", "u1orig")
    c = home_of("U1", m, lambda v: "Usage on u1orig" in S.all_text(v))
    t = text_of(c)
    check(c is not None and "Disk usage: 1.25 GB" in t and "Storage" in t and " GB" in t,
          "Usage: the agent's resources and its storage in GB", t[:400])
    m = action("U1", "port", "u1orig")
    c = home_of("U1", m, lambda v: "free port" in S.all_text(v))
    check(c is not None and "Port 4242 is free to use!" in text_of(c), "Get a Port")
    # A nestd agent answers them too, or says it does not
    m = action("U1", "port", "u1box")
    c = home_of("U1", m, lambda v: "u1box" in S.all_text(v))
    t = text_of(c)
    check(c is not None and re.search(r"Port \d+ is free to use!", t), "Get a Port on u1box "
          "(nestd's shape)", t[:300])
    m = action("U1", "usage", "u1box")
    c = home_of("U1", m, lambda v: "Usage on u1box" in S.all_text(v))
    t = text_of(c)
    check(c is not None and "Storage" in t and re.search(r"`total`: [0-9.]+ GB", t),
          "Usage on u1box: its resources and storage (nestd's shape)", t[:400])
    check(env["origp"].poll() is None, "the original-style client is still connected "
          "(never sent a command it does not know)")


def test_settings():
    m = action("U1", "settings")
    c = st.wait_call("views.open", since=m)
    v = c.body["view"] if c else {}
    check(c is not None and c.answer.get("ok") and any(b.get("type") == "input" for b in v.get("blocks", [])),
          "Settings opens a modal with a choice")
    vid = c.answer["view"]["id"] if c and c.answer.get("ok") else "V?"
    m = st.mark()
    send_acked(st.env_submit("U1", vid, {"unit": {"unit": {"type": "radio_buttons",
                                                           "selected_option": {"value": "gib"}}}}),
               "view_submission")
    c = home_of("U1", m, lambda v: "Sizes in GiB" in S.all_text(v))
    check(c is not None and " GiB" in text_of(c), "the home tab shows sizes in GiB")
    f = os.path.join(env["state"], "slack-users")
    check(os.path.exists(f) and "U1 unit=gib" in open(f).read() and
          stat.S_IMODE(os.stat(f).st_mode) == 0o600, "the setting is in the state directory, 0600")
    check(not [n for n in os.listdir(env["state"]) if ".tmp." in n], "written atomically: no temp file left")
    m = action("U1", "usage", "u1orig")
    c = home_of("U1", m, lambda v: "Usage on u1orig" in S.all_text(v))
    check(c is not None and "(in GiB)" in text_of(c), "usage follows the unit")


def test_tokens():
    m = action("U1", "get_token")
    c = st.wait_call("views.open", lambda c: "Your token" in json.dumps(c.body), since=m)
    t = text_of(c)
    tok = re.search(r"\b([0-9a-f]{64}\.[0-9a-f]{8})\b", t)
    check(tok is not None, "Get Token shows a token once", t[:300])
    check("install.sh | sh -s -- --token-file" in t and "umask 077" in t,
          "with the lines that install the agent")
    check(re.search(r"^slack-u1 agent [0-9a-f]{64} \d+ owner=slack:U1$",
                    open(env["tokens"]).read(), re.M), "the token file: an agent owned by slack:U1")
    if not tok:
        return
    new = start_agent("slack-u1", tok.group(1))
    check(new.wait_log(r"authenticated to", 10), "an agent connects with the minted token")
    m = action("U1", "tokens")
    c = st.wait_call("views.open", lambda c: "Your tokens" in json.dumps(c.body), since=m)
    check(c is not None and ("reset_token", "slack-u1", "Reset") in S.buttons(c.body["view"]),
          "Manage Token lists it with Reset")
    vid = c.answer["view"]["id"] if c else "V?"
    mark = new.mark()
    m = action("U1", "reset_token", "slack-u1", view_id=vid, view_type="modal")
    c = st.wait_call("views.update", lambda c: "Your token" in json.dumps(c.body), since=m)
    tok2 = re.search(r"\b([0-9a-f]{64}\.[0-9a-f]{8})\b", text_of(c))
    check(tok2 and tok2.group(1) != tok.group(1), "Reset shows a new token")
    check(new.wait_log(r"token revoked|disconnected", 10, since=mark),
          "the old token's session was dropped", new.text()[-500:])
    check(new.wait_log(r"invalid token|unknown token|not known|refused", 10, since=mark),
          "and the old token is refused", new.text()[-500:])
    new.stop()
    a = start_agent("slack-u1b", tok2.group(1)) if tok2 else None
    check(a and a.wait_log(r"authenticated to", 10), "the new token works")
    if a:
        a.stop()


def test_forged():
    sl = subprocess.Popen(["sleep", "1000"])
    try:
        before = open(env["tokens"]).read()
        m = action("U2", "ps", "u1box|0", what="U2 forging a value naming u1box")
        c = home_of("U2", m)
        t = text_of(c)
        check(c is not None and "not connected" in t and "Processes on u1box" not in t,
              "U2 asking for u1box's processes reaches nothing", t[:200])
        m = action("U2", "kill.kill", "u1box|%d" % sl.pid, view_id="VX", view_type="modal")
        time.sleep(0.5)
        check(sl.poll() is None and audit_commands("slack:U2", "kill_process") == 0,
              "U2's forged kill of U1's process did nothing")
        m = action("U2", "proc", "u1box|1")
        c = modal(m)
        check(c is not None and "not connected" in text_of(c), "U2's forged Manage: not connected")
        m = action("U2", "reset_token", "u1box", view_id="VX", view_type="modal")
        time.sleep(0.5)
        check(open(env["tokens"]).read() == before, "U2 cannot reset U1's token")
        m = action("U2", "choose", selected="u1box")
        c = home_of("U2", m)
        check(c is not None and "u1box" not in text_of(c), "U2 cannot choose U1's machine")
        m = action("U2", "svc_do.stop", "u1box|cron.service", view_id="VX", view_type="modal")
        time.sleep(0.5)
        check(audit_commands("slack:U2", "stop_service") == 0, "nor stop U1's units")
        # values that name nothing at all
        for v in ("", "|", "u1box", "u1box|1;rm", "../x|1", "u1box|" + "9" * 20):
            action("U2", "proc", v, what="a malformed value %r" % v)
        check(srv.alive(), "the server survives malformed values")
    finally:
        sl.kill()
        sl.wait()


def test_home_states():
    m = st.mark()
    send_acked(st.env_home_opened("U3"), "U3's home")
    c = home_of("U3", m)
    t = text_of(c)
    check(c is not None and "*u3box*: not connected" in t and "nestd-agent.service" in t and
          "install.sh" in t, "registered, nothing connected: what to run, with the unit's name",
          t[:300])
    m = st.mark()
    send_acked(st.env_home_opened("U9"), "U9's home")
    c = home_of("U9", m)
    check(c is not None and ("get_token", None, "Get Token") in S.buttons(c.body["view"]) and
          "Welcome" in text_of(c), "not registered: a welcome and Get Token")


def test_errors_in_words():
    m = action("U1", "ps", "u1mute|0")
    c = home_of("U1", m, lambda v: "u1mute" in S.all_text(v), timeout=20)
    check(c is not None and "did not answer in time" in text_of(c),
          "an agent that does not answer: 'did not answer in time'", text_of(c)[:200])
    e = st.env_command("U1", "/nest", "ps u1mute")
    a = send_acked(e, "/nest ps of a silent agent")
    check(a and "the answer comes as a message" in S.all_text(a[2].get("payload", {})),
          "/nest: the ack says the answer will come later")
    c = st.wait_call("chat.postMessage", lambda c: c.body.get("channel") == "U1" and
                     "did not answer in time" in json.dumps(c.body), timeout=T(20))
    check(c is not None, "and it comes as a message from the bot")
    sl = subprocess.Popen(["sleep", "1000"])
    try:
        st.views["VX2"] = {"type": "modal"}
        m = action("U2", "kill.term", "u2box|%d" % sl.pid, view_id="VX2", view_type="modal")
        c = modal(m, lambda v: "u2box" in S.all_text(v))
        check(c is not None and "not allowed" in text_of(c) and sl.poll() is None,
              "a command the agent does not take: said in words", text_of(c)[:200])
    finally:
        sl.kill()
        sl.wait()


def test_shared_machine():
    if not can_run_as_others():
        return skip("test_shared_machine", "needs root to run an agent as another user")
    import tempfile
    d = tempfile.mkdtemp(prefix="nestd-shared.")
    os.chmod(d, 0o711)
    tf = os.path.join(d, "u4.token")
    with open(tf, "w") as f:
        f.write(env["u4"] + "\n")
    os.chmod(tf, 0o600)
    os.chown(tf, 65534, 65534)

    def nobody():
        os.setgid(65534)
        os.setuid(65534)
    mine = subprocess.Popen(["sleep", "1001"], preexec_fn=nobody)
    root = subprocess.Popen(["sleep", "1002"])
    ag = subprocess.Popen([nestlib.nestd_for_others(), "agent", "--server", srv.url, "--token-file", tf,
                           "--services", "none", "--reconnect-min", "0.1"], preexec_fn=nobody,
                          stdout=open(path("u4shared.log"), "w"), stderr=subprocess.STDOUT, cwd=d)
    try:
        check(wait_until(lambda: connected("u4shared"), 10), "an agent running as uid 65534")
        m = action("U4", "ps", "u4shared|0")
        c = home_of("U4", m, lambda v: "Processes on u4shared" in S.all_text(v))
        raw = json.dumps(c.body) if c else ""
        check(("u4shared|%d" % mine.pid) in raw and ("u4shared|%d" % root.pid) not in raw and
              "Only your own processes" in text_of(c),
              "on a shared machine a person sees the processes of the agent's uid only")
        # pid 1 is root's and lists first: on an admin's first page, never on U4's
        check('"u4shared|1"' not in raw, "U4 does not see pid 1 (root's)")
        m = action(ADMIN, "ps", "u4shared|0")
        c = home_of(ADMIN, m, lambda v: "Processes on u4shared" in S.all_text(v))
        check(c is not None and '"u4shared|1"' in json.dumps(c.body) and
              "Only your own processes" not in text_of(c), "an admin sees every process there")
    finally:
        for p in (ag, mine, root):
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)


def test_admin():
    m = st.mark()
    send_acked(st.env_home_opened(ADMIN), "admin's home")
    c = home_of(ADMIN, m, lambda v: "Usage" in S.all_text(v) or "machines" in S.all_text(v))
    t = text_of(c)
    check(c is not None and all(n in t for n in ("u1box", "u2box", "u1orig", "u3box")),
          "an admin sees every agent", t[:300])
    m = action(ADMIN, "ps", "u2box|0")
    check(home_of(ADMIN, m, lambda v: "Processes on u2box" in S.all_text(v)) is not None,
          "and reaches U2's")


def command(user, text):
    e = st.env_command(user, "/nest", text)
    a = send_acked(e, "/nest %s" % text)
    return a[2].get("payload") if a else None


def test_nest():
    p = command("U1", "ps")
    t = S.all_text(p or {})
    check(p and p.get("response_type") == "ephemeral" and "Processes on u1box" in t,
          "/nest ps answers ephemerally in the ack", t[:200])
    p = command("U1", "help")
    check(p and "/nest ps" in S.all_text(p), "/nest help")
    p = command("U1", "")
    check(p and "/nest status" in S.all_text(p), "/nest alone: the help")
    p = command("U1", "status")
    t = S.all_text(p or {})
    check("*u1box* on `" in t and "connected for" in t and "u2box" not in t,
          "/nest status: my machines", t)
    p = command("U1", "services")
    check(p and "Services on u1box" in S.all_text(p), "/nest services")
    p = command("U1", "port u1orig")
    check(p and "Port 4242 is free to use!" in S.all_text(p), "/nest port u1orig")
    p = command("U2", "ps u1box")
    check(p and "not connected" in S.all_text(p), "/nest ps of someone else's agent: nothing")
    p = command("U9", "ps")
    check(p and "Get Token" in S.all_text(p), "/nest for someone with no machine says what to do")


def test_hostile_name():
    d = path("bin")
    os.makedirs(d, exist_ok=True)
    exe = os.path.join(d, "<!channel> *bold*")
    shutil.copy("/bin/sleep", exe)
    p = subprocess.Popen([exe, "1000"])
    try:
        found = None
        # Other processes come and go between pages (each page lists anew),
        # so a row may move past a page boundary: two passes, bounded.
        for attempt in range(2):
            for page in range(300):
                m = action("U1", "ps", "u1box|%d" % page)
                c = home_of("U1", m, lambda v: "Processes on u1box" in S.all_text(v))
                if c and ("u1box|%d" % p.pid) in json.dumps(c.body):
                    found = c
                if found or not c or not any(x[0] == "ps.next" for x in S.buttons(c.body["view"])):
                    break
            if found:
                break
        check(found is not None, "the hostile process is listed")
        m = action("U1", "proc", "u1box|%d" % p.pid)
        c = modal(m, lambda v: "Process %d" % p.pid in S.all_text(v))
        check(c is not None and "&lt;!channel&gt;" in text_of(c) and "<!channel>" not in text_of(c),
              "its modal escapes it too")
        if found:
            raw = json.dumps(found.body)
            t = text_of(found)
            check("<!channel>" not in t and "&lt;!channel&gt;" in t,
                  "<!channel> is escaped, no mention", t[t.find("channel") - 40:][:120])
            row = [l for l in t.split("\n") if "channel" in l]
            check(re.search(r"`[^`]*&lt;!channel&gt; \*bold\*[^`]*`", t) is not None,
                  "*bold* stays inside a code span, as text", row)
            check(not [q for q in st.problems if "raw '<'" in q], "no raw '<' in any mrkdwn")
    finally:
        p.kill()
        p.wait()


def test_web_api_errors():
    # 429: the call waits its Retry-After and goes again
    st.limit_next["views.publish"] = 1
    m = st.mark()
    send_acked(st.env_home_opened("U1"), "home under a rate limit")
    c = st.wait_call("views.publish", lambda c: c.status == 200, m, T(10))
    pubs = st.calls_of("views.publish", m)
    check(c is not None and pubs[0].status == 429 and c.t - pubs[0].t >= 0.95,
          "429: published again after Retry-After", [(x.status, x.t) for x in pubs])
    check(srv.wait_log(r"views.publish rate limited", 5), "and the server logged it")
    # ok:false where someone waits: a message says so
    st.fail_next["views.open"] = "expired_trigger_id"
    m = action("U1", "proc", "u1box|1")
    c = st.wait_call("chat.postMessage", lambda c: c.body.get("channel") == "U1", since=m,
                     timeout=T(15))
    check(c is not None and "expired_trigger_id" in json.dumps(c.body),
          "views.open refused: the person is told, with Slack's error code")
    check(srv.wait_log(r"views.open failed: expired_trigger_id", 5), "and the log has the code")
    st.fail_next["views.publish"] = "internal_error"
    m = action("U1", "home")
    check(srv.wait_log(r"views.publish failed: internal_error", 5), "ok:false logged with its code")


def test_link_resilience():
    sl = subprocess.Popen(["sleep", "1000"])
    pid = sl.pid
    pauses = audit_commands("slack:U1", "pause_process")
    resumes = audit_commands("slack:U1", "resume_process")
    try:
        # a disconnect refresh: a second link, the old one still delivers
        n = len(st.links)
        old = st.disconnect("refresh_requested")
        e = st.env_action("U1", "pause", "u1box|%d" % pid, view_id="VR", view_type="modal")
        st.views["VR"] = {"type": "modal"}
        eid = st.send(e, old)
        check(st.wait_ack(eid, T(10)) is not None, "an envelope on the refreshing link is acknowledged")
        check(st.wait_links(n + 1, T(15)) is not None, "a new link opens after refresh_requested")
        check(wait_until(lambda: proc_state(pid) == "T", 10), "the action on it was done")
        st.close_link(old)
        # the same envelope again on the new link (Slack's retry): not twice
        st.send(dict(e, retry_attempt=1, retry_reason="timeout"))
        time.sleep(0.5)
        check(audit_commands("slack:U1", "pause_process") == 1 + pauses,
              "delivered again: acted on once",
              audit_commands("slack:U1", "pause_process"))
        # a drop mid-action: the answer still comes, once
        n = len(st.links)
        m = st.mark()
        e = st.env_action("U1", "resume", "u1box|%d" % pid, view_id="VR", view_type="modal")
        st.send(e)
        st.drop()
        check(st.wait_links(n + 1, T(20)) is not None, "after a dropped link, a new one")
        check(wait_until(lambda: proc_state(pid) in ("S", "R"), 10), "the action sent before the drop was done")
        check(st.wait_ack(e["envelope_id"], T(10)) is not None, "and acknowledged, on one link or the other")
        time.sleep(0.5)
        check(audit_commands("slack:U1", "resume_process") == 1 + resumes,
              "once", audit_commands("slack:U1", "resume_process"))
        check(len(st.calls_of("views.update", m)) == 1, "one modal update for it")
        # warning and link_disabled: reconnect too
        for reason in ("warning", "link_disabled"):
            n = len(st.links)
            old = st.disconnect(reason)
            check(st.wait_links(n + 1, T(20)) is not None, "disconnect %s: a new link" % reason)
            st.close_link(old)
        # garbage on the link: logged, the link stays
        n = len(st.links)
        st._do(st.live()[-1].ws.send("{not json"))
        st._do(st.live()[-1].ws.send(json.dumps({"type": "events_api"})))
        m = st.mark()
        send_acked(st.env_home_opened("U1"), "after garbage, the link still works")
        check(len(st.links) == n and home_of("U1", m) is not None, "garbage did not cost the link")
    finally:
        sl.kill()
        sl.wait()


class TLSListener:
    """A TLS server with a self-signed certificate (openssl): what nestd
    must refuse, whether it is Slack's API or its Socket Mode link."""

    def __init__(self):
        import socket
        import ssl
        import threading
        d = path("tls")
        os.makedirs(d, exist_ok=True)
        self.key, self.cert = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert], check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(8)
        self.port = self.s.getsockname()[1]
        self.tries = 0

        def serve():
            while True:
                try:
                    c, _ = self.s.accept()
                except OSError:
                    return
                self.tries += 1
                try:
                    c.settimeout(5)
                    ctx.wrap_socket(c, server_side=True).close()
                except (OSError, ssl.SSLError):
                    c.close()
        threading.Thread(target=serve, daemon=True).start()

    def close(self):
        self.s.close()


def test_tls_verified():
    tl = TLSListener()
    try:
        # Slack's API behind a certificate nobody trusts: refused.
        s2 = Proc(["server", "--listen", "127.0.0.1:%d" % free_port(), "--state-dir", path("state2"),
                   "--slack-app-token-file", env["app"], "--slack-bot-token-file", env["bot"],
                   "--slack-api-url", "https://127.0.0.1:%d/api/" % tl.port], "server-tls")
        check(s2.wait_log(r"slack: auth.test: TLS: ", 15), "https:// to Slack's API is verified: "
              "a self-signed certificate is refused", s2.text()[-600:])
        check(s2.wait_log(r"apps.connections.open: TLS: ", 15), "and no link is asked for")
        s2.stop()
        # A link handed out as wss:// is verified like any other dial.
        st.ws_url = "wss://127.0.0.1:%d/link/" % tl.port
        n = tl.tries
        mark = srv.mark()
        st.disconnect("refresh_requested")
        check(wait_until(lambda: tl.tries > n, 15), "a wss:// link is dialled as returned")
        check(srv.wait_log(r"slack: link lost: TLS: ", 15, since=mark),
              "and its self-signed certificate refused", srv.text()[mark:][-600:])
        st.ws_url = None
        k = len(st.links)
        check(st.wait_links(k + 1, T(40)) is not None, "then a good link again, after the backoff")
    finally:
        st.ws_url = None
        tl.close()


def test_names_resolved():
    """Names (not IP literals) are resolved by a child, the loop never
    waiting: the API and the link by name, and a name that does not exist."""
    st.ws_url = "ws://localhost:%d/link/" % st.ws_port
    n = len(st.links)
    try:
        s3 = Proc(["server", "--listen", "127.0.0.1:%d" % free_port(), "--state-dir", path("state3"),
                   "--slack-app-token-file", env["app"], "--slack-bot-token-file", env["bot"],
                   "--slack-api-url", "http://localhost:%d/api/" % st.api_port], "server-names")
        check(s3.wait_log(r"Socket Mode link up", 15), "the API and the link reached by name",
              s3.text()[-500:])
        check(st.wait_links(n + 1, T(10)) is not None, "the stand-in saw the link")
        m = st.mark()
        send_acked(st.env_home_opened("U7"), "an envelope over the link dialled by name")
        check(home_of("U7", m) is not None, "and its answer through the API dialled by name")
        s3.stop()
    finally:
        st.ws_url = None
    s4 = Proc(["server", "--listen", "127.0.0.1:%d" % free_port(), "--state-dir", path("state4"),
               "--slack-app-token-file", env["app"], "--slack-bot-token-file", env["bot"],
               "--slack-api-url", "http://no-such-host.invalid/api/"], "server-nxdomain")
    check(s4.wait_log(r"auth.test: cannot resolve no-such-host.invalid", 30),
          "a name that does not resolve: said, and the server goes on", s4.text()[-500:])
    check(s4.wait_log(r"connecting again in", 30) and s4.alive(), "it tries again later")
    s4.stop()


def test_no_secrets():
    srv.signal(signal.SIGTERM)
    check(srv.wait(T(10)) == 0, "SIGTERM: the server with Slack stops cleanly")
    logs = srv.text() + open(env["audit"]).read()
    for name in ("app", "bot"):
        tok = S.APP_TOKEN if name == "app" else S.BOT_TOKEN
        check(tok not in logs, "the %s token is in no log" % name)
    check(env["u1"] not in logs and env["u2"] not in logs, "no agent token in the logs")
    check(not st.problems, "every view stayed inside Block Kit's limits", st.problems[:5])
    env["origp"].terminate()
    env["origp"].wait(5)


def teardown():
    if env.get("origp") and env["origp"].poll() is None:
        env["origp"].kill()
    if st:
        st.close()


def run_all():
    try:
        main([setup, test_manifest, test_options, test_link, test_home, test_processes,
              test_process_actions, test_services, test_usage_port, test_settings, test_tokens,
              test_forged, test_home_states, test_errors_in_words, test_shared_machine,
              test_admin, test_nest, test_hostile_name, test_web_api_errors,
              (test_link_resilience, 180), (test_tls_verified, 120), test_names_resolved,
              test_no_secrets])
    finally:
        teardown()


if __name__ == "__main__":
    run_all()
