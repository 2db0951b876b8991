// What the consumers of Keyward's tokens do, for oauth.test.mjs: the validation policies of
// Pulsar's AuthenticationProviderOpenID and of Trino's JWT authenticator (emulated with jose,
// from their source: ../shared/research/oauth-interop.md §1.2, §2.1), RFC 9068 with
// oauth4webapi, and the exact token requests of Pulsar's Java, C++ and Go OAuth2 clients.
import assert from 'node:assert/strict';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';

// Pulsar's OIDC provider: RS256/384/512 and ES256/384/512 only.
const PULSAR_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];

// Pulsar's AuthenticationProviderOpenID: `iss` one of the allowed issuers (exact string), `aud`
// one of the allowed audiences, iat exp nbf sub required, no leeway (0 s), the JWK chosen by the
// token's `kid` (none: no key matches), a JWK's `alg` equal to the token's.
export async function verifyPulsar(jwt, { jwks, jwksUrl, issuers, audiences, fetch }) {
  const header = jose.decodeProtectedHeader(jwt);
  assert.ok(header.kid, 'Pulsar: a token without kid matches no JWK');
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `Pulsar: no JWK with kid ${header.kid}`);
  if (jwk.alg) assert.equal(jwk.alg, header.alg, 'Pulsar: the JWK alg must equal the token alg');
  const remote = jose.createRemoteJWKSet(new URL(jwksUrl), { [jose.customFetch]: fetch });
  const { payload } = await jose.jwtVerify(jwt, remote, {
    issuer: issuers, audience: audiences, requiredClaims: ['iat', 'exp', 'nbf', 'sub'],
    algorithms: PULSAR_ALGS, clockTolerance: 0,
  });
  const now = Math.floor(Date.now() / 1000);
  assert.ok(payload.iat <= now, `Pulsar (leeway 0): iat ${payload.iat} is ahead of ${now}`);
  return payload;
}

// Trino's JWT authenticator with a JWKS key-file: keys without kid dropped, only RSA and EC
// P-256/384/521 decoded; the token's kid required and known; jjwt's checks of the signature,
// exp and nbf (no skew); required issuer and audience; the principal from `sub`. typ is not read.
export async function verifyTrino(jwt, { jwks, issuer, audience }) {
  const header = jose.decodeProtectedHeader(jwt);
  assert.ok(header.kid, 'Trino: Key ID is required');
  const usable = jwks.keys.filter((k) => k.kid
    && (k.kty === 'RSA' || (k.kty === 'EC' && ['P-256', 'P-384', 'P-521'].includes(k.crv))));
  const jwk = usable.find((k) => k.kid === header.kid);
  assert.ok(jwk, `Trino: Unknown signing key ID ${header.kid}`);
  const key = await jose.importJWK(jwk, header.alg);
  const { payload } = await jose.jwtVerify(jwt, key, { issuer, audience, clockTolerance: 0 });
  assert.equal(typeof payload.sub, 'string');
  assert.ok(payload.sub.length > 0, 'Trino: the principal field sub is empty');
  return payload;
}

// RFC 9068 as a resource server checks it (oauth4webapi): typ at+jwt, iss, exp, aud, sub, iat,
// jti, client_id, the signature by a key of jwks_uri.
export async function verifyRfc9068(jwt, { as, audience, fetch }) {
  const request = new Request('https://resource.test/', { headers: { authorization: `Bearer ${jwt}` } });
  return oauth.validateJwtAccessToken(as, request, audience, { [oauth.customFetch]: fetch });
}

// A token endpoint answer per RFC 6749 §5.1 as Pulsar's clients read it; returns the body.
// Go's client reads an error body only when Content-Type is exactly application/json, and
// C++'s refuses expires_in ≤ 0.
export async function tokenAnswer(res, what) {
  const text = await res.text();
  assert.equal(res.headers.get('content-type'), 'application/json', `${what}: Content-Type`);
  assert.equal(res.headers.get('cache-control'), 'no-store', `${what}: Cache-Control`);
  assert.equal(res.headers.get('pragma'), 'no-cache', `${what}: Pragma`);
  assert.ok(res.status < 500, `${what}: ${res.status} ${text}`);
  return { status: res.status, body: JSON.parse(text), headers: res.headers };
}

export function assertTokenOk(answer, what, maxTtl) {
  assert.equal(answer.status, 200, `${what}: ${JSON.stringify(answer.body)}`);
  const b = answer.body;
  assert.equal(typeof b.access_token, 'string', what);
  assert.equal(b.token_type, 'Bearer', what);
  assert.ok(Number.isInteger(b.expires_in) && b.expires_in > 0 && b.expires_in <= maxTtl,
    `${what}: expires_in ${b.expires_in}`);
  assert.equal(b.refresh_token, undefined, `${what}: no refresh token for client credentials`);
}

// An RFC 6749 §5.2 error: 400 (401 with WWW-Authenticate Basic for invalid_client) and
// {"error": code}, as Java's TokenError, Go's TokenErrorResponse and C++ read it.
export function assertTokenError(answer, code, what) {
  assert.equal(answer.body.error, code, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.status, code === 'invalid_client' ? 401 : 400, what);
  if (code === 'invalid_client') {
    assert.equal(answer.headers.get('www-authenticate'), 'Basic realm="keyward"', what);
  }
  if (answer.body.error_description !== undefined) {
    assert.equal(typeof answer.body.error_description, 'string', what);
  }
}

// java.net.URLEncoder: leaves A-Z a-z 0-9 . - * _, space as +, the rest %XX.
const javaEncode = (v) => encodeURIComponent(v).replace(/%20/g, '+')
  .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
// curl_easy_escape: leaves A-Z a-z 0-9 - . _ ~, the rest %XX.
const curlEscape = (v) => encodeURIComponent(v)
  .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
// Go's url.Values.Encode (QueryEscape): as curl's, but space as +.
const goEscape = (v) => curlEscape(v).replace(/%20/g, '+');

const sortedBody = (params, escape) => Object.keys(params).sort()
  .map((k) => `${escape(k)}=${escape(params[k])}`).join('&');

// The discovery request each client makes first (issuer + /.well-known/openid-configuration,
// Accept: application/json); the token endpoint it then uses. Java parses every URL member.
async function tokenEndpointOf(fetch, issuerUrl) {
  const res = await fetch(`${issuerUrl}/.well-known/openid-configuration`,
    { headers: { accept: 'application/json' } });
  assert.equal(res.status, 200);
  const meta = await res.json();
  for (const member of ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
    assert.doesNotThrow(() => new URL(meta[member]), `Java's Metadata: ${member} is a URL`);
  }
  return meta.token_endpoint;
}

// pulsar-client TokenClient.exchangeClientCredentials: a TreeMap of grant_type, client_id,
// client_secret, and audience and scope when not blank, URLEncoder-encoded; Accept and
// Content-Type set, the User-Agent Pulsar-Java-v<version>.
export async function javaClient(fetch, { issuerUrl, clientId, clientSecret, audience, scope }) {
  const endpoint = await tokenEndpointOf(fetch, issuerUrl);
  const params = { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret };
  if (audience?.trim()) params.audience = audience;
  if (scope?.trim()) params.scope = scope;
  return fetch(endpoint, {
    method: 'POST', body: sortedBody(params, javaEncode),
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Pulsar-Java-v4.0.0' },
  });
}

// pulsar-client-cpp ClientCredentialFlow (lib/auth/AuthOauth2.cc): a std::map of grant_type,
// client_id, client_secret, audience (always, empty or not) and scope when not empty, each
// curl_easy_escape'd; curl's POST with only Content-Type set (and curl's Accept: */*).
export async function cppClient(fetch, { issuerUrl, clientId, clientSecret, audience = '', scope = '' }) {
  const endpoint = await tokenEndpointOf(fetch, issuerUrl);
  const params = { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, audience };
  if (scope) params.scope = scope;
  return fetch(endpoint, {
    method: 'POST', body: sortedBody(params, curlEscape),
    headers: { accept: '*/*', 'content-type': 'application/x-www-form-urlencoded' },
  });
}

// pulsar-client-go oauth2 TokenRetriever.newClientCredentialsRequest: url.Values encoded in key
// order; before apache/pulsar-client-go@219a2cd audience was always set (a12a7c8), since then
// only when not empty (`alwaysAudience` picks the older one). Content-Type and Content-Length
// set, Go's User-Agent and Accept-Encoding.
export async function goClient(fetch, { issuerUrl, clientId, clientSecret, audience = '', alwaysAudience }) {
  const endpoint = await tokenEndpointOf(fetch, issuerUrl);
  const params = { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret };
  if (audience || alwaysAudience) params.audience = audience;
  return fetch(endpoint, {
    method: 'POST', body: sortedBody(params, goEscape),
    headers: { 'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Go-http-client/1.1', 'accept-encoding': 'gzip' },
  });
}
