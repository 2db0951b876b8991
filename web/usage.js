// Keyward web UI: how keys are used (issue 16). Each key's Usage panel (a chart of allowed and
// denied requests over 24 hours, 7 or 30 days, from GET …/apikeys/{name}/usage), the "last
// used … from …" phrase of the key list, and the operators' busiest and most-denied keys on
// the home page (GET /usage/top).

import { api, formatTime, h } from './ui.js';
import { usageChart, usageSummary } from './chart.js';

// The ranges of a key's chart: the API's since and granularity, and their words.
export const KEY_RANGES = [
  { id: '24h', label: '24 h', since: '24h', granularity: 'hour', words: 'the last 24 hours' },
  { id: '7d', label: '7 days', since: '7d', granularity: 'day', words: 'the last 7 days' },
  { id: '30d', label: '30 days', since: '30d', granularity: 'day', words: 'the last 30 days' },
];
const TOP_RANGES = KEY_RANGES.slice(0, 2);
const TOP_LIMIT = 10;

// "last used 2 minutes ago from 10.1.2.3", "last used just now", or "never used".
export function lastUsedText(k) {
  if (!k.last_used) return 'never used';
  const t = formatTime(k.last_used);
  const ago = !t.past || Date.now() - Date.parse(k.last_used) < 45000 ? 'just now' : t.rel;
  return `last used ${ago}${k.last_address ? ` from ${k.last_address}` : ''}`;
}

// Buttons choosing one of `ranges`, the chosen one aria-pressed; onPick(range) on a click.
function rangeSwitch(label, ranges, onPick) {
  const buttons = ranges.map((r) => h('button', {
    type: 'button', class: 'seg', 'data-range': r.id, 'aria-pressed': 'false', onclick: () => onPick(r),
  }, r.label));
  const group = h('div', { class: 'segmented', role: 'group', 'aria-label': label }, buttons);
  const mark = (id) => buttons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.range === id)));
  return { group, mark };
}

// The facts under a chart: first and last use, the last address and user agent.
function usageFacts(data) {
  const parts = [];
  if (data.first_used) parts.push(`First used ${formatTime(data.first_used).text}`);
  if (data.last_used) {
    parts.push(`last used ${formatTime(data.last_used).text}`
      + (data.last_address ? ` from ${data.last_address}` : '')
      + (data.last_user_agent ? ` (${data.last_user_agent})` : ''));
  }
  const text = parts.length ? parts.join(' · ') : 'Never used';
  return h('p', { class: 'muted hint', 'data-usage-facts': '' }, text.charAt(0).toUpperCase() + text.slice(1));
}

// The chart's key: which colour is which.
function legend() {
  const item = (cls, text) => h('span', { class: 'legend-item' }, h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text);
  return h('div', { class: 'legend', 'aria-hidden': 'true' }, item('allowed', 'allowed'), item('denied', 'denied'));
}

// The Usage panel of key `k` under `base` (".../apikeys"), as a table row under the key's row
// spanning `colspan` columns; hidden until toggle(button) opens it (the button's
// aria-expanded follows). Loads 24 hours first; the chart is redrawn to the panel's width.
export function usageRow(base, k, colspan) {
  const path = `${base}/${encodeURIComponent(k.name)}/usage`;
  const box = h('div', { class: 'usage-chart-box', 'aria-live': 'polite' });
  let range = KEY_RANGES[0];
  let data = null;
  let loads = 0;  // an answer to an earlier click that arrives after a later one is dropped
  const draw = () => {
    if (!data) return;
    const chart = usageChart(data, range.words, box.clientWidth);
    chart.dataset.range = range.id;
    box.replaceChildren(h('p', { class: 'flush', 'data-usage-summary': '' }, usageSummary(data, range.words)),
      chart, legend(), usageFacts(data));
  };
  const load = async (r) => {
    const ticket = ++loads;
    range = r;
    switcher.mark(r.id);
    try {
      const answer = await api('GET', `${path}?since=${r.since}&granularity=${r.granularity}`);
      if (ticket !== loads) return;
      data = answer;
      draw();
    } catch (e) {
      if (ticket !== loads) return;
      data = null;
      box.replaceChildren(h('p', { class: 'error' }, e.message));
    }
  };
  const switcher = rangeSwitch(`Usage range of ${k.name}`, KEY_RANGES, load);
  const panel = h('div', { class: 'usage-panel', role: 'region', 'aria-label': `Usage of ${k.name}` },
    h('div', { class: 'row tight' }, h('h3', { class: 'flush' }, 'Usage'), h('span', { class: 'spacer' }), switcher.group), box);
  const row = h('tr', { class: 'usage-row', 'data-usage-of': k.name, hidden: true },
    h('td', { colspan: String(colspan) }, panel));
  let width = 0;
  let observer = null;
  async function toggle(button) {
    row.hidden = !row.hidden;
    button.setAttribute('aria-expanded', String(!row.hidden));
    if (row.hidden) return;
    width = box.clientWidth;
    observer ??= new ResizeObserver(() => {
      if (!row.hidden && Math.abs(box.clientWidth - width) > 8) { width = box.clientWidth; draw(); }
    });
    observer.observe(box);
    await load(range);
  }
  return { row, toggle };
}

// One table of GET /usage/top's keys: user, key, allowed, denied.
function topTable(caption, answer) {
  if (!answer.keys.length) return h('p', { class: 'muted' }, 'No requests counted in this range.');
  return h('table', { class: 'top-keys', 'data-top': answer.by },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['User', 'Key', 'Allowed', 'Denied'].map((t, i) => h('th', { scope: 'col', class: i > 1 ? 'num' : null }, t)))),
    h('tbody', {}, answer.keys.map((k) => h('tr', { 'data-user': k.user_id, 'data-key': k.name },
      h('td', {}, h('a', { href: `#/users/${encodeURIComponent(k.user_id)}` }, k.user_id)),
      h('td', { class: 'top-key' }, k.name),
      h('td', { class: 'num', 'data-allowed': k.allowed }, String(k.allowed)),
      h('td', { class: 'num', 'data-denied': k.denied }, String(k.denied))))));
}

// The operators' card on the home page: the busiest keys and the most-denied keys over the
// last 24 hours or 7 days. Refusals (a session without usage:read) are shown in the card.
export function topKeysCard() {
  const body = h('div', { class: 'top-grid', 'aria-live': 'polite' });
  const load = async (r) => {
    switcher.mark(r.id);
    try {
      const q = `since=${r.since}&limit=${TOP_LIMIT}`;
      const [busy, denied] = await Promise.all([
        api('GET', `/usage/top?by=requests&${q}`), api('GET', `/usage/top?by=denied&${q}`)]);
      body.replaceChildren(
        h('div', { class: 'table-wrap' }, topTable(`Busiest keys, ${r.words}`, busy)),
        h('div', { class: 'table-wrap' }, topTable(`Most denied keys, ${r.words}`, denied)));
    } catch (e) { body.replaceChildren(h('p', { class: 'error' }, e.message)); }
  };
  const switcher = rangeSwitch('Key usage range', TOP_RANGES, load);
  const card = h('section', { class: 'card', 'aria-labelledby': 'top-title', 'data-top-keys': '' },
    h('div', { class: 'row tight mb' }, h('h2', { class: 'flush', id: 'top-title' }, 'Key usage'),
      h('span', { class: 'spacer' }), switcher.group),
    body);
  load(TOP_RANGES[0]);
  return card;
}
