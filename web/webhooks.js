// Keyward web UI: the operators' Webhooks page — the list, Add (URL and event types; the
// signing secret is shown once), Delete, Test, and each webhook's recent deliveries.
// The page is shown to callers whose GET /users/me says can_manage_users; the server checks
// webhooks:read / webhooks:write on every call anyway.

import { api, confirmDialog, copy, formatTime, h, plural, toast, trashIcon } from './ui.js';

// The event types a webhook may subscribe to (src/core/webhook.h kEventTypes), with words.
export const EVENT_TYPES = [
  ['key.created', 'A key is created'],
  ['key.deleted', 'A key is deleted'],
  ['key.rotated', 'A key is rotated'],
  ['key.disabled', 'A key is disabled'],
  ['key.enabled', 'A key is enabled'],
  ['key.expiring', 'A key expires soon'],
  ['key.expired', 'A key has expired'],
  ['key.idle_revoked', 'An idle key is revoked'],
  ['key.reuse_detected', 'A rotated key is reused'],
];

// While a delivery is pending after a Test, its list is read again this often, this many times.
const POLL_MS = 1000;
const POLL_TIMES = 30;

// The banner after Add: the only place the signing secret is ever shown.
function secretBanner(hook) {
  return h('div', { class: 'new-key', 'data-secret-banner': '' },
    h('strong', {}, 'Webhook added. '),
    h('strong', {}, 'Its signing secret is shown only now: copy it now. '),
    h('span', { class: 'muted' }, 'Receivers check each delivery’s webhook-signature with it (Standard Webhooks).'),
    h('div', { class: 'mt' },
      h('button', {
        class: 'token', 'data-webhook-secret': '', title: 'Click to copy',
        'aria-label': `Copy the signing secret of ${hook.url}`, onclick: () => copy(hook.secret),
      }, hook.secret)));
}

function timeText(iso) { return iso ? formatTime(iso).text : '—'; }

// The recent deliveries of one webhook as a table (or a line saying there are none).
function deliveriesTable(list) {
  if (!list.length) return h('p', { class: 'muted flush' }, 'No deliveries yet.');
  const head = ['Event', 'Time', 'State', 'Attempts', 'Last status', 'Next attempt']
    .map((t) => h('th', { scope: 'col' }, t));
  return h('table', {},
    h('caption', { class: 'visually-hidden' }, list.length === 1 ? '1 delivery' : `${list.length} deliveries`),
    h('thead', {}, h('tr', {}, head)),
    h('tbody', {}, list.map((d) => h('tr', { 'data-delivery': d.message_id, 'data-state': d.state },
      h('td', {}, d.event_type),
      h('td', {}, timeText(d.event_time)),
      h('td', { class: `state-${d.state}`, title: d.last_error || null }, d.state),
      h('td', { 'data-attempts': '' }, String(d.attempts)),
      h('td', { 'data-last-status': '' }, d.last_status === null || d.last_status === undefined
        ? '—' : String(d.last_status)),
      h('td', {}, timeText(d.next_attempt))))));
}

// One webhook's row and the row under it for its deliveries (shown on demand).
function webhookRows(hook, refresh) {
  const path = `/webhooks/${encodeURIComponent(hook.id)}`;
  const box = h('div', { class: 'table-wrap', 'aria-live': 'polite' });
  const detail = h('tr', { class: 'wh-deliveries', 'data-deliveries-of': hook.id, hidden: true },
    h('td', { colspan: '4' }, h('h3', { class: 'visually-hidden' }, `Deliveries to ${hook.url}`), box));
  let timer = 0;
  async function load(polls) {
    clearTimeout(timer);
    let list;
    try { list = await api('GET', `${path}/deliveries?limit=20`); } catch (e) { box.replaceChildren(h('p', { class: 'error' }, e.message)); return; }
    box.replaceChildren(deliveriesTable(list));
    if (polls > 0 && detail.isConnected && list.some((d) => d.state === 'pending')) {
      timer = setTimeout(() => load(polls - 1), POLL_MS);
    }
  }
  const toggle = h('button', {
    type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-label': `Deliveries of ${hook.url}`,
  }, 'Deliveries');
  const show = async (open, polls = 0) => {
    detail.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) await load(polls);
  };
  toggle.addEventListener('click', () => show(detail.hidden));
  const test = h('button', { type: 'button', class: 'secondary', 'aria-label': `Send a test event to ${hook.url}` }, 'Test');
  test.addEventListener('click', async () => {
    try { await api('POST', `${path}/test`, {}); toast('Test event sent'); await show(true, POLL_TIMES); }
    catch (e) { toast(e.message); }
  });
  const del = h('button', { class: 'icon', 'aria-label': `Delete webhook ${hook.url}`, title: 'Delete' }, trashIcon());
  del.addEventListener('click', async () => {
    if (!await confirmDialog('Delete webhook', `Delete the webhook to ${hook.url}? Its pending deliveries are dropped.`, 'Delete')) return;
    try { await api('DELETE', path); toast('Deleted'); await refresh(); } catch (e) { toast(e.message); }
  });
  const events = hook.events.length ? hook.events.join(', ') : 'all events';
  const users = hook.users && hook.users.length ? ` · users: ${hook.users.join(', ')}` : '';
  const row = h('tr', { 'data-webhook': hook.id },
    h('td', {}, h('div', { class: 'wh-url' }, hook.url), h('small', { class: 'muted' }, hook.id)),
    h('td', { 'data-events': '' }, events + users),
    h('td', {}, timeText(hook.created), h('br'), h('small', { class: 'muted' }, `by ${hook.created_by}`)),
    h('td', {}, h('div', { class: 'row tight' }, test, toggle, del)));
  return [row, detail];
}

// The Add form: {form, error}. onAdded(hook) gets POST /webhooks' answer (with the secret).
function addForm(onAdded) {
  const url = h('input', {
    id: 'webhook-url', name: 'url', type: 'url', required: true, autocomplete: 'off',
    spellcheck: 'false', placeholder: 'https://hooks.example.com/keyward',
  });
  const boxes = EVENT_TYPES.map(([type, words], i) => {
    const box = h('input', { type: 'checkbox', id: `webhook-event-${i}`, value: type, checked: true });
    return { box, label: h('label', { class: 'check', for: box.id }, box, h('span', {}, words), h('code', {}, type)) };
  });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'webhook-add-title' },
    h('h2', { id: 'webhook-add-title' }, 'Add a webhook'),
    h('label', { for: 'webhook-url' }, 'URL'), url,
    h('fieldset', { class: 'checks' }, h('legend', {}, 'Events'),
      h('div', { class: 'check-grid' }, boxes.map((b) => b.label)),
      h('p', { class: 'muted hint' }, 'All ticked: every event type.')),
    error,
    h('button', { class: 'primary mt', type: 'submit' }, 'Add webhook'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const chosen = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
    if (!url.value.trim()) { error.textContent = 'Enter the URL to deliver to.'; url.focus(); return; }
    if (!chosen.length) { error.textContent = 'Tick at least one event.'; return; }
    const body = { url: url.value.trim() };
    if (chosen.length < boxes.length) body.events = chosen;
    try {
      const hook = await api('POST', '/webhooks', body);
      url.value = '';
      for (const b of boxes) b.box.checked = true;
      await onAdded(hook);
    } catch (e) { error.textContent = e.message; }
  });
  return form;
}

// Renders the page's content into `main` through showPage(title, ...content).
export async function webhooksPage(showPage) {
  const list = h('div', { class: 'table-wrap' });
  const fresh = h('div', { 'aria-live': 'polite' });
  const form = addForm(async (hook) => {
    fresh.replaceChildren(secretBanner(hook));
    await refresh();
  });
  showPage('Webhooks', h('h1', {}, 'Webhooks'),
    h('p', { class: 'muted' }, 'Keyward posts signed events about keys (created, rotated, expiring, …) to these URLs.'),
    fresh, h('div', { class: 'card' }, list), form);

  async function refresh() {
    const hooks = await api('GET', '/webhooks');
    if (!hooks.length) { list.replaceChildren(h('p', { class: 'empty' }, 'No webhooks yet.')); return; }
    const head = ['URL', 'Events', 'Created'].map((t) => h('th', { scope: 'col' }, t));
    list.replaceChildren(h('table', { class: 'webhooks' },
      h('caption', { class: 'visually-hidden' }, plural(hooks.length, 'webhook')),
      h('thead', {}, h('tr', {}, head, h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', {}, hooks.flatMap((hook) => webhookRows(hook, refresh)))));
  }
  await refresh();
}
