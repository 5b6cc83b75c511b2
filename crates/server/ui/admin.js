// admin.js — the Administration pages' frame (tabs) plus Users and Settings; Rooms and Phone book live in their own files.
import { t } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button, notify, confirmDialog, formDialog } from '/ui/dom.js';
import { mountRooms } from '/ui/admin-rooms.js';
import { mountPhonebook } from '/ui/admin-phonebook.js';
import { mountOutbox } from '/ui/admin-outbox.js';
import { mountTexts } from '/ui/admin-texts.js';
import { mountAudit } from '/ui/admin-audit.js';

const PAGES = [
  ['users', 'admin.users'],
  ['rooms', 'admin.rooms'],
  ['phonebook', 'admin.phonebook'],
  ['outbox', 'admin.outbox'],
  ['texts', 'admin.texts'],
  ['audit', 'admin.audit'],
  ['settings', 'admin.settings'],
];

export function mountAdmin(root, page, ctx) {
  const known = PAGES.some(([id]) => id === page) ? page : 'users';
  const title = t(PAGES.find(([id]) => id === known)[1]);
  const body = h('div', { class: 'page-body' });
  root.append(h('div', { class: 'page' },
    h('div', { class: 'page-head' },
      h('p', { class: 'eyebrow' }, t('nav.admin')),
      h('h1', {}, title)),
    h('nav', { class: 'tabs', 'aria-label': t('nav.admin') },
      h('ul', {}, PAGES.map(([id, key]) => h('li', {},
        h('a', { href: '#/admin/' + id, class: 'tab', 'aria-current': id === known ? 'page' : null }, t(key)))))),
    body));
  const mount = { users: mountUsers, rooms: mountRooms, phonebook: mountPhonebook, outbox: mountOutbox, texts: mountTexts, audit: mountAudit, settings: mountSettings }[known];
  return mount(body, ctx);
}

/** Shows an API error (the server's sentence) unless the app is already going to the login page. */
export function fail(e) {
  if (e.status !== 401) notify(e.message, 'error');
}

/** A labelled field for the add forms. */
export function field(id, label, input, hint) {
  input.id = id;
  if (hint) input.setAttribute('aria-describedby', id + '-hint');
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: id + '-hint' }, hint) : null);
}

export function checkField(id, label, input) {
  input.id = id;
  return h('div', { class: 'check' }, input, h('label', { for: id }, label));
}

// ---- Users -------------------------------------------------------------------------------------

function mountUsers(root, ctx) {
  const tbody = h('tbody');
  const table = h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, t('users.caption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('users.number')),
      h('th', { scope: 'col' }, t('users.name')),
      h('th', { scope: 'col' }, t('users.email')),
      h('th', { scope: 'col', class: 'cell-center' }, t('users.admin')),
      h('th', { scope: 'col', class: 'cell-center' }, t('users.organiser')),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('table.actions'))))),
    tbody);

  async function load() {
    try {
      const users = await api.get('/users');
      fill(tbody, users.map((u) => userRow(u)));
      if (users.length === 0) tbody.append(h('tr', {}, h('td', { colspan: '6', class: 'cell-empty' }, t('users.empty'))));
    } catch (e) { fail(e); }
  }

  function flag(u, key, label) {
    const box = h('input', { type: 'checkbox', checked: !!u[key], 'aria-label': t('users.flagAria', { flag: label, user: who(u) }) });
    box.addEventListener('change', async () => {
      const value = box.checked;
      box.disabled = true;
      try {
        await api.patch(`/users/${api.seg(u.number)}`, { [key]: value });
        u[key] = value;
        notify(t('users.saved', { user: who(u) }), 'success', 2000);
      } catch (e) {
        box.checked = !value;
        fail(e);
      } finally {
        box.disabled = false;
        box.focus();
      }
    });
    return h('td', { class: 'cell-center' }, box);
  }

  function userRow(u) {
    return h('tr', { dataset: { number: u.number } },
      h('th', { scope: 'row', class: 'mono' }, u.number),
      h('td', {}, u.name || '—'),
      h('td', {}, u.email || '—'),
      flag(u, 'admin', t('users.admin')),
      flag(u, 'organiser', t('users.organiser')),
      h('td', { class: 'cell-actions' },
        button(t('action.edit'), { icon: 'edit', class: 'btn-small', ariaLabel: t('users.editAria', { user: who(u) }), onclick: () => edit(u) }),
        button(t('action.delete'), { icon: 'trash', class: 'btn-small', variant: 'danger-outline', ariaLabel: t('users.deleteAria', { user: who(u) }), onclick: () => remove(u) })));
  }

  async function edit(u) {
    const values = await formDialog({
      title: t('users.editTitle', { user: who(u) }),
      submit: t('action.save'),
      fields: [
        { name: 'name', label: t('users.name'), value: u.name || '', autocomplete: 'off' },
        { name: 'email', label: t('users.email'), type: 'email', value: u.email || '' },
        { name: 'password', label: t('users.newPassword'), type: 'password', autocomplete: 'new-password', minlength: '8', hint: t('users.passwordKeep') },
      ],
    });
    if (!values) return;
    const changes = {};
    if (values.name !== (u.name || '')) changes.name = values.name || null;
    if (values.email !== (u.email || '')) changes.email = values.email || null;
    if (values.password) changes.password = values.password;
    if (Object.keys(changes).length === 0) return;
    try {
      await api.patch(`/users/${api.seg(u.number)}`, changes);
      notify(t('users.saved', { user: who(u) }), 'success');
      await load();
    } catch (e) { fail(e); }
  }

  async function remove(u) {
    const yes = await confirmDialog({ title: t('users.deleteTitle', { user: who(u) }), body: t('users.deleteBody'), confirm: t('action.delete') });
    if (!yes) return;
    try {
      await api.del(`/users/${api.seg(u.number)}`);
      notify(t('users.deleted', { user: who(u) }), 'success');
      await load();
      root.closest('.page').querySelector('h1').focus();
    } catch (e) { fail(e); }
  }

  // Add user
  const number = h('input', { type: 'text', required: true, autocomplete: 'off', inputmode: 'tel', maxlength: '32' });
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const email = h('input', { type: 'email', autocomplete: 'off' });
  const password = h('input', { type: 'password', required: true, minlength: '8', autocomplete: 'new-password' });
  const admin = h('input', { type: 'checkbox' });
  const organiser = h('input', { type: 'checkbox', checked: true });
  const form = h('form', { class: 'grid-form' },
    field('nu-number', t('users.number'), number),
    field('nu-name', t('users.name'), name),
    field('nu-email', t('users.email'), email),
    field('nu-password', t('users.password'), password, t('users.passwordHint')),
    h('fieldset', { class: 'checks' }, h('legend', {}, t('users.roles')),
      checkField('nu-admin', t('users.admin'), admin),
      checkField('nu-organiser', t('users.organiser'), organiser)),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), h('span', { class: 'btn-label' }, t('users.add')))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      number: number.value.trim(), name: name.value.trim() || null, email: email.value.trim() || null,
      password: password.value, admin: admin.checked, organiser: organiser.checked,
    };
    try {
      await api.post('/users', body);
      notify(t('users.added', { user: body.name || body.number }), 'success');
      form.reset();
      organiser.checked = true;
      number.focus();
      await load();
    } catch (err) {
      fail(err);
      const target = err.field && form.querySelector(`#nu-${err.field}`);
      if (target) target.focus();
    }
  });

  root.append(
    h('section', { class: 'card', 'aria-labelledby': 'users-list-title' },
      h('h2', { id: 'users-list-title' }, t('users.listTitle')),
      h('div', { class: 'table-wrap' }, table)),
    h('section', { class: 'card', 'aria-labelledby': 'users-add-title' },
      h('h2', { id: 'users-add-title' }, t('users.add')), form));
  load();
}

const who = (u) => (u.name ? `${u.name} (${u.number})` : u.number);

// ---- Settings (read-only) ---------------------------------------------------------------------

// The server sends its settings as JSON objects (keys in alphabetical order): shown in an order that reads well.
const SETTINGS_ORDER = ['trunk', 'dialin', 'registrar', 'uri', 'transport', 'outbound_proxy', 'username', 'password_set',
  'register', 'caller_id', 'ring_timeout_secs', 'internal_numbers', 'internal_uri', 'external_prefix', 'external_number',
  'shared_numbers', 'realm'];
const ordered = (object) => Object.entries(object || {}).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
const rank = (key) => { const i = SETTINGS_ORDER.indexOf(key); return i < 0 ? SETTINGS_ORDER.length : i; };

function mountSettings(root) {
  const body = h('div', { class: 'settings' }, h('p', { class: 'muted-text' }, t('common.loading')));
  root.append(h('p', { class: 'muted-text' }, t('settings.intro')), body);
  api.get('/settings')
    .then((settings) => {
      fill(body, ordered(settings).map(([section, value]) => h('section', { class: 'card', 'aria-labelledby': 'set-' + section },
        h('h2', { id: 'set-' + section }, label('settings.section.' + section, section)),
        describe(value))));
    })
    .catch((e) => { fill(body); fail(e); });
}

function label(key, raw) {
  const text = t(key);
  if (text !== key) return text;
  const words = raw.replace(/[_-]+/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function describe(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return h('p', {}, show(value));
  return h('dl', { class: 'dl' }, ordered(value).map(([k, v]) => h('div', { class: 'dl-row' },
    h('dt', {}, label(`settings.key.${k}`, k)),
    h('dd', {}, v !== null && typeof v === 'object' && !Array.isArray(v) ? describe(v) : show(v)))));
}

function show(v) {
  if (v === null || v === undefined || v === '') return h('span', { class: 'muted-text' }, t('settings.unset'));
  if (typeof v === 'boolean') {
    return h('span', { class: 'badge ' + (v ? 'badge-ok' : 'badge-warn') }, icon(v ? 'check' : 'x'), h('span', {}, v ? t('common.yes') : t('common.no')));
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return h('span', { class: 'muted-text' }, t('settings.none'));
    return h('ul', { class: 'plain-list' }, v.map((x) => h('li', { class: 'mono' }, typeof x === 'object' ? JSON.stringify(x) : String(x))));
  }
  return h('span', { class: 'mono' }, String(v));
}
