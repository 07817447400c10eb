/* nestd dashboard.  Everything goes through the server's HTTP API
 * (GET /api/clients, POST /api/clients/NAME/commands...).  The operator's
 * token is sent once, to POST /api/session, which answers with an HttpOnly
 * cookie: the token is never kept by the page, every tab of the browser
 * shares the login, and every request also carries the X-Nestd-CSRF header
 * that another site's page cannot send.  Text from the API and from agents
 * (process names, command lines, command output) only ever enters the page
 * as text nodes or attribute values: nothing here parses HTML, so nothing
 * an agent says can run as code. */
'use strict';
(function () {
  var POLL_MS = 5000;            /* agents and their usage */
  var PROC_REFRESH_MS = 5000;    /* process table auto-refresh */
  var HIST_MS = 15 * 60 * 1000;  /* usage charts keep this much */
  var SAMPLE_AGENTS = 32;        /* usage sampled for at most this many agents */
  var AGENTS_KEY = 'nestd.agents';   /* sessionStorage: the agents this tab has seen */
  var UNIT_KEY = 'nestd.unit';       /* localStorage: iec (GiB), si (GB), bytes */
  var SORT_KEY = 'nestd.sort';       /* localStorage: the process table's sort, like htoprc */
  var ME_KEY = 'nestd.me';           /* localStorage: the user the "mine" toggle means */
  var TOKEN_RE = /^[0-9a-f]{64}\.[0-9a-f]{8}$/;

  var st = {
    me: null,           /* GET /api/me while logged in; null: the login form */
    booting: true,      /* asking the server whether this browser has a session */
    loginMsg: '',
    loginDraft: '',     /* a refused token stays in the field */
    clients: null,      /* last GET /api/clients: the connected agents */
    agents: [],         /* every agent known, online or not (rosterMerge) */
    clientsErr: '',     /* the server answered, but with an error */
    down: null,         /* the server is unreachable: {since, err} */
    lastOk: 0,          /* when the server last answered */
    sys: {},            /* name -> {data, err, t} */
    hist: {},           /* name -> [{t, cpu, load1, load5, load15, memUsed, memTotal, diskUsed, diskTotal, cores}] */
    srvHist: {},        /* name -> GET /api/clients/NAME/history, as last read */
    cpuPrev: {},        /* name -> the last sample's {busy, total} CPU seconds */
    unit: 'iec',
    polling: false,
    pollTimer: 0,
    viewTimer: 0,
    gen: 0,             /* bumps on each render: late answers for old views are dropped */
    route: null,
    pv: null,           /* process table state */
    sv: null,           /* service list state */
    killSig: 'SIGTERM', /* the signal menu's choice, kept across cards */
    runs: {}            /* agent -> last exec result */
  };

  function load(store, key) {
    try { return window[store].getItem(key) || ''; } catch (e) { return ''; }
  }
  function save(store, key, v) {
    try { if (v === null) window[store].removeItem(key); else window[store].setItem(key, v); } catch (e) { /* private mode */ }
  }

  save('sessionStorage', 'nestd.token', null);   /* what older pages kept there */
  st.unit = /^(iec|si|bytes)$/.test(load('localStorage', UNIT_KEY)) ? load('localStorage', UNIT_KEY) : 'iec';
  try { st.agents = JSON.parse(load('sessionStorage', AGENTS_KEY) || '[]'); } catch (e) { st.agents = []; }
  if (!Array.isArray(st.agents)) st.agents = [];

  /* ---- DOM helpers: text only ---- */

  function add(e, kids) {
    for (var i = 0; i < kids.length; i++) {
      var k = kids[i];
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) add(e, k);
      else if (k instanceof Node) e.appendChild(k);
      else e.appendChild(document.createTextNode(String(k)));
    }
  }

  /* h('a', {href: '#/', class: 'x', onclick: f}, 'text', node, [more]) */
  function h(tag, props) {
    var e = document.createElement(tag);
    setProps(e, props);
    add(e, Array.prototype.slice.call(arguments, 2));
    return e;
  }

  function setProps(e, props) {
    if (!props) return;
    Object.keys(props).forEach(function (k) {
      var v = props[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'class') e.setAttribute('class', v);
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    });
  }

  var SVG = 'http://www.w3.org/2000/svg';
  function s(tag, props) {
    var e = document.createElementNS(SVG, tag);
    setProps(e, props);
    add(e, Array.prototype.slice.call(arguments, 2));
    return e;
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function $(id) { return document.getElementById(id); }
  function code(t) { return h('code', null, t); }

  /* ---- formatting ---- */

  /* In the unit the settings chose: binary (GiB, as free -h and htop),
   * decimal (GB, as the original bot), or plain bytes. */
  function fmtBytes(n, unit) {
    if (typeof n !== 'number' || !isFinite(n)) return '–';
    unit = unit || st.unit;
    if (unit === 'bytes') return n.toLocaleString('en-US') + ' B';
    var k = unit === 'si' ? 1000 : 1024, i = 0;
    var u = unit === 'si' ? ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] : ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    while (n >= k && i < u.length - 1) { n /= k; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + u[i];
  }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function ymd(d) { return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()); }
  /* seconds: "HH:MM:SS" today, with the date on other days; short: no seconds */
  function fmtTime(sec, short) {
    if (typeof sec !== 'number' || !isFinite(sec) || sec <= 0) return '–';
    var d = new Date(sec * 1000);
    var t = pad(d.getHours()) + ':' + pad(d.getMinutes()) + (short ? '' : ':' + pad(d.getSeconds()));
    return d.toDateString() === new Date().toDateString() ? t : ymd(d) + ' ' + t;
  }
  /* A process's start, in a column's width (like ps's START): the time
   * today, the date before. */
  function fmtStart(sec) {
    if (typeof sec !== 'number' || !isFinite(sec) || sec <= 0) return '–';
    var d = new Date(sec * 1000);
    return d.toDateString() === new Date().toDateString() ? fmtTime(sec) : ymd(d);
  }
  function fmtDuration(sec) {
    if (typeof sec !== 'number' || !isFinite(sec) || sec < 0) return '–';
    sec = Math.floor(sec);
    if (sec < 60) return sec + ' s';
    if (sec < 3600) return Math.floor(sec / 60) + ' min';
    if (sec < 86400) return Math.floor(sec / 3600) + ' h ' + Math.floor(sec % 3600 / 60) + ' min';
    return Math.floor(sec / 86400) + ' d ' + Math.floor(sec % 86400 / 3600) + ' h';
  }
  function str(v) { return v === null || v === undefined ? '–' : String(v); }
  function str0(v) { return v === null || v === undefined ? '' : String(v); }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : 0; }
  function cls(word) { return String(word || '').toLowerCase().replace(/[^a-z-]/g, ''); }
  function enc(x) { return encodeURIComponent(String(x)); }
  function cap(w) { return w.charAt(0).toUpperCase() + w.slice(1); }

  /* ---- messages ---- */

  function banner(msg) {
    $('banner-text').textContent = msg;
    $('banner').hidden = !msg;
  }
  function errorBox(msg) { return h('p', { class: 'error', role: 'alert' }, msg); }
  function okBox(msg) { return h('p', { class: 'ok', role: 'status' }, msg); }
  function infoBox(msg, id) { return h('div', { class: 'info', id: id }, msg); }

  window.addEventListener('error', function (ev) {
    banner('Something went wrong in the page: ' + (ev.message || 'unknown error') + '. Reload to continue.');
  });
  window.addEventListener('unhandledrejection', function (ev) {
    var r = ev.reason;
    banner('Something went wrong in the page: ' + (r && r.message ? r.message : String(r)));
  });

  /* ---- the API ---- */

  function ApiError(msg, status) {
    var e = new Error(msg);
    e.status = status;
    return e;
  }

  /* bearer: a token to send once (the login); otherwise the session's
   * cookie goes, with the header that proves the request is this page's. */
  function api(method, path, body, bearer) {
    var opt = {
      method: method,
      headers: { 'X-Nestd-CSRF': '1' },
      cache: 'no-store',
      credentials: 'same-origin'
    };
    if (bearer) opt.headers.Authorization = 'Bearer ' + bearer;
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    return fetch(path, opt).catch(function (e) {
      throw ApiError('cannot reach the nestd server (' + (e && e.message ? e.message : 'network error') + ')', 0);
    }).then(function (r) {
      return r.text().catch(function () { return ''; }).then(function (text) {
        var j = null;
        try { j = JSON.parse(text); } catch (e) { j = null; }
        if (!r.ok) {
          var msg = j && typeof j.error === 'string' ? j.error
            : (text.trim().slice(0, 200) || r.statusText || 'request failed');
          if (r.status === 429 && r.headers.get('Retry-After'))
            msg += ' (try again in ' + r.headers.get('Retry-After') + ' s)';
          if (r.status === 401 && !bearer && st.me) loggedOut(msg);
          throw ApiError(msg + ' (HTTP ' + r.status + ')', r.status);
        }
        if (j === null) throw ApiError('the server answered something that is not JSON (HTTP ' + r.status + ')', r.status);
        return j;
      });
    });
  }

  /* A command for an agent; resolves to the reply's payload, rejects with
   * the agent's own words on command_response_error. */
  function cmd(agent, message, payload) {
    var body = { message: message };
    if (payload !== undefined) body.payload = payload;
    return api('POST', 'api/clients/' + enc(agent) + '/commands', body).then(function (r) {
      if (r && r.status === 'command_response') return r.payload;
      if (r && r.status === 'command_response_error') {
        /* payload.error; the original client put its text in message */
        var why = r.payload && typeof r.payload.error === 'string' ? r.payload.error
          : typeof r.message === 'string' && r.message.indexOf('response_') !== 0 ? r.message : 'no reason given';
        throw ApiError(message + ' on ' + agent + ' failed: ' + why, 200);
      }
      throw ApiError('unexpected answer to ' + message + ' from ' + agent, 200);
    });
  }

  /* ---- the agents: online ones from the server, offline ones remembered ----
   *
   * GET /api/clients lists every agent the server has seen, the offline
   * ones with "online": false and "last_seen" (unix seconds), across its
   * restarts.  Its word is taken as is; this tab also remembers the ones it
   * has seen (sessionStorage, so a reload keeps them) for a server that
   * does not (an older one), marking the missing ones offline. */

  function copy(o) { var c = {}; Object.keys(o).forEach(function (k) { c[k] = o[k]; }); return c; }

  function rosterMerge(known, list, now) {
    var out = [], seen = {};
    list.forEach(function (c) {
      if (!c || typeof c.name !== 'string' || seen[c.name]) return;
      var a = copy(c);
      a.online = c.online !== false;
      a.last_seen = a.online ? now : num(c.last_seen);
      seen[a.name] = 1;
      out.push(a);
    });
    known.forEach(function (k) {
      if (!k || typeof k.name !== 'string' || seen[k.name]) return;
      var a = copy(k);
      a.online = false;
      out.push(a);
    });
    /* By name: a card keeps its place when its agent comes and goes. */
    return out.sort(function (x, y) { return x.name < y.name ? -1 : x.name > y.name ? 1 : 0; });
  }

  function forgetHere(name) {
    st.agents = st.agents.filter(function (a) { return a.name !== name || a.online; });
    save('sessionStorage', AGENTS_KEY, JSON.stringify(st.agents));
    delete st.sys[name];
    delete st.hist[name];
    delete st.srvHist[name];
  }
  /* The server forgets it and its history (DELETE /api/clients/NAME); an
   * agent it never remembered is only this tab's to forget. */
  function forget(name) {
    return api('DELETE', 'api/clients/' + enc(name)).then(function () { forgetHere(name); }, function (e) {
      if (e.status === 404) forgetHere(name); else banner('Could not forget ' + name + ': ' + e.message);
    }).then(function () { render(true); });
  }

  /* The agent as last known (online or not); null if never seen. */
  function client(name) {
    for (var i = 0; i < st.agents.length; i++) if (st.agents[i].name === name) return st.agents[i];
    return null;
  }

  /* Where to look on the agent's machine when it is offline: its unit, by
   * the service manager it reported (the installer puts it under that one). */
  function fixHint(a, block) {
    var on = a.hostname ? 'On ' + a.hostname : 'On its machine', lead, cmds;
    var sys = ['systemctl status nestd-agent', 'journalctl -u nestd-agent -e'];
    var usr = ['systemctl --user status nestd-agent', 'journalctl --user -u nestd-agent -e'];
    if (a.services === 'openrc') { lead = on + ', see its OpenRC service:'; cmds = ['rc-service nestd-agent status', 'tail /var/log/nestd-agent.log']; }
    else if (a.services === 'systemd-user') { lead = on + ', as the agent\'s user, see its user unit:'; cmds = usr; }
    else if (a.services === 'systemd') { lead = on + ', see the nestd-agent.service unit:'; cmds = sys; }
    else { lead = on + ', see the nestd-agent.service unit (or the user unit, with --user):'; cmds = sys.concat(usr.slice(0, 1)); }
    if (block) return [h('p', null, lead), h('div', { class: 'cmds' }, cmds.map(function (c) { return code(c); }))];
    return [lead + ' '].concat(cmds.map(function (c, i) { return [i ? ' · ' : '', code(c)]; }));
  }

  /* What the original bot's client answers: all an agent that announced
   * no command list (the original client) is ever sent; the server refuses
   * the rest (409), and the original client would exit on any of them. */
  var ORIGINAL_COMMANDS = ['obtain_user_usages', 'obtain_all_process_info', 'obtain_process_info',
    'kill_process', 'pause_process', 'resume_process', 'list_services', 'obtain_service_info',
    'start_service', 'stop_service', 'restart_service', 'reload_service', 'get_port'];

  function isOriginal(c) { return !!c && (c.compat === 'original' || !Array.isArray(c.commands)); }

  /* Why the agent would refuse command, from the list it announced (an
   * original client's is the original's); null if it would accept. */
  function refusal(agent, command) {
    var c = client(agent);
    if (!c) return null;
    if (isOriginal(c))
      return ORIGINAL_COMMANDS.indexOf(command) < 0 ? command + ' is not supported by this agent (original client)' : null;
    if (c.commands.indexOf(command) < 0)
      return command + ' is not allowed on this agent (its --allow/--deny policy)';
    return null;
  }

  /* ---- polling: agents and their usage, while logged in ---- */

  function startPolling() {
    stopPolling();
    poll();
    st.pollTimer = setInterval(poll, POLL_MS);
  }
  function stopPolling() {
    if (st.pollTimer) clearInterval(st.pollTimer);
    st.pollTimer = 0;
  }

  function sample(name) {
    /* Not asked at all when the agent would not answer: a note, not an error */
    var why = refusal(name, 'obtain_system_info');
    if (why) { st.sys[name] = { unsupported: why, t: Date.now() }; return Promise.resolve(); }
    return cmd(name, 'obtain_system_info').then(function (d) {
      var t = Date.now();
      st.sys[name] = { data: d, t: t, cpu: cpuPercent(name, d) };
      var hist = st.hist[name] || (st.hist[name] = []);
      var mem = d && d.memory ? d.memory : {}, load = d && Array.isArray(d.load) ? d.load : [], disk = d && d.disk ? d.disk : {};
      hist.push({ t: t, cpu: st.sys[name].cpu, load1: num(load[0]), load5: num(load[1]), load15: num(load[2]),
        memUsed: num(mem.used), memTotal: num(mem.total), diskUsed: num(disk.used), diskTotal: num(disk.total),
        cores: d && d.cpu ? num(d.cpu.cores) : 0 });
      while (hist.length && hist[0].t < t - HIST_MS) hist.shift();
    }, function (e) {
      st.sys[name] = { err: e.message, t: Date.now() };
    });
  }

  /* CPU % since this tab's last sample, from the kernel's counters
   * (cpu.times); null for the first one, or an agent that sends none. */
  function cpuPercent(name, d) {
    var t = d && d.cpu && d.cpu.times, prev = st.cpuPrev[name], total = 0;
    if (!t || typeof t.idle !== 'number') return null;
    Object.keys(t).forEach(function (k) { total += num(t[k]); });
    var cur = { busy: total - num(t.idle) - num(t.iowait), total: total };
    st.cpuPrev[name] = cur;
    if (!prev || cur.total <= prev.total || cur.busy < prev.busy) return null;
    return Math.min(100, 100 * (cur.busy - prev.busy) / (cur.total - prev.total));
  }

  function clientsAnswered(list) {
    var now = Date.now() / 1000;
    st.clients = Array.isArray(list) ? list.filter(function (c) { return c && c.online !== false; }) : [];
    st.agents = rosterMerge(st.agents, Array.isArray(list) ? list : [], now);
    save('sessionStorage', AGENTS_KEY, JSON.stringify(st.agents));
    st.clientsErr = '';
    st.down = null;
    st.lastOk = Date.now();
    var names = {};
    st.clients.forEach(function (c) { names[c.name] = 1; });
    Object.keys(st.sys).forEach(function (n) { if (!names[n]) delete st.sys[n]; });
  }

  /* The agents: the whole fleet's; when a fleet's other servers cannot be
   * asked (503), this server's own, and why the rest are missing. */
  function fetchClients() {
    return api('GET', 'api/clients').then(function (list) {
      st.partial = '';
      return list;
    }, function (e) {
      if (e.status !== 503) throw e;
      return api('GET', 'api/clients?scope=local').then(function (list) {
        st.partial = e.message;
        return list;
      });
    });
  }

  function poll() {
    if (st.polling || !st.me) return;
    st.polling = true;
    fetchClients().then(function (list) {
      clientsAnswered(list);
      return Promise.all(st.clients.slice(0, SAMPLE_AGENTS).map(function (c) { return sample(c.name); }));
    }).catch(function (e) {
      /* No answer, or a proxy's 5xx: nothing known is live any more. */
      if (e.status === 0 || e.status >= 500) {
        if (!st.down) st.down = { since: Date.now() };
        st.down.err = e.message;
        st.sys = {};
      } else st.clientsErr = e.message;
    }).then(function () {
      st.polling = false;
      live();
    });
  }

  /* The strip under the top bar: the server's reachability, on every view. */
  function connStrip() {
    var c = $('conn');
    clear(c);
    c.hidden = !st.me || (!st.down && !st.partial);
    if (c.hidden) return;
    if (!st.down) {
      c.appendChild(h('strong', null, 'This server\'s agents only'));
      c.appendChild(h('span', null, ': the other servers of the fleet cannot be asked now. Retrying every ' +
        POLL_MS / 1000 + ' s.'));
      c.appendChild(h('span', { class: 'why' }, st.partial));
      return;
    }
    c.appendChild(h('strong', null, 'Server unreachable'));
    c.appendChild(h('span', null, ' since ' + fmtTime(st.down.since / 1000) +
      (st.lastOk ? ' (last answer ' + fmtTime(st.lastOk / 1000) + ')' : '') +
      ': what the agents do now is unknown, and nothing on this page is live. Retrying every ' +
      POLL_MS / 1000 + ' s.'));
    c.appendChild(h('span', { class: 'why' }, st.down.err));
    c.appendChild(h('button', { type: 'button', onclick: poll }, 'Retry now'));
  }

  /* After each poll: views that show live data redraw. */
  function live() {
    if (!st.me) return;
    var n = st.clients ? st.clients.length : 0, off = st.agents.length - n;
    $('live').textContent = st.down ? 'server unreachable'
      : n + ' online' + (off > 0 ? ' · ' + off + ' offline' : '');
    connStrip();
    var r = st.route;
    if (!r) return;
    if (r.view === 'agents' || r.view === 'charts') render(true);
    else if (r.agent) agentWarning(r.agent);
  }

  /* ---- login: a token exchanged once for the session's cookie ---- */

  function loggedOut(msg) {
    st.me = null;
    save('sessionStorage', AGENTS_KEY, null);
    st.loginMsg = msg || '';
    st.clients = null;
    st.agents = [];
    st.down = null;
    st.sys = {};
    st.srvHist = {};
    stopPolling();
    render();
  }

  /* Who this browser is logged in as (GET /api/me), then the agents. */
  function loggedIn(me) {
    st.me = me;
    st.booting = false;
    return api('GET', 'api/clients').then(function (list) {
      clientsAnswered(list);
      render();
      startPolling();
    });
  }

  function logout(all) {
    api('DELETE', 'api/session' + (all ? '?all=1' : '')).catch(function () { /* gone already */ })
      .then(function () { loggedOut(''); location.hash = '#/'; });
  }

  function viewLogin(main) {
    if (st.booting) { main.appendChild(h('p', { class: 'muted' }, 'Checking the session…')); return; }
    var input = h('input', { id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
      placeholder: '64 hex characters, a dot, 8 hex characters', 'aria-describedby': 'token-help' });
    input.value = st.loginDraft;
    var msg = h('div', { id: 'login-msg' }, st.loginMsg ? errorBox(st.loginMsg) : null);
    var btn = h('button', { type: 'submit' }, 'Log in');
    var form = h('form', { class: 'card login', onsubmit: function (ev) {
      ev.preventDefault();
      var t = input.value.trim();
      clear(msg);
      st.loginDraft = input.value;     /* a refused token stays in the field */
      if (!TOKEN_RE.test(t)) {
        msg.appendChild(errorBox(['That is not a nestd token: it is 64 lowercase hex characters, a dot and 8 more (',
          code('nestd token new NAME --role operator'), ' makes one).']));
        return;
      }
      btn.disabled = true;
      msg.appendChild(h('p', { class: 'muted' }, 'Checking the token…'));
      api('POST', 'api/session', undefined, t).then(function () {
        return api('GET', 'api/me');
      }).then(function (me) {
        st.loginMsg = '';
        st.loginDraft = '';
        input.value = '';
        if (!location.hash || location.hash === '#/') location.hash = '#/';
        return loggedIn(me);
      }).catch(function (e) {
        st.me = null;
        st.loginMsg = e.message;
        render();
      });
    } },
    h('h1', null, 'Log in'),
    h('label', { for: 'token' }, 'Operator token'),
    input,
    h('p', { id: 'token-help', class: 'muted' },
      'Sent once to this server, which answers with a session for this browser (every tab, ',
      fmtDuration(43200), '); the page keeps no copy. Make a token on the server with ',
      code('nestd token new NAME --role operator'), '.'),
    btn, msg);
    main.appendChild(form);
    input.focus();
  }

  /* ---- routing ---- */

  function parseRoute() {
    var parts = location.hash.replace(/^#\/?/, '').split('/');
    try { parts = parts.map(decodeURIComponent); } catch (e) { return { view: 'agents' }; }
    if (parts[0] === 'tokens' || parts[0] === 'settings') return { view: parts[0] };
    if (parts[0] !== 'agent' || !parts[1]) return { view: 'agents' };
    var r = { agent: parts[1], view: parts[2] || 'processes', arg: parts.slice(3).join('/') };
    if (['processes', 'process', 'services', 'service', 'run', 'usage', 'charts', 'port'].indexOf(r.view) < 0) r.view = 'processes';
    return r;
  }

  var VIEWS = {};

  /* keep: redraw for fresh data without resetting the view's timers */
  function render(keep) {
    var main = $('main');
    if (!keep) {
      if (st.viewTimer) clearInterval(st.viewTimer);
      st.viewTimer = 0;
    }
    st.gen++;
    var scrollY = window.scrollY;
    clear(main);
    $('logout').hidden = !st.me;
    clear($('crumbs'));
    topNav();
    connStrip();
    if (!st.me) {
      $('live').textContent = '';
      st.route = null;
      viewLogin(main);
      return;
    }
    st.route = parseRoute();
    topNav();
    crumbs(st.route);
    VIEWS[st.route.view](main, st.route, st.gen);
    if (keep) window.scrollTo(0, scrollY);
  }

  function may(kind) { return !!(st.me && Array.isArray(st.me.can) && st.me.can.indexOf(kind) >= 0); }

  /* Agents, Tokens (for a scope that may manage them), Settings. */
  function topNav() {
    var n = clear($('topnav')), r = st.route || {};
    n.hidden = !st.me;
    if (!st.me) return;
    [['#/', 'Agents', 'agents'], may('tokens') ? ['#/tokens', 'Tokens', 'tokens'] : null, ['#/settings', 'Settings', 'settings']]
      .forEach(function (x) {
        if (x) n.appendChild(h('a', { href: x[0], id: 'nav-' + x[2], 'aria-current': r.view === x[2] ? 'page' : null }, x[1]));
      });
  }

  function crumbs(r) {
    var c = $('crumbs');
    c.appendChild(h('a', { href: '#/' }, 'Agents'));
    if (r.agent) {
      c.appendChild(document.createTextNode(' › '));
      c.appendChild(h('a', { href: '#/agent/' + enc(r.agent) + '/processes' }, r.agent));
    }
  }

  function current(gen) { return gen === st.gen; }

  /* Tabs for one agent's views, and a note when it is not connected. */
  function agentHeader(main, r) {
    var c = client(r.agent);
    var a = '#/agent/' + enc(r.agent) + '/';
    var tab = function (view, label, also) {
      var on = r.view === view || r.view === also;
      return h('a', { href: a + view, class: on ? 'tab on' : 'tab', 'aria-current': on ? 'page' : null }, label);
    };
    main.appendChild(h('div', { class: 'agent-head' },
      h('h1', null, r.agent, c && c.hostname ? h('span', { class: 'muted host' }, ' on ' + c.hostname) : null),
      h('nav', { class: 'tabs', 'aria-label': 'Agent views' },
        tab('processes', 'Processes', 'process'), tab('services', 'Services', 'service'),
        tab('run', ['Run', h('span', { class: 'long' }, ' a command')]), tab('usage', 'Usage'),
        tab('charts', 'Charts'), tab('port', ['Get a port']))));
    main.appendChild(h('div', { id: 'agent-warning' }));
    agentWarning(r.agent);
  }

  function agentWarning(name) {
    var w = $('agent-warning');
    if (!w) return;
    clear(w);
    var c = client(name);
    if (st.down || !st.clients || (c && c.online)) return;
    w.appendChild(h('div', { class: 'offline-note', role: 'status' },
      h('strong', null, name + ' is offline'),
      c ? ' since ' + fmtTime(c.last_seen, true) + ': the server has no connection to it; this view shows what it last said. '
        : ': no agent of that name is connected to the server. ',
      c ? fixHint(c) : null));
  }

  /* ---- Agents ---- */

  function bar(label, value, max, text) {
    var frac = max > 0 ? Math.min(Math.max(value / max, 0), 1) : 0;
    var fill = h('div', { class: 'fill' + (frac > 0.95 ? ' crit' : frac > 0.8 ? ' warn' : '') });
    fill.style.width = (frac * 100).toFixed(1) + '%';
    return h('div', { class: 'bar' },
      h('div', { class: 'bar-label' }, h('span', null, label), h('span', { class: 'muted' }, text)),
      h('div', { class: 'track', role: 'meter', 'aria-label': label, 'aria-valuemin': 0,
        'aria-valuemax': 100, 'aria-valuenow': Math.round(frac * 100) }, fill));
  }

  /* CPU % from this tab's two last samples, else the server's last one. */
  function usageBars(sys, c) {
    if (!sys) return h('p', { class: 'muted' }, 'Reading usage…');
    if (sys.unsupported) return h('p', { class: 'muted unsupported' }, 'Usage: ' + sys.unsupported + '.');
    if (sys.err) return errorBox('Usage: ' + sys.err);
    var d = sys.data || {}, load = Array.isArray(d.load) ? d.load : [], cores = d.cpu ? num(d.cpu.cores) || 1 : 1;
    var mem = d.memory || {}, disk = d.disk || {};
    var cpu = typeof sys.cpu === 'number' ? sys.cpu : c && c.usage && typeof c.usage.cpu === 'number' ? c.usage.cpu : null;
    return h('div', { class: 'bars' },
      bar('CPU', cpu === null ? 0 : cpu, 100, cpu === null ? 'measuring…' : cpu.toFixed(cpu < 10 ? 1 : 0) + ' %'),
      bar('Load', num(load[0]), cores, num(load[0]).toFixed(2) + ' / ' + cores + (cores === 1 ? ' core' : ' cores')),
      bar('Memory', num(mem.used), num(mem.total), fmtBytes(num(mem.used)) + ' of ' + fmtBytes(num(mem.total))),
      bar('Disk ' + str(disk.path), num(disk.used), num(disk.total), fmtBytes(num(disk.used)) + ' of ' + fmtBytes(num(disk.total))));
  }

  /* One agent's card: live when online, grey with the fix-it hint when
   * offline, grey and unknown while the server cannot be reached. */
  function agentCard(c, now) {
    var a = '#/agent/' + enc(c.name) + '/';
    var sys = st.sys[c.name], up = sys && sys.data ? sys.data.uptime : null;
    var state = st.down ? 'unknown' : c.online ? 'online' : 'offline';
    var badge = state === 'online' ? 'online'
      : state === 'offline' ? 'offline since ' + fmtTime(c.last_seen, true) : 'state unknown';
    var kv = [
      h('dt', null, 'Hostname'), h('dd', null, str(c.hostname)),
      h('dt', null, 'Version'), h('dd', null, str(c.version))];
    if (state === 'online') kv.push(
      h('dt', null, 'Connected'), h('dd', { title: fmtTime(c.connected_since) }, fmtDuration(now - num(c.connected_since)) + ' ago'),
      h('dt', null, 'Address'), h('dd', null, str(c.address)),
      typeof up === 'number' ? [h('dt', null, 'Up'), h('dd', null, fmtDuration(up))] : null);
    else kv.push(h('dt', null, 'Last seen'), h('dd', null, c.last_seen ? fmtTime(c.last_seen) + ' (' + fmtDuration(now - c.last_seen) + ' ago)' : '–'));
    kv.push(h('dt', null, 'Services'), h('dd', null, c.services === 'none' ? 'none (manages no services)' : str(c.services)));
    if (isOriginal(c)) kv.push(h('dt', null, 'Client'), h('dd', { class: 'original' }, 'the original bot\'s (its commands only)'));
    var body;
    if (state === 'online') body = usageBars(sys, c);
    else if (state === 'offline') body = h('div', { class: 'hint' },
      h('p', null, 'The server has no connection to this agent: it stopped, lost the network, or its token was revoked.'),
      fixHint(c, true),
      h('button', { type: 'button', class: 'forget', onclick: function () { forget(c.name); } }, 'Forget this agent'));
    else body = h('p', { class: 'muted hint' }, 'The server cannot be reached, so neither can this agent.');
    return h('section', { class: 'card agent ' + state, 'data-agent': c.name, 'data-state': state },
      h('div', { class: 'agent-title' },
        h('h2', null, h('a', { href: a + 'processes' }, c.name)),
        h('span', { class: 'badge ' + (state === 'online' ? 'good' : state === 'offline' ? 'bad' : ''), id: 'state-' + c.name }, badge)),
      h('dl', { class: 'kv' }, kv),
      body,
      h('p', { class: 'links' },
        h('a', { href: a + 'processes' }, 'Processes'), h('a', { href: a + 'services' }, 'Services'),
        h('a', { href: a + 'run' }, 'Run a command'), h('a', { href: a + 'usage' }, 'Usage'), h('a', { href: a + 'charts' }, 'Charts')));
  }

  VIEWS.agents = function (main) {
    main.appendChild(h('h1', null, 'Agents'));
    if (st.clientsErr) main.appendChild(errorBox('Could not list the agents: ' + st.clientsErr));
    if (!st.clients && !st.agents.length) {
      if (!st.down) main.appendChild(h('p', { class: 'muted' }, 'Loading…'));
      return;
    }
    if (!st.agents.length) {
      main.appendChild(h('p', { class: 'muted' }, 'No agent is connected. Start one with ',
        code('nestd agent --server URL --token-file FILE'), '.'));
      return;
    }
    var grid = h('div', { class: 'grid' }), now = Date.now() / 1000;
    st.agents.forEach(function (c) { grid.appendChild(agentCard(c, now)); });
    main.appendChild(grid);
  };

  /* ---- Processes ---- */

  var PCOLS = [
    { key: 'pid', label: 'PID', num: true },
    { key: 'user', label: 'User' },
    { key: 'name', label: 'Name' },
    { key: 'state', label: 'State' },
    { key: 'cpu_usage', label: 'CPU %', num: true, desc: true },
    { key: 'rss', label: 'Memory', num: true, desc: true },
    { key: 'started', label: 'Started', num: true, desc: true },
    { key: 'cmdline', label: 'Command line' }
  ];

  /* The sort is the browser's, like htop's: busiest first until the
   * operator picks another column, then that one (saved as "key:dir"). */
  function savedSort() {
    var m = /^([a-z_]+):(-?1)$/.exec(load('localStorage', SORT_KEY));
    if (m && PCOLS.some(function (c) { return c.key === m[1]; })) return { key: m[1], dir: Number(m[2]) };
    return { key: 'cpu_usage', dir: -1 };
  }

  function procState(agent) {
    if (!st.pv || st.pv.agent !== agent) {
      var so = savedSort();
      st.pv = { agent: agent, rows: null, err: '', sortKey: so.key, sortDir: so.dir, filter: '', page: 0,
        pageSize: 100, auto: false, showKernel: false, mine: false, users: [], loadedAt: 0, sorted: null, waiting: [] };
    }
    return st.pv;
  }

  /* One listing in flight per agent (it is loading while pv.waiting holds
   * callers); every caller's then runs at its end.  A view drawn again
   * while it loads waits for the same answer rather than for none. */
  function loadProcs(pv, then) {
    if (pv.waiting.push(then) > 1) return;
    cmd(pv.agent, 'obtain_all_process_info').then(function (rows) {
      if (!Array.isArray(rows)) throw ApiError('the agent sent a process list that is not a list', 200);
      var count = {};
      rows.forEach(function (p) {
        /* the original client's list has only pid and name */
        p.hay = (str0(p.name) + '\u0001' + str0(p.cmdline)).toLowerCase();
        if (!p.kernel_thread && p.user !== undefined) count[p.user] = (count[p.user] || 0) + 1;
      });
      pv.users = Object.keys(count).sort(function (a, b) { return count[b] - count[a] || (a < b ? -1 : 1); })
        .map(function (u) { return { name: u, n: count[u] }; });
      pv.rows = rows;
      pv.err = '';
      pv.sorted = null;
      pv.loadedAt = Date.now();
    }, function (e) {
      pv.err = e.message;
    }).then(function () {
      var w = pv.waiting;
      pv.waiting = [];
      w.forEach(function (f) { f(); });
    });
  }

  function sortedRows(pv) {
    if (pv.sorted) return pv.sorted;
    var col = PCOLS.filter(function (c) { return c.key === pv.sortKey; })[0] || PCOLS[0];
    var k = col.key, dir = pv.sortDir;
    var rows = pv.rows.slice();
    rows.sort(function (a, b) {
      var x = a[k], y = b[k], r;
      if (col.num) r = num(x) - num(y);
      else r = String(x === null || x === undefined ? '' : x).localeCompare(String(y === null || y === undefined ? '' : y));
      return r * dir || num(a.pid) - num(b.pid);
    });
    pv.sorted = rows;
    return rows;
  }

  /* The filter: words match the name or the command line (as one phrase);
   * user:NAME (or uid), state:WORD (a prefix, or ps's letter), pid:N narrow
   * it; a comma lists alternatives (pid:1,2), a leading - excludes
   * (-user:root), and the terms combine (all must hold). */
  var FKEYS = { user: 1, state: 1, pid: 1 };
  var STATE_LETTER = { r: 'running', s: 'sleeping', d: 'disk-sleep', t: 'stopped', z: 'zombie', i: 'idle', x: 'dead' };

  function parseFilter(q) {
    var f = { text: [], terms: [] };
    q.trim().split(/\s+/).forEach(function (w) {
      var m = /^(-?)([a-z]+):(.+)$/i.exec(w);
      if (!m || !FKEYS[m[2].toLowerCase()]) { if (w) f.text.push(w); return; }
      f.terms.push({ key: m[2].toLowerCase(), neg: m[1] === '-',
        values: m[3].toLowerCase().split(',').filter(function (v) { return v; }) });
    });
    f.text = f.text.join(' ').toLowerCase();
    return f;
  }

  function termHolds(t, p) {
    return t.values.some(function (v) {
      if (t.key === 'pid') return String(p.pid) === v;
      if (t.key === 'user') return String(p.user).toLowerCase() === v || String(p.uid) === v;
      var s = String(p.state).toLowerCase();
      return v.length === 1 && STATE_LETTER[v] ? s === STATE_LETTER[v] : s.indexOf(v) === 0;
    });
  }

  function matches(f, p) {
    if (f.text && p.hay.indexOf(f.text) < 0) return false;
    for (var i = 0; i < f.terms.length; i++) if (termHolds(f.terms[i], p) === f.terms[i].neg) return false;
    return true;
  }

  /* The filter in words, under the box: what it is taken to mean. */
  function describeFilter(f) {
    var parts = [];
    if (f.text) parts.push('name or command line contains “' + f.text + '”');
    f.terms.forEach(function (t) {
      var word = t.key === 'state', v = t.values.map(function (x) {
        if (word && x.length === 1 && STATE_LETTER[x]) { word = false; return STATE_LETTER[x]; }
        return x;
      }).join(' or ');
      parts.push(t.key + (t.neg ? ' is not ' : word ? ' starts with ' : ' is ') + v);
    });
    return parts.join(' · ');
  }

  /* The "mine" user: the operator's pick (remembered), else whoever runs
   * the most processes that are not root's, else none. */
  function meUser(pv) {
    var me = load('localStorage', ME_KEY);
    if (me) return me;
    for (var i = 0; i < pv.users.length; i++) if (pv.users[i].name !== 'root') return pv.users[i].name;
    return '';
  }

  function procRow(p, a, memTotal) {
    var cpu = num(p.cpu_usage), cell = h('td', { class: 'num cpu' }, p.cpu_usage === undefined ? '–' : cpu.toFixed(1));
    cell.style.setProperty('--p', Math.min(cpu, 100).toFixed(0) + '%');
    var mem = h('td', { class: 'num mem' }, fmtBytes(p.rss));
    if (memTotal > 0) mem.style.setProperty('--p', Math.min(100, num(p.rss) / memTotal * 100).toFixed(1) + '%');
    var cmdline = h('td', { class: 'cmd', title: str(p.cmdline), tabindex: 0 }, str(p.cmdline));
    return h('tr', { 'data-pid': p.pid, class: p.kernel_thread ? 'kthread' : null },
      h('td', { class: 'num pid' }, h('a', { href: a + enc(p.pid) }, str(p.pid))),
      h('td', { class: 'user', title: str(p.user) }, str(p.user)),
      h('td', { class: 'name' }, h('a', { href: a + enc(p.pid), title: str(p.name) }, str(p.name))),
      h('td', { class: 'st' }, h('span', { class: 'state st-' + cls(p.state) }, str(p.state))),
      cell, mem,
      h('td', { class: 'num started', title: fmtTime(p.started) }, fmtStart(p.started)),
      cmdline);
  }

  VIEWS.processes = function (main, r, gen) {
    agentHeader(main, r);
    var pv = procState(r.agent);
    var status = h('span', { class: 'muted', id: 'proc-status', 'aria-live': 'polite' });
    var errs = h('div');
    var table = h('table', { class: 'procs', id: 'procs' });
    var pager = h('div', { class: 'pager' });
    var topPager = h('span', { class: 'pgtop' });
    var hint = h('span', { class: 'fhint muted', id: 'proc-filter-hint' });
    var filter = h('input', { type: 'search', id: 'proc-filter', value: pv.filter,
      placeholder: 'Filter name or command · user:NAME state:running pid:42', 'aria-label': 'Filter processes',
      'aria-describedby': 'proc-filter-hint',
      oninput: function () { pv.filter = filter.value; pv.page = 0; draw(); } });
    var refresh = h('button', { type: 'button', id: 'proc-refresh', onclick: function () { reload(); } }, 'Refresh');
    var check = function (id, on, label, change) {
      var box = h('input', { type: 'checkbox', id: id, checked: on, onchange: function () { change(box.checked); } });
      return h('label', { class: 'check', for: id }, box, label);
    };
    var meSel = h('select', { id: 'proc-me', 'aria-label': 'Whose processes “mine” shows', onchange: function () {
      save('localStorage', ME_KEY, meSel.value);
      if (pv.mine) { pv.page = 0; draw(); }
    } });
    var mineBox = check('proc-mine', pv.mine, ' mine:', function (v) { pv.mine = v; pv.page = 0; draw(); });
    main.appendChild(h('div', { class: 'toolbar' }, filter,
      check('proc-kernel', pv.showKernel, ' kernel threads', function (v) { pv.showKernel = v; pv.page = 0; draw(); }),
      h('span', { class: 'check' }, mineBox, meSel),
      check('proc-auto', pv.auto, ' every ' + PROC_REFRESH_MS / 1000 + ' s', function (v) { pv.auto = v; arm(); }),
      refresh));
    main.appendChild(errs);
    main.appendChild(h('div', { class: 'tablebar' }, hint, h('span', { class: 'tstat' }, status, topPager)));
    main.appendChild(h('div', { class: 'tablebox' }, table));
    main.appendChild(pager);
    table.addEventListener('click', function (ev) {
      var td = ev.target.closest && ev.target.closest('td.cmd');
      if (td) td.classList.toggle('open');
    });
    table.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' && ev.target.matches('td.cmd')) ev.target.classList.toggle('open');
    });

    function arm() {
      if (st.viewTimer) clearInterval(st.viewTimer);
      st.viewTimer = pv.auto ? setInterval(function () { if (current(gen)) reload(); }, PROC_REFRESH_MS) : 0;
    }
    function reload() {
      refresh.disabled = true;
      status.textContent = 'Loading…';
      loadProcs(pv, function () { if (current(gen)) { refresh.disabled = false; draw(); } });
    }

    function head() {
      var tr = h('tr');
      PCOLS.forEach(function (c) {
        var on = pv.sortKey === c.key;
        tr.appendChild(h('th', { scope: 'col', class: 'c-' + c.key + (c.num ? ' num' : ''),
          'aria-sort': on ? (pv.sortDir > 0 ? 'ascending' : 'descending') : null },
        h('button', { type: 'button', class: 'sort', 'data-key': c.key, onclick: function () {
          if (pv.sortKey === c.key) pv.sortDir = -pv.sortDir;
          else { pv.sortKey = c.key; pv.sortDir = c.desc ? -1 : 1; }
          save('localStorage', SORT_KEY, pv.sortKey + ':' + pv.sortDir);
          pv.sorted = null;
          pv.page = 0;
          draw();
        } }, c.label, on ? (pv.sortDir > 0 ? ' ▲' : ' ▼') : '')));
      });
      return h('thead', null, tr);
    }

    function users(me) {
      if (meSel.dataset.at === String(pv.loadedAt) && meSel.value === me) return;
      meSel.dataset.at = String(pv.loadedAt);
      clear(meSel);
      var list = pv.users.slice();
      if (me && !list.some(function (u) { return u.name === me; })) list.push({ name: me, n: 0 });
      if (!me) meSel.appendChild(h('option', { value: '' }, 'pick a user'));
      list.forEach(function (u) {
        meSel.appendChild(h('option', { value: u.name, selected: u.name === me }, u.name + ' (' + u.n + ')'));
      });
    }

    function draw() {
      clear(errs);
      if (pv.err) errs.appendChild(errorBox('Could not read the processes: ' + pv.err));
      if (st.down && pv.rows) errs.appendChild(infoBox('The server is unreachable: this table is as read at ' + fmtTime(pv.loadedAt / 1000) + '.'));
      clear(table);
      clear(pager);
      clear(topPager);
      table.appendChild(head());
      var f = parseFilter(pv.filter), me = meUser(pv);
      var said = describeFilter(f);
      hint.textContent = said ||
        'Matches the name and command line; narrow with user:NAME, state:WORD, pid:N (combine them; -user:root excludes).';
      hint.classList.toggle('idle', !said);
      if (!pv.rows) { status.textContent = pv.waiting.length ? 'Loading…' : ''; return; }
      users(me);
      mineBox.firstChild.disabled = !me;
      mineBox.title = me ? 'only the processes of ' + me : 'pick a user first';
      var mine = pv.mine && me, kern = 0;
      var rows = sortedRows(pv).filter(function (p) {
        if (p.kernel_thread && !pv.showKernel) { kern++; return false; }
        return (!mine || p.user === me) && matches(f, p);
      });
      var pages = Math.max(1, Math.ceil(rows.length / pv.pageSize));
      if (pv.page >= pages) pv.page = pages - 1;
      var from = pv.page * pv.pageSize, to = Math.min(rows.length, from + pv.pageSize);
      var body = h('tbody'), frag = document.createDocumentFragment();
      var a = '#/agent/' + enc(pv.agent) + '/process/';
      var sys = st.sys[pv.agent], memTotal = sys && sys.data && sys.data.memory ? num(sys.data.memory.total) : 0;
      for (var i = from; i < to; i++) frag.appendChild(procRow(rows[i], a, memTotal));
      body.appendChild(frag);
      table.appendChild(body);
      var c = client(pv.agent);
      table.classList.toggle('stale', !!st.down || !!(c && !c.online));
      if (!rows.length) pager.appendChild(h('p', { class: 'muted' },
        pv.filter.trim() || mine ? 'No process matches the filter.' : 'No processes.'));
      drawPagers(pages);
      var narrowed = pv.filter.trim() || mine;
      var notes = (narrowed ? [pv.rows.length + ' in all'] : []).concat(kern ? [kern + ' kernel threads hidden'] : []);
      status.textContent = (rows.length ? (from + 1) + '–' + to + ' of ' : '') + rows.length +
        (narrowed ? ' matching' : ' processes') + (notes.length ? ' (' + notes.join(', ') + ')' : '') +
        ' · read ' + fmtTime(pv.loadedAt / 1000);
    }

    function drawPagers(pages) {
      var go = function (n, top) {
        return function () { pv.page = n; draw(); if (!top) window.scrollTo(0, 0); };
      };
      if (pages > 1) add(topPager, [
        h('button', { type: 'button', id: 'proc-prev-top', disabled: pv.page === 0, onclick: go(pv.page - 1, 1), 'aria-label': 'Previous page' }, '‹'),
        h('span', null, (pv.page + 1) + ' / ' + pages),
        h('button', { type: 'button', id: 'proc-next-top', disabled: pv.page >= pages - 1, onclick: go(pv.page + 1, 1), 'aria-label': 'Next page' }, '›')]);
      var size = h('select', { 'aria-label': 'Rows per page', onchange: function () {
        pv.pageSize = Number(size.value) || 100; pv.page = 0; draw();
      } });
      [50, 100, 200, 500].forEach(function (n) {
        size.appendChild(h('option', { value: n, selected: n === pv.pageSize }, n + ' per page'));
      });
      pager.appendChild(h('div', { class: 'pages' },
        h('button', { type: 'button', disabled: pv.page === 0, onclick: go(0) }, '« First'),
        h('button', { type: 'button', disabled: pv.page === 0, onclick: go(pv.page - 1) }, '‹ Prev'),
        h('span', { id: 'proc-page' }, 'Page ' + (pv.page + 1) + ' of ' + pages),
        h('button', { type: 'button', disabled: pv.page >= pages - 1, onclick: go(pv.page + 1) }, 'Next ›'),
        h('button', { type: 'button', disabled: pv.page >= pages - 1, onclick: go(pages - 1) }, 'Last »'),
        size));
    }

    draw();
    arm();
    if (!pv.rows || Date.now() - pv.loadedAt > PROC_REFRESH_MS) reload();
  };

  /* ---- Process card ---- */

  /* The web offers the signals people send; the agent takes any (by name
   * or number), as nestd ctl kill does. */
  var SIGNALS = [
    ['SIGTERM', 'ask it to exit'], ['SIGKILL', 'end it at once, it cannot clean up'],
    ['SIGINT', 'interrupt, like Ctrl-C'], ['SIGHUP', 'hang up; many daemons reload'],
    ['SIGQUIT', 'quit with a core dump'], ['SIGUSR1', 'user-defined 1'], ['SIGUSR2', 'user-defined 2'],
    ['SIGSTOP', 'pause it, it cannot refuse'], ['SIGCONT', 'let a paused process go on']];

  /* A row of buttons, and under it what the disabled ones would need: the
   * reasons do not squeeze the row.  acts: [{label, id, why, danger, onclick}] */
  function actionRow(acts, extra) {
    var row = h('div', { class: 'actions' }, extra || null), reasons = h('ul', { class: 'reasons' });
    acts.forEach(function (x) {
      var rid = x.why ? x.id + '-why' : null;
      row.appendChild(h('button', { type: 'button', id: x.id, class: x.danger ? 'danger' : null, disabled: !!x.why,
        title: x.why, 'aria-describedby': rid, onclick: x.onclick }, x.label));
      if (x.why && x.say !== false)
        reasons.appendChild(h('li', { id: rid }, h('span', { class: 'what' }, x.label.replace(/…$/, '')), ': ' + x.why));
    });
    return { row: row, reasons: reasons.firstChild ? reasons : null };
  }

  /* An inline "are you sure", placed right under the button that asked. */
  function confirmIn(box, text, yesLabel, yesId, onyes) {
    clear(box);
    add(box, [h('div', { class: 'q' }, text),
      h('button', { type: 'button', id: yesId, class: 'danger', onclick: function () { box.hidden = true; onyes(); } }, yesLabel),
      h('button', { type: 'button', class: 'cancel', onclick: function () { box.hidden = true; } }, 'Cancel')]);
    box.hidden = false;
    box.querySelector('.cancel').focus();
  }

  VIEWS.process = function (main, r, gen) {
    agentHeader(main, r);
    var pid = Number(r.arg);
    var box = h('section', { class: 'card', id: 'proc-card' }, h('p', { class: 'muted' }, 'Loading…'));
    /* Kept across redraws of the card: the question and the last answer. */
    var result = h('div', { id: 'proc-result', 'aria-live': 'polite' });
    var confirmBox = h('div', { class: 'confirm', hidden: true });
    main.appendChild(h('p', null, h('a', { href: '#/agent/' + enc(r.agent) + '/processes' }, '‹ All processes')));
    main.appendChild(box);
    if (!(pid > 0 && pid === Math.floor(pid))) { clear(box).appendChild(errorBox('Not a process id: ' + r.arg)); return; }

    function paint(nodes) {
      add(clear(box), nodes);
      if (!confirmBox.parentNode) box.appendChild(confirmBox);
      if (!result.parentNode) box.appendChild(result);
    }

    function load() {
      cmd(r.agent, 'obtain_process_info', { pid: pid }).then(function (p) {
        if (current(gen)) show(p || {});
      }, function (e) {
        if (current(gen)) paint([errorBox('Process ' + pid + ': ' + e.message)]);
      });
    }

    function act(command, payload, done) {
      confirmBox.hidden = true;
      clear(result).appendChild(h('p', { class: 'muted' }, 'Sending ' + command + '…'));
      box.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
      cmd(r.agent, command, payload).then(function () {
        if (!current(gen)) return;
        clear(result).appendChild(okBox(done));
        setTimeout(function () { if (current(gen)) load(); }, 300);
      }, function (e) {
        if (!current(gen)) return;
        clear(result).appendChild(errorBox(e.message));
        load();
      });
    }

    function askKill(p) {
      var sig = st.killSig, what = SIGNALS.filter(function (x) { return x[0] === sig; })[0];
      clear(result);                 /* an old "resumed" is not this question's answer */
      confirmIn(confirmBox, ['Send ' + sig + ' to ' + str(p.name) + ' (pid ' + pid + ')?',
        what ? h('span', { class: 'muted' }, ' ' + cap(what[1]) + '.') : null],
      'Yes, send ' + sig, 'kill-confirm', function () {
        act('kill_process', { pid: pid, method: sig }, sig + ' sent to process ' + pid + '.');
      });
    }

    function show(p) {
      var t = p.cpu_time || {}, m = p.memory || {};
      var state = String(p.status || p.state || '');
      var unsafe = p.safe_kill === false ? 'the agent will not signal this process (PID 1 or the agent itself)' : null;
      var zombie = state === 'zombie' ? 'the process has exited (zombie): no signal reaches it; its parent' +
        (p.ppid > 0 ? ' (pid ' + p.ppid + ')' : '') + ' has to reap it' : null;
      var method = h('select', { id: 'kill-method', 'aria-label': 'Signal', onchange: function () { st.killSig = method.value; } });
      SIGNALS.forEach(function (x) {
        method.appendChild(h('option', { value: x[0], selected: x[0] === st.killSig }, x[0] + ' – ' + x[1]));
      });
      var why = function (command, own) { return unsafe || refusal(r.agent, command) || own || null; };
      var killWhy = why('kill_process', zombie);
      method.disabled = !!killWhy;
      var acts = actionRow([
        { label: 'Send signal…', id: 'kill', danger: true, why: killWhy, say: killWhy !== unsafe, onclick: function () { askKill(p); } },
        { label: 'Pause', id: 'pause', why: why('pause_process', state === 'stopped' ? 'already stopped' : zombie), say: !unsafe,
          onclick: function () { act('pause_process', { pid: pid }, 'Process ' + pid + ' paused (SIGSTOP).'); } },
        { label: 'Resume', id: 'resume', why: why('resume_process', state !== 'stopped' ? 'the process is not stopped' : null), say: !unsafe,
          onclick: function () { act('resume_process', { pid: pid }, 'Process ' + pid + ' resumed (SIGCONT).'); } },
        { label: 'Refresh', id: 'proc-card-refresh', onclick: load }], method);
      paint([
        h('h2', null, str(p.name), h('span', { class: 'muted' }, ' pid ' + str(p.pid))),
        h('dl', { class: 'kv' },
          h('dt', null, 'State'), h('dd', null, h('span', { class: 'state st-' + cls(state), id: 'proc-state' }, state || '–')),
          h('dt', null, 'User'), h('dd', null, str(p.user) + (p.uid !== undefined ? ' (uid ' + str(p.uid) + ')' : '')),
          h('dt', null, 'Parent'), h('dd', null, p.ppid > 0 ? h('a', { href: '#/agent/' + enc(r.agent) + '/process/' + enc(p.ppid) }, str(p.ppid)) : str(p.ppid)),
          h('dt', null, 'CPU'), h('dd', null, num(p.cpu_usage).toFixed(1) + ' % · user ' + num(t.user).toFixed(2) + ' s, system ' + num(t.system).toFixed(2) + ' s'),
          h('dt', null, 'Memory'), h('dd', null, 'RSS ' + fmtBytes(m.rss) + ' · virtual ' + fmtBytes(m.vms) + ' · swap ' + fmtBytes(m.swap)),
          h('dt', null, 'Threads'), h('dd', null, str(p.threads)),
          h('dt', null, 'Started'), h('dd', null, fmtTime(p.started) + (p.started ? ' (' + fmtDuration(Date.now() / 1000 - p.started) + ' ago)' : '')),
          h('dt', null, 'Kernel thread'), h('dd', null, p.kernel_thread ? 'yes' : 'no'),
          h('dt', null, 'Command line'), h('dd', null, h('code', { class: 'wrap', id: 'proc-cmdline' }, str(p.cmdline)))),
        acts.row, confirmBox, result,
        unsafe ? h('p', { class: 'reason', id: 'proc-unsafe' }, 'Send signal, Pause and Resume are disabled: ' + unsafe + '.') : null,
        acts.reasons]);
    }

    load();
  };

  /* ---- Services ---- */

  /* For an agent run with --services none: words, not a red error. */
  function noServices(main, r) {
    var c = client(r.agent);
    main.appendChild(infoBox([h('strong', null, 'This agent manages no services.'),
      ' It runs with ', code('--services none'), ' (or found neither systemd nor OpenRC on ' +
      (c && c.hostname ? c.hostname : 'its machine') + '). Processes, commands and usage work as usual.'], 'svc-none'));
  }
  function managesNone(r, err) {
    var c = client(r.agent);
    return (c && c.services === 'none') || /--services none/.test(err || '');
  }

  VIEWS.services = function (main, r, gen) {
    agentHeader(main, r);
    if (managesNone(r)) { noServices(main, r); return; }
    if (!st.sv || st.sv.agent !== r.agent) st.sv = { agent: r.agent, rows: null, err: '', filter: '' };
    var sv = st.sv;
    var body = h('div');
    var filter = h('input', { type: 'search', id: 'svc-filter', value: sv.filter, placeholder: 'Filter services',
      'aria-label': 'Filter services', oninput: function () { sv.filter = filter.value; draw(); } });
    var refresh = h('button', { type: 'button', onclick: load }, 'Refresh');
    main.appendChild(h('div', { class: 'toolbar' }, filter, refresh));
    main.appendChild(body);

    function load() {
      refresh.disabled = true;
      var why = refusal(r.agent, 'list_services');
      if (why) { sv.err = why; draw(); return; }
      cmd(r.agent, 'list_services').then(function (rows) {
        /* the original's list is bare unit names */
        sv.rows = (Array.isArray(rows) ? rows : []).map(function (x) { return typeof x === 'string' ? { name: x } : x; });
        sv.err = '';
      }, function (e) { sv.err = e.message; }).then(function () {
        if (!current(gen)) return;
        refresh.disabled = false;
        draw();
      });
    }
    function draw() {
      clear(body);
      if (sv.err && managesNone(r, sv.err)) { noServices(body, r); return; }
      if (sv.err) body.appendChild(errorBox('Could not list the services: ' + sv.err));
      if (!sv.rows) { if (!sv.err) body.appendChild(h('p', { class: 'muted' }, 'Loading…')); return; }
      var q = sv.filter.trim().toLowerCase();
      var rows = sv.rows.filter(function (x) {
        return !q || (String(x.name) + ' ' + String(x.description)).toLowerCase().indexOf(q) >= 0;
      });
      var tb = h('tbody');
      rows.forEach(function (x) {
        tb.appendChild(h('tr', { 'data-service': str(x.name) },
          h('td', { class: 'name' }, h('a', { href: '#/agent/' + enc(r.agent) + '/service/' + enc(x.name) }, str(x.name))),
          h('td', null, h('span', { class: 'state st-' + cls(x.active_state) }, str(x.active_state))),
          h('td', null, str(x.sub_state)),
          h('td', null, str(x.load_state)),
          h('td', { class: 'desc' }, str(x.description))));
      });
      body.appendChild(h('div', { class: 'scroll' }, h('table', { id: 'services' },
        h('thead', null, h('tr', null, h('th', null, 'Service'), h('th', null, 'Active'), h('th', null, 'Sub-state'),
          h('th', null, 'Loaded'), h('th', null, 'Description'))), tb)));
      body.appendChild(h('p', { class: 'muted' }, rows.length + ' of ' + sv.rows.length + ' services'));
    }
    draw();
    load();
  };

  /* What a verb needs from the unit's state: Start for a unit that is not
   * running, the others for one that is; null when it may go ahead (and
   * when the state is not known: the agent then has the last word). */
  var SVC_UP = { active: 1, activating: 1, reloading: 1 };
  function svcNeeds(verb, state) {
    if (!state) return null;
    if (verb === 'start') return SVC_UP[state] ? 'the unit is already ' + state : null;
    if (SVC_UP[state]) return null;
    return (state === 'failed' ? 'the unit has failed' : 'the unit is ' + state) + (verb === 'stop' ? '' : ': Start it');
  }

  /* Stopping the unit that runs a nestd agent takes that agent offline,
   * and nothing here can start it again. */
  function svcQuestion(verb, unit, c) {
    var agent = /^nestd-agent([@.-]|$)/.test(unit);
    var host = c && c.hostname ? c.hostname : 'its machine';
    if (verb === 'stop' && agent)
      return [h('strong', null, 'This unit runs a nestd agent, likely ' + (c ? c.name : 'this one') + ' itself. '),
        'Stopping it takes the agent offline, and this dashboard cannot start it again: that needs a shell on ' + host +
        ' (', code('systemctl start ' + unit), '). Stop it anyway?'];
    if (verb === 'stop') return 'Stop ' + unit + '? It stays stopped until someone starts it.';
    if (verb === 'restart' && agent)
      return [h('strong', null, 'This unit runs a nestd agent, likely ' + (c ? c.name : 'this one') + ' itself. '),
        'Restarting it drops the agent\'s connection for a moment, and the answer may be lost. Restart it?'];
    return null;
  }

  VIEWS.service = function (main, r, gen) {
    agentHeader(main, r);
    if (managesNone(r)) { noServices(main, r); return; }
    var name = r.arg;
    var box = h('section', { class: 'card', id: 'svc-card' }, h('p', { class: 'muted' }, 'Loading…'));
    var result = h('div', { id: 'svc-result', 'aria-live': 'polite' });
    var confirmBox = h('div', { class: 'confirm', id: 'svc-confirm', hidden: true });
    main.appendChild(h('p', null, h('a', { href: '#/agent/' + enc(r.agent) + '/services' }, '‹ All services')));
    main.appendChild(box);

    function paint(nodes) {
      add(clear(box), nodes);
      if (!confirmBox.parentNode) box.appendChild(confirmBox);
      if (!result.parentNode) box.appendChild(result);
    }

    function load() {
      cmd(r.agent, 'obtain_service_info', { service_name: name }).then(function (x) {
        if (current(gen)) show(x || {});
      }, function (e) {
        if (!current(gen)) return;
        if (managesNone(r, e.message)) { clear(main); agentHeader(main, r); noServices(main, r); return; }
        paint([errorBox('Service ' + name + ': ' + e.message)]);
      });
    }
    function act(verb) {
      var command = verb + '_service';
      confirmBox.hidden = true;
      clear(result).appendChild(h('p', { class: 'muted' }, 'Asking the agent to ' + verb + ' ' + name + '…'));
      box.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
      cmd(r.agent, command, { service_name: name }).then(function (x) {
        if (!current(gen)) return;
        clear(result).appendChild(okBox((x && x.service_name ? x.service_name : name) + ': ' + verb + ' done.'));
        load();
      }, function (e) {
        if (!current(gen)) return;
        clear(result).appendChild(errorBox(e.message));
        load();
      });
    }
    function ask(verb, unit) {
      var q = svcQuestion(verb, unit, client(r.agent));
      if (!q) { act(verb); return; }
      clear(result);
      confirmIn(confirmBox, q, 'Yes, ' + verb, 'svc-' + verb + '-confirm', function () { act(verb); });
    }
    function show(x) {
      var pid = num(x.pid), unit = String(x.name || name), state = x.active_state ? String(x.active_state) : '';
      var acts = actionRow(['start', 'stop', 'restart', 'reload'].map(function (verb) {
        return { label: cap(verb) + (svcQuestion(verb, unit) ? '…' : ''), id: 'svc-' + verb, danger: verb === 'stop',
          why: refusal(r.agent, verb + '_service') || svcNeeds(verb, state), onclick: function () { ask(verb, unit); } };
      }).concat([{ label: 'Refresh', id: 'svc-refresh', onclick: load }]));
      paint([
        h('h2', null, unit),
        h('dl', { class: 'kv' },
          h('dt', null, 'Description'), h('dd', null, str(x.description)),
          h('dt', null, 'State'), h('dd', null, h('span', { class: 'state st-' + cls(state), id: 'svc-state' }, str(x.active_state)), ' (' + str(x.sub_state) + ')'),
          h('dt', null, 'Loaded'), h('dd', null, str(x.load_state)),
          h('dt', null, 'Uptime'), h('dd', null, x.uptime ? String(x.uptime) : (x.started ? fmtTime(x.started) : '–')),
          h('dt', null, 'Unit file'), h('dd', null, h('code', { class: 'wrap' }, x.file_location ? String(x.file_location) : '–')),
          h('dt', null, 'Main PID'), h('dd', null, pid > 0 ? h('a', { href: '#/agent/' + enc(r.agent) + '/process/' + pid }, String(pid)) : '–')),
        acts.row, confirmBox, result, acts.reasons]);
    }
    load();
  };

  /* ---- Run a command ---- */

  VIEWS.run = function (main, r, gen) {
    agentHeader(main, r);
    var why = refusal(r.agent, 'exec_command');
    var input = h('input', { type: 'text', id: 'run-cmd', spellcheck: 'false', autocomplete: 'off',
      placeholder: 'a shell command, e.g. uptime', 'aria-label': 'Command' });
    var timeout = h('input', { type: 'number', id: 'run-timeout', min: 1, max: 86400, step: 1,
      placeholder: 'default', 'aria-label': 'Timeout in seconds' });
    var btn = h('button', { type: 'submit', id: 'run', disabled: !!why, title: why }, 'Run');
    var out = h('div', { id: 'run-out', 'aria-live': 'polite' });
    main.appendChild(h('form', { class: 'card run', onsubmit: function (ev) {
      ev.preventDefault();
      var c = input.value;
      if (!c.trim()) { clear(out).appendChild(errorBox('Type a command first.')); return; }
      var payload = { command: c };
      if (timeout.value) payload.timeout = Number(timeout.value);
      btn.disabled = true;
      clear(out).appendChild(h('p', { class: 'muted' }, 'Running on ' + r.agent + '…'));
      var started = Date.now();
      cmd(r.agent, 'exec_command', payload).then(function (res) {
        st.runs[r.agent] = { command: c, res: res || {}, at: started };
      }, function (e) {
        st.runs[r.agent] = { command: c, err: e.message, at: started };
      }).then(function () {
        if (!current(gen)) return;
        btn.disabled = false;
        showRun(st.runs[r.agent]);
      });
    } },
    h('label', { for: 'run-cmd' }, 'Command (run by the agent with /bin/sh -c)'),
    h('div', { class: 'runline' }, input,
      h('label', { class: 'inline' }, 'timeout (s) ', timeout), btn),
    why ? h('p', { class: 'reason' }, why) : null));
    main.appendChild(out);

    function showRun(run) {
      clear(out);
      if (!run) return;
      out.appendChild(h('p', { class: 'muted' }, 'Ran ', h('code', null, run.command), ' at ' + fmtTime(run.at / 1000)));
      if (run.err) { out.appendChild(errorBox(run.err)); return; }
      var x = run.res, tot = x.total_bytes || {};
      var exit = x.signal ? 'killed by ' + x.signal : 'exit code ' + str(x.exit_code);
      var facts = h('p', { class: 'facts', id: 'run-facts' },
        h('span', { class: 'badge ' + (x.exit_code === 0 && !x.signal ? 'good' : 'bad'), id: 'run-exit' }, exit),
        ' ' + num(x.duration_ms) + ' ms');
      if (x.timed_out) facts.appendChild(h('span', { class: 'badge bad', id: 'run-timedout' }, 'timed out: the agent killed it'));
      if (x.truncated) facts.appendChild(h('span', { class: 'badge warn', id: 'run-truncated' },
        'output truncated: ' + fmtBytes(num(tot.stdout)) + ' on stdout, ' + fmtBytes(num(tot.stderr)) + ' on stderr in all'));
      out.appendChild(facts);
      out.appendChild(h('h3', null, 'stdout'));
      out.appendChild(h('pre', { class: 'out', id: 'run-stdout' }, x.stdout ? String(x.stdout) : ''));
      out.appendChild(h('h3', null, 'stderr'));
      out.appendChild(h('pre', { class: 'out err', id: 'run-stderr' }, x.stderr ? String(x.stderr) : ''));
    }
    showRun(st.runs[r.agent]);
    input.focus();
  };

  /* ---- Charts: the server's history, else this tab's samples ---- */

  /* samples: [{t (ms), ...}] oldest first; span: the axis's length, ms. */
  function chart(title, series, max, fmt, samples, span) {
    var W = 400, H = 150, L = 58, R = 6, T = 10, B = 20;
    var t1 = samples.length ? Math.max(Date.now(), samples[samples.length - 1].t) : Date.now(), t0 = t1 - span;
    var x = function (t) { return L + (W - L - R) * Math.max(t - t0, 0) / span; };
    var y = function (v) { return T + (H - T - B) * (1 - Math.min(v / max, 1)); };
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img', 'aria-label': title });
    [0, 0.5, 1].forEach(function (f) {
      svg.appendChild(s('line', { x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), class: 'grid' }));
      svg.appendChild(s('text', { x: L - 6, y: y(max * f) + 4, 'text-anchor': 'end', class: 'axis' }, fmt(max * f)));
    });
    svg.appendChild(s('text', { x: L, y: H - 4, class: 'axis' }, '−' + (span >= 7200000 ? Math.round(span / 3600000) + ' h'
      : span >= 120000 ? Math.round(span / 60000) + ' min' : Math.round(span / 1000) + ' s')));
    svg.appendChild(s('text', { x: W - R, y: H - 5, 'text-anchor': 'end', class: 'axis' }, 'now'));
    series.forEach(function (se, i) {
      /* A gap (an unknown value, the server or agent away) breaks the line. */
      var pts = [], flush = function () {
        if (pts.length) svg.appendChild(s('polyline', { points: pts.join(' '), class: 'line l' + i }));
        pts = [];
      };
      samples.forEach(function (p, k) {
        var v = se.get(p);
        if (typeof v !== 'number' || (k && p.t - samples[k - 1].t > 3 * (p.gap || span))) flush();
        if (typeof v === 'number') pts.push(x(p.t).toFixed(1) + ',' + y(v).toFixed(1));
      });
      flush();
    });
    var legend = h('p', { class: 'legend' });
    series.forEach(function (se, i) {
      var v = null;
      for (var k = samples.length - 1; k >= 0 && typeof v !== 'number'; k--) v = se.get(samples[k]);
      legend.appendChild(h('span', { class: 'key l' + i }, se.label + ': ' + (typeof v === 'number' ? fmt(v) : '–')));
    });
    return h('section', { class: 'card chart-card' }, h('h2', null, title), svg, legend);
  }

  /* The server's samples in the charts' shape. */
  function fromServer(hist) {
    var gap = num(hist.interval) * 1000;
    return (hist.samples || []).map(function (x) {
      var l = Array.isArray(x.load) ? x.load : [], m = x.memory || {}, d = x.disk || {};
      return { t: num(x.t) * 1000, gap: gap, cpu: x.cpu, load1: l[0], load5: l[1], load15: l[2],
        memUsed: m.used, memTotal: m.total, diskUsed: d.used, diskTotal: d.total };
    });
  }

  function drawCharts(box, r) {
    var srv = st.srvHist[r.agent], hist = srv && srv.samples && srv.samples.length > 1 ? fromServer(srv) : st.hist[r.agent] || [];
    clear(box);
    box.appendChild(h('p', { class: 'muted', id: 'charts-source' }, srv && srv.samples && srv.samples.length > 1
      ? 'The server\'s history: one sample every ' + (num(srv.interval) < 60 ? num(srv.interval) + ' s' : fmtDuration(num(srv.interval))) + ', kept across reloads and restarts (' +
        srv.samples.length + ' samples, since ' + fmtTime(srv.samples[0].t) + ').'
      : 'Sampled every ' + POLL_MS / 1000 + ' s while this page is open' + (srv ? ' (the server keeps no history of this agent yet: ' +
        (srv.interval ? 'it samples agents that offer obtain_system_info' : 'its --history-interval is 0') + ')' : '') + '.'));
    if (hist.length < 2) {
      box.appendChild(h('p', { class: 'muted', id: 'usage-wait' }, hist.length ? 'One sample so far; the charts start with the next one…' : 'Waiting for the first samples…'));
      return;
    }
    var last = hist[hist.length - 1], lmax = Math.max(last.cores || (st.sys[r.agent] && st.sys[r.agent].data && st.sys[r.agent].data.cpu ? num(st.sys[r.agent].data.cpu.cores) : 1), 1);
    hist.forEach(function (p) { lmax = Math.max(lmax, num(p.load1), num(p.load5), num(p.load15)); });
    var span = Math.max(60000, Date.now() - hist[0].t), pct = function (v) { return v.toFixed(0) + ' %'; };
    var stale = st.down || (client(r.agent) && !client(r.agent).online);
    box.appendChild(h('div', { class: stale ? 'charts stale' : 'charts' },
      chart('CPU', [{ label: 'busy', get: function (p) { return p.cpu; } }], 100, pct, hist, span),
      chart('Load average', [
        { label: '1 min', get: function (p) { return p.load1; } },
        { label: '5 min', get: function (p) { return p.load5; } },
        { label: '15 min', get: function (p) { return p.load15; } }
      ], Math.ceil(lmax), function (v) { return v.toFixed(2); }, hist, span),
      chart('Memory used', [{ label: 'used', get: function (p) { return p.memUsed; } }],
        num(last.memTotal) || 1, function (v) { return fmtBytes(v); }, hist, span),
      chart('Disk used', [{ label: 'used', get: function (p) { return p.diskUsed; } }],
        num(last.diskTotal) || 1, function (v) { return fmtBytes(v); }, hist, span)));
  }

  VIEWS.charts = function (main, r, gen) {
    agentHeader(main, r);
    var sys = st.sys[r.agent], box = h('div', { id: 'charts' });
    if (sys && sys.unsupported) {
      main.appendChild(infoBox('Usage over time: ' + sys.unsupported + '.', 'usage-unsupported'));
      return;
    }
    if (sys && sys.err) main.appendChild(errorBox('Usage: ' + sys.err));
    main.appendChild(box);
    drawCharts(box, r);
    api('GET', 'api/clients/' + enc(r.agent) + '/history').then(function (j) {
      st.srvHist[r.agent] = j;
      if (current(gen)) drawCharts(box, r);
    }, function (e) {
      if (current(gen) && e.status !== 404) box.appendChild(errorBox('History: ' + e.message));
    });
  };

  /* ---- Usage: the original's per-user view (obtain_user_usages) ---- */

  function unitSelect(id, then) {
    var sel = h('select', { id: id, 'aria-label': 'Unit', onchange: function () {
      st.unit = sel.value;
      save('localStorage', UNIT_KEY, sel.value);
      if (then) then();
    } });
    [['iec', 'GiB (1024)'], ['si', 'GB (1000)'], ['bytes', 'bytes']].forEach(function (u) {
      sel.appendChild(h('option', { value: u[0], selected: st.unit === u[0] }, u[1]));
    });
    return sel;
  }

  function usageBody(out, u) {
    clear(out);
    var bars = [], m = u.memory || {}, d = u.disk || {}, pr = u.processes, notes = [];
    if (typeof m.used === 'number') bars.push(bar('Memory', m.used, num(m.limit), fmtBytes(m.used) + (m.limit ? ' of ' + fmtBytes(m.limit) : ' (no limit)')));
    if (typeof d.used === 'number') bars.push(bar('Storage' + (d.path ? ' in ' + d.path : ''), d.used, num(d.fs_total),
      fmtBytes(d.used) + (typeof d.fs_free === 'number' ? ' · ' + fmtBytes(d.fs_free) + ' free of ' + fmtBytes(d.fs_total) : '')));
    if (pr && typeof pr.count === 'number') bars.push(bar('Processes', pr.count, num(pr.limit), pr.count + (pr.limit ? ' of ' + pr.limit : '')));
    if (u.storage_complete === false) notes.push('the folder walk stopped at its bound: the sizes are a lower limit');
    if (u.storage_unreadable) notes.push(u.storage_unreadable + ' folders could not be read (their contents are not counted)');
    if (bars.length) out.appendChild(h('section', { class: 'card' }, h('h2', null, 'Your share'),
      h('div', { class: 'bars' }, bars), notes.map(function (x) { return h('p', { class: 'muted' }, cap(x) + '.'); })));
    if (u.resources) out.appendChild(h('section', { class: 'card' }, h('h2', null, 'Resources'),
      h('pre', { class: 'out', id: 'usage-resources' }, String(u.resources))));
    var rows = Array.isArray(u.storage) ? u.storage.filter(Array.isArray) : [];
    if (!rows.length) return;
    var total = rows[rows.length - 1], max = 0;
    rows.slice(0, -1).forEach(function (x) { max = Math.max(max, Number(x[0]) || 0); });
    var tb = h('tbody');
    rows.forEach(function (x, i) {
      var n = Number(x[0]), last = i === rows.length - 1, cell = h('td', { class: 'num mem' }, isFinite(n) ? fmtBytes(n) : str(x[0]));
      if (!last && max > 0) cell.style.setProperty('--p', (Math.min(1, n / max) * 100).toFixed(1) + '%');
      tb.appendChild(h('tr', { class: last ? 'total' : null }, h('td', { class: 'path' }, last && x[1] === 'total' ? 'total' : str(x[1])), cell));
    });
    out.appendChild(h('section', { class: 'card' }, h('h2', null, 'Storage by folder'),
      h('div', { class: 'scroll' }, h('table', { id: 'usage-storage' },
        h('thead', null, h('tr', null, h('th', null, 'Folder'), h('th', { class: 'num' }, 'Size'))), tb)),
      h('p', { class: 'muted' }, (rows.length - 1) + ' folders, ' + fmtBytes(Number(total[0])) + ' in all')));
  }

  VIEWS.usage = function (main, r, gen) {
    agentHeader(main, r);
    var why = refusal(r.agent, 'obtain_user_usages'), out = h('div', { id: 'usage-out', 'aria-live': 'polite' }), last = null;
    var refresh = h('button', { type: 'button', id: 'usage-refresh', disabled: !!why, onclick: load }, 'Refresh');
    main.appendChild(h('div', { class: 'toolbar' }, h('label', { class: 'check' }, 'Unit ', unitSelect('usage-unit', function () {
      if (last) usageBody(out, last);
    })), refresh));
    main.appendChild(out);
    function load() {
      refresh.disabled = true;
      clear(out).appendChild(h('p', { class: 'muted' }, 'Asking ' + r.agent + ' (it measures every folder: a large home takes a moment)…'));
      cmd(r.agent, 'obtain_user_usages').then(function (u) {
        last = u || {};
        if (current(gen)) usageBody(out, last);
      }, function (e) {
        if (current(gen)) clear(out).appendChild(errorBox(e.message));
      }).then(function () { refresh.disabled = false; });
    }
    if (why) out.appendChild(errorBox(why)); else load();
  };

  /* ---- Get a port (get_port): a TCP port free on the agent's machine ---- */

  VIEWS.port = function (main, r) {
    agentHeader(main, r);
    var why = refusal(r.agent, 'get_port'), out = h('div', { id: 'port-out', 'aria-live': 'polite' });
    var got = st.ports || (st.ports = {}), mine = got[r.agent] || (got[r.agent] = []);
    var btn = h('button', { type: 'button', id: 'get-port', class: 'primary', disabled: !!why, title: why, onclick: function () {
      btn.disabled = true;
      cmd(r.agent, 'get_port').then(function (p) {
        /* the original's shape is the text; nestd's {port, text} */
        var text = typeof p === 'string' ? p : p && typeof p.text === 'string' ? p.text : JSON.stringify(p);
        var m = p && typeof p.port === 'number' ? [0, String(p.port)] : /\b(\d{2,5})\b/.exec(text);
        mine.unshift({ port: m ? m[1] : '', text: text.trim(), t: Date.now() });
        show();
      }, function (e) { clear(out).appendChild(errorBox(e.message)); }).then(function () { btn.disabled = false; });
    } }, 'Get a port');
    main.appendChild(h('section', { class: 'card' }, h('p', null, 'A TCP port nothing listens on right now on ' +
      (client(r.agent) && client(r.agent).hostname ? client(r.agent).hostname : r.agent) + ', to run a server of your own on.'),
      btn, why ? h('p', { class: 'reason' }, why) : null, out));
    function show() {
      clear(out);
      mine.forEach(function (x, i) {
        out.appendChild(h('div', { class: i ? 'port old' : 'port' }, x.port ? h('strong', { class: 'mono', id: i ? null : 'port-number' }, x.port) : null,
          h('span', { id: i ? null : 'port-text' }, ' ' + x.text), h('span', { class: 'muted' }, ' · ' + fmtTime(x.t / 1000))));
      });
    }
    show();
  };

  /* ---- Tokens: agent tokens, for a scope with the tokens kind ---- */

  /* The owner a new token gets: the scope's, when it names one only. */
  function scopeOwner() {
    var a = st.me && Array.isArray(st.me.agents) ? st.me.agents : [];
    return a.length === 1 && /^owner:/.test(a[0]) ? a[0].slice(6) : '';
  }

  function newTokenBox(t) {
    var file = t.name + '.token', origin = location.origin;
    var field = h('input', { type: 'text', id: 'new-token', readonly: true, value: t.token, class: 'mono', 'aria-label': 'The new token' });
    var copy = h('button', { type: 'button', id: 'copy-token', onclick: function () {
      field.select();
      var done = function () { copy.textContent = 'Copied'; };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(t.token).then(done, function () {});
      else { try { document.execCommand('copy'); done(); } catch (e) { /* select() left it selected */ } }
    } }, 'Copy');
    return h('section', { class: 'card newtoken', role: 'status' },
      h('h2', null, 'Token for ' + t.name + (t.owner ? ' (owner ' + t.owner + ')' : '')),
      h('p', null, h('strong', null, 'Shown this once: '), 'the server keeps only its hash. It works at once, no restart.'),
      h('div', { class: 'runline' }, field, copy),
      h('p', null, 'On the agent\'s machine, save it in ', code(file), ' (mode 0600), then:'),
      h('div', { class: 'cmds' },
        code('curl -fsSL ' + origin + '/install.sh | sh -s -- --token-file ' + file),
        code('nestd agent --server ' + origin.replace(/^http/, 'ws') + '/ --token-file ' + file)));
  }

  VIEWS.tokens = function (main, r, gen) {
    main.appendChild(h('h1', null, 'Agent tokens'));
    if (!may('tokens')) {
      main.appendChild(errorBox('Your scope does not allow managing tokens (it needs the tokens kind: can=tokens).'));
      return;
    }
    var name = h('input', { type: 'text', id: 'tok-name', placeholder: 'web3', spellcheck: 'false', autocomplete: 'off', 'aria-label': 'Agent name' });
    var owner = h('input', { type: 'text', id: 'tok-owner', placeholder: 'optional: slack:U0123ABCD', value: scopeOwner(), spellcheck: 'false', 'aria-label': 'Owner' });
    var msg = h('div', { id: 'tok-msg', 'aria-live': 'polite' }), list = h('div', { id: 'tok-list' });
    main.appendChild(h('form', { class: 'card', onsubmit: function (ev) {
      ev.preventDefault();
      clear(msg);
      var body = { name: name.value.trim() };
      if (owner.value.trim()) body.owner = owner.value.trim();
      api('POST', 'api/tokens', body).then(function (t) {
        if (!current(gen)) return;
        name.value = '';
        msg.appendChild(newTokenBox(t));
        load();
      }, function (e) { if (current(gen)) msg.appendChild(errorBox(e.message)); });
    } }, h('h2', null, 'Mint a token for a new agent'),
    h('div', { class: 'runline' }, h('label', { class: 'inline' }, 'Name ', name), h('label', { class: 'inline' }, 'Owner ', owner),
      h('button', { type: 'submit', id: 'tok-mint' }, 'Mint token')),
    h('p', { class: 'muted' }, 'The agent connects with it under this name. Operator tokens are made on the server: ',
      code('nestd token new NAME --role operator'), '.')));
    main.appendChild(msg);
    main.appendChild(list);
    function row(t) {
      var box = h('div', { class: 'confirm', hidden: true });
      var rv = h('button', { type: 'button', class: 'danger', 'data-revoke': t.name, onclick: function () {
        confirmIn(box, 'Revoke ' + t.name + '\'s token? ' + (t.online ? 'The agent is connected and is dropped at once; ' : '') +
          'it cannot connect again until it has a new token.', 'Yes, revoke', 'revoke-confirm', function () {
          api('DELETE', 'api/tokens/' + enc(t.name)).then(function () { load(); }, function (e) { clear(msg).appendChild(errorBox(e.message)); });
        });
      } }, 'Revoke…');
      return h('tr', { 'data-token': t.name }, h('td', { class: 'name' }, t.name), h('td', null, str(t.owner)),
        h('td', null, t.created ? fmtTime(t.created, true) : '–'),
        h('td', null, h('span', { class: 'badge ' + (t.online ? 'good' : '') }, t.online ? 'online' : 'offline')),
        h('td', null, rv, box));
    }
    function load() {
      api('GET', 'api/tokens').then(function (ts) {
        if (!current(gen)) return;
        var tb = h('tbody');
        (ts || []).forEach(function (t) { tb.appendChild(row(t)); });
        clear(list).appendChild(h('section', { class: 'card' }, h('h2', null, ts.length + ' agent tokens'),
          h('div', { class: 'scroll' }, h('table', { id: 'tokens' }, h('thead', null, h('tr', null, h('th', null, 'Agent'),
            h('th', null, 'Owner'), h('th', null, 'Created'), h('th', null, 'State'), h('th', null, ''))), tb))));
      }, function (e) { if (current(gen)) clear(list).appendChild(errorBox(e.message)); });
    }
    load();
    name.focus();
  };

  /* ---- Settings: this browser's choices, and the session ---- */

  VIEWS.settings = function (main) {
    main.appendChild(h('h1', null, 'Settings'));
    var me = st.me, saved = h('span', { class: 'muted', id: 'settings-saved', 'aria-live': 'polite' });
    var said = function () { saved.textContent = ' saved in this browser'; };
    var meSel = h('input', { type: 'text', id: 'set-me', value: load('localStorage', ME_KEY), placeholder: 'busiest non-root user',
      'aria-label': 'Your user on the agents', onchange: function () { save('localStorage', ME_KEY, meSel.value.trim() || null); said(); } });
    main.appendChild(h('section', { class: 'card' }, h('h2', null, 'Display'),
      h('dl', { class: 'kv' },
        h('dt', null, 'Sizes in'), h('dd', null, unitSelect('set-unit', said), h('span', { class: 'muted' }, ' e.g. ' + fmtBytes(25276510208, 'iec') + ' or ' + fmtBytes(25276510208, 'si'))),
        h('dt', null, '“Mine” means'), h('dd', null, meSel),
        h('dt', null, 'Process table'), h('dd', null, h('button', { type: 'button', id: 'set-sort-reset', onclick: function () {
          save('localStorage', SORT_KEY, null); said();
        } }, 'Sort busiest first again'))), saved));
    main.appendChild(h('section', { class: 'card', id: 'session' }, h('h2', null, 'Session'),
      h('dl', { class: 'kv' },
        h('dt', null, 'Logged in as'), h('dd', { id: 'set-name' }, str(me.name)),
        h('dt', null, 'Scope'), h('dd', null, me.scope ? code(me.scope) : 'every agent, every kind of command'),
        h('dt', null, 'May'), h('dd', null, (me.can || []).join(', ')),
        h('dt', null, 'Until'), h('dd', { id: 'set-until' }, '…')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'logout-here', onclick: function () { logout(false); } }, 'Log out'),
        h('button', { type: 'button', id: 'logout-all', class: 'danger', onclick: function () { logout(true); } }, 'Log out everywhere')),
      h('p', { class: 'muted' }, 'The session is a cookie this page cannot read (HttpOnly); “everywhere” ends every session of this token, in every browser.')));
    api('GET', 'api/session').then(function (x) {
      var u = $('set-until');
      if (u) u.textContent = fmtTime(x.expires) + ' (' + fmtDuration(x.expires - Date.now() / 1000) + ' from now)';
    }, function () { var u = $('set-until'); if (u) u.textContent = '–'; });
  };

  /* ---- start ---- */

  $('logout').addEventListener('click', function () { logout(false); });
  $('banner-close').addEventListener('click', function () { banner(''); });
  window.addEventListener('hashchange', function () { render(); });
  /* "/" jumps to the filter, as in less, htop's search and most web tools. */
  document.addEventListener('keydown', function (ev) {
    var f = $('proc-filter') || $('svc-filter');
    if (ev.key !== '/' || !f || ev.ctrlKey || ev.metaKey || ev.altKey || /^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName)) return;
    ev.preventDefault();
    f.focus();
  });
  /* A session this browser already has (another tab's login, a reload)? */
  render();
  api('GET', 'api/me').then(function (me) { return loggedIn(me); }, function (e) {
    st.booting = false;
    st.me = null;
    st.loginMsg = e.status === 401 || e.status === 403 ? '' : e.message;
    render();
  });
})();
