"""slack_standin.py - a stand-in for Slack, written here from Slack's
published documentation (nobody can reach Slack from a test machine), for
test/it_slack.py.  It plays both halves of Slack that `nestd server`
talks to:

  * the Web API at http://127.0.0.1:PORT/api/METHOD (what --slack-api-url
    points at): apps.connections.open (app-level token), auth.test,
    views.publish, views.open, views.push, views.update, chat.postMessage
    (bot token).  Every call is recorded; it answers as Slack documents
    ("ok": true with the view and its id; "ok": false with an error code),
    and on request once with HTTP 429 and Retry-After, or once with a
    given error.  trigger_ids are its own and good for 3 seconds, as
    Slack's (views.open and views.push with an older one: expired_trigger_id).
  * the Socket Mode WebSocket that apps.connections.open hands out
    (ws://127.0.0.1:PORT/link/?ticket=...; a ticket is good once): it sends
    hello, then the envelopes a test asks for (events_api app_home_opened,
    interactive block_actions and view_submission, slash_commands), shaped
    as the Socket Mode documentation shows them, and checks each
    acknowledgement (its envelope_id, and when it came).  It sends
    disconnect (refresh_requested, warning, link_disabled) and drops links
    on request; an envelope whose ack had not come when its link went is
    delivered again on the next link with retry_attempt + 1, as Slack does.

Every view published, opened, pushed or updated, and every message's
blocks, is checked against Block Kit's documented limits and element
shapes (validate_view, validate_blocks); the problems found are kept in
`problems` and a call with any gets "ok": false, "error": "invalid_blocks",
as Slack answers.  mrkdwn is also checked for what an escaped text can
never hold: a raw '<' (a link or a mention) or an '&' that starts no
entity.

Everything runs on one asyncio loop in a thread of its own; the test's
synchronous code calls the methods below, each bounded in time.
"""
import asyncio
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websockets

APP_TOKEN = "xapp-1-A0TEST-1234-" + "ab" * 16
BOT_TOKEN = "xoxb-1234-5678-" + "cd" * 12
TRIGGER_TTL = 3.0

# ---- Block Kit's limits (api.slack.com/reference/block-kit) ----

TEXT_TYPES = ("plain_text", "mrkdwn")


def _text(p, obj, where, maxlen, plain_only=False):
    if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
        p.append("%s: not a text object: %r" % (where, obj))
        return
    if plain_only and obj["type"] != "plain_text":
        p.append("%s: must be plain_text" % where)
    t = obj.get("text")
    if not isinstance(t, str) or not t.strip():
        p.append("%s: text must be a non-empty string" % where)
        return
    if len(t) > maxlen:
        p.append("%s: %d characters, limit %d" % (where, len(t), maxlen))
    if obj["type"] == "mrkdwn":
        if "<" in t:
            p.append("%s: a raw '<' in mrkdwn (a link or mention): %r" % (where, t[:200]))
        for m in re.finditer("&", t):
            if not re.match("&(amp|lt|gt);", t[m.start():]):
                p.append("%s: an '&' that starts no entity: %r" % (where, t[:200]))
                break


def _id(p, v, where, maxlen, required=True):
    if v is None:
        if required:
            p.append("%s: missing" % where)
        return
    if not isinstance(v, str) or not v or len(v) > maxlen:
        p.append("%s: not a string of 1 to %d characters: %r" % (where, maxlen, v))


def _confirm(p, c, where):
    _text(p, c.get("title"), where + ".title", 100, True)
    _text(p, c.get("text"), where + ".text", 300)
    _text(p, c.get("confirm"), where + ".confirm", 30, True)
    _text(p, c.get("deny"), where + ".deny", 30, True)
    if c.get("style") not in (None, "primary", "danger"):
        p.append("%s.style: %r" % (where, c.get("style")))


def _option(p, o, where):
    _text(p, o.get("text"), where + ".text", 75, True)
    _id(p, o.get("value"), where + ".value", 150)


def _options(p, e, where, most):
    opts = e.get("options")
    if not isinstance(opts, list) or not 1 <= len(opts) <= most:
        p.append("%s.options: 1 to %d options" % (where, most))
        return
    for i, o in enumerate(opts):
        _option(p, o, "%s.options[%d]" % (where, i))
    if "initial_option" in e and e["initial_option"] not in opts:
        p.append("%s.initial_option is none of the options" % where)


def _element(p, e, where, ids):
    t = e.get("type")
    if "action_id" in e:
        _id(p, e["action_id"], where + ".action_id", 255)
        if e["action_id"] in ids:
            p.append("%s.action_id %r twice in one block" % (where, e["action_id"]))
        ids.add(e["action_id"])
    if t == "button":
        _text(p, e.get("text"), where + ".text", 75, True)
        _id(p, e.get("value"), where + ".value", 2000, required=False)
        if e.get("style") not in (None, "primary", "danger"):
            p.append("%s.style: %r" % (where, e.get("style")))
        if "confirm" in e:
            _confirm(p, e["confirm"], where + ".confirm")
    elif t == "static_select":
        _text(p, e.get("placeholder"), where + ".placeholder", 150, True)
        _options(p, e, where, 100)
    elif t == "radio_buttons":
        _options(p, e, where, 10)
    else:
        p.append("%s: element type %r is not one this app uses" % (where, t))


def _block(p, b, where, ids):
    t = b.get("type")
    _id(p, b.get("block_id"), where + ".block_id", 255, required=False)
    if t == "header":
        _text(p, b.get("text"), where + ".text", 150, True)
    elif t == "section":
        if "text" not in b and "fields" not in b:
            p.append("%s: a section needs text or fields" % where)
        if "text" in b:
            _text(p, b["text"], where + ".text", 3000)
        for i, f in enumerate(b.get("fields", [])):
            _text(p, f, "%s.fields[%d]" % (where, i), 2000)
        if len(b.get("fields", [])) > 10:
            p.append("%s: more than 10 fields" % where)
        if "accessory" in b:
            _element(p, b["accessory"], where + ".accessory", ids)
    elif t == "divider":
        pass
    elif t == "actions":
        els = b.get("elements")
        if not isinstance(els, list) or not 1 <= len(els) <= 25:
            p.append("%s: 1 to 25 elements" % where)
            return
        local = set()
        for i, e in enumerate(els):
            _element(p, e, "%s.elements[%d]" % (where, i), local)
    elif t == "context":
        els = b.get("elements")
        if not isinstance(els, list) or not 1 <= len(els) <= 10:
            p.append("%s: 1 to 10 elements" % where)
            return
        for i, e in enumerate(els):
            _text(p, e, "%s.elements[%d]" % (where, i), 3000)
    elif t == "input":
        _text(p, b.get("label"), where + ".label", 2000, True)
        _element(p, b.get("element", {}), where + ".element", set())
    else:
        p.append("%s: block type %r" % (where, t))


def validate_blocks(blocks, most, where="blocks"):
    p = []
    if not isinstance(blocks, list):
        return ["%s: not a list" % where]
    if len(blocks) > most:
        p.append("%s: %d blocks, limit %d" % (where, len(blocks), most))
    for i, b in enumerate(blocks):
        _block(p, b, "%s[%d]" % (where, i), set())
    return p


def validate_view(v):
    p = []
    if not isinstance(v, dict) or v.get("type") not in ("home", "modal"):
        return ["view: type must be home or modal"]
    if v["type"] == "modal":
        _text(p, v.get("title"), "view.title", 24, True)
        for k in ("close", "submit"):
            if k in v:
                _text(p, v[k], "view." + k, 24, True)
        if any(b.get("type") == "input" for b in v.get("blocks", [])) and "submit" not in v:
            p.append("view: an input block needs submit")
    _id(p, v.get("private_metadata"), "view.private_metadata", 3000, required=False)
    _id(p, v.get("callback_id"), "view.callback_id", 255, required=False)
    return p + validate_blocks(v.get("blocks"), 100, "view.blocks")


def all_text(v):
    """Every text string of a view or message, for what a test looks for."""
    out = []

    def walk(x):
        if isinstance(x, dict):
            if isinstance(x.get("text"), str):
                out.append(x["text"])
            for k, y in x.items():
                if k != "text" or not isinstance(y, str):
                    walk(y)
        elif isinstance(x, list):
            for y in x:
                walk(y)
    walk(v)
    return "\n".join(out)


def buttons(v):
    """(action_id, value, text) of every button and select option."""
    out = []

    def walk(x):
        if isinstance(x, dict):
            if x.get("type") == "button":
                out.append((x.get("action_id"), x.get("value"), x["text"]["text"]))
            if x.get("type") == "static_select":
                for o in x.get("options", []):
                    out.append((x.get("action_id"), o["value"], o["text"]["text"]))
            for y in x.values():
                walk(y)
        elif isinstance(x, list):
            for y in x:
                walk(y)
    walk(v)
    return out


# ---- the stand-in ----

class Call:
    def __init__(self, method, token, body, status):
        self.t = time.monotonic()
        self.method = method
        self.token = token
        self.body = body
        self.status = status
        self.answer = None


class Link:
    def __init__(self, ws, n):
        self.ws = ws
        self.n = n
        self.acks = {}          # envelope_id -> (time, ack object)
        self.closed = False


class SlackStandin:
    def __init__(self):
        self.lock = threading.RLock()
        self.calls = []
        self.problems = []
        self.tickets = set()
        self.next_id = 0
        self.triggers = {}       # trigger_id -> time issued
        self.views = {}          # view id -> view
        self.home = {}           # user -> view
        self.fail_next = {}      # method -> error code
        self.limit_next = {}     # method -> Retry-After seconds
        self.links = []
        self.unacked = {}        # envelope_id -> envelope (to deliver again)
        self.sent = {}           # envelope_id -> (time sent, link)
        self.acks = {}           # envelope_id -> [(time, link n, ack)]
        self.log = []
        self.ws_url = None       # a URL apps.connections.open hands out instead of its own
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the Slack stand-in did not start")
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.http.daemon_threads = True
        self.api_port = self.http.server_address[1]
        self.api_url = "http://127.0.0.1:%d/api/" % self.api_port
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    # -- the loop --

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def start():
            self.ws_server = await websockets.serve(self._ws, "127.0.0.1", 0,
                                                    process_request=self._check_ticket,
                                                    max_size=2 ** 22)
            self.ws_port = self.ws_server.sockets[0].getsockname()[1]
        self.loop.run_until_complete(start())
        self.ready.set()
        self.loop.run_forever()

    def _do(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        self.http.shutdown()

        async def stop():
            self.ws_server.close()
            for l in list(self.links):
                try:
                    l.ws.transport.abort()
                except Exception:
                    pass
        try:
            self._do(stop(), 5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)

    def new_id(self, prefix):
        with self.lock:
            self.next_id += 1
            return "%s%d" % (prefix, self.next_id)

    # -- the Web API --

    def _handler(self):
        standin = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                method = self.path.rsplit("/", 1)[-1]
                auth = self.headers.get("Authorization", "")
                status, headers, answer = standin._api(method, auth, raw,
                                                       self.headers.get("Content-Type", ""))
                body = json.dumps(answer).encode()
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        return H

    def _api(self, method, auth, raw, ctype):
        token = auth[7:] if auth.startswith("Bearer ") else None
        try:
            body = json.loads(raw.decode()) if raw else {}
        except Exception:
            body = None
        with self.lock:
            c = Call(method, token, body, 200)
            self.calls.append(c)
            if method in self.limit_next:
                c.status = 429
                ra = self.limit_next.pop(method)
                c.answer = {"ok": False, "error": "ratelimited"}
                return 429, [("Retry-After", str(ra))], c.answer
            c.answer = self._answer(method, token, body, ctype)
            return 200, [], c.answer

    def _answer(self, method, token, body, ctype):
        if not ctype.startswith("application/json") or not isinstance(body, dict):
            return {"ok": False, "error": "invalid_json"}
        want = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token is None:
            return {"ok": False, "error": "not_authed"}
        if token != want:
            return {"ok": False, "error": "invalid_auth" if token not in (APP_TOKEN, BOT_TOKEN)
                    else "not_allowed_token_type"}
        if method in self.fail_next:
            return {"ok": False, "error": self.fail_next.pop(method)}
        f = getattr(self, "_m_" + method.replace(".", "_"), None)
        if not f:
            return {"ok": False, "error": "unknown_method"}
        return f(body)

    def _m_apps_connections_open(self, body):
        ticket = self.new_id("t")
        self.tickets.add(ticket)
        if self.ws_url:
            return {"ok": True, "url": self.ws_url + "?ticket=" + ticket}
        return {"ok": True, "url": "ws://127.0.0.1:%d/link/?ticket=%s&app_id=A0TEST" %
                (self.ws_port, ticket)}

    def _m_auth_test(self, body):
        return {"ok": True, "url": "https://standin.slack.test/", "team": "Stand-in",
                "user": "nest", "team_id": "T0TEST", "user_id": "U0BOT", "bot_id": "B0BOT"}

    def _checked(self, v, surface):
        p = validate_view(v)
        if surface and isinstance(v, dict) and v.get("type") != surface:
            p.append("view: %s expects a %s view" % (surface, surface))
        if p:
            self.problems.extend(p)
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": p[:5]}}
        return None

    def _view_answer(self, vid, v):
        self.views[vid] = v
        return {"ok": True, "view": dict(v, id=vid, hash=self.new_id("h"))}

    def _trigger(self, body):
        t = body.get("trigger_id")
        if t not in self.triggers:
            return {"ok": False, "error": "invalid_trigger_id"}
        if time.monotonic() - self.triggers[t] > TRIGGER_TTL:
            return {"ok": False, "error": "expired_trigger_id"}
        return None

    def _m_views_publish(self, body):
        v = body.get("view")
        bad = self._checked(v, "home") if body.get("user_id") else {"ok": False, "error": "invalid_arguments"}
        if bad:
            return bad
        self.home[body["user_id"]] = v
        return self._view_answer("VH" + body["user_id"], v)

    def _m_views_open(self, body):
        bad = self._trigger(body) or self._checked(body.get("view"), "modal")
        return bad or self._view_answer(self.new_id("VM"), body["view"])

    _m_views_push = _m_views_open

    def _m_views_update(self, body):
        vid = body.get("view_id")
        if vid not in self.views:
            return {"ok": False, "error": "not_found"}
        bad = self._checked(body.get("view"), self.views[vid].get("type"))
        return bad or self._view_answer(vid, body["view"])

    def _m_chat_postMessage(self, body):
        if not body.get("channel") or not (body.get("text") or body.get("blocks")):
            return {"ok": False, "error": "no_text"}
        if "blocks" in body:
            p = validate_blocks(body["blocks"], 50)
            if p:
                self.problems.extend(p)
                return {"ok": False, "error": "invalid_blocks"}
        return {"ok": True, "channel": body["channel"], "ts": "%.6f" % time.time()}

    # -- Socket Mode --

    async def _check_ticket(self, path, headers):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
        t = (q.get("ticket") or [""])[0]
        with self.lock:
            if t not in self.tickets:
                self.log.append("refused ticket %r" % t)
                return (401, [], b"invalid ticket\n")
            self.tickets.discard(t)
        return None

    async def _ws(self, ws, path=None):
        with self.lock:
            link = Link(ws, len(self.links) + 1)
            self.links.append(link)
            again = list(self.unacked.values())
        await ws.send(json.dumps({"type": "hello", "num_connections": len(self.live()),
                                  "debug_info": {"host": "applink-standin", "build_number": 1,
                                                 "approximate_connection_time": 18060},
                                  "connection_info": {"app_id": "A0TEST"}}))
        for env in again:
            env = dict(env, retry_attempt=env.get("retry_attempt", 0) + 1,
                       retry_reason="timeout")
            await self._send_on(link, env)
        try:
            async for msg in ws:
                try:
                    a = json.loads(msg)
                except ValueError:
                    self.problems.append("link %d: an ack that is not JSON: %r" % (link.n, msg[:200]))
                    continue
                eid = a.get("envelope_id") if isinstance(a, dict) else None
                with self.lock:
                    if eid not in self.sent:
                        self.problems.append("link %d: an ack for no envelope: %r" % (link.n, msg[:200]))
                        continue
                    self.acks.setdefault(eid, []).append((time.monotonic(), link.n, a))
                    self.unacked.pop(eid, None)
                if "payload" in a and isinstance(a["payload"], dict) and "blocks" in a["payload"]:
                    p = validate_blocks(a["payload"]["blocks"], 50, "ack.payload.blocks")
                    self.problems.extend(p)
        except websockets.ConnectionClosed:
            pass
        finally:
            link.closed = True

    async def _send_on(self, link, env):
        with self.lock:
            self.sent[env["envelope_id"]] = (time.monotonic(), link.n)
            self.unacked[env["envelope_id"]] = env
        await link.ws.send(json.dumps(env))

    def live(self):
        return [l for l in self.links if not l.closed]

    def wait_links(self, n, timeout=10):
        """Waits until n links have connected in all (ever); the newest live."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.links) >= n and self.live():
                return self.live()[-1]
            time.sleep(0.02)
        return None

    def send(self, env, link=None):
        """Sends an envelope on link (default: the newest live one)."""
        link = link or self.live()[-1]
        self._do(self._send_on(link, env))
        return env["envelope_id"]

    def wait_ack(self, eid, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if eid in self.acks:
                    return self.acks[eid][0]
            time.sleep(0.01)
        return None

    def ack_delay(self, eid):
        with self.lock:
            return self.acks[eid][0][0] - self.sent[eid][0] if eid in self.acks else None

    def disconnect(self, reason, link=None):
        link = link or self.live()[-1]
        self._do(link.ws.send(json.dumps({"type": "disconnect", "reason": reason,
                                          "debug_info": {"host": "applink-standin"}})))
        return link

    def close_link(self, link, code=1000):
        self._do(link.ws.close(code))

    def drop(self, link=None):
        """The TCP connection goes, without a close frame."""
        link = link or self.live()[-1]

        async def abort():
            link.ws.transport.abort()
        self._do(abort())
        end = time.monotonic() + 5
        while not link.closed and time.monotonic() < end:
            time.sleep(0.01)
        return link

    # -- envelopes, shaped as Slack's documentation shows them --

    def trigger(self):
        t = "%d.%d.%s" % (int(time.time()), self.next_id, "f" * 32)
        with self.lock:
            self.next_id += 1
            self.triggers[t] = time.monotonic()
        return t

    def env_home_opened(self, user):
        return {"envelope_id": self.new_id("env-"), "type": "events_api",
                "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": "",
                "payload": {"token": "verif", "team_id": "T0TEST", "api_app_id": "A0TEST",
                            "type": "event_callback", "event_id": self.new_id("Ev"),
                            "event_time": int(time.time()),
                            "event": {"type": "app_home_opened", "user": user,
                                      "channel": "D" + user, "tab": "home",
                                      "event_ts": "%.6f" % time.time()}}}

    def env_action(self, user, action_id, value=None, view_id=None, view_type="home",
                   selected=None):
        act = {"type": "static_select" if selected else "button", "action_id": action_id,
               "block_id": "b1", "action_ts": "%.6f" % time.time()}
        if value is not None:
            act["value"] = value
        if selected:
            act["selected_option"] = {"text": {"type": "plain_text", "text": selected},
                                      "value": selected}
        vid = view_id or ("VH" + user)
        view = dict(self.views.get(vid, {"type": view_type}), id=vid, hash="h",
                    type=view_type, team_id="T0TEST", app_id="A0TEST")
        return {"envelope_id": self.new_id("env-"), "type": "interactive",
                "accepts_response_payload": False,
                "payload": {"type": "block_actions", "team": {"id": "T0TEST", "domain": "s"},
                            "user": {"id": user, "username": user.lower(), "team_id": "T0TEST"},
                            "api_app_id": "A0TEST", "token": "verif", "trigger_id": self.trigger(),
                            "container": {"type": "view", "view_id": vid}, "view": view,
                            "actions": [act]}}

    def env_submit(self, user, view_id, values):
        view = dict(self.views.get(view_id, {}), id=view_id, hash="h",
                    state={"values": values})
        return {"envelope_id": self.new_id("env-"), "type": "interactive",
                "accepts_response_payload": True,
                "payload": {"type": "view_submission", "team": {"id": "T0TEST"},
                            "user": {"id": user, "username": user.lower()},
                            "api_app_id": "A0TEST", "trigger_id": self.trigger(), "view": view}}

    def env_command(self, user, command, text):
        return {"envelope_id": self.new_id("env-"), "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {"token": "verif", "team_id": "T0TEST", "team_domain": "s",
                            "channel_id": "C0TEST", "channel_name": "general", "user_id": user,
                            "user_name": user.lower(), "command": command, "text": text,
                            "api_app_id": "A0TEST", "is_enterprise_install": "false",
                            "response_url": "https://hooks.slack.test/commands/1",
                            "trigger_id": self.trigger()}}

    # -- what the test reads --

    def calls_of(self, method, since=0):
        with self.lock:
            return [c for c in self.calls[since:] if c.method == method]

    def mark(self):
        with self.lock:
            return len(self.calls)

    def wait_call(self, method, pred=lambda c: True, since=0, timeout=10):
        end = time.monotonic() + timeout
        while True:
            for c in self.calls_of(method, since):
                if pred(c):
                    return c
            if time.monotonic() > end:
                return None
            time.sleep(0.02)
