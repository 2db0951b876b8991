// Keyward web UI: a user's API keys (list, reveal, copy, delete, disable / enable) and the Add
// API Key dialog (grant.js: the Permissions section and each key's grant summary; keyedit.js:
// the badges, the Rotate and Edit dialogs and the rate limit fields; usage.js: each key's Usage
// panel and its "last used … from …").
// What the page offers follows the server's GET /settings: without `reveal`, a key is shown
// once, when created, and the list has no eye icon and nothing to copy.

import {
  api, confirmDialog, copy, eyeIcon, eyeOffIcon, formatTime, h, plural, toast, trashIcon,
  validityLabel,
} from './ui.js';
import { grantLine, permissionsSection } from './grant.js';
import { editDialog, keyBadges, rateLimitFields, rateLimitText, rotateDialog } from './keyedit.js';
import { lastUsedText, usageRow } from './usage.js';

// The key table's columns: Name, Type, Expiration, Created, Last used, Key, and Delete.
const KEY_COLUMNS = 7;

// A cell whose content is one block, labelled for the card layout of narrow screens.
function cell(label, cls, ...content) {
  return h('td', { 'data-label': label, class: cls }, h('div', {}, ...content));
}

// A time as its date and its time of day, each kept on one line: a narrow column breaks
// between them.
function timeCell(label, attr, iso, cls) {
  const t = formatTime(iso);
  const [date, time] = [t.text.slice(0, 10), t.text.slice(11)];
  return cell(label, cls, h('span', { [attr]: iso, title: iso },
    h('span', { class: 'nw' }, date), ' ', h('span', { class: 'nw' }, time)), h('br'),
    h('small', { class: 'muted' }, t.rel));
}

// The banner over the list right after a key is made or rotated (`verb`): the only place the
// full key is shown when the server keeps no copy. After a rotation it says until when the old
// key still works.
function createdBanner(key, reveal, verb = 'created') {
  const old = verb === 'rotated' && key.old_secrets && key.old_secrets[0];
  return h('div', { class: 'new-key', 'data-created-banner': '' },
    h('strong', {}, `Key “${key.name}” ${verb}. `),
    verb === 'rotated' ? h('p', { class: 'flush mb', 'data-old-key': '' }, old
      ? `The old key ${old.token} keeps working until ${formatTime(old.accepted_until).text}.`
      : 'The old key no longer works.') : null,
    reveal
      ? h('span', { class: 'muted' }, 'Click the key to copy it. The eye icon in the list shows it again later.')
      : h('span', {}, h('strong', {}, 'This key is shown only now: copy it now. '),
        h('span', { class: 'muted' }, 'This server keeps no copy, so it cannot be shown again.')),
    h('div', { class: 'mt' },
      h('button', { class: 'token', 'data-new-key': '', 'aria-label': `Copy the new key ${key.name}`, title: 'Click to copy', onclick: () => copy(key.token) }, key.token)));
}

// The buttons under a key's name: Rotate, Disable or Enable, Edit, Usage. `act` has a function
// for each (rotate, disable, enable, edit, usage) taking the key and the button.
function keyActions(k, act) {
  const button = (text, what, attrs = {}) => h('button', {
    type: 'button', class: 'link small', 'aria-label': `${text} key ${k.name}`, ...attrs,
    onclick: (ev) => act[what](k, ev.currentTarget),
  }, text);
  // A canary is never rotated, disabled or enabled, and has no usage (issue 17).
  if (k.canary) return h('div', { class: 'key-actions' }, button('Edit', 'edit'));
  return h('div', { class: 'key-actions' }, button('Rotate', 'rotate'),
    k.disabled ? button('Enable', 'enable') : button('Disable', 'disable'), button('Edit', 'edit'),
    button('Usage', 'usage', { 'aria-label': `Usage of key ${k.name}`, 'aria-expanded': 'false' }));
}

// "last used 2 minutes ago from 10.1.2.3" (the exact time in its title) or "never used".
function lastUsedCell(k) {
  return cell('Last used', '', h('span', {
    'data-last-used': k.last_used || '', class: k.last_used ? null : 'muted',
    title: k.last_used ? formatTime(k.last_used).text : null,
  }, lastUsedText(k)));
}

// One key as a table row (a card on narrow screens). `reveal(name)` fetches the full key;
// `act` has the row's actions (keyActions, and remove).
function keyRow(k, canReveal, reveal, act) {
  let tokenCell;
  if (canReveal) {
    let shown = false;
    const tokenButton = h('button', { class: 'token', title: 'Click to copy the key', 'aria-label': `Copy key ${k.name}` }, k.token);
    tokenButton.addEventListener('click', async () => {
      try { await copy(shown ? tokenButton.textContent : await reveal(k.name)); }
      catch (e) { toast(e.message); }
    });
    const eye = h('button', { class: 'icon eye', 'aria-label': `Show key ${k.name}`, 'aria-pressed': 'false', title: 'Show the full key' }, eyeIcon());
    eye.addEventListener('click', async () => {
      try {
        shown = !shown;
        tokenButton.textContent = shown ? await reveal(k.name) : k.token;
        eye.replaceChildren(shown ? eyeOffIcon() : eyeIcon());
        eye.setAttribute('aria-pressed', String(shown));
        eye.setAttribute('aria-label', `${shown ? 'Hide' : 'Show'} key ${k.name}`);
      } catch (e) { shown = false; toast(e.message); }
    });
    tokenCell = cell('Key', 'k-token', h('div', { class: 'token-line' }, tokenButton, eye));
  } else {
    tokenCell = cell('Key', 'k-token', h('span', {
      class: 'token masked', title: 'This server keeps no copy of keys: each was shown only when it was made',
    }, k.token));
  }
  const del = h('button', { class: 'icon', 'aria-label': `Delete key ${k.name}`, title: 'Delete' }, trashIcon());
  del.addEventListener('click', () => act.remove(k.name));
  const expired = formatTime(k.expiration).past;
  return h('tr', { 'data-key': k.name, 'data-status': k.status },
    h('td', { class: 'k-name' }, h('span', { class: 'k-name-text' }, k.name), keyBadges(k),
      k.description ? h('div', { class: 'k-description', 'data-description': '' }, k.description) : null,
      grantLine(k),
      k.rate_limit ? h('div', { class: 'grant', 'data-rate-limit': '' }, `Rate limit: ${rateLimitText(k)}`) : null,
      keyActions(k, act)),
    cell('Type', '', k.type),
    timeCell('Expiration', 'data-expiration', k.expiration, expired ? 'expired' : ''),
    timeCell('Created', 'data-created', k.created, ''),
    lastUsedCell(k),
    tokenCell,
    h('td', { class: 'k-del' }, del));
}

// The keys of `userId` ("me" or an id), in `panel`; `owner` is that user when not the caller.
export async function tokensPanel(panel, userId, owner, settings) {
  const base = `/users/${encodeURIComponent(userId)}/apikeys`;
  const list = h('div', { class: 'table-wrap' });
  const fresh = h('div', { 'aria-live': 'polite' });
  const add = h('button', { class: 'primary', id: 'add-key', onclick: () => addKeyDialog(userId, settings, async (key) => {
    fresh.replaceChildren(createdBanner(key, settings.reveal));
    await refresh();
  }) }, '+ Add API Key');
  panel.replaceChildren(
    h('div', { class: 'row mb' },
      h('h2', { class: 'flush' }, owner ? `Tokens of ${owner.name}` : 'Tokens'),
      h('span', { class: 'spacer' }), add),
    fresh, list);

  async function reveal(name) {
    const data = await api('GET', `${base}/${encodeURIComponent(name)}/token`);
    return data.token;
  }

  async function remove(name) {
    if (!await confirmDialog('Delete API key', `Delete “${name}”? Anything using it stops working at once.`, 'Delete')) return;
    try { await api('DELETE', `${base}/${encodeURIComponent(name)}`); toast('Deleted'); await refresh(); }
    catch (e) { toast(e.message); }
  }

  async function setDisabled(k, disabled) {
    if (disabled && !await confirmDialog('Disable API key',
      `Disable “${k.name}”? Anything using it is refused until you enable it again.`, 'Disable')) return;
    try {
      await api('PATCH', `${base}/${encodeURIComponent(k.name)}`, { disabled });
      toast(disabled ? 'Disabled' : 'Enabled');
      await refresh();
    } catch (e) { toast(e.message); }
  }

  const act = {
    remove,
    rotate: (k) => rotateDialog(base, k, async (key) => {
      fresh.replaceChildren(createdBanner(key, settings.reveal, 'rotated'));
      await refresh();
    }),
    disable: (k) => setDisabled(k, true),
    enable: (k) => setDisabled(k, false),
    edit: (k) => editDialog(base, k, async () => { toast('Saved'); await refresh(); }),
    usage: (k, button) => usage.get(k.name)?.toggle(button),
  };
  // Each listed key's Usage panel, by name.
  const usage = new Map();

  async function refresh() {
    let keys;
    try { keys = await api('GET', base); } catch (e) { list.replaceChildren(h('p', { class: 'error' }, e.message)); return; }
    if (!keys.length) { list.replaceChildren(h('p', { class: 'empty' }, 'No API keys yet.')); return; }
    const head = ['Name', 'Type', 'Expiration', 'Created', 'Last used', 'Key'].map((t) => h('th', { scope: 'col' }, t));
    usage.clear();
    const rows = keys.flatMap((k) => {
      const panel = usageRow(base, k, KEY_COLUMNS);
      usage.set(k.name, panel);
      return [keyRow(k, settings.reveal, reveal, act), panel.row];
    });
    list.replaceChildren(h('table', { class: 'keys' },
      h('caption', { class: 'visually-hidden' }, `${plural(keys.length, 'API key')}`),
      h('thead', {}, h('tr', {}, head, h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Delete')))),
      h('tbody', {}, rows)));
  }
  await refresh();
}

// The validity choices: presets, the server's default (marked) and nothing over the maximum
// selectable. Values are durations the server reads ("24h", "90s").
function validityOptions(settings) {
  const def = settings.default_validity_seconds;
  const max = settings.max_validity_seconds;
  const presets = [3600, 86400, 7 * 86400, 30 * 86400, 90 * 86400, 365 * 86400];
  const all = [...new Set([...presets, def])].sort((a, b) => a - b);
  return all.map((s) => {
    const over = s > max;
    const label = validityLabel(s) + (s === def ? ' (default)' : '') + (over ? ' (over the maximum)' : '');
    return h('option', { value: s % 3600 === 0 ? `${s / 3600}h` : `${s}s`, disabled: over, selected: s === def }, label);
  });
}

// Whole hours from 1 to `max` in `text`, or null: never NaN, never a fraction.
export function parseHours(text, max) {
  const t = text.trim();
  if (!/^[0-9]{1,7}$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 && n <= max ? n : null;
}

// What the Permissions section offers for a key of `userId`: the owner's current tags, and
// whether the caller may give operator scopes (GET /users/me's can_manage_users).
async function grantChoices(userId) {
  const me = await api('GET', '/users/me');
  const owner = userId === 'me' ? me : await api('GET', `/users/${encodeURIComponent(userId)}`);
  return { tags: owner.tags, canManageUsers: me.can_manage_users };
}

// Set while the dialog's choices load, so that a second click opens no second dialog.
let dialogLoading = false;

async function addKeyDialog(userId, settings, onCreated) {
  if (dialogLoading) return;
  const base = `/users/${encodeURIComponent(userId)}/apikeys`;
  let choices;
  dialogLoading = true;
  try { choices = await grantChoices(userId); } catch (e) { toast(e.message); return; } finally { dialogLoading = false; }
  const perms = permissionsSection(choices.tags, choices.canManageUsers);
  const maxHours = Math.floor(settings.max_validity_seconds / 3600);
  // The custom field starts at the server's default validity, in whole hours (at least 1).
  const defaultHours = Math.min(maxHours, Math.max(1, Math.round(settings.default_validity_seconds / 3600)));
  const name = h('input', { id: 'key-name', name: 'name', maxlength: '128', placeholder: 'e.g. presto-driver', autocomplete: 'off' });
  const description = h('textarea', {
    id: 'key-description', name: 'description', maxlength: '1024', rows: '2',
    placeholder: 'What uses this key (optional)',
  });
  const validity = h('select', { id: 'key-validity', name: 'validity' },
    validityOptions(settings), h('option', { value: 'custom' }, 'Custom (hours)'));
  const hoursError = h('p', { class: 'error field-error', id: 'key-hours-error', 'aria-live': 'polite' });
  const hours = h('input', {
    id: 'key-hours', name: 'hours', type: 'number', inputmode: 'numeric', min: '1', max: String(maxHours),
    step: '1', value: String(defaultHours), 'aria-describedby': 'key-hours-error',
  });
  hours.addEventListener('input', () => { hoursError.textContent = ''; hours.removeAttribute('aria-invalid'); });
  const custom = h('div', { hidden: true }, h('label', { for: 'key-hours' }, `Hours (1 to ${maxHours})`), hours, hoursError);
  validity.addEventListener('change', () => { custom.hidden = validity.value !== 'custom'; });
  const rate = rateLimitFields('key', null);
  // Issue 17: a canary takes only a name, a description and a validity; the grant fields go.
  const canary = h('input', { type: 'checkbox', id: 'key-canary', name: 'canary' });
  const canaryField = h('div', { class: 'mt' },
    h('label', { class: 'check', for: 'key-canary' }, canary, h('span', {}, 'Canary key'),
      h('code', {}, 'a decoy to plant: it never authorizes anything, and every use raises key.canary_used')));
  canary.addEventListener('change', () => {
    perms.element.hidden = canary.checked;
    rate.element.hidden = canary.checked;
  });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { novalidate: true },
    h('h2', { id: 'add-title' }, 'Add API Key'),
    h('label', { for: 'key-name' }, 'Name'), name,
    h('p', { class: 'muted hint' }, 'Leave empty for a generated name.'),
    h('label', { for: 'key-description' }, 'Description'), description,
    h('label', { for: 'key-validity' }, 'Validity period'), validity, custom,
    perms.element,
    rate.element,
    canaryField,
    error,
    h('div', { class: 'row mt' }, h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'secondary', onclick: () => dlg.close() }, 'Cancel'),
      h('button', { type: 'submit', class: 'primary' }, 'Save')));
  const dlg = h('dialog', { 'aria-labelledby': 'add-title' }, form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let duration = validity.value;
    if (duration === 'custom') {
      const n = parseHours(hours.value, maxHours);
      if (n === null) {
        hoursError.textContent = `Enter a whole number of hours from 1 to ${maxHours}.`;
        hours.setAttribute('aria-invalid', 'true');
        hours.focus();
        return;
      }
      duration = `${n}h`;
    }
    const body = { duration };
    if (canary.checked) {
      body.canary = true;
    } else {
      const limit = rate.read();
      if (limit === undefined) return;
      const grant = perms.read();
      if (grant === null) return;
      if (limit) body.rate_limit = limit;
      Object.assign(body, grant);
    }
    if (name.value.trim()) body.name = name.value.trim();
    if (description.value.trim()) body.description = description.value.trim();
    error.textContent = '';
    try {
      const key = await api('POST', base, body);
      dlg.close();
      await onCreated(key);
    } catch (e) {
      // The server is the authority on a grant: its refusal (400, 403) is shown here.
      error.textContent = e.message;
      error.scrollIntoView({ block: 'nearest' });
    }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  name.focus();
}
