#!/usr/bin/python3
"""it_tls.py - TLS (BearSSL) against peers nobody here wrote.

Certificates are made here with `openssl`: a CA, a server certificate for
localhost and 127.0.0.1, an expired one, one for the wrong host, a
self-signed one and an EC (P-256) one.

  - the agent (wss://) against Python's ssl + websockets server with each:
    accepted only where it should be, with the log line that says why;
    --pin right and wrong; --insecure warns at every connection
  - the server (tls:127.0.0.1:PORT) against `openssl s_client`, Python's
    websockets client over wss:// (RSA and EC keys), `curl --cacert` on the
    HTTPS API, and nestd ctl over https://
  - start-up errors, which listeners speak TLS
  - bad input on a TLS listener: plain HTTP, a truncated ClientHello, a
    client that stops mid-handshake, 200 handshakes at once

A binary built without TLS gets only the refusals (exit 2); the other
tests are counted as skipped there, and the refusals are skipped in a TLS
build.
Conventions of nestlib.py: NESTD=./nestd /usr/bin/python3 test/it_tls.py"""
import asyncio
import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import NESTD, T, Proc, Server, check, free_port, path, run, skip, token_new  # noqa: E402

S = types.SimpleNamespace()
HAS_TLS = False
NO_TLS = "this nestd is built without TLS (TLS=0)"


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def openssl(*args):
    p = sh(["openssl"] + list(args))
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args[:2]), p.stderr))
    return p.stdout


def make_certs():
    d = path("pki")
    os.makedirs(d, exist_ok=True)
    c = lambda n: os.path.join(d, n)  # noqa: E731
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", c("ca.key"),
            "-out", c("ca.pem"), "-days", "30", "-subj", "/CN=nestd test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    # openssl ca, for the dates an expired certificate needs.
    for f, v in (("index.txt", ""), ("serial", "1000\n")):
        with open(c(f), "w") as fh:
            fh.write(v)
    with open(c("ca.cnf"), "w") as fh:
        fh.write("""[ca]
default_ca = d
[d]
dir = %s
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
""" % d)

    def leaf(name, sans, key="rsa", start=None, end=None, days=30):
        if key == "rsa":
            openssl("genrsa", "-out", c(name + ".key"), "2048")
        else:
            openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", c(name + ".key"))
        openssl("req", "-new", "-key", c(name + ".key"), "-out", c(name + ".csr"),
                "-subj", "/CN=" + sans[0].split(":", 1)[1], "-addext",
                "subjectAltName=" + ",".join(sans))
        args = ["ca", "-batch", "-config", c("ca.cnf"), "-in", c(name + ".csr"),
                "-out", c(name + ".pem"), "-notext"]
        if start:
            args += ["-startdate", start, "-enddate", end]
        else:
            args += ["-days", str(days)]
        openssl(*args)
    here = ["DNS:localhost", "IP:127.0.0.1"]
    leaf("srv", here)
    leaf("expired", here, start="20200101000000Z", end="20200201000000Z")
    leaf("wrong", ["DNS:wrong.example.org"])
    leaf("ec", here, key="ec")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", c("self.key"),
            "-out", c("self.pem"), "-days", "30", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    with open(c("garbage.pem"), "w") as fh:
        fh.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    return c


def spki_pin(cert):
    pub = sh(["openssl", "x509", "-in", cert, "-pubkey", "-noout"]).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub.encode(),
                         capture_output=True).stdout
    import base64
    import hashlib
    return "sha256//" + base64.b64encode(hashlib.sha256(der).digest()).decode()


# ---- a WebSocket server nobody here wrote: Python ssl + websockets ----

PEER = r'''
import asyncio, ssl, sys, websockets
cert, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
async def h(ws, path=None):
    msg = await ws.recv()
    print("AUTH", msg[:40], flush=True)
    await ws.send('{"status":"info","message":"Authenticated :D"}')
    if "close" in sys.argv[4:]:
        await ws.close()
        return
    try:
        async for m in ws:
            pass
    except Exception:
        pass
async def main():
    async with websockets.serve(h, "127.0.0.1", port, ssl=ctx):
        print("ready", flush=True)
        await asyncio.Future()
asyncio.run(main())
'''


class Peer:
    def __init__(self, cert, key, close=False):
        self.port = free_port()
        self.log = path("peer.%d.log" % self.port)
        self.f = open(self.log, "w")
        self.p = subprocess.Popen(["/usr/bin/python3", "-c", PEER, cert, key, str(self.port)] +
                                  (["close"] if close else []), stdout=self.f,
                                  stderr=subprocess.STDOUT)
        end = time.monotonic() + 15
        while "ready" not in open(self.log).read():
            if time.monotonic() > end or self.p.poll() is not None:
                raise RuntimeError("websockets peer did not start: " + open(self.log).read())
            time.sleep(0.05)

    def stop(self):
        self.p.kill()
        self.p.wait()
        self.f.close()


def agent_try(peer_cert, peer_key, host="localhost", extra=(), expect_ok=True, name=""):
    """Runs the agent once against a fresh peer: (authenticated?, log text)."""
    peer = Peer(peer_cert, peer_key)
    try:
        a = Proc(["agent", "--server", "wss://%s:%d/" % (host, peer.port), "--token-file",
                  S.agent_tf, "--once", "--services", "none"] + list(extra), "agent")
        if expect_ok:
            ok = a.wait_log(r"authenticated to", 10) is not None
        else:
            a.wait(15)
            ok = "authenticated to" in a.text()
        a.stop()
        return ok, a.text()
    finally:
        peer.stop()


def setup():
    global HAS_TLS
    rc, out, err = run(["--version"])
    m = re.search(r"\(TLS: (yes \(BearSSL\)|no)\)", out)
    check(rc == 0 and m, "nestd --version: exit 0, says whether TLS is built in", (rc, out, err))
    HAS_TLS = bool(m) and m.group(1) != "no"
    S.tokens = path("tokens")
    S.agent_tok = token_new(S.tokens, "a1")
    S.op_tok = token_new(S.tokens, "ops", role="operator")
    S.agent_tf = path("a1.token")
    S.op_tf = path("ops.token")
    for f, t in ((S.agent_tf, S.agent_tok), (S.op_tf, S.op_tok)):
        with open(f, "w") as fh:
            fh.write(t + "\n")
        os.chmod(f, 0o600)
    if HAS_TLS:
        S.c = make_certs()


def test_without_tls():
    if HAS_TLS:
        return skip("test_without_tls", "this nestd has TLS; the refusals are those of a TLS=0 build")
    rc, out, err = run(["agent", "--server", "wss://127.0.0.1:9/", "--token-file", S.agent_tf])
    check(rc == 2 and "built without" in err, "no-TLS build: agent wss:// exits 2", (rc, err))
    rc, out, err = run(["ctl", "--server", "https://127.0.0.1:9", "clients"])
    check(rc == 2 and "built without" in err, "no-TLS build: ctl https:// exits 2", (rc, err))
    rc, out, err = run(["server", "--tls-cert", "x", "--tls-key", "y", "--tokens", S.tokens])
    check(rc == 2 and "built without" in err, "no-TLS build: server --tls-cert exits 2", (rc, err))


def test_agent_verification():
    if not HAS_TLS:
        return skip("test_agent_verification", NO_TLS)
    c = S.c
    ca = ["--ca-file", c("ca.pem")]
    ok, log = agent_try(c("srv.pem"), c("srv.key"), extra=ca)
    check(ok, "agent: CA-signed certificate for localhost accepted", log[-500:])
    ok, log = agent_try(c("srv.pem"), c("srv.key"), host="127.0.0.1", extra=ca)
    check(ok, "agent: dialled by IP, the certificate's IP address accepted", log[-500:])
    ok, log = agent_try(c("ec.pem"), c("ec.key"), extra=ca)
    check(ok, "agent: EC (P-256) certificate accepted", log[-500:])
    ok, log = agent_try(c("srv.pem"), c("srv.key"), expect_ok=False)
    check(not ok and "not trusted" in log, "agent: private CA refused with the system bundle "
          "(says 'not trusted')", log[-500:])
    ok, log = agent_try(c("expired.pem"), c("expired.key"), extra=ca, expect_ok=False)
    check(not ok and "expired" in log, "agent: expired certificate refused (says 'expired')",
          log[-500:])
    ok, log = agent_try(c("wrong.pem"), c("wrong.key"), extra=ca, expect_ok=False)
    check(not ok and "wrong host name" in log and "'localhost'" in log,
          "agent: certificate for another host refused (says 'wrong host name')", log[-500:])
    ok, log = agent_try(c("srv.pem"), c("srv.key"), host="127.0.0.2", extra=ca, expect_ok=False)
    check(not ok, "agent: IP not in the certificate refused", log[-500:])
    ok, log = agent_try(c("self.pem"), c("self.key"), extra=ca, expect_ok=False)
    check(not ok and "self-signed" in log, "agent: self-signed certificate refused "
          "(says 'self-signed')", log[-500:])
    rc, out, err = run(["agent", "--server", "wss://localhost:9/", "--token-file", S.agent_tf,
                        "--once", "--ca-file", path("nope.pem")])
    check(rc == 1 and "nope.pem" in err, "agent: unreadable --ca-file exits 1", (rc, err))
    rc, out, err = run(["agent", "--server", "wss://localhost:9/", "--token-file", S.agent_tf,
                        "--once", "--pin", "md5//abc"])
    check(rc == 2 and "--pin" in err, "agent: malformed --pin exits 2", (rc, err))


def test_agent_pin_insecure():
    if not HAS_TLS:
        return skip("test_agent_pin_insecure", NO_TLS)
    c = S.c
    ok, log = agent_try(c("self.pem"), c("self.key"), extra=["--pin", spki_pin(c("self.pem"))])
    check(ok, "agent: self-signed certificate with the right --pin accepted", log[-500:])
    ok, log = agent_try(c("ec.pem"), c("ec.key"), extra=["--pin", spki_pin(c("ec.pem"))])
    check(ok, "agent: EC key with the right --pin accepted", log[-500:])
    ok, log = agent_try(c("srv.pem"), c("srv.key"), extra=["--ca-file", c("ca.pem"), "--pin",
                                                           spki_pin(c("self.pem"))],
                        expect_ok=False)
    check(not ok and "does not match --pin" in log and spki_pin(c("srv.pem")) in log,
          "agent: wrong --pin refused even with a trusted chain (log names the real pin)",
          log[-500:])
    # --insecure: accepted, and the warning at every connection.
    peer = Peer(c("self.pem"), c("self.key"), close=True)
    try:
        a = Proc(["agent", "--server", "wss://localhost:%d/" % peer.port, "--token-file",
                  S.agent_tf, "--insecure", "--services", "none", "--reconnect-min", "0.05",
                  "--reconnect-max", "0.1"], "agent")
        nestlib.wait_until(lambda: a.count(r"authenticated to") >= 3, 15)
        a.stop()
        n_auth = a.count(r"authenticated to")
        n_warn = a.count(r"verification is OFF \(--insecure\)")
        check(n_auth >= 3, "agent --insecure: self-signed accepted (%d connections)" % n_auth,
              a.text()[-500:])
        check(n_warn >= n_auth, "agent --insecure: the warning at every connection (%d/%d)"
              % (n_warn, n_auth), a.text()[-800:])
    finally:
        peer.stop()


def tls_server(cert, key, extra=(), name="server", port=None, tokens=None):
    tp = port or free_port()
    s = Server(tokens or S.tokens, ["--listen", "tls:127.0.0.1:%d" % tp, "--tls-cert", cert,
                          "--tls-key", key] + list(extra), name=name)
    s.tport = tp
    return s


def https_get(port, p, cafile, token=None, host="localhost"):
    args = ["curl", "-sS", "--max-time", str(int(T(10))), "--cacert", cafile,
            "https://%s:%d%s" % (host, port, p)]
    if token:
        args += ["-H", "Authorization: Bearer " + token]
    r = sh(args)
    return r.returncode, r.stdout, r.stderr


def wss_auth(port, cafile, host="localhost"):
    import websockets

    async def go():
        ctx = ssl.create_default_context(cafile=cafile)
        # Dial the loopback address, verify the name: resolving "localhost"
        # is the resolver's business, and minimal roots have no /etc/hosts.
        async with websockets.connect("wss://127.0.0.1:%d/" % port, ssl=ctx,
                                      server_hostname=host) as ws:
            await ws.send(nestlib.auth_msg(S.agent_tok))
            return await ws.recv()
    return nestlib.arun(go(), 20)


def test_server_tls():
    if not HAS_TLS:
        return skip("test_server_tls", NO_TLS)
    c = S.c
    for kind, cert, key in (("RSA", "srv.pem", "srv.key"), ("EC", "ec.pem", "ec.key")):
        s = tls_server(c(cert), c(key))
        check(s.wait_log(r"listening on 127\.0\.0\.1:%d \(TLS\)" % s.tport, 5) and
              s.wait_log(r"listening on 127\.0\.0\.1:%d\n" % s.port, 5),
              "server %s: tls: listener says TLS, the loopback one stays plain" % kind)
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.tport,
                            "-CAfile", c("ca.pem"), "-servername", "localhost",
                            "-verify_return_error", "-quiet"],
                           input=b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n",
                           capture_output=True, timeout=T(20))
        out = r.stdout.decode("utf-8", "replace")
        check(r.returncode == 0 and '"status":"ok"' in out,
              "server %s: openssl s_client verifies and gets /healthz" % kind,
              (r.returncode, out[-300:], r.stderr[-300:]))
        rc, out, err = https_get(s.tport, "/healthz", c("ca.pem"))
        check(rc == 0 and '"status":"ok"' in out, "server %s: curl --cacert /healthz" % kind,
              (rc, out, err))
        reply = wss_auth(s.tport, c("ca.pem"))
        check("Authenticated :D" in reply, "server %s: Python websockets client over wss:// "
              "authenticates" % kind, reply)
        # A real agent over wss:// too, then the operator API over HTTPS.
        a = Proc(["agent", "--server", "wss://localhost:%d/" % s.tport, "--token-file",
                  S.agent_tf, "--ca-file", c("ca.pem"), "--services", "none"], "agent")
        check(a.wait_log(r"authenticated to", 10), "server %s: nestd agent over wss://" % kind,
              a.text()[-300:])
        rc, out, err = https_get(s.tport, "/api/clients", c("ca.pem"), token=S.op_tok)
        check(rc == 0 and '"a1"' in out, "server %s: curl /api/clients with a Bearer token"
              % kind, (rc, out[:300], err))
        rc, out, err = run(["ctl", "--server", "https://localhost:%d" % s.tport, "--ca-file",
                            c("ca.pem"), "--token-file", S.op_tf, "sysinfo", "a1"])
        check(rc == 0 and "hostname" in out, "server %s: nestd ctl over https:// runs a "
              "command on the agent" % kind, (rc, out[-300:], err))
        rc, out, err = run(["ctl", "--server", "https://127.0.0.1:%d" % s.tport, "--pin",
                            spki_pin(c(cert)), "--token-file", S.op_tf, "clients"])
        check(rc == 0 and "a1" in out, "server %s: nestd ctl with --pin" % kind, (rc, out, err))
        rc, out, err = run(["ctl", "--server", "https://localhost:%d" % s.tport, "--token-file",
                            S.op_tf, "clients"])
        check(rc != 0 and "not trusted" in err, "server %s: nestd ctl refuses an untrusted "
              "certificate" % kind, (rc, err))
        a.stop()
        check(s.stop() == 0, "server %s: exits 0 on SIGTERM" % kind)


def test_listener_choice_and_startup_errors():
    if not HAS_TLS:
        return skip("test_listener_choice_and_startup_errors", NO_TLS)
    c = S.c
    p1, p2 = free_port("0.0.0.0"), free_port()
    s = Proc(["server", "--listen", "0.0.0.0:%d" % p1, "--listen", "127.0.0.1:%d" % p2,
              "--tls-cert", c("srv.pem"), "--tls-key", c("srv.key"), "--tokens", S.tokens],
             "server")
    check(s.wait_log(r"listening on 0\.0\.0\.0:%d \(TLS\)" % p1, 10) and
          s.wait_log(r"listening on 127\.0\.0\.1:%d\n" % p2, 10),
          "with a certificate, 0.0.0.0 speaks TLS and loopback stays plain", s.text()[-400:])
    rc, out, err = https_get(p1, "/healthz", c("ca.pem"))
    check(rc == 0 and '"status":"ok"' in out, "0.0.0.0 listener answers HTTPS", (rc, out, err))
    r = sh(["curl", "-sS", "--max-time", "5", "http://127.0.0.1:%d/healthz" % p2])
    check(r.returncode == 0 and '"status":"ok"' in r.stdout, "loopback listener answers plain "
          "HTTP", (r.returncode, r.stdout, r.stderr))
    s.stop()
    base = ["server", "--listen", "127.0.0.1:%d" % free_port(), "--tokens", S.tokens]
    cases = [
        (["--tls-cert", path("missing.pem"), "--tls-key", c("srv.key")], 1, "missing.pem",
         "missing certificate file"),
        (["--tls-cert", c("garbage.pem"), "--tls-key", c("srv.key")], 1, "cannot parse",
         "garbage certificate"),
        (["--tls-cert", c("srv.pem"), "--tls-key", c("srv.pem")], 1, "no PEM private key",
         "a key file without a key"),
        (["--tls-cert", c("srv.pem"), "--tls-key", c("ec.key")], 1, "does not match",
         "a key that does not match the certificate"),
        (["--tls-cert", c("srv.pem")], 2, "go together", "--tls-cert without --tls-key"),
        (["--listen", "tls:127.0.0.1:%d" % free_port()], 2, "needs --tls-cert",
         "tls: listener without a certificate"),
    ]
    for args, code, word, what in cases:
        rc, out, err = run(base + args, timeout=T(10))
        check(rc == code and word in err and len(err.strip().splitlines()) == 1,
              "start-up: %s -> exit %d, one line" % (what, code), (rc, err))


def test_bad_input():
    if not HAS_TLS:
        return skip("test_bad_input", NO_TLS)
    c = S.c
    s = tls_server(c("srv.pem"), c("srv.key"))
    fds0 = s.nfds()

    def healthy():
        rc, out, err = https_get(s.tport, "/healthz", c("ca.pem"))
        return rc == 0 and '"status":"ok"' in out

    # Plain HTTP to the TLS port: closed, the server serves on.
    k = socket.create_connection(("127.0.0.1", s.tport), timeout=T(10))
    k.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data, closed = b"", False
    try:
        while True:
            d = k.recv(4096)
            if not d:
                closed = True
                break
            data += d
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    k.close()
    check(closed and b"HTTP/1.1 200" not in data, "plain HTTP on the TLS port: connection closed, "
          "no plaintext answer", (closed, data[:100]))
    check(healthy(), "server still serves after plain HTTP on its TLS port")
    # A truncated ClientHello, then EOF.
    hello = bytes.fromhex("16030100c8010000c40303") + os.urandom(40)
    k = socket.create_connection(("127.0.0.1", s.tport), timeout=T(10))
    k.sendall(hello)
    k.shutdown(socket.SHUT_WR)
    try:
        k.recv(100)
    except OSError:
        pass
    k.close()
    check(healthy(), "truncated ClientHello: server still serves")
    # A client that stops mid-handshake: others are served meanwhile, and
    # the handshake deadline closes it.
    stuck = socket.create_connection(("127.0.0.1", s.tport), timeout=T(30))
    stuck.sendall(hello[:11 + 32])   # up to the client random: valid, unfinished
    t0 = time.monotonic()
    check(healthy(), "client stuck mid-handshake: others are served meanwhile")
    check(time.monotonic() - t0 < T(5), "... promptly")
    try:
        got = stuck.recv(100)
    except (ConnectionResetError, socket.timeout) as e:
        got = repr(e)
    waited = time.monotonic() - t0
    check(got in (b"",) or "Reset" in str(got) or (isinstance(got, bytes) and got[:1] == b"\x15"),
          "stuck handshake closed by the server", got)
    check(8 <= waited < T(20), "... after the handshake timeout (%.1f s)" % waited)
    stuck.close()
    # 200 handshakes at once.
    results = []
    lock = threading.Lock()
    ctx = ssl.create_default_context(cafile=c("ca.pem"))

    def one():
        r = "?"
        try:
            with socket.create_connection(("127.0.0.1", s.tport), timeout=T(30)) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as t:
                    t.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    buf = b""
                    while True:
                        d = t.recv(4096)
                        if not d:
                            break
                        buf += d
                    r = "ok" if b'"status":"ok"' in buf else "closed"
        except (ssl.SSLError, OSError) as e:
            r = "error: %r" % e
        with lock:
            results.append(r)
    ths = [threading.Thread(target=one) for _ in range(200)]
    t0 = time.monotonic()
    for t in ths:
        t.start()
    for t in ths:
        t.join(T(60))
    n_ok = results.count("ok")
    errs = [r for r in results if r.startswith("error")]
    check(len(results) == 200 and n_ok + results.count("closed") == 200,
          "200 handshakes at once: all answered or closed cleanly (%d ok, %.1f s)"
          % (n_ok, time.monotonic() - t0), errs[:3])
    check(n_ok == 200, "200 handshakes at once: all succeeded", n_ok)
    check(healthy(), "server still serves after 200 handshakes")
    check(nestlib.wait_until(lambda: s.nfds() <= fds0, 10), "no descriptor leaked (%d -> %d)"
          % (fds0, s.nfds()))
    check(s.alive() and s.stop() == 0, "server alive, exits 0")


def test_bulk_over_tls():
    """Large messages both ways through BearSSL's buffers (mono on the
    server): a 3 MB command output and a full process list."""
    if not HAS_TLS:
        return skip("test_bulk_over_tls", NO_TLS)
    c = S.c
    s = tls_server(c("srv.pem"), c("srv.key"))
    a = Proc(["agent", "--server", "wss://localhost:%d/" % s.tport, "--token-file",
              S.agent_tf, "--ca-file", c("ca.pem"), "--services", "none",
              "--max-output", "8000000"], "agent")
    check(a.wait_log(r"authenticated to", 10), "bulk: agent connected over wss://")
    rc, out, err = run(["ctl", "--server", "https://localhost:%d" % s.tport, "--ca-file",
                        c("ca.pem"), "--token-file", S.op_tf, "exec", "a1", "--",
                        "head -c 3000000 /dev/zero | tr '\\0' x"])
    check(rc == 0 and out.count("x") == 3000000, "bulk: 3 MB of output through TLS both hops",
          (rc, len(out), err[-300:]))
    rc, out, err = run(["ctl", "--json", "--server", "https://localhost:%d" % s.tport,
                        "--ca-file", c("ca.pem"), "--token-file", S.op_tf, "ps", "a1"])
    check(rc == 0 and '"pid"' in out, "bulk: process list through TLS", (rc, err[-300:]))
    a.stop()
    s.stop()


def metric(port, name, cafile):
    rc, out, err = https_get(port, "/metrics", cafile)
    m = re.search(r"^%s (\d+)$" % name, out, re.M)
    return int(m.group(1)) if rc == 0 and m else -1


def test_session_resumption():
    """An agent that comes back resumes its TLS session (no public-key
    work for the server): after a dropped link, and after a server
    restart, whose session cache is written beside the token file (0600)
    at SIGTERM and read back (and deleted) at start."""
    if not HAS_TLS:
        return skip("test_session_resumption", NO_TLS)
    c = S.c
    d = path("resume")
    os.makedirs(d, exist_ok=True)
    tokens = os.path.join(d, "tokens")
    shutil.copy(S.tokens, tokens)
    saved = os.path.join(d, "tls-sessions")
    s = tls_server(c("srv.pem"), c("srv.key"), tokens=tokens)
    a = Proc(["agent", "--server", "wss://localhost:%d/" % s.tport, "--token-file", S.agent_tf,
              "--ca-file", c("ca.pem"), "--services", "none", "--reconnect-min", "0.05",
              "--reconnect-max", "0.2"], "agent")
    check(a.wait_log(r"authenticated to", 10), "resume: agent connected over wss://")
    check(metric(s.tport, "nestd_tls_resumed_total", c("ca.pem")) == 0,
          "resume: the first connection was a full handshake")
    mark = len(a.text())
    check(s.stop() == 0, "resume: server stops (exit 0)")
    check(os.path.exists(saved) and stat.S_IMODE(os.stat(saved).st_mode) == 0o600,
          "resume: sessions written beside the token file, mode 0600",
          os.path.exists(saved) and oct(os.stat(saved).st_mode))
    with open(saved, "rb") as f:
        good = f.read()
    s = tls_server(c("srv.pem"), c("srv.key"), (), port=s.tport, tokens=tokens)
    check(not os.path.exists(saved), "resume: the session file is read once and deleted")
    check(a.wait_log(r"authenticated to", 15, since=mark),
          "resume: agent back after the restart")
    check(nestlib.wait_until(lambda: metric(s.tport, "nestd_tls_resumed_total", c("ca.pem")) >= 1, 5),
          "resume: ...with its session resumed, no full handshake",
          metric(s.tport, "nestd_tls_resumed_total", c("ca.pem")))
    # A garbage session file is refused with a warning; the server starts.
    mark = len(a.text())
    s.stop()
    with open(saved, "wb") as f:
        f.write(b"nestd-tls-sessions 1 999\n" + os.urandom(500))
    s = tls_server(c("srv.pem"), c("srv.key"), (), port=s.tport, tokens=tokens)
    check(s.wait_log(r"TLS sessions: .*not a session file", 5) and not os.path.exists(saved),
          "resume: a foreign session file is ignored (warned) and removed")
    check(a.wait_log(r"authenticated to", 15, since=mark),
          "resume: agent back with a full handshake when the server lost its sessions")
    # Cut short: in its header, refused as foreign; in a record, the whole
    # records read (none here) and the cut one left out, without a word.
    for what, data, warned in (("in its header", good[:12], True),
                               ("in a record", good[:len(good) - 5], False)):
        mark = len(a.text())
        s.stop()
        with open(saved, "wb") as f:
            f.write(data)
        s = tls_server(c("srv.pem"), c("srv.key"), (), port=s.tport, tokens=tokens)
        check(a.wait_log(r"authenticated to", 15, since=mark) and not os.path.exists(saved),
              "resume: a session file cut %s is read and removed; the agent is back" % what)
        check(("not a session file" in s.text()) == warned,
              "resume: a session file cut %s is %s" % (what, "warned about" if warned else
                                                         "not warned about"), s.text()[-300:])
    a.stop()
    s.stop()


if __name__ == "__main__":
    nestlib.main([setup, test_without_tls, test_agent_verification, test_agent_pin_insecure,
                  test_server_tls, test_listener_choice_and_startup_errors, test_bad_input,
                  test_bulk_over_tls, test_session_resumption])
