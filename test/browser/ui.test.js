// test/browser/ui.test.js - the dashboard end to end: Debian's chromium,
// driven by playwright-core, against a real `nestd server` and `nestd agent`
// on loopback.  The agent manages services through test/stubs/systemctl,
// which records each call.  Screenshots of each view go to test/out/screens.
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

function startAgent() {
  const args = ['agent', '--server', `ws://127.0.0.1:${T.port}/`, '--token-file', path.join(T.dir, 'agent.token'),
    '--reconnect-min', '0.2', '--reconnect-max', '1', '--exec-timeout', '30', '--max-output', '4096'];
  const stub = path.join(ROOT, 'test', 'stubs', 'systemctl');
  if (fs.existsSync(stub)) args.push('--services', 'systemd', '--systemctl', stub);
  return start(args, { NESTD_STUB_LOG: T.stubLog }, 'agent.log');
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
  T.server = start(['server', '--listen', `127.0.0.1:${T.port}`, '--tokens', path.join(T.dir, 'tokens'),
    '--state-dir', T.dir], {}, 'server.log');
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
  const total = (await r.text()).length + (await js.text()).length + (await css.text()).length;
  assert.ok(total < 100 * 1024, `UI is ${total} bytes`);
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
  // Well formed, valid checksum, but unknown to the server.
  const unknown = execFileSync(NESTD, ['token', 'new', 'ghost', '--tokens', path.join(T.dir, 'other-tokens')],
    { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  await page.locator('#token').fill(unknown);
  await page.locator('form.login button[type=submit]').click();
  assert.match(await text('#login-msg .error'), /unknown or revoked token/);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
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
  assert.match(t, /Load/);
  assert.match(t, /Memory/);
  assert.match(t, /Disk/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('nestd.token')), T.op);
  assert.deepEqual(await T.ctx.cookies(), []);
  await shot('02-agents');
});

test('the process table sorts, filters and pages', async () => {
  const page = T.page;
  await page.locator('section.agent[data-agent="local"] h2 a').click();
  await page.locator('#procs tbody tr').first().waitFor();
  const pids = () => page.$$eval('#procs tbody tr', (rs) => rs.map((r) => Number(r.dataset.pid)));
  let p = await pids();
  assert.ok(p.length > 3);
  assert.deepEqual(p, [...p].sort((a, b) => a - b), 'ascending by pid first');
  await page.locator('th button[data-key="pid"]').click();
  p = await pids();
  assert.deepEqual(p, [...p].sort((a, b) => b - a), 'descending after a click');
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
    assert.equal(await page.locator('#svc-start').isDisabled(), false);
    assert.match(await page.locator('#svc-card').textContent(), /stop_service is not allowed/);
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
  assert.match(card, /2026-11-24 19:03:11/);
  assert.match(card, /1234/);
  await page.locator('#svc-start').click();
  assert.match(await text('#svc-result .ok'), /nginx\.service: start done/);
  await page.locator('#svc-card h2').waitFor();
  await page.locator('#svc-stop').click();
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

test('usage over time: charts of load and memory', async () => {
  const page = T.page;
  await go('#/agent/local/usage');
  await until('two samples', async () => (await page.locator('svg.chart polyline').count()) >= 4, 20000);
  const pts = await page.locator('svg.chart polyline').first().getAttribute('points');
  assert.ok(pts.split(' ').length >= 2);
  assert.match(await page.locator('.charts').textContent(), /Load average[\s\S]*Memory used/);
  await shot('14-usage');
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
  await page.goto(T.url + '/');
  await page.locator('#token').fill(T.op);
  await page.locator('form.login button[type=submit]').click();
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

test('phone width: no sideways scrolling of the page', async () => {
  const page = await T.ctx.newPage();   // same tab storage? no: sessionStorage is per tab
  page.on('dialog', (d) => { T.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => T.pageErrors.push(String(e)));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(T.url + '/');
  await page.locator('#token').fill(T.op);
  await page.locator('form.login button[type=submit]').click();
  await page.locator('section.agent .bars').waitFor();
  const wide = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(await wide() <= 1, 'agents view fits');
  await shot('15-phone-agents', page);
  await page.evaluate(() => { location.hash = '#/agent/local/processes'; });
  await page.locator('#procs tbody tr').first().waitFor();
  assert.ok(await wide() <= 1, 'processes view fits (the table scrolls inside its box)');
  await shot('16-phone-processes', page);
  await page.evaluate(() => { location.hash = '#/agent/local/process/1'; });
  await page.locator('#proc-card h2').waitFor();
  assert.ok(await wide() <= 1, 'card fits');
  await shot('17-phone-process-card', page);
  await page.close();
});

test('an agent that disconnects drops off, and its views say so in words', async () => {
  const page = T.page;
  await go('#/');
  await page.locator('section.agent[data-agent="local"]').waitFor();
  const gone = new Promise((r) => T.agent.once('exit', r));
  T.agent.kill('SIGTERM');
  await gone;
  await page.locator('main', { hasText: 'No agent is connected' }).waitFor({ timeout: 15000 });
  await shot('18-agents-none');
  await go('#/agent/local/processes');
  await page.locator('#proc-refresh').click();
  assert.match(await text('main .error'), /not connected/);
  await shot('19-agent-gone');
  T.agent = startAgent();
  await agentUp();
});

test('log out forgets the token; nothing broke along the way', async () => {
  const page = T.page;
  await page.locator('#logout').click();
  await page.locator('#token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('nestd.token')), null);
  assert.deepEqual(T.dialogs, [], 'no dialog opened');
  assert.deepEqual(T.pageErrors, [], 'no uncaught exception');
  // CSP violations and failed loads show up as console errors.  Expected: the
  // 401s of the bad-token test and the 404s of the disconnected agent.
  const bad = T.consoleErrors.filter((m) => !/^Failed to load resource: .* status of 40[14]\b/.test(m));
  assert.deepEqual(bad, [], 'no console errors');
});
