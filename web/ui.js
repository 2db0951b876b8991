// Keyward web UI: the helpers every page uses — the API call, DOM building, icons, toasts,
// the clipboard, counted phrases and times, a confirmation dialog and WAI-ARIA tabs.
// No innerHTML anywhere: text always goes in as text nodes.

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

// One call to the same origin's /api/v1 with the session cookie and the X-Keyward-CSRF header
// the server requires for cookie-authenticated changes. Resolves to the JSON body (null for
// 204); rejects with an ApiError carrying the server's {code, message}.
export async function api(method, path, body) {
  const headers = { 'X-Keyward-CSRF': '1', 'Accept': 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch('/api/v1' + path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: 'error', message: res.statusText };
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}

// h('button', {class: 'x', onclick: f}, 'text', child) → element.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function icon(paths) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of paths) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}
export const eyeIcon = () => icon(['M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z', 'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z']);
export const eyeOffIcon = () => icon(['M3 3l18 18', 'M10.6 6.1A10.9 10.9 0 0 1 12 6c7 0 11 6 11 6a19.6 19.6 0 0 1-3.2 3.9M6.6 6.6A19.4 19.4 0 0 0 1 12s4 7 11 7a10.7 10.7 0 0 0 5.4-1.4']);
export const keyIcon = () => {
  const svg = icon(['M10.7 12.3 20 3', 'M16 7l3 3', 'M14 9l2 2', 'M12 15.5a4.5 4.5 0 1 1-9 0 4.5 4.5 0 0 1 9 0z']);
  svg.classList.add('logo');
  return svg;
};
export const trashIcon = () => icon(['M3 6h18', 'M8 6V4h8v2', 'M19 6l-1 14H6L5 6']);

let toastTimer = 0;
export function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 2200);
}

export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied');
  } catch {
    toast('Copy failed: select the key and copy it by hand');
  }
}

// "1 day", "2 days": every counted phrase in the UI goes through here.
export function plural(n, unit) { return `${n} ${unit}${n === 1 ? '' : 's'}`; }

// A span of seconds in the largest unit that fits: "1 minute", "5 hours", "1 day", "36 hours",
// "30 days" (hours up to two days, unless it is one day to the hour).
export function span(seconds) {
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.round(seconds / 3600);
  if (hours < 48 && hours !== 24) return plural(hours, 'hour');
  return plural(Math.round(seconds / 86400), 'day');
}

// A validity period for the Add API Key choices: whole days as days, else hours, else minutes.
export function validityLabel(seconds) {
  if (seconds % 86400 === 0) return plural(seconds / 86400, 'day');
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

// An RFC 3339 UTC time as "2026-12-06 19:53 UTC" and relative to now ("in 7 days", "2 hours
// ago"); `past` says whether it has passed.
export function formatTime(iso) {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  const past = seconds < 0;
  return {
    text: iso.slice(0, 16).replace('T', ' ') + ' UTC',
    rel: past ? `${span(-seconds)} ago` : `in ${span(seconds)}`,
    past,
  };
}

// A modal confirmation; resolves true when confirmed. Keyboard: Esc cancels, Enter confirms.
export function confirmDialog(title, text, action) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { 'aria-labelledby': 'confirm-title' },
      h('h2', { id: 'confirm-title' }, title),
      h('p', {}, text),
      h('form', { method: 'dialog', class: 'row' },
        h('span', { class: 'spacer' }),
        h('button', { value: 'cancel', class: 'secondary' }, 'Cancel'),
        h('button', { value: 'ok', class: 'danger' }, action)));
    dlg.addEventListener('close', () => { resolve(dlg.returnValue === 'ok'); dlg.remove(); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

// WAI-ARIA tabs (automatic activation): `tabs` is [{id, label, render(panel)}]. The selected
// tab alone is in the Tab order (roving tabindex); Left/Right (wrapping), Home and End move
// to and select a tab. Each panel is rendered the first time its tab is selected, and
// onSelect(id) is called on every later change. `name` prefixes the element ids; `label`
// names the tab list. Returns {tablist, panels}.
export function tabView(name, label, tabs, selected, onSelect) {
  const buttons = new Map();
  const panels = new Map();
  const rendered = new Set();
  let current = selected;
  function select(id, focus) {
    for (const t of tabs) {
      const on = t.id === id;
      buttons.get(t.id).setAttribute('aria-selected', String(on));
      buttons.get(t.id).tabIndex = on ? 0 : -1;
      panels.get(t.id).hidden = !on;
    }
    if (!rendered.has(id)) { rendered.add(id); tabs.find((t) => t.id === id).render(panels.get(id)); }
    if (focus) buttons.get(id).focus();
    if (id !== current && onSelect) onSelect(id);
    current = id;
  }
  function onKey(ev) {
    const i = tabs.findIndex((t) => buttons.get(t.id) === ev.currentTarget);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    select(tabs[(to + tabs.length) % tabs.length].id, true);
  }
  for (const t of tabs) {
    buttons.set(t.id, h('button', {
      type: 'button', role: 'tab', id: `tab-${name}-${t.id}`, 'aria-controls': `panel-${name}-${t.id}`,
      onclick: () => select(t.id, false), onkeydown: onKey,
    }, t.label));
    panels.set(t.id, h('section', {
      role: 'tabpanel', id: `panel-${name}-${t.id}`, 'aria-labelledby': `tab-${name}-${t.id}`, tabindex: '0',
    }));
  }
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': label }, [...buttons.values()]);
  select(selected, false);
  return { tablist, panels: [...panels.values()] };
}
