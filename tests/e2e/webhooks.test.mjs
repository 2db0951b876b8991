// Signed webhooks (issue 15, acceptance 4) against the real keyward binary (KEYWARD_BINARY) and
// the `standardwebhooks` npm library, as a receiver would use it: every delivery to every
// receiver here must pass Webhook.verify with the webhook's secret, and one receiver sees each
// event type (the expiry ones with short thresholds: --expiry-warnings 3s,
// --housekeeping-interval 1s, a key of 5 s, an idle_timeout of 2 s). A receiver answering 500
// then 200 gets that event once more, with the same webhook-id. The receiver of
// docs/webhooks.md (its block `<!-- checked: node-receiver -->`) is run as written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import {
  ADMIN_PASSWORD, binary, docBlocks, freePort, keepFiles, rememberSecret, startKeyward, workDir,
} from './oauth_harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TYPES = ['key.created', 'key.deleted', 'key.rotated', 'key.disabled', 'key.enabled',
  'key.expiring', 'key.expired', 'key.idle_revoked', 'key.reuse_detected'];
const secrets = []; // every key and webhook secret: no payload may hold one

let server; let admin; let work;
const receivers = [];

// An HTTP receiver on 127.0.0.1 that verifies every request with standardwebhooks once its
// `secret` is set, records it as {id, status, verified, error, payload, body}, and answers
// `answer(index)` (204 by default).
async function startReceiver(answer = () => 204) {
  const r = { secret: null, got: [], url: null };
  r.server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry = { id: req.headers['webhook-id'], body, verified: false, error: null };
      try {
        entry.payload = new Webhook(r.secret).verify(body, req.headers);
        entry.verified = true;
      } catch (e) {
        entry.error = String(e?.message ?? e);
      }
      entry.status = answer(r.got.length);
      r.got.push(entry);
      res.writeHead(entry.status, { connection: 'close' }).end();
    });
  });
  await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${r.server.address().port}/hook`;
  receivers.push(r);
  return r;
}

async function api(token, method, path, body) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

async function addWebhook(receiver, body = {}) {
  const res = await api(admin, 'POST', '/api/v1/webhooks', { url: receiver.url, ...body });
  assert.equal(res.status, 201, res.text);
  assert.match(res.json.secret, /^whsec_/);
  rememberSecret(res.json.secret);
  secrets.push(res.json.secret);
  receiver.secret = res.json.secret;
  receiver.id = res.json.id;
  return res.json;
}

async function newKey(body) {
  const res = await api(admin, 'POST', '/api/v1/users/me/apikeys', { duration: '1h', ...body });
  assert.equal(res.status, 201, res.text);
  rememberSecret(res.json.token);
  secrets.push(res.json.token);
  return res.json.token;
}

const auth = async (key) => (await fetch(`${server.url}/auth`, {
  headers: { authorization: `Bearer ${key}` },
})).status;

// Waits (polling every 50 ms, at most `ms`) until `done()` holds; fails with `what` otherwise.
async function until(done, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what()}`);
    await sleep(50);
  }
}

let all; let flaky;
before(async () => {
  assert.ok(binary, 'KEYWARD_BINARY must name the keyward binary');
  work = workDir('keyward-webhooks-');
  all = await startReceiver();
  flaky = await startReceiver((i) => (i === 0 ? 500 : 200));
  server = await startKeyward(['--listen', '127.0.0.1:0', '--webhook-allow-private',
    '--webhook-retry-min', '1s', '--webhook-timeout', '2s', '--expiry-warnings', '3s',
    '--housekeeping-interval', '1s', '--last-used-interval', '1s'], { dir: work });
  const res = await fetch(`${server.url}/api/v1/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(res.status, 200);
  admin = (await res.json()).token;
  rememberSecret(admin);
  await addWebhook(all);
  await addWebhook(flaky, { events: ['key.created'] });
});

after(async () => {
  await server?.stop();
  await Promise.all(receivers.map((r) => new Promise((done) => r.server.close(done))));
  if (!keepFiles && work) rmSync(work, { recursive: true, force: true });
});

test('each event type arrives, and every delivery verifies with standardwebhooks', async () => {
  const old = await newKey({ name: 'rotated' });
  const rotated = await api(admin, 'POST', '/api/v1/users/me/apikeys/rotated/rotate', { grace: '0s' });
  assert.equal(rotated.status, 201, rotated.text);
  rememberSecret(rotated.json.token);
  secrets.push(rotated.json.token);
  assert.equal(await auth(old), 401, 'a retired secret is refused');
  for (const disabled of [true, false]) {
    const res = await api(admin, 'PATCH', '/api/v1/users/me/apikeys/rotated', { disabled });
    assert.equal(res.status, 200, res.text);
  }
  assert.equal((await api(admin, 'DELETE', '/api/v1/users/me/apikeys/rotated')).status, 204);
  await newKey({ name: 'short', duration: '5s' });
  await newKey({ name: 'idle', idle_timeout: '2s' });

  // Every event these changes make, as "type key": each type of TYPES at least once.
  const wanted = ['key.created rotated', 'key.rotated rotated', 'key.reuse_detected rotated',
    'key.disabled rotated', 'key.enabled rotated', 'key.deleted rotated', 'key.created short',
    'key.expiring short', 'key.expired short', 'key.created idle', 'key.idle_revoked idle',
    'key.deleted idle'];
  assert.deepEqual(new Set(wanted.map((w) => w.split(' ')[0])), new Set(TYPES));
  const seen = () => all.got.filter((g) => g.verified)
    .map((g) => `${g.payload.type} ${g.payload.data.key}`);
  await until(() => wanted.every((w) => seen().includes(w)), 20000,
    () => `missing ${wanted.filter((w) => !seen().includes(w)).join(', ')}; got ${seen().join(', ')}`);

  for (const g of all.got) {
    assert.ok(g.verified, `delivery ${g.id} does not verify: ${g.error}`);
    assert.match(g.id, /^msg_\d+$/);
    assert.deepEqual(Object.keys(g.payload).sort(), ['data', 'timestamp', 'type']);
    assert.equal(g.payload.data.user, 'admin', g.body); // `me` is the admin here
    assert.ok(!Number.isNaN(Date.parse(g.payload.timestamp)), g.body);
    for (const s of secrets) assert.ok(!g.body.includes(s), `${g.payload.type} holds a secret`);
  }
  const of = (type) => all.got.filter((g) => g.verified && g.payload.type === type)
    .map((g) => g.payload.data.key);
  assert.deepEqual(of('key.rotated'), ['rotated']);
  assert.deepEqual(of('key.reuse_detected'), ['rotated']);
  assert.deepEqual(of('key.disabled'), ['rotated']);
  assert.deepEqual(of('key.enabled'), ['rotated']);
  assert.deepEqual(of('key.expiring'), ['short']);
  assert.deepEqual(of('key.expired'), ['short']);
  assert.deepEqual(of('key.idle_revoked'), ['idle']);
  assert.deepEqual(of('key.created').sort(), ['idle', 'rotated', 'short']);
  assert.deepEqual(of('key.deleted').sort(), ['idle', 'rotated']);
  const ids = all.got.map((g) => g.id);
  assert.equal(new Set(ids).size, ids.length, 'a receiver answering 204 gets each event once');
});

test('a receiver answering 500 then 200 gets the event once more, with the same webhook-id', async () => {
  await until(() => flaky.got.filter((g) => g.id === flaky.got[0].id).length >= 2, 10000,
    () => `${flaky.got.length} requests`);
  const [first, second] = flaky.got.filter((g) => g.id === flaky.got[0].id);
  assert.equal(first.status, 500);
  assert.equal(second.status, 200);
  assert.equal(second.body, first.body, 'the retry sends the same payload');
  for (const g of flaky.got) assert.ok(g.verified, `delivery ${g.id} does not verify: ${g.error}`);
  await until(() => new Set(flaky.got.map((g) => g.id)).size >= 3, 10000, () => `${flaky.got.length} requests`);
  await sleep(1500); // long enough for a second, wrong, retry (--webhook-retry-min 1s)
  const ids = flaky.got.map((g) => g.id);
  assert.equal(ids.filter((id) => id === first.id).length, 2, 'once more, not twice more');
  assert.equal(new Set(ids).size, 3, 'the three key.created events of the first test');
  const deliveries = await api(admin, 'GET', `/api/v1/webhooks/${flaky.id}/deliveries`);
  assert.equal(deliveries.status, 200, deliveries.text);
  const retried = deliveries.json.find((d) => d.message_id === first.id);
  assert.equal(retried?.state, 'delivered', deliveries.text);
  assert.equal(retried?.attempts, 2, deliveries.text);
  assert.equal(retried?.last_status, 200, deliveries.text);
});

test("the receiver of docs/webhooks.md, run as written", async () => {
  const code = docBlocks('webhooks.md')['node-receiver'];
  assert.ok(code, 'docs/webhooks.md has no block checked as node-receiver');
  const port = await freePort();
  const doc = { url: `http://127.0.0.1:${port}/`, secret: null };
  const hook = await api(admin, 'POST', '/api/v1/webhooks', { url: doc.url, events: ['key.created'] });
  assert.equal(hook.status, 201, hook.text);
  rememberSecret(hook.json.secret);
  // Bare imports resolve from the working directory: this folder, with standardwebhooks.
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: here, env: { ...process.env, PORT: String(port), WEBHOOK_SECRET: hook.json.secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  try {
    await until(async () => {
      try { return (await fetch(doc.url, { method: 'POST', body: '{}' })).status === 400; } catch { return false; }
    }, 10000, () => `the example does not answer 400 to an unsigned request:\n${out}`);
    await newKey({ name: 'doc-example' });
    await until(() => out.includes('key.created admin doc-example'), 10000, () => out);
    await until(async () => {
      const d = await api(admin, 'GET', `/api/v1/webhooks/${hook.json.id}/deliveries`);
      return d.json?.[0]?.state === 'delivered' && d.json[0].last_status === 204;
    }, 10000, () => 'the delivery to the example is not marked delivered with 204');
  } finally {
    child.kill('SIGTERM');
  }
});
