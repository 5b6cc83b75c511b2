// app.js — the app shell at "/": session, header (room selector, language, user menu), routing between views, login.
import { t, lang, setLang, applyI18n, onLangChange } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button, notify, initials } from '/ui/dom.js';
import { mountConference, leaveBrowserCall } from '/ui/conference.js';
import { mountAdmin } from '/ui/admin.js';
import { mountTokens, mountNotEnabled, mountAccount, loadAccount, rememberLanguage } from '/ui/account.js';
import { mountSchedule, mountChange } from '/ui/schedule.js';
import { mountConferences, mountConferencePage } from '/ui/conferences.js';

const ROOM_KEY = 'konferenz.room';
// localStorage can be switched off (private modes): remembering the room is a nicety, not a need.
const remembered = () => { try { return localStorage.getItem(ROOM_KEY); } catch { return null; } };
const remember = (number) => { try { localStorage.setItem(ROOM_KEY, number); } catch { /* not remembered */ } };
const state = { user: null, rooms: null, roomsLoading: null, view: null, route: null };

const $ = (id) => document.getElementById(id);

// ---- routing -----------------------------------------------------------------------------------
// Routes live in the hash (#/room/800, #/closed/800, #/account, #/tokens, #/admin/users, #/schedule,
// #/conferences, #/conferences/12, #/conferences/12/change …) so the server
// only serves "/" and the back button and reload work.

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { name: parts[0] || '', arg: parts[1] || null, sub: parts[2] || null };
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

const enabled = () => state.user && (state.user.admin || state.user.organiser);

async function render() {
  if (!state.user) return showLogin();
  const route = parseRoute();
  state.route = route;
  updateHeader(route);

  if (route.name === 'tokens') return show('tokens', (el) => mountTokens(el, ctx()));
  if (route.name === 'account' && state.user.number) return show('account', (el) => mountAccount(el, ctx()));
  if (route.name === 'admin') {
    if (!state.user.admin) return show('forbidden', (el) => notAllowed(el));
    return show('admin-' + (route.arg || 'users'), (el) => mountAdmin(el, route.arg || 'users', ctx()));
  }
  if (!enabled()) return show('not-enabled', (el) => mountNotEnabled(el, ctx()));

  // Scheduled conferences do not need a room; the room selector fills in meanwhile.
  if (route.name === 'schedule' || route.name === 'conferences') {
    if (!state.rooms) loadRooms().then(() => updateHeader(state.route));
    if (route.name === 'schedule') return show('schedule', (el) => mountSchedule(el, ctx()));
    if (route.arg && route.sub === 'change') return show('change-' + route.arg, (el) => mountChange(el, route.arg, ctx()));
    if (route.arg) return show('conference-' + route.arg, (el) => mountConferencePage(el, route.arg, ctx()));
    return show('conferences', (el) => mountConferences(el, ctx()));
  }

  const rooms = await loadRooms();
  // The user moved on while the rooms loaded (e.g. to Administration): that render decides.
  if (rooms === null || state.route !== route) return;
  if (route.name === 'room' && route.arg) {
    const room = rooms.find((r) => r.number === route.arg);
    if (!room) return show('no-room', (el) => noSuchRoom(el, route.arg));
    remember(room.number);
    syncRoomSelect(room.number);
    return show('room-' + room.number, (el) => mountConference(el, room, ctx()));
  }
  if (route.name === 'closed') return show('closed-' + (route.arg || ''), (el) => windowClosed(el, route.arg));
  if (rooms.length === 0) return show('no-rooms', (el) => noRooms(el));
  const last = remembered();
  const target = rooms.find((r) => r.number === last) || rooms[0];
  location.replace('#/room/' + encodeURIComponent(target.number));
}

/** Unmounts the current view (closing its event stream and timers) and mounts the next. */
function show(key, mount) {
  if (state.view && state.view.key === key && !state.view.stale) return;
  if (state.view && state.view.unmount) state.view.unmount();
  const main = $('view');
  main.replaceChildren();
  const unmount = mount(main);
  state.view = { key, unmount: typeof unmount === 'function' ? unmount : null };
  // The old view took the focus with it: put it on the new page's heading, not on <body>.
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} · konferenz` : 'konferenz';
  if (heading && (document.activeElement === document.body || !document.activeElement)) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

function ctx() {
  return {
    user: state.user, rooms: state.rooms, go, logout,
    refreshRooms: async () => { state.rooms = null; await loadRooms(); },
    accessChanged,
  };
}

async function loadRooms() {
  if (state.rooms) return state.rooms;
  // Login and the hash change it causes both ask for the rooms: one request serves both.
  if (!state.roomsLoading) {
    state.roomsLoading = api.get('/rooms')
      .then((rooms) => { state.rooms = rooms; buildRoomSelect(); return rooms; })
      .catch((e) => {
        if (e.status !== 401) show('rooms-error', (el) => errorView(el, e.message));
        return null;
      })
      .finally(() => { state.roomsLoading = null; });
  }
  return state.roomsLoading;
}

// ---- header ------------------------------------------------------------------------------------

function buildRoomSelect() {
  const select = $('room-select');
  // Off a room's window (closed, tokens, administration) the selector names no room, so that
  // picking any room — the one just closed too — is a change that opens it.
  fill(select, h('option', { value: '', disabled: true, hidden: true }, t('header.chooseRoom')),
    state.rooms.map((r) => h('option', { value: r.number }, roomLabel(r))));
  select.value = (state.route && state.route.name === 'room' && state.route.arg) || '';
  $('room-picker').hidden = state.rooms.length === 0;
}

export function roomLabel(room) {
  const own = state.user && room.number === state.user.number;
  if (room.name) return `${room.number} · ${room.name}`;
  return own ? t('room.own', { number: room.number }) : t('room.numbered', { number: room.number });
}

function syncRoomSelect(number) {
  const select = $('room-select');
  if (select.value !== number) select.value = number;
}

function updateHeader(route) {
  const loggedIn = !!state.user;
  $('user-menu').hidden = !loggedIn;
  $('room-picker').hidden = !loggedIn || !enabled() || !state.rooms || state.rooms.length === 0;
  if (route && route.name !== 'room') $('room-select').value = '';
  if (!loggedIn) return;
  fill($('user-avatar'), initials(state.user.name || ''));
  fill($('user-name'), state.user.name || state.user.number);
  fill($('user-card'),
    h('strong', {}, state.user.name || state.user.number),
    h('span', { class: 'muted-text' }, [state.user.number, state.user.email].filter(Boolean).join(' · ')),
    h('span', { class: 'muted-text' }, state.user.admin ? t('user.roleAdmin') : state.user.organiser ? t('user.roleOrganiser') : t('user.roleNone')));
  $('menu-admin').hidden = !state.user.admin;
  $('menu-rooms').hidden = !enabled();
  $('menu-conferences').hidden = !enabled();
}

function setupHeader() {
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.addEventListener('click', () => { setLang(b.dataset.lang); if (state.user) rememberLanguage(b.dataset.lang); });
  }
  $('room-select').addEventListener('change', (e) => go('#/room/' + encodeURIComponent(e.target.value)));

  const toggle = $('user-menu-button');
  const panel = $('user-menu-panel');
  const close = (focus) => {
    panel.hidden = true;
    toggle.setAttribute('aria-expanded', 'false');
    if (focus) toggle.focus();
  };
  toggle.addEventListener('click', () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open) panel.querySelector('a:not([hidden]), button:not([hidden])')?.focus();
  });
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); close(true); }
  });
  toggle.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !panel.hidden) { e.preventDefault(); close(true); }
  });
  document.addEventListener('click', (e) => {
    if (!panel.hidden && !$('user-menu').contains(e.target)) close(false);
  });
  $('user-menu').addEventListener('focusout', (e) => {
    if (!panel.hidden && e.relatedTarget && !$('user-menu').contains(e.relatedTarget)) close(false);
  });
  panel.addEventListener('click', (e) => { if (e.target.closest('a')) close(false); });
  $('menu-logout').addEventListener('click', () => { close(false); logout(); });

  $('skip-link').addEventListener('click', (e) => { e.preventDefault(); $('main').focus(); });
}

function reflectLang() {
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang()));
}

// ---- session -----------------------------------------------------------------------------------

export async function logout() {
  // A browser call ends while the session still allows it (but a slow server does not hold up the logout).
  await Promise.race([leaveBrowserCall(), new Promise((resolve) => setTimeout(resolve, 3000))]);
  try { await api.request('DELETE', '/session', { session: false }); } catch { /* gone either way */ }
  // The next person to log in starts at their own room, not on this user's page.
  history.replaceState(null, '', location.pathname);
  sessionEnded();
}

/**
 * The server ended the event stream because this user's access changed (organiser right withdrawn, room no longer
 * shared, session ended elsewhere): ask who we are now and draw the page that fits. A 401 shows the login page.
 */
async function accessChanged() {
  let data;
  try {
    ({ data } = await api.request('GET', '/session'));
  } catch (e) {
    if (e.status !== 401) notify(e.message, 'error');
    return;
  }
  state.user = data.user;
  state.rooms = null;
  if (state.view) state.view.stale = true;
  notify(t('access.changed'), 'info');
  render();
}

function sessionEnded() {
  if (state.view && state.view.unmount) state.view.unmount();
  state.view = null;
  state.user = null;
  state.rooms = null;
  api.setCsrf(null);
  showLogin();
}

async function signedIn(answer) {
  api.setCsrf(answer.csrf);
  // The account's zone and language apply before the first page is drawn (a language
  // switch meanwhile redraws only the login form).
  await loadAccount(answer.user);
  state.user = answer.user;
  state.rooms = null;
  document.body.classList.remove('logged-out');
  render();
}

function showLogin(message) {
  document.body.classList.add('logged-out');
  updateHeader(null);
  if (state.view && state.view.key === 'login') return;
  if (state.view && state.view.unmount) state.view.unmount();
  const main = $('view');
  main.replaceChildren();
  document.title = `${t('login.title')}`;
  state.view = { key: 'login', unmount: mountLogin(main, message) };
}

function mountLogin(root, message) {
  const error = h('p', { class: 'form-error', id: 'login-error', 'aria-live': 'assertive' });
  const login = h('input', { id: 'login', name: 'login', type: 'text', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('login.submit'));
  let timer = null;

  const form = h('form', { class: 'stack-form', 'aria-describedby': 'login-error' },
    h('div', { class: 'field' }, h('label', { for: 'login' }, t('login.login')), login,
      h('p', { class: 'hint', id: 'login-hint' }, t('login.loginHint'))),
    h('div', { class: 'field' }, h('label', { for: 'password' }, t('login.password')), password),
    error, submit);
  login.setAttribute('aria-describedby', 'login-hint');
  if (message) error.textContent = message;

  const countdown = (seconds) => {
    clearInterval(timer);
    let left = seconds;
    submit.disabled = true;
    const tick = () => {
      if (left <= 0) {
        clearInterval(timer);
        submit.disabled = false;
        error.textContent = '';
        error.setAttribute('aria-live', 'assertive');
        return;
      }
      error.textContent = t('login.tooMany', { seconds: left });
      left -= 1;
    };
    tick();
    // Announced once; the countdown itself only updates the screen.
    setTimeout(() => error.setAttribute('aria-live', 'off'), 500);
    timer = setInterval(tick, 1000);
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const { data } = await api.request('POST', '/session', { json: { login: login.value.trim(), password: password.value }, session: false });
      await signedIn(data);
    } catch (err) {
      submit.disabled = false;
      if (err.status === 429) countdown(err.retryAfter ?? 30);
      else {
        error.textContent = err.status === 401 && !err.message ? t('login.wrong') : err.message;
        password.select();
        password.focus();
      }
    } finally {
      form.removeAttribute('aria-busy');
    }
  });

  root.append(h('section', { class: 'login-card card', 'aria-labelledby': 'login-title' },
    h('div', { class: 'login-brand', 'aria-hidden': 'true' }, icon('phone')),
    h('h1', { id: 'login-title' }, t('login.title')),
    h('p', { class: 'muted-text' }, t('login.intro')),
    form));
  setTimeout(() => login.focus(), 0);
  return () => clearInterval(timer);
}

// ---- small views -------------------------------------------------------------------------------

function windowClosed(root, number) {
  const room = (state.rooms || []).find((r) => r.number === number);
  root.append(h('section', { class: 'empty-page card', 'aria-labelledby': 'closed-title' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('close')),
    h('h1', { id: 'closed-title' }, t('closed.title')),
    h('p', {}, room ? t('closed.body', { room: roomLabel(room) }) : t('closed.bodyNoRoom')),
    h('div', { class: 'button-row' },
      room ? button(t('closed.reopen'), { variant: 'primary', icon: 'room', onclick: () => go('#/room/' + encodeURIComponent(room.number)) }) : null,
      h('p', { class: 'muted-text' }, t('closed.chooseHint')))));
}

function noRooms(root) {
  root.append(h('section', { class: 'empty-page card', 'aria-labelledby': 'norooms-title' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('room')),
    h('h1', { id: 'norooms-title' }, t('rooms.noneTitle')),
    h('p', {}, state.user.admin ? t('rooms.noneAdmin') : t('rooms.noneBody')),
    state.user.admin ? h('a', { class: 'btn btn-primary', href: '#/admin/rooms' }, t('rooms.noneAdminLink')) : null));
}

function noSuchRoom(root, number) {
  root.append(h('section', { class: 'empty-page card', 'aria-labelledby': 'nosuch-title' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('alert')),
    h('h1', { id: 'nosuch-title' }, t('rooms.unknownTitle', { number })),
    h('p', {}, t('rooms.unknownBody')),
    h('a', { class: 'btn', href: '#/' }, t('rooms.backToMine'))));
}

function notAllowed(root) {
  root.append(h('section', { class: 'empty-page card', 'aria-labelledby': 'forbidden-title' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('ban')),
    h('h1', { id: 'forbidden-title' }, t('error.forbiddenTitle')),
    h('p', {}, t('error.forbidden')),
    h('a', { class: 'btn', href: '#/' }, t('nav.home'))));
}

function errorView(root, message) {
  root.append(h('section', { class: 'empty-page card', 'aria-labelledby': 'error-title' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('alert')),
    h('h1', { id: 'error-title' }, t('error.loadTitle')),
    h('p', {}, message),
    button(t('action.retry'), { onclick: () => { state.view = null; render(); } })));
}

// ---- start -------------------------------------------------------------------------------------

async function start() {
  applyI18n(document);
  reflectLang();
  setupHeader();
  api.onAuthLost(() => { if (state.user) notify(t('login.expired'), 'info'); sessionEnded(); });
  onLangChange(() => {
    applyI18n(document);
    reflectLang();
    if (state.rooms) buildRoomSelect();
    if (state.view) state.view.stale = true;
    if (state.user) { updateHeader(state.route); render(); } else { state.view = null; showLogin(); }
  });
  window.addEventListener('hashchange', () => { if (state.user) render(); });

  try {
    const { data } = await api.request('GET', '/session', { session: false });
    signedIn(data);
  } catch (e) {
    if (e.status === 401) showLogin();
    else showLogin(e.message);
  }
}

start();
