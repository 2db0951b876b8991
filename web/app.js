// Keyward web UI: sign in → Home → Profile → Tokens → Add API Key; operators also get Users.
// Plain ES modules, no build step. Every call goes to the same origin's /api/v1 with the
// session cookie and the X-Keyward-CSRF header the server requires for cookie-authenticated
// changes.

const main = document.getElementById('main');
const topbar = document.querySelector('.topbar');
const state = { me: null, settings: null };

// ---------- helpers ----------

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
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

// h('button', {class: 'x', onclick: f}, 'text', child) → element. No innerHTML anywhere.
function h(tag, attrs = {}, ...children) {
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
const eyeIcon = () => icon(['M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z', 'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z']);
const eyeOffIcon = () => icon(['M3 3l18 18', 'M10.6 6.1A10.9 10.9 0 0 1 12 6c7 0 11 6 11 6a19.6 19.6 0 0 1-3.2 3.9M6.6 6.6A19.4 19.4 0 0 0 1 12s4 7 11 7a10.7 10.7 0 0 0 5.4-1.4']);
const keyIcon = () => {
  const svg = icon(['M10.7 12.3 20 3', 'M16 7l3 3', 'M14 9l2 2', 'M12 15.5a4.5 4.5 0 1 1-9 0 4.5 4.5 0 0 1 9 0z']);
  svg.classList.add('logo');
  return svg;
};
const trashIcon = () => icon(['M3 6h18', 'M8 6V4h8v2', 'M19 6l-1 14H6L5 6']);

let toastTimer = 0;
function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 2200);
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('Copied');
  } catch {
    toast('Copy failed: select the key and copy it by hand');
  }
}

function formatExpiration(iso) {
  const when = new Date(iso);
  const days = (when - Date.now()) / 86400000;
  const rel = days < 0 ? 'expired'
    : days < 1 ? `in ${Math.max(1, Math.round(days * 24))} h` : `in ${Math.round(days)} days`;
  return { text: iso.replace('T', ' ').replace('Z', ' UTC'), rel, expired: days < 0 };
}

// A modal confirmation; resolves true when confirmed. Keyboard: Esc cancels, Enter confirms.
function confirmDialog(title, text, action) {
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

// ---------- pages ----------

function showPage(title, ...content) {
  document.title = `${title} · Keyward`;
  main.replaceChildren(...content);
  main.focus();
}

function signInPage(message) {
  topbar.hidden = true;
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, message || '');
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, keyIcon(), ' Sign in to Keyward'),
    h('label', { for: 'username' }, 'Username'), user,
    h('label', { for: 'password' }, 'Password'), pass,
    error,
    h('button', { class: 'primary wide mt', type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      await api('POST', '/login', { username: user.value.trim(), password: pass.value });
      pass.value = '';
      await loadMe();
      location.hash = '#/home';
      route();
    } catch (e) {
      error.textContent = e.status === 401 ? 'Wrong username or password.' : e.message;
      pass.select();
    }
  });
  showPage('Sign in', form);
  user.focus();
}

function homePage() {
  const me = state.me;
  showPage('Home',
    h('h1', {}, `Welcome, ${me.name}`),
    h('div', { class: 'card' },
      h('h2', {}, 'Your API keys'),
      h('p', { class: 'muted' }, 'Create keys for SQL drivers, message-broker clients and scripts, then reveal or copy them when you need them.'),
      h('div', { class: 'row' },
        h('a', { href: '#/profile/tokens', class: 'button primary' }, 'Profile → Tokens'))),
    me.operator ? h('div', { class: 'card' },
      h('h2', {}, 'Users'),
      h('p', { class: 'muted' }, 'You are an operator: create application users, tag users with roles and manage anyone’s keys.'),
      h('a', { href: '#/users' }, 'Manage users')) : null);
}

function userFacts(user) {
  return h('dl', { class: 'facts' },
    h('dt', {}, 'Name'), h('dd', {}, user.name),
    h('dt', {}, 'ID'), h('dd', {}, user.id),
    h('dt', {}, 'Type'), h('dd', {}, user.type),
    h('dt', {}, 'Tags'), h('dd', {}, user.tags.length ? user.tags.map((t) => h('span', { class: 'tag' }, t)) : h('span', { class: 'muted' }, 'none')));
}

function profilePage(tab) {
  const me = state.me;
  const tabs = [['details', 'Details', '#/profile'], ['tokens', 'Tokens', '#/profile/tokens']];
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Profile' },
    tabs.map(([id, label, href]) => h('button', {
      role: 'tab', id: `tab-${id}`, 'aria-selected': String(tab === id), 'aria-controls': 'tabpanel',
      onclick: () => { location.hash = href; },
    }, label)));
  const panel = h('section', { role: 'tabpanel', id: 'tabpanel', 'aria-labelledby': `tab-${tab}` });
  showPage('Profile', h('h1', {}, 'Profile'), h('div', { class: 'card' }, tablist, panel));
  if (tab === 'tokens') tokensPanel(panel, 'me', me);
  else panel.append(userFacts(me));
}

// The keys of `userId` ("me" or an id), in `panel`.
async function tokensPanel(panel, userId, owner) {
  const base = `/users/${encodeURIComponent(userId)}/apikeys`;
  const list = h('div', { class: 'table-wrap' });
  const fresh = h('div', { 'aria-live': 'polite' });
  const add = h('button', { class: 'primary', id: 'add-key', onclick: () => addKeyDialog(base, async (key) => {
    fresh.replaceChildren(h('div', { class: 'new-key' },
      h('strong', {}, `Key “${key.name}” created. `),
      h('span', { class: 'muted' }, 'Copy it now if this server does not keep keys for reveal.'),
      h('div', { class: 'mt' },
        h('button', { class: 'token', 'data-new-key': '', title: 'Click to copy', onclick: () => copy(key.token) }, key.token))));
    await refresh();
  }) }, '+ Add API Key');
  panel.replaceChildren(
    h('div', { class: 'row mb' },
      h('h2', { class: 'flush' }, owner && owner.id !== state.me.id ? `Tokens of ${owner.name}` : 'Tokens'),
      h('span', { class: 'spacer' }), add),
    fresh, list);

  async function reveal(name) {
    const data = await api('GET', `${base}/${encodeURIComponent(name)}/token`);
    return data.token;
  }

  async function refresh() {
    let keys;
    try { keys = await api('GET', base); } catch (e) { list.replaceChildren(h('p', { class: 'error' }, e.message)); return; }
    if (!keys.length) { list.replaceChildren(h('p', { class: 'empty' }, 'No API keys yet.')); return; }
    const rows = keys.map((k) => {
      const exp = formatExpiration(k.expiration);
      let shown = false;
      const tokenButton = h('button', { class: 'token', title: 'Click to copy the key', 'aria-label': `Copy key ${k.name}` }, k.token);
      tokenButton.addEventListener('click', async () => {
        try { await copy(shown ? tokenButton.textContent : await reveal(k.name)); }
        catch (e) { toast(e.message); }
      });
      const eye = h('button', { class: 'icon', 'aria-label': `Show key ${k.name}`, 'aria-pressed': 'false', title: 'Show the full key' }, eyeIcon());
      eye.addEventListener('click', async () => {
        try {
          shown = !shown;
          tokenButton.textContent = shown ? await reveal(k.name) : k.token;
          eye.replaceChildren(shown ? eyeOffIcon() : eyeIcon());
          eye.setAttribute('aria-pressed', String(shown));
          eye.setAttribute('aria-label', `${shown ? 'Hide' : 'Show'} key ${k.name}`);
        } catch (e) { shown = false; toast(e.message); }
      });
      const del = h('button', { class: 'icon', 'aria-label': `Delete key ${k.name}`, title: 'Delete' }, trashIcon());
      del.addEventListener('click', async () => {
        if (!await confirmDialog('Delete API key', `Delete “${k.name}”? Anything using it stops working at once.`, 'Delete')) return;
        try { await api('DELETE', `${base}/${encodeURIComponent(k.name)}`); toast('Deleted'); await refresh(); }
        catch (e) { toast(e.message); }
      });
      return h('tr', { 'data-key': k.name },
        h('td', {}, k.name),
        h('td', { class: 'hide-small' }, k.type),
        h('td', { class: exp.expired ? 'expired' : '' }, h('span', { 'data-expiration': k.expiration }, exp.text), h('br'), h('small', { class: 'muted' }, exp.rel)),
        h('td', {}, h('div', { class: 'row tight nowrap' }, tokenButton, eye)),
        h('td', {}, del));
    });
    list.replaceChildren(h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', { class: 'hide-small' }, 'Type'), h('th', {}, 'Expiration'), h('th', {}, 'Token'), h('th', {}, h('span', { class: 'hide-small' }, 'Delete')))),
      h('tbody', {}, rows)));
  }
  await refresh();
}

function addKeyDialog(base, onCreated) {
  const maxHours = Math.floor(state.settings.max_validity_seconds / 3600);
  const choices = [1, 7, 30, 90, 365];
  const name = h('input', { id: 'key-name', name: 'name', maxlength: '128', placeholder: 'e.g. presto-driver', autocomplete: 'off' });
  const validity = h('select', { id: 'key-validity', name: 'validity' },
    choices.map((d) => h('option', { value: `${d * 24}h`, disabled: d * 24 > maxHours }, `${d} day${d > 1 ? 's' : ''}${d * 24 > maxHours ? ' (over the maximum)' : ''}`)),
    h('option', { value: 'custom' }, 'Custom (hours)'));
  validity.value = '168h';
  const hours = h('input', { id: 'key-hours', name: 'hours', type: 'number', min: '1', max: String(maxHours), value: '24' });
  const custom = h('div', { hidden: true }, h('label', { for: 'key-hours' }, `Hours (at most ${maxHours})`), hours);
  validity.addEventListener('change', () => { custom.hidden = validity.value !== 'custom'; });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', {},
    h('h2', { id: 'add-title' }, 'Add API Key'),
    h('label', { for: 'key-name' }, 'Name'), name,
    h('p', { class: 'muted hint' }, 'Leave empty for a generated name.'),
    h('label', { for: 'key-validity' }, 'Validity period'), validity, custom,
    error,
    h('div', { class: 'row mt' }, h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'secondary', onclick: () => dlg.close() }, 'Cancel'),
      h('button', { type: 'submit', class: 'primary' }, 'Save')));
  const dlg = h('dialog', { 'aria-labelledby': 'add-title' }, form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const duration = validity.value === 'custom' ? `${parseInt(hours.value, 10)}h` : validity.value;
    const body = { duration };
    if (name.value.trim()) body.name = name.value.trim();
    try {
      const key = await api('POST', base, body);
      dlg.close();
      await onCreated(key);
    } catch (e) { error.textContent = e.message; }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  name.focus();
}

async function usersPage(userId) {
  if (!state.me.operator) {
    showPage('Not allowed', h('h1', {}, 'Not allowed'),
      h('div', { class: 'card', role: 'alert' }, 'The Users page is for operators (tag roles:id:operator).'));
    return;
  }
  if (userId) {
    let user;
    try { user = await api('GET', `/users/${encodeURIComponent(userId)}`); } catch (e) { showPage('Users', h('p', { class: 'error' }, e.message)); return; }
    const panel = h('section');
    showPage(`Tokens of ${user.id}`, h('p', {}, h('a', { href: '#/users' }, '← Users')), h('h1', {}, user.name), h('div', { class: 'card' }, userFacts(user)), h('div', { class: 'card' }, panel));
    tokensPanel(panel, user.id, user);
    return;
  }
  const list = h('div', { class: 'table-wrap' });
  const id = h('input', { id: 'new-user-id', required: true, placeholder: 'lakesearchapi' });
  const nm = h('input', { id: 'new-user-name', required: true, placeholder: 'lakesearch_app_token' });
  const error = h('p', { class: 'error', role: 'alert' });
  const create = h('form', { class: 'card' },
    h('h2', {}, 'Create an application user'),
    h('label', { for: 'new-user-id' }, 'User ID'), id,
    h('label', { for: 'new-user-name' }, 'Name'), nm, error,
    h('button', { class: 'primary mt', type: 'submit' }, 'Create user'));
  create.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/users', { id: id.value.trim(), name: nm.value.trim(), type: 'application' });
      id.value = ''; nm.value = ''; error.textContent = '';
      toast('User created');
      await refresh();
    } catch (e) { error.textContent = e.message; }
  });
  showPage('Users', h('h1', {}, 'Users'), h('div', { class: 'card' }, list), create);

  async function refresh() {
    const users = await api('GET', '/users');
    list.replaceChildren(h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'ID'), h('th', { class: 'hide-small' }, 'Type'), h('th', {}, 'Tags'), h('th', {}, 'Keys'))),
      h('tbody', {}, users.map((u) => {
        const tagInput = h('input', { 'aria-label': `New tag for ${u.id}`, placeholder: 'roles:id:data-dev', class: 'tag-input' });
        const addTag = h('form', { class: 'row tight mt-small' }, tagInput, h('button', { class: 'secondary', type: 'submit' }, 'Add tag'));
        addTag.addEventListener('submit', async (ev) => {
          ev.preventDefault();
          try { await api('POST', `/users/${encodeURIComponent(u.id)}/tags`, { tag: tagInput.value.trim() }); await refresh(); }
          catch (e) { toast(e.message); }
        });
        const tags = u.tags.map((t) => h('span', { class: 'tag' }, t,
          h('button', { 'aria-label': `Remove tag ${t} from ${u.id}`, onclick: async () => {
            try { await api('DELETE', `/users/${encodeURIComponent(u.id)}/tags/${encodeURIComponent(t)}`); await refresh(); }
            catch (e) { toast(e.message); }
          } }, '×')));
        return h('tr', { 'data-user': u.id }, h('td', {}, u.name), h('td', {}, u.id), h('td', { class: 'hide-small' }, u.type),
          h('td', {}, tags, addTag), h('td', {}, h('a', { href: `#/users/${encodeURIComponent(u.id)}` }, 'Open keys')));
      }))));
  }
  await refresh();
}

// ---------- routing ----------

async function loadMe() {
  const me = await api('GET', '/users/me');
  me.operator = me.tags.includes('roles:id:operator');
  state.me = me;
  if (!state.settings) state.settings = await api('GET', '/settings');
}

function markNav(page) {
  topbar.hidden = false;
  for (const a of topbar.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  topbar.querySelector('[data-nav="users"]').hidden = !state.me.operator;
}

async function route() {
  const path = location.hash.replace(/^#/, '') || '/home';
  if (!state.me) {
    try { await loadMe(); } catch { signInPage(); return; }
  }
  const parts = path.split('/').filter(Boolean);
  try {
    if (parts[0] === 'profile') { markNav('profile'); profilePage(parts[1] === 'tokens' ? 'tokens' : 'details'); }
    else if (parts[0] === 'users') { markNav('users'); await usersPage(parts[1] && decodeURIComponent(parts[1])); }
    else if (parts[0] === 'signin') { location.hash = '#/home'; }
    else { markNav('home'); homePage(); }
  } catch (e) {
    if (e.status === 401) { state.me = null; signInPage('Your session has ended. Sign in again.'); return; }
    showPage('Error', h('p', { class: 'error' }, e.message));
  }
}

document.getElementById('signout').addEventListener('click', async () => {
  try { await api('POST', '/logout'); } catch { /* signed out anyway */ }
  state.me = null;
  location.hash = '#/signin';
  signInPage();
});
window.addEventListener('hashchange', route);
route();
