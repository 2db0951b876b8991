// Browser test of issue 17's canary keys in the web UI, in Debian's chromium (playwright-core)
// against the real keyward binary: the Add API Key dialog's "Canary key" box hides the grant
// and rate limit fields and sends only canary: true with the name, description and validity;
// the key is listed with a "canary" badge and no Rotate, Disable or Usage; the eye icon reveals
// it (one plants it), and the revealed key is refused by /auth as an unknown key. A screenshot of
// the list at 1280 px wide goes to tests/e2e/out/canary-1280.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ADMIN_PASSWORD, keepFiles, rememberSecret, startKeyward, workDir } from './oauth_harness.mjs';

const outDir = join(dirname(fileURLToPath(import.meta.url)), 'out');
let keyward; let browser; let session;

before(async () => {
  assert.ok(process.env.KEYWARD_BINARY, 'KEYWARD_BINARY must name the keyward binary');
  mkdirSync(outDir, { recursive: true });
  keyward = await startKeyward(['--listen', '127.0.0.1:0'], { dir: workDir('keyward-canary-') });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const res = await fetch(`${keyward.url}/api/v1/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(res.status, 200);
  session = (await res.json()).token;
  rememberSecret(session);
});

after(async () => {
  await browser?.close();
  await keyward?.stop();
  if (keyward && !keepFiles) rmSync(keyward.dir, { recursive: true, force: true });
});

async function api(method, path, body) {
  const res = await fetch(keyward.url + '/api/v1' + path, {
    method, headers: { Authorization: `Bearer ${session}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

test('a canary key made in the Add API Key dialog is badged, revealed, and refused as unknown', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(keyward.url + '/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: /Welcome/ }).waitFor();
  await page.goto(`${keyward.url}/#/profile/tokens`);
  await page.getByRole('button', { name: '+ Add API Key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add API Key' });
  await dialog.getByLabel('Name').fill('planted');
  await dialog.getByLabel('Description').fill('in the old wiki');
  const requests = dialog.getByLabel('Requests', { exact: true });
  assert.equal(await requests.isVisible(), true);
  await dialog.getByLabel('Canary key').check();
  assert.equal(await requests.isVisible(), false, 'the rate limit goes with a canary');
  assert.equal(await dialog.locator('input[id^="key-scope-"]').first().isVisible(), false,
    'the scopes go with a canary');
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'POST' && /\/apikeys$/.test(new URL(r.url()).pathname)),
    dialog.getByRole('button', { name: 'Save' }).click()]);
  const sent = request.postDataJSON();
  assert.deepEqual(Object.keys(sent).sort(), ['canary', 'description', 'duration', 'name']);
  assert.equal(sent.canary, true);

  const row = page.locator('tr[data-key="planted"]');
  await row.waitFor();
  const badge = row.locator('[data-badge="canary"]');
  assert.equal(await badge.textContent(), 'canary');
  assert.equal(await row.getByRole('button', { name: 'Rotate key planted' }).count(), 0);
  assert.equal(await row.getByRole('button', { name: 'Disable key planted' }).count(), 0);
  assert.equal(await row.getByRole('button', { name: 'Edit key planted' }).count(), 1);

  const listed = (await api('GET', '/users/me/apikeys')).json.find((k) => k.name === 'planted');
  assert.equal(listed.canary, true);
  const { token } = (await api('GET', '/users/me/apikeys/planted/token')).json;
  rememberSecret(token);
  await row.getByRole('button', { name: 'Show key planted' }).click();
  await row.getByRole('button', { name: 'Copy key planted' }).filter({ hasText: token }).waitFor();
  await page.screenshot({ path: join(outDir, 'canary-1280.png'), fullPage: true });

  const auth = await fetch(`${keyward.url}/auth`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(auth.status, 401);
  await context.close();
});
