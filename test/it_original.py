#!/usr/bin/python3
"""it_original.py - nestd as a drop-in for either half of the original Nest
Management Bot (issue 10), against models of the original written here
from what it does (test/orig_server.py, test/orig_client.py; the facts are
in docs/ORIGINAL.md, whose last section lists what each check needs).

  A. `nestd agent` (the real binary) under the model of the original SERVER:
     every Slack view of the original receives what it indexes into;
     a slow service job does not cost the connection; 20,000 processes fit
     the original's 1 MiB message limit; --protocol-version 1.0.0;
     ~/.env.nest-management-bot alone is enough to start.
  B. the model of the original CLIENT under the real `nestd server`:
     commands it does not know are refused with a 4xx and never reach it;
     no `info` after "Authenticated :D"; `ctl kill` sends `method`; ctl
     shows its replies; the Unix socket admits another uid.
  Before both: the two models together, as the original ran (they must
  agree, or the models are wrong).

Run with /usr/bin/python3 (Debian's, with python3-websockets):
  NESTD=./nestd /usr/bin/python3 test/it_original.py [TEST...]
"""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nestlib  # noqa: E402
from nestlib import (AUTH_OK, NESTD, RawWS, T, check, free_port, main, path, run,  # noqa: E402
                     skip, token_new, wait_until)
import orig_server as O  # noqa: E402

STUBS = os.path.join(HERE, "stubs")
SYSTEMCTL = os.path.join(STUBS, "systemctl")
PY = "/usr/bin/python3"
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"           # no `nest` on it
NEST_PATH = STUBS + ":" + BASE_PATH                   # the `nest` stand-in first
NESTD_VERSION = run(["--version"])[1].split()[1]
FAST = ["--reconnect-min", "0.1", "--reconnect-max", "0.5"]
A = {}          # part A: the model server, tokens, agents, fixtures
B = {}          # part B: the nestd server, the model client


def write(p, text, mode=0o644):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
    os.chmod(p, mode)
    return p


def read(p):
    try:
        with open(p) as f:
            return f.read()
    except OSError:
        return ""


class Spawned(nestlib.Proc):
    """nestlib.Proc with a working directory and, as root, another uid (the
    same log file, and killed at the end like every Proc)."""

    def __init__(self, argv, name, env=None, cwd=None, uid=None):
        self.name = name
        self.log = path("%s.%d.log" % (name, len(nestlib._logs)))
        nestlib._logs.append(self.log)
        e = dict(os.environ)
        for k in ("NESTD_TOKEN", "CLIENT_TOKEN", "NESTD_TOKEN_FILE", "NESTD_SERVER", "DEV", "WS_URL"):
            e.pop(k, None)
        e.update(env or {})
        kw = {}
        if uid is not None:
            kw = dict(user=uid, group=uid, extra_groups=[])
        self.f = open(self.log, "wb")
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.f, stderr=subprocess.STDOUT,
                                  env=e, cwd=cwd, **kw)
        self.pid = self.p.pid
        nestlib._procs.append(self)


def nestd_agent(args, name, token=None, env=None, cwd=None, home=None, uid=None):
    """A real `nestd agent`; HOME is a test home (never the machine's, whose
    ~/.env.nest-management-bot would be read)."""
    e = {"HOME": home or A["home"], "PATH": BASE_PATH}
    if token:
        e["NESTD_TOKEN"] = token
    e.update(env or {})
    exe = NESTD if uid is None else nestlib.nestd_for_others()
    return Spawned([exe, "agent", "--log-level", "debug"] + FAST + list(args), name, e, cwd, uid)


def orig_client(token, sock, name, env=None, cwd=None, uid=None, script=None):
    """The model of the original client (test/orig_client.py)."""
    e = {"CLIENT_TOKEN": token, "PATH": NEST_PATH, "HOME": cwd or B["home"]}
    e.update(env or {})
    return Spawned([PY, script or os.path.join(HERE, "orig_client.py"), "--socket", sock,
                    "--systemctl", SYSTEMCTL], name, e, cwd or B["home"], uid)


def events(proc):
    out = []
    for line in proc.text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def exit_why(proc):
    gone = [e["why"] for e in events(proc) if e["ev"] == "exit"]
    return gone[-1] if gone else ""


def view(name, fn, *args):
    """One of the original's actions (a command, then its view): checked to
    build; the view, or None."""
    try:
        v = fn(*args)
    except Exception as e:
        check(False, name, "%s: %s" % (type(e).__name__, e))
        return None
    check(True, name)
    return v


def ask(srv, tok, message, payload=None):
    """send_command as the original; None on a deadline miss or a broken
    connection (the reason in the next check's detail)."""
    try:
        return srv.send_command(tok, message, payload)
    except Exception as e:
        A["last_error"] = "%s: %s" % (type(e).__name__, e)
        return None


def err_text(r):
    """(message, payload.error) of an error reply."""
    p = r.get("payload") if isinstance(r, dict) else None
    return (r.get("message") if isinstance(r, dict) else None,
            p.get("error") if isinstance(p, dict) else None)


def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2]
    except OSError:
        return None


def fast_tmp(prefix):
    """A new folder (0755) on tmpfs when there is one: tens of thousands of
    small files take a minute on a busy disk and a second in memory."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else "/tmp"
    d = tempfile.mkdtemp(prefix=prefix, dir=base)
    os.chmod(d, 0o755)
    return d


def sleeper(seconds=300):
    p = subprocess.Popen(["sleep", str(seconds)])
    A.setdefault("sleepers", []).append(p)
    return p


def reaped(p, timeout=5):
    try:
        return p.wait(T(timeout))
    except subprocess.TimeoutExpired:
        return None


# ====================================================================== A

def setup_a():
    A["home"] = home = path("home-a")
    os.makedirs(os.path.join(home, ".config/systemd/user"))
    A["work"] = work = path("work-a")
    write(os.path.join(work, "alpha/one.bin"), "x" * 1000)
    write(os.path.join(work, "beta/two.bin"), "y" * 2000)
    A["web"] = sleeper()
    A["units"] = write(path("units-a"), "web.service active running %d The web app\n"
                       "bot.service inactive dead 0 The chat bot\n"
                       "cron.service failed failed 0 A cron job\n" % A["web"].pid)
    A["stub_log"] = path("stub-a.log")
    A["toks"] = {k: O.new_token() for k in ("main", "nest", "old", "env", "envfile", "envsock",
                                             "slow", "p20k", "tree", "modelc")}
    A["sock"] = path("orig-bot.sock")
    A["port"] = free_port()
    A["srv"] = O.OrigServer(A["toks"].values(), unix=A["sock"], port=A["port"])
    A["main"] = nestd_agent(["--server", "unix:" + A["sock"], "--protocol-version", "1.0.0",
                             "--services", "systemd-user", "--systemctl", SYSTEMCTL], "agent-main",
                            A["toks"]["main"], cwd=work,
                            env={"NESTD_STUB_UNITS": A["units"], "NESTD_STUB_LOG": A["stub_log"]})
    A["conn"] = A["srv"].wait_client(A["toks"]["main"], 10)
    if not A["conn"]:
        print("# agent-main did not register with the model server:\n" + A["main"].text()[-1500:], flush=True)


def main_tok():
    """The main agent's token, once it is (again) registered."""
    tok = A["toks"]["main"]
    A["srv"].wait_client(tok, 5)
    return tok


def test_models_agree():
    """The original's halves together (the model client under the model
    server): every view builds.  If this fails, the models are wrong."""
    srv, tok = A["srv"], A["toks"]["modelc"]
    home = path("home-modelc")
    os.makedirs(os.path.join(home, ".config/systemd/user"))
    c = Spawned([PY, os.path.join(HERE, "orig_client.py"), "--socket", A["sock"], "--systemctl", SYSTEMCTL],
                "model-client-a", {"CLIENT_TOKEN": tok, "PATH": NEST_PATH, "HOME": home,
                                   "NESTD_STUB_UNITS": A["units"]}, cwd=A["work"])
    try:
        check(srv.wait_client(tok, 10), "model client authenticates to the model server", c.text()[-500:])
        hello = srv.clients[tok].hello if tok in srv.clients else {}
        check(hello == {"status": "let_me_in_pls", "payload": {"version": "1.0.0", "client_token": tok}},
              "its hello: no message, version 1.0.0", hello)
        v = view("models: usage page", srv.menu_user_usages, tok)
        v = view("models: process list", srv.menu_process_usage, tok)
        v = view("models: process modal of itself", srv.manage_process, tok, "%d-e" % c.pid)
        v = view("models: services list", srv.menu_systemd_services, tok)
        if v:
            check(sorted(b["value"] for b in O.buttons(v) if b["action_id"] == "manage-service") ==
                  ["bot.service-e", "cron.service-e", "web.service-e"], "models: the three user units listed")
        v = view("models: service modal (inactive)", srv.manage_service, tok, "bot.service-e")
        if v:
            check(O.button(v, "manage-process")["value"] == "0-update", "models: inactive unit's pid is 0")
            view("models: start through the modal", srv.service_action, tok,
                 O.button(v, "manage-service-action-1")["value"])
        view("models: get a port", srv.menu_get_port, tok)
        s = sleeper()
        v = view("models: process modal of a sleep", srv.manage_process, tok, "%d-e" % s.pid)
        if v:
            view("models: pause", srv.pause, tok, O.button(v, "pause-process")["value"])
            view("models: resume", srv.resume, tok, "%d" % s.pid)     # SIGTERM waits while stopped
            view("models: kill", srv.kill, tok, O.button(v, "kill-process-1")["value"])
            check(reaped(s) == -signal.SIGTERM, "models: the sleep got SIGTERM", s.returncode)
        srv.raw_send(tok, json.dumps({"status": "command", "message": "obtain_system_info"}))
        check(c.wait(10) == 1 and exit_why(c).startswith("Server sent illegal command of type 'obtain_system_info'"),
              "model client exits on a command it does not know", c.text()[-300:])
        c2 = Spawned([PY, os.path.join(HERE, "orig_client.py"), "--socket", A["sock"]], "model-client-a2",
                     {"CLIENT_TOKEN": tok, "HOME": home}, cwd=home)
        if srv.wait_client(tok, 10):
            srv.raw_send(tok, json.dumps({"status": "info", "message": "nestd"}))
        check(c2.wait(10) == 1 and exit_why(c2) == 'Server sent illegal message of "info" type with data nestd',
              "model client exits on an info message after authentication", c2.text()[-300:])
    finally:
        c.stop()


def test_version_and_hello():
    srv = A["srv"]
    c = A["conn"]
    check(c is not None, "nestd agent --protocol-version 1.0.0 is admitted by the original server "
          "(strict equality with 1.0.0)", A["main"].text()[-800:])
    if c:
        p = c.hello.get("payload", {})
        check(p.get("version") == "1.0.0", "hello payload.version is 1.0.0", p.get("version"))
        check(isinstance(p.get("commands"), list), "hello still announces nestd (its commands list)", p)
        check(c.sent[:1] == [json.dumps({"status": "info", "message": "Authenticated :D"})],
              "the model sent exactly Authenticated :D")
    check(srv.dashboard(A["toks"]["main"])["blocks"][0]["text"]["text"] == "Welcome Back!",
          "dashboard (App Home) shows the connected agent")
    old = nestd_agent(["--server", "unix:" + A["sock"]], "agent-old-version", A["toks"]["old"],
                      cwd=A["home"])
    try:
        ok = wait_until(lambda: any(x.hello and x.hello.get("payload", {}).get("client_token") == A["toks"]["old"]
                                    and x.done.is_set() for x in srv.conns), 10)
        mine = [x for x in srv.conns if x.hello and x.hello.get("payload", {}).get("client_token") == A["toks"]["old"]]
        check(ok and mine[0].refused == O.ERR_VERSION and mine[0].hello["payload"]["version"] == NESTD_VERSION,
              "without --protocol-version: nestd's own version, refused with the original's text",
              mine[0].refused if mine else None)
        check(old.alive(), "refused agent keeps running (it retries later)")
    finally:
        old.stop()
    # Development mode: the original's TCP listener (localhost:8989 there).
    tcp = nestd_agent(["--server", "ws://127.0.0.1:%d/" % A["port"], "--protocol-version", "1.0.0"],
                      "agent-tcp", A["toks"]["envsock"], cwd=A["home"])
    try:
        check(srv.wait_client(A["toks"]["envsock"], 10), "admitted over TCP too")
    finally:
        tcp.stop()


def test_no_unsolicited_messages():
    """The original reads a reply only inside send_command: anything the
    agent sends unasked would be taken as the next command's reply."""
    tok = main_tok()
    time.sleep(1.0)
    r = ask(A["srv"], tok, "obtain_all_process_info")
    check(r is not None and r.get("status") == "command_response" and isinstance(r.get("payload"), list),
          "the first reply after a quiet second is the reply to the command", r if r is None else r.get("status"))


def test_usage_page():
    srv, tok = A["srv"], main_tok()
    r = ask(srv, tok, "obtain_user_usages")
    check(r is not None, "obtain_user_usages answered within the original's deadline", A.get("last_error"))
    v = view("usage page (My Usage Menu) builds from the reply", O.user_usages_page, r) if r else None
    if not v:
        return
    p = r["payload"]
    check(isinstance(p.get("resources"), str) and p["resources"].strip(),
          "resources: text (nestd's own summary without `nest`)", p.get("resources"))
    rows = p.get("storage") or []
    paths = [row[1] for row in rows if isinstance(row, list) and len(row) == 2]
    work = A["work"]
    check(rows and rows[-1][1] == "total", "storage: last row is the total (du -c)", rows[-1:])
    check(os.path.join(work, "alpha") in paths and os.path.join(work, "beta") in paths and work in paths,
          "storage: one row per folder of the working directory, and the directory itself", paths)
    size = {row[1]: int(row[0]) for row in rows if len(row) == 2}
    check(size.get(os.path.join(work, "alpha"), 0) >= 1000 and size.get(os.path.join(work, "beta"), 0) >= 2000
          and size.get("total", 0) >= 3000, "storage: apparent sizes in bytes (du -b)", size)
    # With Nest's own tool on PATH: its text, unchanged.
    log = path("nest-stub.log")
    n = nestd_agent(["--server", "unix:" + A["sock"], "--protocol-version", "1.0.0"], "agent-nest",
                    A["toks"]["nest"], cwd=work, env={"PATH": NEST_PATH, "NESTD_STUB_LOG": log})
    try:
        if not check(srv.wait_client(A["toks"]["nest"], 10), "agent with `nest` on PATH admitted"):
            return
        r = ask(srv, A["toks"]["nest"], "obtain_user_usages")
        want = subprocess.run([os.path.join(STUBS, "nest"), "resources"], capture_output=True, text=True).stdout
        check(r is not None and r.get("payload", {}).get("resources") == want,
              "resources is `nest resources`' output when the tool exists", r and r.get("payload"))
        check("nest resources" in read(log), "`nest resources` was run", read(log))
        v = view("get a port (with `nest get_port`)", srv.menu_get_port, A["toks"]["nest"])
        if v:
            check(O.texts(v)[1].strip("`").strip() == "Port 4242 is free to use!",
                  "the port modal shows `nest get_port`'s text", O.texts(v)[1])
    finally:
        n.stop()


def test_get_port():
    srv, tok = A["srv"], main_tok()
    r = ask(srv, tok, "get_port")
    v = view("get a port builds (no `nest` on PATH)", O.get_port_modal, r) if r else None
    check(r is not None, "get_port answered", A.get("last_error"))
    if not v:
        return
    m = re.fullmatch(r"Port (\d+) is free to use!\n?", r["payload"])
    check(m, "payload is the text 'Port N is free to use!'", r["payload"])
    if m:
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", int(m.group(1))))
            check(True, "that port is free: bound it on 127.0.0.1")
        except OSError as e:
            check(False, "that port is free: bound it on 127.0.0.1", e)
        finally:
            s.close()


def find_process_page(srv, tok, pid):
    """Walks the process list with its own Next buttons until pid's row:
    (view, button value) or (last view, None)."""
    v = srv.menu_process_usage(tok, 0)
    for _ in range(1000):
        for b in O.buttons(v):
            if b["action_id"] == "manage-process" and b["value"] == "%d-e" % pid:
                return v, b["value"]
        try:
            nxt = O.button(v, "processes-change-page-next")
        except KeyError:
            return v, None
        v = srv.change_page(tok, nxt["value"])
    return v, None


def test_process_list_paging():
    srv, tok = A["srv"], main_tok()
    r = ask(srv, tok, "obtain_all_process_info")
    check(r is not None, "obtain_all_process_info answered", A.get("last_error"))
    if not r:
        return
    p = r.get("payload")
    bad = [x for x in p if not isinstance(x, dict) or set(x) != {"pid", "name"}][:3] if isinstance(p, list) else p
    check(isinstance(p, list) and not bad, "original shape: a list of exactly {pid, name}", bad)
    v = view("process list page 1 builds", O.processes_list_page, r, 0)
    if v:
        pages = int(re.search(r"/(\d+)\)", O.texts(v)[0]).group(1))
        check(len([b for b in O.buttons(v) if b["action_id"] == "manage-process"]) == min(15, len(p)),
              "15 rows a page")
        if pages > 1:
            v2 = view("page 2 through the Next button", srv.change_page, tok,
                      O.button(v, "processes-change-page-next")["value"])
            if v2:
                check(O.button(v2, "processes-change-page-prev")["value"] == "0", "page 2 has Previous")
            view("last page builds", O.processes_list_page, r, pages - 1)
    s = sleeper()
    v, value = find_process_page(srv, tok, s.pid)
    check(value is not None, "a sleep the test started is in the list (found by paging)", s.pid)


def test_process_modal_and_actions():
    srv, tok = A["srv"], main_tok()
    s = sleeper()
    wait_until(lambda: proc_state(s.pid) == "S", 5)
    v = view("process modal (Manage Process from the list's PID-e)", srv.manage_process, tok, "%d-e" % s.pid)
    if not v:
        return
    check(O.texts(v)[0] == "*Basic Info:* `sleep` - PID: %d" % s.pid, "modal shows name and pid", O.texts(v)[0])
    check("*Status:* sleeping" in O.texts(v)[4], "status in psutil's words", O.texts(v)[4])
    m = view("Pause", srv.pause, tok, O.button(v, "pause-process")["value"])
    check(m and m["title"]["text"] == "Success :yay:", "pause: the success modal")
    check(wait_until(lambda: proc_state(s.pid) == "T", 5), "the sleep is stopped", proc_state(s.pid))
    v = view("process modal of the paused process", srv.manage_process, tok, "%d-e" % s.pid)
    if v:
        check(any(b["action_id"] == "resume-process" for b in O.buttons(v)),
              "status 'stopped' offers Resume", O.texts(v)[4])
        m = view("Resume", srv.resume, tok, O.button(v, "resume-process")["value"])
        check(m and m["title"]["text"] == "Success :yay:", "resume: the success modal")
        check(wait_until(lambda: proc_state(s.pid) in ("S", "R"), 5), "the sleep runs again", proc_state(s.pid))
        m = view("Kill (SIGTERM)", srv.kill, tok, O.button(v, "kill-process-1")["value"])
        check(m and m["title"]["text"] == "Success :yay:", "kill: the success modal")
        check(reaped(s) == -signal.SIGTERM, "the sleep died of SIGTERM", s.returncode)
    s2 = sleeper()
    v = view("process modal of a second sleep", srv.manage_process, tok, "%d-e" % s2.pid)
    if v:
        view("Brutal Death (SIGKILL)", srv.kill, tok, O.button(v, "kill-process-2")["value"])
        check(reaped(s2) == -signal.SIGKILL, "the second sleep died of SIGKILL", s2.returncode)
    # Error modals: the process is gone.
    gone = s.pid
    for name, fn, value in (("kill", srv.kill, "%d-e-kill-SIGTERM" % gone), ("pause", srv.pause, "%d" % gone),
                            ("resume", srv.resume, "%d" % gone)):
        m = view("%s of a gone process: the error modal builds" % name, fn, tok, value)
        if m:
            check(m["title"]["text"] == "Error Experienced :(", "%s: it is the error modal" % name, m["title"])
        cmd = {"kill": "kill_process", "pause": "pause_process", "resume": "resume_process"}[name]
        r = ask(srv, tok, cmd, {"pid": gone, "method": "SIGTERM"} if name == "kill" else {"pid": gone})
        msg, err = err_text(r)
        check(r and r.get("status") == "command_response_error" and isinstance(msg, str) and msg and
              isinstance(err, str) and err, "%s error: text in message AND payload.error" % name, r)
    r = ask(srv, tok, "obtain_process_info", {"pid": gone})
    check(r is not None and r.get("status") == "command_response_error",
          "obtain_process_info of a gone process: an error reply in time", r)
    check(srv.connected(tok), "still connected after every error")


def test_services():
    srv, tok = A["srv"], main_tok()
    r = ask(srv, tok, "list_services")
    check(r is not None, "list_services answered", A.get("last_error"))
    if not r:
        return
    check(isinstance(r.get("payload"), list) and all(isinstance(x, str) for x in r["payload"]),
          "original shape: bare unit names", r.get("payload"))
    v = view("services list builds (Slack takes each entry as text)", O.services_list_page, r, 0)
    if not v:
        return
    values = sorted(b["value"] for b in O.buttons(v) if b["action_id"] == "manage-service")
    check(values == ["bot.service-e", "cron.service-e", "web.service-e"], "the three user units", values)
    web = A["web"].pid
    m = view("service modal of an active unit", srv.manage_service, tok, "web.service-e")
    if m:
        check(O.button(m, "manage-process")["value"] == "%d-update" % web, "Main PID is the unit's process")
        check(not any("Unable to calculate" in t for t in O.texts(m)), "active unit: an uptime")
        view("Manage Process from the service modal (int(pid))", srv.manage_process, tok,
             O.button(m, "manage-process")["value"])
        for aid, verb in (("manage-service-action-1", "stop"), ("manage-service-action-2", "restart"),
                          ("manage-service-action-3", "reload")):
            n0 = len(read(A["stub_log"]).splitlines())
            ok = view("%s through the modal" % verb, srv.service_action, tok, O.button(m, aid)["value"])
            check(ok and ok["title"]["text"] == "Service Action", "%s: the success modal" % verb)
            calls = read(A["stub_log"]).splitlines()[n0:]
            check(any(" %s " % verb in c and c.endswith(" web.service") and "--no-block" in c for c in calls),
                  "%s: systemctl --user --no-block %s (queued, as the original's D-Bus call)" % (verb, verb),
                  calls)
    m = view("service modal of an inactive unit", srv.manage_service, tok, "bot.service-e")
    if m:
        check("*Up Since:* Unable to calculate :(" in O.texts(m), "inactive: uptime 'Unable to calculate :('",
              O.texts(m))
        b = O.button(m, "manage-process")
        check(b["value"] == "0-update", "inactive: Main PID 0 (not None)", b["value"])
        try:
            pid = int(b["value"].split("-")[0])
            r = ask(srv, tok, "obtain_process_info", {"pid": pid})
            check(r is not None and srv.connected(tok),
                  "Manage Process of pid 0: an answer in time, connection kept", r)
        except ValueError as e:
            check(False, "Manage Process of an inactive unit: int(pid)", e)
        view("Start through the modal", srv.service_action, tok, O.button(m, "manage-service-action-1")["value"])
    m = view("service modal of a failed unit", srv.manage_service, tok, "cron.service-e")
    if m:
        check(O.button(m, "manage-service-action-1")["value"] == "cron.service-start", "failed: Start offered")
    m = view("start of a unit that does not exist: the error modal builds", srv.service_action, tok,
             "ghost.service-start")
    check(m and m["title"]["text"] == "Error Experienced :(", "it is the error modal", m and m["title"])
    check(srv.connected(tok), "still connected after the service views")


def test_slow_service_action():
    """systemctl waits for a job unless --no-block: here every job takes 3 s
    (the original server waits 1 s for any reply)."""
    srv, tok = A["srv"], A["toks"]["slow"]
    log = path("stub-slow.log")
    a = nestd_agent(["--server", "unix:" + A["sock"], "--protocol-version", "1.0.0", "--services",
                     "systemd-user", "--systemctl", SYSTEMCTL], "agent-slow", tok, cwd=A["home"],
                    env={"NESTD_STUB_UNITS": A["units"], "NESTD_STUB_LOG": log,
                         "NESTD_STUB_BLOCK": "%g" % (3 * nestlib.SLOW)})
    try:
        c = srv.wait_client(tok, 10)
        if not check(c, "slow agent admitted"):
            return
        for verb in ("start", "restart"):
            r = ask(srv, tok, verb + "_service", {"service_name": "web.service"})
            check(r is not None and r.get("status") == "command_response",
                  "%s of a slow unit answered within the original's second" % verb,
                  c.refused or A.get("last_error") or r)
        check(srv.connected(tok) and c.refused is None, "connection kept (no 'Wheres my response?')", c.refused)
        r = ask(srv, tok, "obtain_service_info", {"service_name": "web.service"})
        check(r is not None and r.get("status") == "command_response", "and the next command is answered", r)
    finally:
        a.stop()


def make_proc_fixture(root, n):
    """A /proc-like tree of n processes: root/stat (btime), root/PID/{stat,
    cmdline,status}, 7-digit pids, psutil-length names, long command lines
    (which the original's list does not carry)."""
    os.makedirs(root)
    write(os.path.join(root, "stat"), "cpu  1 0 1 1 0 0 0 0 0 0\nbtime 1700000000\n")
    write(os.path.join(root, "uptime"), "1000.00 1000.00\n")
    names = ["python3", "node", "bash", "sleep", "gunicorn", "postgres", "java", "ruby", "tmux: server",
             "systemd", "sshd", "php-fpm", "caddy", "redis-server", "worker_abcdefg"]
    pids = []
    for i in range(n):
        pid = 4100000 + i
        pids.append(pid)
        comm = names[i % len(names)]
        d = os.path.join(root, str(pid))
        os.mkdir(d)
        rest = ["S", "1", str(pid), str(pid), "0", "-1", "4194560", "100", "0", "0", "0", "12", "3", "0", "0",
                "20", "0", "1", "0", str(5000 + i), "10485760", "256", "18446744073709551615"] + ["0"] * 27
        with open(os.path.join(d, "stat"), "w") as f:
            f.write("%d (%s) %s\n" % (pid, comm, " ".join(rest)))
        with open(os.path.join(d, "cmdline"), "wb") as f:
            f.write(("/usr/bin/%s\0--config\0/home/someone/projects/app-%06d/settings.yaml\0--verbose\0"
                     % (comm.split(":")[0], i)).encode() + b"x" * 120 + b"\0")
        with open(os.path.join(d, "status"), "w") as f:
            f.write("Name:\t%s\nState:\tS (sleeping)\nUid:\t0\t0\t0\t0\nVmSwap:\t0 kB\nThreads:\t1\n" % comm)
    return pids


def test_20000_processes():
    srv, tok = A["srv"], A["toks"]["p20k"]
    top = fast_tmp("nestd-proc20k.")
    root = os.path.join(top, "proc")
    pids = make_proc_fixture(root, 20000)
    a = nestd_agent(["--server", "unix:" + A["sock"], "--protocol-version", "1.0.0", "--proc-root", root],
                    "agent-20k", tok, cwd=A["home"])
    try:
        c = srv.wait_client(tok, 10)
        if not check(c, "agent with --proc-root (a /proc-like fixture) admitted",
                     "exit %s: %s" % (a.p.poll(), a.text()[-400:])):
            return
        r = ask(srv, tok, "obtain_all_process_info")
        size = c.replies[-1][1] if c.replies else None
        check(r is not None, "20,000 processes: the reply arrives and the connection stays (limit %d B)" % O.ONE_MIB,
              "closed %s: %s" % (c.close_code, A.get("last_error")))
        if r is None:
            return
        check(size is not None and size < O.ONE_MIB, "the reply is under 1 MiB (%s bytes)" % size)
        p = r.get("payload") or []
        check(sorted(x.get("pid") for x in p) == pids, "exactly the fixture's 20,000 pids", len(p))
        view("process list page 1 of 1334 builds", O.processes_list_page, r, 0)
        view("process list page 1334 builds", O.processes_list_page, r, 1333)
    finally:
        a.stop()
        shutil.rmtree(top, ignore_errors=True)


def make_tree(top):
    """10 folders x 10 folders x 100 files of 10 bytes (10,000 files), a
    symlink loop, a symlink out of the tree (to /), an unreadable folder."""
    for i in range(10):
        for j in range(10):
            d = os.path.join(top, "d%d" % i, "e%d" % j)
            os.makedirs(d)
            for k in range(100):
                with open(os.path.join(d, "f%d" % k), "w") as f:
                    f.write("0123456789")
    os.symlink("..", os.path.join(top, "d0", "loop"))
    os.symlink("/", os.path.join(top, "root-link"))
    locked = os.path.join(top, "locked")
    os.makedirs(os.path.join(locked, "inner"))
    write(os.path.join(locked, "inner", "secret"), "s" * 5000)
    return locked


def test_usages_tree():
    srv, tok = A["srv"], A["toks"]["tree"]
    top = fast_tmp("nestd-tree.")             # 0755: reachable by another uid
    locked = make_tree(top)
    cg = top + ".cgroup"                      # a cgroup v2 stand-in
    os.makedirs(cg)
    for k, v in (("memory.current", "524288000"), ("memory.max", "2147483648"), ("pids.current", "7")):
        write(os.path.join(cg, k), v + "\n")
    uid = None
    if nestlib.can_run_as_others():
        uid = 65534
        for dp, dn, fn in os.walk(top):
            for x in dn + fn:
                os.lchown(os.path.join(dp, x), uid, uid)
        os.chown(top, uid, uid)
        os.chown(locked, 0, 0)
        os.chmod(locked, 0o700)               # nobody cannot read it
    else:
        skip("usages: an unreadable folder", "no other uid can run here (not root, or / not searchable)")
    a = nestd_agent(["--server", "ws://127.0.0.1:%d/" % A["port"], "--protocol-version", "1.0.0",
                     "--cgroup", cg], "agent-tree", tok, cwd=top, home=top, uid=uid)
    try:
        if not check(srv.wait_client(tok, 10), "agent in a 10,000-file tree admitted (with --cgroup)",
                     "exit %s: %s" % (a.p.poll(), a.text()[-400:])):
            return
        r = ask(srv, tok, "obtain_user_usages")
        check(r is not None and r.get("status") == "command_response",
              "obtain_user_usages of the tree: answered within the original's deadline, not an error",
              A.get("last_error") or r)
        if not r:
            return
        v = view("usage page of the tree builds", O.user_usages_page, r)
        rows = {row[1]: int(row[0]) for row in r["payload"].get("storage", []) if len(row) == 2}
        check(all(rows.get(os.path.join(top, "d%d" % i), 0) >= 10000 for i in range(10)),
              "each top folder counted (>= its 100 x 100 bytes)", rows)
        total = rows.get("total", 0)
        check(100000 <= total < 100000 + (64 << 20),
              "total counts the files and not what the symlink to / points at", total)
        res = r["payload"].get("resources", "")
        check(re.search(r"\d", res) and ("GB" in res or "GiB" in res or "MB" in res or "MiB" in res),
              "resources (no `nest`): a summary with sizes, from the cgroup stand-in", res)
        check(srv.connected(tok), "still connected")
    finally:
        a.stop()
        shutil.rmtree(top, ignore_errors=True)
        shutil.rmtree(cg, ignore_errors=True)


def test_env_file_home():
    """An agent with nothing but the original's ~/.env.nest-management-bot."""
    srv = A["srv"]
    home = path("home-env")
    tok = A["toks"]["env"]
    write(os.path.join(home, ".env.nest-management-bot"),
          "# written by the original's setup\nCLIENT_TOKEN=\"%s\"\nDEV=true\nWS_URL=ws://127.0.0.1:%d\n"
          % (tok, A["port"]), 0o600)
    a = nestd_agent(["--protocol-version", "1.0.0"], "agent-envfile", cwd=home, home=home)
    try:
        if check(srv.wait_client(tok, 10), "no --server, no token: ~/.env.nest-management-bot's CLIENT_TOKEN "
                 "and (DEV=true) WS_URL", "exit %s: %s" % (a.p.poll(), a.text()[-400:])):
            check(tok not in a.text(), "the token is not logged")
    finally:
        a.stop()
    home2 = path("home-env-prod")
    write(os.path.join(home2, ".env.nest-management-bot"), "CLIENT_TOKEN=%s\n" % A["toks"]["envsock"], 0o600)
    if os.path.exists("/var/community/nest-management-bot.sock"):
        skip("env file without DEV", "this machine has /var/community/nest-management-bot.sock")
    else:
        a = nestd_agent(["--protocol-version", "1.0.0"], "agent-envprod", cwd=home2, home=home2)
        try:
            check(a.wait_log(r"/var/community/nest-management-bot\.sock", 10) and a.alive(),
                  "without DEV: it dials the original's socket /var/community/nest-management-bot.sock",
                  "exit %s: %s" % (a.p.poll(), a.text()[-400:]))
        finally:
            a.stop()
    env = write(path("orig.env"), "export DEV=false\nCLIENT_TOKEN='%s'  \n" % A["toks"]["envfile"], 0o600)
    a = nestd_agent(["--server", "unix:" + A["sock"], "--protocol-version", "1.0.0", "--token-file", env],
                    "agent-tokenfile-env", cwd=home, home=home)
    try:
        check(srv.wait_client(A["toks"]["envfile"], 10), "--token-file takes the original's .env form",
              "exit %s: %s" % (a.p.poll(), a.text()[-400:]))
    finally:
        a.stop()


def teardown_a():
    if A.get("down"):
        return
    A["down"] = True
    for s in A.get("sleepers", []):
        if s.poll() is None:
            s.kill()
            s.wait()
    if A.get("main"):
        A["main"].stop()
    if A.get("srv"):
        A["srv"].shutdown()


# ====================================================================== B

def ctl(*args, json_out=False):
    a = ["ctl", "--server", "http://127.0.0.1:%d" % B["srv"].port]
    if json_out:
        a.append("--json")
    return run(a + list(args), env={"NESTD_TOKEN": B["op"]})


def api(method, target, body=None):
    import http.client as hc
    c = hc.HTTPConnection("127.0.0.1", B["srv"].port, timeout=T(30))
    return nestlib.http_json(c, method, target, json.dumps(body) if body is not None else None, B["op"])


def setup_b():
    B["home"] = home = path("home-b")
    os.makedirs(os.path.join(home, ".config/systemd/user"))
    B["tokens"] = path("tokens-b")
    B["tok"] = {n: token_new(B["tokens"], n) for n in ("orig", "raw1", "raw2", "other", "nd", "nd2")}
    B["op"] = token_new(B["tokens"], "ops", "operator")
    B["srv"] = nestlib.Server(B["tokens"], ["--accept-versions", "1.0,0.1"], name="server-b")
    ensure_client()


def listed(name):
    st, j = api("GET", "/api/clients")
    return st == 200 and isinstance(j, list) and any(isinstance(x, dict) and x.get("name") == name for x in j)


def ensure_client():
    """Each test of part B starts with a connected model client: one an
    earlier test made exit is replaced (and test_zz_end counts that)."""
    c = B.get("client")
    # A busy machine (the ASan build, a loaded CI runner) can make one
    # answer late; a client that has exited or is exiting never answers
    # again, so three tries tell the two apart.
    if c and c.alive() and any(c.alive() and answering() for _ in range(3)):
        return
    if c:
        B["replaced"] = B.get("replaced", 0) + 1
        c.stop()
        wait_until(lambda: not listed("orig"), 5)
    B["client"] = orig_client(B["tok"]["orig"], B["srv"].unix, "model-client-b")
    if not B["client"].wait_log(r'"ev": "authenticated"', 10):
        print("# the model client did not authenticate:\n" + B["client"].text()[-1500:], flush=True)


def answering():
    """The model client answers a command it knows, through the server (a
    client that is only slow to exit does not)."""
    try:
        st, j = api("POST", "/api/clients/orig/commands", {"message": "obtain_all_process_info"})
    except OSError:
        return False
    return st == 200 and isinstance(j, dict) and j.get("status") == "command_response"


def client_fine(name):
    """The model client: still answers on the same connection, alive, on
    its first connection, never told to exit."""
    c = B["client"]
    if not answering():
        check(False, name, "it no longer answers")
        return
    ev = events(c)
    conns = [e for e in ev if e["ev"] == "connected"]
    gone = [e for e in ev if e["ev"] == "exit"]
    check(c.alive() and len(conns) == 1 and not gone, name, gone or "%d connections" % len(conns))


def test_b_no_info_after_auth():
    ensure_client()
    ev = events(B["client"])
    recv = [json.loads(e["msg"]) for e in ev if e["ev"] == "recv"]
    check(recv[:1] == [json.loads(AUTH_OK)], "the model client's first message is Authenticated :D", recv[:1])
    check(all(m.get("status") == "command" for m in recv[1:]), "and nothing after it but commands",
          [m for m in recv[1:] if m.get("status") != "command"][:2])
    # The original client's exact hello over a raw socket: then silence.
    w = RawWS(B["srv"].port).handshake()
    try:
        w.send_text(json.dumps({"status": "let_me_in_pls",
                                "payload": {"version": "1.0.0", "client_token": B["tok"]["raw1"]}}))
        check(w.recv_text() == AUTH_OK, "original hello: Authenticated :D")
        w.settimeout(1.5)
        try:
            extra = w.recv_text()
        except (socket.timeout, OSError):
            extra = None
        check(extra is None, "original hello: nothing unasked follows (1.5 s)", extra)
    finally:
        w.close()
    # A nestd agent's hello (its extra keys): one info naming the server.
    w = RawWS(B["srv"].port).handshake()
    try:
        w.send_text(json.dumps({"status": "let_me_in_pls", "message": "let me in! :D",
                                "payload": {"version": "1.0.0", "client_token": B["tok"]["raw2"],
                                            "hostname": "h", "services": "none",
                                            "commands": ["obtain_all_process_info"]}}))
        check(w.recv_text() == AUTH_OK, "nestd hello: Authenticated :D first")
        w.settimeout(5)
        try:
            info = json.loads(w.recv_text() or "null")
        except (socket.timeout, OSError, ValueError):
            info = None
        p = info.get("payload", {}) if isinstance(info, dict) else {}
        check(isinstance(info, dict) and info.get("status") == "info" and info.get("message") == "nestd"
              and p.get("server") == "nestd" and p.get("version") == NESTD_VERSION,
              'then {"status":"info","message":"nestd","payload":{"server":"nestd","version":V,...}}', info)
        f = p.get("features")
        check(isinstance(f, list) and all(isinstance(x, str) for x in f) and {"id", "shapes"} <= set(f),
              "payload.features lists at least id and shapes", f)
    finally:
        w.close()


def test_b_dashboard_refused():
    ensure_client()
    check(listed("orig"), "/api/clients lists the original client")
    for cmd, payload in (("obtain_system_info", None), ("exec_command", {"command": "true"})):
        body = {"message": cmd}
        if payload:
            body["payload"] = payload
        st, j = api("POST", "/api/clients/orig/commands", body)
        e = j.get("error", "") if isinstance(j, dict) else ""
        check(400 <= st < 500 and st not in (401, 404) and "orig" in e and cmd in e,
              "%s for the original client: a 4xx naming the agent and the command" % cmd, (st, j))
    got = [json.loads(e["msg"]).get("message") for e in events(B["client"]) if e["ev"] == "recv"]
    check("obtain_system_info" not in got and "exec_command" not in got, "neither reached the client", got)
    client_fine("the original client is still connected after the dashboard's poll, and answers")


def test_b_ctl_refused():
    ensure_client()
    rc, out, err = ctl("sysinfo", "orig")
    check(rc == 1 and "orig" in err and "obtain_system_info" in err and "not supported" in err,
          "ctl sysinfo: refused, 'not supported by this agent (original client)'", (rc, err))
    rc, out, err = ctl("exec", "orig", "--", "true")
    check(rc != 0 and "orig" in err and "exec_command" in err, "ctl exec: refused, naming both", (rc, err))
    client_fine("the original client is still connected after ctl sysinfo and exec")


def test_b_ctl_kill_method():
    ensure_client()
    def last_kill():
        k = [json.loads(e["msg"]) for e in events(B["client"]) if e["ev"] == "recv"]
        k = [m for m in k if m.get("message") == "kill_process"]
        return k[-1] if k else None
    s = sleeper()
    rc, out, err = ctl("kill", "orig", str(s.pid))
    m = last_kill()
    check(m and m.get("payload", {}).get("method") == "SIGTERM", "ctl kill without --signal sends method SIGTERM", m)
    check(rc == 0 and reaped(s) == -signal.SIGTERM, "and the original client terminated it", (rc, s.returncode, err))
    s = sleeper()
    rc, out, err = ctl("kill", "orig", str(s.pid), "--signal", "SIGKILL")
    m = last_kill()
    check(m and m.get("payload", {}).get("method") == "SIGKILL" and reaped(s) == -signal.SIGKILL,
          "--signal SIGKILL sends method SIGKILL", (m, s.returncode))
    rc, out, err = ctl("kill", "orig", str(s.pid))
    check(rc == 1 and "Could not kill process, it no longer exists" in err and "no reason given" not in err,
          "an error whose text is only in message: ctl prints it", (rc, err))


def test_b_ctl_shows_original_replies():
    ensure_client()
    rc, out, err = ctl("ps", "orig")
    me = [l for l in out.splitlines() if l.split()[:1] == [str(B["client"].pid)]]
    check(rc == 0 and me, "ctl ps lists the client's processes", (rc, err))
    if me:
        f = me[0].split()
        check(f[1] == "-" and "0B" not in f and "[" not in me[0],
              "absent fields show as '-' (no invented PPID 0, 0B RSS, [name])", me[0])
    rc, out, err = ctl("send", "orig", "get_port")
    check(rc == 0 and "Port 4242 is free to use!" in [l.strip() for l in out.splitlines()],
          "a text payload printed as text", (rc, out, err))
    rc, out, err = ctl("send", "orig", "obtain_user_usages")
    check(rc == 0 and "Disk usage: 1.25 GB used out of 15.0 GB limit\n" in out and
          "Memory usage: 0.31 GB used out of 2.0 GB limit" in [l.strip() for l in out.splitlines()],
          "resources' newlines printed as newlines", (rc, out, err))


def test_b_socket_mode():
    st = os.stat(B["srv"].unix)
    check(st.st_mode & 0o002 and st.st_uid == os.geteuid(),
          "default Unix socket: other local users may connect (mode %o), owner the server's" % (st.st_mode & 0o777))
    sock = path("mode.sock")
    s = nestlib.Proc(["server", "--listen", "unix:" + sock, "--tokens", B["tokens"], "--socket-mode", "0660"],
                     "server-mode")
    try:
        ok = s.wait_log(r"server ready", 10)
        check(ok and (os.stat(sock).st_mode & 0o777) == 0o660, "--socket-mode 0660", s.text()[-300:])
    finally:
        s.stop()
    rc, out, err = run(["server", "--listen", "unix:" + path("bad.sock"), "--tokens", B["tokens"],
                        "--socket-mode", "999"])
    check(rc == 2 and "socket-mode" in err and "unknown option" not in err, "--socket-mode 999: usage error",
          (rc, err))


def test_b_other_uid():
    if not nestlib.can_run_as_others():
        skip("another uid through the Unix socket", "no other uid can run here (not root, or / not searchable)")
        return
    d = tempfile.mkdtemp(prefix="nestd-sock.", dir="/tmp")
    os.chmod(d, 0o711)
    sock = os.path.join(d, "nest.sock")
    script = os.path.join(d, "orig_client.py")
    shutil.copy(os.path.join(HERE, "orig_client.py"), script)
    os.chmod(script, 0o644)
    srv = nestlib.Proc(["server", "--listen", "unix:" + sock, "--listen", "127.0.0.1:%d" % free_port(),
                        "--tokens", B["tokens"], "--accept-versions", "1.0,0.1"], "server-uid")
    try:
        if not check(srv.wait_log(r"server ready", 10), "server on a socket in a 0711 folder"):
            return
        c = orig_client(B["tok"]["other"], sock, "model-client-nobody", cwd=d, uid=65534, script=script,
                        env={"HOME": d})
        check(c.wait_log(r'"ev": "authenticated"', 10), "uid 65534 connects through the server's Unix socket "
              "with its own token", c.text()[-400:])
        c.stop()
    finally:
        srv.stop()
        shutil.rmtree(d, ignore_errors=True)


def test_b_nestd_agent_shapes():
    """A nestd agent learns its server is nestd (the info) and answers in
    nestd's shapes; --compat original keeps the original's."""
    units = write(path("units-b"), "web.service active running %d The web app\n" % os.getpid())
    # `nest get_port` printing control characters (ESC, a C1 CSI) and a tab
    env = {"NESTD_STUB_UNITS": units, "PATH": NEST_PATH, "NESTD_STUB_PORT": "4242\x1b[2J\tz\u009b"}
    args = ["--server", B["srv"].url, "--protocol-version", "1.0.0", "--services", "systemd-user",
            "--systemctl", SYSTEMCTL]
    a = nestd_agent(args, "agent-nd", B["tok"]["nd"], env=env, cwd=B["home"], home=B["home"])
    o = nestd_agent(args + ["--compat", "original"], "agent-nd2", B["tok"]["nd2"], env=env, cwd=B["home"],
                    home=B["home"])
    try:
        ok = a.wait_log("authenticated to", 10) and o.wait_log("authenticated to", 10)
        check(ok, "two nestd agents up (--protocol-version 1.0.0)", a.text()[-300:] + o.text()[-300:])
        for name, want in (("nd", dict), ("nd2", str)):
            rc, out, err = ctl("send", name, "list_services", json_out=True)
            try:
                p = json.loads(out).get("payload")
            except ValueError:
                p = None
            check(rc == 0 and isinstance(p, list) and p and all(isinstance(x, want) for x in p),
                  "%s: list_services entries are %s" % ("auto under nestd" if name == "nd" else "--compat original",
                                                          "objects" if want is dict else "bare names"), (rc, out, err))
            # ctl shows text as text, its control characters made visible
            rc, out, err = ctl("send", name, "get_port")
            check(rc == 0 and "Port 4242\\x1b[2J\tz\\u009b is free to use!" in out and "\x1b" not in out
                  and "\u009b" not in out, "%s: ctl send get_port: text with ESC and C1 made visible, the tab kept"
                  % name, (rc, out, err))
    finally:
        a.stop()
        o.stop()


def test_zz_end():
    check(not B.get("replaced"), "no test of part B made the original client exit",
          "%d replaced" % B.get("replaced", 0))
    if B.get("client"):
        client_fine("the original client survived every test of part B")
        ev = events(B["client"])
        recv = [json.loads(e["msg"]).get("status") for e in ev if e["ev"] == "recv"]
        check(recv.count("info") == 1, "it received exactly one info: Authenticated :D", recv.count("info"))
        B["client"].stop()
    teardown_a()


def setup():
    atexit.register(teardown_a)
    setup_a()
    setup_b()


if __name__ == "__main__":
    main([(setup, 60), test_models_agree, test_version_and_hello, test_no_unsolicited_messages,
          test_usage_page, test_get_port, test_process_list_paging, test_process_modal_and_actions,
          test_services, (test_slow_service_action, 60), (test_20000_processes, 180),
          (test_usages_tree, 120), test_env_file_home,
          test_b_no_info_after_auth, test_b_dashboard_refused, test_b_ctl_refused, test_b_ctl_kill_method,
          test_b_ctl_shows_original_replies, test_b_socket_mode, test_b_other_uid,
          test_b_nestd_agent_shapes, test_zz_end])
