// Browser tests of the web UI: Debian's chromium, driven by playwright-core, against the real
// keyward binary (KEYWARD_BINARY) on a free port with a temporary data dir.
//
// Screenshots of the sign-in page, the Tokens tab and the Add API Key dialog, at 1280×800 and
// 375×800, go to tests/e2e/out/ (ignored by git). Issue 15's tests (rotation, disable, edit,
// badges, the Webhooks page) are at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
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
// A second server, started by the test that needs it: --reveal=false --default-validity=36h.
let noReveal;

function rememberSecret(secret) {
  if (!artifacts || !secret) return;
  mkdirSync(join(artifacts, 'secrets'), { recursive: true });
  appendFileSync(join(artifacts, 'secrets', `e2e-${process.pid}.hex`),
    Buffer.from(secret).toString('hex') + '\n');
}

// Starts keyward with `extraArgs` in a new temporary folder: {child, url, dir}.
function startKeyward(extraArgs = []) {
  const parent = artifacts ? join(artifacts, 'files') : tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'keyward-e2e-'));
  rememberSecret(ADMIN_PASSWORD);
  const child = spawn(binary,
    ['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'), ...extraArgs],
    { env: { ...process.env, KEYWARD_ADMIN_PASSWORD: ADMIN_PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logFile = createWriteStream(join(dir, 'server.log'));
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`keyward did not start:\n${log}`)), 15000);
    const onData = (chunk) => {
      logFile.write(chunk);
      log += chunk;
      const m = log.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1], dir }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`keyward exited (${code}):\n${log}`)));
  });
}

async function apiAs(token, method, path, body, origin = base) {
  const res = await fetch(origin + path, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function login(user, password, origin = base) {
  const res = await fetch(`${origin}/api/v1/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password }),
  });
  assert.equal(res.status, 200);
  rememberSecret(password);
  const { token } = await res.json();
  rememberSecret(token);
  return token;
}

async function newPage(viewport = { width: 1280, height: 800 }, origin = base) {
  const context = await browser.newContext({ viewport });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') console.error('browser console:', m.text()); });
  return page;
}

async function signIn(page, user, password, origin = base) {
  await page.goto(origin + '/');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: /Welcome/ }).waitFor();
}

// Waits for the key `name` to be listed after a Save; fails at once with the dialog's message
// when the server refuses it instead.
async function createdRow(page, name) {
  const row = page.locator(`tr[data-key="${name}"]`);
  const refusal = page.getByRole('dialog', { name: 'Add API Key' }).getByRole('alert').filter({ hasText: /./ });
  await row.or(refusal).first().waitFor();
  if (!await row.count()) assert.fail(`the dialog says: ${await refusal.textContent()}`);
  return row;
}

before(async () => {
  assert.ok(binary, 'KEYWARD_BINARY must name the keyward binary');
  mkdirSync(outDir, { recursive: true });
  // Webhooks to the test's receiver on 127.0.0.1 need --webhook-allow-private.
  const started = await startKeyward(['--webhook-allow-private']);
  server = started.child;
  base = started.url;
  dataDir = started.dir;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  noReveal?.child.kill('SIGTERM');
  if (dataDir && !artifacts) rmSync(dataDir, { recursive: true, force: true });
  if (noReveal && !artifacts) rmSync(noReveal.dir, { recursive: true, force: true });
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

// The lines a block's text takes: the distinct tops of its text's boxes.
function textLines(locator) {
  return locator.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  });
}

test('screens at 375 px wide: each key is a card and its key wraps in three lines at most', async () => {
  const admin = await login('admin', ADMIN_PASSWORD);
  const made = await apiAs(admin, 'POST', '/api/v1/users/me/apikeys', { name: 'narrow-key' });
  assert.equal(made.status, 201);
  rememberSecret(made.json.token);
  const page = await newPage({ width: 375, height: 800 });
  await page.goto(base + '/');
  await page.getByLabel('Username').waitFor();
  await page.screenshot({ path: join(outDir, 'signin-375.png') });
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/#/profile/tokens');
  const row = page.locator('tr[data-key="narrow-key"]');
  await row.getByRole('button', { name: 'Show key narrow-key' }).click();
  await row.getByRole('button', { name: 'Hide key narrow-key' }).waitFor();
  const token = row.locator('button.token');
  assert.equal(await token.textContent(), made.json.token);
  for (const [what, el] of [['card', row], ['key', token]]) {
    const box = await el.boundingBox();
    assert.ok(box.width >= 0.8 * 375, `the ${what} is ${box.width}px wide, under 80 % of 375`);
  }
  const lines = await textLines(token);
  assert.ok(lines >= 1 && lines <= 3, `the key takes ${lines} lines`);
  for (const label of ['Type', 'Expiration', 'Created', 'Last used']) {
    const shown = await row.locator(`td[data-label="${label}"]`).isVisible();
    assert.ok(shown, `the card shows ${label}`);
  }
  await page.screenshot({ path: join(outDir, 'tokens-375.png'), fullPage: true });
  await page.getByRole('button', { name: '+ Add API Key' }).click();
  await page.getByRole('dialog', { name: 'Add API Key' }).waitFor();
  await page.screenshot({ path: join(outDir, 'add-key-375.png') });
  // Nothing overflows the narrow screen sideways, the dialog's Permissions section included.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  const dialog = page.getByRole('dialog', { name: 'Add API Key' });
  await dialog.getByLabel('Service scopes').fill('a-rather-long-service-name:with-a-long-permission-name.and-more');
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  const inner = await dialog.evaluate((el) => el.scrollWidth - el.clientWidth);
  assert.ok(inner <= 0, `the dialog's content is ${inner}px wider than the dialog`);
  await dialog.getByText('Allowed from').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(outDir, 'add-key-permissions-375.png') });
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
  assert.equal(await page.getByRole('link', { name: 'Webhooks' }).isVisible(), false);
  await page.goto(base + '/#/users');
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  const status = await page.evaluate(async () => (await fetch('/api/v1/users')).status);
  assert.equal(status, 403);
  await page.goto(base + '/#/webhooks');
  await page.getByText('The Webhooks page is for operators.').waitFor();
  const hooks = await page.evaluate(async () => (await fetch('/api/v1/webhooks')).status);
  assert.equal(hooks, 403);
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
  await page.keyboard.press('Tab');           // the description
  await page.keyboard.type('typed by keyboard');
  await page.keyboard.press('Tab');           // validity period: the server's default, 1 day
  await page.keyboard.press('ArrowDown');     // → 7 days
  await page.keyboard.press('ArrowDown');     // → 30 days
  await page.keyboard.press('Tab');           // the first permission: "See my keys"
  assert.equal(await page.evaluate(() => document.activeElement.value), 'keys:read');
  await page.keyboard.press('Space');
  const focused = () => page.evaluate(() => document.activeElement.id || document.activeElement.getAttribute('aria-label'));
  const tabTo = async (what) => {
    for (let i = 0; i < 30 && await focused() !== what; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(), what);
  };
  // Service scopes as chips: Enter adds one, Backspace in the empty field removes the last,
  // and each chip's remove button works by keyboard and gives the focus back to the field.
  await tabTo('key-scope-input');
  for (const scope of ['extra:x', 'minerva:query', 'other:y']) {
    await page.keyboard.type(scope);
    await page.keyboard.press('Enter');
  }
  await page.keyboard.press('Backspace');
  await tabTo('Remove scope extra:x');
  await page.keyboard.press('Enter');
  assert.equal(await focused(), 'key-scope-input');
  const chips = await page.locator('.chips li').allTextContents();
  assert.deepEqual(chips.map((c) => c.replace('×', '')), ['minerva:query']);
  for (let i = 0; i < 30 && await page.evaluate(() => document.activeElement.textContent) !== 'Save'; i++) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.press('Enter');
  const row = await createdRow(page, 'keyboard-key');
  assert.equal(await row.locator('[data-grant]').textContent(), 'keys:read, minerva:query');
  assert.equal(await row.locator('[data-description]').textContent(), 'typed by keyboard');
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
  try {
    const hostileUrl = `http://127.0.0.1:${hostile.address().port}/`;
    // The form's POST, not a request the signed-in page still had in flight (its key list, 200).
    const posted = page.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url() === `${base}/api/v1/users/me/apikeys`,
    );
    await page.goto(hostileUrl);
    const response = await posted;
    assert.equal(response.status(), 403);
  } finally {
    hostile.close(); // else a failure above leaves it listening and the test process never ends
  }
  const admin = await login('admin', ADMIN_PASSWORD);
  const keys = await apiAs(admin, 'GET', '/api/v1/users/me/apikeys');
  assert.equal(keys.json.filter((k) => k.name === 'planted').length, 0, 'no key was created');
  await page.context().close();
});

test('the Add API Key dialog defaults to the server default; counted phrases are singular at 1', async () => {
  const settings = await (await fetch(`${base}/api/v1/settings`)).json();
  const defaultHours = settings.default_validity_seconds / 3600;
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/#/profile/tokens');
  await page.getByRole('button', { name: '+ Add API Key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add API Key' });
  const validity = dialog.getByLabel('Validity period');
  assert.equal(await validity.inputValue(), `${defaultHours}h`);
  assert.equal(await validity.locator('option:checked').textContent(), '1 day (default)');
  await dialog.getByLabel('Name').fill('default-validity');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const row = page.locator('tr[data-key="default-validity"]');
  await row.waitFor();
  const expiration = await row.locator('[data-expiration]').getAttribute('data-expiration');
  const ahead = (Date.parse(expiration) - Date.now()) / 1000;
  assert.ok(Math.abs(ahead - settings.default_validity_seconds) < 60, `expires ${ahead} s ahead`);
  assert.equal(await row.locator('td[data-label="Expiration"] small').textContent(), 'in 1 day');
  // Created and Last used are shown; a key never used says so.
  assert.match(await row.locator('td[data-label="Created"]').textContent(), /^\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  assert.equal(await row.locator('td[data-label="Last used"]').textContent(), 'never used');

  await page.getByRole('button', { name: '+ Add API Key' }).click();
  await dialog.getByLabel('Name').fill('one-hour');
  await dialog.getByLabel('Validity period').selectOption({ label: '1 hour' });
  await dialog.getByRole('button', { name: 'Save' }).click();
  const hourRow = page.locator('tr[data-key="one-hour"]');
  await hourRow.waitFor();
  assert.equal(await hourRow.locator('td[data-label="Expiration"] small').textContent(), 'in 1 hour');
  const text = await page.locator('main').innerText();
  assert.doesNotMatch(text, /\b1 (second|minute|hour|day|API key)s\b/);
  await page.context().close();
});

test('a custom validity that is not a whole number of hours within the maximum is refused', async () => {
  const settings = await (await fetch(`${base}/api/v1/settings`)).json();
  const maxHours = Math.floor(settings.max_validity_seconds / 3600);
  const page = await newPage();
  const posted = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/apikeys')) posted.push(r.postDataJSON()); });
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/#/profile/tokens');
  await page.getByRole('button', { name: '+ Add API Key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add API Key' });
  await dialog.getByLabel('Name').fill('custom-hours');
  await dialog.getByLabel('Validity period').selectOption({ label: 'Custom (hours)' });
  const hours = dialog.getByLabel(/^Hours/);
  for (const bad of ['', '2.5', '0', '-3', '1e2', String(maxHours + 1)]) {
    await hours.fill(bad);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText(`Enter a whole number of hours from 1 to ${maxHours}.`).waitFor();
    assert.equal(await hours.getAttribute('aria-invalid'), 'true', `"${bad}" is marked invalid`);
    assert.ok(await dialog.isVisible(), `"${bad}" keeps the dialog open`);
  }
  await page.screenshot({ path: join(outDir, 'add-key-custom-refused-1280.png') });
  assert.deepEqual(posted, [], 'nothing was sent');
  await hours.fill('3');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await page.locator('tr[data-key="custom-hours"]').waitFor();
  assert.deepEqual(posted, [{ name: 'custom-hours', duration: '3h' }]);
  await page.context().close();
});

test('the profile tabs follow the WAI-ARIA tabs pattern, keyboard included', async () => {
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/#/profile');
  const details = page.getByRole('tab', { name: 'Details' });
  const tokens = page.getByRole('tab', { name: 'Tokens' });
  await details.waitFor();
  assert.equal(await page.getByRole('tablist', { name: 'Profile' }).count(), 1);
  const expectSelected = async (on, off, hash) => {
    assert.equal(await on.getAttribute('aria-selected'), 'true');
    assert.equal(await off.getAttribute('aria-selected'), 'false');
    assert.equal(await on.getAttribute('tabindex'), '0');
    assert.equal(await off.getAttribute('tabindex'), '-1');
    assert.ok(await on.evaluate((el) => el === document.activeElement), 'the selected tab has focus');
    const panel = page.locator(`#${await on.getAttribute('aria-controls')}`);
    assert.equal(await panel.getAttribute('role'), 'tabpanel');
    assert.equal(await panel.getAttribute('aria-labelledby'), await on.getAttribute('id'));
    assert.ok(await panel.isVisible());
    assert.ok(!await page.locator(`#${await off.getAttribute('aria-controls')}`).isVisible());
    assert.equal(new URL(page.url()).hash, hash);
  };
  await details.focus();
  await page.keyboard.press('ArrowRight');
  await expectSelected(tokens, details, '#/profile/tokens');
  await page.getByRole('button', { name: '+ Add API Key' }).waitFor();
  await page.keyboard.press('ArrowRight');   // wraps
  await expectSelected(details, tokens, '#/profile');
  await page.keyboard.press('ArrowLeft');    // wraps
  await expectSelected(tokens, details, '#/profile/tokens');
  await page.keyboard.press('Home');
  await expectSelected(details, tokens, '#/profile');
  await page.keyboard.press('End');
  await expectSelected(tokens, details, '#/profile/tokens');
  // Tab leaves the tab list for the panel: only the selected tab is a tab stop.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), await tokens.getAttribute('aria-controls'));
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  assert.notEqual(await page.evaluate(() => document.activeElement.getAttribute('role')), 'tab');
  await page.context().close();
});

test('the Users page follows the server: not a look-alike tag, but the operator role', async () => {
  const admin = await login('admin', ADMIN_PASSWORD);
  const created = await apiAs(admin, 'POST', '/api/v1/users',
    { id: 'erin', name: 'Erin', type: 'person', password: 'erin-password-1' });
  rememberSecret('erin-password-1');
  assert.equal(created.status, 201);
  for (const tag of ['roles:id:operators', 'roles:id:data-dev']) {
    assert.equal((await apiAs(admin, 'POST', '/api/v1/users/erin/tags', { tag })).status, 200);
  }
  // The UI does not decide by itself who is an operator: no script it serves names the tag.
  for (const file of ['app.js', 'chart.js', 'grant.js', 'keyedit.js', 'keys.js', 'ui.js', 'usage.js', 'webhooks.js']) {
    const source = await (await fetch(`${base}/assets/${file}`)).text();
    assert.ok(source.length > 0 && !source.includes('roles:id:operator'), `${file} reads no tags`);
  }
  const page = await newPage();
  await signIn(page, 'erin', 'erin-password-1');
  const me = await page.evaluate(async () => (await fetch('/api/v1/users/me')).json());
  assert.equal(me.can_manage_users, false);
  assert.equal(await page.getByRole('link', { name: 'Users', exact: true }).isVisible(), false);
  assert.equal(await page.getByRole('link', { name: 'Manage users' }).count(), 0);

  const tagged = await apiAs(admin, 'POST', '/api/v1/users/erin/tags', { tag: 'roles:id:operator' });
  assert.equal(tagged.status, 200);
  await page.reload();
  await page.getByRole('heading', { name: /Welcome/ }).waitFor();
  await page.getByRole('link', { name: 'Manage users' }).waitFor();
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  await page.locator('tr[data-user="erin"]').waitFor();
  await page.getByLabel('User ID').fill('erin-app');
  await page.getByLabel('Name', { exact: true }).fill('Erin app');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByText('User created', { exact: true }).waitFor();
  await page.locator('tr[data-user="erin-app"]').waitFor();
  await page.context().close();
});

test('with --reveal=false: no eye, nothing masked to copy, and the new key is shown once', async () => {
  noReveal = await startKeyward(['--reveal=false', '--default-validity=36h']);
  const origin = noReveal.url;
  const settings = await (await fetch(`${origin}/api/v1/settings`)).json();
  assert.equal(settings.reveal, false);
  const page = await newPage({ width: 1280, height: 800 }, origin);
  await signIn(page, 'admin', ADMIN_PASSWORD, origin);
  await page.getByText('This server shows each key once').waitFor();
  await page.goto(origin + '/#/profile/tokens');
  await page.getByRole('button', { name: '+ Add API Key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add API Key' });
  // 36 hours is no preset: the server's default is added to the choices, and chosen.
  assert.equal(await dialog.getByLabel('Validity period').inputValue(), '36h');
  assert.equal(await dialog.getByLabel('Validity period').locator('option:checked').textContent(), '36 hours (default)');
  // The custom field starts at the server's default too.
  await dialog.getByLabel('Validity period').selectOption({ label: 'Custom (hours)' });
  assert.equal(await dialog.getByLabel(/^Hours/).inputValue(), '36');
  await dialog.getByLabel('Validity period').selectOption('36h');
  await dialog.getByLabel('Name').fill('once');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const banner = page.locator('[data-created-banner]');
  await banner.waitFor();
  assert.match(await banner.textContent(), /shown only now: copy it now/);
  const full = await banner.locator('button.token').textContent();
  rememberSecret(full);
  const row = page.locator('tr[data-key="once"]');
  await row.waitFor();
  assert.equal(await row.locator('td[data-label="Expiration"] small').textContent(), 'in 36 hours');
  await page.screenshot({ path: join(outDir, 'tokens-no-reveal-1280.png') });
  assert.equal(await page.getByRole('button', { name: /^Show key/ }).count(), 0, 'no eye icon');
  const buttons = await row.getByRole('button').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
  assert.deepEqual(buttons, ['Rotate key once', 'Disable key once', 'Edit key once', 'Usage of key once', 'Delete key once'],
    'the actions only: nothing to reveal or copy');
  assert.match(await row.locator('.token').textContent(), /^kw_.{4}….{4}$/);
  const reveals = [];
  page.on('request', (r) => { if (r.url().endsWith('/token')) reveals.push(r.url()); });
  await row.locator('.token').click();
  await banner.locator('button.token').click();
  await page.getByText('Copied', { exact: true }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), full);
  assert.deepEqual(reveals, [], 'the page never asks for a reveal');
  const auth = await fetch(`${origin}/auth`, { headers: { Authorization: `Bearer ${full}` } });
  assert.equal(auth.status, 200);
  await page.context().close();
});

// The Add API Key dialog's Permissions section as a non-operator would use it.
test('a key gets only the permissions chosen in the dialog, and its summary says so', async () => {
  const admin = await login('admin', ADMIN_PASSWORD);
  const made = await apiAs(admin, 'POST', '/api/v1/users',
    { id: 'frank', name: 'Frank', type: 'person', password: 'frank-password-1' });
  rememberSecret('frank-password-1');
  assert.equal(made.status, 201);
  for (const tag of ['team:x', 'team:y']) {
    assert.equal((await apiAs(admin, 'POST', '/api/v1/users/frank/tags', { tag })).status, 200);
  }
  const settings = await (await fetch(`${base}/api/v1/settings`)).json();
  const page = await newPage();
  const posted = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/apikeys')) posted.push(r.postDataJSON()); });
  await signIn(page, 'frank', 'frank-password-1');
  await page.goto(base + '/#/profile/tokens');
  await page.getByRole('button', { name: '+ Add API Key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add API Key' });
  await dialog.getByRole('group', { name: 'Permissions' }).waitFor();

  // Keyward's scopes, all off; the operator ones cannot be ticked by a non-operator.
  const words = ['See my keys', 'Create and delete keys', 'Reveal keys', 'Read users', 'Manage users',
    'Read the audit log', 'Check other keys (authorize)', 'Issue tokens', 'Read webhooks',
    'Manage webhooks', "Read everyone's usage"];
  const operatorOnly = new Set(['Read users', 'Manage users', 'Read webhooks', 'Manage webhooks',
    "Read everyone's usage"]);
  assert.equal(await dialog.getByRole('group', { name: 'Keyward scopes' }).getByRole('checkbox').count(),
    words.length, 'every Keyward scope, and only those');
  for (const w of words) {
    const box = dialog.getByRole('checkbox', { name: w });
    assert.equal(await box.isChecked(), false, `${w} starts off`);
    assert.equal(await box.isDisabled(), operatorOnly.has(w), `${w} enabled?`);
  }
  const hint = await dialog.getByRole('checkbox', { name: 'Manage users' }).getAttribute('aria-describedby');
  assert.match(await dialog.locator(`#${hint}`).textContent(), /need an operator/);
  // The owner's tags, all on.
  for (const t of ['team:x', 'team:y']) assert.equal(await dialog.getByRole('checkbox', { name: t }).isChecked(), true);

  await dialog.getByLabel('Name').fill('scoped-key');
  await dialog.getByRole('checkbox', { name: 'See my keys' }).check();
  const scopeInput = dialog.getByLabel('Service scopes');
  await scopeInput.fill('Bad Scope!');
  await scopeInput.press('Enter');
  await dialog.getByText('A scope is 1 to 64 of a-z, 0-9 and : . _ -').waitFor();
  assert.equal(await scopeInput.getAttribute('aria-invalid'), 'true');
  await scopeInput.fill('minerva:query');
  await scopeInput.press('Enter');
  await dialog.locator('.chips li[data-scope="minerva:query"]').waitFor();
  assert.equal(await scopeInput.getAttribute('aria-invalid'), null);
  await dialog.getByRole('checkbox', { name: 'team:y' }).uncheck();
  await dialog.getByLabel('Allowed from').fill('127.0.0.0/8');
  await page.screenshot({ path: join(outDir, 'add-key-permissions-1280.png') });
  await dialog.getByRole('button', { name: 'Save' }).click();

  const row = await createdRow(page, 'scoped-key');
  assert.deepEqual(posted, [{
    name: 'scoped-key', duration: `${settings.default_validity_seconds / 3600}h`,
    scopes: ['keys:read', 'minerva:query'], tags: ['team:x'], allowed_addresses: ['127.0.0.0/8'],
  }]);
  assert.equal(await row.locator('[data-grant]').textContent(),
    'keys:read, minerva:query · tags: team:x · from 127.0.0.0/8');
  assert.equal(await row.locator('[data-full-access]').count(), 0);
  await page.screenshot({ path: join(outDir, 'tokens-scoped-1280.png') });

  // Reveal and copy still work; the key is taken from the page.
  await row.getByRole('button', { name: 'Show key scoped-key' }).click();
  await row.getByRole('button', { name: 'Hide key scoped-key' }).waitFor();
  const key = await row.locator('button.token').textContent();
  rememberSecret(key);
  assert.match(key, /^kw_/);
  await row.locator('button.token').click();
  await page.getByText('Copied', { exact: true }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);

  // The key has exactly its grant: keys:read lists, but creating a key needs keys:write.
  const create = await apiAs(key, 'POST', '/api/v1/users/me/apikeys', { name: 'child' });
  assert.equal(create.status, 403);
  assert.match(create.json.error.message, /keys:write/);
  const list = await apiAs(key, 'GET', '/api/v1/users/me/apikeys');
  assert.equal(list.status, 200);
  const listed = list.json.find((k) => k.name === 'scoped-key');
  assert.deepEqual([listed.scopes, listed.tags, listed.allowed_addresses, listed.full_access],
    [['keys:read', 'minerva:query'], ['team:x'], ['127.0.0.0/8'], false]);
  assert.equal(list.json.filter((k) => k.name === 'child').length, 0);
  await page.context().close();
});

test('the server refuses a grant: its message is shown in the dialog, nothing is made', async () => {
  const admin = await login('admin', ADMIN_PASSWORD);
  const page = await newPage();
  const posted = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/apikeys')) posted.push(r.postDataJSON()); });
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/#/profile/tokens');
  await page.getByRole('button', { name: '+ Add API Key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add API Key' });
  await dialog.getByLabel('Name').fill('refused-key');
  // An operator may give operator scopes, but only to a key that presents the operator tag.
  const manage = dialog.getByRole('checkbox', { name: 'Manage users' });
  assert.equal(await manage.isDisabled(), false);
  await manage.check();
  await dialog.getByRole('checkbox', { name: 'roles:id:operator' }).uncheck();
  await dialog.getByRole('button', { name: 'Save' }).click();
  // Save clears the dialog's message at once; the next one is the server's answer.
  const alert = dialog.getByRole('alert');
  await alert.filter({ hasText: /./ }).waitFor();
  assert.match(await alert.textContent(), /users:write.*operator/);
  await page.screenshot({ path: join(outDir, 'add-key-refused-1280.png') });
  // A scope of the right form in Keyward's own namespace that is not one of Keyward's: 400.
  await dialog.getByRole('checkbox', { name: 'roles:id:operator' }).check();
  await manage.uncheck();
  await dialog.getByLabel('Service scopes').fill('keys:reed');
  await dialog.getByRole('button', { name: 'Add', exact: true }).click();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await alert.filter({ hasText: /./ }).waitFor();
  assert.match(await alert.textContent(), /keys:reed/);
  assert.ok(await dialog.isVisible());
  assert.deepEqual(posted.map((b) => [b.scopes, b.tags]),
    [[['users:write'], []], [['keys:reed'], undefined]]);
  const keys = await apiAs(admin, 'GET', '/api/v1/users/me/apikeys');
  assert.equal(keys.json.filter((k) => k.name === 'refused-key').length, 0, 'nothing was stored');
  // Without the chip the key is made, with no scopes.
  await dialog.getByRole('button', { name: 'Remove scope keys:reed' }).click();
  await dialog.getByRole('button', { name: 'Save' }).click();
  const row = await createdRow(page, 'refused-key');
  assert.equal(await row.locator('[data-grant]').textContent(), 'no scopes');
  await page.context().close();
});

// Keys made before scopes existed: the V003 migration marks every such row full_access = 1.
// The same is done here to a key made now, in the server's own SQLite database (with the
// sqlite3 command, one of make test's packages), as the migration does.
test('a key from before scopes is flagged as full access in the list', async () => {
  const admin = await login('admin', ADMIN_PASSWORD);
  const made = await apiAs(admin, 'POST', '/api/v1/users/me/apikeys', { name: 'old-driver' });
  assert.equal(made.status, 201);
  rememberSecret(made.json.token);
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(dataDir, 'data', 'keyward.db'),
    "UPDATE api_keys SET full_access = 1 WHERE name = 'old-driver' AND user_id = 'admin'"]);
  const listed = (await apiAs(admin, 'GET', '/api/v1/users/me/apikeys')).json;
  assert.equal(listed.find((k) => k.name === 'old-driver').full_access, true);
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/#/profile/tokens');
  const row = page.locator('tr[data-key="old-driver"]');
  await row.waitFor();
  const flag = row.locator('[data-full-access]');
  assert.ok(await flag.isVisible(), 'the flag is shown');
  assert.equal(await flag.innerText(), '⚠ Full access — created before scopes; replace it');
  const colors = await flag.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el.closest('td')).color]);
  assert.notEqual(colors[0], colors[1], 'the flag stands out from the row');
  // Keys made now are not flagged.
  assert.equal(await page.locator('[data-full-access]').count(), 1);
  await page.screenshot({ path: join(outDir, 'tokens-full-access-1280.png') });
  await page.context().close();
});

// ---------- issue 15: rotation, disable / enable, edit, badges, webhooks ----------

// A key made through the API for the admin: {token, session}.
async function adminKey(name, extra = {}) {
  const session = await login('admin', ADMIN_PASSWORD);
  const made = await apiAs(session, 'POST', '/api/v1/users/me/apikeys', { name, ...extra });
  assert.equal(made.status, 201, JSON.stringify(made.json));
  rememberSecret(made.json.token);
  return { token: made.json.token, session };
}

async function authStatus(token) {
  return (await fetch(`${base}/auth`, { headers: { Authorization: `Bearer ${token}` } })).status;
}

// The admin's Tokens tab in a new page, with the row of key `name`.
async function tokensPage(name) {
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.goto(base + '/#/profile/tokens');
  const row = page.locator(`tr[data-key="${name}"]`);
  await row.waitFor();
  return { page, row };
}

test('rotating a key in the dialog shows and copies the new key; the old one is "rotating"', async () => {
  const { token: old } = await adminKey('rotate-me');
  const { page, row } = await tokensPage('rotate-me');
  const posted = [];
  page.on('request', (r) => { if (r.url().endsWith('/rotate')) posted.push(r.postDataJSON()); });
  await row.getByRole('button', { name: 'Rotate key rotate-me' }).click();
  const dialog = page.getByRole('dialog', { name: 'Rotate API key' });
  const grace = dialog.getByLabel('Grace period');
  assert.equal(await grace.inputValue(), '1h', 'one hour by default');
  assert.deepEqual(await grace.locator('option').evaluateAll((os) => os.map((o) => o.value)),
    ['0s', '1m', '15m', '1h', '6h', '24h']);
  // No grace: nothing to retire when idle.
  await grace.selectOption('0s');
  assert.equal(await dialog.getByLabel(/^Retire when idle/).isDisabled(), true);
  await grace.selectOption('15m');
  const idle = dialog.getByLabel(/^Retire when idle/);
  await idle.fill('soon');
  await dialog.getByRole('button', { name: 'Rotate' }).click();
  await dialog.getByText('Enter a duration such as 30s, 10m or 1h.').waitFor();
  assert.equal(await idle.getAttribute('aria-invalid'), 'true');
  assert.deepEqual(posted, [], 'nothing sent');
  await idle.fill('10m');
  await page.screenshot({ path: join(outDir, 'rotate-key-1280.png') });
  await dialog.getByRole('button', { name: 'Rotate' }).click();

  const banner = page.locator('[data-created-banner]');
  await banner.waitFor();
  assert.deepEqual(posted, [{ grace: '15m', retire_when_idle: '10m' }]);
  assert.match(await banner.textContent(), /Key “rotate-me” rotated\./);
  assert.match(await banner.locator('[data-old-key]').textContent(), /The old key kw_.{4}….{4} keeps working until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
  const fresh = await banner.locator('button.token').textContent();
  rememberSecret(fresh);
  assert.match(fresh, /^kw_/);
  assert.notEqual(fresh, old);
  await banner.locator('button.token').click();
  await page.getByText('Copied', { exact: true }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), fresh);

  // The list: a "rotating" badge whose title says until when the old key works.
  const badge = row.locator('[data-badge="rotating"]');
  await badge.waitFor();
  assert.equal(await badge.textContent(), 'rotating');
  assert.match(await badge.getAttribute('title'), /^The old key kw_.{4}….{4} is accepted until .* UTC; last used never\.$/);
  const until = Date.parse(await badge.getAttribute('data-until'));
  assert.ok(until > Date.now() && until <= Date.now() + 15 * 60000 + 5000, 'within the grace');
  // The eye reveals the new key; both keys work during the grace.
  await row.getByRole('button', { name: 'Show key rotate-me' }).click();
  await row.getByRole('button', { name: 'Hide key rotate-me' }).waitFor();
  assert.equal(await row.locator('button.token').textContent(), fresh);
  assert.equal(await authStatus(fresh), 200);
  assert.equal(await authStatus(old), 200);
  await page.screenshot({ path: join(outDir, 'tokens-rotated-1280.png') });
  await page.context().close();
});

test('disable refuses the key at once, enable lets it in again; the badge follows', async () => {
  const { token } = await adminKey('toggle-me');
  assert.equal(await authStatus(token), 200);
  const { page, row } = await tokensPage('toggle-me');
  assert.equal(await row.locator('[data-badge="disabled"]').count(), 0);
  await row.getByRole('button', { name: 'Disable key toggle-me' }).click();
  await page.getByRole('dialog', { name: 'Disable API key' }).getByRole('button', { name: 'Disable' }).click();
  await row.locator('[data-badge="disabled"]').waitFor();
  assert.equal(await row.getAttribute('data-status'), 'disabled');
  assert.equal(await authStatus(token), 401);
  const authorize = await apiAs(token, 'GET', '/api/v1/users/me/apikeys');
  assert.equal(authorize.status, 401, 'the API refuses it too');
  await page.screenshot({ path: join(outDir, 'tokens-disabled-1280.png') });
  await row.getByRole('button', { name: 'Enable key toggle-me' }).click();
  await row.getByRole('button', { name: 'Disable key toggle-me' }).waitFor();
  assert.equal(await row.locator('[data-badge="disabled"]').count(), 0);
  assert.equal(await authStatus(token), 200);
  await page.context().close();
});

test('editing a key changes its name, description and expiration', async () => {
  const { token, session } = await adminKey('edit-me', { duration: '30d', description: 'first words' });
  const { page, row } = await tokensPage('edit-me');
  assert.equal(await row.locator('[data-description]').textContent(), 'first words');
  assert.equal(await row.locator('[data-badge="expiring"]').count(), 0, 'no badge 30 days ahead');
  const patched = [];
  page.on('request', (r) => { if (r.method() === 'PATCH') patched.push(r.postDataJSON()); });
  await row.getByRole('button', { name: 'Edit key edit-me' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit API key' });
  assert.equal(await dialog.getByLabel('Name').inputValue(), 'edit-me');
  assert.equal(await dialog.getByLabel('Description').inputValue(), 'first words');
  // Nothing changed: nothing is sent.
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByText('Nothing changed.').waitFor();
  assert.deepEqual(patched, []);
  const at = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 16);
  await dialog.getByLabel('Name').fill('edited');
  await dialog.getByLabel('Description').fill('used by the nightly job');
  await dialog.getByLabel('Expiration (UTC)').fill(at);
  await page.screenshot({ path: join(outDir, 'edit-key-1280.png') });
  await dialog.getByRole('button', { name: 'Save' }).click();
  const edited = page.locator('tr[data-key="edited"]');
  await edited.waitFor();
  assert.deepEqual(patched, [{ name: 'edited', description: 'used by the nightly job', expiration: `${at}:00Z` }]);
  assert.equal(await edited.locator('[data-description]').textContent(), 'used by the nightly job');
  assert.equal(await edited.locator('[data-badge="expiring"]').textContent(), 'expires in 3 days');
  assert.equal(await page.locator('tr[data-key="edit-me"]').count(), 0);
  const listed = (await apiAs(session, 'GET', '/api/v1/users/me/apikeys')).json.find((k) => k.name === 'edited');
  assert.equal(listed.description, 'used by the nightly job');
  assert.equal(listed.expiration, `${at}:00Z`);
  assert.equal(await authStatus(token), 200, 'the same key, renamed');
  await page.context().close();
});

test('badges: a short key says when it expires, an expired one says so', async () => {
  await adminKey('short-key', { duration: '2h' });
  await adminKey('gone-key', { duration: '1h' });
  // An expired key, as time would make it: its expiry moved into the past in the database.
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(dataDir, 'data', 'keyward.db'),
    "UPDATE api_keys SET expires_at = unixepoch() - 60 WHERE name = 'gone-key' AND user_id = 'admin'"]);
  const { page, row } = await tokensPage('short-key');
  const soon = row.locator('[data-badge="expiring"]');
  assert.equal(await soon.textContent(), 'expires in 2 hours');
  assert.match(await soon.getAttribute('title'), /^Expires \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  const gone = page.locator('tr[data-key="gone-key"]');
  assert.equal(await gone.locator('[data-badge="expired"]').textContent(), 'expired');
  assert.equal(await gone.locator('[data-badge="expiring"]').count(), 0);
  assert.equal(await gone.getAttribute('data-status'), 'expired');
  const colors = await page.evaluate(() => ['expiring', 'expired', 'rotating', 'disabled']
    .map((k) => document.querySelector(`[data-badge="${k}"]`))
    .filter(Boolean).map((el) => getComputedStyle(el).color));
  assert.equal(new Set(colors).size, colors.length, 'each kind of badge has its own colour');
  await page.screenshot({ path: join(outDir, 'tokens-badges-1280.png') });
  await page.context().close();
});

// A receiver for webhook deliveries: {url, received: [{headers, body}], close()}.
async function webhookReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push({ path: req.url, headers: req.headers, body }); res.statusCode = 204; res.end(); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const close = () => { server.closeAllConnections(); server.close(); };
  return { url: `http://127.0.0.1:${server.address().port}/hook`, received, close };
}

// Standard Webhooks: v1,<base64 HMAC-SHA256 of "id.timestamp.body" under the secret's bytes>.
function signatureOf(secret, id, timestamp, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

test('an operator adds a webhook (secret shown once), sends a test, sees it delivered, deletes it', async (t) => {
  const receiver = await webhookReceiver();
  t.after(receiver.close);  // also when the test fails: an open server keeps the run alive
  const page = await newPage();
  await signIn(page, 'admin', ADMIN_PASSWORD);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
  await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  const form = page.getByRole('form', { name: 'Add a webhook' });
  const boxes = form.getByRole('checkbox');
  assert.equal(await boxes.count(), 9);
  for (const box of await boxes.all()) assert.equal(await box.isChecked(), true, 'every event by default');
  const posted = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/webhooks')) posted.push(r.postDataJSON()); });
  await form.getByLabel('URL').fill(receiver.url);
  await form.getByRole('button', { name: 'Add webhook' }).click();
  const banner = page.locator('[data-secret-banner]');
  await banner.waitFor();
  assert.deepEqual(posted, [{ url: receiver.url }], 'all ticked: no events filter');
  assert.match(await banner.textContent(), /shown only now/);
  const secret = await banner.locator('[data-webhook-secret]').textContent();
  rememberSecret(secret);
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  await banner.locator('[data-webhook-secret]').click();
  await page.getByText('Copied', { exact: true }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  const row = page.locator('tr[data-webhook]');
  await row.waitFor();
  assert.equal(await row.count(), 1);
  const id = await row.getAttribute('data-webhook');
  assert.equal(await row.locator('[data-events]').textContent(), 'all events');
  await page.screenshot({ path: join(outDir, 'webhooks-added-1280.png') });

  // Shown once: after a reload the secret is nowhere on the page nor in the API.
  await page.reload();
  await row.waitFor();
  assert.equal(await page.locator('[data-secret-banner]').count(), 0);
  assert.ok(!(await page.locator('main').innerText()).includes(secret));
  const session = await login('admin', ADMIN_PASSWORD);
  assert.ok(!JSON.stringify((await apiAs(session, 'GET', `/api/v1/webhooks/${id}`)).json).includes(secret));

  await row.getByRole('button', { name: `Send a test event to ${receiver.url}` }).click();
  await page.getByText('Test event sent', { exact: true }).waitFor();
  const deliveries = page.locator(`tr[data-deliveries-of="${id}"]`);
  // Keys the other tests make at the same time raise events of their own (key.created,
  // key.expiring): the test event's row is the one to check.
  const delivered = deliveries.locator('tr[data-state="delivered"]').filter({ hasText: 'webhook.test' });
  await delivered.waitFor();
  assert.equal(await delivered.locator('td').first().textContent(), 'webhook.test');
  assert.equal(await delivered.locator('[data-attempts]').textContent(), '1');
  assert.equal(await delivered.locator('[data-last-status]').textContent(), '204');
  await page.screenshot({ path: join(outDir, 'webhooks-delivered-1280.png') });
  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the Webhooks page is ${overflow}px wider than a 375 px screen`);
  const test = await row.getByRole('button', { name: `Send a test event to ${receiver.url}` }).boundingBox();
  assert.ok(test.x >= 0 && test.x + test.width <= 375, 'the buttons are on the narrow screen');
  await page.screenshot({ path: join(outDir, 'webhooks-375.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  // The receiver got it, signed with the secret shown.
  const tests = receiver.received.filter((r) => JSON.parse(r.body).type === 'webhook.test');
  assert.equal(tests.length, 1);
  const { headers, body } = tests[0];
  assert.equal(headers['webhook-id'], await delivered.getAttribute('data-delivery'));
  assert.equal(JSON.parse(body).data.webhook, id);
  assert.equal(headers['webhook-signature'], signatureOf(secret, headers['webhook-id'], headers['webhook-timestamp'], body));

  await row.getByRole('button', { name: `Delete webhook ${receiver.url}` }).click();
  await page.getByRole('dialog', { name: 'Delete webhook' }).getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No webhooks yet.').waitFor();
  assert.deepEqual((await apiAs(session, 'GET', '/api/v1/webhooks')).json, []);
  await page.context().close();
});
