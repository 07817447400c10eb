#!/usr/bin/python3
"""api_fakes.py - agents written on Debian's python3-websockets, for
it_api.py (and the benchmarks): not nestd, so they show the server copes
with peers it did not write.

  /usr/bin/python3 test/api_fakes.py MODE URL TOKEN_FILE [ARG]

MODE
  noid     answers like the reference client: one command at a time, in
           order, replies WITHOUT "id"; obtain_process_info echoes the pid
  noidlag  the same, but its first reply comes ARG seconds late (it blocks
           meanwhile, as the reference client did on a slow command)
  silent   authenticates, then never answers anything
  slow     answers every command (with its id) after ARG seconds, all
           concurrently
  batch    holds every command until ARG of them arrived, then answers them
           all (with ids) in reverse order
  echo     answers at once with its id (the benchmarks' reference client)

URL is ws://HOST:PORT/ or unix:PATH.  Prints "authenticated" on stdout once
in, then runs until the connection ends.
"""
import asyncio
import json
import sys

import websockets


def reply(cmd, payload, mid=None, error=None):
    m = {"status": "command_response_error" if error else "command_response",
         "message": "response_" + cmd.get("message", "?"),
         "payload": {"error": error} if error else payload}
    if mid is not None:
        m["id"] = mid
    return json.dumps(m)


def answer(cmd, with_id=True):
    name = cmd.get("message")
    p = cmd.get("payload") or {}
    mid = cmd.get("id") if with_id else None
    if name == "obtain_process_info":
        if not isinstance(p.get("pid"), int):
            return reply(cmd, None, mid, "payload.pid must be an integer")
        return reply(cmd, {"pid": p["pid"], "name": "fake", "status": "sleeping"}, mid)
    if name == "echo":
        return reply(cmd, p, mid)
    return reply(cmd, None, mid, "Unknown command %s" % name)


async def main():
    mode, url, tokfile = sys.argv[1], sys.argv[2], sys.argv[3]
    arg = float(sys.argv[4]) if len(sys.argv) > 4 else 0
    token = open(tokfile).read().strip()
    kw = dict(ping_interval=None, max_size=None, open_timeout=10, close_timeout=2)
    if url.startswith("unix:"):
        ws = await websockets.unix_connect(url[5:], "ws://localhost/", **kw)
    else:
        ws = await websockets.connect(url, **kw)
    # The commands it answers, announced: a server sends an agent nothing
    # else (an agent announcing nothing gets only the original bot's).
    await ws.send(json.dumps({"status": "let_me_in_pls", "message": "let me in! :D",
                              "payload": {"version": "1.0.0" if mode.startswith("noid") else "0.1.0",
                                          "client_token": token,
                                          "commands": ["obtain_process_info", "echo"]}}))
    r = json.loads(await ws.recv())
    if r.get("status") != "info":
        print("refused: %s" % r, flush=True)
        sys.exit(3)
    print("authenticated", flush=True)
    held = []

    async def later(cmd):
        await asyncio.sleep(arg)
        await ws.send(answer(cmd))

    try:
        async for raw in ws:
            cmd = json.loads(raw)
            if cmd.get("status") != "command":
                continue
            if mode == "noid":
                await ws.send(answer(cmd, with_id=False))
            elif mode == "noidlag":
                if arg:
                    await asyncio.sleep(arg)
                    arg = 0
                await ws.send(answer(cmd, with_id=False))
            elif mode == "silent":
                pass
            elif mode == "slow":
                asyncio.ensure_future(later(cmd))
            elif mode == "batch":
                held.append(cmd)
                if len(held) >= int(arg):
                    for c in reversed(held):
                        await ws.send(answer(c))
                    held = []
            else:
                await ws.send(answer(cmd))
    except websockets.ConnectionClosed:
        pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
