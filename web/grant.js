// Keyward web UI: what an API key may do (its grant). The Permissions section of the Add API
// Key dialog, and the short summary the key list shows under each key's name.
//
// A grant (docs/api.md, "Scopes"): `scopes` (Keyward's own and services' scopes), `tags` (the
// owner's tags the key presents; null = all of them, live), `allowed_addresses` (CIDRs; empty =
// anywhere), and `full_access` for keys made before scopes existed. The server decides what a
// grant may hold; this page only offers what the server says the owner can use.

import { h } from './ui.js';

// Keyward's own scopes in plain words, in the order the documents list them.
export const KEYWARD_SCOPES = [
  ['keys:read', 'See my keys'],
  ['keys:write', 'Create and delete keys'],
  ['keys:reveal', 'Reveal keys'],
  ['users:read', 'Read users'],
  ['users:write', 'Manage users'],
  ['audit:read', 'Read the audit log'],
  ['authorize', 'Check other keys (authorize)'],
  ['tokens:issue', 'Issue tokens'],
  ['webhooks:read', 'Read webhooks'],
  ['webhooks:write', 'Manage webhooks'],
  ['usage:read', 'Read everyone\'s usage'],
];
// Scopes that act on other users: only an operator's key may hold them.
const OPERATOR_SCOPES = new Set(['users:read', 'users:write', 'webhooks:read', 'webhooks:write',
  'usage:read']);
const KEYWARD_SCOPE_NAMES = new Set(KEYWARD_SCOPES.map(([s]) => s));

export const FULL_ACCESS_TEXT = 'Full access — created before scopes; replace it';

// A scope's form, as the server checks it: 1 to 64 of a-z 0-9 : . _ - (the server also refuses
// unknown names in Keyward's own namespaces, such as "keys:reed").
export function validScope(text) { return /^[a-z0-9:._-]{1,64}$/.test(text); }

// A key's grant in one short line: "keys:read, minerva:query · tags: team:x · from 10.0.0.0/8";
// "no scopes" when it has none. Tags are left out when the key presents all of the owner's.
export function grantSummary(k) {
  if (k.full_access) return FULL_ACCESS_TEXT;
  const scopes = k.scopes || [];
  const parts = [scopes.length ? scopes.join(', ') : 'no scopes'];
  if (Array.isArray(k.tags)) parts.push(k.tags.length ? `tags: ${k.tags.join(', ')}` : 'no tags');
  const from = k.allowed_addresses || [];
  if (from.length) parts.push(`from ${from.join(', ')}`);
  return parts.join(' · ');
}

// The summary as an element for the key list; a full-access key is flagged as a warning.
export function grantLine(k) {
  if (k.full_access) {
    return h('div', { class: 'grant full-access', 'data-grant': '', 'data-full-access': '' },
      h('span', { 'aria-hidden': 'true' }, '⚠ '), FULL_ACCESS_TEXT);
  }
  return h('div', { class: 'grant', 'data-grant': '' }, grantSummary(k));
}

// A labelled checkbox: the label wraps the box, so clicking the words ticks it.
function checkbox(id, text, detail, attrs = {}) {
  const box = h('input', { type: 'checkbox', id, ...attrs });
  const label = h('label', { class: 'check', for: id }, box, h('span', {}, text),
    detail ? h('code', {}, detail) : null);
  return { box, label };
}

// Keyward's scopes as checkboxes, all off. Operator scopes are disabled unless
// `canManageUsers`, with a hint saying why.
function keywardScopes(canManageUsers) {
  const boxes = new Map();
  const hint = h('p', { class: 'muted hint', id: 'key-operator-hint' },
    'Read users, Manage users, the webhook scopes and Read everyone\'s usage need an operator.');
  const items = KEYWARD_SCOPES.map(([scope, words], i) => {
    const locked = OPERATOR_SCOPES.has(scope) && !canManageUsers;
    const { box, label } = checkbox(`key-scope-${i}`, words, scope, {
      value: scope, disabled: locked, 'aria-describedby': locked ? 'key-operator-hint' : null,
    });
    boxes.set(scope, box);
    return label;
  });
  const set = h('fieldset', { class: 'checks' }, h('legend', {}, 'Keyward scopes'),
    h('div', { class: 'check-grid' }, items), canManageUsers ? null : hint);
  return { set, boxes };
}

// Why `text` cannot be added as a service scope, or null when it can.
function scopeProblem(text) {
  if (!validScope(text)) return 'A scope is 1 to 64 of a-z, 0-9 and : . _ -';
  const keyward = KEYWARD_SCOPES.find(([name]) => name === text);
  return keyward ? `${text} is one of Keyward's scopes: tick “${keyward[1]}” above.` : null;
}

// The chosen scopes as chips, each with a remove button: {chips, render()}.
function chipList(chosen, onRemove) {
  const chips = h('ul', { class: 'chips', 'aria-label': 'Added scopes' });
  function render() {
    chips.replaceChildren(...chosen.map((s) => h('li', { class: 'tag', 'data-scope': s }, s,
      h('button', { type: 'button', 'aria-label': `Remove scope ${s}`, title: 'Remove',
        onclick: () => onRemove(s, true) }, '×'))));
    chips.hidden = !chosen.length;
  }
  render();
  return { chips, render };
}

// The typed service scopes, shown as chips. Enter or "Add" adds the text; Backspace in the
// empty field removes the last chip; after a removal by its button focus returns to the field;
// a hidden live line tells screen readers what was added or removed. Returns {field, add,
// chosen}: add() takes the typed text and is false (the reason shown) when it is no scope.
function serviceScopes() {
  const chosen = [];
  const input = h('input', {
    id: 'key-scope-input', autocomplete: 'off', spellcheck: 'false', maxlength: '64',
    placeholder: 'e.g. minerva:query', 'aria-describedby': 'key-scope-hint key-scope-error',
  });
  const error = h('p', { class: 'error field-error fold', id: 'key-scope-error', 'aria-live': 'polite' });
  const status = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  function removeScope(s, refocus) {
    chosen.splice(chosen.indexOf(s), 1);
    status.textContent = `Removed scope ${s}`;
    list.render();
    if (refocus) input.focus();
  }
  const list = chipList(chosen, removeScope);
  function add() {
    const s = input.value.trim();
    if (!s) return true;
    const problem = scopeProblem(s);
    if (problem) {
      error.textContent = problem;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return false;
    }
    if (!chosen.includes(s)) chosen.push(s);
    status.textContent = `Added scope ${s}`;
    input.value = '';
    list.render();
    return true;
  }
  input.addEventListener('input', () => { error.textContent = ''; input.removeAttribute('aria-invalid'); });
  input.addEventListener('keydown', (ev) => {
    // Enter adds the typed scope; in an empty field it saves the dialog, as in the others.
    if (ev.key === 'Enter' && input.value.trim()) { ev.preventDefault(); add(); }
    else if (ev.key === 'Backspace' && !input.value && chosen.length) removeScope(chosen[chosen.length - 1], false);
  });
  const field = h('div', {},
    h('label', { for: 'key-scope-input' }, 'Service scopes'),
    h('div', { class: 'row tight nowrap' }, input,
      h('button', { type: 'button', class: 'secondary', onclick: add }, 'Add')),
    h('p', { class: 'muted hint', id: 'key-scope-hint' }, 'Scopes your services require, such as minerva:query. Enter adds one.'),
    error, list.chips, status);
  return { field, add, chosen };
}

// The owner's tags as checkboxes, all ticked. All ticked sends no `tags`: the key then follows
// the owner's tags as they change.
function ownerTags(tags) {
  const boxes = tags.map((t, i) => checkbox(`key-tag-${i}`, t, null, { value: t, checked: true }));
  const set = h('fieldset', { class: 'checks' }, h('legend', {}, 'Tags'),
    tags.length ? h('div', { class: 'check-grid' }, boxes.map((b) => b.label))
      : h('p', { class: 'muted hint' }, 'The owner has no tags.'),
    tags.length ? h('p', { class: 'muted hint' }, 'All ticked: the key follows the owner’s tags as they change.') : null);
  return { set, boxes: boxes.map((b) => b.box) };
}

// The Permissions section for a key of an owner with `tags`; `canManageUsers` is GET
// /users/me's. Returns {element, read()}: read() gives the create body's grant fields (only
// those that differ from the defaults: no scopes, all tags, anywhere), or null when the typed
// service scope is not valid (its error is shown).
export function permissionsSection(tags, canManageUsers) {
  const keyward = keywardScopes(canManageUsers);
  const service = serviceScopes();
  const owner = ownerTags(tags);
  const allowed = h('input', {
    id: 'key-allowed', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'e.g. 10.0.0.0/8, 2001:db8::/32', 'aria-describedby': 'key-allowed-hint',
  });
  const element = h('fieldset', { class: 'perms' }, h('legend', {}, 'Permissions'),
    h('p', { class: 'muted hint' }, 'The key can do only what you choose here.'),
    keyward.set, service.field, owner.set,
    h('label', { for: 'key-allowed' }, 'Allowed from'), allowed,
    h('p', { class: 'muted hint', id: 'key-allowed-hint' }, 'Addresses or CIDRs, separated by commas or spaces. Empty: from anywhere.'));
  function read() {
    if (!service.add()) return null;
    const out = {};
    const scopes = [...keyward.boxes].filter(([, b]) => b.checked).map(([s]) => s);
    scopes.push(...service.chosen);
    if (scopes.length) out.scopes = scopes;
    if (owner.boxes.some((b) => !b.checked)) out.tags = owner.boxes.filter((b) => b.checked).map((b) => b.value);
    const from = allowed.value.split(/[\s,]+/).filter(Boolean);
    if (from.length) out.allowed_addresses = from;
    return out;
  }
  return { element, read };
}
