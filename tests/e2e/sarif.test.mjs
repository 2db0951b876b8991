// `keyward scan -o sarif` (issue 17, acceptance 3) against a JSON Schema validator from npm: the
// output of the real keyward binary (KEYWARD_BINARY) over a folder of planted keys must validate
// against the SARIF 2.1.0 schema with ajv, and its results must be exactly the planted keys at
// their planted places (uri, startLine, startColumn and endColumn in UTF-16 code units, as the
// run's columnKind "utf16CodeUnits" says).
//
// The schema: the SARIF 2.1.0 schema (draft-04) that Microsoft's SARIF JS SDK ships in the npm
// package @microsoft/jest-sarif (lib/schemas/sarif-2.1.0-rtm.5.json). No npm package we found
// ships the OASIS errata01 file (sarif-schema-2.1.0.json) itself; the SARIF multitool's Linux
// package ships the SDK's draft 2020-12 rewrite beside a 95 MB binary. rtm.5 is the standard's
// schema but for descriptions and a few checks the errata added (enum members also typed
// "string", `runs` may be null, a region needs startLine, charOffset or byteOffset, the
// `language` pattern); this test checks startLine itself. rtm.5's `language` pattern is no
// valid Unicode regular expression, so ajv runs the schema's patterns without the `u` flag (as
// the SDK's own ajv 6 does).
//
// The keys are real: made by a keyward server through the API (and recorded for the secrets
// scan). The planted folder lives in the temp dir, not among the artifacts, and is removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ADMIN_PASSWORD, binary, keepFiles, rememberSecret, startKeyward, workDir,
} from './oauth_harness.mjs';

const require = createRequire(import.meta.url);
const Ajv = require('ajv-draft-04');
const addFormats = require('ajv-formats');

const SCHEMA_FILE = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
const RULE = 'keyward-api-key';

let server; let corpus; let validate;
const keys = [];      // the keys the server made
const planted = [];   // {uri, startLine, startColumn} of each planted key, in its file's order

// The SARIF validator: ajv with draft-04 (the schema's dialect), every error, formats checked.
function sarifValidator() {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
  assert.equal(schema.$schema, 'http://json-schema.org/draft-04/schema#');
  assert.match(schema.title, /SARIF\) Version 2\.1\.0/);
  const ajv = new Ajv({ allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

// The validator's errors, one per line, for an assertion message.
function errorsOf(v) {
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
    .join('\n');
}

async function newKey(admin, name) {
  const res = await fetch(`${server.url}/api/v1/users/me/apikeys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, duration: '1h' }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  const { token } = JSON.parse(text);
  rememberSecret(token);
  return token;
}

// Writes `lines` (with {0}, {1}… standing for keys[i] and {%0}… for keys[i] with its '_' as
// "%5F") to `path` under the corpus, and records where each key is: its line, and the UTF-16
// columns of its first character and of the character after it, all from 1.
function plant(path, lines) {
  const out = lines.map((line, i) => {
    let text = line;
    for (;;) {
      const m = text.match(/\{(%?)(\d+)\}/);
      if (!m) break;
      const key = keys[Number(m[2])];
      const value = m[1] ? key.replace('_', '%5F') : key;
      planted.push({
        uri: path, startLine: i + 1, startColumn: m.index + 1, endColumn: m.index + 1 + value.length,
      });
      text = text.slice(0, m.index) + value + text.slice(m.index + m[0].length);
    }
    return text;
  });
  mkdirSync(dirname(join(corpus, path)), { recursive: true });
  writeFileSync(join(corpus, path), out.join('\n') + '\n');
}

// A key whose checksum does not match: its last character changed.
const badChecksum = (key) => key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');

before(async () => {
  assert.ok(binary, 'KEYWARD_BINARY must name the keyward binary');
  validate = sarifValidator();
  server = await startKeyward(['--listen', '127.0.0.1:0'], { dir: workDir('keyward-sarif-') });
  const res = await fetch(`${server.url}/api/v1/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(res.status, 200);
  const admin = (await res.json()).token;
  rememberSecret(admin);
  for (let i = 0; i < 7; i++) keys.push(await newKey(admin, `planted-${i}`));

  corpus = mkdtempSync(join(tmpdir(), 'keyward-sarif-corpus-'));
  plant('src/config.js', [
    '// settings',
    'export const settings = {',
    '  apiKey: "{0}",',
    `  old: "${badChecksum(keys[1])}",`,
    '};',
  ]);
  plant('deploy/.env', ['# deploy', 'KEYWARD_KEY={1}', 'A={2} B=\'{3}\'']);
  // Non-ASCII before the key: 'ë' is 2 bytes and 1 UTF-16 unit, '😀' 4 bytes and 2 units.
  plant('data/response.json', ['{"name":"Zoë 😀","token":"{4}","n":1}']);
  plant('docs/my notes.md', ['# Notes', '', 'Call https://api.example.com/v1?key={%5}&x=1']);
  plant('café.yaml', ['token: {6}']);
  writeFileSync(join(corpus, 'clean.txt'), 'nothing to see: kw_ but no key\n');
});

after(async () => {
  await server?.stop();
  if (!keepFiles && server) rmSync(server.dir, { recursive: true, force: true });
  if (corpus) rmSync(corpus, { recursive: true, force: true });
});

// Runs `keyward scan -o sarif` in the corpus (no PATH: the current folder).
function scan() {
  const run = spawnSync(binary, ['scan', '-o', 'sarif'], {
    cwd: corpus, encoding: 'utf8', timeout: 30000,
    env: { ...process.env, HOME: corpus, XDG_CONFIG_HOME: corpus },
  });
  assert.equal(run.error, undefined, String(run.error));
  return run;
}

// A result's {uri, startLine, startColumn, endColumn}; the uri decoded, without a leading "./".
function whereOf(result) {
  assert.equal(result.locations?.length, 1, JSON.stringify(result));
  const { artifactLocation, region } = result.locations[0].physicalLocation;
  return {
    uri: decodeURIComponent(artifactLocation.uri).replace(/^\.\//, ''),
    startLine: region.startLine,
    startColumn: region.startColumn,
    endColumn: region.endColumn,
  };
}

const order = (a, b) => a.uri.localeCompare(b.uri) || a.startLine - b.startLine
  || a.startColumn - b.startColumn;

test('keyward scan -o sarif validates against the SARIF 2.1.0 schema and finds exactly the planted keys', () => {
  const run = scan();
  assert.equal(run.status, 1, `exit ${run.status} (1: keys found)\n${run.stderr}`);
  const doc = JSON.parse(run.stdout);
  assert.ok(validate(doc), `the output breaks the SARIF 2.1.0 schema:\n${errorsOf(validate)}\n${run.stdout}`);

  assert.equal(doc.version, '2.1.0');
  assert.equal(doc.runs.length, 1);
  const [sarifRun] = doc.runs;
  // SARIF 2.1.0 §3.14.27: a run with results on text artifacts SHALL say its column unit.
  assert.equal(sarifRun.columnKind, 'utf16CodeUnits');
  assert.deepEqual(sarifRun.tool.driver.rules.map((r) => r.id), [RULE]);
  for (const result of sarifRun.results) {
    assert.equal(result.ruleId, RULE);
    assert.ok(result.message.text, 'a result without message text');
  }
  assert.deepEqual(sarifRun.results.map(whereOf).sort(order), [...planted].sort(order));

  // Only masked keys: no planted key in anything the scanner printed.
  for (const key of keys) {
    assert.ok(!run.stdout.includes(key) && !run.stderr.includes(key), 'a whole key was printed');
    assert.ok(!run.stdout.includes(key.replace('_', '%5F')), 'a whole key was printed');
  }
});

test('the validator refuses what breaks the schema (so the check above can fail)', () => {
  const doc = JSON.parse(scan().stdout);
  assert.ok(validate(doc), errorsOf(validate));
  const broken = [
    (d) => { delete d.version; },
    (d) => { d.runs[0].results[0].locations[0].physicalLocation.region.startLine = 0; },
    (d) => { d.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri = 'a b'; },
    (d) => { d.runs[0].results[0].level = 'fatal'; },
    (d) => { d.runs[0].columnKind = 'bytes'; },
    (d) => { delete d.runs[0].tool.driver.name; },
    (d) => { d.runs[0].results[0].unknown = true; },
  ];
  for (const breakIt of broken) {
    const copy = structuredClone(doc);
    breakIt(copy);
    assert.equal(validate(copy), false, `accepted: ${breakIt}`);
  }
});
