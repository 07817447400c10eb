#!/usr/bin/python3
"""it_dns.py - dns.c, nestd's own resolver, against a real DNS server:
Debian's dnsmasq (deps.sh test installs dnsmasq-base) in a network and
mount namespace of its own (`unshare -n -m`: only a loopback, brought up;
a resolv.conf and a hosts file of the test's bind-mounted over /etc's), with
a nestd server in the same namespace.  `nestd agent --server ws://NAME:PORT`
must reach it through each path: a name dnsmasq knows; a search domain; a
name only /etc/hosts has; an answer too big for UDP (dnsmasq sets TC: the
agent asks again over TCP); and it must fail clearly, keep retrying with
backoff and leak no descriptor for a name that does not exist (NXDOMAIN)
and for a nameserver that never answers (a timeout, said as one).

Needs root and unshare(CLONE_NEWNET | CLONE_NEWNS): skipped, with the
reason counted, where either is missing.  Every wait is bounded."""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import Proc, T, check, main, path, skip, token_new, wait_until  # noqa: E402

INSIDE = os.environ.get("NESTD_IT_DNS_NS") == "1"
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
BIG = 40           # A records of big.test: over 512 bytes, so TC over UDP


class S:
    tokens = None
    token = None
    port = None
    server = None
    dnsmasq = None
    resolv = None
    hosts = None


def write(p, text):
    # In place: the bind mount follows the inode, not the name.
    with open(p, "w") as f:
        f.write(text)


def resolv(text):
    write(S.resolv, text)


def setup():
    S.resolv = path("resolv.conf")
    S.hosts = path("hosts")
    write(S.resolv, "nameserver 127.0.0.1\n")
    write(S.hosts, "127.0.0.1 localhost\n127.0.0.1 fromhosts.example\n")
    for f, target in ((S.resolv, "/etc/resolv.conf"), (S.hosts, "/etc/hosts")):
        r = subprocess.run(["mount", "--bind", f, target], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("mount --bind %s %s: %s" % (f, target, r.stderr))
    big = path("big.hosts")
    write(big, "".join("127.0.%d.%d big.test\n" % (i // 200, 1 + i % 200) for i in range(BIG)))
    S.dnsmasq = subprocess.Popen(
        [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
         "--no-poll", "--user=root", "--pid-file=", "--listen-address=127.0.0.1",
         "--bind-interfaces", "--port=53", "--local=/test/", "--log-queries",
         "--log-facility=" + path("dnsmasq.log"),
         "--host-record=srv.test,127.0.0.1", "--host-record=api.corp.test,127.0.0.1",
         "--addn-hosts=" + big],
        stdout=subprocess.DEVNULL, stderr=open(path("dnsmasq.err"), "wb"))
    up = wait_until(lambda: os.path.exists(path("dnsmasq.log")) and
                    "started" in open(path("dnsmasq.log")).read(), 10)
    check(up, "dnsmasq started in the namespace", open(path("dnsmasq.err")).read()[-500:])
    S.tokens = path("tokens")
    S.token = token_new(S.tokens, "dnsbox")
    S.port = nestlib.free_port("0.0.0.0")
    # 0.0.0.0 in a namespace whose only interface is the loopback: every
    # 127.x of big.test reaches it, and nothing else can.
    S.server = Proc(["server", "--listen", "0.0.0.0:%d" % S.port, "--tokens", S.tokens], "server")
    if not S.server.wait_log(r"server ready", 15):
        raise RuntimeError("server did not start: " + S.server.text()[-2000:])


def agent(name, url_host):
    return Proc(["agent", "--server", "ws://%s:%d" % (url_host, S.port)], name,
                env={"NESTD_TOKEN": S.token})


def reaches(name, host, what):
    a = agent(name, host)
    ok = a.wait_log(r"authenticated to ", 15)
    check(ok, "the agent reaches ws://%s through %s" % (host, what), a.text()[-1500:])
    a.stop()
    return ok


def test_name_from_dns():
    reaches("a-dns", "srv.test", "dnsmasq")
    log = open(path("dnsmasq.log")).read()
    check(re.search(r"query\[A\] srv\.test from 127\.0\.0\.1", log) and
          re.search(r"query\[AAAA\] srv\.test from 127\.0\.0\.1", log),
          "dnsmasq was asked for A and AAAA of srv.test", log[-800:])


def test_search_domain():
    resolv("nameserver 127.0.0.1\nsearch nowhere.test corp.test\n")
    reaches("a-search", "api", "the search list (api.corp.test, after nowhere.test's NXDOMAIN)")
    log = open(path("dnsmasq.log")).read()
    check("api.nowhere.test" in log and "api.corp.test" in log,
          "the search domains were tried in order", log[-800:])
    resolv("nameserver 127.0.0.1\n")


def test_hosts_file():
    before = open(path("dnsmasq.log")).read().count("fromhosts")
    reaches("a-hosts", "fromhosts.example", "/etc/hosts")
    after = open(path("dnsmasq.log")).read().count("fromhosts")
    check(before == after == 0, "a name /etc/hosts has is not asked of DNS")


def test_truncated_over_tcp():
    reaches("a-big", "big.test", "an answer of %d records (TC over UDP, then TCP)" % BIG)
    log = open(path("dnsmasq.log")).read()
    # dnsmasq answers a TCP query from a child of its own: the log line
    # carries another pid than the UDP ones.
    pids = set(re.findall(r"dnsmasq\[(\d+)\]: query\[A\] big\.test", log))
    check(len(pids) >= 2,
          "big.test was asked twice (UDP, then TCP)", log[-1200:])


def failing(name, host, pattern, what):
    a = agent(name, host)
    first = a.wait_log(pattern, 40)
    check(first, "%s: a clear error" % what, a.text()[-1500:])
    second = first and a.wait_log(r"reconnecting in ([0-9.]+) s", 40, since=first.end())
    third = second and a.wait_log(pattern, 40, since=second.end())
    check(third and a.alive(), "%s: the agent keeps trying" % what, a.text()[-1500:])
    later = third and a.wait_log(r"reconnecting in ([0-9.]+) s", 40, since=third.end())
    check(second and later and float(later.group(1)) > 0,
          "%s: with backoff" % what, a.text()[-1500:])
    fds = a.nfds()
    m = a.mark()
    again = a.wait_log(pattern, 60, since=m)
    check(again and a.nfds() == fds, "%s: no descriptor leaked across tries" % what,
          "%d then %d" % (fds, a.nfds()))
    a.stop()


def test_nxdomain():
    failing("a-nx", "nosuch.test", r"cannot resolve nosuch\.test: no such name \(NXDOMAIN\)",
            "NXDOMAIN")


def test_unreachable_nameserver():
    # A nameserver that reads and never answers: a UDP socket bound on
    # 127.0.0.2:53 (a port refused would be an ICMP error, not silence).
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.2", 53))
    resolv("nameserver 127.0.0.2\noptions timeout:1 attempts:2\n")
    try:
        failing("a-silent", "srv.test",
                r"cannot resolve srv\.test: no answer from nameserver 127\.0\.0\.2 within 1 s",
                "a silent nameserver")
        s.settimeout(0.1)
        got = 0
        try:
            while True:
                s.recv(512)
                got += 1
        except OSError:
            pass
        check(got >= 4, "the queries were sent again within the timeout (attempts:2)",
              "%d datagrams" % got)
    finally:
        s.close()
        resolv("nameserver 127.0.0.1\n")
    resolv("nameserver 127.0.0.3\noptions timeout:1\n")
    failing("a-refused", "srv.test", r"cannot resolve srv\.test: nameserver 127\.0\.0\.3: "
            r"Connection refused", "a nameserver port that is closed")
    resolv("nameserver 127.0.0.1\n")


def outside():
    """Not yet in the namespace: run this file again inside one."""
    if os.geteuid() != 0:
        skip("it_dns", "needs root for a network and mount namespace")
        return False
    if not os.path.exists(DNSMASQ):
        skip("it_dns", "no dnsmasq (sh deps.sh test installs dnsmasq-base)")
        return False
    for f in ("/etc/resolv.conf", "/etc/hosts"):
        if not os.path.isfile(f):   # a dangling link (a resolver not running): nothing to mount over
            skip("it_dns", "%s is not a file to bind-mount over" % f)
            return False
    probe = subprocess.run(["unshare", "-n", "-m", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        skip("it_dns", "unshare -n -m is not permitted here: " + probe.stderr.strip()[:200])
        return False
    env = dict(os.environ, NESTD_IT_DNS_NS="1")
    cmd = ["unshare", "-n", "-m", "sh", "-c",
           "ip link set lo up && exec /usr/bin/python3 \"$0\" \"$@\"",
           os.path.abspath(__file__)] + sys.argv[1:]
    try:
        r = subprocess.run(cmd, env=env, timeout=T(400))
    except subprocess.TimeoutExpired:
        check(False, "it_dns in its namespace finished in time")
        return False
    sys.exit(r.returncode)


def teardown():
    if S.server:
        S.server.stop()
    if S.dnsmasq:
        S.dnsmasq.terminate()
        try:
            S.dnsmasq.wait(T(5))
        except subprocess.TimeoutExpired:
            S.dnsmasq.kill()
            S.dnsmasq.wait()


if __name__ == "__main__":
    if not INSIDE:
        if outside() is False:
            main([])
    else:
        main([setup, test_name_from_dns, test_search_domain, test_hosts_file,
              test_truncated_over_tcp, (test_nxdomain, 120), (test_unreachable_nameserver, 200),
              teardown])
