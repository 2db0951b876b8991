// Browser test of issue 17's canary keys in the web UI, in Debian's chromium (playwright-core)
// against the real keyward binary: the Add API Key dialog's "Canary key" box hides the grant
// and rate limit fields and sends only canary: true with the name, description and validity;
// the key is listed with a "canary" badge and no Rotate, Disable or Usage; the eye icon reveals
// it (one plants it), and the revealed key is refused by /auth as an unknown key. A screenshot of
// the list at 1280 px wide goes to tests/e2e/out/canary-1280.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserWorld } from './browser_world.mjs';
import { ADMIN_PASSWORD, rememberSecret } from './oauth_harness.mjs';

const outDir = join(dirname(fileURLToPath(import.meta.url)), 'out');
const world = browserWorld('keyward-canary-');
before(async () => {
  mkdirSync(outDir, { recursive: true });
  await world.start();
});
after(world.stop);
const api = world.api;

test('a canary key made in the Add API Key dialog is badged, revealed, and refused as unknown', async () => {
  const context = await world.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(world.keyward.url + '/');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: /Welcome/ }).waitFor();
  await page.goto(`${world.keyward.url}/#/profile/tokens`);
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

  const auth = await fetch(`${world.keyward.url}/auth`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(auth.status, 401);
  await context.close();
});
