#!/usr/bin/python3
"""it_deb.py - the Debian package (make deb) in a fresh Debian 12 root
booted with a real systemd (nspawn.py's container, on a private network so
its server's port 8989 is its own): dpkg -i, the nestd system user and its
state directory, the server's unit started and answering (a token minted
as that user, an agent from the package connecting to it, over TCP and
the Unix socket), the man page and completions in place, then dpkg -r
(stopped, the config kept) and dpkg -P (state and config gone).

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
    # The uids the kernel holds for the unit's main process (the Uid: line
    # of /proc/PID/status: real, effective, saved, fs), once that process
    # is nestd itself.  Not the owner of /proc/PID: that reads root while
    # the process is not dumpable, as it is between systemd's setuid and
    # its exec of the binary.
    def main_uids():
        pid = S.c.run(["systemctl", "show", "-p", "MainPID", "--value", "nestd-server"])[1].strip()
        rc, exe, _ = S.c.run(["readlink", "/proc/%s/exe" % pid])
        if not pid.isdigit() or pid == "0" or exe.strip() != "/usr/bin/nestd":
            return None
        rc, st, _ = S.c.run(["cat", "/proc/%s/status" % pid])
        return [l.split()[1:] for l in st.splitlines() if l.startswith("Uid:")]
    uids = wait_until(main_uids, 10, 0.05)
    want = f[2] if len(f) == 7 else "?"
    check(uids == [[want] * 4], "the server runs as nestd (real, effective, saved and fs uid %s)" % want, uids)
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
    rc, op, err = sh("cd / && setpriv --reuid=nestd --regid=nestd --init-groups "
                     "nestd token new ops --role operator")
    check(rc == 0 and len(op.strip()) == 73, "a token minted as the nestd user", err)
    rc, ag, err = sh("cd / && setpriv --reuid=nestd --regid=nestd --init-groups nestd token new box1")
    check(rc == 0 and len(ag.strip()) == 73, "an agent token", err)
    S.c.write("/root/ops.token", op.strip() + "\n", 0o600)
    S.c.write("/root/box1.token", ag.strip() + "\n", 0o600)
    rc, out, err = sh("nestd agent --server ws://127.0.0.1:8989/ --token-file /root/box1.token "
                      "--services systemd > /root/agent.log 2>&1 & echo started")
    check(rc == 0, "the package's binary as an agent", err)
    ok = wait_until(lambda: "box1" in sh("nestd ctl --server http://127.0.0.1:8989 --token-file /root/ops.token "
                                         "clients")[1], 20, 0.2)
    check(ok, "ctl over TCP lists the agent (no restart: the new tokens were picked up)",
          sh("cat /root/agent.log; journalctl -u nestd-server --no-pager | tail -20")[1])
    rc, out, err = sh("nestd ctl --server unix:/run/nestd/nestd.sock --token-file /root/ops.token sysinfo box1")
    check(rc == 0 and "hostname" in out, "ctl over the Unix socket of the unit's RuntimeDirectory", (out, err))
    rc, out, _ = S.c.run(["ls", "/var/lib/nestd"])
    check("tokens" in out.split(), "the token file in the state directory", out)
    sh("pkill -x -f 'nestd agent --server ws://127.0.0.1:8989/ --token-file /root/box1.token --services systemd'")


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
    run_tests(S, [setup, test_install, test_serves, test_remove_and_purge])
