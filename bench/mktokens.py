#!/usr/bin/python3
"""mktokens.py N TOKENS AGENTS - N agent tokens in the reference format
for the load benches: their hashes straight into the token file TOKENS (in
its format, "NAME agent SHA256(TOKEN) 0"), "NAME TOKEN" lines into AGENTS
for bench/manyagents.c.  Names ag00000, ag00001, ..."""
import hashlib
import os
import sys

n, tf, af = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(tf, "w") as t, open(af, "w") as a:
    for i in range(n):
        h = os.urandom(32).hex()
        tok = h + "." + hashlib.sha256(h.encode()).hexdigest()[:8]
        name = "ag%05d" % i
        t.write("%s agent %s 0\n" % (name, hashlib.sha256(tok.encode()).hexdigest()))
        a.write("%s %s\n" % (name, tok))
