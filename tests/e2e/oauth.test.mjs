// The token issuer (issue 14) against the libraries and clients that consume it, with the real
// keyward binary (KEYWARD_BINARY) over HTTPS with a throw-away test CA: openid-client drives
// discovery and both grants; jose checks each token under Pulsar's and Trino's policies and
// oauth4webapi under RFC 9068, for an ES256 and an RS256 server; Pulsar's Java, C++ and Go token
// requests are replayed byte for byte; hostile tokens are refused; presto-client reaches a
// Presto-protocol upstream through real nginx auth_request, with Basic user:key and a Bearer
// token, until the key is deleted. The servers run the flags, and the test uses the values, of
// docs/brokers-and-engines.md's checked blocks (see its header).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import * as client from 'openid-client';
import * as jose from 'jose';
import {
  binary, caFetch, freePort, freePorts, keepFiles, makeTestPki, properties, rememberSecret,
  shellWords, startKeyward, startNginx, workDir,
} from './oauth_harness.mjs';
import {
  assertTokenError, assertTokenOk, cppClient, goClient, javaClient, tokenAnswer, verifyPulsar,
  verifyTrino,
} from './oauth_checks.mjs';
import {
  API_KEY_TYPE, DOC_ISSUER, MAX_TTL, TOKEN_EXCHANGE, acceptedEverywhere, api, b64json, bearer,
  ctx, docs, forwardAuth, gatewayAudience, gatewayConfig, introspect, issue, login, newKey, ours,
  pemOf, plan, policies, refusedEverywhere, runQuery, serve, serveArgs, sleep, startEngine,
  startIssuer, tokenRequest, userinfo, validateEverywhere,
} from './oauth_fixture.mjs';

let work;
const servers = {}; // es, rs: {url, issuer, alg, admin, key, config, meta, jwks, stop}
let nginx; let upstream;
const madeDirs = []; // removed after the run unless kept for the secrets scan

before(async () => {
  assert.ok(binary, 'KEYWARD_BINARY must name the keyward binary');
  work = workDir('oauth-e2e-');
  ctx.pki = makeTestPki(work);
  ctx.fetch = caFetch(ctx.pki.caPem);
  const [esPort, rsPort] = await freePorts(2);
  const [es, rs] = await Promise.all([startIssuer('ES256', esPort), startIssuer('RS256', rsPort)]);
  Object.assign(servers, { es, rs });
  for (const s of [es, rs]) {
    s.config = await client.discovery(new URL(s.issuer), plan.user.id, undefined,
      client.ClientSecretPost(s.key), { [client.customFetch]: ctx.fetch });
    s.meta = s.config.serverMetadata();
    s.jwks = await (await ctx.fetch(s.meta.jwks_uri)).json();
  }
});

after(async () => {
  await new Promise((r) => (upstream ? upstream.close(r) : r()));
  nginx?.kill('SIGTERM');
  await Promise.all(Object.values(servers).map((s) => s.stop()));
  if (!keepFiles) {
    for (const d of [work, ...Object.values(servers).map((s) => s.dir), ...madeDirs]) {
      if (d) rmSync(d, { recursive: true, force: true });
    }
  }
});

test('discovery, the same at both well-known paths, and the JWKS', async () => {
  for (const s of Object.values(servers)) {
    const i = s.issuer;
    const res = await ctx.fetch(`${i}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.deepEqual(doc, {
      issuer: i, authorization_endpoint: `${i}/`, token_endpoint: `${i}/oauth/token`,
      jwks_uri: `${i}/.well-known/jwks.json`, userinfo_endpoint: `${i}/oauth/userinfo`,
      introspection_endpoint: `${i}/oauth/introspect`,
      grant_types_supported: ['client_credentials', TOKEN_EXCHANGE],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      introspection_endpoint_auth_methods_supported: ['bearer'],
      response_types_supported: ['token'], subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id', 'scope', 'tags'],
    });
    const rfc8414 = await ctx.fetch(`${i}/.well-known/oauth-authorization-server`);
    assert.deepEqual(await rfc8414.json(), doc);
    const jwks = await ctx.fetch(doc.jwks_uri);
    assert.equal(jwks.status, 200);
    assert.equal(jwks.headers.get('cache-control'), 'public, max-age=300');
    assert.match(jwks.headers.get('content-type'), /^application\/json/);
    const { keys } = await jwks.json();
    assert.ok(keys.length >= 1);
    for (const k of keys) {
      assert.equal(k.use, 'sig');
      assert.equal(k.alg, s.alg);
      assert.equal(k.kid, await jose.calculateJwkThumbprint(k), 'kid = RFC 7638 thumbprint');
      assert.deepEqual(Object.keys(k).sort(), s.alg === 'ES256'
        ? ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'] : ['alg', 'e', 'kid', 'kty', 'n', 'use']);
      if (k.kty === 'RSA') assert.ok(Buffer.from(k.n, 'base64url').length >= 256, 'RSA ≥ 2048 bits');
      if (k.kty === 'EC') assert.equal(k.crv, 'P-256');
    }
  }
});

// openid-client's grants; jose (Pulsar's and Trino's policies) and oauth4webapi (RFC 9068)
// accept each token, from the ES256 and the RS256 server.
test('openid-client: client_credentials (post, Basic), token exchange; validators accept', async () => {
  for (const s of Object.values(servers)) {
    const basic = await client.discovery(new URL(s.issuer), plan.user.id, undefined,
      client.ClientSecretBasic(s.key), { [client.customFetch]: ctx.fetch });
    for (const audience of serve.audiences) {
      const grants = {
        post: await client.clientCredentialsGrant(s.config, { audience }),
        basic: await client.clientCredentialsGrant(basic, { audience }),
        exchange: await client.genericGrantRequest(s.config, TOKEN_EXCHANGE,
          { subject_token: s.key, subject_token_type: API_KEY_TYPE, audience }),
      };
      assert.equal(grants.exchange.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
      for (const [grant, tokens] of Object.entries(grants)) {
        rememberSecret(tokens.access_token);
        assert.equal(tokens.token_type.toLowerCase(), 'bearer');
        assert.ok(tokens.expires_in > 0 && tokens.expires_in <= MAX_TTL);
        assert.deepEqual(tokens.scope.split(' ').sort(), plan.serviceScopes);
        await validateEverywhere(s, tokens.access_token, audience, `${s.alg} ${grant} ${audience}`);
      }
      // OIDC Core §5.3.2 as openid-client checks a userinfo answer: JSON, `sub` as expected.
      const info = await client.fetchUserInfo(s.config, grants.basic.access_token, plan.user.id);
      assert.equal(info.name, plan.user.name);
    }
    // openid-client's errors: RFC 6749 §5.2 bodies, and 401's Basic challenge.
    await assert.rejects(client.clientCredentialsGrant(s.config, { audience: 'kafka' }),
      (e) => e instanceof client.ResponseBodyError && e.error === 'invalid_target');
    const wrongKey = await client.discovery(new URL(s.issuer), plan.user.id, undefined,
      client.ClientSecretPost(`${s.key}x`), { [client.customFetch]: ctx.fetch });
    await assert.rejects(client.clientCredentialsGrant(wrongKey),
      (e) => e instanceof client.WWWAuthenticateChallengeError && e.status === 401);
  }
});

test('the bodies of Pulsar\'s Java, C++ and Go clients get tokens; their errors are RFC 6749 errors', async () => {
  const creds = JSON.parse(docs['credentials-file']);
  assert.deepEqual(Object.keys(creds).sort(), ['client_id', 'client_secret']);
  assert.equal(creds.client_id, plan.user.id);
  const java = JSON.parse(docs['java-auth-params']);
  assert.equal(java.type, 'client_credentials');
  assert.equal(java.issuerUrl, DOC_ISSUER);
  const [, url, file, audience] = docs['java-client']
    .match(/new URL\("([^"]+)"\), new URL\("([^"]+)"\),\s*"([^"]+)"/);
  assert.deepEqual([url, file, audience], [java.issuerUrl, java.privateKey, java.audience]);
  const python = JSON.parse(docs['python-client'].match(/AuthenticationOauth2\('([^']*)'\)/)[1]);
  assert.equal(python.issuer_url, DOC_ISSUER);
  assert.equal(`file://${python.private_key}`, java.privateKey, 'the same credentials file');
  const cpp = Object.fromEntries([...docs['cpp-client'].matchAll(/\{"(\w+)", ([^}]*)\}/g)]
    .map(([, k, v]) => [k, v.startsWith('"') ? JSON.parse(v) : v]));
  assert.deepEqual(Object.keys(cpp).sort(), ['audience', 'client_id', 'client_secret', 'issuer_url']);
  assert.equal(cpp.client_id, plan.user.id);
  for (const a of [java.audience, python.audience, cpp.audience]) assert.ok(serve.audiences.includes(a), a);

  for (const s of Object.values(servers)) {
    const issuerUrl = s.issuer;
    const good = { issuerUrl, clientId: creds.client_id, clientSecret: s.key };
    const clients = {
      java: (o) => javaClient(ctx.fetch, { ...o, audience: o.audience ?? java.audience }),
      'C++ (as documented)': (o) => cppClient(ctx.fetch, { ...o, audience: o.audience ?? cpp.audience }),
      'C++ without audience': (o) => cppClient(ctx.fetch, { ...o, audience: o.audience ?? '' }),
      'Go (empty audience sent)': (o) => goClient(ctx.fetch, { ...o, alwaysAudience: true }),
      'Go (audience left out)': (o) => goClient(ctx.fetch, { ...o, alwaysAudience: false }),
    };
    for (const [name, send] of Object.entries(clients)) {
      const ok = await tokenAnswer(await send(good), name);
      assertTokenOk(ok, `${s.alg} ${name}`, MAX_TTL);
      rememberSecret(ok.body.access_token);
      const aud = jose.decodeJwt(ok.body.access_token).aud;
      await validateEverywhere(s, ok.body.access_token, aud, `${s.alg} ${name}`);
      if (name.startsWith('Go') || name.endsWith('without audience')) {
        assert.equal(aud, serve.audiences[0], 'no or an empty audience: the first --token-audience');
      }
      const badSecret = await tokenAnswer(await send({ ...good, clientSecret: `${s.key}x` }), name);
      assertTokenError(badSecret, 'invalid_client', `${name} with a wrong key`);
      const otherUser = await tokenAnswer(await send({ ...good, clientId: 'admin' }), name);
      assertTokenError(otherUser, 'invalid_client', `${name} with another user's id`);
      const badAudience = await tokenAnswer(await send({ ...good, audience: 'kafka' }), name);
      assertTokenError(badAudience, 'invalid_target', `${name} for an unknown audience`);
    }
    // Scopes, space-separated: '+' in Java's encoding, ':' as %3A in curl's.
    const [one, two] = plan.serviceScopes;
    for (const [name, send, scope] of [['java', clients.java, `${one} ${two}`],
      ['C++', clients['C++ (as documented)'], one]]) {
      const scoped = await tokenAnswer(await send({ ...good, scope }), `${name} with scope`);
      assertTokenOk(scoped, `${name} with scope ${scope}`, MAX_TTL);
      rememberSecret(scoped.body.access_token);
      assert.equal(scoped.body.scope, scope);
      assert.equal(jose.decodeJwt(scoped.body.access_token).scope, scope);
    }
  }
});

test('malformed token requests get RFC 6749 errors, never 5xx', async () => {
  const s = servers.es;
  const good = { grant_type: 'client_credentials', client_id: plan.user.id, client_secret: s.key };
  const form = (o) => new URLSearchParams(o).toString();
  const cases = [
    ['no grant_type', form({ client_id: plan.user.id, client_secret: s.key }), {}, 'invalid_request'],
    ['grant_type password', form({ ...good, grant_type: 'password' }), {}, 'unsupported_grant_type'],
    ['client_id twice', `${form(good)}&client_id=${plan.user.id}`, {}, 'invalid_request'],
    ['an unknown parameter', form({ ...good, color: 'blue' }), {}, 'invalid_request'],
    ['audience and resource', form({ ...good, audience: 'pulsar', resource: 'pulsar' }), {}, 'invalid_request'],
    ['JSON', JSON.stringify(good), { 'content-type': 'application/json' }, 'invalid_request'],
    ['a 17 KiB body', form({ ...good, scope: 'a'.repeat(17 * 1024) }), {}, 'invalid_request'],
    ['Basic and form credentials', form(good),
      { authorization: `Basic ${Buffer.from(`${plan.user.id}:${s.key}`).toString('base64')}` }, 'invalid_request'],
    ['no secret', form({ grant_type: 'client_credentials', client_id: plan.user.id }), {}, 'invalid_client'],
    ['a Keyward scope', form({ ...good, scope: 'keys:read' }), {}, 'invalid_scope'],
    ['a scope the key lacks', form({ ...good, scope: 'pulsar:consume' }), {}, 'invalid_scope'],
    ['an actor token', form({ grant_type: TOKEN_EXCHANGE, subject_token: s.key,
      subject_token_type: API_KEY_TYPE, actor_token: s.key, actor_token_type: API_KEY_TYPE }), {}, 'invalid_request'],
    ['an unknown subject_token_type', form({ grant_type: TOKEN_EXCHANGE, subject_token: s.key,
      subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }), {}, 'invalid_request'],
    // RFC 8693 §2.2.2: a subject_token that is not valid is invalid_request (no client here).
    ['an unknown subject_token', form({ grant_type: TOKEN_EXCHANGE, subject_token: `${s.key}x`,
      subject_token_type: API_KEY_TYPE }), {}, 'invalid_request'],
  ];
  const wrong = [];
  for (const [what, body, headers, code] of cases) {
    try {
      assertTokenError(await tokenRequest(s, body, headers), code, what);
    } catch (e) {
      wrong.push(e.message.split('\n')[0]);
    }
  }
  const noIssue = await newKey(s, { name: 'no-tokens-issue', scopes: ['pulsar:produce'] });
  assertTokenError(await tokenRequest(s, { ...good, client_secret: noIssue }), 'unauthorized_client',
    'a key without tokens:issue');
  const elsewhere = await newKey(s, { name: 'from-10-only', scopes: plan.key.scopes,
    allowed_addresses: ['10.0.0.0/8'] });
  assertTokenError(await tokenRequest(s, { ...good, client_secret: elsewhere }), 'unauthorized_client',
    'a key used from outside its allowed addresses');
  const made = await api(s, s.admin, 'POST', '/api/v1/users/me/apikeys',
    { name: 'admin-client', scopes: ['tokens:issue'] });
  rememberSecret(made.json.token);
  const otherClient = await tokenRequest(s, { grant_type: TOKEN_EXCHANGE, subject_token: s.key,
    subject_token_type: API_KEY_TYPE, client_id: 'admin', client_secret: made.json.token });
  assertTokenError(otherClient, 'invalid_client', 'an exchange by another user\'s client');
  const byResource = await tokenRequest(s, { ...good, resource: 'trino' });
  assertTokenOk(byResource, 'resource, the RFC 8707 name of audience', MAX_TTL);
  rememberSecret(byResource.body.access_token);
  assert.equal(jose.decodeJwt(byResource.body.access_token).aud, 'trino');
  const narrowed = await tokenRequest(s, { ...good, scope: plan.serviceScopes[0] });
  assertTokenOk(narrowed, 'a narrower scope', MAX_TTL);
  assert.equal(narrowed.body.scope, plan.serviceScopes[0]);
  rememberSecret(narrowed.body.access_token);
  assert.deepEqual(wrong, [], 'every case answered as RFC 6749 / RFC 8693 say');
});

test('userinfo and introspection: what Trino\'s OAuth2 mode and services read', async () => {
  const s = servers.es;
  const cfg = properties(ours(s)(docs['trino-userinfo']));
  assert.equal(cfg['http-server.authentication.oauth2.userinfo-url'], s.meta.userinfo_endpoint);
  assert.equal(cfg['http-server.authentication.oauth2.issuer'], s.issuer);
  const field = cfg['http-server.authentication.oauth2.principal-field'];
  // Checking tokens itself, Trino's OAuth2 mode trusts the audience client-id and wants typ JWT.
  assert.equal(serve.typ[cfg['http-server.authentication.oauth2.client-id']], 'JWT');
  const byKey = await userinfo(s, s.key);
  assert.equal(byKey.status, 200, JSON.stringify(byKey.json));
  assert.equal(byKey.headers.get('content-type'), 'application/json');
  assert.equal(byKey.json[field], plan.user.id);
  assert.equal(byKey.json.name, plan.user.name);
  assert.equal(byKey.json.preferred_username, plan.user.id);
  assert.ok(Array.isArray(byKey.json.tags));
  const tagged = await api(s, s.admin, 'POST', `/api/v1/users/${plan.user.id}/tags`, { tag: 'team:streaming' });
  assert.equal(tagged.status, 200);
  const jwt = await issue(s, 'trino');
  assert.deepEqual(jose.decodeJwt(jwt).tags, ['team:streaming'], 'the key presents its owner\'s tags, live');
  const byJwt = await userinfo(s, jwt, 'POST');
  assert.equal(byJwt.status, 200);
  assert.deepEqual(byJwt.json.scope.split(' ').sort(), plan.serviceScopes);
  assert.deepEqual(byJwt.json.tags, ['team:streaming']);
  const none = await userinfo(s, undefined);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="keyward"');

  const keyId = createHash('sha256').update(s.key).digest('hex').slice(0, 24);
  const ofKey = (await introspect(s, s.key)).json;
  assert.equal(ofKey.active, true);
  assert.equal(ofKey.token_type, 'api_key');
  assert.equal(ofKey.client_id, keyId);
  assert.equal(ofKey.sub, plan.user.id);
  const ofJwt = (await introspect(s, jwt)).json;
  assert.deepEqual(Object.keys(ofJwt).sort(), ['active', 'aud', 'client_id', 'exp', 'iat', 'iss',
    'jti', 'nbf', 'scope', 'sub', 'token_type', 'username']);
  assert.equal(ofJwt.aud, 'trino');
  assert.equal(ofJwt.client_id, keyId);
  assert.equal(ofJwt.username, plan.user.name);
  assert.equal((await introspect(s, jwt, s.key)).status, 403, 'a key without the scope authorize');
  const noToken = await ctx.fetch(`${s.url}/oauth/introspect`, { method: 'POST', body: '',
    headers: { ...bearer(s.admin), 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(noToken.status, 400);
  assert.equal((await noToken.json()).error, 'invalid_request');
});

test('hostile tokens are refused at userinfo, introspection and /auth, never with a 5xx', async () => {
  for (const s of Object.values(servers)) {
    const genuine = await issue(s, gatewayAudience());
    await acceptedEverywhere(s, genuine, `${s.alg} genuine`);
    const [h64, p64, sig] = genuine.split('.');
    const header = jose.decodeProtectedHeader(genuine);
    const claims = jose.decodeJwt(genuine);
    const listed = await api(s, s.admin, 'GET', '/api/v1/signing-keys');
    assert.equal(listed.status, 200);
    const current = listed.json.keys.find((k) => k.state === 'current');
    assert.equal(current.kid, header.kid, 'the current key signs');
    const spki = Buffer.from(current.public_key_spki, 'base64');
    const pem = pemOf(spki);
    const { privateKey: stranger } = await jose.generateKeyPair(s.alg);
    const sign = (c, h, key) => new jose.SignJWT(c).setProtectedHeader(h).sign(key);
    const now = Math.floor(Date.now() / 1000);
    const hostile = {
      'alg none': `${b64json({ ...header, alg: 'none' })}.${p64}.`,
      'alg none with the signature kept': `${b64json({ ...header, alg: 'none' })}.${p64}.${sig}`,
      'HS256 keyed with the public key (DER)': await sign(claims, { ...header, alg: 'HS256' }, spki),
      'HS256 keyed with the public key (PEM)': await sign(claims, { ...header, alg: 'HS256' }, Buffer.from(pem)),
      'an unknown kid': await sign(claims, { ...header, kid: 'not-a-keyward-kid' }, stranger),
      'another key under the real kid': await sign(claims, header, stranger),
      'no kid': await sign(claims, { alg: header.alg, typ: header.typ }, stranger),
      'wrong iss (forged)': await sign({ ...claims, iss: 'https://evil.example' }, header, stranger),
      'expired (forged)': await sign({ ...claims, iat: now - 900, nbf: now - 900, exp: now - 300 }, header, stranger),
      'nbf ahead (forged)': await sign({ ...claims, nbf: now + 600 }, header, stranger),
      'tampered payload: sub': `${h64}.${b64json({ ...claims, sub: 'admin' })}.${sig}`,
      'tampered payload: exp': `${h64}.${b64json({ ...claims, exp: claims.exp + 3600 })}.${sig}`,
      'tampered payload: nbf ahead': `${h64}.${b64json({ ...claims, nbf: now + 600 })}.${sig}`,
      'tampered payload: iss': `${h64}.${b64json({ ...claims, iss: 'https://evil.example' })}.${sig}`,
      'tampered header: typ': `${b64json({ ...header, typ: 'JWT' })}.${p64}.${sig}`,
      'signature cut short': `${h64}.${p64}.${sig.slice(0, -4)}`,
      'over 8 KiB, genuine header': `${h64}.${b64json({ ...claims, pad: 'x'.repeat(9000) })}.${sig}`,
      'over 8 KiB (forged)': await sign({ ...claims, pad: 'x'.repeat(9000) }, header, stranger),
      'four segments': `${genuine}.${sig}`,
      'not base64url': `${h64}.${p64}!.${sig}`,
      'a JSON array payload': `${h64}.${Buffer.from('[1,2]').toString('base64url')}.${sig}`,
    };
    for (const [what, token] of Object.entries(hostile)) await refusedEverywhere(s, token, `${s.alg}: ${what}`);
    // Genuine, but for an audience no gateway may accept.
    const notForGateways = serve.audiences.find((a) => !serve.gateway.includes(a));
    const other = await issue(s, notForGateways);
    assert.equal((await forwardAuth(s, other)).status, 401, `/auth: a token for ${notForGateways}`);
  }
});

// Genuine signatures: expired with their key, of another issuer, for an audience no longer
// configured, and any token once the issuer is off.
test('genuine tokens refused: expired, another iss, an audience gone', async () => {
  const s = servers.es;
  // The key's own expiry caps the token's (exp = min(now + ttl, key expiry)).
  const shortKey = await newKey(s, { name: 'three-seconds', duration: '3s', scopes: plan.key.scopes });
  const short = await issue(s, gatewayAudience(), shortKey);
  const { exp } = jose.decodeJwt(short);
  assert.ok(exp <= Math.ceil(Date.now() / 1000) + 3, 'exp is capped by the key expiry');
  await acceptedEverywhere(s, short, 'before expiry', 'three-seconds');
  await sleep(exp * 1000 - Date.now() + 1100);
  await refusedEverywhere(s, short, 'expired');

  // One store, its signing keys, under two issuer strings and two audience lists in turn.
  const port = await freePort();
  const first = await startKeyward(serveArgs(port, 'ES256'));
  madeDirs.push(first.dir);
  const one = { ...first, issuer: first.url };
  one.admin = await login(one);
  assert.equal((await api(one, one.admin, 'POST', '/api/v1/users',
    { id: plan.user.id, name: plan.user.name, type: plan.user.type })).status, 201);
  one.key = await newKey(one, { name: plan.key.name, scopes: plan.key.scopes });
  const forGateway = await issue(one, gatewayAudience());
  const forPulsar = await issue(one, 'pulsar');
  await first.stop();

  const renamed = await startKeyward(serveArgs(port, 'ES256', `https://localhost:${port}`), { dir: first.dir });
  const two = { ...renamed, admin: await login(renamed) };
  try {
    await refusedEverywhere(two, forGateway, 'another iss');
  } finally {
    await renamed.stop();
  }
  const args = serveArgs(port, 'ES256').filter((w, i, a) => !['--token-audience', '--gateway-audience'].includes(w)
    && !['--token-audience', '--gateway-audience'].includes(a[i - 1]));
  const narrowed = await startKeyward([...args, '--token-audience', gatewayAudience(),
    '--gateway-audience', gatewayAudience()], { dir: first.dir });
  const three = { ...narrowed, admin: await login(narrowed) };
  try {
    await acceptedEverywhere(three, forGateway, 'the same iss and keys after a restart');
    await refusedEverywhere(three, forPulsar, 'an audience no longer configured');
  } finally {
    await narrowed.stop();
  }
  // The issuer off (no --issuer): its routes are 404, and a JWT is an unknown credential.
  const off = await startKeyward(['--listen', `127.0.0.1:${port}`, '--tls-cert', ctx.pki.cert,
    '--tls-key', ctx.pki.key], { dir: first.dir });
  try {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks.json']) {
      const res = await ctx.fetch(off.url + path);
      assert.equal(res.status, 404, path);
      assert.deepEqual(await res.json(), { error: { code: 'not_found',
        message: 'the token issuer is off: start keyward serve with --issuer URL' } });
    }
    assert.equal((await forwardAuth(off, forGateway)).status, 401, 'a JWT with the issuer off');
  } finally {
    await off.stop();
  }
});

// presto-client through nginx auth_request: Basic user:key and a Bearer token reach the engine
// until the key is deleted.
test('presto-client through nginx: Basic and Bearer until the key is deleted', async () => {
  const s = servers.es;
  const key = await newKey(s, { name: 'presto-gateway', scopes: plan.key.scopes });
  const jwt = await issue(s, gatewayAudience(), key);
  const seen = [];
  upstream = await startEngine(seen);
  const gatewayPort = await freePort(); // after the engine listens: never its port
  const dir = workDir('nginx-');
  madeDirs.push(dir);
  nginx = await startNginx(dir, gatewayConfig(s, gatewayPort, upstream.address().port), gatewayPort);
  const basic = { basic_auth: { user: plan.user.id, password: key } };
  const token = { custom_auth: `Bearer ${jwt}` };
  const wrong = await runQuery(gatewayPort, { basic_auth: { user: plan.user.id, password: `${key}x` } });
  assert.equal(wrong.error?.code, 401, 'nginx asks Keyward: a wrong key is refused');
  assert.equal(seen.length, 0);
  for (const [what, auth] of [['Basic', basic], ['Bearer', token]]) {
    const r = await runQuery(gatewayPort, auth);
    assert.ok(r.ok, `${what}: ${JSON.stringify(r.error)}`);
    assert.deepEqual(r.rows, [[plan.user.id]], `${what}: the engine runs it as the key's owner`);
  }
  assert.equal(seen.length, 4, 'two requests per query, all through nginx');
  for (const r of seen) {
    assert.equal(r.user, plan.user.id, 'nginx sets the user, not the client (mallory)');
    assert.equal(r.authorization, undefined, 'the key stays out of the engine');
    assert.equal(r.base, `https://127.0.0.1:${gatewayPort}`, 'the engine links back to nginx');
  }

  const del = await api(s, s.admin, 'DELETE', `/api/v1/users/${plan.user.id}/apikeys/presto-gateway`);
  assert.equal(del.status, 204);
  for (const [what, auth] of [['Basic', basic], ['Bearer', token]]) {
    const r = await runQuery(gatewayPort, auth);
    assert.equal(r.ok, false, `${what} after the key was deleted`);
    assert.equal(r.error.code, 401, `${what}: ${JSON.stringify(r.error)}`);
  }
  assert.equal(seen.length, 4, 'nothing reached the engine after the deletion');
  // The token's lineage: no new token, and the old one is inactive everywhere.
  const again = await tokenRequest(s,
    { grant_type: 'client_credentials', client_id: plan.user.id, client_secret: key });
  assertTokenError(again, 'invalid_client', 'client_credentials with a deleted key');
  await refusedEverywhere(s, jwt, 'a token of a deleted key');
});

test('the static key for Pulsar\'s AuthenticationProviderToken verifies the tokens', async () => {
  const s = servers.es;
  const conf = properties(docs['static-key']);
  assert.equal(conf.tokenPublicAlg, s.alg, 'the doc shows the default algorithm');
  const [prefix, sample] = conf.tokenPublicKey.split(',');
  assert.equal(prefix, 'data:;base64');
  const listed = await api(s, s.key, 'GET', '/api/v1/signing-keys');
  assert.equal(listed.status, 200, 'any signed-in caller lists the public keys');
  const current = listed.json.keys.find((k) => k.state === 'current');
  assert.ok(current.public_key_spki.startsWith(sample.replace('…', '')), 'the doc shows a P-256 SPKI');
  // Pulsar reads the DER SPKI (X509EncodedKeySpec) and ignores kid.
  const der = Buffer.from(current.public_key_spki, 'base64');
  const key = await jose.importSPKI(pemOf(der), conf.tokenPublicAlg);
  const { payload } = await jose.jwtVerify(await issue(s, 'pulsar'), key, { algorithms: [conf.tokenPublicAlg] });
  assert.equal(payload.sub, plan.user.id);
});

test('the CLI as the doc shows it: keyward token issue, keyward signing-key export --format pulsar', async () => {
  const s = servers.es;
  const env = { ...process.env, HOME: work, KEYWARD_SERVER: s.url, KEYWARD_CA_FILE: ctx.pki.ca, KEYWARD_APIKEY: s.key };
  const run = async (words) => {
    assert.equal(words[0], 'keyward');
    return (await promisify(execFile)(binary, words.slice(1), { env, timeout: 15000 })).stdout;
  };
  const words = shellWords(docs['token-issue']);
  const jwt = (await run(words)).trim();
  rememberSecret(jwt);
  await validateEverywhere(s, jwt, words[words.indexOf('--audience') + 1], 'keyward token issue');

  const printed = properties(await run(shellWords(docs['export-pulsar'])));
  const documented = properties(docs['static-key']);
  for (const name of ['tokenPublicKey', 'tokenPublicAlg']) assert.ok(documented[name] && printed[name], name);
  assert.equal(printed.tokenPublicAlg, documented.tokenPublicAlg);
  const listed = await api(s, s.key, 'GET', '/api/v1/signing-keys');
  const current = listed.json.keys.find((k) => k.state === 'current');
  assert.equal(printed.tokenPublicKey, `data:;base64,${current.public_key_spki}`);
});

test('token exchange of a session (the CLI signed in) for a JWT type', async () => {
  const s = servers.es;
  const exchanged = await tokenRequest(s, { grant_type: TOKEN_EXCHANGE, subject_token: s.admin,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token', audience: 'pulsar',
    requested_token_type: 'urn:ietf:params:oauth:token-type:jwt' });
  assertTokenOk(exchanged, 'a session exchanged', MAX_TTL);
  rememberSecret(exchanged.body.access_token);
  assert.equal(exchanged.body.issued_token_type, 'urn:ietf:params:oauth:token-type:jwt');
  assert.equal(exchanged.body.scope, undefined, 'a session has no service scopes');
  const c = jose.decodeJwt(exchanged.body.access_token);
  assert.equal(c.sub, 'admin');
  assert.equal(c.scope, undefined);
  await assert.doesNotReject(verifyPulsar(exchanged.body.access_token, policies(s).pulsar));
});

test('/metrics counts tokens issued by grant and refused by reason, and the signing time', async () => {
  const s = servers.rs;
  const read = async () => {
    const text = await (await ctx.fetch(`${s.url}/metrics`)).text();
    return (name) => Number(text.match(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm'))?.[1]);
  };
  const was = await read();
  const good = { grant_type: 'client_credentials', client_id: plan.user.id, client_secret: s.key };
  const noIssue = await newKey(s, { name: 'metrics-no-tokens-issue', scopes: ['pulsar:produce'] });
  const refusals = {
    invalid_client: { ...good, client_secret: `${s.key}x` },
    invalid_request: { client_id: plan.user.id, client_secret: s.key },
    invalid_scope: { ...good, scope: 'keys:read' },
    invalid_target: { ...good, audience: 'kafka' },
    unauthorized_client: { ...good, client_secret: noIssue },
    unsupported_grant_type: { ...good, grant_type: 'password' },
  };
  for (const [reason, params] of Object.entries(refusals)) {
    assertTokenError(await tokenRequest(s, params), reason, reason);
  }
  await issue(s, 'pulsar');
  const exchanged = await tokenRequest(s, { grant_type: TOKEN_EXCHANGE, subject_token: s.key,
    subject_token_type: API_KEY_TYPE });
  assertTokenOk(exchanged, 'token exchange', MAX_TTL);
  rememberSecret(exchanged.body.access_token);
  const now = await read();
  const delta = (name) => now(name) - was(name);
  assert.equal(delta('keyward_tokens_issued_total{grant="client_credentials"}'), 1);
  assert.equal(delta('keyward_tokens_issued_total{grant="token_exchange"}'), 1);
  for (const reason of Object.keys(refusals)) {
    assert.equal(delta(`keyward_tokens_refused_total{reason="${reason}"}`), 1, reason);
  }
  assert.equal(delta('keyward_token_signing_seconds_count'), 2);
});

test('a rotation publishes the next key before it signs; validators keep accepting the current one', async () => {
  const s = servers.rs;
  const before = await issue(s, 'trino');
  const rotated = await api(s, s.admin, 'POST', '/api/v1/signing-keys/rotate', { now: false });
  assert.equal(rotated.status, 201, JSON.stringify(rotated.json));
  assert.equal(rotated.json.state, 'next');
  const again = await api(s, s.admin, 'POST', '/api/v1/signing-keys/rotate', { now: false });
  assert.equal(again.status, 409);
  const jwks = await (await ctx.fetch(s.meta.jwks_uri)).json();
  assert.deepEqual(jwks.keys.map((k) => k.kid).sort(),
    [jose.decodeProtectedHeader(before).kid, rotated.json.kid].sort(), 'current and next published');
  const after = await issue(s, 'trino');
  assert.equal(jose.decodeProtectedHeader(after).kid, jose.decodeProtectedHeader(before).kid,
    'the next key does not sign yet');
  const trino = { ...policies(s).trino, jwks };
  for (const t of [before, after]) await assert.doesNotReject(verifyTrino(t, trino));
});
