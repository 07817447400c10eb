#!/usr/bin/python3
"""it_install.py - install.sh against real peers: a dist/ folder served by
`python3 -m http.server` on loopback, and `nestd server` itself.

Every install goes into a throwaway root (--root DIR), as root and as a
throwaway user (useradd; removed at the end), under sh (dash) and under
busybox sh with only busybox applets on PATH.  Checks: a good install
(binary, config and token 0600, service file, the token on no command
line), a corrupted download (refused, nothing installed), a re-run
(upgrade), an uninstall (every manifest path gone, pre-existing files
kept), the service files equal to contrib/, `make install`.

Run from the top of the tree as root:  NESTD=./nestd /usr/bin/python3 test/it_install.py
The last line is "N passed, N failed"; the exit status is 1 on a failure."""
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
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NESTD = os.path.abspath(os.environ.get("NESTD", os.path.join(TOP, "nestd")))
INSTALL_SH = os.path.join(TOP, "install.sh")
VERSION = "0.1.0"

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + (": " + str(detail)[:2000] if detail else ""))
    return cond


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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


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


def run(argv, env=None, user=None, stdin=None, timeout=60):
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
    return run(list(shell) + [INSTALL_SH] + args, **kw)


def manifest_paths(root, state="/var/lib/nestd"):
    m = os.path.join(root + state, "install.manifest")
    out = []
    for line in read(m).splitlines():
        kind, path = line.split(" ", 1)
        out.append((kind, path))
    return out


def new_token(tokens, name):
    r = subprocess.run([NESTD, "token", "new", name, "--tokens", tokens],
                       capture_output=True, text=True)
    return r.stdout.strip()


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def main():
    if os.geteuid() != 0:
        print("skip it_install.py: run as root (it installs as root and as a throwaway user)")
        print("0 passed, 0 failed")
        return 0
    work = tempfile.mkdtemp(prefix="nestd-it-install.")
    os.chmod(work, 0o755)
    procs, users = [], []
    try:
        tests(work, procs, users)
    except Exception as e:  # a crash is a failure, and the summary still prints
        import traceback
        traceback.print_exc()
        check("the test script ran to the end", False, repr(e))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        for u in users:
            subprocess.run(["userdel", u], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def tests(work, procs, users):
    binary = read(NESTD, "rb")
    dist = os.path.join(work, "dist")
    make_dist(dist, binary)
    port = free_port()
    http = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                             "--directory", dist, str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(http)
    if not check("http.server is up", wait_port(port, http)):
        return
    base = "http://127.0.0.1:%d" % port
    tokens = os.path.join(work, "tokens")
    token = new_token(tokens, "m1")
    check("a token to install with", re.fullmatch(r"[0-9a-f]{64}\.[0-9a-f]{8}", token), token)
    tokfile = os.path.join(work, "token")
    write(tokfile, token + "\n", 0o600)
    server_url = "wss://bot.example.org/"

    # -- the service files: embedded copies equal contrib/ --
    for kind, f in (("system", "nestd-agent.service"), ("user", "nestd-agent.user.service"),
                    ("openrc", "nestd-agent.openrc")):
        rc, out, _ = installer(["--show-service", kind])
        check("embedded %s service file equals contrib/%s" % (kind, f),
              rc == 0 and out == read(os.path.join(TOP, "contrib", f)))

    # -- install.sh's ARCH table matches the one the server uses --
    src = read(INSTALL_SH)
    fn = re.search(r"^arch_name\(\) \{\n.*?^\}\n", src, re.S | re.M).group(0)
    pairs = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64",
             "armv7l": "armv7", "armv8l": "armv7", "armv6l": "armv6", "i686": "i386",
             "i386": "i386", "riscv64": "riscv64"}
    got = subprocess.run(["sh", "-c", fn + 'for m in %s; do arch_name $m; done' % " ".join(pairs)],
                         capture_output=True, text=True).stdout.split()
    check("install.sh maps uname -m like server_install.c", got == list(pairs.values()), got)

    rc, out, err = installer(["--help"])
    check("--help: exit 0, the options", rc == 0 and "--token-file FILE" in out and "--uninstall" in out)

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
        check("usage error (%s): exit 2, a reason on stderr" % name,
              rc == 2 and err.strip() != "" and out == "", "rc=%d err=%r" % (rc, err))
    check("usage errors wrote nothing", tree(r0) == set(), tree(r0))
    rc, _, err = installer(["--root", r0, "--token", token])
    check("--token is refused without echoing the token", token not in err)

    # -- a good system install (as root), systemd detected in the root --
    r1 = os.path.join(work, "r1")
    os.makedirs(r1 + "/run/systemd/system")
    pre = tree(r1)
    rc, out, err = installer(["--root", r1, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base], shell=("sh", "-x"))
    check("root install: exit 0", rc == 0, err[-600:])
    check("root install: one line per step on stdout, 'done' last",
          out.strip().splitlines()[-1] == "nestd-install: done", out)
    binp = r1 + "/usr/local/bin/nestd"
    conf = r1 + "/etc/nestd/agent.conf"
    tokp = r1 + "/etc/nestd/agent.token"
    unit = r1 + "/etc/systemd/system/nestd-agent.service"
    check("binary installed, 0755, the served bytes",
          os.path.isfile(binp) and stat.S_IMODE(os.stat(binp).st_mode) == 0o755
          and sha(binp) == hashlib.sha256(binary).hexdigest())
    check("config 0600", os.path.isfile(conf) and stat.S_IMODE(os.stat(conf).st_mode) == 0o600)
    c = read(conf) if os.path.isfile(conf) else ""
    check("config names the server and the token file",
          re.search(r"^server = wss://bot\.example\.org/$", c, re.M)
          and re.search(r"^token-file = /etc/nestd/agent\.token$", c, re.M), c)
    check("token file 0600 holds the token",
          os.path.isfile(tokp) and stat.S_IMODE(os.stat(tokp).st_mode) == 0o600
          and read(tokp).strip() == token)
    check("system unit written, equal to contrib/",
          os.path.isfile(unit) and read(unit) == read(TOP + "/contrib/nestd-agent.service"))
    check("no OpenRC script on a systemd machine", not os.path.exists(r1 + "/etc/init.d"))
    hexpart = token.split(".")[0]
    check("token on no command line (sh -x trace of the whole install)",
          hexpart not in err and "set -x" not in err and "+ " in err)
    check("token not in the config, unit or manifest",
          all(hexpart not in read(p) for p in (conf, unit, r1 + "/var/lib/nestd/install.manifest")))
    m = manifest_paths(r1)
    listed = {p for _, p in m}
    check("manifest lists binary, config, token, unit",
          {"/usr/local/bin/nestd", "/etc/nestd/agent.conf", "/etc/nestd/agent.token",
           "/etc/systemd/system/nestd-agent.service"} <= listed, m)
    check("everything new is in the manifest",
          {"/" + p.rstrip("/") for p in tree(r1) - pre} == listed, tree(r1) - pre)
    check("service not started with --root", "not starting" in out, out)
    # The installed agent really connects with what was written.
    e2e_agent(work, procs, binp, tokp, tokens)

    # -- re-run: an upgrade in place --
    write(conf, read(conf) + "deny = exec\n", 0o600)
    conf_before = read(conf)
    new_binary = binary + b"\0upgrade-marker"
    make_dist(dist, new_binary)
    ino = os.stat(binp).st_ino
    rc, out, err = installer(["--root", r1, "--base-url", base])
    check("re-run without token or server: exit 0", rc == 0, err)
    check("re-run: binary replaced (new bytes, new inode: renamed, not rewritten)",
          read(binp, "rb") == new_binary and os.stat(binp).st_ino != ino)
    check("re-run: says upgraded", "upgraded" in out, out)
    check("re-run: config and token kept", read(conf) == conf_before and read(tokp).strip() == token)
    rc, out, err = installer(["--root", r1, "--base-url", base, "--server", "ws://10.0.0.1:8989/"])
    c = read(conf)
    check("re-run with --server: only the server line changes",
          rc == 0 and c == conf_before.replace("server = wss://bot.example.org/",
                                               "server = ws://10.0.0.1:8989/"), c)

    # -- a corrupted download: refused, nothing installed --
    good = read(os.path.join(dist, "nestd-linux-" + ARCH), "rb")
    write(os.path.join(dist, "nestd-linux-" + ARCH), good[:-1] + bytes([good[-1] ^ 1]), 0o755)
    r2 = os.path.join(work, "r2")
    os.makedirs(r2 + "/run/systemd/system")
    pre = tree(r2)
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base])
    check("corrupted download: exit 1 with 'checksum mismatch' on stderr",
          rc == 1 and "checksum mismatch" in err and "nothing installed" in err, err)
    check("corrupted download: nothing installed", tree(r2) == pre, tree(r2) - pre)
    rc, out, err = installer(["--root", r1, "--base-url", base])
    check("corrupted upgrade: refused, old binary kept",
          rc == 1 and read(binp, "rb") == new_binary, err)
    make_dist(dist, new_binary)
    os.unlink(os.path.join(dist, "nestd-linux-%s.sha256" % ARCH))
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base])
    check("missing .sha256: refused, nothing installed",
          rc == 1 and ".sha256" in err and tree(r2) == pre, err)
    make_dist(dist, new_binary)
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base, "--version", "9.9.9"])
    check("--version with no such file: refused, nothing installed",
          rc == 1 and "9.9.9" in err and tree(r2) == pre, err)
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base, "--version", VERSION, "--init", "none"])
    check("--version V fetches nestd-V-linux-ARCH",
          rc == 0 and "nestd-%s-linux-%s" % (VERSION, ARCH) in out, out + err)
    check("--init none: no service file, a foreground line",
          not os.path.exists(r2 + "/etc/systemd") and "foreground" in out
          and "nestd agent --config /etc/nestd/agent.conf" in out, out)

    # -- uninstall: exactly the manifest's paths; pre-existing files stay --
    r3 = os.path.join(work, "r3")
    write(r3 + "/etc/nestd/server.conf", "listen = 127.0.0.1:8989\n")
    write(r3 + "/usr/local/bin/other-tool", "#!/bin/sh\n", 0o755)
    os.makedirs(r3 + "/run/systemd/system")
    pre = tree(r3)
    rc, out, err = installer(["--root", r3, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base])
    check("r3 install: exit 0", rc == 0, err)
    m = manifest_paths(r3)
    rc, out, err = installer(["--root", r3, "--uninstall"])
    check("uninstall: exit 0", rc == 0, err)
    check("uninstall: no manifest path is left",
          not [p for _, p in m if os.path.lexists(r3 + p)],
          [p for _, p in m if os.path.lexists(r3 + p)])
    check("uninstall: pre-existing files and directories untouched", tree(r3) == pre,
          tree(r3) ^ pre)
    check("uninstall: pre-existing contents unchanged",
          read(r3 + "/etc/nestd/server.conf") == "listen = 127.0.0.1:8989\n")
    rc, out, err = installer(["--root", r3, "--uninstall"])
    check("uninstall twice: exit 0, nothing to remove", rc == 0 and "nothing to remove" in out, out)

    # -- a config the user had before: kept on install, kept on uninstall --
    r4 = os.path.join(work, "r4")
    write(r4 + "/etc/nestd/agent.conf", "server = ws://mine/\n", 0o640)
    rc, out, err = installer(["--root", r4, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base, "--init", "openrc"])
    check("pre-existing agent.conf kept on install",
          rc == 0 and read(r4 + "/etc/nestd/agent.conf") == "server = ws://mine/\n"
          and "not written by this installer" in out, out + err)
    init = r4 + "/etc/init.d/nestd-agent"
    check("OpenRC script written, 0755, equal to contrib/",
          os.path.isfile(init) and stat.S_IMODE(os.stat(init).st_mode) == 0o755
          and read(init) == read(TOP + "/contrib/nestd-agent.openrc"))
    rc, out, err = installer(["--root", r4, "--uninstall"])
    check("pre-existing agent.conf kept on uninstall",
          rc == 0 and tree(r4) == {"etc/", "etc/nestd/", "etc/nestd/agent.conf"}, tree(r4))
    r5 = os.path.join(work, "r5")
    os.makedirs(r5 + "/sbin")
    write(r5 + "/sbin/openrc-run", "", 0o755)
    rc, out, err = installer(["--root", r5, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base])
    check("OpenRC detected by /sbin/openrc-run",
          rc == 0 and os.path.isfile(r5 + "/etc/init.d/nestd-agent")
          and not os.path.exists(r5 + "/etc/systemd"), out + err)

    # -- a step that fails half-way: exit 1, and what was done is undone --
    r7 = os.path.join(work, "r7")
    os.makedirs(r7 + "/etc/systemd/system/nestd-agent.service")
    pre = tree(r7)
    rc, out, err = installer(["--root", r7, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base, "--init", "systemd"])
    check("a path that cannot be written: exit 1, says which",
          rc == 1 and "nestd-agent.service is a directory" in err and "done" not in out, err)
    rc, out, err = installer(["--root", r7, "--uninstall"])
    check("uninstall after a failed install leaves what was there", rc == 0 and tree(r7) == pre,
          tree(r7) ^ pre)

    # -- NESTD_TOKEN and NESTD_BASE_URL from the environment --
    r6 = os.path.join(work, "r6")
    os.makedirs(r6)
    rc, out, err = installer(["--root", r6, "--server", server_url, "--init", "none"],
                             env={"NESTD_TOKEN": token, "NESTD_BASE_URL": base},
                             shell=("sh", "-x"))
    check("token from $NESTD_TOKEN, base from $NESTD_BASE_URL",
          rc == 0 and read(r6 + "/etc/nestd/agent.token").strip() == token, err[-400:])
    check("$NESTD_TOKEN on no command line (sh -x trace)", hexpart not in err)

    # -- as a normal user --
    user_tests(work, users, base, token, server_url)

    # -- busybox: sh and every tool from busybox only (wget, sha256sum...) --
    busybox_tests(work, base, tokfile, server_url, new_binary)

    # -- nestd server serves install.sh and its own binary --
    server_tests(work, procs, tokens, tokfile, token)

    # -- make install / make uninstall --
    make_tests(work)


def e2e_agent(work, procs, binp, tokp, tokens):
    port = free_port()
    log = open(os.path.join(work, "e2e-server.log"), "w+")
    srv = subprocess.Popen([NESTD, "server", "--listen", "127.0.0.1:%d" % port,
                            "--tokens", tokens], stderr=log, stdout=subprocess.DEVNULL)
    procs.append(srv)
    if not check("e2e: server up", wait_port(port, srv)):
        return
    ag = subprocess.Popen([binp, "agent", "--server", "ws://127.0.0.1:%d/" % port,
                           "--token-file", tokp, "--once"],
                          stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    procs.append(ag)
    ok = False
    for _ in range(100):
        st, body, _ = http_get("http://127.0.0.1:%d/healthz" % port)
        if st == 200 and b'"agents":1' in body:
            ok = True
            break
        time.sleep(0.05)
    check("e2e: the installed binary authenticates with the installed token", ok)
    ag.terminate()
    ag.wait(5)
    srv.terminate()
    srv.wait(5)


def user_tests(work, users, base, token, server_url):
    name = "nestdit%d" % os.getpid()
    home = os.path.join(work, "home", name)
    os.makedirs(os.path.dirname(home))
    r = subprocess.run(["useradd", "-M", "-d", home, "-s", "/bin/sh", name],
                       capture_output=True, text=True)
    if not check("throwaway user created", r.returncode == 0, r.stderr):
        return
    users.append(name)
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
    check("user install: exit 0", rc == 0, err)
    b = home + "/.local/bin/nestd"
    conf = home + "/.config/nestd/agent.conf"
    check("user install: binary in ~/.local/bin, owned by the user",
          os.path.isfile(b) and os.stat(b).st_uid == pw.pw_uid)
    check("user install: ~/.config/nestd/agent.conf 0600 with the user's paths",
          os.path.isfile(conf) and stat.S_IMODE(os.stat(conf).st_mode) == 0o600
          and ("token-file = %s/.config/nestd/agent.token" % home) in read(conf))
    check("user install: manifest in ~/.local/state/nestd",
          os.path.isfile(home + "/.local/state/nestd/install.manifest"))
    check("user install without systemd: the foreground line",
          ("%s agent --config %s" % (b, conf)) in out, out)
    rc, out, err = installer(["--system", "--base-url", base], user=name)
    check("user: --system without root is refused", rc == 1 and "root" in err, err)
    rc, out, err = installer(["--uninstall"], user=name)
    check("user uninstall: exit 0", rc == 0, err)
    check("user uninstall: the home is as before", tree(home) == pre, tree(home) ^ pre)

    # Starting the service: a systemctl stand-in on PATH records its argv.
    stubs = os.path.join(work, "stubs")
    log = os.path.join(work, "systemctl.log")
    write(stubs + "/systemctl", '#!/bin/sh\necho "systemctl $*" >> %s\n'
          '[ "$2" = restart ] && [ -n "${STUB_FAIL:-}" ] && exit 1\nexit 0\n' % log, 0o755)
    write(log, "", 0o666)
    env = {"PATH": stubs + ":" + os.environ["PATH"]}
    rc, out, err = installer(["--token-file", home + "/my-token", "--server", server_url,
                              "--base-url", base, "--init", "systemd"], user=name, env=env)
    check("user install with systemd: unit enabled and (re)started with systemctl --user",
          rc == 0 and read(log).splitlines() == [
              "systemctl --user daemon-reload", "systemctl --user enable nestd-agent.service",
              "systemctl --user restart nestd-agent.service"], read(log) + err)
    check("user install with systemd: says how to see it", "journalctl --user -u nestd-agent" in out,
          out)
    write(log, "", 0o666)
    env["STUB_FAIL"] = "1"
    rc, out, err = installer(["--base-url", base, "--init", "systemd"], user=name, env=env)
    check("service that does not start: exit 1, says where to look",
          rc == 1 and "systemctl --user status nestd-agent" in err, err)
    del env["STUB_FAIL"]
    write(log, "", 0o666)
    rc, out, err = installer(["--uninstall"], user=name, env=env)
    check("uninstall stops and disables the unit, then reloads",
          rc == 0 and read(log).splitlines() == [
              "systemctl --user disable --now nestd-agent.service",
              "systemctl --user daemon-reload"], read(log))
    check("uninstall: the home is as before, again", tree(home) == pre, tree(home) ^ pre)

    root = os.path.join(work, "ru")
    os.makedirs(root + "/run/systemd/system")
    os.chown(root, pw.pw_uid, pw.pw_gid)
    rc, out, err = installer(["--root", root, "--token-file", home + "/my-token",
                              "--server", server_url, "--base-url", base], user=name)
    unit = root + home + "/.config/systemd/user/nestd-agent.service"
    check("user install with systemd: a user unit, equal to contrib/",
          rc == 0 and os.path.isfile(unit)
          and read(unit) == read(TOP + "/contrib/nestd-agent.user.service"), err)
    check("user install: no system paths touched",
          not os.path.exists(root + "/etc") and not os.path.exists(root + "/usr"))
    rc, out, err = installer(["--root", root, "--uninstall"], user=name)
    check("user uninstall in a root: only run/ is left",
          rc == 0 and tree(root) == {"run/", "run/systemd/", "run/systemd/system/"}, tree(root))


def busybox_tests(work, base, tokfile, server_url, binary):
    bb = shutil.which("busybox")
    if not bb:
        print("skip busybox tests: no busybox (apt-get install busybox)")
        return
    bbdir = os.path.join(work, "bb")
    os.makedirs(bbdir)
    r = subprocess.run([bb, "--install", "-s", bbdir], capture_output=True)
    check("busybox applets linked", r.returncode == 0 and os.path.exists(bbdir + "/wget"))
    env = {"PATH": bbdir}
    root = os.path.join(work, "rb")
    os.makedirs(root + "/run/systemd/system")
    rc, out, err = installer(["--root", root, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base], shell=(bb, "sh"), env=env)
    check("busybox sh + busybox wget/sha256sum: install", rc == 0
          and read(root + "/usr/local/bin/nestd", "rb") == binary, out + err)
    rc, out, err = installer(["--root", root, "--base-url", base], shell=(bb, "sh"), env=env)
    check("busybox: re-run upgrades", rc == 0 and "upgraded" in out, out + err)
    good = os.path.join(work, "dist", "nestd-linux-" + ARCH)
    data = read(good, "rb")
    write(good, data + b"x", 0o755)
    r2 = os.path.join(work, "rb2")
    os.makedirs(r2)
    rc, out, err = installer(["--root", r2, "--server", server_url, "--token-file", tokfile,
                              "--base-url", base], shell=(bb, "sh"), env=env)
    check("busybox: corrupted download refused", rc == 1 and "checksum mismatch" in err
          and tree(r2) == set(), err)
    write(good, data, 0o755)
    rc, out, err = installer(["--root", root, "--uninstall"], shell=(bb, "sh"), env=env)
    check("busybox: uninstall", rc == 0 and tree(root) == {"run/", "run/systemd/",
                                                           "run/systemd/system/"}, tree(root))


def server_tests(work, procs, tokens, tokfile, token):
    port = free_port()
    log = open(os.path.join(work, "server.log"), "w+")
    srv = subprocess.Popen([NESTD, "server", "--listen", "127.0.0.1:%d" % port,
                            "--tokens", tokens], stderr=log, stdout=subprocess.DEVNULL)
    procs.append(srv)
    if not check("nestd server up", wait_port(port, srv)):
        return
    url = "http://127.0.0.1:%d" % port
    st, body, hdr = http_get(url + "/install.sh")
    check("GET /install.sh: 200 text/x-shellscript, no token needed",
          st == 200 and hdr.get("Content-Type", "").startswith("text/x-shellscript"))
    text = body.decode()
    check("/install.sh has the server's URL filled in",
          "\nNESTD_DEFAULT_SERVER='ws://127.0.0.1:%d/'\n" % port in text
          and "\nNESTD_DEFAULT_BASE='%s/dist'\n" % url in text)
    check("/install.sh is install.sh otherwise",
          re.sub(r"(?m)^(NESTD_DEFAULT_\w+=)'.*'$", r"\1''", text) == read(INSTALL_SH))
    own = hashlib.sha256(read(NESTD, "rb")).hexdigest()
    for n in ("nestd-linux-" + ARCH, "nestd-%s-linux-%s" % (VERSION, ARCH)):
        st, body, hdr = http_get(url + "/dist/" + n)
        check("GET /dist/%s: the server's own binary" % n,
              st == 200 and hashlib.sha256(body).hexdigest() == own
              and hdr.get("Content-Type") == "application/octet-stream")
        st, body, _ = http_get(url + "/dist/" + n + ".sha256")
        check("GET /dist/%s.sha256: sha256sum format" % n,
              st == 200 and body.decode() == "%s  %s\n" % (own, n))
    for bad in ("/dist/nestd-linux-sparc", "/dist/..", "/dist/.hidden", "/dist/a%2f..%2fb",
                "/dist/../install.sh", "/dist/", "/dist/nestd-linux-" + ARCH + "/x"):
        st, _, _ = http_get(url + bad)
        check("GET %s: 404" % bad, st == 404, str(st))
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                        url + "/install.sh"], capture_output=True, text=True)
    check("POST /install.sh: 405", r.stdout == "405", r.stdout)
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: a'b",
                        url + "/install.sh"], capture_output=True, text=True)
    check("a Host that cannot go into the script: 400", r.stdout == "400", r.stdout)

    # The one-line install, piped, exactly as documented.
    root = os.path.join(work, "rs")
    os.makedirs(root + "/run/systemd/system")
    e = dict(os.environ)
    cmd = "curl -fsSL %s/install.sh | sh -s -- --root %s --token-file %s --no-start" % (
        url, root, tokfile)
    p = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, env=e, timeout=60)
    check("curl SERVER/install.sh | sh: exit 0", p.returncode == 0, p.stderr)
    binp = root + "/usr/local/bin/nestd"
    check("piped install: the server's own binary",
          os.path.isfile(binp) and sha(binp) == own)
    conf = root + "/etc/nestd/agent.conf"
    check("piped install: the server's URL in the config",
          os.path.isfile(conf) and ("server = ws://127.0.0.1:%d/" % port) in read(conf))
    check("piped install: unit file written",
          os.path.isfile(root + "/etc/systemd/system/nestd-agent.service"))
    srv.terminate()
    srv.wait(5)

    # --public-url is used verbatim; --dist-dir serves the newest version.
    dd = os.path.join(work, "dd")
    make_dist(dd, b"old\n", ["nestd-0.9.0-linux-" + ARCH])
    make_dist(dd, b"new\n", ["nestd-0.10.0-linux-" + ARCH])
    os.unlink(os.path.join(dd, "nestd-0.10.0-linux-%s.sha256" % ARCH))
    write(os.path.join(dd, ".secret"), "no\n")
    port = free_port()
    srv = subprocess.Popen([NESTD, "server", "--listen", "127.0.0.1:%d" % port,
                            "--tokens", tokens, "--public-url", "https://bot.example.org/nest/",
                            "--dist-dir", dd], stderr=log, stdout=subprocess.DEVNULL)
    procs.append(srv)
    if not check("nestd server --public-url --dist-dir up", wait_port(port, srv)):
        return
    url = "http://127.0.0.1:%d" % port
    st, body, _ = http_get(url + "/install.sh")
    text = body.decode()
    check("--public-url: wss:// server and https base in the script",
          "\nNESTD_DEFAULT_SERVER='wss://bot.example.org/nest'\n" in text
          and "\nNESTD_DEFAULT_BASE='https://bot.example.org/nest/dist'\n" in text)
    st, body, _ = http_get(url + "/dist/nestd-linux-" + ARCH)
    check("--dist-dir: nestd-linux-ARCH is the newest version", st == 200 and body == b"new\n")
    st, body, _ = http_get(url + "/dist/nestd-linux-%s.sha256" % ARCH)
    check("--dist-dir: its .sha256 computed when missing",
          st == 200 and body.decode() == "%s  nestd-0.10.0-linux-%s\n" % (
              hashlib.sha256(b"new\n").hexdigest(), ARCH))
    st, body, _ = http_get(url + "/dist/nestd-0.9.0-linux-%s.sha256" % ARCH)
    check("--dist-dir: a .sha256 file present is served as is",
          st == 200 and body.decode() == read(os.path.join(dd, "nestd-0.9.0-linux-%s.sha256" % ARCH)))
    st, body, _ = http_get(url + "/dist/nestd-0.9.0-linux-" + ARCH)
    check("--dist-dir: a versioned name", st == 200 and body == b"old\n")
    st, _, _ = http_get(url + "/dist/.secret")
    check("--dist-dir: dot files are not served", st == 404)
    srv.terminate()
    srv.wait(5)
    r = subprocess.run([NESTD, "server", "--listen", "127.0.0.1:%d" % free_port(), "--tokens",
                        tokens, "--public-url", "https://x/'$(id)'"], capture_output=True, text=True,
                       timeout=10)
    check("a --public-url that cannot go into the script: exit 2", r.returncode == 2, r.stderr)
    r = subprocess.run([NESTD, "server", "--listen", "127.0.0.1:%d" % free_port(), "--tokens",
                        tokens, "--dist-dir", "/nonexistent"], capture_output=True, text=True,
                       timeout=10)
    check("--dist-dir that does not exist: exit 1 with a reason",
          r.returncode == 1 and "dist-dir" in r.stderr, r.stderr)


def make_tests(work):
    if not os.path.isfile(os.path.join(TOP, "nestd")):
        print("skip make install tests: no ./nestd built")
        return
    d = os.path.join(work, "destdir")
    # -o nestd: install what is built; the test must not rebuild the tree.
    r = subprocess.run(["make", "-s", "-C", TOP, "-o", "nestd", "install", "DESTDIR=" + d,
                        "PREFIX=/usr"],
                       capture_output=True, text=True)
    check("make install: exit 0", r.returncode == 0, r.stderr)
    want = {"usr/bin/nestd", "usr/lib/systemd/system/nestd-agent.service",
            "usr/lib/systemd/user/nestd-agent.service", "etc/init.d/nestd-agent",
            "usr/share/nestd/install.sh"}
    files = {p for p in tree(d) if not p.endswith("/")}
    check("make install: binary, units, OpenRC script, install.sh", files == want, files)
    if files == want:
        check("make install: ExecStart points at PREFIX/bin",
              "ExecStart=/usr/bin/nestd agent" in read(d + "/usr/lib/systemd/system/nestd-agent.service")
              and "ExecStart=/usr/bin/nestd agent" in read(d + "/usr/lib/systemd/user/nestd-agent.service")
              and 'command="/usr/bin/nestd"' in read(d + "/etc/init.d/nestd-agent"))
    r = subprocess.run(["make", "-s", "-C", TOP, "uninstall", "DESTDIR=" + d, "PREFIX=/usr"],
                       capture_output=True, text=True)
    check("make uninstall: the files are gone",
          r.returncode == 0 and not {p for p in tree(d) if not p.endswith("/")}, tree(d))


if __name__ == "__main__":
    sys.exit(main())
