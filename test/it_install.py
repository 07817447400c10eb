#!/usr/bin/python3
"""it_install.py - install.sh against real peers: a dist/ folder served by
`python3 -m http.server` on loopback, and `nestd server` itself.

Every install goes into a throwaway root (--root DIR), as root and as a
throwaway user (useradd; removed at the end), under sh (dash) and under
busybox sh with only busybox applets on PATH.  Checks: a good install
(binary, config and token 0600, service file, the token on no command
line), a corrupted download (refused, nothing installed), a re-run
(upgrade), an uninstall (every manifest path gone, pre-existing files
kept), the service files equal to contrib/, `make install`; the original
client's .env token file, and --migrate taking over its files.

Conventions of nestlib.py (check, skip, logs in $NESTD_IT_DIR scanned for
sanitizer reports, the last line "N passed, N failed, N skipped").  As root:
  NESTD=./nestd /usr/bin/python3 test/it_install.py [test_NAME...]
Not root: the command-line and `make install` tests run; every test that
installs as root or adds a user is counted as skipped."""
import atexit
import functools
import hashlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import types
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import NESTD, T, Server, check, free_port, path, run, skip, token_new  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTALL_SH = os.path.join(TOP, "install.sh")
VERSION = "0.1.0"

S = types.SimpleNamespace()      # what setup() makes, for the steps after it
_cleanup_procs, _cleanup_users, _cleanup_dirs = [], [], []


def root_only(fn):
    """A test that installs as uid 0 (or adds a user): a counted skip when
    not root."""
    @functools.wraps(fn)
    def run_or_skip():
        if os.geteuid() != 0:
            return skip(fn.__name__, "needs root (installs as uid 0 into a throwaway root, adds a user)")
        return fn()
    return run_or_skip


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)


def wait_port(port, proc, secs=10):
    end = time.time() + secs
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def arch():
    m = os.uname().machine
    table = {"amd64": "x86_64", "arm64": "aarch64", "armv8l": "armv7"}
    if m in table:
        return table[m]
    if m.startswith("armv7"):
        return "armv7"
    if m.startswith("armv6"):
        return "armv6"
    if re.fullmatch(r"i[3-6]86", m):
        return "i386"
    return m


ARCH = arch()


def tree(root):
    """Every path below root (relative), directories with a trailing '/'."""
    out = set()
    for d, dirs, files in os.walk(root):
        for n in dirs:
            out.add(os.path.relpath(os.path.join(d, n), root) + "/")
        for n in files:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def make_dist(d, binary_bytes, names=None):
    os.makedirs(d, exist_ok=True)
    for n in names or ["nestd-linux-" + ARCH, "nestd-%s-linux-%s" % (VERSION, ARCH)]:
        write(os.path.join(d, n), binary_bytes, 0o755)
        write(os.path.join(d, n + ".sha256"),
              "%s  %s\n" % (hashlib.sha256(binary_bytes).hexdigest(), n))


def shell_run(argv, env=None, user=None, stdin=None, timeout=60):
    e = dict(os.environ)
    for k in ("NESTD_TOKEN", "NESTD_TOKEN_FILE", "NESTD_SERVER", "NESTD_BASE_URL", "CLIENT_TOKEN"):
        e.pop(k, None)
    e.update(env or {})
    if user:
        pw = pwd.getpwnam(user)
        e.update(HOME=pw.pw_dir, USER=user, LOGNAME=user)
        argv = ["setpriv", "--reuid", str(pw.pw_uid), "--regid", str(pw.pw_gid),
                "--init-groups", "--"] + argv
    p = subprocess.run(argv, env=e, input=stdin, capture_output=True, timeout=timeout,
                       cwd="/")
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def installer(args, shell=("sh",), **kw):
    if kw.get("user") and kw.get("stdin") is None:
        # The checkout may not be readable by that user (CI clones into a
        # 0700 temp dir): feed the script on stdin, as `curl ... | sh -s --`.
        with open(INSTALL_SH, "rb") as f:
            kw["stdin"] = f.read()
        return shell_run(list(shell) + ["-s", "--"] + args, **kw)
    return shell_run(list(shell) + [INSTALL_SH] + args, **kw)


def manifest_paths(root, state="/var/lib/nestd"):
    m = os.path.join(root + state, "install.manifest")
    out = []
    for line in read(m).splitlines():
        kind, path = line.split(" ", 1)
        out.append((kind, path))
    return out


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def cleanup():
    for p in _cleanup_procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    for u in _cleanup_users:
        subprocess.run(["userdel", u], capture_output=True)
    for d in _cleanup_dirs:
        shutil.rmtree(d, ignore_errors=True)


def setup():
    S.work = nestlib.tmpdir()
    S.binary = read(NESTD, "rb")
    S.dist = path("dist")
    make_dist(S.dist, S.binary)
    port = free_port()
    http = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                             "--directory", S.dist, str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _cleanup_procs.append(http)
    if not check(wait_port(port, http), "http.server is up"):
        raise RuntimeError("http.server did not start")
    S.base = "http://127.0.0.1:%d" % port
    S.tokens = path("tokens")
    S.token = token_new(S.tokens, "m1")
    check(re.fullmatch(r"[0-9a-f]{64}\.[0-9a-f]{8}", S.token), "a token to install with", S.token)
    S.tokfile = path("token")
    write(S.tokfile, S.token + "\n", 0o600)
    S.server_url = "wss://bot.example.org/"
    S.new_binary = S.binary


def test_cli():
    """The service files, the ARCH table, --help, usage errors."""
    work, base, tokfile, token, server_url = S.work, S.base, S.tokfile, S.token, S.server_url
    # -- the service files: embedded copies equal contrib/ --
    for kind, f in (("system", "nestd-agent.service"), ("user", "nestd-agent.user.service"),
                    ("openrc", "nestd-agent.openrc")):
        rc, out, _ = installer(["--show-service", kind])
        check(rc == 0 and out == read(os.path.join(TOP, "contrib", f)),
              "embedded %s service file equals contrib/%s" % (kind, f))

    # -- install.sh's ARCH table matches the one the server uses --
    src = read(INSTALL_SH)
    fn = re.search(r"^arch_name\(\) \{\n.*?^\}\n", src, re.S | re.M).group(0)
    pairs = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64",
             "armv7l": "armv7", "armv8l": "armv7", "armv6l": "armv6", "i686": "i386",
             "i386": "i386", "riscv64": "riscv64"}
    got = subprocess.run(["sh", "-c", fn + 'for m in %s; do arch_name $m; done' % " ".join(pairs)],
                         capture_output=True, text=True).stdout.split()
    check(got == list(pairs.values()), "install.sh maps uname -m like server_install.c", got)

    rc, out, err = installer(["--help"])
    check(rc == 0 and "--token-file FILE" in out and "--uninstall" in out, "--help: exit 0, the options")

    # -- usage errors: exit 2, nothing written --
    r0 = os.path.join(work, "r0")
    os.makedirs(r0)
    for name, args, env in (
            ("no server", ["--root", r0, "--token-file", tokfile, "--base-url", base], None),
            ("no token", ["--root", r0, "--server", server_url, "--base-url", base], None),
            ("no base URL", ["--root", r0, "--server", server_url, "--token-file", tokfile], None),
            ("--token on the command line", ["--root", r0, "--token", token], None),
            ("unknown option", ["--root", r0, "--frobnicate"], None),
            ("bad server URL", ["--root", r0, "--server", "http://x/", "--token-file", tokfile,
                                "--base-url", base], None),
            ("not a token", ["--root", r0, "--server", server_url, "--base-url", base],
             {"NESTD_TOKEN": "hunter2"}),
            ("token checksum wrong", ["--root", r0, "--server", server_url, "--base-url", base],
             {"NESTD_TOKEN": token[:-1] + ("0" if token[-1] != "0" else "1")})):
        rc, out, err = installer(args, env=env)
        check(rc == 2 and err.strip() != "" and out == "",
              "usage error (%s): exit 2, a reason on stderr" % name, "rc=%d err=%r" % (rc, err))
    check(tree(r0) == set(), "usage errors wrote nothing", tree(r0))
    rc, _, err = installer(["--root", r0, "--token", token])
    check(token not in err, "--token is refused without echoing the token")



@root_only
def test_root_install():
    """As root into a throwaway root: install, upgrade, corrupted downloads."""
    work, base, tokfile, token, server_url = S.work, S.base, S.tokfile, S.token, S.server_url
    binary, dist, tokens = S.binary, S.dist, S.tokens
    r1 = os.path.join(work, "r1")
    os.makedirs(r1 + "/run/systemd/system")
    pre = tree(r1)
    rc, out, err = installer(["--root", r1, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base], shell=("sh", "-x"))
    check(rc == 0, "root install: exit 0", err[-600:])
    check(out.strip().splitlines()[-1] == "nestd-install: done",
          "root install: one line per step on stdout, 'done' last", out)
    binp = r1 + "/usr/local/bin/nestd"
    conf = r1 + "/etc/nestd/agent.conf"
    tokp = r1 + "/etc/nestd/agent.token"
    unit = r1 + "/etc/systemd/system/nestd-agent.service"
    check(os.path.isfile(binp) and stat.S_IMODE(os.stat(binp).st_mode) == 0o755
          and sha(binp) == hashlib.sha256(binary).hexdigest(),
          "binary installed, 0755, the served bytes")
    check(os.path.isfile(conf) and stat.S_IMODE(os.stat(conf).st_mode) == 0o600, "config 0600")
    c = read(conf) if os.path.isfile(conf) else ""
    check(re.search(r"^server = wss://bot\.example\.org/$", c, re.M)
          and re.search(r"^token-file = /etc/nestd/agent\.token$", c, re.M),
          "config names the server and the token file", c)
    check(os.path.isfile(tokp) and stat.S_IMODE(os.stat(tokp).st_mode) == 0o600
          and read(tokp).strip() == token,
          "token file 0600 holds the token")
    check(os.path.isfile(unit) and read(unit) == read(TOP + "/contrib/nestd-agent.service"),
          "system unit written, equal to contrib/")
    check(not os.path.exists(r1 + "/etc/init.d"), "no OpenRC script on a systemd machine")
    hexpart = token.split(".")[0]
    check(hexpart not in err and "set -x" not in err and "+ " in err,
          "token on no command line (sh -x trace of the whole install)")
    check(all(hexpart not in read(p) for p in (conf, unit, r1 + "/var/lib/nestd/install.manifest")),
          "token not in the config, unit or manifest")
    m = manifest_paths(r1)
    listed = {p for _, p in m}
    check({"/usr/local/bin/nestd", "/etc/nestd/agent.conf", "/etc/nestd/agent.token",
           "/etc/systemd/system/nestd-agent.service"} <= listed,
          "manifest lists binary, config, token, unit", m)
    check({"/" + p.rstrip("/") for p in tree(r1) - pre} == listed,
          "everything new is in the manifest", tree(r1) - pre)
    check("not starting" in out, "service not started with --root", out)
    # The installed agent really connects with what was written.
    e2e_agent(binp, tokp, tokens)
    # The original client's .env form as --token-file: the bare token is kept.
    r1e = os.path.join(work, "r1e")
    os.makedirs(r1e)
    envf = path("orig.env")
    write(envf, "# the original's\nexport DEV=false\nCLIENT_TOKEN='%s'  # its token\nWS_URL=ws://x/\n"
          % token, 0o600)
    rc, out, err = installer(["--root", r1e, "--server", server_url, "--token-file", envf,
                              "--base-url", base, "--init", "none"], shell=("sh", "-x"))
    check(rc == 0 and read(r1e + "/etc/nestd/agent.token").strip() == token,
          "--token-file in the .env form (CLIENT_TOKEN=...): the token alone installed", err[-400:])
    check(hexpart not in err, "its token on no command line either (sh -x)")
    write(envf, "DEV=true\nWS_URL=ws://x/\n", 0o600)
    rc, out, err = installer(["--root", r1e, "--server", server_url, "--token-file", envf,
                              "--base-url", base, "--init", "none"])
    check(rc == 2 and "not a nestd token" in err, "a .env file without CLIENT_TOKEN: refused", (rc, err))

    # -- re-run: an upgrade in place --
    write(conf, read(conf) + "deny = exec\n", 0o600)
    conf_before = read(conf)
    new_binary = binary + b"\0upgrade-marker"
    make_dist(dist, new_binary)
    ino = os.stat(binp).st_ino
    rc, out, err = installer(["--root", r1, "--base-url", base])
    check(rc == 0, "re-run without token or server: exit 0", err)
    check(read(binp, "rb") == new_binary and os.stat(binp).st_ino != ino,
          "re-run: binary replaced (new bytes, new inode: renamed, not rewritten)")
    check("upgraded" in out, "re-run: says upgraded", out)
    check(read(conf) == conf_before and read(tokp).strip() == token, "re-run: config and token kept")
    rc, out, err = installer(["--root", r1, "--base-url", base, "--server", "ws://10.0.0.1:8989/"])
    c = read(conf)
    check(rc == 0 and c == conf_before.replace("server = wss://bot.example.org/",
                                               "server = ws://10.0.0.1:8989/"),
          "re-run with --server: only the server line changes", c)

    # -- a corrupted download: refused, nothing installed --
    good = read(os.path.join(dist, "nestd-linux-" + ARCH), "rb")
    write(os.path.join(dist, "nestd-linux-" + ARCH), good[:-1] + bytes([good[-1] ^ 1]), 0o755)
    r2 = os.path.join(work, "r2")
    os.makedirs(r2 + "/run/systemd/system")
    pre = tree(r2)
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base])
    check(rc == 1 and "checksum mismatch" in err and "nothing installed" in err,
          "corrupted download: exit 1 with 'checksum mismatch' on stderr", err)
    check(tree(r2) == pre, "corrupted download: nothing installed", tree(r2) - pre)
    rc, out, err = installer(["--root", r1, "--base-url", base])
    check(rc == 1 and read(binp, "rb") == new_binary,
          "corrupted upgrade: refused, old binary kept", err)
    make_dist(dist, new_binary)
    os.unlink(os.path.join(dist, "nestd-linux-%s.sha256" % ARCH))
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base])
    check(rc == 1 and ".sha256" in err and tree(r2) == pre,
          "missing .sha256: refused, nothing installed", err)
    make_dist(dist, new_binary)
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base, "--version", "9.9.9"])
    check(rc == 1 and "9.9.9" in err and tree(r2) == pre,
          "--version with no such file: refused, nothing installed", err)
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base, "--version", VERSION, "--init", "none"])
    check(rc == 0 and "nestd-%s-linux-%s" % (VERSION, ARCH) in out,
          "--version V fetches nestd-V-linux-ARCH", out + err)
    check(not os.path.exists(r2 + "/etc/systemd") and "foreground" in out
          and "nestd agent --config /etc/nestd/agent.conf" in out,
          "--init none: no service file, a foreground line", out)

    S.new_binary = new_binary


@root_only
def test_uninstall():
    """Uninstall, pre-existing files, OpenRC, a failed step, the environment."""
    work, base, tokfile, token, server_url = S.work, S.base, S.tokfile, S.token, S.server_url
    hexpart = token.split(".")[0]

    r3 = os.path.join(work, "r3")
    write(r3 + "/etc/nestd/server.conf", "listen = 127.0.0.1:8989\n")
    write(r3 + "/usr/local/bin/other-tool", "#!/bin/sh\n", 0o755)
    os.makedirs(r3 + "/run/systemd/system")
    pre = tree(r3)
    rc, out, err = installer(["--root", r3, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base])
    check(rc == 0, "r3 install: exit 0", err)
    m = manifest_paths(r3)
    rc, out, err = installer(["--root", r3, "--uninstall"])
    check(rc == 0, "uninstall: exit 0", err)
    check(not [p for _, p in m if os.path.lexists(r3 + p)],
          "uninstall: no manifest path is left",
          [p for _, p in m if os.path.lexists(r3 + p)])
    check(tree(r3) == pre, "uninstall: pre-existing files and directories untouched",
          tree(r3) ^ pre)
    check(read(r3 + "/etc/nestd/server.conf") == "listen = 127.0.0.1:8989\n",
          "uninstall: pre-existing contents unchanged")
    rc, out, err = installer(["--root", r3, "--uninstall"])
    check(rc == 0 and "nothing to remove" in out, "uninstall twice: exit 0, nothing to remove", out)

    # -- a config the user had before: kept on install, kept on uninstall --
    r4 = os.path.join(work, "r4")
    write(r4 + "/etc/nestd/agent.conf", "server = ws://mine/\n", 0o640)
    rc, out, err = installer(["--root", r4, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base, "--init", "openrc"])
    check(rc == 0 and read(r4 + "/etc/nestd/agent.conf") == "server = ws://mine/\n"
          and "not written by this installer" in out,
          "pre-existing agent.conf kept on install", out + err)
    init = r4 + "/etc/init.d/nestd-agent"
    check(os.path.isfile(init) and stat.S_IMODE(os.stat(init).st_mode) == 0o755
          and read(init) == read(TOP + "/contrib/nestd-agent.openrc"),
          "OpenRC script written, 0755, equal to contrib/")
    rc, out, err = installer(["--root", r4, "--uninstall"])
    check(rc == 0 and tree(r4) == {"etc/", "etc/nestd/", "etc/nestd/agent.conf"},
          "pre-existing agent.conf kept on uninstall", tree(r4))
    r5 = os.path.join(work, "r5")
    os.makedirs(r5 + "/sbin")
    write(r5 + "/sbin/openrc-run", "", 0o755)
    rc, out, err = installer(["--root", r5, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base])
    check(rc == 0 and os.path.isfile(r5 + "/etc/init.d/nestd-agent")
          and not os.path.exists(r5 + "/etc/systemd"),
          "OpenRC detected by /sbin/openrc-run", out + err)

    # -- a step that fails half-way: exit 1, and what was done is undone --
    r7 = os.path.join(work, "r7")
    os.makedirs(r7 + "/etc/systemd/system/nestd-agent.service")
    pre = tree(r7)
    rc, out, err = installer(["--root", r7, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base, "--init", "systemd"])
    check(rc == 1 and "nestd-agent.service is a directory" in err and "done" not in out,
          "a path that cannot be written: exit 1, says which", err)
    rc, out, err = installer(["--root", r7, "--uninstall"])
    check(rc == 0 and tree(r7) == pre, "uninstall after a failed install leaves what was there",
          tree(r7) ^ pre)

    # -- NESTD_TOKEN and NESTD_BASE_URL from the environment --
    r6 = os.path.join(work, "r6")
    os.makedirs(r6)
    rc, out, err = installer(["--root", r6, "--server", server_url, "--init", "none"],
                             env={"NESTD_TOKEN": token, "NESTD_BASE_URL": base},
                             shell=("sh", "-x"))
    check(rc == 0 and read(r6 + "/etc/nestd/agent.token").strip() == token,
          "token from $NESTD_TOKEN, base from $NESTD_BASE_URL", err[-400:])
    check(hexpart not in err, "$NESTD_TOKEN on no command line (sh -x trace)")



def e2e_agent(binp, tokp, tokens):
    srv = Server(tokens, name="e2e-server")
    log = path("e2e-agent.log")
    nestlib._logs.append(log)
    with open(log, "wb") as f:
        ag = subprocess.Popen([binp, "agent", "--server", srv.url, "--token-file", tokp, "--once"],
                              stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    _cleanup_procs.append(ag)

    def connected():
        st, body, _ = http_get("http://127.0.0.1:%d/healthz" % srv.port)
        return st == 200 and b'"agents":1' in body
    check(nestlib.wait_until(connected, 10),
          "e2e: the installed binary authenticates with the installed token", srv.text()[-800:])
    ag.terminate()
    ag.wait(T(5))
    srv.stop()


@root_only
def test_user():
    """As a throwaway user: ~/.local/bin, ~/.config/nestd, a user unit."""
    if not nestlib.can_run_as_others():
        return skip("test_user", "other uids cannot run programs here (/ is not searchable)")
    base, token, server_url = S.base, S.token, S.server_url
    # Not below the test's 0700 directory: the user must be able to reach it.
    top = tempfile.mkdtemp(prefix="nestd-it-install-user.")
    _cleanup_dirs.append(top)
    os.chmod(top, 0o755)
    name = "nestdit%d" % os.getpid()
    home = os.path.join(top, "home", name)
    os.makedirs(os.path.dirname(home))
    r = subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/sh", name],
                       capture_output=True, text=True)
    if not check(r.returncode == 0, "throwaway user created", r.stderr):
        return
    _cleanup_users.append(name)
    pw = pwd.getpwnam(name)
    os.makedirs(home)
    write(home + "/.bashrc", "# mine\n")
    write(home + "/my-token", token + "\n", 0o600)
    for dp, dns, fns in os.walk(home):
        for n in [dp] + [os.path.join(dp, f) for f in fns]:
            os.chown(n, pw.pw_uid, pw.pw_gid)
    pre = tree(home)

    # Into the user's real home (no --root): no systemd here, so the
    # foreground line; then with systemd in a root the user owns.
    rc, out, err = installer(["--token-file", home + "/my-token", "--server", server_url,
                              "--base-url", base, "--no-start"], user=name)
    check(rc == 0, "user install: exit 0", err)
    b = home + "/.local/bin/nestd"
    conf = home + "/.config/nestd/agent.conf"
    check(os.path.isfile(b) and os.stat(b).st_uid == pw.pw_uid,
          "user install: binary in ~/.local/bin, owned by the user")
    check(os.path.isfile(conf) and stat.S_IMODE(os.stat(conf).st_mode) == 0o600
          and ("token-file = %s/.config/nestd/agent.token" % home) in read(conf),
          "user install: ~/.config/nestd/agent.conf 0600 with the user's paths")
    check(os.path.isfile(home + "/.local/state/nestd/install.manifest"),
          "user install: manifest in ~/.local/state/nestd")
    check(("%s agent --config %s" % (b, conf)) in out,
          "user install without systemd: the foreground line", out)
    rc, out, err = installer(["--system", "--base-url", base], user=name)
    check(rc == 1 and "root" in err, "user: --system without root is refused", err)
    rc, out, err = installer(["--uninstall"], user=name)
    check(rc == 0, "user uninstall: exit 0", err)
    check(tree(home) == pre, "user uninstall: the home is as before", tree(home) ^ pre)

    # Starting the service: a systemctl stand-in on PATH records its argv.
    stubs = os.path.join(top, "stubs")
    log = os.path.join(top, "systemctl.log")
    write(stubs + "/systemctl", '#!/bin/sh\necho "systemctl $*" >> %s\n'
          '[ "$2" = restart ] && [ -n "${STUB_FAIL:-}" ] && exit 1\nexit 0\n' % log, 0o755)
    write(log, "", 0o666)
    env = {"PATH": stubs + ":" + os.environ["PATH"]}
    rc, out, err = installer(["--token-file", home + "/my-token", "--server", server_url,
                              "--base-url", base, "--init", "systemd"], user=name, env=env)
    check(rc == 0 and read(log).splitlines() == [
              "systemctl --user daemon-reload", "systemctl --user enable nestd-agent.service",
              "systemctl --user restart nestd-agent.service"],
          "user install with systemd: unit enabled and (re)started with systemctl --user", read(log) + err)
    check("journalctl --user -u nestd-agent" in out, "user install with systemd: says how to see it",
          out)
    write(log, "", 0o666)
    env["STUB_FAIL"] = "1"
    rc, out, err = installer(["--base-url", base, "--init", "systemd"], user=name, env=env)
    check(rc == 1 and "systemctl --user status nestd-agent" in err,
          "service that does not start: exit 1, says where to look", err)
    del env["STUB_FAIL"]
    write(log, "", 0o666)
    rc, out, err = installer(["--uninstall"], user=name, env=env)
    check(rc == 0 and read(log).splitlines() == [
              "systemctl --user disable --now nestd-agent.service",
              "systemctl --user daemon-reload"],
          "uninstall stops and disables the unit, then reloads", read(log))
    check(tree(home) == pre, "uninstall: the home is as before, again", tree(home) ^ pre)

    # The original client's files: the migration is offered; --migrate
    # takes its token and server, stops its unit, and leaves its files.
    orig_env = home + "/.env.nest-management-bot"
    orig_unit = home + "/.config/systemd/user/nest_management_bot.service"
    write(orig_env, "# written by the original's setup\nCLIENT_TOKEN=\"%s\"\nDEV=true\n"
          "WS_URL=ws://127.0.0.1:1/\n" % token, 0o644)
    write(orig_unit, "[Service]\nType=simple\nExecStart=%h/nest-management-bot/management-client.sh\n")
    for dp, dns, fns in os.walk(home):
        for n in [dp] + [os.path.join(dp, f) for f in fns]:
            os.chown(n, pw.pw_uid, pw.pw_gid)
    pre_orig = tree(home)
    orig_text = (read(orig_env), read(orig_unit))
    rc, out, err = installer(["--base-url", base, "--no-start"], user=name)
    check(rc == 2 and "found the original Nest Management Bot client" in out and "--migrate" in out,
          "the original client's files found: the migration offered", (rc, out, err))
    write(log, "", 0o666)
    rc, out, err = installer(["--base-url", base, "--init", "systemd", "--migrate"], user=name, env=env)
    c = read(conf) if os.path.isfile(conf) else ""
    check(rc == 0 and "server = ws://127.0.0.1:1/" in c and "protocol-version = 1.0.0" in c,
          "--migrate: the original's server (DEV=true: WS_URL) and version 1.0.0 in agent.conf",
          (rc, c, err))
    check(read(home + "/.config/nestd/agent.token").strip() == token,
          "--migrate: the original's CLIENT_TOKEN installed")
    check(read(log).splitlines() == [
              "systemctl --user disable --now nest_management_bot.service",
              "systemctl --user daemon-reload", "systemctl --user enable nestd-agent.service",
              "systemctl --user restart nestd-agent.service"],
          "--migrate: the original's unit stopped and disabled, then nestd's started", read(log))
    check((read(orig_env), read(orig_unit)) == orig_text, "--migrate: the original's files left as they were")
    check(token.split(".")[0] not in out + err, "--migrate: the token is not printed")
    rc, out, err = installer(["--uninstall"], user=name, env=env)
    check(rc == 0 and tree(home) == pre_orig, "uninstall after --migrate: the home as before it",
          tree(home) ^ pre_orig)
    rc, out, err = installer(["--system", "--migrate", "--base-url", base], user=name)
    check(rc == 2 and "--migrate" in err, "--migrate with --system: a usage error", err)
    os.remove(orig_env)
    os.remove(orig_unit)

    root = os.path.join(top, "ru")
    os.makedirs(root + "/run/systemd/system")
    os.chown(root, pw.pw_uid, pw.pw_gid)
    rc, out, err = installer(["--root", root, "--token-file", home + "/my-token",
                              "--server", server_url, "--base-url", base], user=name)
    unit = root + home + "/.config/systemd/user/nestd-agent.service"
    check(rc == 0 and os.path.isfile(unit)
          and read(unit) == read(TOP + "/contrib/nestd-agent.user.service"),
          "user install with systemd: a user unit, equal to contrib/", err)
    check(not os.path.exists(root + "/etc") and not os.path.exists(root + "/usr"),
          "user install: no system paths touched")
    rc, out, err = installer(["--root", root, "--uninstall"], user=name)
    check(rc == 0 and tree(root) == {"run/", "run/systemd/", "run/systemd/system/"},
          "user uninstall in a root: only run/ is left", tree(root))


@root_only
def test_busybox():
    """busybox sh, and every tool from busybox only (wget, sha256sum...)."""
    base, tokfile, server_url, binary = S.base, S.tokfile, S.server_url, S.new_binary
    bb = shutil.which("busybox")
    if not bb:
        return skip("test_busybox", "no busybox here (apt-get install busybox)")
    bbdir = path("bb")
    os.makedirs(bbdir)
    r = subprocess.run([bb, "--install", "-s", bbdir], capture_output=True)
    check(r.returncode == 0 and os.path.exists(bbdir + "/wget"), "busybox applets linked")
    env = {"PATH": bbdir}
    root = path("rb")
    os.makedirs(root + "/run/systemd/system")
    rc, out, err = installer(["--root", root, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base], shell=(bb, "sh"), env=env)
    check(rc == 0
          and read(root + "/usr/local/bin/nestd", "rb") == binary, "busybox sh + busybox wget/sha256sum: install", out + err)
    rc, out, err = installer(["--root", root, "--base-url", base], shell=(bb, "sh"), env=env)
    check(rc == 0 and "upgraded" in out, "busybox: re-run upgrades", out + err)
    good = os.path.join(S.dist, "nestd-linux-" + ARCH)
    data = read(good, "rb")
    write(good, data + b"x", 0o755)
    r2 = path("rb2")
    os.makedirs(r2)
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base], shell=(bb, "sh"), env=env)
    check(rc == 1 and "checksum mismatch" in err
          and tree(r2) == set(), "busybox: corrupted download refused", err)
    write(good, data, 0o755)
    rc, out, err = installer(["--root", root, "--uninstall"], shell=(bb, "sh"), env=env)
    check(rc == 0 and tree(root) == {"run/", "run/systemd/",
                                                           "run/systemd/system/"}, "busybox: uninstall", tree(root))


def elf_static(p):
    """True for an ELF file without a PT_INTERP program header (what
    server_install_elf_static decides, read here by struct)."""
    import struct
    with open(p, "rb") as f:
        h = f.read(64)
        if h[:4] != b"\x7fELF":
            return False
        e = "<" if h[5] == 1 else ">"
        if h[4] == 2:
            phoff, = struct.unpack(e + "Q", h[32:40])
            phent, phnum = struct.unpack(e + "HH", h[54:58])
        else:
            phoff, = struct.unpack(e + "I", h[28:32])
            phent, phnum = struct.unpack(e + "HH", h[42:46])
        for i in range(phnum):
            f.seek(phoff + i * phent)
            if struct.unpack(e + "I", f.read(4))[0] == 3:
                return False
    return True


def served_binary(exe):
    """What /dist/ serves for a server run from exe (no --dist-dir)."""
    if elf_static(exe):
        return exe
    d = os.path.dirname(os.path.realpath(exe))
    for c in (d + "/nestd-static", d + "/../lib/nestd/nestd-static"):
        if os.path.isfile(c) and elf_static(c):
            return c
    return exe


def served_script(text):
    """install.sh as the server stores it (a second reading of tools/minify
    sh): the lines that are only a comment or blank dropped, and the others'
    indentation and trailing comment, but for the #! line, here-documents'
    bodies, the lines of a quoted string that spans lines and a line that
    continues another (backslash-newline)."""
    out, doc, q, cont = [], None, None, False
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if doc is not None:
            out.append(line)
            if line.lstrip("\t") == doc:
                doc = None
            continue
        code = i > 0 and q is None and not cont
        if code and i < len(lines) - 1 and re.match(r"^[ \t]*(#.*)?$", line):
            continue
        if code:
            line = line.lstrip(" \t")
        cont, j, cut, last = False, 0, len(line), 0
        while j < len(line):
            c = line[j]
            if q == "'":
                q = None if c == "'" else q
            elif q == '"':
                if c == "\\":
                    j += 1
                elif c == '"':
                    q = None
            elif c == "\\":
                j += 1
                cont = j == len(line)
            elif c in " \t":
                j += 1
                continue
            elif c in "'\"":
                q = c
            elif c == "#" and (j == 0 or line[j - 1] in " \t;|&()"):
                cut = last
                break
            j += 1
            last = min(j, len(line))
        if q == '"' and line.endswith("\\"):
            cont = True
        m = re.search(r"<<-?[ \t]*['\"]?(\w+)", line[:cut])
        if m:
            doc = m.group(1)
        out.append(line[:cut] if code else line)
    return "\n".join(out)


@root_only
def test_server():
    """nestd server serves install.sh and its own binary; the piped install."""
    tokens, tokfile = S.tokens, S.tokfile
    srv = Server(tokens)
    port = srv.port
    url = "http://127.0.0.1:%d" % port
    st, body, hdr = http_get(url + "/install.sh")
    check(st == 200 and hdr.get("Content-Type", "").startswith("text/x-shellscript"),
          "GET /install.sh: 200 text/x-shellscript, no token needed")
    text = body.decode()
    check("\nNESTD_DEFAULT_SERVER='ws://127.0.0.1:%d/'\n" % port in text
          and "\nNESTD_DEFAULT_BASE='%s/dist'\n" % url in text,
          "/install.sh has the server's URL filled in")
    check(re.sub(r"(?m)^(NESTD_DEFAULT_\w+=)'.*'$", r"\1''", text) == served_script(read(INSTALL_SH)),
          "/install.sh is install.sh otherwise, less its comments and indentation (tools/minify sh)")
    p = subprocess.run(["sh", "-n"], input=text, capture_output=True, text=True)
    check(p.returncode == 0, "/install.sh: sh -n finds no syntax error", p.stderr)
    own = hashlib.sha256(read(served_binary(NESTD), "rb")).hexdigest()
    for n in ("nestd-linux-" + ARCH, "nestd-%s-linux-%s" % (VERSION, ARCH)):
        st, body, hdr = http_get(url + "/dist/" + n)
        check(st == 200 and hashlib.sha256(body).hexdigest() == own
              and hdr.get("Content-Type") == "application/octet-stream",
              "GET /dist/%s: the server's own binary (or the static one beside it)" % n)
        st, body, _ = http_get(url + "/dist/" + n + ".sha256")
        check(st == 200 and body.decode() == "%s  %s\n" % (own, n),
              "GET /dist/%s.sha256: sha256sum format" % n)
    for bad in ("/dist/nestd-linux-sparc", "/dist/..", "/dist/.hidden", "/dist/a%2f..%2fb",
                "/dist/../install.sh", "/dist/", "/dist/nestd-linux-" + ARCH + "/x"):
        st, _, _ = http_get(url + bad)
        check(st == 404, "GET %s: 404" % bad, str(st))
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                        url + "/install.sh"], capture_output=True, text=True)
    check(r.stdout == "405", "POST /install.sh: 405", r.stdout)
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: a'b",
                        url + "/install.sh"], capture_output=True, text=True)
    check(r.stdout == "400", "a Host that cannot go into the script: 400", r.stdout)

    # Its help, piped as the one-line install is, says how to run it so.
    p = subprocess.run(["sh", "-c", "curl -fsSL %s/install.sh | sh -s -- --help" % url],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and p.stdout.startswith("usage: curl -fsSL %s/install.sh | sh -s -- [OPTIONS]" % url),
          "piped: --help says curl ... | sh -s -- --help", p.stdout[:200])
    # The one-line install, piped, exactly as documented.
    root = path("rs")
    os.makedirs(root + "/run/systemd/system")
    e = dict(os.environ)
    cmd = "curl -fsSL %s/install.sh | sh -s -- --root %s --token-file %s --no-start" % (
        url, root, tokfile)
    p = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, env=e, timeout=60)
    check(p.returncode == 0, "curl SERVER/install.sh | sh: exit 0", p.stderr)
    binp = root + "/usr/local/bin/nestd"
    check(os.path.isfile(binp) and sha(binp) == own,
          "piped install: the server's own binary")
    conf = root + "/etc/nestd/agent.conf"
    check(os.path.isfile(conf) and ("server = ws://127.0.0.1:%d/" % port) in read(conf),
          "piped install: the server's URL in the config")
    check(os.path.isfile(root + "/etc/systemd/system/nestd-agent.service"),
          "piped install: unit file written")
    srv.stop()

    # --public-url is used verbatim; --dist-dir serves the newest version.
    dd = path("dd")
    make_dist(dd, b"old\n", ["nestd-0.9.0-linux-" + ARCH])
    make_dist(dd, b"new\n", ["nestd-0.10.0-linux-" + ARCH])
    os.unlink(os.path.join(dd, "nestd-0.10.0-linux-%s.sha256" % ARCH))
    write(os.path.join(dd, ".secret"), "no\n")
    srv = Server(tokens, ["--public-url", "https://bot.example.org/nest/", "--dist-dir", dd],
                 name="server-dist")
    url = "http://127.0.0.1:%d" % srv.port
    st, body, _ = http_get(url + "/install.sh")
    text = body.decode()
    check("\nNESTD_DEFAULT_SERVER='wss://bot.example.org/nest'\n" in text
          and "\nNESTD_DEFAULT_BASE='https://bot.example.org/nest/dist'\n" in text,
          "--public-url: wss:// server and https base in the script")
    st, body, _ = http_get(url + "/dist/nestd-linux-" + ARCH)
    check(st == 200 and body == b"new\n", "--dist-dir: nestd-linux-ARCH is the newest version")
    st, body, _ = http_get(url + "/dist/nestd-linux-%s.sha256" % ARCH)
    check(st == 200 and body.decode() == "%s  nestd-0.10.0-linux-%s\n" % (
              hashlib.sha256(b"new\n").hexdigest(), ARCH),
          "--dist-dir: its .sha256 computed when missing")
    st, body, _ = http_get(url + "/dist/nestd-0.9.0-linux-%s.sha256" % ARCH)
    check(st == 200 and body.decode() == read(os.path.join(dd, "nestd-0.9.0-linux-%s.sha256" % ARCH)),
          "--dist-dir: a .sha256 file present is served as is")
    st, body, _ = http_get(url + "/dist/nestd-0.9.0-linux-" + ARCH)
    check(st == 200 and body == b"old\n", "--dist-dir: a versioned name")
    st, _, _ = http_get(url + "/dist/.secret")
    check(st == 404, "--dist-dir: dot files are not served")
    srv.stop()
    rc, out, err = run(["server", "--listen", "127.0.0.1:%d" % free_port(), "--tokens", tokens,
                        "--public-url", "https://x/'$(id)'"])
    check(rc == 2, "a --public-url that cannot go into the script: exit 2", err)
    rc, out, err = run(["server", "--listen", "127.0.0.1:%d" % free_port(), "--tokens", tokens,
                        "--dist-dir", "/nonexistent"])
    check(rc == 1 and "dist-dir" in err, "--dist-dir that does not exist: exit 1 with a reason", err)


def test_make():
    """make install / make uninstall into a DESTDIR."""
    if not os.path.isfile(os.path.join(TOP, "nestd")):
        return skip("test_make", "no ./nestd built in the tree to install")
    d = path("destdir")
    # -o nestd: install what is built; the test must not rebuild the tree.
    # O=: the unit files make writes on the way go here, not into the tree.
    o = path("make-o")
    os.makedirs(o)
    r = subprocess.run(["make", "-s", "-C", TOP, "-o", "nestd", "install", "DESTDIR=" + d,
                        "PREFIX=/usr", "O=" + o],
                       capture_output=True, text=True)
    check(r.returncode == 0, "make install: exit 0", r.stderr)
    want = {"usr/bin/nestd", "usr/lib/systemd/system/nestd-agent.service",
            "usr/lib/systemd/system/nestd-server.service",
            "usr/lib/systemd/user/nestd-agent.service", "etc/init.d/nestd-agent",
            "usr/share/nestd/install.sh", "usr/share/man/man1/nestd.1",
            "usr/share/bash-completion/completions/nestd", "usr/share/zsh/vendor-completions/_nestd",
            "etc/nestd/server.conf"}
    if os.path.isfile(os.path.join(TOP, "nestd-static")):
        want.add("usr/lib/nestd/nestd-static")
    files = {p for p in tree(d) if not p.endswith("/")}
    check(files == want, "make install: binary, units, OpenRC script, install.sh, man page, completions, "
          "the server's config", files)
    if files == want:
        check("ExecStart=/usr/bin/nestd agent" in read(d + "/usr/lib/systemd/system/nestd-agent.service")
              and "ExecStart=/usr/bin/nestd agent" in read(d + "/usr/lib/systemd/user/nestd-agent.service")
              and 'command="/usr/bin/nestd"' in read(d + "/etc/init.d/nestd-agent"),
              "make install: ExecStart points at PREFIX/bin")
    r = subprocess.run(["make", "-s", "-C", TOP, "uninstall", "DESTDIR=" + d, "PREFIX=/usr"],
                       capture_output=True, text=True)
    check(r.returncode == 0 and {p for p in tree(d) if not p.endswith("/")} == {"etc/nestd/server.conf"},
          "make uninstall: the files are gone (the server's config, maybe edited, stays)", tree(d))


def dist_from(exe, tokens, name):
    """A server run from the binary exe: (process, base URL)."""
    port = free_port()
    saved = nestlib.NESTD
    nestlib.NESTD = exe
    try:
        p = nestlib.Proc(["server", "--listen", "127.0.0.1:%d" % port, "--tokens", tokens], name)
    finally:
        nestlib.NESTD = saved
    check(p.wait_log(r"server ready", 15), "%s starts" % name, p.text()[-500:])
    return p, "http://127.0.0.1:%d" % port


def test_dist_static():
    """/dist/ serves a static binary: the server's own when it is one, else
    a static nestd beside it (DIR/nestd-static, DIR/../lib/nestd/nestd-static),
    else its own glibc-linked binary, with a warning."""
    cc = shutil.which("gcc") or shutil.which("cc")
    src = path("hello.c")
    with open(src, "w") as f:
        f.write("int main(void) { return 0; }\n")
    fake = path("hello-static")
    if not cc or subprocess.run([cc, "-static", "-o", fake, src], capture_output=True).returncode != 0:
        return skip("test_dist_static", "no static C library to build a static ELF with")
    check(elf_static(fake) and (elf_static(NESTD) or not elf_static("/bin/sh")),
          "the ELF check itself: a static file is static, /bin/sh is not")
    url_name = "/dist/nestd-linux-" + ARCH
    for layout, beside in (("bin", "nestd-static"), ("usr/bin", "../lib/nestd/nestd-static")):
        d = path("dist-" + layout.replace("/", "-"))
        os.makedirs(os.path.join(d, layout))
        exe = os.path.join(d, layout, "nestd")
        shutil.copy(NESTD, exe)
        target = os.path.normpath(os.path.join(d, layout, beside))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(fake, target)
        p, url = dist_from(exe, S.tokens, "server-" + layout.replace("/", "-"))
        st, body, _ = http_get(url + url_name)
        want = read(exe if elf_static(exe) else target, "rb")
        check(st == 200 and body == want, "%s/%s: /dist/ serves %s" % (
            layout, beside, "the server itself (it is static)" if elf_static(exe) else "the static one beside it"))
        st, body, _ = http_get(url + url_name + ".sha256")
        check(st == 200 and body.decode().split()[0] == hashlib.sha256(want).hexdigest(),
              "%s: its .sha256 is the served file's" % layout, body)
        p.stop()
    # Beside it a file named nestd-static that is not static: not served.
    d = path("dist-dynamic")
    os.makedirs(d)
    exe = os.path.join(d, "nestd")
    shutil.copy(NESTD, exe)
    shutil.copy("/bin/sh", os.path.join(d, "nestd-static"))
    p, url = dist_from(exe, S.tokens, "server-dynamic")
    st, body, _ = http_get(url + url_name)
    check(st == 200 and body == read(exe, "rb"), "a nestd-static that is not static is ignored")
    if not elf_static(exe):
        check(p.wait_log(r"/dist/ serves this server's own binary, which needs the C library", 5),
              "serving a glibc-linked binary is said, with what to do", p.text()[-800:])
    p.stop()


@root_only
def test_agent_build_default():
    """The agent-only build is what install.sh fetches when the base has
    one (nestd-agent-linux-ARCH); --full takes the full one; a base with
    only the full build still installs it (the fallback the test_root_install
    cases ride on)."""
    work, tokfile, server_url = S.work, S.tokfile, S.server_url
    d = path("dist-agent")
    full = S.binary
    agent = S.binary + b"\0agent-only"      # other bytes: the checksum tells them apart
    make_dist(d, full)
    make_dist(d, agent, ["nestd-agent-linux-" + ARCH, "nestd-agent-%s-linux-%s" % (VERSION, ARCH)])
    for args, want, what in (([], agent, "by default: the agent-only build"),
                             (["--full"], full, "--full: the full build"),
                             (["--version", VERSION], agent, "--version V: nestd-agent-V-linux-ARCH")):
        r = os.path.join(work, "ra%d" % len(args))
        os.makedirs(r + "/run/systemd/system", exist_ok=True)
        rc, out, err = installer(["--root", r, "--server", server_url, "--token-file", tokfile,
                                  "--base-url", d, "--no-start"] + args)
        binp = r + "/usr/local/bin/nestd"
        check(rc == 0 and os.path.isfile(binp) and sha(binp) == hashlib.sha256(want).hexdigest(),
              "install.sh %s" % what, (rc, err[-400:]))
    # A broken agent-only build is refused like any other, not replaced by the full one.
    write(os.path.join(d, "nestd-agent-linux-" + ARCH), agent + b"x", 0o755)
    r = os.path.join(work, "rbad")
    os.makedirs(r + "/run/systemd/system", exist_ok=True)
    rc, out, err = installer(["--root", r, "--server", server_url, "--token-file", tokfile,
                              "--base-url", d, "--no-start"])
    check(rc == 1 and "checksum mismatch" in err and not os.path.exists(r + "/usr/local/bin/nestd"),
          "a corrupted agent-only download: refused, nothing installed", (rc, err[-300:]))


if __name__ == "__main__":
    atexit.register(cleanup)
    nestlib.main([setup, test_cli, test_root_install, test_agent_build_default, test_uninstall,
                  test_user, test_busybox, test_server, test_dist_static, test_make])
