// The set-up the browser tests of one feature share: a fresh keyward server (oauth_harness.mjs),
// Debian's chromium through playwright-core with the flags these machines need, an operator
// session (admin) and a JSON API caller with it. Register with node:test's before/after:
//
//   const world = browserWorld('keyward-usage-');
//   before(world.start); after(world.stop);
//   … world.keyward.url, world.browser, await world.api('GET', '/users/me/apikeys')
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { ADMIN_PASSWORD, keepFiles, rememberSecret, startKeyward, workDir } from './oauth_harness.mjs';

export function browserWorld(dirPrefix) {
  const world = {
    keyward: null,
    browser: null,
    session: null,
    async start() {
      assert.ok(process.env.KEYWARD_BINARY, 'KEYWARD_BINARY must name the keyward binary');
      world.keyward = await startKeyward(['--listen', '127.0.0.1:0'], { dir: workDir(dirPrefix) });
      world.browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const res = await fetch(`${world.keyward.url}/api/v1/login`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
      });
      assert.equal(res.status, 200);
      world.session = (await res.json()).token;
      rememberSecret(world.session);
    },
    async stop() {
      await world.browser?.close();
      await world.keyward?.stop();
      if (world.keyward && !keepFiles) rmSync(world.keyward.dir, { recursive: true, force: true });
    },
    // The API at /api/v1 + path with the admin session: {status, json}.
    async api(method, path, body) {
      const res = await fetch(world.keyward.url + '/api/v1' + path, {
        method,
        headers: { Authorization: `Bearer ${world.session}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    },
  };
  return world;
}
