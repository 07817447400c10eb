#!/usr/bin/python3
"""it_token.py - `nestd token` and the command line: file mode, hashes only,
token format, refusals and exit codes."""
import hashlib
import os
import re
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nestlib import check, main, path, run, skip, token_new, xfail  # noqa: E402

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
    rc, out, err = run(["token", "revoke", "alice", "--tokens", tf])
    left = open(tf).read()
    xfail((rc != 0 and left.count("alice") == 2) or (rc == 0 and "alice" not in left),
          "revoke of a name held twice: refused (file unchanged) or revokes both",
          "token_db_load accepts duplicate names; revoke removes the first and says 'revoked'")
    # A comment longer than the reader's 511-byte line buffer whose tail
    # looks like an operator line.
    tf = path("long.tokens")
    with open(tf, "w") as f:
        f.write("#" + "c" * 510 + "evil operator %s 1\nbob agent %s 3\n" % (h("e"), h("c")))
    os.chmod(tf, 0o600)
    rc, out, err = run(["token", "list", "--tokens", tf])
    xfail("evil" not in out, "a long comment line stays a comment (no 'evil' operator listed)",
          "token_db_load reads a line over 511 bytes as two lines")


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
    main([test_new_list_revoke, test_hand_edited_files, test_cli, test_agent_token_refusals])
