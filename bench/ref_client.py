#!/usr/bin/python3
"""ref_client.py URL - a reference-style agent for bench_agent: the
original Nest Management Bot client's shape (python-websockets, psutil),
answering obtain_process_info like it did.  Falls back to plain /proc
reading when psutil is missing.  Token from $NESTD_TOKEN."""
import asyncio
import json
import os
import sys
import time

import websockets

try:
    import psutil
except ImportError:
    psutil = None

TICK = os.sysconf("SC_CLK_TCK")


def info_psutil(pid):
    p = psutil.Process(pid)
    with p.oneshot():
        t = p.cpu_times()
        m = p.memory_full_info() if False else p.memory_info()
        return {"pid": pid, "name": p.name(), "cpu_usage": p.cpu_percent(),
                "cpu_time": {"user": t.user, "system": t.system}, "status": p.status(),
                "memory": {"rss": m.rss, "swap": 0}, "started": p.create_time(),
                "safe_kill": pid not in (1, os.getpid())}


def info_proc(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    name = s[s.index("(") + 1:s.rindex(")")]
    f = s[s.rindex(")") + 2:].split()
    return {"pid": pid, "name": name, "cpu_usage": 0.0,
            "cpu_time": {"user": int(f[11]) / TICK, "system": int(f[12]) / TICK},
            "status": f[0], "memory": {"rss": int(f[21]) * 4096, "swap": 0},
            "started": int(f[19]) / TICK, "safe_kill": pid not in (1, os.getpid())}


info = info_psutil if psutil else info_proc


async def main(url):
    async with websockets.connect(url, max_size=None, ping_interval=None) as ws:
        await ws.send(json.dumps({"status": "let_me_in_pls", "message": "let me in! :D",
                                  "payload": {"version": "1.0.0",
                                              "client_token": os.environ.get("NESTD_TOKEN", "")}}))
        async for m in ws:
            d = json.loads(m)
            if d.get("status") != "command":
                continue
            name = d.get("message")
            r = {"status": "command_response", "message": "response_" + name}
            try:
                if name == "obtain_process_info":
                    r["payload"] = info(int(d["payload"]["pid"]))
                else:
                    raise ValueError("unknown command")
            except Exception as e:
                r = {"status": "command_response_error", "message": "response_" + name,
                     "payload": {"error": str(e)}}
            if "id" in d:
                r["id"] = d["id"]
            await ws.send(json.dumps(r))


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    except (KeyboardInterrupt, websockets.ConnectionClosed):
        pass
    _ = time
