// The servers and requests of oauth.test.mjs, as docs/brokers-and-engines.md's checked blocks
// describe them: the serve command and the user and key it runs, the token requests, what every
// token must hold, the validators' policies, the endpoints that take tokens, and the Presto
// gateway. `ctx` holds the test CA (pki) and the fetch that trusts it, set by the test's before().
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import * as jose from 'jose';
import presto from 'presto-client';
import { ADMIN_PASSWORD, docBlocks, properties, rememberSecret, shellWords, startKeyward } from './oauth_harness.mjs';
import {
  assertTokenOk, tokenAnswer, verifyPulsar, verifyRfc9068, verifyTrino,
} from './oauth_checks.mjs';

export const ctx = { pki: null, fetch: null };
export const DOC_ISSUER = 'https://keyward.example.com';
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const API_KEY_TYPE = 'urn:keyward:params:oauth:token-type:api_key';
export const MAX_TTL = 600; // --token-ttl's default, which the doc's serve command keeps
export const docs = docBlocks();

// The doc's user and key: `keyward user create -u ID -n NAME -t TYPE` and `keyward user apikey
// create -i ID -n NAME -d DURATION -s SCOPES`.
function docKeyPlan() {
  const [u, k] = docs['key-for-client'].trim().split('\n').map(shellWords);
  assert.deepEqual(u.slice(0, 3), ['keyward', 'user', 'create']);
  assert.deepEqual(k.slice(0, 4), ['keyward', 'user', 'apikey', 'create']);
  const opt = (words, flag) => words[words.indexOf(flag) + 1];
  const scopes = opt(k, '-s').split(',');
  assert.equal(opt(k, '-i'), opt(u, '-u'), 'the key is for the user made above it');
  return {
    user: { id: opt(u, '-u'), name: opt(u, '-n'), type: opt(u, '-t') },
    key: { name: opt(k, '-n'), duration: opt(k, '-d'), scopes },
    serviceScopes: scopes.filter((s) => s.includes(':') && !s.startsWith('tokens:')).sort(),
  };
}

// The doc's serve command: [args for keyward serve, {audiences, typ, gateway}].
function docServe() {
  const words = shellWords(docs.serve);
  assert.deepEqual(words.slice(0, 2), ['keyward', 'serve']);
  const args = words.slice(2);
  const values = (flag) => args.flatMap((w, i) => (w === flag ? [args[i + 1]] : []));
  assert.deepEqual(values('--issuer'), [DOC_ISSUER]);
  const audiences = values('--token-audience').map((a) => a.split(';'));
  return {
    args,
    audiences: audiences.map(([name]) => name),
    typ: Object.fromEntries(audiences.map(([name, opt]) => [name, opt === 'typ=JWT' ? 'JWT' : 'at+jwt'])),
    gateway: values('--gateway-audience'),
  };
}
export const serve = docServe();
export const plan = docKeyPlan();

// The doc's command for this test's port, certificate and signature algorithm.
export function serveArgs(port, alg, issuer = `https://127.0.0.1:${port}`) {
  const args = [...serve.args];
  const set = (flag, value) => {
    const i = args.indexOf(flag);
    assert.ok(i >= 0, `the doc's serve command has ${flag}`);
    args[i + 1] = value;
  };
  set('--listen', `127.0.0.1:${port}`);
  set('--tls-cert', ctx.pki.cert);
  set('--tls-key', ctx.pki.key);
  set('--issuer', issuer);
  return [...args, '--token-alg', alg];
}

export const ours = (s) => (text) => text.replaceAll(DOC_ISSUER, s.issuer);

// A DER SubjectPublicKeyInfo as PEM.
export const pemOf = (der) => '-----BEGIN PUBLIC KEY-----\n'
  + `${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END PUBLIC KEY-----\n`;

export async function api(s, token, method, path, body) {
  const res = await ctx.fetch(s.url + path, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

export async function login(s) {
  const res = await ctx.fetch(`${s.url}/api/v1/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(res.status, 200);
  const { token } = await res.json();
  rememberSecret(token);
  return token;
}

export async function newKey(s, body) {
  const made = await api(s, s.admin, 'POST', `/api/v1/users/${plan.user.id}/apikeys`, body);
  assert.equal(made.status, 201, JSON.stringify(made.json));
  rememberSecret(made.json.token);
  return made.json.token;
}

// A keyward with the doc's flags and user, and a key for the user as the doc makes it.
export async function startIssuer(alg, port) {
  const s = await startKeyward(serveArgs(port, alg));
  s.issuer = `https://127.0.0.1:${port}`;
  assert.equal(s.url, s.issuer);
  s.alg = alg;
  s.admin = await login(s);
  const user = await api(s, s.admin, 'POST', '/api/v1/users',
    { id: plan.user.id, name: plan.user.name, type: plan.user.type });
  assert.equal(user.status, 201, JSON.stringify(user.json));
  s.key = await newKey(s, { name: plan.key.name, duration: plan.key.duration, scopes: plan.key.scopes });
  return s;
}

// POST /oauth/token with form `params` (an object, or a raw string) and extra headers.
export async function tokenRequest(s, params, headers = {}) {
  const body = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  const res = await ctx.fetch(`${s.issuer}/oauth/token`, {
    method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  const shown = typeof params === 'string' ? params.slice(0, 60) : Object.keys(params);
  return tokenAnswer(res, `POST /oauth/token ${shown}`);
}

export async function issue(s, audience, key = s.key) {
  const a = await tokenRequest(s,
    { grant_type: 'client_credentials', client_id: plan.user.id, client_secret: key, audience });
  assertTokenOk(a, `client_credentials for ${audience}`, MAX_TTL);
  rememberSecret(a.body.access_token);
  return a.body.access_token;
}

// The claims and header every Keyward token must have (contract: "The JWT").
export function checkToken(s, jwt, audience, key = s.key) {
  const header = jose.decodeProtectedHeader(jwt);
  const c = jose.decodeJwt(jwt);
  assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
  assert.equal(header.alg, s.alg);
  assert.equal(header.typ, serve.typ[audience], `typ of a token for ${audience}`);
  assert.ok(s.jwks.keys.some((k) => k.kid === header.kid), 'the kid is published');
  assert.equal(c.iss, s.issuer);
  assert.equal(c.sub, plan.user.id);
  assert.equal(c.aud, audience);
  assert.equal(c.client_id, createHash('sha256').update(key).digest('hex').slice(0, 24));
  assert.match(c.jti, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(c.iat, c.nbf);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(c.iat <= now && c.iat >= now - 30, `iat ${c.iat}, now ${now}`);
  assert.ok(c.exp > now && c.exp - c.iat <= MAX_TTL + 30, `exp ${c.exp}, iat ${c.iat}`);
  assert.ok(Array.isArray(c.tags));
  return c;
}

// The three validators' policies, as the doc configures each consumer.
export function policies(s) {
  const broker = properties(ours(s)(docs['broker-oidc']));
  const trino = properties(ours(s)(docs['trino-jwt']));
  assert.equal(trino['http-server.authentication.jwt.key-file'], s.meta.jwks_uri);
  return {
    pulsar: { jwks: s.jwks, jwksUrl: s.meta.jwks_uri, fetch: ctx.fetch,
      issuers: broker.openIDAllowedTokenIssuers.split(','), audiences: broker.openIDAllowedAudiences.split(',') },
    trino: { jwks: s.jwks, issuer: trino['http-server.authentication.jwt.required-issuer'],
      audience: trino['http-server.authentication.jwt.required-audience'] },
    rfc9068: { as: s.config.serverMetadata(), fetch: ctx.fetch },
  };
}

// Passes `jwt` (for `audience`) through every validator meant for that audience.
export async function validateEverywhere(s, jwt, audience, what) {
  const p = policies(s);
  checkToken(s, jwt, audience);
  if (p.pulsar.audiences.includes(audience)) {
    await assert.doesNotReject(verifyPulsar(jwt, p.pulsar), `${what}: Pulsar OIDC`);
  }
  if (audience === p.trino.audience) {
    await assert.doesNotReject(verifyTrino(jwt, p.trino), `${what}: Trino JWT`);
  }
  if (serve.typ[audience] === 'at+jwt') {
    await assert.doesNotReject(verifyRfc9068(jwt, { ...p.rfc9068, audience }), `${what}: RFC 9068`);
  }
}

export const gatewayAudience = () => {
  assert.ok(serve.gateway.length > 0, 'the doc names a --gateway-audience');
  return serve.gateway[0];
};
export const bearer = (t) => ({ authorization: `Bearer ${t}` });
export const b64json = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function introspect(s, token, caller = s.admin) {
  const res = await ctx.fetch(`${s.url}/oauth/introspect`, {
    method: 'POST', body: new URLSearchParams({ token }).toString(),
    headers: { ...bearer(caller), 'content-type': 'application/x-www-form-urlencoded' },
  });
  const text = await res.text();
  assert.ok(res.status < 500, `introspect: ${res.status} ${text}`);
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

export async function userinfo(s, token, method = 'GET') {
  const res = await ctx.fetch(`${s.url}/oauth/userinfo`, { method, headers: token ? bearer(token) : {} });
  const text = await res.text();
  assert.ok(res.status < 500, `userinfo: ${res.status} ${text}`);
  return { status: res.status, json: text ? JSON.parse(text) : null, headers: res.headers };
}

export async function forwardAuth(s, token, query = '') {
  const res = await ctx.fetch(`${s.url}/auth${query}`, { headers: bearer(token) });
  await res.arrayBuffer();
  assert.ok(res.status < 500, `/auth: ${res.status}`);
  return res;
}

export async function authorize(s, token, scopes) {
  const r = await api(s, s.admin, 'POST', '/api/v1/authorize', { token, ...(scopes && { scopes }) });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

// `token`, a good gateway-audience token of the doc's key, is accepted at userinfo,
// introspection, /auth and POST /api/v1/authorize, which answer as for the key, with the
// token's scopes as its grant.
export async function acceptedEverywhere(s, token, what, keyName = plan.key.name) {
  assert.equal((await userinfo(s, token)).status, 200, `${what}: userinfo`);
  assert.equal((await introspect(s, token)).json.active, true, `${what}: introspection`);
  const auth = await forwardAuth(s, token);
  assert.equal(auth.status, 200, `${what}: /auth`);
  assert.equal(auth.headers.get('x-keyward-user'), plan.user.id, what);
  assert.equal(auth.headers.get('x-keyward-key-name'), keyName, `${what}: the parent key`);
  assert.deepEqual(auth.headers.get('x-keyward-scopes').split(',').sort(), plan.serviceScopes, what);
  assert.equal((await forwardAuth(s, token, `?scope=${plan.serviceScopes[0]}`)).status, 200, what);
  const lacking = await forwardAuth(s, token, '?scope=tokens:issue');
  assert.equal(lacking.status, 403, `${what}: the token does not carry the key's Keyward scopes`);
  assert.equal(lacking.headers.get('x-keyward-reason'), 'scope', what);
  const verdict = await authorize(s, token, [plan.serviceScopes[0]]);
  assert.equal(verdict.allow, true, `${what}: ${JSON.stringify(verdict)}`);
  assert.equal(verdict.result.id, plan.user.id, what);
}

// `token` is refused at userinfo (401 invalid_token), introspection (active: false) and /auth
// (401), with no 5xx anywhere.
export async function refusedEverywhere(s, token, what) {
  const ui = await userinfo(s, token);
  assert.equal(ui.status, 401, `${what}: userinfo`);
  assert.match(ui.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/, what);
  assert.equal(ui.json?.error, 'invalid_token', what);
  assert.equal((await userinfo(s, token, 'POST')).status, 401, `${what}: POST userinfo`);
  const i = await introspect(s, token);
  assert.equal(i.status, 200, `${what}: introspection`);
  assert.deepEqual(i.json, { active: false }, `${what}: introspection`);
  assert.equal((await forwardAuth(s, token)).status, 401, `${what}: /auth`);
  const verdict = await authorize(s, token);
  assert.deepEqual([verdict.allow, verdict.valid, verdict.result], [false, false, null], `${what}: authorize`);
}


// The doc's nginx block, pointed at this test's ports, certificate and CA.
export function gatewayConfig(s, gatewayPort, upstreamPort) {
  let conf = docs['nginx-trino'];
  const swap = (from, to) => {
    assert.equal(conf.split(from).length, 2, `the doc's nginx block has ${from} once`);
    conf = conf.replace(from, to);
  };
  swap('listen 8443 ssl;', `listen 127.0.0.1:${gatewayPort} ssl;`);
  swap('/etc/nginx/tls/fullchain.pem', ctx.pki.cert);
  swap('/etc/nginx/tls/privkey.pem', ctx.pki.key);
  swap('http://127.0.0.1:8080', `http://127.0.0.1:${upstreamPort}`);
  swap(`${DOC_ISSUER}/auth`, `${s.url}/auth`);
  swap('/etc/ssl/certs/ca-certificates.crt', ctx.pki.ca);
  swap('proxy_ssl_name keyward.example.com;', 'proxy_ssl_name localhost;');
  return conf;
}

// A Presto/Trino coordinator as far as presto-client's execute() needs it: POST /v1/statement
// queues the query, its nextUri answers the user it was run as, with no nextUri (finished). As
// Trino with http-server.process-forwarded=true, it builds its links from X-Forwarded-Proto
// and X-Forwarded-Host.
export function startEngine(seen) {
  const server = createServer((req, res) => {
    const base = `${req.headers['x-forwarded-proto']}://${req.headers['x-forwarded-host']}`;
    seen.push({ method: req.method, url: req.url, user: req.headers['x-trino-user'],
      authorization: req.headers.authorization, base });
    req.resume();
    const id = `q${seen.length}`;
    const answer = req.method === 'POST'
      ? { id, infoUri: `${base}/v1/query/${id}`, nextUri: `${base}/v1/statement/${id}/1`,
        stats: { state: 'QUEUED' } }
      : { id, infoUri: `${base}/v1/query/${id}`, stats: { state: 'FINISHED' },
        columns: [{ name: 'user', type: 'varchar' }], data: [[req.headers['x-trino-user']]] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export function runQuery(port, auth) {
  return new Promise((resolve) => {
    const c = new presto.Client({ host: '127.0.0.1', port, ssl: { ca: ctx.pki.caPem }, engine: 'trino',
      user: 'mallory', checkInterval: 10, timeout: 10, ...auth });
    let rows = null;
    c.execute({
      query: 'SELECT current_user',
      data: (error, data) => { rows = data; },
      success: () => resolve({ ok: true, rows }),
      error: (error) => resolve({ ok: false, error }),
    });
  });
}

