#!/usr/bin/python3
"""it_token.py - `nestd token` and the command line: file mode, hashes only,
token format, refusals and exit codes."""
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nestlib  # noqa: E402
from nestlib import check, main, path, run, skip, token_new  # noqa: E402

TOKEN_RX = re.compile(r"^[0-9a-f]{64}\.[0-9a-f]{8}$")


def test_new_list_revoke():
    tf = path("tokens")
    rc, out, err = run(["token", "new", "alice", "--tokens", tf])
    tok = out.strip()
    check(rc == 0, "token new exits 0", err)
    check(TOKEN_RX.match(tok), "token is 64 hex . 8 hex (73 characters)", tok)
    check(tok[65:] == hashlib.sha256(tok[:64].encode()).hexdigest()[:8],
          "checksum = first 8 hex of sha256 of the 64 hex chars")
    check(out.count("\n") == 1, "stdout holds only the token")
    check(tok not in err, "token not repeated on stderr")
    st = os.stat(tf)
    check(stat.S_IMODE(st.st_mode) == 0o600, "token file mode 0600", oct(st.st_mode))
    data = open(tf).read()
    check(tok not in data and tok[:64] not in data, "the token itself is not in the file")
    check(hashlib.sha256(tok.encode()).hexdigest() in data, "its SHA-256 hash is in the file")
    check(not [f for f in os.listdir(os.path.dirname(tf)) if ".tmp." in f], "no temp file left")
    check("nothing needs restarting" in err, "token new says nothing needs restarting", err)

    t2 = token_new(tf, "bob", "operator")
    check(t2 != tok and TOKEN_RX.match(t2), "second token differs")
    rc, out, err = run(["token", "list", "--tokens", tf])
    check(rc == 0 and "alice" in out and "bob" in out, "token list shows both names", out + err)
    check(re.search(r"bob\s+operator", out), "token list shows the role", out)
    check(tok not in out and t2 not in out, "token list shows no token")

    before = open(tf).read()
    rc, out, err = run(["token", "new", "alice", "--tokens", tf])
    check(rc != 0 and "exists" in err, "duplicate name refused", (rc, err))
    check(open(tf).read() == before, "file unchanged after the refusal")

    for bad in ("-x", ".hidden", "a b", "a/b", "x" * 65, "é"):
        rc, out, err = run(["token", "new", bad, "--tokens", tf])
        check(rc == 2, "bad name %r refused with exit 2" % bad, (rc, err))
    rc, out, err = run(["token", "new", "carol", "--role", "root", "--tokens", tf])
    check(rc == 2, "bad role refused with exit 2", (rc, err))

    rc, out, err = run(["token", "revoke", "nobody", "--tokens", tf])
    check(rc == 1, "revoke of an unknown name exits 1", (rc, err))
    rc, out, err = run(["token", "revoke", "alice", "--tokens", tf])
    check(rc == 0, "revoke alice exits 0", err)
    check("no SIGHUP needed" in err and "restart" in err,
          "revoke says a running server needs no restart and no SIGHUP", err)
    rc, out, err = run(["token", "list", "--tokens", tf])
    check("alice" not in out and "bob" in out, "alice gone from the list", out)
    check(stat.S_IMODE(os.stat(tf).st_mode) == 0o600, "file still 0600 after revoke")
    rc, out, err = run(["token", "frobnicate", "--tokens", tf])
    check(rc == 2, "unknown verb exits 2", (rc, err))


def test_hand_edited_files():
    """Token files nestd did not write: what `token list` and `token
    revoke` make of them."""
    h = lambda t: hashlib.sha256(t.encode()).hexdigest()  # noqa: E731
    tf = path("merged.tokens")
    # Two entries with one name (two files merged by hand).
    with open(tf, "w") as f:
        f.write("alice agent %s 1\nalice agent %s 2\nbob agent %s 3\n" % (h("a"), h("b"), h("c")))
    os.chmod(tf, 0o600)
    before = open(tf).read()
    rc, out, err = run(["token", "revoke", "alice", "--tokens", tf])
    check(rc == 1 and ":2:" in err and "line 1" in err and "alice" in err,
          "revoke of a name held twice: refused, naming both lines", (rc, err))
    check(open(tf).read() == before, "the file is unchanged after the refusal")
    rc, out, err = run(["token", "new", "carol", "--tokens", tf])
    check(rc == 1 and open(tf).read() == before and not out.strip(),
          "token new on such a file: refused too, no token printed", (rc, out, err))
    rc, out, err = run(["token", "list", "--tokens", tf])
    check(rc == 1 and ":2:" in err, "token list names the duplicate line", (rc, err))
    # A comment longer than the reader's line bound (CFG_TOKEN_LINE_MAX,
    # 1024) whose tail looks like an operator line: refused whole, never
    # read as two lines.
    tf = path("long.tokens")
    with open(tf, "w") as f:
        f.write("#" + "c" * 1100 + "evil operator %s 1\nbob agent %s 3\n" % (h("e"), h("c")))
    os.chmod(tf, 0o600)
    rc, out, err = run(["token", "list", "--tokens", tf])
    check(rc == 1 and "evil" not in out and ":1:" in err and "longer than" in err,
          "a line over the bound is refused (no 'evil' operator listed)", (rc, out, err))
    # A blank CRLF line (a file edited on Windows) is fine.
    tf = path("crlf.tokens")
    with open(tf, "w", newline="") as f:
        f.write("# c\r\n\r\nbob agent %s 3\r\n\r\n" % h("c"))
    os.chmod(tf, 0o600)
    rc, out, err = run(["token", "list", "--tokens", tf])
    check(rc == 0 and re.search(r"^bob\s+agent", out, re.M), "CRLF blank lines are read as blank",
          (rc, out, err))
    # A directory where the file should be.
    d = path("tokens.d")
    os.mkdir(d, 0o700)
    for verb in (["list"], ["new", "x"], ["revoke", "x"]):
        rc, out, err = run(["token"] + verb + ["--tokens", d])
        check(rc == 1 and "directory" in err and not out.strip(),
              "token %s of a directory: refused" % verb[0], (rc, out, err))
    check(os.path.isdir(d) and os.listdir(d) == [], "the directory is untouched")


def test_owner_and_scope():
    """--owner for agent tokens, --scope for operator tokens: stored,
    listed, refused where they do not belong; old files unchanged."""
    tf = path("scoped.tokens")
    rc, out, err = run(["token", "new", "web1", "--owner", "slack:U0123ABCD", "--tokens", tf])
    check(rc == 0 and TOKEN_RX.match(out.strip()), "token new --owner", (rc, err))
    rc, out, err = run(["token", "new", "bot", "--role", "operator", "--scope",
                        "can=control,read;agents=owner:slack:U1,web*", "--tokens", tf])
    check(rc == 0 and TOKEN_RX.match(out.strip()), "token new --role operator --scope", (rc, err))
    token_new(tf, "ops", "operator")
    token_new(tf, "plain")
    data = open(tf).read()
    check(re.search(r"^web1 agent [0-9a-f]{64} \d+ owner=slack:U0123ABCD$", data, re.M),
          "the owner is stored on the agent's line", data)
    check(re.search(r"^bot operator [0-9a-f]{64} \d+ scope=agents=owner:slack:U1,web\*;can=read,control$",
                    data, re.M), "the scope is stored in its canonical form", data)
    check(re.search(r"^ops operator [0-9a-f]{64} \d+$", data, re.M) and
          re.search(r"^plain agent [0-9a-f]{64} \d+$", data, re.M),
          "tokens without owner or scope keep the old line format", data)
    rc, out, err = run(["token", "list", "--tokens", tf])
    check(rc == 0 and re.search(r"^NAME\s+ROLE\s+CREATED\s+OWNER\s+SCOPE$", out, re.M),
          "token list has OWNER and SCOPE columns", out)
    check(re.search(r"^web1\s+agent\s+\S+ \S+\s+slack:U0123ABCD\s+-$", out, re.M),
          "token list shows the agent's owner", out)
    check(re.search(r"^bot\s+operator\s+\S+ \S+\s+-\s+agents=owner:slack:U1,web\*;can=read,control$",
                    out, re.M), "token list shows the operator's scope", out)
    check(re.search(r"^ops\s+operator\s+\S+ \S+\s+-\s+all$", out, re.M),
          "an operator without a scope is listed as reaching all", out)
    check(re.search(r"^plain\s+agent\s+\S+ \S+\s+-\s+-$", out, re.M),
          "an agent without an owner shows none", out)

    before = open(tf).read()
    refusals = [
        (["new", "x", "--role", "operator", "--owner", "bob"], "--owner is for agent"),
        (["new", "x", "--scope", "can=read"], "--scope is for operator"),
        (["new", "x", "--owner", "a b"], "--owner"),
        (["new", "x", "--owner", "-x"], "--owner"),
        (["new", "x", "--owner", ""], "--owner"),
        (["new", "x", "--role", "operator", "--scope", "can=write"], "unknown kind"),
        (["new", "x", "--role", "operator", "--scope", "agents="], "at least one"),
        (["new", "x", "--role", "operator", "--scope", "agents=a b"], "neither"),
        (["new", "x", "--role", "operator", "--scope", ""], "empty"),
        (["new", "x", "--role", "operator", "--scope", "can=read;can=exec"], "twice"),
        (["revoke", "bot", "--owner", "a"], "go with new"),
        (["list", "--scope", "can=read"], "go with new"),
    ]
    for args, why in refusals:
        rc, out, err = run(["token"] + args + ["--tokens", tf])
        check(rc == 2 and why in err and "Try" in err and not out.strip(),
              "token %s: exit 2 with the reason" % " ".join(args), (rc, err))
    check(open(tf).read() == before, "the file is unchanged after every refusal")
    rc, out, err = run(["help", "token"])
    check(rc == 0 and "--scope" in out and "agents=" in out and "can=" in out and "--owner" in out,
          "nestd help token explains --owner and --scope", out)


def test_unsafe_directory():
    """Issue 11 row 13: the token directory and its lock file are opened
    without following symlinks; a directory others can write to, or that
    another user owns, is refused with a reason, and nothing is written."""
    base = path("unsafe")
    os.mkdir(base, 0o700)
    real = os.path.join(base, "real")
    os.mkdir(real, 0o700)
    tf = os.path.join(real, "tokens")
    token_new(tf, "first")
    before = open(tf).read()

    link = os.path.join(base, "link")
    os.symlink(real, link)
    rc, out, err = run(["token", "new", "x", "--tokens", os.path.join(link, "tokens")])
    check(rc == 1 and "symbolic link" in err and not out.strip(),
          "a token directory that is a symlink is refused", (rc, err))
    rc, out, err = run(["token", "new", "x", "--state-dir", link])
    check(rc == 1 and "symbolic link" in err, "... given as --state-dir too", (rc, err))
    rc, out, err = run(["token", "list", "--tokens", os.path.join(link, "tokens")])
    check(rc == 0 and "first" in out, "reading through a symlinked directory still works", (rc, err))

    # A lock file planted as a symlink (to a file the attacker wants
    # created or truncated): refused, the target never created.
    victim = os.path.join(base, "victim")
    if os.path.lexists(tf + ".lock"):
        os.unlink(tf + ".lock")
    os.symlink(victim, tf + ".lock")
    rc, out, err = run(["token", "new", "x", "--tokens", tf])
    check(rc == 1 and "lock" in err and "symbolic link" in err, "a symlinked lock file is refused",
          (rc, err))
    check(not os.path.lexists(victim), "the symlink's target was not created")
    os.unlink(tf + ".lock")

    # The token file itself as a symlink: a writer would replace the link.
    other = os.path.join(real, "elsewhere")
    os.rename(tf, other)
    os.symlink(other, tf)
    rc, out, err = run(["token", "new", "x", "--tokens", tf])
    check(rc == 1 and "symbolic link" in err and os.path.islink(tf),
          "a symlinked token file is refused by writers (the link stays)", (rc, err))
    os.unlink(tf)
    os.rename(other, tf)

    for mode, who in ((0o770, "its group"), (0o707, "others"), (0o1777, "others")):
        os.chmod(real, mode)
        rc, out, err = run(["token", "new", "x", "--tokens", tf])
        check(rc == 1 and ("writable by %s" % who) in err and "chmod go-w" in err and not out.strip(),
              "a token directory of mode %o is refused with the reason" % mode, (rc, err))
        rc, out, err = run(["token", "list", "--tokens", tf])
        check(rc == 1 and "writable" in err, "... for readers too (mode %o)" % mode, (rc, err))
    os.chmod(real, 0o700)
    if os.geteuid() == 0:
        os.chown(real, 4242, 4242)
        rc, out, err = run(["token", "revoke", "first", "--tokens", tf])
        check(rc == 1 and "uid 4242" in err, "a token directory owned by another user is refused",
              (rc, err))
        os.chown(real, 0, 0)
    else:
        skip("token directory owned by another user", "needs root to chown")
    check(open(tf).read() == before, "the token file is unchanged after every refusal")
    check(not [f for f in os.listdir(real) if ".tmp." in f], "no temp file left")


def _mount_tmpfs(where, size):
    """A tiny tmpfs at where; None when it mounted, else why not."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    if not shutil.which("mount"):
        return "no mount(8) here"
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", where],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return "mount -t tmpfs is not permitted here (%s)" % (p.stderr.strip() or p.returncode)
    return None


def _fill(d):
    """Fills the filesystem of d: the filler's path."""
    filler = os.path.join(d, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (4096, 512, 1):
            try:
                while os.write(fd, b"\0" * size) > 0:
                    pass
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def test_full_disk():
    """token new and revoke on a full filesystem: a clear error, the old
    file intact, no temp file left, no token printed."""
    d = path("tiny")
    os.mkdir(d, 0o700)
    why = _mount_tmpfs(d, "64k")
    if why:
        return skip("token new on a full disk", why)
    try:
        tf = os.path.join(d, "tokens")
        for i in range(5):
            token_new(tf, "t%d" % i)
        before = open(tf).read()
        filler = _fill(d)
        rc, out, err = run(["token", "new", "late", "--tokens", tf])
        check(rc == 1 and "No space left" in err and "unchanged" in err and not out.strip(),
              "token new on a full disk: a clear error and no token", (rc, out, err))
        check(open(tf).read() == before, "the old file is intact after token new")
        rc, out, err = run(["token", "revoke", "t2", "--tokens", tf])
        # A smaller file may still fit in what the filler left: then the
        # revoke must have worked, whole.
        after = open(tf).read()
        if rc == 0:
            check("t2 " not in after and after.count("\n") == before.count("\n") - 1,
                  "a revoke that fit is complete", after)
        else:
            check("No space left" in err and after == before,
                  "token revoke on a full disk: a clear error, the old file intact", (rc, err))
        check(not [f for f in os.listdir(d) if ".tmp." in f], "no temp file left on the full disk")
        rc, out, err = run(["token", "list", "--tokens", tf])
        check(rc == 0 and "t0" in out, "the token file still parses", (rc, err))
        os.unlink(filler)
        rc, out, err = run(["token", "new", "late", "--tokens", tf])
        check(rc == 0 and TOKEN_RX.match(out.strip()), "with room again, token new works", (rc, err))
    finally:
        subprocess.run(["umount", d], capture_output=True)


def test_concurrent_changes():
    """Eight `token new` and a revoke at once: the lock keeps every change."""
    tf = path("busy.tokens")
    token_new(tf, "victim")
    env = dict(os.environ)
    for k in ("NESTD_TOKEN", "CLIENT_TOKEN", "NESTD_TOKEN_FILE"):
        env.pop(k, None)
    procs = [subprocess.Popen([nestlib.NESTD, "token", "new", "c%d" % i, "--tokens", tf],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for i in range(8)]
    procs.append(subprocess.Popen([nestlib.NESTD, "token", "revoke", "victim", "--tokens", tf],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env))
    outs = [p.communicate(timeout=nestlib.T(60)) for p in procs]
    rcs = [p.returncode for p in procs]
    errs = b"".join(e for _, e in outs).decode("utf-8", "replace")
    check(rcs == [0] * 9, "nine concurrent changes all succeed", (rcs, errs[-2000:]))
    check("AddressSanitizer" not in errs and "runtime error:" not in errs,
          "no sanitizer report from the concurrent runs", errs[-2000:])
    rc, out, err = run(["token", "list", "--tokens", tf])
    listed = set(re.findall(r"^(c\d)\s", out, re.M))
    check(listed == {"c%d" % i for i in range(8)} and "victim" not in out,
          "every concurrent change is in the file", out)


def test_cli():
    rc, out, err = run(["--version"])
    check(rc == 0 and re.match(r"nestd \d+\.\d+\.\d+", out), "nestd --version", out + err)
    rc, out, err = run(["--help"])
    check(rc == 0 and "nestd server" in out and "nestd agent" in out, "nestd --help", out + err)
    rc, out, err = run(["help", "server"])
    check(rc == 0 and "--listen" in out and "--accept-versions" in out, "nestd help server", out + err)
    rc, out, err = run(["help", "agent"])
    check(rc == 0 and "--server" in out, "nestd help agent", out + err)
    rc, out, err = run(["server", "--no-such-option"])
    check(rc == 2 and "Try" in err, "server: unknown option -> exit 2 with a Try line", (rc, err))
    rc, out, err = run(["agent", "--no-such-option"])
    check(rc == 2 and "Try" in err, "agent: unknown option -> exit 2 with a Try line", (rc, err))
    rc, out, err = run(["frobnicate"])
    check(rc == 2 and "Try" in err, "unknown subcommand -> exit 2 with a Try line", (rc, err))
    rc, out, err = run([])
    check(rc == 2, "no arguments -> exit 2", rc)


def test_agent_token_refusals():
    url = "ws://127.0.0.1:9/"
    rc, out, err = run(["agent", "--server", url, "--once"])
    check(rc == 2 and "token" in err, "agent without a token exits 2", (rc, err))
    rc, out, err = run(["agent", "--server", url, "--once"], env={"NESTD_TOKEN": "abc"})
    check(rc == 2, "agent with a malformed token exits 2", (rc, err))
    tok = "e70f344347c59f6619489ee2b11c453dc9c25b2e33ddc532c73ebbc0b2b4684f.ddc69770"
    bad = tok[:-1] + ("1" if tok[-1] != "1" else "2")
    rc, out, err = run(["agent", "--server", url, "--once"], env={"NESTD_TOKEN": bad})
    check(rc == 2 and "checksum" in err, "agent with a bad checksum exits 2", (rc, err))
    check(bad not in err and tok not in err, "the token is not echoed in the error")
    # A token file readable by others is refused.
    tf = path("agent.token")
    with open(tf, "w") as f:
        f.write(tok + "\n")
    os.chmod(tf, 0o644)
    rc, out, err = run(["agent", "--server", url, "--once", "--token-file", tf])
    check(rc == 2 and "chmod" in err, "token file with mode 0644 refused (exit 2)", (rc, err))
    # No --server: what the original client dialled (its server's socket),
    # which is not there here; --once then exits 1.
    if os.path.exists("/var/community/nest-management-bot.sock"):
        skip("agent without --server", "this machine has /var/community/nest-management-bot.sock")
    else:
        rc, out, err = run(["agent", "--once"], env={"NESTD_TOKEN": tok, "HOME": path("no-home")})
        check(rc == 1 and "cannot connect to unix:/var/community/nest-management-bot.sock" in err,
              "agent without --server dials the original's socket (--once: 1 when it is not there)",
              (rc, err))
    rc, out, err = run(["agent", "--server", "http://127.0.0.1:9/", "--once"], env={"NESTD_TOKEN": tok})
    check(rc == 2, "agent with an http:// URL exits 2", (rc, err))


if __name__ == "__main__":
    main([test_new_list_revoke, test_hand_edited_files, test_owner_and_scope, test_unsafe_directory,
          test_full_disk, test_concurrent_changes, test_cli, test_agent_token_refusals])
