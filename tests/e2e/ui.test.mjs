// Browser tests of the web UI: Debian's chromium, driven by playwright-core, against the real
// keyward binary (KEYWARD_BINARY) on a free port with a temporary data dir.
//
// Screenshots of the sign-in page, the Tokens tab and the Add API Key dialog, at 1280×800 and
// 375×800, go to tests/e2e/out/ (ignored by git).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ADMIN_PASSWORD = 'admin-password-for-e2e';
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'out');
const binary = process.env.KEYWARD_BINARY;
// Under ctest, KEYWARD_TEST_ARTIFACTS names the folder the secrets scan of the integration
// suite reads after all tests: the server's data dir and log stay there, and every password,
// session token and key this file sees is recorded there (hex, one per line).
const artifacts = process.env.KEYWARD_TEST_ARTIFACTS;
let server; let base; let dataDir; let browser;

function rememberSecret(secret) {
  if (!artifacts || !secret) return;
  mkdirSync(join(artifacts, 'secrets'), { recursive: true });
  appendFileSync(join(artifacts, 'secrets', `e2e-${process.pid}.hex`),
    Buffer.from(secret).toString('hex') + '\n');
}

function startKeyward() {
  const parent = artifacts ? join(artifacts, 'files') : tmpdir();
  mkdirSync(parent, { recursive: true });
  dataDir = mkdtempSync(join(parent, 'keyward-e2e-'));
  rememberSecret(ADMIN_PASSWORD);
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dataDir, 'data')],
    { env: { ...process.env, KEYWARD_ADMIN_PASSWORD: ADMIN_PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logFile = createWriteStream(join(dataDir, 'server.log'));
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`keyward did not start:\n${log}`)), 15000);
    const onData = (chunk) => {
      logFile.write(chunk);
      log += chunk;
      const m = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`keyward exited (${code}):\n${log}`)));
  });
}

async function apiAs(token, method, path, body) {
  const res = await fetch(base + path, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function login(user, password) {
  const res = await fetch(`${base}/api/v1/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password }),
  });
  assert.equal(res.status, 200);
  rememberSecret(password);
  const { token } = await res.json();
  rememberSecret(token);
  return token;
}

async function newPage(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') console.error('browser console:', m.text()); });
  return page;
}

async function signIn(page, user, password) {
  await page.goto(base + '/');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: /Welcome/ }).waitFor();
}

before(async () => {
  assert.ok(binary, 'KEYWARD_BINARY must name the keyward binary');
  mkdirSync(outDir, { recursive: true });
  const started = await startKeyward();
  server = started.child;
  base = started.url;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dataDir && !artifacts) rmSync(dataDir, { recursive: true, force: true });
});

test('admin adds presto-driver for 7 days, reveals, copies, uses and deletes it', async () => {
  const page = await newPage();
  await page.goto(base + '/');
  await page.getByLabel('Username').waitFor();
  await page.screenshot({ path: join(outDir, 'signin-1280.png') });
  await signIn(page, 'admin', ADMIN_PASSWORD);

  await page.getByRole('link', { name: 'Profile', exact: true }).click();
  await page.getByRole('tab', { name: 'Tokens' }).click();
  await page.getByRole('button', { name: '+ Add API Key' }).waitFor();
  await page.screenshot({ path: join(outDir, 'tokens-1280.png') });

  await page.getByRole('button', { name: '+ Add API Key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add API Key' });
  await dialog.getByLabel('Name').fill('presto-driver');
  await dialog.getByLabel('Validity period').selectOption({ label: '7 days' });
  await page.screenshot({ path: join(outDir, 'add-key-1280.png') });
  await dialog.getByRole('button', { name: 'Save' }).click();

  const row = page.locator('tr[data-key="presto-driver"]');
  await row.waitFor();
  const expiration = await row.locator('[data-expiration]').getAttribute('data-expiration');
  const ahead = (Date.parse(expiration) - Date.now()) / 3600000;
  assert.ok(Math.abs(ahead - 7 * 24) < 1, `expires ${ahead} h ahead, not 168`);
  const masked = await row.locator('button.token').textContent();
  assert.match(masked, /^kw_.{4}….{4}$/);

  await row.getByRole('button', { name: 'Show key presto-driver' }).click();
  await row.getByRole('button', { name: 'Hide key presto-driver' }).waitFor();
  const shown = await row.locator('button.token').textContent();
  const session = await login('admin', ADMIN_PASSWORD);
  const fromApi = await apiAs(session, 'GET', '/api/v1/users/me/apikeys/presto-driver/token');
  rememberSecret(fromApi.json.token);
  assert.equal(shown, fromApi.json.token, 'the eye shows the key the API returns');
  await page.screenshot({ path: join(outDir, 'tokens-with-key-1280.png') });

  await row.locator('button.token').click();
  await page.getByText('Copied', { exact: true }).waitFor();
  const clipboard = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(clipboard, fromApi.json.token);

  const authOk = await fetch(`${base}/auth`, { headers: { Authorization: `Bearer ${clipboard}` } });
  assert.equal(authOk.status, 200);
  assert.equal(authOk.headers.get('x-keyward-user'), 'admin');

  await row.getByRole('button', { name: 'Delete key presto-driver' }).click();
  await page.getByRole('dialog', { name: 'Delete API key' }).getByRole('button', { name: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  const authGone = await fetch(`${base}/auth`, { headers: { Authorization: `Bearer ${clipboard}` } });
  assert.equal(authGone.status, 401);
  await page.context().close();
});

test('screens at 375 px wide', async () => {
  const page = await newPage({ width: 375, height: 800 });
  await page.goto(base + '/');
  await page.getByLabel('Username').waitFor();
  await page.screenshot({ path: join(outDir, 'signin-375.png') });
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/#/profile/tokens');
  await page.getByRole('button', { name: '+ Add API Key' }).waitFor();
  await page.screenshot({ path: join(outDir, 'tokens-375.png') });
  await page.getByRole('button', { name: '+ Add API Key' }).click();
  await page.getByRole('dialog', { name: 'Add API Key' }).waitFor();
  await page.screenshot({ path: join(outDir, 'add-key-375.png') });
  // Nothing overflows the narrow screen sideways.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await page.context().close();
});

test('a wrong password shows an error and no session', async () => {
  const page = await newPage();
  await page.goto(base + '/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
  const cookies = await page.context().cookies();
  assert.equal(cookies.filter((c) => c.name === 'keyward_session').length, 0);
  await page.context().close();
});

test('a non-operator sees no Users page and is refused when opening it', async () => {
  const admin = await login('admin', ADMIN_PASSWORD);
  const created = await apiAs(admin, 'POST', '/api/v1/users',
    { id: 'dana', name: 'Dana', type: 'person', password: 'dana-password-1' });
  rememberSecret('dana-password-1');
  assert.equal(created.status, 201);
  const page = await newPage();
  await signIn(page, 'dana', 'dana-password-1');
  assert.equal(await page.getByRole('link', { name: 'Users' }).isVisible(), false);
  await page.goto(base + '/#/users');
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  const status = await page.evaluate(async () => (await fetch('/api/v1/users')).status);
  assert.equal(status, 403);
  const cookie = (await page.context().cookies()).find((c) => c.name === 'keyward_session');
  assert.ok(cookie.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');
  await page.context().close();
});

test('the add-key flow works by keyboard alone', async () => {
  const page = await newPage();
  await page.goto(base + '/');
  await page.getByLabel('Username').waitFor();
  await page.keyboard.type('admin');          // the username field has focus
  await page.keyboard.press('Tab');
  await page.keyboard.type(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /Welcome/ }).waitFor();
  // Tab to "Profile → Tokens" and follow it.
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.textContent === 'Profile → Tokens')) break;
  }
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: '+ Add API Key' }).waitFor();
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.id === 'add-key')) break;
  }
  const focusVisible = await page.evaluate(() => getComputedStyle(document.activeElement).boxShadow);
  assert.notEqual(focusVisible, 'none', 'the focused button shows a focus ring');
  await page.keyboard.press('Enter');
  await page.getByRole('dialog', { name: 'Add API Key' }).waitFor();
  await page.keyboard.type('keyboard-key');   // the name field has focus
  await page.keyboard.press('Tab');           // validity period
  await page.keyboard.press('ArrowDown');     // 7 days → 30 days
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');           // Save
  await page.keyboard.press('Enter');
  const row = page.locator('tr[data-key="keyboard-key"]');
  await row.waitFor();
  const expiration = await row.locator('[data-expiration]').getAttribute('data-expiration');
  const days = (Date.parse(expiration) - Date.now()) / 86400000;
  assert.ok(Math.abs(days - 30) < 0.1, `expires in ${days} days, not 30`);
  await page.context().close();
});

test('a cross-site form POST carrying only the cookie is refused', async () => {
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  // A hostile page on another origin posts a form to Keyward; the browser adds the cookie.
  const hostile = createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html');
    res.end(`<form method="POST" action="${base}/api/v1/users/me/apikeys" enctype="text/plain">
      <input name='{"name":"planted","x":"' value='"}'></form>
      <script>document.forms[0].submit()</script>`);
  });
  await new Promise((r) => hostile.listen(0, '127.0.0.1', r));
  const hostileUrl = `http://127.0.0.1:${hostile.address().port}/`;
  const posted = page.waitForResponse((r) => r.url().startsWith(base + '/api/v1/'));
  await page.goto(hostileUrl);
  const response = await posted;
  assert.equal(response.status(), 403);
  hostile.close();
  const admin = await login('admin', ADMIN_PASSWORD);
  const keys = await apiAs(admin, 'GET', '/api/v1/users/me/apikeys');
  assert.equal(keys.json.filter((k) => k.name === 'planted').length, 0, 'no key was created');
  await page.context().close();
});
