// Keyward web UI: sign in → Home → Profile → Tokens → Add API Key; operators also get Users,
// Webhooks and, on Home, the busiest and most-denied keys. Plain ES modules, no build step
// (ui.js: helpers; keys.js: the keys; usage.js and chart.js: usage; webhooks.js: the Webhooks
// page). What the caller may do
// comes from the server (GET /users/me's can_manage_users), never from reading tags here.

import { api, h, keyIcon, tabView, toast } from './ui.js';
import { tokensPanel } from './keys.js';
import { topKeysCard } from './usage.js';
import { webhooksPage } from './webhooks.js';

const main = document.getElementById('main');
const topbar = document.querySelector('.topbar');
// me: GET /users/me (with can_manage_users, decided by the server); settings: GET /settings.
const state = { me: null, settings: null };

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
      h('p', { class: 'muted' }, state.settings.reveal
        ? 'Create keys for SQL drivers, message-broker clients and scripts, then reveal or copy them when you need them.'
        : 'Create keys for SQL drivers, message-broker clients and scripts. This server shows each key once, when it is created: copy it then.'),
      h('div', { class: 'row' },
        h('a', { href: '#/profile/tokens', class: 'button primary' }, 'Profile → Tokens'))),
    me.can_manage_users ? h('div', { class: 'card' },
      h('h2', {}, 'Users'),
      h('p', { class: 'muted' }, 'You are an operator: create application users, tag users with roles and manage anyone’s keys.'),
      h('a', { href: '#/users' }, 'Manage users'), ' · ',
      h('a', { href: '#/webhooks' }, 'Webhooks')) : null,
    me.can_manage_users ? topKeysCard() : null);
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
  const hrefs = { details: '#/profile', tokens: '#/profile/tokens' };
  const { tablist, panels } = tabView('profile', 'Profile', [
    { id: 'details', label: 'Details', render: (panel) => panel.append(userFacts(me)) },
    { id: 'tokens', label: 'Tokens', render: (panel) => tokensPanel(panel, 'me', null, state.settings) },
  ], tab, (id) => history.replaceState(null, '', hrefs[id]));
  showPage('Profile', h('h1', {}, 'Profile'), h('div', { class: 'card' }, tablist, panels));
}

// True when the caller is an operator; otherwise shows that `page` is for operators.
function operatorOnly(page) {
  if (state.me.can_manage_users) return true;
  showPage('Not allowed', h('h1', {}, 'Not allowed'),
    h('div', { class: 'card', role: 'alert' }, `The ${page} page is for operators.`));
  return false;
}

async function usersPage(userId) {
  if (!operatorOnly('Users')) return;
  if (userId) {
    let user;
    try { user = await api('GET', `/users/${encodeURIComponent(userId)}`); } catch (e) { showPage('Users', h('p', { class: 'error' }, e.message)); return; }
    const panel = h('section');
    showPage(`Tokens of ${user.id}`, h('p', {}, h('a', { href: '#/users' }, '← Users')), h('h1', {}, user.name), h('div', { class: 'card' }, userFacts(user)), h('div', { class: 'card' }, panel));
    tokensPanel(panel, user.id, user, state.settings);
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
  state.me = await api('GET', '/users/me');
  if (!state.settings) state.settings = await api('GET', '/settings');
}

function markNav(page) {
  topbar.hidden = false;
  for (const a of topbar.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const page of ['users', 'webhooks']) {
    topbar.querySelector(`[data-nav="${page}"]`).hidden = !state.me.can_manage_users;
  }
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
    else if (parts[0] === 'webhooks') { markNav('webhooks'); if (operatorOnly('Webhooks')) await webhooksPage(showPage); }
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
