#!/usr/bin/python3
"""it_ctl.py - nestd ctl as a person meets it (issue 14 item 13): every
error in plain words with one exit status per kind (1 the command failed,
2 a usage error, named), --json printing the error object on failure, a
subcommand's own --help, and exec's words joined as ssh joins them unless
--argv quotes each.

Run with /usr/bin/python3 (Debian's, with python3-websockets)."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import Server, check, main, path, run, token_new  # noqa: E402

S = {}


def ctl(args, who="op", json_out=False, server=None):
    a = ["ctl", "--server", server or "http://127.0.0.1:%d" % S["srv"].port,
         "--token-file", path(who + ".token")] + (["--json"] if json_out else []) + list(args)
    return run(a)


def setup():
    tokens = path("tokens")
    for name, role in (("op", "operator"), ("web1", "agent"), ("reader", None)):
        if name == "reader":
            rc, out, err = run(["token", "new", "reader", "--role", "operator", "--scope", "can=read",
                                "--tokens", tokens])
            tok = out.strip()
        else:
            tok = token_new(tokens, name, role)
        with open(path(name + ".token"), "w") as f:
            f.write(tok + "\n")
        os.chmod(path(name + ".token"), 0o600)
    S["srv"] = Server(tokens)
    S["agent"] = nestlib.Proc(["agent", "--server", S["srv"].url, "--token-file", path("web1.token"),
                               "--services", "none"], "agent")
    check(S["srv"].wait_log(r"web1 connected", 15), "an agent connects")


def test_errors_in_words():
    rc, out, err = ctl(["ps", "nosuch"])
    check(rc == 1 and err == "nestd ctl: no agent named 'nosuch' is connected (nestd ctl clients lists them)\n"
          and out == "", "an unknown agent: in words, exit 1, no '404:'", (rc, out, err))
    rc, out, err = ctl(["ps", "nosuch"], json_out=True)
    check(rc == 1 and json.loads(out) == {"error": "agent 'nosuch' is not connected"} and "no agent named" in err,
          "--json: the error object on stdout, the words on stderr", (rc, out, err))
    rc, out, err = ctl(["clients"], who="web1")
    check(rc == 1 and "the server refused the token: agent tokens cannot be used as operators" in err,
          "a refused token: said so, exit 1", (rc, err))
    rc, out, err = ctl(["kill", "web1", str(S["agent"].pid)], who="reader")
    check(rc == 1 and err.startswith("nestd ctl: not allowed: kill_process is a control command"),
          "out of the scope: 'not allowed' and why, exit 1", (rc, err))
    rc, out, err = ctl(["clients"], json_out=True, server="http://127.0.0.1:1")
    check(rc == 1 and "cannot connect" in json.loads(out)["error"] and "cannot connect" in err,
          "no server: --json prints an error object too", (rc, out, err))


def test_system_errors_in_libc_words():
    """A failed system call reads as the C library says it: the static
    builds carry musl's messages themselves (errmsg.c), the text must not
    move.  These four read the same in glibc and musl."""
    rc, out, err = ctl(["clients"], server="http://127.0.0.1:1")
    check(rc == 1 and err == "nestd ctl: cannot connect to http://127.0.0.1:1: Connection refused\n",
          "a closed port: ECONNREFUSED's words", (rc, err))
    for f, why in (("nosuch/op.token", "No such file or directory"), ("op.token/x", "Not a directory")):
        rc, out, err = run(["ctl", "--server", "http://127.0.0.1:1", "--token-file", path(f), "clients"])
        check(rc == 2 and err == "nestd ctl: cannot read token file %s: %s\n" % (path(f), why),
              "a token file that cannot be read: %s" % why, (rc, err))
    rc, out, err = run(["agent", "--server", "ws://127.0.0.1:1/", "--config", path("nosuch.conf")])
    check(rc == 2 and "cannot read config %s: No such file or directory\n" % path("nosuch.conf") in err,
          "a missing config: ENOENT's words", (rc, err))


def test_usage_errors_exit_2():
    for args, words in ((["frob"], "unknown subcommand 'frob' (clients, ps,"),
                        (["proc", "web1", "abc"], "PID must be a positive integer, not 'abc'"),
                        (["proc", "web1", "0"], "PID must be a positive integer, not '0'"),
                        (["kill", "web1", "--", "-5"], "PID must be a positive integer, not '-5'"),
                        (["proc", "web1"], "usage: nestd ctl proc NAME PID"),
                        (["service", "web1", "frob", "x"], "service actions: start, stop"),
                        (["send", "web1", "x", "novalue"], "'novalue' is not key=value")):
        rc, out, err = ctl(args)
        check(rc == 2 and words in err, "usage error %s: exit 2, said" % " ".join(args), (rc, err))
    rc, out, err = ctl(["kill", "web1", "-5"])
    check(rc == 2 and "unknown option '-5'" in err, "a negative PID without --: an unknown option, exit 2", err)
    rc, out, err = run(["ctl", "frob"])
    check(rc == 2 and "unknown subcommand 'frob'" in err, "a usage error before any token is looked for", err)


def test_subcommand_help():
    rc, out, err = run(["ctl", "ps", "--help"])
    check(rc == 0 and out.startswith("usage: nestd ctl") and " ps NAME " in out.splitlines()[0]
          and "--sort" in out and "processes" in out, "nestd ctl ps --help: ps's help", (rc, out))
    rc, out, err = run(["ctl", "help", "exec"])
    check(rc == 0 and "as ssh joins them" in out and "--argv" in out, "nestd ctl help exec: says how words join", out)
    rc, out, err = run(["ctl", "--help"])
    check(rc == 0 and "--argv" in out and "--insecure" in out, "nestd ctl --help: every option", out)


def test_exec_words():
    rc, out, err = ctl(["exec", "web1", "--", "sh", "-c", "exit 4"])
    check(rc == 0, "exec joins words like ssh: sh -c exit 4 exits 0", (rc, err))
    rc, out, err = ctl(["exec", "web1", "--argv", "--", "sh", "-c", "exit 4"])
    check(rc == 4, "--argv keeps each word: exit 4", (rc, err))
    rc, out, err = ctl(["exec", "web1", "--argv", "--", "printf", "%s|", "a b", "it's"])
    check(rc == 0 and out == "a b|it's|", "--argv quotes spaces and quotes", (rc, out, err))


def test_one_url_syntax():
    """--listen takes the URL a client dials, ctl --server the address the
    server listens on: one spelling works in both places."""
    port = nestlib.free_port()
    srv = nestlib.Proc(["server", "--listen", "http://127.0.0.1:%d/" % port, "--tokens", path("tokens")],
                       "server-url")
    check(srv.wait_log(r"listening on 127\.0\.0\.1:%d" % port, 15), "--listen http://HOST:PORT/ listens there",
          srv.text()[-300:])
    for spelled in ("127.0.0.1:%d" % port, "http://127.0.0.1:%d" % port, "ws://127.0.0.1:%d/" % port):
        rc, out, err = ctl(["clients"], server=spelled)
        check(rc == 0, "ctl --server %s" % spelled, (rc, err))
    srv.stop()
    rc, out, err = run(["server", "--listen", "http://127.0.0.1:1/x", "--tokens", path("tokens")])
    check(rc == 2 and "bad address" in err, "--listen with a path: a usage error", (rc, err))


def on_pty(args, env=None):
    """ctl's stdout when it is a terminal (a pty of 100 columns): the text."""
    import pty
    import subprocess
    master, slave = pty.openpty()
    e = dict(os.environ, TERM="xterm", **(env or {}))
    e.pop("NO_COLOR", None) if not env or "NO_COLOR" not in env else None
    e.pop("COLUMNS", None)
    p = subprocess.Popen([nestlib.NESTD, "ctl", "--server", "http://127.0.0.1:%d" % S["srv"].port,
                          "--token-file", path("op.token")] + list(args), stdout=slave,
                         stderr=subprocess.PIPE, env=e)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(30)
    os.close(master)
    return out.decode("utf-8", "replace")


def test_for_people():
    import subprocess
    import time as _time
    sl = subprocess.Popen(["sleep", "1000"])
    try:
        _time.sleep(0.2)
        rc, out, err = ctl(["kill", "web1", str(sl.pid)])
        check(rc == 0 and out == "sent SIGTERM to %d\n" % sl.pid, "kill: a sentence", (rc, out, err))
    finally:
        sl.kill()
        sl.wait()
    rc, out, err = ctl(["ps", "web1", "--no-headers", "--user", "root"])
    lines = out.splitlines()
    check(rc == 0 and lines and not lines[0].lstrip().startswith("PID") and
          all(l.split()[2] == "root" for l in lines), "ps --no-headers --user root", out[:300])
    rc, out, err = ctl(["ps", "web1", "--sort", "bogus"])
    check(rc == 2 and "--sort takes" in err, "a bad --sort: a usage error", (rc, err))
    rc, out, err = run(["ctl", "--server", "http://127.0.0.1:%d" % S["srv"].port, "--token-file",
                        path("op.token"), "sysinfo", "web1"])
    check(rc == 0 and re.search(r"^memory\.total +[\d.]+ [KMGT]iB$", out, re.M) and
          re.search(r"^uptime +\d+ (s|min|h|d)", out, re.M), "sysinfo: units and durations", out[:400])
    rc, out, err = ctl(["clients"])
    check(rc == 0 and "\x1b[" not in out and re.search(r"^web1 +online ", out, re.M),
          "clients: no colour when stdout is not a terminal", out)
    tty = on_pty(["clients"])
    check("\x1b[32monline\x1b[0m" in tty, "on a terminal the state is in colour", repr(tty[:200]))
    tty = on_pty(["clients"], {"NO_COLOR": "1"})
    check("\x1b[" not in tty and "online" in tty, "NO_COLOR: none", repr(tty[:200]))
    rc, out, err = run(["ctl", "--server", "http://127.0.0.1:%d" % S["srv"].port, "--token-file",
                        path("op.token"), "ps", "web1"], env={"COLUMNS": "60"})
    check(rc == 0 and max(len(l) for l in out.splitlines()) <= 60, "COLUMNS=60: no line wider", out[:300])


if __name__ == "__main__":
    main([setup, test_errors_in_words, test_system_errors_in_libc_words, test_usage_errors_exit_2,
          test_subcommand_help, test_exec_words, test_one_url_syntax, test_for_people])
