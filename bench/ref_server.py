#!/usr/bin/python3
"""ref_server.py - the REFERENCE stack's server for bench_api.sh: what the
Nest Management Bot did, on Debian's python3-websockets and asyncio.

It accepts one websockets client (the reference client: it authenticates
with let_me_in_pls and answers commands in order, without ids), and serves
HTTP/1.1 with keep-alive on another port (raw asyncio parsing: aiohttp is
not available): POST /api/clients/NAME/commands {"message","payload"} is
forwarded to the client and answered with its reply, matched oldest-first
as the reference bot's single pending request was.

  /usr/bin/python3 bench/ref_server.py WS_PORT HTTP_PORT OPERATOR_TOKEN_FILE
"""
import asyncio
import collections
import hashlib
import json
import sys

import websockets

client = {"ws": None, "waiting": collections.deque()}


def token_ok(tok):
    return (len(tok) == 73 and tok[64] == "." and
            hashlib.sha256(tok[:64].encode()).hexdigest()[:8] == tok[65:])


async def agent(ws, path=None):
    first = json.loads(await ws.recv())
    tok = (first.get("payload") or {}).get("client_token", "")
    if first.get("status") != "let_me_in_pls" or not token_ok(tok):
        await ws.send(json.dumps({"status": "error", "message": "invalid token"}))
        return
    await ws.send(json.dumps({"status": "info", "message": "Authenticated :D"}))
    client["ws"] = ws
    try:
        async for raw in ws:
            if client["waiting"]:
                fut = client["waiting"].popleft()
                if not fut.done():
                    fut.set_result(raw)
    except websockets.ConnectionClosed:
        pass
    finally:
        client["ws"] = None
        while client["waiting"]:
            f = client["waiting"].popleft()
            if not f.done():
                f.set_result(None)


def response(status, body, close=False):
    b = body.encode() if isinstance(body, str) else body
    return (("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n" %
             (status, "OK" if status == 200 else "Error", len(b),
              "Connection: close\r\n" if close else "")).encode() + b)


async def operator(reader, writer):
    op_hash = OP_HASH
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            hdr = {}
            for l in lines[1:]:
                if ":" in l:
                    k, v = l.split(":", 1)
                    hdr[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(hdr.get("content-length", "0")))
            auth = hdr.get("authorization", "")
            if not auth.startswith("Bearer ") or hashlib.sha256(auth[7:].encode()).hexdigest() != op_hash:
                writer.write(response(401, '{"error":"bad token"}'))
            elif method != "POST" or not target.startswith("/api/clients/") or client["ws"] is None:
                writer.write(response(404, '{"error":"not found"}'))
            else:
                req = json.loads(body)
                fut = asyncio.get_running_loop().create_future()
                client["waiting"].append(fut)
                await client["ws"].send(json.dumps({"status": "command", "message": req["message"],
                                                    "payload": req.get("payload") or {}}))
                reply = await fut
                writer.write(response(200, reply) if reply else response(502, '{"error":"gone"}'))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    ws_port, http_port = int(sys.argv[1]), int(sys.argv[2])
    async with websockets.serve(agent, "127.0.0.1", ws_port, ping_interval=None, max_size=None):
        srv = await asyncio.start_server(operator, "127.0.0.1", http_port, backlog=512)
        print("ready", flush=True)
        async with srv:
            await srv.serve_forever()


if __name__ == "__main__":
    OP_HASH = hashlib.sha256(open(sys.argv[3]).read().strip().encode()).hexdigest()
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
