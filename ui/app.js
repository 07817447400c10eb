/* nestd dashboard.  Everything goes through the server's HTTP API
 * (GET /api/clients, POST /api/clients/NAME/commands) with the operator's
 * token as a Bearer header; the token stays in this tab's sessionStorage.
 * Text from the API and from agents (process names, command lines, command
 * output) only ever enters the page as text nodes or attribute values:
 * nothing here parses HTML, so nothing an agent says can run as code. */
'use strict';
(function () {
  var POLL_MS = 5000;            /* agents and their usage */
  var PROC_REFRESH_MS = 5000;    /* process table auto-refresh */
  var HIST_MS = 15 * 60 * 1000;  /* usage charts keep this much */
  var SAMPLE_AGENTS = 32;        /* usage sampled for at most this many agents */
  var TOKEN_KEY = 'nestd.token';
  var TOKEN_RE = /^[0-9a-f]{64}\.[0-9a-f]{8}$/;

  var st = {
    token: '',
    loginMsg: '',
    clients: null,      /* last GET /api/clients */
    clientsErr: '',
    sys: {},            /* name -> {data, err, t} */
    hist: {},           /* name -> [{t, load1, load5, load15, memUsed, memTotal, cores}] */
    polling: false,
    pollTimer: 0,
    viewTimer: 0,
    gen: 0,             /* bumps on each render: late answers for old views are dropped */
    route: null,
    pv: null,           /* process table state */
    sv: null,           /* service list state */
    runs: {}            /* agent -> last exec result */
  };

  try { st.token = sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { st.token = ''; }

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

  /* ---- formatting ---- */

  function fmtBytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '–';
    var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + u[i];
  }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function fmtTime(sec) {
    if (typeof sec !== 'number' || !isFinite(sec) || sec <= 0) return '–';
    var d = new Date(sec * 1000), now = new Date();
    var t = pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
    if (d.toDateString() === now.toDateString()) return t;
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + t;
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
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : 0; }
  function cls(word) { return String(word || '').toLowerCase().replace(/[^a-z-]/g, ''); }
  function enc(x) { return encodeURIComponent(String(x)); }

  /* ---- messages ---- */

  function banner(msg) {
    $('banner-text').textContent = msg;
    $('banner').hidden = !msg;
  }
  function errorBox(msg) { return h('p', { class: 'error', role: 'alert' }, msg); }
  function okBox(msg) { return h('p', { class: 'ok', role: 'status' }, msg); }

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

  function api(method, path, body) {
    var opt = {
      method: method,
      headers: { 'Authorization': 'Bearer ' + st.token },
      cache: 'no-store',
      credentials: 'omit'
    };
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    var tokenUsed = st.token;
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
          if (r.status === 401 && tokenUsed === st.token) loggedOut(msg);
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
        var why = r.payload && typeof r.payload.error === 'string' ? r.payload.error : 'no reason given';
        throw ApiError(message + ' on ' + agent + ' failed: ' + why, 200);
      }
      throw ApiError('unexpected answer to ' + message + ' from ' + agent, 200);
    });
  }

  function client(name) {
    if (!st.clients) return null;
    for (var i = 0; i < st.clients.length; i++) if (st.clients[i].name === name) return st.clients[i];
    return null;
  }

  /* Why the agent would refuse command, from the list it announced; null
   * if it would accept (or announced nothing, like the reference client). */
  function refusal(agent, command) {
    var c = client(agent);
    if (c && Array.isArray(c.commands) && c.commands.indexOf(command) < 0)
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
    var why = refusal(name, 'obtain_system_info');
    if (why) { st.sys[name] = { err: why, t: Date.now() }; return Promise.resolve(); }
    return cmd(name, 'obtain_system_info').then(function (d) {
      var t = Date.now();
      st.sys[name] = { data: d, t: t };
      var hist = st.hist[name] || (st.hist[name] = []);
      var mem = d && d.memory ? d.memory : {}, load = d && Array.isArray(d.load) ? d.load : [];
      hist.push({ t: t, load1: num(load[0]), load5: num(load[1]), load15: num(load[2]),
        memUsed: num(mem.used), memTotal: num(mem.total), cores: d && d.cpu ? num(d.cpu.cores) : 0 });
      while (hist.length && hist[0].t < t - HIST_MS) hist.shift();
    }, function (e) {
      st.sys[name] = { err: e.message, t: Date.now() };
    });
  }

  function poll() {
    if (st.polling || !st.token) return;
    st.polling = true;
    api('GET', 'api/clients').then(function (list) {
      st.clients = Array.isArray(list) ? list : [];
      st.clientsErr = '';
      var names = {};
      st.clients.forEach(function (c) { names[c.name] = 1; });
      Object.keys(st.sys).forEach(function (n) { if (!names[n]) delete st.sys[n]; });
      return Promise.all(st.clients.slice(0, SAMPLE_AGENTS).map(function (c) { return sample(c.name); }));
    }).catch(function (e) {
      st.clientsErr = e.message;
    }).then(function () {
      st.polling = false;
      live();
    });
  }

  /* After each poll: views that show live data redraw. */
  function live() {
    if (!st.token) return;
    var n = st.clients ? st.clients.length : 0;
    $('live').textContent = st.clientsErr ? 'server unreachable' : n + (n === 1 ? ' agent' : ' agents');
    var r = st.route;
    if (!r) return;
    if (r.view === 'agents') render(true);
    else if (r.view === 'usage') render(true);
    else if (r.agent) agentWarning(r.agent);
  }

  /* ---- login ---- */

  function loggedOut(msg) {
    st.token = '';
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
    st.loginMsg = msg || '';
    st.clients = null;
    st.sys = {};
    stopPolling();
    render();
  }

  function viewLogin(main) {
    var input = h('input', { id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
      placeholder: '64 hex characters, a dot, 8 hex characters', 'aria-describedby': 'token-help' });
    var msg = h('div', { id: 'login-msg' }, st.loginMsg ? errorBox(st.loginMsg) : null);
    var btn = h('button', { type: 'submit' }, 'Log in');
    var form = h('form', { class: 'card login', onsubmit: function (ev) {
      ev.preventDefault();
      var t = input.value.trim();
      clear(msg);
      if (!TOKEN_RE.test(t)) {
        msg.appendChild(errorBox('That is not a nestd token: it is 64 lowercase hex characters, a dot and 8 more (`nestd token new NAME --role operator` makes one).'));
        return;
      }
      st.token = t;
      btn.disabled = true;
      msg.appendChild(h('p', { class: 'muted' }, 'Checking the token…'));
      api('GET', 'api/clients').then(function (list) {
        try { sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* kept in memory only */ }
        st.clients = Array.isArray(list) ? list : [];
        st.loginMsg = '';
        if (location.hash && location.hash !== '#/') render(); else location.hash = '#/';
        startPolling();
      }, function (e) {
        if (e.status !== 401) {           /* 401 already logged us out */
          st.token = '';
          st.loginMsg = e.message;
          render();
        }
      });
    } },
    h('h1', null, 'Log in'),
    h('label', { for: 'token' }, 'Operator token'),
    input,
    h('p', { id: 'token-help', class: 'muted' },
      'Kept in this browser tab only (sessionStorage) and sent to this server as a Bearer header. ',
      'Make one on the server with ', h('code', null, 'nestd token new NAME --role operator'), '.'),
    btn, msg);
    main.appendChild(form);
    input.focus();
  }

  /* ---- routing ---- */

  function parseRoute() {
    var parts = location.hash.replace(/^#\/?/, '').split('/');
    try { parts = parts.map(decodeURIComponent); } catch (e) { return { view: 'agents' }; }
    if (parts[0] !== 'agent' || !parts[1]) return { view: 'agents' };
    var r = { agent: parts[1], view: parts[2] || 'processes', arg: parts.slice(3).join('/') };
    if (['processes', 'process', 'services', 'service', 'run', 'usage'].indexOf(r.view) < 0) r.view = 'processes';
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
    $('logout').hidden = !st.token;
    clear($('crumbs'));
    if (!st.token) {
      $('live').textContent = '';
      st.route = null;
      viewLogin(main);
      return;
    }
    st.route = parseRoute();
    crumbs(st.route);
    VIEWS[st.route.view](main, st.route, st.gen);
    if (keep) window.scrollTo(0, scrollY);
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
        tab('run', 'Run a command'), tab('usage', 'Usage'))));
    main.appendChild(h('div', { id: 'agent-warning' }));
    agentWarning(r.agent);
  }

  function agentWarning(name) {
    var w = $('agent-warning');
    if (!w) return;
    clear(w);
    if (st.clients && !client(name))
      w.appendChild(errorBox('Agent ' + name + ' is not connected (it may have disconnected; this view shows what it last said).'));
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

  VIEWS.agents = function (main) {
    main.appendChild(h('h1', null, 'Agents'));
    if (st.clientsErr) main.appendChild(errorBox('Could not list the agents: ' + st.clientsErr));
    if (!st.clients) {
      main.appendChild(h('p', { class: 'muted' }, 'Loading…'));
      return;
    }
    if (!st.clients.length) {
      main.appendChild(h('p', { class: 'muted' }, 'No agent is connected. Start one with ',
        h('code', null, 'nestd agent --server URL --token-file FILE'), '.'));
      return;
    }
    var grid = h('div', { class: 'grid' });
    var now = Date.now() / 1000;
    st.clients.forEach(function (c) {
      var a = '#/agent/' + enc(c.name) + '/';
      var sys = st.sys[c.name], usage;
      if (!sys) usage = h('p', { class: 'muted' }, 'Reading usage…');
      else if (sys.err) usage = errorBox('Usage: ' + sys.err);
      else {
        var d = sys.data || {}, load = Array.isArray(d.load) ? d.load : [], cores = d.cpu ? num(d.cpu.cores) || 1 : 1;
        var mem = d.memory || {}, disk = d.disk || {};
        usage = h('div', { class: 'bars' },
          bar('Load', num(load[0]), cores, num(load[0]).toFixed(2) + ' / ' + cores + (cores === 1 ? ' core' : ' cores')),
          bar('Memory', num(mem.used), num(mem.total), fmtBytes(num(mem.used)) + ' of ' + fmtBytes(num(mem.total))),
          bar('Disk ' + str(disk.path), num(disk.used), num(disk.total), fmtBytes(num(disk.used)) + ' of ' + fmtBytes(num(disk.total))));
      }
      grid.appendChild(h('section', { class: 'card agent', 'data-agent': c.name },
        h('h2', null, h('a', { href: a + 'processes' }, c.name)),
        h('dl', { class: 'kv' },
          h('dt', null, 'Hostname'), h('dd', null, str(c.hostname)),
          h('dt', null, 'Version'), h('dd', null, str(c.version)),
          h('dt', null, 'Connected'), h('dd', { title: fmtTime(c.connected_since) },
            fmtDuration(now - num(c.connected_since)) + ' ago'),
          h('dt', null, 'Address'), h('dd', null, str(c.address)),
          h('dt', null, 'Services'), h('dd', null, str(c.services))),
        usage,
        h('p', { class: 'links' },
          h('a', { href: a + 'processes' }, 'Processes'), h('a', { href: a + 'services' }, 'Services'),
          h('a', { href: a + 'run' }, 'Run a command'), h('a', { href: a + 'usage' }, 'Usage'))));
    });
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

  function procState(agent) {
    if (!st.pv || st.pv.agent !== agent)
      st.pv = { agent: agent, rows: null, err: '', sortKey: 'pid', sortDir: 1, filter: '', page: 0,
        pageSize: 100, auto: false, hideKernel: false, loadedAt: 0, sorted: null, loading: false };
    return st.pv;
  }

  function loadProcs(pv, then) {
    if (pv.loading) return;
    pv.loading = true;
    cmd(pv.agent, 'obtain_all_process_info').then(function (rows) {
      if (!Array.isArray(rows)) throw ApiError('the agent sent a process list that is not a list', 200);
      rows.forEach(function (p) {
        p.hay = [p.pid, p.user, p.name, p.state, p.cmdline].join('\u0001').toLowerCase();
      });
      pv.rows = rows;
      pv.err = '';
      pv.sorted = null;
      pv.loadedAt = Date.now();
    }, function (e) {
      pv.err = e.message;
    }).then(function () {
      pv.loading = false;
      then();
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

  VIEWS.processes = function (main, r, gen) {
    agentHeader(main, r);
    var pv = procState(r.agent);
    var status = h('span', { class: 'muted', id: 'proc-status', 'aria-live': 'polite' });
    var errs = h('div');
    var table = h('table', { class: 'procs', id: 'procs' });
    var pager = h('div', { class: 'pager' });
    var filter = h('input', { type: 'search', id: 'proc-filter', value: pv.filter,
      placeholder: 'Filter: pid, user, name, state, command', 'aria-label': 'Filter processes',
      oninput: function () { pv.filter = filter.value; pv.page = 0; draw(); } });
    var refresh = h('button', { type: 'button', id: 'proc-refresh', onclick: function () { reload(); } }, 'Refresh');
    var auto = h('input', { type: 'checkbox', id: 'proc-auto', checked: pv.auto, onchange: function () {
      pv.auto = auto.checked;
      arm();
    } });
    var kern = h('input', { type: 'checkbox', id: 'proc-kernel', checked: pv.hideKernel, onchange: function () {
      pv.hideKernel = kern.checked; pv.page = 0; draw();
    } });
    main.appendChild(h('div', { class: 'toolbar' }, filter,
      h('label', { class: 'check' }, kern, ' hide kernel threads'),
      h('label', { class: 'check' }, auto, ' every ' + PROC_REFRESH_MS / 1000 + ' s'),
      refresh, status));
    main.appendChild(errs);
    main.appendChild(h('div', { class: 'scroll' }, table));
    main.appendChild(pager);

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
        tr.appendChild(h('th', { scope: 'col', class: c.num ? 'num' : null,
          'aria-sort': on ? (pv.sortDir > 0 ? 'ascending' : 'descending') : null },
        h('button', { type: 'button', class: 'sort', 'data-key': c.key, onclick: function () {
          if (pv.sortKey === c.key) pv.sortDir = -pv.sortDir;
          else { pv.sortKey = c.key; pv.sortDir = c.desc ? -1 : 1; }
          pv.sorted = null;
          pv.page = 0;
          draw();
        } }, c.label, on ? (pv.sortDir > 0 ? ' ▲' : ' ▼') : '')));
      });
      return h('thead', null, tr);
    }

    function draw() {
      clear(errs);
      if (pv.err) errs.appendChild(errorBox('Could not read the processes: ' + pv.err));
      clear(table);
      clear(pager);
      table.appendChild(head());
      if (!pv.rows) { status.textContent = pv.loading ? 'Loading…' : ''; return; }
      var q = pv.filter.trim().toLowerCase();
      var rows = sortedRows(pv).filter(function (p) {
        return (!pv.hideKernel || !p.kernel_thread) && (!q || p.hay.indexOf(q) >= 0);
      });
      var pages = Math.max(1, Math.ceil(rows.length / pv.pageSize));
      if (pv.page >= pages) pv.page = pages - 1;
      var from = pv.page * pv.pageSize, to = Math.min(rows.length, from + pv.pageSize);
      var body = h('tbody'), frag = document.createDocumentFragment();
      var a = '#/agent/' + enc(pv.agent) + '/process/';
      for (var i = from; i < to; i++) {
        var p = rows[i];
        frag.appendChild(h('tr', { 'data-pid': p.pid },
          h('td', { class: 'num' }, h('a', { href: a + enc(p.pid) }, str(p.pid))),
          h('td', null, str(p.user)),
          h('td', { class: 'name' }, h('a', { href: a + enc(p.pid) }, str(p.name))),
          h('td', null, h('span', { class: 'state st-' + cls(p.state) }, str(p.state))),
          h('td', { class: 'num' }, num(p.cpu_usage).toFixed(1)),
          h('td', { class: 'num' }, fmtBytes(p.rss)),
          h('td', { class: 'num' }, fmtTime(p.started)),
          h('td', { class: 'cmd', title: str(p.cmdline) }, str(p.cmdline))));
      }
      body.appendChild(frag);
      table.appendChild(body);
      if (!rows.length) pager.appendChild(h('p', { class: 'muted' }, q ? 'No process matches the filter.' : 'No processes.'));
      var go = function (n) { return function () { pv.page = n; draw(); window.scrollTo(0, 0); }; };
      var size = h('select', { 'aria-label': 'Rows per page', onchange: function () {
        pv.pageSize = Number(size.value) || 100; pv.page = 0; draw();
      } });
      [50, 100, 500].forEach(function (n) {
        size.appendChild(h('option', { value: n, selected: n === pv.pageSize }, n + ' per page'));
      });
      pager.appendChild(h('div', { class: 'pages' },
        h('button', { type: 'button', disabled: pv.page === 0, onclick: go(0) }, '« First'),
        h('button', { type: 'button', disabled: pv.page === 0, onclick: go(pv.page - 1) }, '‹ Prev'),
        h('span', { id: 'proc-page' }, 'Page ' + (pv.page + 1) + ' of ' + pages),
        h('button', { type: 'button', disabled: pv.page >= pages - 1, onclick: go(pv.page + 1) }, 'Next ›'),
        h('button', { type: 'button', disabled: pv.page >= pages - 1, onclick: go(pages - 1) }, 'Last »'),
        size));
      status.textContent = (rows.length ? (from + 1) + '–' + to + ' of ' : '') + rows.length +
        (rows.length === pv.rows.length ? '' : ' matching (' + pv.rows.length + ' in all)') +
        ' · read ' + fmtTime(pv.loadedAt / 1000);
    }

    draw();
    arm();
    if (!pv.rows || Date.now() - pv.loadedAt > PROC_REFRESH_MS) reload();
  };

  /* ---- Process card ---- */

  VIEWS.process = function (main, r, gen) {
    agentHeader(main, r);
    var pid = Number(r.arg);
    var box = h('section', { class: 'card', id: 'proc-card' }, h('p', { class: 'muted' }, 'Loading…'));
    var result = h('div', { id: 'proc-result', 'aria-live': 'polite' });
    main.appendChild(h('p', null, h('a', { href: '#/agent/' + enc(r.agent) + '/processes' }, '‹ All processes')));
    main.appendChild(result);
    main.appendChild(box);
    if (!(pid > 0 && pid === Math.floor(pid))) { clear(box).appendChild(errorBox('Not a process id: ' + r.arg)); return; }

    function load() {
      cmd(r.agent, 'obtain_process_info', { pid: pid }).then(function (p) {
        if (current(gen)) show(p || {});
      }, function (e) {
        if (!current(gen)) return;
        clear(box).appendChild(errorBox('Process ' + pid + ': ' + e.message));
      });
    }

    function act(command, payload, done) {
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

    /* shown: whether to print the reason beside the button (else only its title) */
    function button(label, command, why, onclick, id, shown) {
      why = why || refusal(r.agent, command);
      return h('div', { class: 'action' },
        h('button', { type: 'button', id: id, disabled: !!why, title: why, onclick: onclick }, label),
        why && shown(why) ? h('span', { class: 'reason' }, why) : null);
    }

    function show(p) {
      var t = p.cpu_time || {}, m = p.memory || {};
      var state = String(p.status || p.state || '');
      var unsafe = p.safe_kill === false ? 'the agent will not signal this process (PID 1 or the agent itself)' : null;
      var method = h('select', { id: 'kill-method', 'aria-label': 'Signal' },
        h('option', { value: 'SIGTERM' }, 'SIGTERM'), h('option', { value: 'SIGKILL' }, 'SIGKILL'));
      var confirmBox = h('div', { class: 'confirm', hidden: true });
      var killWhy = unsafe || refusal(r.agent, 'kill_process');
      /* One reason for all three buttons is said once, below them. */
      var quiet = function (why) { return why === unsafe ? null : why; };
      clear(box);
      box.appendChild(h('h2', null, str(p.name), h('span', { class: 'muted' }, ' pid ' + str(p.pid))));
      box.appendChild(h('dl', { class: 'kv' },
        h('dt', null, 'State'), h('dd', null, h('span', { class: 'state st-' + cls(state), id: 'proc-state' }, state || '–')),
        h('dt', null, 'User'), h('dd', null, str(p.user) + ' (uid ' + str(p.uid) + ')'),
        h('dt', null, 'Parent'), h('dd', null, p.ppid > 0 ? h('a', { href: '#/agent/' + enc(r.agent) + '/process/' + enc(p.ppid) }, str(p.ppid)) : str(p.ppid)),
        h('dt', null, 'CPU'), h('dd', null, num(p.cpu_usage).toFixed(1) + ' % · user ' + num(t.user).toFixed(2) + ' s, system ' + num(t.system).toFixed(2) + ' s'),
        h('dt', null, 'Memory'), h('dd', null, 'RSS ' + fmtBytes(m.rss) + ' · virtual ' + fmtBytes(m.vms) + ' · swap ' + fmtBytes(m.swap)),
        h('dt', null, 'Threads'), h('dd', null, str(p.threads)),
        h('dt', null, 'Started'), h('dd', null, fmtTime(p.started) + (p.started ? ' (' + fmtDuration(Date.now() / 1000 - p.started) + ' ago)' : '')),
        h('dt', null, 'Kernel thread'), h('dd', null, p.kernel_thread ? 'yes' : 'no'),
        h('dt', null, 'Command line'), h('dd', null, h('code', { class: 'wrap', id: 'proc-cmdline' }, str(p.cmdline)))));
      box.appendChild(h('div', { class: 'actions' },
        h('div', { class: 'action' }, method,
          h('button', { type: 'button', id: 'kill', class: 'danger', disabled: !!killWhy, title: killWhy, onclick: function () {
            clear(confirmBox);
            confirmBox.appendChild(h('span', null, 'Send ' + method.value + ' to ' + str(p.name) + ' (pid ' + pid + ')?'));
            var sig = method.value;
            confirmBox.appendChild(h('button', { type: 'button', id: 'kill-confirm', class: 'danger', onclick: function () {
              confirmBox.hidden = true;
              act('kill_process', { pid: pid, method: sig }, sig + ' sent to process ' + pid + '.');
            } }, 'Yes, send ' + sig));
            confirmBox.appendChild(h('button', { type: 'button', onclick: function () { confirmBox.hidden = true; } }, 'Cancel'));
            confirmBox.hidden = false;
          } }, 'Kill…'),
          quiet(killWhy) ? h('span', { class: 'reason' }, killWhy) : null),
        button('Pause', 'pause_process', unsafe || (state === 'stopped' ? 'already stopped' : state === 'zombie' ? 'the process has exited (zombie)' : null),
          function () { act('pause_process', { pid: pid }, 'Process ' + pid + ' paused (SIGSTOP).'); }, 'pause', quiet),
        button('Resume', 'resume_process', unsafe || (state !== 'stopped' ? 'the process is not stopped' : null),
          function () { act('resume_process', { pid: pid }, 'Process ' + pid + ' resumed (SIGCONT).'); }, 'resume', quiet),
        h('button', { type: 'button', onclick: load }, 'Refresh')));
      if (unsafe) box.appendChild(h('p', { class: 'reason', id: 'proc-unsafe' }, 'Kill, Pause and Resume are disabled: ' + unsafe + '.'));
      box.appendChild(confirmBox);
    }

    load();
  };

  /* ---- Services ---- */

  VIEWS.services = function (main, r, gen) {
    agentHeader(main, r);
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
        sv.rows = Array.isArray(rows) ? rows : [];
        sv.err = '';
      }, function (e) { sv.err = e.message; }).then(function () {
        if (!current(gen)) return;
        refresh.disabled = false;
        draw();
      });
    }
    function draw() {
      clear(body);
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

  VIEWS.service = function (main, r, gen) {
    agentHeader(main, r);
    var name = r.arg;
    var box = h('section', { class: 'card', id: 'svc-card' }, h('p', { class: 'muted' }, 'Loading…'));
    var result = h('div', { id: 'svc-result', 'aria-live': 'polite' });
    main.appendChild(h('p', null, h('a', { href: '#/agent/' + enc(r.agent) + '/services' }, '‹ All services')));
    main.appendChild(result);
    main.appendChild(box);

    function load() {
      cmd(r.agent, 'obtain_service_info', { service_name: name }).then(function (x) {
        if (current(gen)) show(x || {});
      }, function (e) {
        if (current(gen)) clear(box).appendChild(errorBox('Service ' + name + ': ' + e.message));
      });
    }
    function act(verb) {
      var command = verb + '_service';
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
    function show(x) {
      var pid = num(x.pid);
      clear(box);
      box.appendChild(h('h2', null, str(x.name || name)));
      box.appendChild(h('dl', { class: 'kv' },
        h('dt', null, 'Description'), h('dd', null, str(x.description)),
        h('dt', null, 'State'), h('dd', null, h('span', { class: 'state st-' + cls(x.active_state), id: 'svc-state' }, str(x.active_state)), ' (' + str(x.sub_state) + ')'),
        h('dt', null, 'Loaded'), h('dd', null, str(x.load_state)),
        h('dt', null, 'Uptime'), h('dd', null, x.uptime ? String(x.uptime) : (x.started ? fmtTime(x.started) : '–')),
        h('dt', null, 'Unit file'), h('dd', null, h('code', { class: 'wrap' }, x.file_location ? String(x.file_location) : '–')),
        h('dt', null, 'Main PID'), h('dd', null, pid > 0 ? h('a', { href: '#/agent/' + enc(r.agent) + '/process/' + pid }, String(pid)) : '–')));
      var acts = h('div', { class: 'actions' });
      ['start', 'stop', 'restart', 'reload'].forEach(function (verb) {
        var why = refusal(r.agent, verb + '_service');
        acts.appendChild(h('div', { class: 'action' },
          h('button', { type: 'button', id: 'svc-' + verb, class: verb === 'stop' ? 'danger' : null, disabled: !!why, title: why,
            onclick: function () { act(verb); } }, verb.charAt(0).toUpperCase() + verb.slice(1)),
          why ? h('span', { class: 'reason' }, why) : null));
      });
      acts.appendChild(h('button', { type: 'button', onclick: load }, 'Refresh'));
      box.appendChild(acts);
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

  /* ---- Usage over time ---- */

  function chart(title, series, max, fmt, samples) {
    var W = 400, H = 150, L = 58, R = 6, T = 10, B = 20;
    /* The axis spans what was sampled (a minute at least), up to HIST_MS. */
    var t1 = Date.now(), span = Math.min(HIST_MS, Math.max(60000, t1 - (samples.length ? samples[0].t : t1)));
    var t0 = t1 - span;
    var x = function (t) { return L + (W - L - R) * Math.max(t - t0, 0) / span; };
    var y = function (v) { return T + (H - T - B) * (1 - Math.min(v / max, 1)); };
    var svg = s('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img', 'aria-label': title });
    [0, 0.5, 1].forEach(function (f) {
      svg.appendChild(s('line', { x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), class: 'grid' }));
      svg.appendChild(s('text', { x: L - 6, y: y(max * f) + 4, 'text-anchor': 'end', class: 'axis' }, fmt(max * f)));
    });
    svg.appendChild(s('text', { x: L, y: H - 4, class: 'axis' }, '−' + (span >= 120000 ? Math.round(span / 60000) + ' min' : Math.round(span / 1000) + ' s')));
    svg.appendChild(s('text', { x: W - R, y: H - 5, 'text-anchor': 'end', class: 'axis' }, 'now'));
    series.forEach(function (se, i) {
      var pts = samples.map(function (p) { return x(p.t).toFixed(1) + ',' + y(se.get(p)).toFixed(1); }).join(' ');
      svg.appendChild(s('polyline', { points: pts, class: 'line l' + i }));
    });
    var legend = h('p', { class: 'legend' });
    series.forEach(function (se, i) {
      var last = samples.length ? se.get(samples[samples.length - 1]) : 0;
      legend.appendChild(h('span', { class: 'key l' + i }, se.label + ': ' + fmt(last)));
    });
    return h('section', { class: 'card chart-card' }, h('h2', null, title), svg, legend);
  }

  VIEWS.usage = function (main, r) {
    agentHeader(main, r);
    var hist = st.hist[r.agent] || [];
    var sys = st.sys[r.agent];
    main.appendChild(h('p', { class: 'muted' }, 'Sampled every ' + POLL_MS / 1000 + ' s while this page is open; the last ' +
      HIST_MS / 60000 + ' minutes are kept in the page.'));
    if (sys && sys.err) main.appendChild(errorBox('Usage: ' + sys.err));
    if (hist.length < 2) {
      main.appendChild(h('p', { class: 'muted', id: 'usage-wait' }, hist.length ? 'One sample so far; the charts start with the next one…' : 'Waiting for the first samples…'));
      if (!hist.length) return;
    }
    var last = hist[hist.length - 1];
    var lmax = Math.max(last.cores || 1, 1);
    hist.forEach(function (p) { lmax = Math.max(lmax, p.load1, p.load5, p.load15); });
    lmax = Math.ceil(lmax);
    var mtot = last.memTotal || 1;
    main.appendChild(h('div', { class: 'charts' },
      chart('Load average', [
        { label: '1 min', get: function (p) { return p.load1; } },
        { label: '5 min', get: function (p) { return p.load5; } },
        { label: '15 min', get: function (p) { return p.load15; } }
      ], lmax, function (v) { return v.toFixed(2); }, hist),
      chart('Memory used', [{ label: 'used', get: function (p) { return p.memUsed; } }],
        mtot, function (v) { return fmtBytes(v); }, hist)));
  };

  /* ---- start ---- */

  $('logout').addEventListener('click', function () { loggedOut(''); location.hash = '#/'; });
  $('banner-close').addEventListener('click', function () { banner(''); });
  window.addEventListener('hashchange', function () { render(); });
  render();
  if (st.token) startPolling();
})();
