#!/usr/bin/python3
"""it_deb.py - the Debian package (make deb) in a fresh Debian 12 root
booted with a real systemd (nspawn.py's container, on a private network so
its server's port 8989 is its own): dpkg -i, the nestd system user and its
state directory, the server's unit started and answering (a token minted
as that user, an agent from the package connecting to it, over TCP and
the Unix socket), the man page and completions in place, the agent's unit
started from a config of its own (Type=exec: a start whose binary cannot
run fails at once), then dpkg -r (stopped, the config kept) and dpkg -P
(state and config gone).

Run as root with /usr/bin/python3, after make deb."""
import glob
import os
import shutil
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import nestlib  # noqa: E402
from nestlib import T, check, path, wait_until  # noqa: E402
from nspawn import Container, run_tests, tarball  # noqa: E402

S = types.SimpleNamespace(c=None)


def sh(script, timeout=60):
    return S.c.sh(script, timeout=T(timeout))


def setup():
    if os.geteuid() != 0:
        raise RuntimeError("it_deb.py needs root (containers)")
    debs = sorted(glob.glob(os.path.join(TOP, "dist", "nestd_*.deb")), key=os.path.getmtime)
    if not debs:
        raise RuntimeError("no dist/nestd_*.deb: run make deb first")
    S.deb = debs[-1]
    S.c = Container("systemd", "nestd-deb-%d" % os.getpid(), path("container.log"), opts=["--private-network"])
    S.c.unpack(tarball("systemd"))
    shutil.copy(S.deb, S.c.path("/root/nestd.deb"))
    S.c.boot()
    wait_until(lambda: S.c.run(["test", "-S", "/run/systemd/private"])[0] == 0, 30, 0.05)
    rc, out, err = S.c.run(["systemctl", "is-system-running", "--wait"], timeout=T(60))
    check(out.strip() in ("running", "degraded"), "the container boots", (out, err))


def test_install():
    rc, out, err = sh("dpkg -i /root/nestd.deb", 120)
    check(rc == 0, "dpkg -i nestd.deb: exit 0", (out[-800:], err[-800:]))
    rc, out, _ = S.c.run(["getent", "passwd", "nestd"])
    f = out.strip().split(":")
    check(rc == 0 and len(f) == 7 and int(f[2]) < 1000 and f[5] == "/var/lib/nestd" and f[6].endswith("nologin"),
          "a nestd system user, home /var/lib/nestd, no login shell", out)
    rc, out, _ = S.c.run(["stat", "-c", "%U %G %a", "/var/lib/nestd"])
    check(out.strip() == "nestd nestd 700", "/var/lib/nestd: nestd's, 0700", out)
    ok = wait_until(lambda: S.c.run(["systemctl", "is-active", "nestd-server"])[1].strip() == "active", 20, 0.1)
    check(ok, "nestd-server.service is started", S.c.run(["systemctl", "status", "nestd-server", "--no-pager"])[1])
    rc, out, _ = S.c.run(["systemctl", "is-enabled", "nestd-server"])
    check(out.strip() == "enabled", "and enabled", out)
    m = wait_until(lambda: unit_main("nestd-server"), 10, 0.05)
    want = f[2] if len(f) == 7 else "?"
    check(m and m[1] == [[want] * 4], "the server runs as nestd (real, effective, saved and fs uid %s)" % want, m)
    for p in ("/usr/bin/nestd", "/usr/share/man/man1/nestd.1.gz", "/usr/share/bash-completion/completions/nestd",
              "/usr/share/zsh/vendor-completions/_nestd", "/lib/systemd/system/nestd-server.service",
              "/lib/systemd/system/nestd-agent.service", "/usr/lib/systemd/user/nestd-agent.service",
              "/etc/nestd/server.conf", "/usr/share/doc/nestd/copyright", "/usr/share/nestd/install.sh"):
        check(S.c.run(["test", "-f", p])[0] == 0, "installed: " + p)
    rc, out, _ = S.c.run(["dpkg-query", "-W", "-f=${Conffiles}", "nestd"])
    check("/etc/nestd/server.conf" in out, "server.conf is a conffile", out)


def test_serves():
    # As the README says (sudo -u nestd), with HOME still root's: the
    # default state directory is the one nestd owns.
    S.c.write("/root/ops.token", mint("ops --role operator", "a token minted as the nestd user") + "\n", 0o600)
    S.c.write("/root/box1.token", mint("box1", "an agent token") + "\n", 0o600)
    rc, out, err = sh("nestd agent --server ws://127.0.0.1:8989/ --token-file /root/box1.token "
                      "--services systemd > /root/agent.log 2>&1 & echo $! > /root/agent.pid")
    check(rc == 0, "the package's binary as an agent", err)
    ok = wait_until(lambda: "box1" in sh("nestd ctl --server http://127.0.0.1:8989 --token-file /root/ops.token "
                                         "clients")[1], 20, 0.2)
    check(ok, "ctl over TCP lists the agent (no restart: the new tokens were picked up)",
          sh("cat /root/agent.log; journalctl -u nestd-server --no-pager | tail -20")[1])
    rc, out, err = sh("nestd ctl --server unix:/run/nestd/nestd.sock --token-file /root/ops.token sysinfo box1")
    check(rc == 0 and "hostname" in out, "ctl over the Unix socket of the unit's RuntimeDirectory", (out, err))
    rc, out, _ = S.c.run(["ls", "/var/lib/nestd"])
    check("tokens" in out.split(), "the token file in the state directory", out)
    # (The container has no procps: the agent goes by the pid its shell saw.)
    rc, out, err = sh("kill $(cat /root/agent.pid)")
    check(rc == 0, "the agent stopped by its pid", err)


def mint(args, what):
    """A token made by `nestd token new ARGS` as the nestd user, checked as what."""
    rc, tok, err = sh("cd / && setpriv --reuid=nestd --regid=nestd --init-groups nestd token new " + args)
    check(rc == 0 and len(tok.strip()) == 73, what, err)
    return tok.strip()


def unit_main(unit):
    """(pid, the Uid: line's four uids: real, effective, saved, fs) of
    unit's main process once it runs /usr/bin/nestd itself, else None.  Not
    the owner of /proc/PID: that reads root while the process is not
    dumpable, as it is between systemd's setuid and its exec of the binary."""
    pid = S.c.run(["systemctl", "show", "-p", "MainPID", "--value", unit])[1].strip()
    if not pid.isdigit() or pid == "0":
        return None
    if S.c.run(["readlink", "/proc/%s/exe" % pid])[1].strip() != "/usr/bin/nestd":
        return None
    st = S.c.run(["cat", "/proc/%s/status" % pid])[1]
    return pid, [l.split()[1:] for l in st.splitlines() if l.startswith("Uid:")]


def test_agent_unit():
    # The package ships the agent's unit but enables nothing: with a config
    # of its own (as install.sh would write it) it starts, connects, and a
    # stop closes the connection.
    S.c.write("/etc/nestd/agent.token", mint("box2", "an agent token for box2") + "\n", 0o600)
    S.c.write("/etc/nestd/agent.conf", "server = ws://127.0.0.1:8989/\n"
              "token-file = /etc/nestd/agent.token\nservices = systemd\n", 0o600)
    rc, out, err = S.c.run(["systemctl", "start", "nestd-agent"], timeout=T(30))
    check(rc == 0, "systemctl start nestd-agent (Type=exec: returns once nestd runs)", (out, err))
    m = wait_until(lambda: unit_main("nestd-agent"), 10, 0.05)
    check(m and m[1] == [["0"] * 4], "the agent's unit runs /usr/bin/nestd as root", m)
    ctl = "nestd ctl --server http://127.0.0.1:8989 --token-file /root/ops.token "
    ok = wait_until(lambda: "box2" in sh(ctl + "clients")[1], 20, 0.2)
    check(ok, "the unit's agent connects",
          S.c.run(["journalctl", "-u", "nestd-agent", "--no-pager"])[1][-2000:])
    rc, out, err = sh(ctl + "services box2")
    check(rc == 0 and "nestd-server.service" in out, "and lists the server's unit through systemd", (out, err))
    rc, out, err = S.c.run(["systemctl", "stop", "nestd-agent"], timeout=T(30))
    check(rc == 0 and S.c.run(["systemctl", "is-active", "nestd-agent"])[1].strip() == "inactive",
          "systemctl stop nestd-agent", (out, err))
    def state(name):
        rows = [l.split() for l in sh(ctl + "--no-headers clients")[1].splitlines()]
        return next((r[1] for r in rows if r and r[0] == name), None)
    ok = wait_until(lambda: state("box2") == "offline" and state("box1") == "offline", 20, 0.2)
    check(ok, "the server sees both agents go", sh(ctl + "clients")[1])
    # Type=exec: a start whose binary cannot be run fails there and then
    # (Type=simple would report success and fail after the fork).
    dropin = "/etc/systemd/system/nestd-agent.service.d"
    S.c.write(dropin + "/broken.conf", "[Service]\nExecStart=\nExecStart=/usr/lib/nestd/absent agent\n", 0o644)
    S.c.run(["systemctl", "daemon-reload"])
    rc, out, err = S.c.run(["systemctl", "start", "nestd-agent"], timeout=T(30))
    check(rc != 0, "a binary that cannot be run: systemctl start fails at once", (rc, out, err))
    S.c.run(["rm", "-rf", dropin])
    S.c.run(["systemctl", "stop", "nestd-agent"], timeout=T(30))
    S.c.run(["systemctl", "reset-failed", "nestd-agent"])
    S.c.run(["systemctl", "daemon-reload"])
    S.c.run(["rm", "-f", "/etc/nestd/agent.conf", "/etc/nestd/agent.token"])


def test_remove_and_purge():
    rc, out, err = sh("dpkg -r nestd", 120)
    check(rc == 0, "dpkg -r nestd: exit 0", (out[-500:], err[-500:]))
    rc, out, _ = S.c.run(["systemctl", "is-active", "nestd-server"])
    check(out.strip() in ("inactive", "unknown"), "the server is stopped", out)
    check(S.c.run(["test", "-e", "/usr/bin/nestd"])[0] != 0, "the binary is gone")
    check(S.c.run(["test", "-f", "/etc/nestd/server.conf"])[0] == 0, "the conffile stays until purge")
    check(S.c.run(["test", "-d", "/var/lib/nestd"])[0] == 0, "and the state")
    rc, out, err = sh("dpkg -P nestd", 120)
    check(rc == 0, "dpkg -P nestd: exit 0", (out[-500:], err[-500:]))
    for p in ("/etc/nestd/server.conf", "/var/lib/nestd", "/lib/systemd/system/nestd-server.service"):
        check(S.c.run(["test", "-e", p])[0] != 0, "purged: " + p)
    rc, out, _ = S.c.run(["dpkg-query", "-W", "-f=${Status}", "nestd"])
    check("installed" not in out or "not-installed" in out, "dpkg knows it no more", out)


if __name__ == "__main__":
    run_tests(S, [setup, test_install, test_serves, test_agent_unit, test_remove_and_purge])
