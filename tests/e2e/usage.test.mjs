// Browser tests of issue 16's UI: the rate limit of the key dialogs, a key's usage chart and the
// operators' top keys, in Debian's chromium (playwright-core) against the real keyward binary.
//
// The usage history is seeded the way the server stores it: key_usage rows written with the
// sqlite3 command line into the server's own SQLite file (and the key's last use and address
// into api_keys), then the chart's bars are read back from the SVG. Screenshots of the open
// Usage panel at 1280 and 375 px wide go to tests/e2e/out/usage-1280.png and usage-375.png,
// the operators' home with its top keys to usage-top-1280.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserWorld } from './browser_world.mjs';
import { ADMIN_PASSWORD, rememberSecret } from './oauth_harness.mjs';

const outDir = join(dirname(fileURLToPath(import.meta.url)), 'out');
const HOUR = 3600;
const DAY = 86400;
const world = browserWorld('keyward-usage-');
before(async () => {
  mkdirSync(outDir, { recursive: true });
  await world.start();
});
after(world.stop);
const api = world.api;

// The caller's key `name` as GET …/apikeys lists it.
async function keyOf(name) {
  const list = await api('GET', '/users/me/apikeys');
  assert.equal(list.status, 200);
  return list.json.find((k) => k.name === name);
}

// Runs `sql` on the server's database with the sqlite3 command line; its output, trimmed.
function sqlite(sql) {
  const db = join(world.keyward.dir, 'data', 'keyward.db');
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, sql], { encoding: 'utf8' }).trim();
}

// A page `width` px wide signed in as `user` (the admin unless given).
async function newPage(width, user = 'admin', password = ADMIN_PASSWORD) {
  const context = await world.browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(world.keyward.url + '/');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: /Welcome/ }).waitFor();
  return page;
}

async function tokensTab(page) {
  await page.goto(`${world.keyward.url}/#/profile/tokens`);
  await page.getByRole('button', { name: '+ Add API Key' }).waitFor();
}

// The JSON body of the next `method` request to a path matching `re` that `action` causes.
async function bodyOf(page, method, re, action) {
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.method() === method && re.test(new URL(r.url()).pathname)), action()]);
  return request.postDataJSON();
}

test('the rate limit set in the Add API Key dialog is sent and shown; Edit changes and removes it', async () => {
  const page = await newPage(1280);
  await tokensTab(page);
  await page.getByRole('button', { name: '+ Add API Key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add API Key' });
  await dialog.getByLabel('Name').fill('limited');
  const requests = dialog.getByLabel('Requests', { exact: true });
  await requests.fill('0');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByText(/whole number of requests from 1/).waitFor();
  assert.equal(await requests.getAttribute('aria-invalid'), 'true');
  await requests.fill('10');
  await dialog.getByLabel('Per', { exact: true }).selectOption('1s');
  const sent = await bodyOf(page, 'POST', /\/apikeys$/, () => dialog.getByRole('button', { name: 'Save' }).click());
  assert.deepEqual(sent.rate_limit, { requests: 10, per: '1s' });
  const row = page.locator('tr[data-key="limited"]');
  await row.waitFor();
  assert.equal(await row.locator('[data-rate-limit]').textContent(), 'Rate limit: 10 per 1s');
  assert.deepEqual((await keyOf('limited')).rate_limit, { requests: 10, per: '1s' });
  rememberSecret((await api('GET', '/users/me/apikeys/limited/token')).json.token);

  await row.getByRole('button', { name: 'Edit key limited' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit API key' });
  assert.equal(await edit.getByLabel('Requests', { exact: true }).inputValue(), '10');
  await edit.getByLabel('Requests', { exact: true }).fill('5');
  await edit.getByLabel('Per', { exact: true }).selectOption('1m');
  const patched = await bodyOf(page, 'PATCH', /\/apikeys\/limited$/, () => edit.getByRole('button', { name: 'Save' }).click());
  assert.deepEqual(patched, { rate_limit: { requests: 5, per: '1m' } });
  await row.locator('[data-rate-limit]', { hasText: '5 per 1m' }).waitFor();

  await row.getByRole('button', { name: 'Edit key limited' }).click();
  await edit.getByLabel('Requests', { exact: true }).fill('');
  const removed = await bodyOf(page, 'PATCH', /\/apikeys\/limited$/, () => edit.getByRole('button', { name: 'Save' }).click());
  assert.deepEqual(removed, { rate_limit: null });
  await row.locator('[data-rate-limit]').waitFor({ state: 'detached' });
  assert.equal((await keyOf('limited')).rate_limit, null);
  await page.context().close();
});

// ---------- the seeded history ----------

const NOW = Math.floor(Date.now() / 1000);
const THIS_HOUR = NOW - (NOW % HOUR);
const REASONS = ['expired', 'revoked', 'disabled', 'scope', 'tag', 'address', 'rate_limited'];
// key → [hours before this hour, {allowed, <reason>: n}]: three hours of the last 24 with
// 10/0, 5/5 and 0/20, older days for the 7- and 30-day charts, and a second key denied more.
const SEEDS = {
  'usage-chart': [
    [3, { allowed: 10 }], [2, { allowed: 5, scope: 5 }], [1, { rate_limited: 20 }],
    [72, { allowed: 40, expired: 2 }], [6 * 24 + 5, { allowed: 7 }], [20 * 24, { allowed: 100 }],
  ],
  'usage-denied': [[5, { allowed: 1, tag: 30 }]],
};
const iso = (t) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');

function seed() {
  for (const [name, hours] of Object.entries(SEEDS)) {
    const id = sqlite(`SELECT id FROM api_keys WHERE user_id = 'admin' AND name = '${name}';`);
    assert.match(id, /^\d+$/, `the id of ${name}`);
    for (const [back, counts] of hours) {
      const cols = ['allowed', ...REASONS].filter((c) => counts[c]);
      sqlite(`INSERT INTO key_usage (key_id, hour_start, ${cols.join(', ')}) VALUES `
        + `(${id}, ${THIS_HOUR - back * HOUR}, ${cols.map((c) => counts[c]).join(', ')});`);
    }
  }
  sqlite(`UPDATE api_keys SET first_used_at = ${THIS_HOUR - 20 * DAY}, last_used_at = ${NOW - 120}, `
    + "last_address = '10.1.2.3', last_user_agent = 'curl/8.5.0' "
    + "WHERE user_id = 'admin' AND name = 'usage-chart';");
}

// The seeded {allowed, denied} of `name` by bucket start, in buckets of `size` seconds, for the
// hours at or after `from`.
function expected(name, size, from) {
  const out = new Map();
  for (const [back, counts] of SEEDS[name]) {
    const t = THIS_HOUR - back * HOUR;
    if (t + HOUR <= from) continue;
    const start = iso(t - (t % size));
    const sum = out.get(start) || { allowed: 0, denied: 0 };
    sum.allowed += counts.allowed || 0;
    sum.denied += REASONS.reduce((s, r) => s + (counts[r] || 0), 0);
    out.set(start, sum);
  }
  return out;
}

// Reads the chart in `panel` and checks every bar against `want` (bucket start → counts; the
// others are 0): its counts, its height in viewBox units (count / data-max × data-plot-height)
// and as drawn on screen, within 1 px; the denied bar stacked on the allowed one.
async function checkBars(panel, want, granularity, range = null) {
  // With `range` ("7d", "30d"), the chart of that range: after a click, not the one it replaces.
  const which = range ? `[data-range="${range}"]` : '';
  const svg = panel.locator(`svg.usage-chart[data-granularity="${granularity}"]${which}`);
  await svg.waitFor();
  const chart = await svg.evaluate((el) => ({
    max: Number(el.dataset.max), plot: Number(el.dataset.plotHeight), base: Number(el.dataset.baseline),
    scale: el.getBoundingClientRect().height / el.viewBox.baseVal.height,
    title: el.querySelector('title').textContent,
    bars: [...el.querySelectorAll('g.bucket')].map((g) => {
      const read = (r) => ({
        start: r.dataset.start, allowed: Number(r.dataset.allowed), denied: Number(r.dataset.denied),
        y: Number(r.getAttribute('y')), height: Number(r.getAttribute('height')), px: r.getBoundingClientRect().height,
      });
      return { a: read(g.querySelector('rect.allowed')), d: read(g.querySelector('rect.denied')) };
    }),
  }));
  const wantMax = Math.max(...[...want.values()].map((c) => c.allowed + c.denied));
  assert.equal(chart.max, wantMax, 'data-max is the tallest bucket');
  assert.ok(chart.plot > 100, `plot height ${chart.plot}`);
  for (const start of want.keys()) assert.ok(chart.bars.some((b) => b.a.start === start), `a bar for ${start}`);
  let tallest = 0;
  for (const { a, d } of chart.bars) {
    const c = want.get(a.start) || { allowed: 0, denied: 0 };
    assert.deepEqual([a.allowed, a.denied, d.start, d.allowed, d.denied], [c.allowed, c.denied, a.start, c.allowed, c.denied], a.start);
    const hA = (c.allowed / wantMax) * chart.plot;
    const hD = (c.denied / wantMax) * chart.plot;
    assert.ok(Math.abs(a.height - hA) <= 1 && Math.abs(d.height - hD) <= 1, `${a.start}: heights ${a.height}, ${d.height}; want ${hA}, ${hD}`);
    assert.ok(Math.abs(a.px - hA * chart.scale) <= 1 && Math.abs(d.px - hD * chart.scale) <= 1, `${a.start}: drawn ${a.px}, ${d.px} px`);
    assert.ok(Math.abs(a.y + a.height - chart.base) <= 0.01 && Math.abs(d.y + d.height - a.y) <= 0.01, `${a.start} stacked`);
    tallest = Math.max(tallest, a.height + d.height);
  }
  assert.ok(Math.abs(tallest - chart.plot) <= 0.02, 'the tallest bucket fills the plot');
  return chart;
}

test('a key\'s usage chart has bars proportional to the seeded counts, over 24 h, 7 and 30 days', async () => {
  for (const name of Object.keys(SEEDS)) {
    const made = await api('POST', '/users/me/apikeys', { name });
    assert.equal(made.status, 201);
    rememberSecret(made.json.token);
  }
  seed();
  const page = await newPage(1280);
  await tokensTab(page);
  const row = page.locator('tr[data-key="usage-chart"]');
  assert.equal(await row.locator('td[data-label="Last used"]').textContent(), 'last used 2 minutes ago from 10.1.2.3');
  const toggle = row.getByRole('button', { name: 'Usage of key usage-chart' });
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  const panel = page.locator('tr[data-usage-of="usage-chart"]');
  const day = await checkBars(panel, expected('usage-chart', HOUR, NOW - DAY), 'hour');
  assert.equal(day.bars.length, 25, 'every hour from the one 24 h ago to this one');
  assert.equal(day.title, 'Requests in the last 24 hours: 15 allowed, 25 denied (5 scope, 20 rate limited).');
  assert.equal(await panel.getByRole('img').getAttribute('aria-labelledby'), await panel.locator('svg title').first().getAttribute('id'));
  assert.equal(await panel.locator('[data-usage-facts]').textContent(),
    `First used ${iso(THIS_HOUR - 20 * DAY).slice(0, 16).replace('T', ' ')} UTC · last used `
    + `${iso(NOW - 120).slice(0, 16).replace('T', ' ')} UTC from 10.1.2.3 (curl/8.5.0)`);
  await page.screenshot({ path: join(outDir, 'usage-1280.png'), fullPage: true });

  await panel.getByRole('button', { name: '7 days' }).click();
  const week = await checkBars(panel, expected('usage-chart', DAY, NOW - 7 * DAY), 'day', '7d');
  assert.equal(week.bars.length, 8, 'every day from the one 7 days ago to today');
  assert.equal(await panel.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed'), 'true');
  await panel.getByRole('button', { name: '30 days' }).click();
  const month = await checkBars(panel, expected('usage-chart', DAY, NOW - 30 * DAY), 'day', '30d');
  assert.equal(month.bars.length, 31);
  assert.equal(month.max, 100);
  await page.context().close();
});

test('at 375 px wide the Usage panel fits the screen and its bars keep their proportions', async () => {
  const page = await newPage(375);
  await tokensTab(page);
  await page.locator('tr[data-key="usage-chart"]').getByRole('button', { name: 'Usage of key usage-chart' }).click();
  const panel = page.locator('tr[data-usage-of="usage-chart"]');
  await checkBars(panel, expected('usage-chart', HOUR, NOW - DAY), 'hour');
  const box = await panel.locator('svg.usage-chart').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 375, `the chart spans ${box.x}…${box.x + box.width}`);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), 'no sideways scrolling');
  await panel.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(outDir, 'usage-375.png'), fullPage: true });
  await page.context().close();
});

test('the operators\' home lists the busiest and the most-denied keys, over 24 h and 7 days', async () => {
  const page = await newPage(1280);
  const card = page.locator('[data-top-keys]');
  const rows = (by) => card.locator(`table[data-top="${by}"] tbody tr`);
  const first = async (by) => {
    const r = rows(by).first();
    await r.waitFor();
    return [await r.getAttribute('data-key'), Number(await r.locator('[data-allowed]').textContent()),
      Number(await r.locator('[data-denied]').textContent())];
  };
  assert.deepEqual(await first('requests'), ['usage-chart', 15, 25]);
  assert.deepEqual(await first('denied'), ['usage-denied', 1, 30]);
  assert.equal(await rows('requests').nth(1).getAttribute('data-key'), 'usage-denied');
  await card.getByRole('button', { name: '7 days' }).click();
  await card.locator('table[data-top="requests"] tbody tr[data-key="usage-chart"] [data-allowed="62"]').waitFor();
  assert.deepEqual(await first('requests'), ['usage-chart', 62, 27]);
  assert.deepEqual(await first('denied'), ['usage-denied', 1, 30]);
  await page.screenshot({ path: join(outDir, 'usage-top-1280.png'), fullPage: true });
  await page.context().close();
});

test('a user who is no operator gets no top keys on the home page, and the API refuses them', async () => {
  const password = 'nora-password-for-usage-e2e';
  rememberSecret(password);
  const made = await api('POST', '/users', { id: 'nora', name: 'Nora', type: 'person', password });
  assert.equal(made.status, 201);
  const page = await newPage(1280, 'nora', password);
  const top = await page.evaluate(async () => (await fetch('/api/v1/usage/top?by=requests')).status);
  assert.equal(top, 403);
  assert.equal(await page.locator('[data-top-keys]').count(), 0);
  await page.context().close();
});
