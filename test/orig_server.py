"""orig_server.py - a model of the ORIGINAL Nest Management Bot's server half
(the Slack bot: API-Troubles/my-website, nest_management_bot/ server.py,
server_utils.py, main.py, views/, modals/), written here from what it does
(docs/ORIGINAL.md lists the facts); none of its code is copied.  For
test/it_original.py, which runs `nestd agent` under it.

What it reproduces, because each of these breaks a drop-in agent:
  - the first message must arrive within 1 s; the checks, in the original's
    order, with its exact error frames, each followed by a close (1000);
    a hello that is not an object, or lacks client_token, crashes the
    original's handler (the library then closes with 1011);
  - strict version equality with ONE configured version ("1.0.0");
  - one command at a time, no ids, `payload` only when non-empty; each reply
    awaited for 1 s, then "Wheres my response? ..." and a close;  whatever
    the agent sends next IS the reply (an unsolicited message answers the
    next command);  a reply whose status is not command_response(_error)
    raises;
  - the library's defaults the original ran with: 1 MiB message limit
    (close 1009), pings every 20 s with a 20 s timeout, permessage-deflate;
  - the Slack views as functions that take a reply and index into it as the
    original does, and then check what Slack would refuse (text that is not
    a string, over-long text, ...) and what the original would display
    wrongly (None, a dict where text belongs).

Times are the original's 1 s multiplied by nestlib.SLOW (sanitizer builds),
so the ratio to the agent's own work stays the original's.

Run with Debian's /usr/bin/python3 (python3-websockets 10.x, legacy API;
the original used the library's newer asyncio API with the same defaults).
"""
import asyncio
import json
import math
import os
import threading
import time

import websockets

try:
    from nestlib import SLOW
except ImportError:      # used on its own
    SLOW = 1.0

ONE_MIB = 1 << 20
PAGE_SIZE = 15                 # the original's pagination_page_size
CLIENT_VERSION = "1.0.0"       # what the original client announces
SEND_HELP = "This shouldn't happen, send a message in #slack-management-bot for help."

ERR_NO_HELLO = "The client did not send a response to the server."
ERR_NOT_JSON = "The client sent malformed data which isn't JSON."
ERR_STATUS = ("The client sent malformed data of incorrect type. This shouldn't happen, "
              "ask in #nest-management-bot.")
ERR_FORMAT = '"%s" is of incorrect format or the client sent malformed data.'
ERR_TOKEN = 'Invalid client token "%s" or the client sent malformed data.'
ERR_ALREADY = "Already connected, if this is incorrect regenerate your token :heavysob:."
ERR_VERSION = "Your version is out of date or the client sent malformed data."
ERR_NO_REPLY = "Wheres my response? Did not receive a command_response."
ERR_REPLY_JSON = "Response was not JSON."

NOT_CONNECTED_HEADER = ":warn: Your websocket is not connected :roo-oh-no: "


class ViewError(Exception):
    """The view cannot be shown as the original meant it."""


class SlackRefused(ViewError):
    """Slack would refuse this view (views.publish/open/update: invalid_blocks)."""


class ShownBadly(ViewError):
    """The original would build this view but display None, a dict or a list
    where its text belongs (as the issue's "shows None" cases)."""


# ---------------------------------------------------------------- tokens

def token_checksum_ok(token):
    """The original's check: 73 characters; the last 8 are the first 8 hex of
    SHA-256 of the first 64.  A non-string raises TypeError, as there."""
    import hashlib
    if len(token) != 73:
        return False
    return hashlib.sha256(token[:-9].encode()).hexdigest()[:8] == token[-8:]


def new_token():
    import hashlib
    h = os.urandom(32).hex()
    return h + "." + hashlib.sha256(h.encode()).hexdigest()[:8]


# ---------------------------------------------------------------- Slack

def _check_text(t, where, maxlen=3000, plain_only=False):
    if not isinstance(t, dict) or t.get("type") not in ("plain_text", "mrkdwn"):
        raise SlackRefused("%s: not a text object: %r" % (where, t))
    if plain_only and t["type"] != "plain_text":
        raise SlackRefused("%s: must be plain_text" % where)
    s = t.get("text")
    if not isinstance(s, str):
        raise SlackRefused("%s: text must be a string, got %s %r" % (where, type(s).__name__, s))
    if not 1 <= len(s) <= maxlen:
        raise SlackRefused("%s: text must be 1 to %d characters, got %d" % (where, maxlen, len(s)))


def _check_button(b, where):
    _check_text(b.get("text"), where + ".text", 75, plain_only=True)
    for k, n in (("action_id", 255), ("value", 2000)):
        if k in b and (not isinstance(b[k], str) or not 1 <= len(b[k]) <= n):
            raise SlackRefused("%s.%s must be a string of 1 to %d characters: %r" % (where, k, n, b[k]))


def slack_check(view):
    """What Slack checks of a view the original published or opened (Block
    Kit limits); raises SlackRefused, returns the view."""
    if view.get("type") == "modal":
        _check_text(view.get("title"), "title", 24, plain_only=True)
        if "close" in view:
            _check_text(view["close"], "close", 24, plain_only=True)
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or len(blocks) > 100:
        raise SlackRefused("a view holds 1 to 100 blocks")
    for i, b in enumerate(blocks):
        w = "blocks[%d](%s)" % (i, b.get("type"))
        if b["type"] == "header":
            _check_text(b.get("text"), w, 150, plain_only=True)
        elif b["type"] == "section":
            _check_text(b.get("text"), w + ".text")
            if "accessory" in b:
                _check_button(b["accessory"], w + ".accessory")
        elif b["type"] == "actions":
            if not 1 <= len(b["elements"]) <= 25:
                raise SlackRefused(w + ": 1 to 25 elements")
            for j, e in enumerate(b["elements"]):
                _check_button(e, "%s.elements[%d]" % (w, j))
        elif b["type"] == "context":
            for j, e in enumerate(b["elements"]):
                _check_text(e, "%s.elements[%d]" % (w, j))
    return view


def shown(v, where, *kinds):
    """v is put into the view's text by the original (an f-string): it must
    be of the type the original client sent (bool is not a number)."""
    kinds = kinds or (str,)
    if isinstance(v, bool) and bool not in kinds:
        raise ShownBadly("%s would show %r (a bool)" % (where, v))
    if not isinstance(v, kinds):
        raise ShownBadly("%s would show %r (%s, not %s)" % (where, v, type(v).__name__,
                                                            "/".join(k.__name__ for k in kinds)))
    return v


NUM = (int, float)


def _txt(s, kind="mrkdwn"):
    t = {"type": kind, "text": s}
    if kind == "plain_text":
        t["emoji"] = True
    return t


def _section(s, kind="mrkdwn", accessory=None):
    b = {"type": "section", "text": _txt(s, kind)}
    if accessory:
        b["accessory"] = accessory
    return b


def _button(text, action_id, value=None):
    b = {"type": "button", "text": _txt(text, "plain_text"), "action_id": action_id}
    if value is not None:
        b["value"] = value
    return b


def _actions(*buttons):
    return {"type": "actions", "elements": list(buttons)}


def _modal(title, close, blocks):
    return slack_check({"type": "modal", "title": _txt(title, "plain_text"),
                        "close": _txt(close, "plain_text"), "blocks": blocks})


def _home(blocks):
    return slack_check({"type": "home", "blocks": blocks})


def buttons(view):
    """Every button of a view: dicts with action_id, value (or None), text."""
    out = []
    for b in view["blocks"]:
        els = b.get("elements", []) if b["type"] == "actions" else \
            [b["accessory"]] if "accessory" in b else []
        for e in els:
            if e.get("type") == "button":
                out.append({"action_id": e["action_id"], "value": e.get("value"),
                            "text": e["text"]["text"]})
    return out


def button(view, action_id, value=None):
    """The first button with that action_id (and value); KeyError if none,
    as a user could not click it."""
    for b in buttons(view):
        if b["action_id"] == action_id and (value is None or b["value"] == value):
            return b
    raise KeyError("no button %s%s in the view" % (action_id, "" if value is None else " " + value))


def texts(view):
    return [b["text"]["text"] for b in view["blocks"] if "text" in b]


# ---------------------------------------------------------------- views
#
# Each takes what send_command returned (None after a timeout, as there)
# and indexes into it exactly as the original's handler and view did.

def unit_converter(value, unit="gb", include_unit=True):
    """The original's byte formatter (settings: gb, gib, bytes)."""
    u = unit.lower()
    if u == "gb":
        return "%s%s" % (round(value / 10**9, 3), " GB" if include_unit else "")
    if u == "gib":
        return "%s%s" % (round(value / 1024**3, 3), " GiB" if include_unit else "")
    if u == "bytes":
        return "%s%s" % (value, " Bytes" if include_unit else "")
    raise ValueError("Invalid unit specified, what on earth is a %s?!?" % unit)


def dashboard_view(connected, info=None):
    """App Home.  The original's dashboard reads no agent reply: only the
    server's own machine (CPU, memory, disk, uptime), shown once the agent
    is registered; otherwise the "not connected" page."""
    if not connected:
        return _home([{"type": "header", "text": _txt(NOT_CONNECTED_HEADER, "plain_text")},
                      _section("*What went wrong?*"),
                      _section("This bot relies on the websocket to function. Check that the websocket "
                               "script is running (`systemctl --user status nest_management_bot.service`). "
                               "Try starting it with `systemctl --user start nest_management_bot.service`. "
                               "For support, ask in #nest-management-bot.")])
    info = info or server_resources()
    mem = "%s/%s" % (unit_converter(info["mem"]["used"], include_unit=False),
                     unit_converter(info["mem"]["total"]))
    disk = "%s/%s" % (unit_converter(info["storage"]["used"], include_unit=False),
                      unit_converter(info["storage"]["total"]))
    return _home([
        {"type": "header", "text": _txt("Welcome Back!", "plain_text")},
        _actions(_button(":gear: Settings", "generate-settings"),
                 _button(":arrows_clockwise: Reload", "generate-dashboard")),
        _section("View your Nest stats quickly below!\nPUBLIC BETA: Real Data, report problems "
                 "to #nest-management-bot"),
        {"type": "divider"},
        _section("*Global Usages:*"),
        _section("*CPU:* %s%%" % info["cpu"]["percent"]),
        _section("*MEM:* %s" % mem),
        _section("*Storage:* %s" % disk),
        _section("Nest has been up since `%s`! :yay:" % info["uptime"]),
        {"type": "divider"},
        _actions(_button("My Usage Menu", "menu-user-usages"),
                 _button("Processes Menu", "menu-process-usage"),
                 _button("Systemd Services Menu", "menu-systemd-services")),
        _actions(_button("Get a Port", "menu-get-port")),
    ])


def server_resources():
    """The bot machine's own figures (the original used psutil)."""
    mem = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            mem[k] = int(v.split()[0]) * 1024
    st = os.statvfs("/")
    with open("/proc/uptime") as f:
        up = float(f.read().split()[0])
    return {"cpu": {"percent": 0.0, "cores": os.cpu_count()},
            "mem": {"total": mem["MemTotal"], "used": mem["MemTotal"] - mem.get("MemAvailable", 0)},
            "storage": {"total": st.f_blocks * st.f_frsize,
                        "used": (st.f_blocks - st.f_bfree) * st.f_frsize},
            "uptime": "%d seconds" % up}


def user_usages_page(result):
    """menu-user-usages: result['payload'] holds resources (text from `nest
    resources`) and storage (rows of du -b: [BYTES, PATH], BYTES through
    int())."""
    usage = result["payload"]
    resources = shown(usage["resources"], "payload.resources")
    lines = []
    for item in usage["storage"]:
        lines.append("`%s`: %s GB" % (shown(item[1], "storage row path"),
                                      round(int(item[0]) / 10**9, 4)))
    return _home([
        {"type": "header", "text": _txt("Your Usages", "plain_text")},
        {"type": "divider"},
        _section("*Memory & Total Storage Usage:*"),
        _section("Might have been borrowed from `nest resources` :pf:"),
        _section("```%s```" % resources),
        {"type": "divider"},
        _section("*Storage by Folder:*"),
        _section("\n".join(lines)),
        {"type": "divider"},
        _actions(_button(":hq: Home", "generate-dashboard"),
                 _button(":arrows_clockwise: Reload", "menu-user-usages")),
    ])


def _list_page(title, reload_id, prev_id, next_id, rows, page, total_pages):
    blocks = [{"type": "header", "text": _txt("%s (Page %d/%d)" % (title, page + 1, total_pages),
                                              "plain_text")},
              {"type": "divider"}]
    blocks += rows
    nav = [_button(":hq: Home", "generate-dashboard"),
           _button(":arrows_clockwise: Reload", reload_id)]
    if page > 0:
        nav.insert(0, _button(":arrow_backward: Previous", prev_id, "%d" % (page - 1)))
    if page + 1 != total_pages:
        nav.append(_button("Next :arrow_forward:", next_id, "%d" % (page + 1)))
    blocks += [{"type": "divider"}, _actions(*nav)]
    return _home(blocks)


def _paged(result, page):
    payload = result["payload"]
    return payload[page * PAGE_SIZE:page * PAGE_SIZE + PAGE_SIZE], math.ceil(len(payload) / PAGE_SIZE)


def processes_list_page(result, page=0):
    """menu-process-usage and its paging: the WHOLE list is fetched for each
    page and sliced 15 at a time; each row shows name and pid and carries a
    "Manage Process" button valued PID-e."""
    items, total = _paged(result, page)
    rows = []
    for item in items:
        name = shown(item["name"], "process name")
        pid = shown(item["pid"], "process pid", int)
        rows.append(_section("`%s` - PID: %s" % (name, pid),
                             accessory=_button("Manage Process", "manage-process", "%s-e" % pid)))
    return _list_page("Processes", "menu-process-usage", "processes-change-page-prev",
                      "processes-change-page-next", rows, page, total)


def services_list_page(result, page=0):
    """menu-systemd-services: each entry IS the section's text (so a unit
    name string; an object makes Slack refuse the view) and the "Manage
    Service" button's value is ENTRY-e."""
    items, total = _paged(result, page)
    rows = [_section(item, accessory=_button("Manage Service", "manage-service", "%s-e" % (item,)))
            for item in items]
    return _list_page("Services", "menu-systemd-services", "services-change-page-prev",
                      "services-change-page-next", rows, page, total)


STATUS_EMOJI = {"running": "\U0001F3C3", "sleeping": "\U0001F634", "zombie": "\U0001F9DF",
                "stopped": "\u23F9\uFE0F", "disk-sleep": "\U0001F4BD"}


def process_modal(result, unit="gb"):
    """manage-process: the modal of obtain_process_info's payload.  The
    handler converts memory.rss with the user's unit first; the modal shows
    name, pid, cpu_usage, cpu_time.user, memory.rss, status (exactly
    "stopped" offers Resume, anything else Pause) and safe_kill.  The kill
    buttons carry PID-e-kill-SIGNAL: the handler sends the fourth '-' field
    as `method` (see docs/ORIGINAL.md on this reconstruction)."""
    info = result["payload"]
    mem_info = unit_converter(shown(info["memory"]["rss"], "memory.rss", *NUM), unit)
    pid = shown(info["pid"], "pid", int)
    status = shown(info["status"], "status")
    stopped = status == "stopped"
    if not isinstance(info["safe_kill"], bool):
        raise ShownBadly("safe_kill is %r, not a bool" % (info["safe_kill"],))
    blocks = [
        _section("*Basic Info:* `%s` - PID: %s" % (shown(info["name"], "name"), pid)),
        _section("*CPU Usage:* %s%% (100%% is full usage on _1_ core)" % shown(info["cpu_usage"], "cpu_usage", *NUM)),
        _section("*CPU Time:* %s seconds" % shown(info["cpu_time"]["user"], "cpu_time.user", *NUM)),
        _section("*MEM Used (RSS):* %.2f GB (%s)" % (info["memory"]["rss"] / 1024**3, mem_info)),
        _section("*Status:* %s (%s)" % (status, STATUS_EMOJI.get(status, ""))),
        _actions(_button("Kill the process :kirby_gun: (SIGTERM)", "kill-process-1", "%d-e-kill-SIGTERM" % pid),
                 _button("Brutal Death (SIGKILL)", "kill-process-2", "%d-e-kill-SIGKILL" % pid)),
        _section("_Use SIGTERM when possible._"),
        _actions(_button("Resume the Process" if stopped else "Pause the Process",
                         "resume-process" if stopped else "pause-process", "%d" % pid)),
        _section("_Please remember to unpause it :im-sobbing:_"),
        _section("_Be careful, messing with processes can indeed cause problems, watch wat you wish for.%s_"
                 % ("" if info["safe_kill"] else " This process is also critical to the running of this bot, "
                    "touching it *will* break something. Be careful... I'm not stopping you tho.")),
    ]
    return _modal("Process Management", "Ok bye bye", blocks)


def error_modal(error):
    """The error modal: the original passes result['payload']['error']."""
    return _modal("Error Experienced :(", "Okay :(", [
        _section("Mission control to blahaj, we have an error!", "plain_text"),
        _section("We have experienced an error and cannot continue (my code tried its best ok) "
                 ":im-sobbing:", "plain_text"),
        _section("```%s```" % shown(error, "payload.error")),
    ])


def _ok_or_error(result, success):
    """kill/pause/resume/service actions: result['status'] decides; an error
    shows result['payload']['error']; success reads nothing else."""
    if result["status"] == "command_response_error":
        return error_modal(result["payload"]["error"])
    return success()


def process_kill_modal(result, value):
    parts = value.split("-")
    return _ok_or_error(result, lambda: _modal("Success :yay:", "Okie tysm", [
        _section("You did it, you killed a process (`PID: %s`). Be proud of yourself I guess? Lay low "
                 "and hope you aren't caught by the cops tho..." % (parts,))]))


def process_action_modal(result, word, pid):
    return _ok_or_error(result, lambda: _modal("Success :yay:", "Thanks :)", [
        _section("You did it, you %sed a process (`PID: %s`). Get back to what you're doing now :D"
                 % (word, pid))]))


def service_modal(result):
    """manage-service: obtain_service_info's payload.  Shows name,
    description, file_location, active_state (sub_state), uptime and pid;
    "Manage Process" is valued PID-update (then int(PID)); inactive or
    failed units offer Start, others Stop, Restart and Reload, valued
    NAME-ACTION."""
    info = result["payload"]
    name = shown(info["name"], "name")
    pid = shown(info["pid"], "pid", int)
    active = shown(info["active_state"], "active_state")
    blocks = [
        _section("*Service Name:* %s" % name),
        _section('*Description:* "%s"' % shown(info["description"], "description")),
        _section("*File Location:* _%s_" % shown(info["file_location"], "file_location")),
        _section("*State:* %s (%s)" % (active, shown(info["sub_state"], "sub_state"))),
        _section("*Up Since:* %s" % shown(info["uptime"], "uptime")),
        _section("*Main PID:* %s" % pid, accessory=_button("Manage Process", "manage-process", "%s-update" % pid)),
    ]
    if active in ("inactive", "failed"):
        blocks.append(_actions(_button("Start Service", "manage-service-action-1", "%s-start" % name)))
    else:
        blocks.append(_actions(_button("Stop Service", "manage-service-action-1", "%s-stop" % name),
                               _button("Restart Service", "manage-service-action-2", "%s-restart" % name)))
        blocks.append(_actions(_button("Reload Service", "manage-service-action-3", "%s-reload" % name)))
    blocks.append(_section("_Uptime information may differ by a few seconds when compared to systemctl._"))
    if name == "nest-management-bot.service":
        blocks.append(_section("_Woah there! This service is quite literally the service that makes this "
                               "bot function._"))
    return _modal("Service Management", "Byee!", blocks)


def service_action_modal(result, value):
    parts = value.split("-")
    return _ok_or_error(result, lambda: _modal("Service Action", "Thanks :D", [
        _section("You have _%sed_ `%s` :yay:" % (parts[1], parts[0])),
        _section("Now get back to whatever you're meant to do :).", "plain_text")]))


def get_port_modal(result):
    """menu-get-port: result["payload"] (the text of `nest get_port`)."""
    port = shown(result["payload"], "payload")
    return _modal("Port Yoinker", "Thx for the port", [
        _section("What do you need a port for from a bot? Oh well here you go :yay:", "plain_text"),
        _section("```%s```" % port),
        _section("Stolen 100% from `nest get_port`", "plain_text"),
    ])


# ---------------------------------------------------------------- the server

class Conn:
    """One WebSocket connection as the model saw it."""

    def __init__(self, ws):
        self.ws = ws
        self.t = time.monotonic()
        self.hello_raw = None
        self.hello = None
        self.token = None
        self.registered = False
        self.refused = None        # the error text sent before closing
        self.sent = []             # texts the server sent
        self.replies = []          # (command, byte size) of each reply read
        self.close_code = None
        self.crash = None          # the original's handler raised this
        self.done = threading.Event()


class OrigServer:
    """The original bot's WebSocket side on a Unix socket and/or 127.0.0.1:PORT,
    in a thread.  tokens: the tokens its database knows."""

    def __init__(self, tokens, unix=None, port=None, client_version=CLIENT_VERSION,
                 reply_deadline=1.0, auth_deadline=1.0):
        self.tokens = set(tokens)
        self.unix = unix
        self.port = port
        self.client_version = client_version
        self.reply_deadline = reply_deadline * SLOW
        self.auth_deadline = auth_deadline * SLOW
        self.clients = {}          # token -> Conn, once authenticated and registered
        self.conns = []
        self.servers = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._call(self._start(), 10)

    # -- plumbing

    def _call(self, coro, timeout):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self):
        # The library's defaults, spelled out: the original set none of them.
        kw = dict(max_size=ONE_MIB, ping_interval=20, ping_timeout=20, compression="deflate")
        if self.unix:
            self.servers.append(await websockets.unix_serve(self._handler, self.unix, **kw))
        if self.port:
            self.servers.append(await websockets.serve(self._handler, "127.0.0.1", self.port, **kw))

    async def _stop(self):
        for s in self.servers:
            s.close()
            await s.wait_closed()
        self.servers = []

    def shutdown(self):
        try:
            self._call(self._stop(), 20)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)

    async def _send(self, conn, obj):
        text = json.dumps(obj)
        conn.sent.append(text)
        await conn.ws.send(text)

    async def _refuse(self, conn, message):
        conn.refused = message
        await self._send(conn, {"message": message, "status": "error"})
        await conn.ws.close()

    async def _handler(self, ws, path=None):
        conn = Conn(ws)
        self.conns.append(conn)
        try:
            await self._session(conn)
        except websockets.ConnectionClosed:
            pass
        except Exception as e:
            # The original's handler crashes (AttributeError, TypeError);
            # the library then closes with 1011.
            conn.crash = repr(e)
            await ws.close(1011)
        finally:
            # The original then unregisters the token and publishes the
            # "not connected" home page.
            if conn.registered and self.clients.get(conn.token) is conn:
                del self.clients[conn.token]
            await ws.wait_closed()
            conn.close_code = ws.close_code
            conn.done.set()

    async def _session(self, conn):
        ws = conn.ws
        try:
            conn.hello_raw = await asyncio.wait_for(ws.recv(), self.auth_deadline)
        except asyncio.TimeoutError:
            return await self._refuse(conn, ERR_NO_HELLO)
        try:
            hello = json.loads(conn.hello_raw)
        except ValueError:
            return await self._refuse(conn, ERR_NOT_JSON)
        conn.hello = hello
        # Read before any check, as the original does: a hello that is not an
        # object (or a payload that is not one) raises here, and the library
        # closes with 1011.
        token = hello.get("payload", {}).get("client_token")
        if hello.get("status") != "let_me_in_pls":
            return await self._refuse(conn, ERR_STATUS)
        if not token_checksum_ok(token):          # TypeError when absent: 1011
            return await self._refuse(conn, ERR_FORMAT % token)
        if token not in self.tokens:
            return await self._refuse(conn, ERR_TOKEN % token)
        if token in self.clients:
            return await self._refuse(conn, ERR_ALREADY)
        if hello.get("payload", {}).get("version") != self.client_version:
            return await self._refuse(conn, ERR_VERSION)
        await self._send(conn, {"status": "info", "message": "Authenticated :D"})
        dashboard_view(True)                      # published before registering
        conn.token = token
        conn.registered = True
        self.clients[token] = conn
        await ws.wait_closed()

    # -- what tests call

    def wait_client(self, token, timeout=10):
        """The registered Conn of token, or None."""
        end = time.monotonic() + timeout * SLOW
        while time.monotonic() < end:
            c = self.clients.get(token)
            if c:
                return c
            time.sleep(0.02)
        return self.clients.get(token)

    def connected(self, token):
        c = self.clients.get(token)
        return bool(c) and c.ws.open

    async def _send_command(self, token, message, payload):
        conn = self.clients[token]
        cmd = {"status": "command", "message": message}
        if payload:                  # an empty payload is not sent at all
            cmd["payload"] = payload
        await self._send(conn, cmd)
        try:
            text = await asyncio.wait_for(conn.ws.recv(), self.reply_deadline)
        except asyncio.TimeoutError:
            await self._refuse(conn, ERR_NO_REPLY + SEND_HELP)
            return None
        conn.replies.append((message, len(text.encode("utf-8")) if isinstance(text, str) else len(text)))
        try:
            reply = json.loads(text)
        except ValueError:
            await self._refuse(conn, ERR_REPLY_JSON + SEND_HELP)
            return None
        if reply.get("status") in ("command_response", "command_response_error"):
            return reply
        raise ValueError("Response was not of valid type (%s), code is cashing out"
                         % reply.get("status", "no status?!?"))

    def send_command(self, token, message, payload=None):
        """The original's send_command: the reply, or None after the deadline
        (the agent has then been sent an error and disconnected).  Raises
        KeyError for a token not connected, ConnectionClosed when the agent's
        reply broke the connection (e.g. over 1 MiB: 1009)."""
        return self._call(self._send_command(token, message, payload), self.reply_deadline + 20 * SLOW)

    def raw_send(self, token, text):
        """For the models' own tests: any text to a connected client."""
        conn = self.clients[token]
        conn.sent.append(text)
        self._call(conn.ws.send(text), 10)

    # -- the original's Slack actions: what a click sends, then the view

    def dashboard(self, token):
        return dashboard_view(token in self.clients)

    def menu_user_usages(self, token):
        return user_usages_page(self.send_command(token, "obtain_user_usages"))

    def menu_process_usage(self, token, page=0):
        return processes_list_page(self.send_command(token, "obtain_all_process_info"), page)

    def change_page(self, token, value, services=False):
        page = int(value)
        return self.menu_systemd_services(token, page) if services else self.menu_process_usage(token, page)

    def manage_process(self, token, value, unit="gb"):
        """value: PID-e (process list) or PID-update (service modal)."""
        parts = value.split("-")
        return process_modal(self.send_command(token, "obtain_process_info",
                                               {"pid": int(parts[0])}), unit)

    def kill(self, token, value):
        parts = value.split("-")
        r = self.send_command(token, "kill_process", {"pid": int(parts[0]), "method": parts[3]})
        return process_kill_modal(r, value)

    def pause(self, token, value):
        return process_action_modal(self.send_command(token, "pause_process", {"pid": int(value)}),
                                    "paus", value)

    def resume(self, token, value):
        return process_action_modal(self.send_command(token, "resume_process", {"pid": int(value)}),
                                    "resum", value)

    def menu_systemd_services(self, token, page=0):
        return services_list_page(self.send_command(token, "list_services"), page)

    def manage_service(self, token, value):
        """value: ENTRY-e.  The original splits on '-' and asks for the first
        part, so a unit name with a dash reaches the agent cut short."""
        return service_modal(self.send_command(token, "obtain_service_info",
                                               {"service_name": value.split("-")[0]}))

    def service_action(self, token, value):
        parts = value.split("-")
        r = self.send_command(token, "%s_service" % parts[1], {"service_name": parts[0]})
        return service_action_modal(r, value)

    def menu_get_port(self, token):
        return get_port_modal(self.send_command(token, "get_port"))
