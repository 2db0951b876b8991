// Keyward web UI: what changes a key after it is made — its status badges, the Rotate dialog
// (the old key lives on for a grace period) and the Edit dialog (name, description,
// expiration, rate limit); the rate limit fields the Add API Key dialog shares. Disable / Enable are one PATCH each, made by keys.js.
// The server is the authority on every change: its refusal is shown in the dialog.

import { api, formatTime, h, span } from './ui.js';

// Keys expiring within this many seconds get an "expires in …" badge.
const EXPIRY_BADGE_SECONDS = 7 * 86400;

function badge(kind, text, title) {
  return h('span', { class: `badge badge-${kind}`, 'data-badge': kind, title }, text);
}

// The old secret accepted the longest, or null when the key is not rotating.
function lastOldSecret(k) {
  const old = k.old_secrets || [];
  if (!old.length) return null;
  return old.reduce((a, b) => (Date.parse(b.accepted_until) > Date.parse(a.accepted_until) ? b : a));
}

// A key's badges, from the server's `status` and `old_secrets` and the expiration: "disabled",
// "expired", "expires in 3 days" (7 days or less), "rotating" (its title says until when each
// old key is accepted and when it was last used). Null when none applies.
export function keyBadges(k) {
  const out = [];
  if (k.canary) {
    out.push(badge('canary', 'canary', 'A decoy: it never authorizes anything, and every use raises key.canary_used'));
  }
  if (k.disabled || k.status === 'disabled') {
    out.push(badge('disabled', 'disabled', 'Refused everywhere until it is enabled again'));
  }
  const left = (Date.parse(k.expiration) - Date.now()) / 1000;
  if (left <= 0 || k.status === 'expired') {
    out.push(badge('expired', 'expired', `Expired ${formatTime(k.expiration).text}`));
  } else if (left <= EXPIRY_BADGE_SECONDS) {
    out.push(badge('expiring', `expires in ${span(left)}`, `Expires ${formatTime(k.expiration).text}`));
  }
  const last = lastOldSecret(k);
  if (last) {
    const lines = (k.old_secrets || []).map((o) => `The old key ${o.token} is accepted until `
      + `${formatTime(o.accepted_until).text}; last used ${o.last_used ? formatTime(o.last_used).text : 'never'}.`);
    const b = badge('rotating', 'rotating', lines.join('\n'));
    b.dataset.until = last.accepted_until;
    out.push(b);
  }
  return out.length ? h('span', { class: 'badges' }, out) : null;
}

// The grace presets of the Rotate dialog (Unkey's): server durations and their words.
export const GRACE_PRESETS = [
  ['0s', 'None: the old key stops at once'],
  ['1m', '1 minute'],
  ['15m', '15 minutes'],
  ['1h', '1 hour'],
  ['6h', '6 hours'],
  ['24h', '24 hours'],
];
const DEFAULT_GRACE = '1h';

// A duration as the server reads it ("10m", "1h30m"), checked for form only.
export function validDuration(text) { return /^([0-9]{1,7}[smhd])+$/.test(text); }

// A modal dialog around `form`, labelled by its heading `titleId`; removed when closed.
function modal(form, titleId) {
  const dlg = h('dialog', { 'aria-labelledby': titleId }, form);
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

// Dialog buttons: Cancel (closes) and the submit button `action`.
function dialogButtons(action, close) {
  return h('div', { class: 'row mt' }, h('span', { class: 'spacer' }),
    h('button', { type: 'button', class: 'secondary', onclick: close }, 'Cancel'),
    h('button', { type: 'submit', class: 'primary' }, action));
}

// On submit, request() checks the form and gives the call to make (null: a field's error is
// shown); on success `dlg` closes and `done` gets the answer, else `error` shows the server's
// message.
function submitTo(form, dlg, error, request, done) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      const send = request();
      if (!send) return;
      const answer = await send();
      dlg.close();
      await done(answer);
    } catch (e) {
      error.textContent = e.message;
      error.scrollIntoView({ block: 'nearest' });
    }
  });
}

// The Rotate dialog for key `k` under `base` (".../apikeys"): a grace period from the presets
// (default 1 hour) and an optional "retire when idle" duration. onRotated(key) gets the new key
// (its token in full) as POST …/rotate answers it.
export function rotateDialog(base, k, onRotated) {
  const grace = h('select', { id: 'rotate-grace', name: 'grace' },
    GRACE_PRESETS.map(([v, words]) => h('option', { value: v, selected: v === DEFAULT_GRACE },
      words + (v === DEFAULT_GRACE ? ' (default)' : ''))));
  const idle = h('input', {
    id: 'rotate-idle', name: 'retire_when_idle', autocomplete: 'off', spellcheck: 'false',
    maxlength: '32', placeholder: 'e.g. 10m', 'aria-describedby': 'rotate-idle-hint rotate-idle-error',
  });
  const idleError = h('p', { class: 'error field-error fold', id: 'rotate-idle-error', 'aria-live': 'polite' });
  const syncIdle = () => { idle.disabled = grace.value === '0s'; };
  grace.addEventListener('change', syncIdle);
  idle.addEventListener('input', () => { idleError.textContent = ''; idle.removeAttribute('aria-invalid'); });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { novalidate: true },
    h('h2', { id: 'rotate-title' }, 'Rotate API key'),
    h('p', {}, `A new key replaces “${k.name}”, with the same name and permissions. `
      + 'The old key keeps working for the grace period, so clients can switch without an outage.'),
    h('label', { for: 'rotate-grace' }, 'Grace period'), grace,
    h('label', { for: 'rotate-idle' }, 'Retire when idle (optional)'), idle,
    h('p', { class: 'muted hint', id: 'rotate-idle-hint' },
      'The old key stops sooner once it has gone unused this long, e.g. 10m. Empty: it works until the grace period ends.'),
    idleError, error,
    dialogButtons('Rotate', () => dlg.close()));
  const dlg = modal(form, 'rotate-title');
  submitTo(form, dlg, error, () => {
    const body = { grace: grace.value };
    const text = idle.value.trim();
    if (text && !idle.disabled) {
      if (!validDuration(text)) {
        idleError.textContent = 'Enter a duration such as 30s, 10m or 1h.';
        idle.setAttribute('aria-invalid', 'true');
        idle.focus();
        return null;
      }
      body.retire_when_idle = text;
    }
    return () => api('POST', `${base}/${encodeURIComponent(k.name)}/rotate`, body);
  }, onRotated);
  syncIdle();
  grace.focus();
}

// The periods a rate limit offers (server durations, 1s to 24h) and their words.
const RATE_PERIODS = [['1s', 'second'], ['1m', 'minute'], ['1h', 'hour'], ['24h', 'day']];
const MAX_RATE_REQUESTS = 1e9;

// A key's rate limit as the list shows it: "10 per 1s", or null when it has none.
export function rateLimitText(k) {
  return k.rate_limit ? `${k.rate_limit.requests} per ${k.rate_limit.per}` : null;
}

// The rate limit fields of a key dialog, ids prefixed `prefix`: requests (empty: no limit) per
// a period, starting at `current` (a key's rate_limit or null). read() gives the limit to send
// ({requests, per}), null for none, or undefined after showing why the requests are refused.
export function rateLimitFields(prefix, current) {
  const requests = h('input', {
    id: `${prefix}-rate-requests`, name: 'rate_requests', type: 'number', inputmode: 'numeric', min: '1',
    max: String(MAX_RATE_REQUESTS), step: '1', placeholder: 'no limit', value: current ? String(current.requests) : '',
    'aria-describedby': `${prefix}-rate-hint ${prefix}-rate-error`,
  });
  const periods = [...RATE_PERIODS];
  if (current && !periods.some(([v]) => v === current.per)) periods.push([current.per, current.per]);
  const per = h('select', { id: `${prefix}-rate-per`, name: 'rate_per', class: 'rate-per', 'aria-label': 'Per' },
    periods.map(([v, words]) => h('option', { value: v, selected: current ? v === current.per : v === '1s' }, `per ${words}`)));
  const error = h('p', { class: 'error field-error fold', id: `${prefix}-rate-error`, 'aria-live': 'polite' });
  requests.addEventListener('input', () => { error.textContent = ''; requests.removeAttribute('aria-invalid'); });
  const element = h('fieldset', { class: 'perms' }, h('legend', {}, 'Rate limit'),
    h('label', { for: `${prefix}-rate-requests` }, 'Requests'),
    h('div', { class: 'row tight nowrap' }, requests, per),
    h('p', { class: 'muted hint', id: `${prefix}-rate-hint` },
      'At most this many requests per period, bursts included; over it clients get 429. Empty: no limit.'),
    error);
  function read() {
    const t = requests.value.trim();
    if (!t) return null;
    const n = /^[0-9]{1,10}$/.test(t) ? Number(t) : NaN;
    if (!(n >= 1 && n <= MAX_RATE_REQUESTS)) {
      error.textContent = 'Enter a whole number of requests from 1 to 1000000000, or leave it empty.';
      requests.setAttribute('aria-invalid', 'true');
      requests.focus();
      return undefined;
    }
    return { requests: n, per: per.value };
  }
  return { element, read };
}

// Whether two rate limits (or nulls) are the same.
const sameLimit = (a, b) => (a && b ? a.requests === b.requests && a.per === b.per : !a && !b);

// "2026-12-07T10:00:00Z" → "2026-12-07T10:00" for a datetime-local field read as UTC.
function toField(iso) { return iso.slice(0, 16); }

// The Edit dialog for key `k`: name, description, expiration (UTC, to the minute) and rate
// limit (removing it sends rate_limit: null). Only what changed is sent (PATCH); onSaved(key)
// gets the key as the server answers.
export function editDialog(base, k, onSaved) {
  const name = h('input', { id: 'edit-name', name: 'name', maxlength: '128', autocomplete: 'off', value: k.name });
  const description = h('textarea', { id: 'edit-description', name: 'description', maxlength: '1024', rows: '3' });
  description.value = k.description || '';
  const expiration = h('input', {
    id: 'edit-expiration', name: 'expiration', type: 'datetime-local', step: '60', value: toField(k.expiration),
  });
  const rate = rateLimitFields('edit', k.rate_limit || null);
  rate.element.hidden = Boolean(k.canary);  // a canary takes no rate limit (issue 17)
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { novalidate: true },
    h('h2', { id: 'edit-title' }, 'Edit API key'),
    h('label', { for: 'edit-name' }, 'Name'), name,
    h('label', { for: 'edit-description' }, 'Description'), description,
    h('label', { for: 'edit-expiration' }, 'Expiration (UTC)'), expiration,
    rate.element,
    error,
    dialogButtons('Save', () => dlg.close()));
  const dlg = modal(form, 'edit-title');
  submitTo(form, dlg, error, () => {
    const body = {};
    if (name.value.trim() !== k.name) body.name = name.value.trim();
    if (description.value !== (k.description || '')) body.description = description.value;
    if (expiration.value && expiration.value !== toField(k.expiration)) {
      body.expiration = `${expiration.value.slice(0, 16)}:00Z`;
    }
    const limit = rate.read();
    if (limit === undefined) return null;
    if (!sameLimit(limit, k.rate_limit || null)) body.rate_limit = limit;
    if (!Object.keys(body).length) { error.textContent = 'Nothing changed.'; return null; }
    return () => api('PATCH', `${base}/${encodeURIComponent(k.name)}`, body);
  }, onSaved);
  name.focus();
}
