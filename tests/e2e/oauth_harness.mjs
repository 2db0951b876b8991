// The fixtures of oauth.test.mjs: a throw-away test CA made with the openssl command line, free
// ports, the real keyward binary over HTTPS, a fetch that trusts the test CA (and nothing is
// verified less), nginx, and the checked blocks of docs/brokers-and-engines.md.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync,
} from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ADMIN_PASSWORD = 'admin-password-for-oauth-e2e';
export const binary = process.env.KEYWARD_BINARY;
// Under ctest, KEYWARD_TEST_ARTIFACTS names the folder the secrets scan reads after all tests:
// the servers' data dirs and logs stay there, and every password, key, session and issued token
// this file sees is recorded there (hex, one per line).
const artifacts = process.env.KEYWARD_TEST_ARTIFACTS;

export function rememberSecret(secret) {
  if (!artifacts || !secret) return;
  mkdirSync(join(artifacts, 'secrets'), { recursive: true });
  appendFileSync(join(artifacts, 'secrets', `e2e-oauth-${process.pid}.hex`),
    Buffer.from(secret).toString('hex') + '\n');
}

// A new folder for this run's files: under the artifacts (kept for the scan) or the temp dir.
export function workDir(prefix) {
  const parent = artifacts ? join(artifacts, 'files') : tmpdir();
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, prefix));
}
export const keepFiles = Boolean(artifacts);

// `n` distinct ports nobody listens on now, on 127.0.0.1: the OS picks them while all are held
// open, then they are closed for the caller to reuse.
export async function freePorts(n) {
  const held = await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = held.map((s) => s.address().port);
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
export const freePort = async () => (await freePorts(1))[0];

// A test CA and a certificate for 127.0.0.1 (and localhost, the name nginx verifies: its
// proxy_ssl_verify matches DNS names only) issued by it, in `dir`.
export function makeTestPki(dir) {
  writeFileSync(join(dir, 'server.ext'), 'basicConstraints=CA:FALSE\n'
    + 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20000 });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Keyward oauth e2e test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'privkey.pem', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '2',
    '-days', '2', '-out', 'fullchain.pem', '-extfile', 'server.ext');
  return {
    ca: join(dir, 'ca.pem'), cert: join(dir, 'fullchain.pem'), key: join(dir, 'privkey.pem'),
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
  };
}

// A fetch (the WHATWG signature, as openid-client's, jose's and oauth4webapi's customFetch
// take it) over node:https that trusts `caPem` in addition to nothing: certificate and host
// name are verified as usual. Bounded by 5 s. Node 20's global fetch has no per-call CA.
export function caFetch(caPem) {
  return async (url, init = {}) => {
    const req = new Request(url, {
      method: init.method ?? 'GET', headers: init.headers, body: init.body, redirect: 'manual',
    });
    const body = ['GET', 'HEAD'].includes(req.method) ? null : Buffer.from(await req.arrayBuffer());
    const headers = Object.fromEntries(req.headers);
    if (body) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const r = httpsRequest(url, { method: req.method, headers, ca: caPem, timeout: 5000 }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          const empty = [204, 304].includes(res.statusCode) || req.method === 'HEAD';
          resolve(new Response(empty ? null : Buffer.concat(chunks),
            { status: res.statusCode, statusText: res.statusMessage, headers: h }));
        });
      });
      r.on('timeout', () => r.destroy(new Error(`${req.method} ${url}: no answer in 5 s`)));
      r.on('error', reject);
      if (init.signal) init.signal.addEventListener('abort', () => r.destroy(new Error('aborted')));
      r.end(body ?? undefined);
    });
  };
}

// Starts keyward serve with `args` (given in full but --data-dir: `dir`/data, a new folder unless
// `dir` is given): {child, url, dir, stop}. `url` is what its start line says it listens on.
export function startKeyward(args, { env = {}, dir = workDir('keyward-oauth-') } = {}) {
  rememberSecret(ADMIN_PASSWORD);
  const child = spawn(binary, ['serve', ...args, '--data-dir', join(dir, 'data')], {
    env: { ...process.env, KEYWARD_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = createWriteStream(join(dir, 'server.log'), { flags: 'a' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = () => { child.kill('SIGTERM'); return exited; };
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`keyward did not start:\n${log}`)), 15000);
    const onData = (chunk) => {
      logFile.write(chunk);
      log += chunk;
      const m = log.match(/listening on (https?:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1], dir, stop }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`keyward exited (${code}):\n${log}`)); });
  });
}

// Starts nginx with `httpConfig` in its http block, in `dir`; resolves once `port` answers.
export async function startNginx(dir, httpConfig, port) {
  writeFileSync(join(dir, 'nginx.conf'), [
    'daemon off;', 'master_process off;', 'worker_processes 1;', `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log;`, 'events { worker_connections 64; }', 'http {',
    `  access_log ${dir}/access.log;`, `  client_body_temp_path ${dir}/client_body;`,
    `  proxy_temp_path ${dir}/proxy;`, `  fastcgi_temp_path ${dir}/fastcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi;`, `  scgi_temp_path ${dir}/scgi;`, httpConfig, '}', '',
  ].join('\n'));
  const child = spawn('/usr/sbin/nginx', ['-p', `${dir}/`, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  child.stderr.on('data', (c) => { out += c; });
  let exited = null;
  child.on('exit', (code) => { exited = code; });
  child.on('error', (e) => { exited = `${e.message} (is nginx installed? make test-deps)`; });
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    assert.equal(exited, null, `nginx exited at start:\n${out}\n${readLog(join(dir, 'error.log'))}`);
    if (await portAnswers(port)) return child;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  assert.fail(`nginx did not listen on ${port}:\n${out}`);
}

function readLog(path) {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// The blocks of docs/`page` marked `<!-- checked: NAME -->` on the line before their fence:
// {NAME: text}.
export function docBlocks(page = 'brokers-and-engines.md') {
  const text = readFileSync(join(here, '..', '..', 'docs', page), 'utf8');
  const blocks = {};
  for (const m of text.matchAll(/<!-- checked: ([a-z0-9-]+) -->\n```[a-z]*\n([\s\S]*?)```/g)) {
    assert.equal(blocks[m[1]], undefined, `two blocks named ${m[1]}`);
    blocks[m[1]] = m[2];
  }
  return blocks;
}

// `key=value` lines of a properties block (comments and blank lines skipped).
export function properties(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const at = t.indexOf('=');
    out[t.slice(0, at)] = t.slice(at + 1);
  }
  return out;
}

// The words of a one-command shell block: `\` line continuations, '…' quoting, # comments.
export function shellWords(text) {
  const words = [];
  const joined = text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n')
    .replace(/\\\n/g, ' ');
  for (const m of joined.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}
