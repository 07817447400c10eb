// test/browser/ui.test.js - the dashboard end to end: Debian's chromium,
// driven by playwright-core, against a real `nestd server` and `nestd agent`
// on loopback.  The agent manages services through test/browser/systemctl
// (test/stubs/systemctl, which records each call, plus the units' states).
// Screenshots of each view go to test/out/screens.
//
//   node --test --test-concurrency=1 test/browser/    (make test-browser)
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const NESTD = path.resolve(ROOT, process.env.NESTD || './nestd');
const SCREENS = path.join(ROOT, 'test', 'out', 'screens');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Exactly the name the issue asks for; the kernel keeps 15 bytes of it as
// comm, the command line keeps it whole.
const XSS_NAME = '<img src=x onerror=alert(1)>';
// Tabs instead of spaces: still markup a browser would run if it parsed it,
// and the agent reports it whole as the process name (no space in argv[0]).
const XSS_NAME2 = '<img\tsrc=x\tonerror=alert(2)>';

const T = {
  dir: null, port: 0, url: '', op: '', agentTok: '', server: null, agent: null,
  sleeper: null, xss: [], browser: null, ctx: null, page: null,
  dialogs: [], pageErrors: [], consoleErrors: [], stubLog: '', children: []
};

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const POLL_WAIT = 6000;   // a little over the dashboard's 5 s poll

async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error('timed out waiting for ' + what + (last instanceof Error ? ': ' + last.message : ''));
    await sleep(100);
  }
}

function token(name, role) {
  const args = ['token', 'new', name, '--tokens', path.join(T.dir, 'tokens')];
  if (role) args.push('--role', role);
  return execFileSync(NESTD, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
}

function start(args, env, log) {
  const out = fs.openSync(path.join(T.dir, log), 'a');
  const p = spawn(NESTD, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  T.children.push(p);
  return p;
}

// The history is sampled every HIST seconds (so a test sees charts fill);
// the state (agents seen, history, sessions) lives in T.dir.
const HIST = '0.5';
// 1.0.0 too: the original client announces exactly that.
function startServer(log = 'server.log') {
  return start(['server', '--listen', `127.0.0.1:${T.port}`, '--tokens', path.join(T.dir, 'tokens'),
    '--state-dir', T.dir, '--history-interval', HIST, '--accept-versions', '0.1,1.0',
    '--log-level', 'debug', '--audit-log', path.join(T.dir, 'audit.log')], {}, log);
}

async function restartServer() {
  const down = new Promise((r) => T.server.once('exit', r));
  T.server.kill('SIGTERM');
  await down;
  T.server = startServer();
  await until('the server to listen again', async () => (await fetch(T.url + '/healthz')).ok);
}

// The last lines of the server's, the agent's and the audit log, for a
// failure's message: what CI prints is all there is to go on.
function logTails(n = 25) {
  return ['server.log', 'agent.log', 'audit.log'].map((f) => {
    let t;
    try { t = fs.readFileSync(path.join(T.dir, f), 'utf8'); } catch (e) { t = String(e); }
    return `\n--- ${f}, last ${n} lines:\n` + t.split('\n').slice(-n - 1).join('\n');
  }).join('');
}

// A tab of the same browser (profile): the login is shared, nothing to type.
async function sameBrowserTab(viewport) {
  const page = await T.ctx.newPage();
  page.on('pageerror', (e) => T.pageErrors.push(String(e)));
  page.on('dialog', (d) => { T.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  if (viewport) await page.setViewportSize(viewport);
  await page.goto(T.url + '/');
  return page;
}

function startAgent() {
  const args = ['agent', '--server', `ws://127.0.0.1:${T.port}/`, '--token-file', path.join(T.dir, 'agent.token'),
    '--reconnect-min', '0.2', '--reconnect-max', '1', '--exec-timeout', '30', '--max-output', '4096',
    '--log-level', 'debug'];
  const stub = path.join(ROOT, 'test', 'browser', 'systemctl');
  const units = path.join(T.dir, 'units');
  fs.mkdirSync(units, { recursive: true });
  if (fs.existsSync(stub)) args.push('--services', 'systemd', '--systemctl', stub);
  return start(args, { NESTD_STUB_LOG: T.stubLog, NESTD_STUB_STATE: units }, 'agent.log');
}

async function apiGet(p) {
  const r = await fetch(T.url + p, { headers: { Authorization: 'Bearer ' + T.op } });
  return { status: r.status, body: await r.json() };
}

async function agentUp() {
  return until('the agent to connect', async () => {
    const r = await apiGet('/api/clients');
    return r.status === 200 && r.body.some((c) => c.name === 'local');
  });
}

function procState(pid) {
  // /proc/PID/stat: "pid (comm) S ..."; comm may hold anything, so split at the last ')'.
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
}

async function shot(name, page = T.page) {
  await page.screenshot({ path: path.join(SCREENS, name + '.png'), fullPage: true });
}

async function go(hash) {
  await T.page.evaluate((h) => { location.hash = h; }, hash);
}

async function text(sel) {
  const l = T.page.locator(sel).first();
  await l.waitFor({ timeout: 10000 });
  return l.textContent();
}

before(async () => {
  assert.ok(fs.existsSync(NESTD), `${NESTD} is missing: run make first`);
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run test/browser/setup.sh`);
  fs.mkdirSync(SCREENS, { recursive: true });
  T.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nestd-ui-'));
  T.stubLog = path.join(T.dir, 'systemctl.log');
  T.port = await freePort();
  T.url = `http://127.0.0.1:${T.port}`;
  T.agentTok = token('local');
  T.op = token('op', 'operator');
  fs.writeFileSync(path.join(T.dir, 'agent.token'), T.agentTok + '\n', { mode: 0o600 });
  fs.writeFileSync(path.join(T.dir, 'limited.token'), token('limited') + '\n', { mode: 0o600 });
  T.origTok = token('orig');
  T.server = startServer();
  await until('the server to listen', async () => (await fetch(T.url + '/healthz')).ok);
  T.agent = startAgent();
  await agentUp();

  // Processes the test owns: one to pause, resume and kill; two with markup for names.
  T.sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
  T.children.push(T.sleeper);
  for (const name of [XSS_NAME, XSS_NAME2]) {
    const exe = path.join(T.dir, name);
    fs.copyFileSync('/bin/sleep', exe);
    fs.chmodSync(exe, 0o755);
    const p = spawn(exe, ['1000'], { argv0: name, stdio: 'ignore' });
    T.children.push(p);
    T.xss.push(p);
  }

  T.browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']
  });
  // A new context is a fresh, empty profile: no cookies, no storage.
  T.ctx = await T.browser.newContext({ viewport: { width: 1280, height: 860 } });
  T.page = await T.ctx.newPage();
  T.page.on('dialog', (d) => { T.dialogs.push(d.type() + ': ' + d.message()); d.dismiss().catch(() => {}); });
  T.page.on('pageerror', (e) => T.pageErrors.push(String(e)));
  T.page.on('console', (m) => { if (m.type() === 'error') T.consoleErrors.push(m.text()); });
});

after(async () => {
  if (T.browser) await T.browser.close().catch(() => {});
  for (const p of T.children.reverse()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  await sleep(200);
  if (T.dir && !process.env.KEEP) fs.rmSync(T.dir, { recursive: true, force: true });
});

test('the page is served with a strict CSP, and nothing else without a token', async () => {
  const r = await fetch(T.url + '/');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  const csp = r.headers.get('content-security-policy');
  for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
    "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]) assert.ok(csp.includes(d), d);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(r.headers.get('set-cookie'), null);
  const js = await fetch(T.url + '/app.js');
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const css = await fetch(T.url + '/style.css');
  assert.match(css.headers.get('content-type'), /^text\/css/);
  // Stored gzip-compressed, sent as is to a client that takes gzip (fetch does).
  for (const x of [r, js, css]) {
    assert.equal(x.headers.get('content-encoding'), 'gzip');
    assert.match(x.headers.get('vary') || '', /accept-encoding/i);
  }
  // What goes over the wire (and into the static binary): gzip'd bytes.
  const wire = [r, js, css].reduce((n, x) => n + Number(x.headers.get('content-length')), 0);
  assert.ok(wire < 48 * 1024, `UI is ${wire} bytes gzip'd`);
  const total = (await r.text()).length + (await js.text()).length + (await css.text()).length;
  assert.ok(total < 160 * 1024, `UI is ${total} bytes`);
  assert.equal((await fetch(T.url + '/api/clients')).status, 401);
});

test('--ui off: the dashboard paths are 404, the API still answers', async () => {
  const port = await freePort();
  const p = start(['server', '--ui', 'off', '--listen', `127.0.0.1:${port}`, '--tokens', path.join(T.dir, 'tokens'),
    '--state-dir', T.dir], {}, 'server-ui-off.log');
  try {
    const u = `http://127.0.0.1:${port}`;
    await until('the second server', async () => (await fetch(u + '/healthz')).ok);
    for (const q of ['/', '/app.js', '/style.css', '/index.html']) assert.equal((await fetch(u + q)).status, 404, q);
    assert.equal((await fetch(u + '/api/clients', { headers: { Authorization: 'Bearer ' + T.op } })).status, 200);
  } finally {
    p.kill('SIGTERM');
  }
});

test('a bad token is refused with the reason in words', async () => {
  const page = T.page;
  await page.goto(T.url + '/');
  await page.locator('#token').fill('not a token');
  await page.locator('form.login button[type=submit]').click();
  assert.match(await text('#login-msg .error'), /not a nestd token/);
  assert.ok(!(await text('#login-msg .error')).includes('`'), 'no literal backticks');
  // Well formed, valid checksum, but unknown to the server.
  const unknown = execFileSync(NESTD, ['token', 'new', 'ghost', '--tokens', path.join(T.dir, 'other-tokens')],
    { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  await page.locator('#token').fill(unknown);
  await page.locator('form.login button[type=submit]').click();
  assert.match(await text('#login-msg .error'), /unknown or revoked token/);
  assert.equal(await page.locator('#token').inputValue(), unknown, 'a rejected token keeps the field\'s text');
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
  assert.deepEqual(await T.ctx.cookies(), [], 'no session for a refused token');
  await shot('01-login-bad-token');
});

test('log in and see the agent with its usage', async () => {
  const page = T.page;
  await page.locator('#token').fill(T.op);
  await page.locator('form.login button[type=submit]').click();
  const card = page.locator('section.agent[data-agent="local"]');
  await card.waitFor();
  await card.locator('.bars').waitFor();
  const t = await card.textContent();
  assert.ok(t.includes(os.hostname()), 'hostname shown');
  assert.match(t, /CPU/);
  assert.match(t, /Load/);
  assert.match(t, /Memory/);
  assert.match(t, /Disk/);
  assert.match(t, /Up\s*\d+ (s|min|h|d)/, 'uptime on the overview');
  // CPU % from two samples: a number, not "measuring".
  await until('a CPU figure', async () => /CPU\s*[\d.]+ %/.test(await card.textContent()), 15000);
  // The token went to the server once; the page keeps none of it.
  const stored = await page.evaluate(() => JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)]));
  assert.ok(!stored.includes(T.op.slice(0, 64)), 'the token is in no page storage: ' + stored);
  const cookies = await T.ctx.cookies();
  assert.equal(cookies.length, 1, JSON.stringify(cookies));
  const c = cookies[0];
  assert.equal(c.name, 'nestd_session');
  assert.match(c.value, /^[0-9a-f]{64}$/);
  assert.equal(c.httpOnly, true, 'HttpOnly');
  assert.equal(c.sameSite, 'Strict', 'SameSite=Strict');
  assert.equal(c.secure, false, 'not Secure on plain HTTP (Secure over TLS: test/it_state.py)');
  assert.ok(c.expires > Date.now() / 1000 + 3600 && c.expires < Date.now() / 1000 + 86400, 'an expiry: ' + c.expires);
  assert.equal(c.path, '/api', 'the API\'s directory');
  assert.equal(await page.evaluate(() => document.cookie), '', 'the page cannot read it');
  // The cookie alone, as another site's form would send it, is refused.
  const alone = await page.evaluate(async () => (await fetch('api/clients', { credentials: 'same-origin' })).status);
  assert.equal(alone, 403, 'a request without the page\'s header: 403');
  await shot('02-agents');
});

test('the process table sorts, filters and pages', async () => {
  const page = T.page;
  await page.locator('section.agent[data-agent="local"] h2 a').click();
  await page.locator('#procs tbody tr').first().waitFor();
  const pids = () => page.$$eval('#procs tbody tr', (rs) => rs.map((r) => Number(r.dataset.pid)));
  const cpus = () => page.$$eval('#procs tbody td.cpu', (ts) => ts.map((t) => Number(t.textContent)));
  const c = await cpus();
  assert.ok(c.length > 3);
  assert.deepEqual(c, [...c].sort((a, b) => b - a), 'busiest first');
  assert.equal(await page.locator('th[aria-sort="descending"] button[data-key="cpu_usage"]').count(), 1);
  await page.locator('th button[data-key="pid"]').click();
  let p = await pids();
  assert.deepEqual(p, [...p].sort((a, b) => a - b), 'ascending by pid after a click');
  await page.locator('th button[data-key="pid"]').click();
  p = await pids();
  assert.deepEqual(p, [...p].sort((a, b) => b - a), 'descending after a second');
  assert.equal(await page.locator('th[aria-sort="descending"] button[data-key="pid"]').count(), 1);
  await page.locator('th button[data-key="name"]').click();
  const names = await page.$$eval('#procs tbody td.name', (ts) => ts.map((t) => t.textContent));
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)), 'sorted by name');
  await page.locator('th button[data-key="rss"]').click();
  await shot('03-processes');

  await page.locator('#proc-filter').fill('sleep 1000');
  await until('the filter', async () => (await pids()).includes(T.sleeper.pid));
  const cmds = await page.$$eval('#procs tbody td.cmd', (ts) => ts.map((t) => t.textContent));
  assert.ok(cmds.length >= 1 && cmds.every((c) => c.includes('sleep 1000')), 'only matching rows');
  assert.match(await text('#proc-status'), /matching/);
  await shot('04-processes-filtered');

  // Paging: 50 a page, and the pager moves.
  await page.locator('#proc-filter').fill('');
  await page.locator('.pages select').selectOption('50');
  const all = await page.evaluate(() => document.getElementById('proc-status').textContent);
  const count = Number(/of (\d+)/.exec(all)[1]);
  assert.ok((await pids()).length <= 50);
  if (count > 50) {
    await page.locator('.pages button', { hasText: 'Next' }).click();
    assert.match(await text('#proc-page'), /Page 2 of/);
  }
  await page.locator('.pages select').selectOption('100');
});

test('the process card pauses, resumes and kills a process the test started', async () => {
  const page = T.page;
  const pid = T.sleeper.pid;
  await page.locator('#proc-filter').fill('sleep 1000');
  await page.locator(`#procs tr[data-pid="${pid}"] td.name a`).click();
  await page.locator('#proc-card h2').waitFor();
  assert.match(await text('#proc-cmdline'), /sleep 1000/);
  assert.equal(await page.locator('#resume').isDisabled(), true, 'nothing to resume yet');
  assert.match(await page.locator('#proc-card').textContent(), /the process is not stopped/);
  await shot('05-process-card');

  await page.locator('#pause').click();
  await until('the process to stop', () => procState(pid) === 'T');
  await until('the card to say stopped', async () => (await page.locator('#proc-state').textContent()) === 'stopped');
  assert.match(await text('#proc-result .ok'), /paused/);
  await shot('06-process-paused');

  await page.locator('#resume').click();
  await until('the process to run again', () => procState(pid) !== 'T');
  await until('the card to say sleeping', async () => (await page.locator('#proc-state').textContent()) !== 'stopped');

  const exited = new Promise((r) => T.sleeper.once('exit', (code, sig) => r(sig)));
  await page.locator('#kill-method').selectOption('SIGKILL');
  await page.locator('#kill').click();
  assert.match(await text('.confirm'), /Send SIGKILL to sleep/);
  await shot('07-process-kill-confirm');
  await page.locator('#kill-confirm').click();
  assert.equal(await exited, 'SIGKILL');
  assert.match(await text('#proc-result .ok'), /SIGKILL sent/);
  // The card then says the process is gone, in words.
  assert.match(await text('#proc-card .error'), /no such process|not found|gone/i);
});

test('buttons the agent would refuse are disabled with the reason', async () => {
  const page = T.page;
  await go('#/agent/local/process/1');
  await page.locator('#proc-card h2').waitFor();
  assert.equal(await page.locator('#kill').isDisabled(), true);
  assert.equal(await page.locator('#pause').isDisabled(), true);
  assert.match(await text('#proc-unsafe'), /will not signal this process/);
  await shot('08-process-card-pid1');
});

test('an agent whose policy denies commands gets those buttons disabled, with the reason', async () => {
  const page = T.page;
  const p = start(['agent', '--server', `ws://127.0.0.1:${T.port}/`, '--token-file', path.join(T.dir, 'limited.token'),
    '--deny', 'kill_process,exec_command,stop_service', '--services', 'systemd',
    '--systemctl', path.join(ROOT, 'test', 'stubs', 'systemctl')], { NESTD_STUB_LOG: T.stubLog }, 'limited.log');
  try {
    await until('the limited agent', async () => (await apiGet('/api/clients')).body.some((c) => c.name === 'limited'));
    await go('#/');
    await page.locator('section.agent[data-agent="limited"]').waitFor({ timeout: 10000 });
    await go(`#/agent/limited/process/${T.xss[0].pid}`);
    await page.locator('#proc-card h2').waitFor();
    assert.equal(await page.locator('#kill').isDisabled(), true);
    assert.equal(await page.locator('#pause').isDisabled(), false, 'pause is still allowed');
    assert.match(await page.locator('#proc-card').textContent(), /kill_process is not allowed on this agent/);
    await shot('08b-process-card-policy');
    await go('#/agent/limited/run');
    assert.equal(await page.locator('#run').isDisabled(), true);
    assert.match(await text('.run .reason'), /exec_command is not allowed/);
    await go('#/agent/limited/service/cron.service');
    await page.locator('#svc-card h2').waitFor();
    assert.equal(await page.locator('#svc-stop').isDisabled(), true);
    assert.equal(await page.locator('#svc-restart').isDisabled(), false, 'restart is still allowed');
    assert.match(await page.locator('#svc-card').textContent(), /stop_service is not allowed/);
  } finally {
    p.kill('SIGTERM');
  }
});

// The model of the original bot's client (test/orig_client.py): it exits for
// good on any command it does not know, so the dashboard must not send it one.
test('an original client: what it cannot answer says so, nothing is sent to it, it stays connected', async () => {
  const page = T.page;
  const stubs = path.join(ROOT, 'test', 'stubs');
  const home = path.join(T.dir, 'orig-home');
  fs.mkdirSync(path.join(home, '.config', 'systemd', 'user'), { recursive: true });
  fs.writeFileSync(path.join(T.dir, 'orig-units'), 'web.service active running 0 The web app\n');
  const out = path.join(T.dir, 'orig-client.log');
  const fd = fs.openSync(out, 'a');
  const p = spawn('/usr/bin/python3', [path.join(ROOT, 'test', 'orig_client.py'), '--systemctl', path.join(stubs, 'systemctl')], {
    cwd: home, stdio: ['ignore', fd, fd],
    env: { PATH: stubs + ':/usr/bin:/bin', HOME: home, CLIENT_TOKEN: T.origTok, DEV: 'true',
      WS_URL: `ws://127.0.0.1:${T.port}/`, NESTD_STUB_UNITS: path.join(T.dir, 'orig-units') }
  });
  T.children.push(p);
  const events = () => fs.readFileSync(out, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
  try {
    const c = await until('the original client', async () =>
      (await apiGet('/api/clients')).body.find((x) => x.name === 'orig'));
    assert.equal(c.compat, 'original');
    assert.equal(c.commands, null);
    await go('#/');
    const card = page.locator('section.agent[data-agent="orig"]');
    await card.locator('.unsupported').waitFor();
    assert.match(await card.textContent(), /obtain_system_info is not supported by this agent \(original client\)/);
    assert.equal(await card.locator('.error').count(), 0, 'no error on its card');
    await shot('09a-original-client');
    await go('#/agent/orig/run');
    assert.equal(await page.locator('#run').isDisabled(), true);
    assert.match(await text('.run .reason'), /exec_command is not supported by this agent \(original client\)/);
    await go('#/agent/orig/charts');
    assert.match(await text('#usage-unsupported'), /not supported by this agent \(original client\)/);
    await go('#/agent/orig/usage');
    assert.match(await text('#usage-resources'), /Disk usage: 1\.25 GB used out of 15\.0 GB limit/);
    await page.locator('#usage-storage tbody tr').first().waitFor();
    await go('#/agent/orig/processes');
    await page.locator('#procs tbody tr').first().waitFor();
    await page.locator('#proc-filter').fill('pid:' + p.pid);
    await page.locator(`#procs tr[data-pid="${p.pid}"]`).waitFor();
    assert.equal(await page.locator(`#procs tr[data-pid="${p.pid}"] td.user`).textContent(), '–', 'no user in its list');
    assert.equal(await page.locator('main .error').count(), 0, 'its process list: no error');
    await page.locator('#proc-filter').fill('');
    await go('#/agent/orig/services');
    await page.locator('#services tr[data-service="web.service"]').waitFor();
    // two polls of the dashboard later: still there, on its first connection
    await go('#/');
    await sleep(11000);
    const ev = events();
    const sent = ev.filter((e) => e.ev === 'recv').map((e) => JSON.parse(e.msg));
    assert.deepEqual(ev.filter((e) => e.ev === 'exit'), [], 'the original client never exited');
    assert.equal(ev.filter((e) => e.ev === 'connected').length, 1);
    assert.deepEqual(sent.filter((m) => m.status !== 'command').map((m) => m.message), ['Authenticated :D']);
    assert.ok(sent.every((m) => m.status !== 'command' || ['obtain_user_usages', 'obtain_all_process_info',
      'list_services'].includes(m.message)), 'only commands it knows: ' + sent.map((m) => m.message));
    assert.equal(p.exitCode, null);
  } finally {
    p.kill('SIGTERM');
  }
});

test('services: list, card, start and stop through the systemctl stand-in', async (t) => {
  if (!fs.existsSync(path.join(ROOT, 'test', 'stubs', 'systemctl'))) return t.skip('no test/stubs/systemctl');
  const page = T.page;
  await go('#/agent/local/services');
  await page.locator('#services tr[data-service="nginx.service"]').waitFor();
  assert.match(await page.locator('#services').textContent(), /failed/);
  await shot('09-services');
  await page.locator('#services tr[data-service="nginx.service"] a').click();
  await page.locator('#svc-card h2').waitFor();
  const card = await page.locator('#svc-card').textContent();
  assert.match(card, /A high performance web server/);
  assert.match(card, /\/lib\/systemd\/system\/nginx\.service/);
  assert.equal(await text('#svc-state'), 'failed');
  await page.locator('#svc-start').click();
  assert.match(await text('#svc-result .ok'), /nginx\.service: start done/);
  await until('the card to say active', async () => (await page.locator('#svc-state').textContent()) === 'active');
  assert.match(await page.locator('#svc-card').textContent(), /1234/);
  assert.match(await page.locator('#svc-card').textContent(), /2026-11-24 19:03:11/);
  await page.locator('#svc-stop').click();
  await page.locator('#svc-stop-confirm').click();
  await until('the stop', async () => /stop done/.test(await page.locator('#svc-result').textContent()));
  const log = fs.readFileSync(T.stubLog, 'utf8');
  assert.match(log, /^systemctl .*\bstart (-- )?nginx\.service$/m);
  assert.match(log, /^systemctl .*\bstop (-- )?nginx\.service$/m);
  await shot('10-service-card');

  // An agent's refusal is shown in words.
  await go('#/agent/local/service/missing.service');
  assert.match(await text('#svc-card .error'), /no such service: missing\.service/);
});

test('run a command: output shown as text, exit code, timeout and truncation', async () => {
  const page = T.page;
  await go('#/agent/local/run');
  const html = '<b id="injected">bold</b><img src=x onerror=alert(3)><script>alert(4)</script>';
  await page.locator('#run-cmd').fill(`printf '%s\\n' '${html}'; echo oops >&2; exit 3`);
  await page.locator('#run').click();
  assert.equal(await text('#run-stdout'), html + '\n');
  assert.equal(await text('#run-stderr'), 'oops\n');
  assert.match(await text('#run-exit'), /exit code 3/);
  assert.equal(await page.locator('#injected').count(), 0);
  assert.equal(await page.locator('#run-out img, #run-out script, #run-out b').count(), 0);
  await shot('11-run');

  await page.locator('#run-cmd').fill('head -c 20000 /dev/zero | tr "\\0" x');
  await page.locator('#run-timeout').fill('');
  await page.locator('#run').click();
  assert.match(await text('#run-truncated'), /truncated/);

  await page.locator('#run-cmd').fill('echo started; sleep 30');
  await page.locator('#run-timeout').fill('1');
  await page.locator('#run').click();
  assert.match(await text('#run-timedout'), /timed out/);
  assert.equal(await text('#run-stdout'), 'started\n');
  await shot('12-run-timeout');
});

test('process names holding markup stay text, and no script runs', async () => {
  const page = T.page;
  await go('#/agent/local/processes');
  await page.locator('#proc-refresh').click();
  await page.locator('#proc-filter').fill('onerror');
  for (const p of T.xss) await page.locator(`#procs tr[data-pid="${p.pid}"]`).waitFor();
  const names = await page.$$eval('#procs tbody td.name', (ts) => ts.map((t) => t.textContent));
  assert.ok(names.includes(XSS_NAME.slice(0, 15)), 'comm (15 bytes) shown as text: ' + JSON.stringify(names));
  assert.ok(names.includes(XSS_NAME2), 'whole name shown as text');
  const cmds = await page.$$eval('#procs tbody td.cmd', (ts) => ts.map((t) => t.textContent));
  assert.ok(cmds.includes(XSS_NAME + ' 1000'));
  assert.equal(await page.locator('#procs img').count(), 0);
  await shot('13-xss-names');
  await page.locator(`#procs tr[data-pid="${T.xss[1].pid}"] td.name a`).click();
  await page.locator('#proc-card h2').waitFor();
  assert.equal((await page.locator('#proc-card h2').textContent()).startsWith(XSS_NAME2), true);
  assert.equal(await page.locator('#proc-card img').count(), 0);
  await sleep(300);
  assert.deepEqual(T.dialogs, [], 'no dialog opened');
});

test('charts: the server\'s history of CPU, load, memory and disk, drawn again after a reload', async () => {
  const page = T.page;
  // The server samples every HIST s: wait until its latest few samples all
  // have a CPU % (a sample without one, as right after the agent came
  // back, is a gap in the line, and stays in the history).
  await until('the server\'s history', async () => {
    const r = await fetch(T.url + '/api/clients/local/history', { headers: { Authorization: 'Bearer ' + T.op } });
    const j = await r.json();
    return j.samples && j.samples.length >= 5 && j.samples.slice(-4).every((x) => typeof x.cpu === 'number');
  }, 30000);
  await go('#/agent/local/charts');
  await page.locator('#charts-source', { hasText: 'server\'s history' }).waitFor();
  assert.match(await page.locator('.charts').textContent(), /CPU[\s\S]*Load average[\s\S]*Memory used[\s\S]*Disk used/);
  await until('four charts drawn', async () => (await page.locator('svg.chart polyline').count()) >= 6);
  // The CPU chart's longest line: the latest samples, unbroken.
  const pts = await page.locator('svg.chart').first().locator('polyline').evaluateAll(
    (ls) => ls.map((l) => l.getAttribute('points')).sort((a, b) => b.split(' ').length - a.split(' ').length)[0] || '');
  assert.ok(pts.split(' ').length >= 3, 'a line of several samples: ' + pts);
  await shot('14-charts');
  // A reload: the page has sampled nothing yet, and the charts are there at once.
  await page.reload();
  await page.locator('#charts-source', { hasText: 'server\'s history' }).waitFor({ timeout: 5000 });
  assert.ok((await page.locator('svg.chart polyline').count()) >= 6, 'drawn from the server after a reload');
  assert.match(await page.locator('#charts-source').textContent(), /\d+ samples, since/);
  await shot('14c-charts-after-reload');
});

test('20,000 processes: one page is drawn; sorting, filtering and paging cover every row', async () => {
  // The real agent answers everything else; only the process list is swapped
  // for a big synthetic one (a busy shared server).  The expected pages are
  // computed here from the same rows: by pid, and by CPU % descending with
  // ties by pid.
  const page = await T.ctx.newPage();
  page.on('pageerror', (e) => T.pageErrors.push(String(e)));
  page.on('dialog', (d) => { T.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  const rows = [];
  for (let i = 0; i < 20000; i++) {
    rows.push({ pid: 100000 + i, ppid: 1, name: 'worker-' + (i % 997), user: 'user' + (i % 50), uid: 1000 + (i % 50),
      state: i % 7 ? 'sleeping' : 'running', rss: (i * 7919) % 500000000, vms: 0, cpu_time: { user: 1, system: 1 },
      cpu_usage: (i * 31) % 1000 / 10, started: 1795640000 + i, threads: 1,
      cmdline: `/usr/bin/worker-${i % 997} --job ${i} <b>x</b>`, kernel_thread: false });
  }
  const byCpu = [...rows].sort((a, b) => b.cpu_usage - a.cpu_usage || a.pid - b.pid).map((r) => String(r.pid));
  const byPid = rows.map((r) => String(r.pid));
  const big = JSON.stringify({ status: 'command_response', message: 'response_obtain_all_process_info', id: 'x', payload: rows });
  await page.route('**/api/clients/local/commands', async (route) => {
    const body = route.request().postDataJSON();
    if (body && body.message === 'obtain_all_process_info')
      return route.fulfill({ status: 200, contentType: 'application/json', body: big });
    return route.continue();
  });
  const shown = () => page.$$eval('#procs tbody tr', (trs) => trs.map((tr) => tr.dataset.pid));
  // The rows drawn become want (a bounded wait: the page redraws after
  // each keystroke or click); a diff if they do not.
  const rowsAre = async (what, want) => {
    const end = Date.now() + 10000;
    let got = await shown();
    while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < end) {
      await sleep(100);
      got = await shown();
    }
    assert.deepEqual(got, want, what);
  };
  // Whatever sort an earlier view left: a click picks the column (in its
  // default direction), a second one turns it round.
  const sortBy = async (key, dir) => {
    const want = page.locator(`th[aria-sort="${dir}"] button[data-key="${key}"]`);
    for (let i = 0; i < 2 && !(await want.count()); i++)
      await page.locator(`th button[data-key="${key}"]`).first().click();
    await want.first().waitFor();
  };
  await page.goto(T.url + '/');   // the same browser: logged in already
  await page.locator('section.agent').first().waitFor();
  let t0 = Date.now();
  await page.evaluate(() => { location.hash = '#/agent/local/processes'; });
  await until('20000 rows', async () => /of 20000/.test(await page.locator('#proc-status').textContent()));
  const load = Date.now() - t0;
  assert.equal((await shown()).length, 100, 'one page drawn');
  await sortBy('pid', 'ascending');
  await rowsAre('sorted by pid: the first 100 pids', byPid.slice(0, 100));
  t0 = Date.now();
  await sortBy('cpu_usage', 'descending');
  // The top 100 of all 20,000, not the page's rows re-sorted.
  await rowsAre('sorted by CPU %: the top 100 of every row', byCpu.slice(0, 100));
  const sort = Date.now() - t0;
  t0 = Date.now();
  await page.locator('#proc-filter').pressSequentially('--job 1234', { delay: 0 });
  // Jobs 1234 and 12340-12349, still in CPU order.
  const jobs = new Set([1234, 12340, 12341, 12342, 12343, 12344, 12345, 12346, 12347, 12348, 12349].map((j) => String(100000 + j)));
  await rowsAre('filter: exactly the 11 matching rows, in CPU order', byCpu.filter((p) => jobs.has(p)));
  const filter = Date.now() - t0;
  assert.match(await page.locator('#proc-status').textContent(), /^1–11 of 11 matching/);
  // The markup in the command lines is shown as text.
  assert.equal(await page.locator('#procs b').count(), 0);
  assert.match(await page.locator('#procs tr[data-pid="101234"] td.cmd').textContent(), /--job 1234 <b>x<\/b>$/);
  await page.locator('#proc-filter').fill('');
  await rowsAre('filter cleared: the top 100 again', byCpu.slice(0, 100));
  await page.locator('.pages button', { hasText: 'Last' }).first().click();
  assert.match(await page.locator('#proc-page').first().textContent(), /Page 200 of 200/);
  await rowsAre('the last page: the bottom 100 by CPU %', byCpu.slice(19900));
  await shot('20-processes-20000', page);
  // A figure to read, not a bound to assert: the machines are shared.
  console.log(`20000 rows: load+draw ${load} ms, sort ${sort} ms, filter (10 keystrokes) ${filter} ms`);
  await page.close();
});

test('one login serves a second tab of the same browser', async () => {
  const page = await sameBrowserTab();
  await page.locator('section.agent[data-agent="local"]').waitFor();
  assert.equal(await page.locator('#token').count(), 0, 'no login form');
  assert.match(await page.locator('#topnav').textContent(), /Agents.*Tokens.*Settings/);
  // A middle-click on a process opens it in a new tab: straight to its card.
  const pid = T.xss[0].pid;
  const second = await sameBrowserTab();
  await second.goto(T.url + '/#/agent/local/process/' + pid);
  await second.locator('#proc-card h2').waitFor();
  assert.equal(await second.locator('#token').count(), 0);
  await shot('14b-second-tab', second);
  await second.close();
  await page.close();
});

test('phone width: no sideways scrolling of the page', async () => {
  const page = await sameBrowserTab({ width: 390, height: 844 });
  await page.locator('section.agent .bars').waitFor();
  const wide = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(await wide() <= 1, 'agents view fits');
  await shot('15-phone-agents', page);
  await openProcs(page);
  assert.ok(await wide() <= 1, 'processes view fits (the table scrolls inside its box)');
  await shot('16-phone-processes', page);
  await page.evaluate(() => { location.hash = '#/agent/local/process/1'; });
  await page.locator('#proc-card h2').waitFor();
  assert.ok(await wide() <= 1, 'card fits');
  await shot('17-phone-process-card', page);
  await page.close();
});

test('an agent that goes away stays listed, offline with the fix-it hint, and comes back', async () => {
  const page = T.page;
  await go('#/');
  const card = page.locator('section.agent[data-agent="local"]');
  await page.locator('section.agent[data-agent="local"][data-state="online"] .bars').waitFor();
  const gone = new Promise((r) => T.agent.once('exit', r));
  T.agent.kill('SIGTERM');
  await gone;
  await page.locator('section.agent[data-agent="local"][data-state="offline"]').waitFor({ timeout: 15000 });
  const t = await card.textContent();
  assert.match(t, /offline since \d\d:\d\d/);
  assert.match(t, /systemctl status nestd-agent/);
  assert.match(t, /journalctl -u nestd-agent/);
  assert.equal(await card.locator('.bars').count(), 0, 'no bars from an agent that is gone');
  assert.match(await text('#live'), /\d+ offline/);
  await shot('18-agent-offline');
  await go('#/agent/local/processes');
  assert.match(await text('#agent-warning'), /local is offline since \d\d:\d\d/);
  await page.locator('#proc-refresh').click();
  assert.match(await text('main .error'), /not connected/);
  await shot('19-agent-gone');
  // Across a server restart, in a browser that never saw the agent: the
  // server itself remembers it, offline, with what it last said.
  await restartServer();
  const fresh = await T.browser.newContext({ viewport: { width: 1280, height: 860 } });
  const other = await fresh.newPage();
  await other.goto(T.url + '/');
  await other.locator('#token').fill(T.op);
  await other.locator('form.login button[type=submit]').click();
  const ocard = other.locator('section.agent[data-agent="local"][data-state="offline"]');
  await ocard.waitFor({ timeout: 15000 });
  const ot = await ocard.textContent();
  assert.ok(ot.includes(os.hostname()), 'the hostname it had: ' + ot);
  assert.match(ot, /offline since \d\d:\d\d/);
  assert.match(ot, /Last seen/);
  await shot('19c-offline-after-restart', other);
  // The first tab kept its session across the restart too.
  await go('#/');
  await page.locator('section.agent[data-agent="local"][data-state="offline"]').waitFor({ timeout: 15000 });
  T.agent = startAgent();
  await agentUp();
  await go('#/');
  await page.locator('section.agent[data-agent="local"][data-state="online"] .bars').waitFor({ timeout: 15000 });
  assert.equal(await page.locator('section.agent[data-agent="local"]').count(), 1, 'one card, not two');
  await other.locator('section.agent[data-agent="local"][data-state="online"]').waitFor({ timeout: 15000 });
  await shot('19b-agent-back');
  await fresh.close();
});

test('forgetting an offline agent: the server forgets it too', async () => {
  const page = T.page;
  const p = start(['agent', '--server', `ws://127.0.0.1:${T.port}/`, '--token-file', path.join(T.dir, 'limited.token'),
    '--services', 'none'], {}, 'limited2.log');
  await until('limited online', async () => (await apiGet('/api/clients')).body.some((c) => c.name === 'limited' && c.online));
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await gone;
  await go('#/');
  const card = page.locator('section.agent[data-agent="limited"][data-state="offline"]');
  await card.waitFor({ timeout: 15000 });
  await card.locator('button.forget').click();
  await until('the card gone', async () => (await page.locator('section.agent[data-agent="limited"]').count()) === 0);
  assert.equal((await apiGet('/api/clients')).body.some((c) => c.name === 'limited'), false, 'the server forgot it');
  await sleep(POLL_WAIT);
  assert.equal(await page.locator('section.agent[data-agent="limited"]').count(), 0, 'and it does not come back');
});

test('log out ends the session; nothing broke along the way', async () => {
  const page = T.page;
  const before = (await T.ctx.cookies())[0];
  await page.locator('#logout').click();
  await page.locator('#token').waitFor();
  assert.deepEqual((await T.ctx.cookies()).filter((c) => c.name === 'nestd_session'), [], 'the cookie is gone');
  // The server ended it: the old cookie no longer works anywhere.
  const r = await fetch(T.url + '/api/me', { headers: { Cookie: 'nestd_session=' + before.value, 'X-Nestd-CSRF': '1' } });
  assert.equal(r.status, 401, 'the ended session is refused');
  assert.deepEqual(T.dialogs, [], 'no dialog opened');
  assert.deepEqual(T.pageErrors, [], 'no uncaught exception');
  // CSP violations and failed loads show up as console errors.  Expected: the
  // 401s of the bad-token test and the 404s of the disconnected agent.
  // Also the 403 of the cookie sent without the page's header, on purpose.
  const bad = T.consoleErrors.filter((m) => !/^Failed to load resource: .* status of 40[134]\b/.test(m));
  assert.deepEqual(bad, [], 'no console errors');
});

// ---- Issue 14: the dashboard as pleasant as htop and Cockpit.  Each test
// opens its own tab (a fresh browser profile where it says so) and logs in.

const U = { errors: [], dialogs: [], nobody: [] };

async function tab(viewport, ctx) {
  ctx = ctx || await T.browser.newContext({ viewport });
  const page = await ctx.newPage();
  if (viewport) await page.setViewportSize(viewport);
  page.on('pageerror', (e) => U.errors.push(String(e)));
  page.on('dialog', (d) => { U.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.goto(T.url + '/');
  // A tab of a browser already logged in needs no login (the session's cookie).
  await page.locator('#token, section.agent').first().waitFor();
  if (await page.locator('#token').count()) {
    await page.locator('#token').fill(T.op);
    await page.locator('form.login button[type=submit]').click();
  }
  await page.locator('section.agent').first().waitFor();
  return { page, ctx };
}

// The process list of the local agent, shown.  A first load that fails
// (the agent slow to answer on a loaded machine) shows its error, as the
// page does, and Refresh is what a person clicks then; the failure says
// what the page showed.
async function openProcs(page) {
  await page.evaluate(() => { location.hash = '#/agent/local/processes'; });
  const end = Date.now() + 60000;
  let next = Date.now() + 15000;
  for (;;) {
    if (await page.locator('#procs tbody tr').count()) return;
    if (Date.now() > end) {
      throw new Error('no process rows after 60 s; the page showed: ' +
        (await page.locator('main').textContent()).slice(0, 600) + logTails());
    }
    if (Date.now() > next && await page.locator('#proc-refresh').isEnabled().catch(() => false)) {
      await page.locator('#proc-refresh').click();
      next = Date.now() + 15000;
    }
    await sleep(100);
  }
}

// What the first screen shows (shot() takes the whole page).
async function screen(name, page) {
  await page.screenshot({ path: path.join(SCREENS, name + '.png') });
}

async function txt(page, sel) {
  const l = page.locator(sel).first();
  await l.waitFor({ timeout: 10000 });
  return l.textContent();
}

async function procList() {
  const r = await fetch(T.url + '/api/clients/local/commands', {
    method: 'POST', headers: { Authorization: 'Bearer ' + T.op, 'Content-Type': 'application/json' },
    body: JSON.stringify({ message: 'obtain_all_process_info' })
  });
  return (await r.json()).payload;
}

// Unique to this run: other runs on a shared machine start sleepers too.
const SLEEP_ARG = '1001.' + String(process.pid).padStart(6, '0');

// Processes of a user that is not root (nobody, when the test runs as root):
// enough of them to fill more than a page of 50 and to be "mine" by default.
function nobodySleepers() {
  if (U.nobody.length) return U.nobody;
  const as = process.getuid() === 0 ? { uid: 65534, gid: 65534 } : {};
  for (let i = 0; i < 40; i++) {
    const p = spawn('sleep', [SLEEP_ARG], { stdio: 'ignore', ...as });
    T.children.push(p);
    U.nobody.push(p);
  }
  return U.nobody;
}

const rowsOf = (page, sel = '#procs tbody tr') => page.$$eval(sel, (rs) => rs.map((r) => ({
  pid: Number(r.dataset.pid),
  user: r.querySelector('td.user').textContent,
  name: r.querySelector('td.name').textContent,
  state: r.querySelector('td.st').textContent,
  cmd: r.querySelector('td.cmd').textContent
})));

async function filterTo(page, q) {
  await page.locator('#proc-filter').fill(q);
  return rowsOf(page);
}

test('processes: busiest first, kernel threads hidden, dense rows, a sticky header, a pager on top', async () => {
  nobodySleepers();
  const { page, ctx } = await tab({ width: 1920, height: 1080 });
  await openProcs(page);
  // A fresh profile: the default sort, CPU descending.
  assert.equal(await page.locator('th[aria-sort="descending"] button[data-key="cpu_usage"]').count(), 1);
  const cpu = await page.$$eval('#procs tbody td.cpu', (ts) => ts.map((t) => Number(t.textContent)));
  assert.deepEqual(cpu, [...cpu].sort((a, b) => b - a));
  // Kernel threads hidden, and said so; the toggle shows them.
  assert.equal(await page.locator('#proc-kernel').isChecked(), false);
  assert.equal(await page.locator('#procs tr.kthread').count(), 0);
  const kthreads = (await procList()).filter((p) => p.kernel_thread);
  if (kthreads.length) {
    assert.match(await txt(page, '#proc-status'), /\d+ kernel threads hidden/);
    const k = kthreads[0].pid;
    await page.locator('#proc-filter').fill('pid:' + k);
    assert.match(await page.locator('.pager').textContent(), /No process matches/);
    await page.locator('#proc-kernel').check();
    await page.locator(`#procs tr.kthread[data-pid="${k}"]`).waitFor();
    await page.locator('#proc-kernel').uncheck();
    await page.locator('#proc-filter').fill('');
  }
  // Dense: one line a process, about 50 of them on a 1080 px screen.
  const geo = await page.evaluate(() => {
    const rs = [...document.querySelectorAll('#procs tbody tr')];
    return { h: rs[1].getBoundingClientRect().height, top: rs[0].getBoundingClientRect().top, vh: innerHeight };
  });
  assert.ok(geo.h <= 21, `rows are ${geo.h} px high`);
  assert.ok((geo.vh - geo.top) / geo.h >= 45, `${Math.floor((geo.vh - geo.top) / geo.h)} rows fit in the first screen`);
  await screen('21-processes-1080', page);
  // The pager is on top too, and the header stays in view while scrolling.
  await page.locator('.pages select').selectOption('50');
  assert.match(await txt(page, '#proc-page'), /Page 1 of [2-9]/);
  await page.locator('#proc-next-top').click();
  assert.match(await txt(page, '#proc-page'), /Page 2 of/);
  await page.locator('#proc-prev-top').click();
  await page.setViewportSize({ width: 1280, height: 500 });
  await page.evaluate(() => window.scrollTo(0, 600));
  const th = await page.locator('#procs thead th').first().boundingBox();
  const top = await page.locator('header.top').boundingBox();
  assert.ok(Math.abs(th.y - (top.y + top.height)) <= 2, `header at ${th.y}, top bar ends at ${top.y + top.height}`);
  await screen('21b-processes-sticky-header', page);
  await ctx.close();
});

test('the filter: name and command line by default; user:, state:, pid: combine; "mine" is remembered', async () => {
  const mine = nobodySleepers();
  const nobody = process.getuid() === 0 ? 'nobody' : os.userInfo().username;
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  await openProcs(page);

  // "sleep" is a name or a command, not the state of every sleeping process.
  let rows = await filterTo(page, 'sleep');
  assert.ok(rows.length >= mine.length);
  for (const r of rows) assert.ok(/sleep/i.test(r.name + r.cmd), JSON.stringify(r));
  assert.match(await txt(page, '#proc-filter-hint'), /name or command line contains “sleep”/);

  rows = await filterTo(page, 'user:' + nobody);
  assert.ok(rows.length >= mine.length && rows.every((r) => r.user === nobody), 'user:');
  rows = await filterTo(page, `user:${nobody} sleep ${SLEEP_ARG}`);
  assert.deepEqual(rows.map((r) => r.pid).sort(), mine.map((p) => p.pid).sort(), 'user: and words');
  if (nobody !== 'root') {
    rows = await filterTo(page, '-user:root sleep');
    assert.ok(rows.length >= mine.length && rows.every((r) => r.user !== 'root'), '-user:');
  }
  rows = await filterTo(page, `pid:${mine[0].pid},${mine[1].pid}`);
  assert.deepEqual(rows.map((r) => r.pid).sort(), [mine[0].pid, mine[1].pid].sort(), 'pid: with a list');

  process.kill(mine[2].pid, 'SIGSTOP');
  await until('the stop', () => procState(mine[2].pid) === 'T');
  await page.locator('#proc-refresh').click();
  await page.locator('#proc-filter').fill(`state:stopped user:${nobody}`);
  await until('the stopped one alone', async () => {
    const r = await rowsOf(page);
    return r.length === 1 && r[0].pid === mine[2].pid;
  });
  assert.match(await txt(page, '#proc-filter-hint'), /state starts with stopped · user is /);
  rows = await filterTo(page, `state:T sleep ${SLEEP_ARG}`);
  assert.deepEqual(rows.map((r) => r.pid), [mine[2].pid], 'ps letters for states');
  await shot('22-processes-filter-fields', page);
  process.kill(mine[2].pid, 'SIGCONT');
  await filterTo(page, '');

  // "mine": by default the user running the most processes that are not
  // root's (the test's 40 sleepers), until the operator picks one.
  const list = await procList();
  const count = {};
  for (const p of list) if (!p.kernel_thread && p.user !== 'root') count[p.user] = (count[p.user] || 0) + 1;
  const most = Object.keys(count).sort((a, b) => count[b] - count[a])[0];
  if (most) assert.equal(await page.locator('#proc-me').inputValue(), most);
  await page.locator('#proc-me').selectOption(nobody);
  await page.locator('#proc-mine').check();
  rows = await rowsOf(page);
  assert.ok(rows.length >= mine.length && rows.every((r) => r.user === nobody), 'mine');
  await page.locator('#proc-me').selectOption('root');
  assert.ok((await rowsOf(page)).every((r) => r.user === 'root'), 'mine, another pick');
  // The pick outlives the tab.
  const again = await tab(null, ctx);
  await openProcs(again.page);
  assert.equal(await again.page.locator('#proc-me').inputValue(), 'root');
  assert.equal(await again.page.locator('#proc-mine').isChecked(), false, 'the toggle itself starts off');
  await ctx.close();
});

// CI caught this once; a loop of fresh tabs, after 12 and after 52: a
// poll's redraw and the hashchange both drew the view while the first
// listing was on its way; the second draw found it loading and waited for
// nothing, so the table said "Loading…" for good (and Refresh stayed off).
// Here the listing is held until the view has been drawn twice more.
test('the process view drawn again while its list loads: the rows come, Refresh comes back', async () => {
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  let release, asked = 0;
  const held = new Promise((r) => { release = r; });
  await page.route('**/api/clients/local/commands', async (route) => {
    const body = route.request().postDataJSON();
    if (body && body.message === 'obtain_all_process_info' && asked++ === 0) await held;
    return route.continue();
  });
  await page.evaluate(() => { location.hash = '#/agent/local/processes'; });
  await page.locator('#proc-status', { hasText: 'Loading' }).waitFor();
  for (let i = 0; i < 2; i++) {
    await page.evaluate(() => window.dispatchEvent(new HashChangeEvent('hashchange')));
    await page.locator('#proc-status', { hasText: 'Loading' }).waitFor();
  }
  release();
  await page.locator('#procs tbody tr').first().waitFor({ timeout: 15000 }).catch(async () => {
    throw new Error('no rows after the held listing came: ' + (await page.locator('main').textContent()).slice(0, 400));
  });
  assert.equal(asked, 1, 'one listing asked for, not one per draw');
  assert.equal(await page.locator('#proc-refresh').isEnabled(), true, 'Refresh usable again');
  await ctx.close();
});

test('no sideways scrolling at 1280 px: the command line is cut, whole on hover and click; a phone stacks rows', async () => {
  const long = spawn('sh', ['-c', 'sleep 1004; : ' + 'wide-argument-'.repeat(40)], { stdio: 'ignore' });
  T.children.push(long);
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  const wide = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await openProcs(page);
  assert.ok(await wide() <= 0, 'the page fits');
  assert.ok(await page.$eval('.tablebox', (b) => b.scrollWidth <= b.clientWidth), 'the table fits its box');
  const box = await page.locator('.tablebox').boundingBox();
  for (const td of await page.locator('#procs tbody tr:first-child td').all()) {
    const b = await td.boundingBox();
    assert.ok(b.x >= box.x && b.x + b.width <= box.x + box.width + 0.5, 'a cell inside the box');
  }
  await page.locator('#proc-filter').fill('wide-argument-');
  const cell = page.locator(`#procs tr[data-pid="${long.pid}"] td.cmd`);
  await cell.waitFor();
  const full = await cell.textContent();
  assert.equal(await cell.getAttribute('title'), full, 'the whole line on hover');
  assert.ok(await cell.evaluate((c) => c.scrollWidth > c.clientWidth), 'cut to the column');
  const h0 = (await cell.boundingBox()).height;
  await cell.click();
  assert.ok((await cell.boundingBox()).height > h0 * 2, 'unfolded on click');
  assert.ok(await cell.evaluate((c) => c.scrollWidth <= c.clientWidth), 'and all of it shows');
  assert.ok(await wide() <= 0, 'still fits');
  await cell.scrollIntoViewIfNeeded();
  await screen('23-processes-1280-unfolded', page);
  await cell.click();
  for (const v of ['#/', '#/agent/local/services', '#/agent/local/process/' + long.pid]) {
    await page.evaluate((x) => { location.hash = x; }, v);
    await page.locator('main h1').first().waitFor();
    assert.ok(await wide() <= 0, v + ' fits at 1280 px');
  }

  // A phone: rows stack, so every column of every row is on the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => { location.hash = '#/agent/local/processes'; });
  await page.locator('#proc-filter').fill('');
  await page.locator('#procs tbody tr:nth-child(5)').waitFor();
  assert.ok(await wide() <= 0, 'no sideways scrolling');
  const off = await page.evaluate(() => {
    const bad = [];
    const rows = [...document.querySelectorAll('#procs tbody tr')].slice(0, 20);
    for (const r of rows) for (const td of r.children) {
      const b = td.getBoundingClientRect();
      if (b.width < 1 || b.left < 0 || b.right > innerWidth + 0.5) bad.push(r.dataset.pid + ' ' + td.className);
    }
    for (const th of document.querySelectorAll('#procs thead button')) {
      const b = th.getBoundingClientRect();
      if (b.width < 1 || b.left < 0 || b.right > innerWidth + 0.5) bad.push('sort ' + th.dataset.key);
    }
    return bad;
  });
  assert.deepEqual(off, [], 'every column reachable');
  await page.locator('th button[data-key="rss"]').click();
  assert.equal(await page.locator('th[aria-sort="descending"] button[data-key="rss"]').count(), 1, 'sorts from a phone');
  await screen('24-phone-processes-stacked', page);
  await ctx.close();
});

test('the service card follows the unit: Start only when stopped, Stop asks first, the agent\'s own unit warns', async () => {
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  const log = () => fs.existsSync(T.stubLog) ? fs.readFileSync(T.stubLog, 'utf8') : '';
  const disabled = async (id) => page.locator(id).isDisabled();
  // The stand-in lists ssh.service with a start job pending (activating, as
  // systemd 252 shows one): this test starts from that unit stopped.
  fs.writeFileSync(path.join(T.dir, 'units', 'ssh.service'), 'inactive dead\n');
  await page.evaluate(() => { location.hash = '#/agent/local/service/ssh.service'; });
  await page.locator('#svc-card h2').waitFor();
  assert.equal(await txt(page, '#svc-state'), 'inactive');
  assert.equal(await disabled('#svc-start'), false);
  for (const v of ['#svc-stop', '#svc-restart', '#svc-reload']) assert.equal(await disabled(v), true, v);
  assert.match(await txt(page, '#svc-card ul.reasons'), /Stop: the unit is inactive/);
  // The reasons sit under the row: the buttons stay on one line.
  const ys = await page.$$eval('#svc-card .actions button', (bs) => bs.map((b) => { const r = b.getBoundingClientRect(); return Math.round(r.top + r.height / 2); }));
  assert.equal(new Set(ys).size, 1, 'one row of buttons: ' + ys);
  await shot('25-service-inactive', page);

  await page.locator('#svc-start').click();
  assert.match(await txt(page, '#svc-result .ok'), /ssh\.service: start done/);
  await until('active', async () => (await page.locator('#svc-state').textContent()) === 'active');
  assert.equal(await disabled('#svc-start'), true);
  for (const v of ['#svc-stop', '#svc-restart', '#svc-reload']) assert.equal(await disabled(v), false, v);
  assert.match(await page.locator('#svc-start').getAttribute('title'), /already active/);

  // Stop asks, next to the button; Cancel sends nothing.
  await page.locator('#svc-stop').click();
  const q = page.locator('#svc-confirm');
  assert.match(await q.textContent(), /Stop ssh\.service\?/);
  const b = await page.locator('#svc-stop').boundingBox(), c = await q.boundingBox();
  assert.ok(c.y >= b.y + b.height && c.y - (b.y + b.height) < 40, 'the question is under the button');
  await shot('26-service-stop-confirm', page);
  await q.locator('button', { hasText: 'Cancel' }).click();
  assert.equal(await q.isVisible(), false);
  assert.doesNotMatch(log(), /\bstop (-- )?ssh\.service$/m);
  await page.locator('#svc-stop').click();
  await page.locator('#svc-stop-confirm').click();
  assert.match(await txt(page, '#svc-result .ok'), /stop done/);
  assert.match(log(), /^systemctl .*\bstop (-- )?ssh\.service$/m);
  await until('inactive again', async () => (await page.locator('#svc-state').textContent()) === 'inactive');

  // The unit that runs an agent: a warning before it goes.
  await page.evaluate(() => { location.hash = '#/agent/local/service/nestd-agent.service'; });
  await page.locator('#svc-card h2', { hasText: 'nestd-agent' }).waitFor();
  await page.locator('#svc-stop').click();
  const w = await txt(page, '#svc-confirm');
  assert.match(w, /runs a nestd agent/);
  assert.match(w, /cannot start it again/);
  await shot('27-service-agent-unit-warning', page);
  await page.locator('#svc-confirm button', { hasText: 'Cancel' }).click();
  assert.doesNotMatch(log(), /\bstop (-- )?nestd-agent\.service$/m);

  // An agent without a service manager says so, in words, not in red.
  fs.writeFileSync(path.join(T.dir, 'nosvc.token'), token('nosvc') + '\n', { mode: 0o600 });
  T.server.kill('SIGHUP');
  const p = start(['agent', '--server', `ws://127.0.0.1:${T.port}/`, '--token-file', path.join(T.dir, 'nosvc.token'),
    '--services', 'none'], {}, 'nosvc.log');
  try {
    await until('the agent without services', async () => (await apiGet('/api/clients')).body.some((x) => x.name === 'nosvc'), 15000);
    await page.evaluate(() => { location.hash = '#/'; });
    await page.locator('section.agent[data-agent="nosvc"][data-state="online"]').waitFor({ timeout: 10000 });
    assert.match(await page.locator('section.agent[data-agent="nosvc"]').textContent(), /manages no services/);
    for (const v of ['#/agent/nosvc/services', '#/agent/nosvc/service/cron.service']) {
      await page.evaluate((x) => { location.hash = x; }, v);
      assert.match(await txt(page, '#svc-none'), /This agent manages no services/);
      assert.equal(await page.locator('main .error').count(), 0, v + ': no red error');
    }
    await shot('28-services-none', page);
  } finally {
    p.kill('SIGTERM');
  }
  // Gone, it stays listed until the operator forgets it.
  await page.evaluate(() => { location.hash = '#/'; });
  const gone = page.locator('section.agent[data-agent="nosvc"][data-state="offline"]');
  await gone.waitFor({ timeout: 15000 });
  await gone.locator('button.forget').click();
  await until('the card gone', async () => (await page.locator('section.agent[data-agent="nosvc"]').count()) === 0);
  await ctx.close();
});

test('the signal menu: the common signals, the choice kept, a question by the button, no signal for a zombie', async () => {
  const p = spawn('sleep', ['1005'], { stdio: 'ignore' });
  T.children.push(p);
  // A zombie: the shell's background child outlives the shell's exec of a
  // sleep that never reaps it.
  const z = spawn('sh', ['-c', 'sleep 0 & exec sleep 1006'], { stdio: 'ignore' });
  T.children.push(z);
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  await page.evaluate((pid) => { location.hash = '#/agent/local/process/' + pid; }, p.pid);
  await page.locator('#proc-card h2').waitFor();
  const sigs = await page.$$eval('#kill-method option', (os) => os.map((o) => o.value));
  assert.deepEqual(sigs, ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGSTOP', 'SIGCONT']);

  await page.locator('#kill-method').selectOption('SIGSTOP');
  await page.locator('#kill').click();
  const kb = await page.locator('#kill').boundingBox(), cb = await page.locator('.confirm').boundingBox();
  assert.ok(cb.y >= kb.y + kb.height && cb.y - (kb.y + kb.height) < 40, 'the question is under the button');
  assert.match(await txt(page, '.confirm'), /Send SIGSTOP to sleep/);
  await shot('29-signal-confirm', page);
  await page.locator('#kill-confirm').click();
  await until('the process to stop', () => procState(p.pid) === 'T');
  assert.match(await txt(page, '#proc-result .ok'), /SIGSTOP sent/);
  await until('the card to say stopped', async () => (await page.locator('#proc-state').textContent()) === 'stopped');
  assert.equal(await page.locator('#kill-method').inputValue(), 'SIGSTOP', 'the menu keeps its choice');

  await page.locator('#kill-method').selectOption('SIGCONT');
  await page.locator('#kill').click();
  await page.locator('#kill-confirm').click();
  await until('the process to go on', () => procState(p.pid) !== 'T');
  assert.match(await txt(page, '#proc-result .ok'), /SIGCONT sent/);
  // A new question clears the last answer.
  await page.locator('#proc-state', { hasText: 'sleeping' }).waitFor();
  await page.locator('#kill').click();
  assert.equal(await page.locator('#proc-result').textContent(), '', 'no stale message under the question');
  await page.locator('.confirm button', { hasText: 'Cancel' }).click();

  await page.locator('#kill-method').selectOption('SIGKILL');
  const exited = new Promise((r) => p.once('exit', (code, sig) => r(sig)));
  await page.locator('#kill').click();
  await page.locator('#kill-confirm').click();
  assert.equal(await exited, 'SIGKILL');
  await page.locator('#proc-card .error').waitFor();
  await page.evaluate((pid) => { location.hash = '#/agent/local/process/' + pid; }, z.pid);
  await page.locator('#proc-card h2').waitFor();
  assert.equal(await page.locator('#kill-method').inputValue(), 'SIGKILL', 'still SIGKILL on the next card');

  const zpid = await until('the zombie', () => {
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        if (f[0] === 'Z' && Number(f[1]) === z.pid) return Number(d);
      } catch (e) { /* gone meanwhile */ }
    }
    return 0;
  });
  await page.evaluate((pid) => { location.hash = '#/agent/local/process/' + pid; }, zpid);
  await page.locator('#proc-state', { hasText: 'zombie' }).waitFor();
  assert.equal(await page.locator('#kill').isDisabled(), true);
  assert.equal(await page.locator('#pause').isDisabled(), true);
  assert.match(await txt(page, '#proc-card ul.reasons'), /Send signal: the process has exited \(zombie\)/);
  const ys = await page.$$eval('#proc-card .actions > *', (bs) => bs.map((b) => { const r = b.getBoundingClientRect(); return Math.round(r.top + r.height / 2); }));
  assert.equal(new Set(ys).size, 1, 'the reasons do not wrap the button row: ' + ys);
  await shot('30-process-zombie', page);
  await ctx.close();
});

test('the server goes away: "server unreachable", no live-looking bars; it comes back by itself', async () => {
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  await page.locator('section.agent[data-agent="local"][data-state="online"] .bars').waitFor();
  const down = new Promise((r) => T.server.once('exit', r));
  T.server.kill('SIGTERM');
  await down;
  await page.locator('#conn', { hasText: 'Server unreachable' }).waitFor({ timeout: 15000 });
  assert.equal(await page.locator('.bars').count(), 0, 'no bars from stale data');
  assert.equal(await page.locator('section.agent[data-state="online"]').count(), 0, 'no agent looks online');
  assert.match(await txt(page, '#live'), /server unreachable/);
  await shot('31-server-unreachable', page);
  T.server = startServer();
  await until('the server to listen again', async () => (await fetch(T.url + '/healthz')).ok);
  await page.locator('section.agent[data-agent="local"][data-state="online"] .bars').waitFor({ timeout: 30000 });
  assert.equal(await page.locator('#conn').isVisible(), false);
  await shot('32-server-back', page);
  await ctx.close();
  assert.deepEqual(U.dialogs, [], 'no dialog opened');
  assert.deepEqual(U.errors, [], 'no uncaught exception');
});

// ---- Issue 14 items 6 and 9: tokens, settings, usage, a port ----

test('tokens: mint one in the page, an agent connects with it at once (no SIGHUP), revoke it', async () => {
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  await page.locator('#nav-tokens').click();
  await page.locator('#tokens tr[data-token="local"]').waitFor();
  assert.equal(await page.locator('#tokens tr[data-token="op"]').count(), 0, 'operator tokens are not listed');
  await page.locator('#tok-name').fill('minted');
  await page.locator('#tok-mint').click();
  const tok = await page.locator('#new-token').inputValue();
  assert.match(tok, /^[0-9a-f]{64}\.[0-9a-f]{8}$/);
  assert.match(await page.locator('.newtoken').textContent(), /Shown this once[\s\S]*install\.sh \| sh -s -- --token-file minted\.token/);
  await shot('33-token-minted', page);
  await page.locator('#tokens tr[data-token="minted"]').waitFor();
  fs.writeFileSync(path.join(T.dir, 'minted.token'), tok + '\n', { mode: 0o600 });
  const m = fs.readFileSync(path.join(T.dir, 'server.log'), 'utf8').length;
  const a = start(['agent', '--server', `ws://127.0.0.1:${T.port}/`, '--token-file', path.join(T.dir, 'minted.token'),
    '--services', 'none', '--reconnect-min', '0.2', '--reconnect-max', '1'], {}, 'minted.log');
  await until('the minted agent online', async () => (await apiGet('/api/clients')).body.some((c) => c.name === 'minted' && c.online));
  assert.doesNotMatch(fs.readFileSync(path.join(T.dir, 'server.log'), 'utf8').slice(m), /SIGHUP/, 'no SIGHUP');
  await page.locator('#tokens tr[data-token="minted"] .badge', { hasText: 'online' }).waitFor({ timeout: 10000 }).catch(async () => {
    await page.locator('#nav-agents').click();
    await page.locator('#nav-tokens').click();
    await page.locator('#tokens tr[data-token="minted"] .badge', { hasText: 'online' }).waitFor();
  });
  await page.locator('#tokens tr[data-token="minted"] button[data-revoke]').click();
  assert.match(await txt(page, '#tokens tr[data-token="minted"] .confirm'), /Revoke minted's token\? The agent is connected/);
  await page.locator('#revoke-confirm').click();
  await until('the row gone', async () => (await page.locator('#tokens tr[data-token="minted"]').count()) === 0);
  await until('the agent dropped', async () => !(await apiGet('/api/clients')).body.some((c) => c.name === 'minted' && c.online));
  a.kill('SIGTERM');
  await ctx.close();
});

test('a scope without the tokens kind sees no Tokens page', async () => {
  const ro = execFileSync(NESTD, ['token', 'new', 'ro', '--role', 'operator', '--scope', 'can=read', '--tokens', path.join(T.dir, 'tokens')],
    { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  const ctx = await T.browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await ctx.newPage();
  await page.goto(T.url + '/');
  await page.locator('#token').fill(ro);
  await page.locator('form.login button[type=submit]').click();
  await page.locator('section.agent').first().waitFor();
  assert.equal(await page.locator('#nav-tokens').count(), 0);
  await page.evaluate(() => { location.hash = '#/tokens'; });
  assert.match(await txt(page, 'main .error'), /does not allow managing tokens/);
  await ctx.close();
});

test('settings: the unit applies everywhere and stays; the session; log out everywhere', async () => {
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  const mem = () => page.locator('section.agent[data-agent="local"] .bar-label', { hasText: 'Memory' }).textContent();
  await page.locator('section.agent[data-agent="local"] .bars').waitFor();
  assert.match(await mem(), /GiB|MiB/);
  await page.locator('#nav-settings').click();
  assert.match(await txt(page, '#set-name'), /^op$/);
  await until('the session\'s end', async () => /\d\d:\d\d/.test(await page.locator('#set-until').textContent()));
  await page.locator('#set-unit').selectOption('si');
  await shot('34-settings', page);
  await page.reload();
  await page.locator('#nav-agents').click();
  await page.locator('section.agent[data-agent="local"] .bars').waitFor();
  assert.match(await mem(), /\d (GB|MB)\b/, 'decimal units after a reload');
  // A second browser logged in as the same operator, then "everywhere".
  const other = await tab({ width: 800, height: 600 });
  await page.locator('#nav-settings').click();
  await page.locator('#logout-all').click();
  await page.locator('#token').waitFor();
  await other.page.reload();
  await other.page.locator('#token').waitFor({ timeout: 10000 });
  await other.ctx.close();
  await ctx.close();
});

test('usage: memory and storage by folder, in the chosen unit (obtain_user_usages)', async (t) => {
  const c = (await apiGet('/api/clients')).body.find((x) => x.name === 'local');
  if (!c.commands.includes('obtain_user_usages')) return t.skip('this agent does not offer obtain_user_usages (issue 10)');
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  await page.evaluate(() => { location.hash = '#/agent/local/usage'; });
  await page.locator('#usage-storage tbody tr').first().waitFor({ timeout: 20000 });
  const rows = await page.$$eval('#usage-storage tbody tr', (rs) => rs.map((r) => r.textContent));
  assert.match(rows[rows.length - 1], /^total/);
  assert.ok(rows.every((r) => /\d( [KMGT]?i?B|\.\d [KMGT]i?B)/.test(r)), 'sizes with units: ' + rows.slice(0, 3));
  assert.match(await txt(page, '#usage-resources'), /\S/);
  await page.locator('#usage-unit').selectOption('bytes');
  assert.match((await page.$$eval('#usage-storage tbody tr', (rs) => rs.map((r) => r.textContent))).pop(), /[\d,]+ B$/);
  await shot('35-usage', page);
  await ctx.close();
});

test('get a port: a free TCP port on the agent\'s machine (get_port)', async (t) => {
  const c = (await apiGet('/api/clients')).body.find((x) => x.name === 'local');
  if (!c.commands.includes('get_port')) return t.skip('this agent does not offer get_port (issue 10)');
  const { page, ctx } = await tab({ width: 1280, height: 860 });
  await page.evaluate(() => { location.hash = '#/agent/local/port'; });
  await page.locator('#get-port').click();
  const port = Number(await txt(page, '#port-number'));
  assert.ok(port > 0 && port < 65536, 'a port: ' + port);
  assert.match(await txt(page, '#port-text'), /Port \d+ is free to use!/);
  // Free indeed: this machine can listen on it now.
  await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => srv.close(resolve));
  });
  await shot('36-port', page);
  await ctx.close();
});
