// account.js — the user's own pages: My account (time zone, language, password), API tokens, and "not enabled for conferences" for users without a role.
import { t, lang, setLang } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button, notify, confirmDialog, copyText } from '/ui/dom.js';
import { allZones, browserZone, formatUnix, setChosenZone } from '/ui/zones.js';

/** The account's settings as last read or saved (null before, or for the local administrator). */
let account = null;

/** Reads the account's settings after login and applies them: the zone times are shown in, the language. */
export async function loadAccount(user) {
  account = null;
  setChosenZone(null);
  if (!user.number) return;
  try {
    account = await api.get('/account');
  } catch {
    return; // the window works with the browser's zone and language
  }
  setChosenZone(account.time_zone);
  if (account.language) setLang(account.language);
}

/** The header's language switch: a user who chose a language keeps the new one on every device. */
export async function rememberLanguage(next) {
  if (!account || !account.language || account.language === next) return;
  try {
    account = await api.put('/account', { time_zone: account.time_zone, language: next });
  } catch { /* the switch still applies in this browser */ }
}

/** My account: name, number and e-mail; time zone and language; the password (web and phone). */
export function mountAccount(root, ctx) {
  const zoneSelect = h('select', { id: 'account-zone', name: 'time_zone', 'aria-describedby': 'account-zone-hint account-zone-error' });
  const langSelect = h('select', { id: 'account-lang', name: 'language', 'aria-describedby': 'account-lang-error' },
    h('option', { value: '' }, t('account.langBrowser')),
    h('option', { value: 'en', lang: 'en' }, 'English'),
    h('option', { value: 'de', lang: 'de' }, 'Deutsch'));
  const errors = {
    time_zone: h('p', { id: 'account-zone-error', class: 'field-error' }),
    language: h('p', { id: 'account-lang-error', class: 'field-error' }),
    current_password: h('p', { id: 'account-current-error', class: 'field-error' }),
    new_password: h('p', { id: 'account-new-error', class: 'field-error' }),
    repeat: h('p', { id: 'account-repeat-error', class: 'field-error' }),
  };
  const controls = {};
  const showError = (field, message) => {
    errors[field].textContent = message || '';
    if (controls[field]) {
      if (message) controls[field].setAttribute('aria-invalid', 'true');
      else controls[field].removeAttribute('aria-invalid');
    }
  };
  const facts = h('dl', { class: 'conf-facts' });
  const saveSettings = h('button', { type: 'submit', class: 'btn btn-primary' }, h('span', { class: 'btn-label' }, t('account.save')));
  const settingsForm = h('form', { class: 'stack-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'account-zone' }, t('account.zone')), zoneSelect,
      h('p', { id: 'account-zone-hint', class: 'hint' }, t('account.zoneHint')), errors.time_zone),
    h('div', { class: 'field' }, h('label', { for: 'account-lang' }, t('account.lang')), langSelect, errors.language),
    h('div', { class: 'button-row' }, saveSettings));
  controls.time_zone = zoneSelect;
  controls.language = langSelect;

  const passwordField = (id, name, label, autocomplete) => {
    const input = h('input', { id, name, type: 'password', autocomplete, required: true, 'aria-describedby': errors[name].id });
    controls[name] = input;
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, errors[name]);
  };
  const savePassword = h('button', { type: 'submit', class: 'btn btn-primary' }, h('span', { class: 'btn-label' }, t('account.changePassword')));
  const passwordForm = h('form', { class: 'stack-form', novalidate: true },
    h('input', { type: 'text', name: 'username', autocomplete: 'username', value: ctx.user.number || '', hidden: true, readOnly: true }),
    passwordField('account-current', 'current_password', t('account.current'), 'current-password'),
    passwordField('account-new', 'new_password', t('account.new'), 'new-password'),
    passwordField('account-repeat', 'repeat', t('account.repeat'), 'new-password'),
    h('p', { class: 'hint' }, t('account.passwordHint')),
    h('div', { class: 'button-row' }, savePassword));

  function show(a) {
    fill(facts,
      h('div', { class: 'conf-fact' }, h('dt', {}, t('account.number')), h('dd', { class: 'mono' }, a.number)),
      h('div', { class: 'conf-fact' }, h('dt', {}, t('account.name')), h('dd', {}, a.name || '—')),
      h('div', { class: 'conf-fact' }, h('dt', {}, t('account.email')), h('dd', {}, a.email || '—')));
    const here = browserZone();
    fill(zoneSelect,
      h('option', { value: '' }, t('account.zoneBrowser', { zone: here.replace(/_/g, ' ') })),
      allZones(a.time_zone, a.default_time_zone).map((z) => h('option', { value: z }, z.replace(/_/g, ' '))));
    zoneSelect.value = a.time_zone || '';
    langSelect.value = a.language || '';
  }

  settingsForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('time_zone'); showError('language');
    saveSettings.disabled = true;
    try {
      account = await api.put('/account', { time_zone: zoneSelect.value || null, language: langSelect.value || null });
      setChosenZone(account.time_zone);
      // The page redraws in the new language first, so the confirmation speaks it too.
      if (account.language && account.language !== lang()) setLang(account.language);
      notify(t('account.saved'), 'success');
    } catch (err) {
      if (err.status === 401) return;
      if (err.field && errors[err.field]) showError(err.field, err.message);
      else notify(err.message, 'error');
    } finally {
      saveSettings.disabled = false;
    }
  });

  passwordForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const f of ['current_password', 'new_password', 'repeat']) showError(f);
    const current = controls.current_password.value;
    const next = controls.new_password.value;
    let bad = null;
    if (!current) { showError('current_password', t('account.currentMissing')); bad = bad || 'current_password'; }
    if (next.length < 8) { showError('new_password', t('account.tooShort')); bad = bad || 'new_password'; }
    else if (controls.repeat.value !== next) { showError('repeat', t('account.mismatch')); bad = bad || 'repeat'; }
    if (bad) { controls[bad].focus(); return; }
    savePassword.disabled = true;
    try {
      await api.put('/account/password', { current_password: current, new_password: next });
      passwordForm.reset();
      notify(t('account.passwordChanged'), 'success');
    } catch (err) {
      if (err.status === 401) return;
      if (err.field === 'current_password') {
        showError('current_password', t('account.wrongCurrent'));
        controls.current_password.select();
        controls.current_password.focus();
      } else if (err.field === 'new_password') {
        showError('new_password', t('account.tooShort'));
      } else if (err.status === 429) {
        notify(t('login.tooMany', { seconds: err.retryAfter || 60 }), 'error');
      } else {
        notify(err.message, 'error');
      }
    } finally {
      savePassword.disabled = false;
    }
  });

  root.append(h('div', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, t('account.title')), h('p', { class: 'muted-text' }, t('account.intro'))),
    h('section', { class: 'card', 'aria-labelledby': 'account-who' }, h('h2', { id: 'account-who' }, t('account.who')), facts),
    h('section', { class: 'card', 'aria-labelledby': 'account-settings' }, h('h2', { id: 'account-settings' }, t('account.settings')), settingsForm),
    h('section', { class: 'card', 'aria-labelledby': 'account-password' }, h('h2', { id: 'account-password' }, t('account.password')), passwordForm)));
  if (account) show(account);
  api.get('/account').then((a) => { account = a; show(a); }).catch((e) => { if (e.status !== 401) notify(e.message, 'error'); });
}

export function formatDateTime(unix) {
  if (unix === null || unix === undefined) return null;
  return formatUnix(unix);
}

/** "Your account is not enabled for conferences. Ask your administrator …" plus log out and tokens. */
/** Whom to ask: the administrators by name, each with a mail link when they have an address. */
function administrators() {
  const admins = (account && account.administrators) || [];
  if (admins.length === 0) return null;
  return h('div', { class: 'admin-contacts' },
    h('p', { class: 'muted-text' }, t('notEnabled.admins')),
    h('ul', { class: 'plain-list' }, ...admins.map((a) => h('li', {},
      h('strong', {}, a.name),
      a.email ? h('span', {}, ' · ', h('a', { href: 'mailto:' + a.email }, a.email)) : null))));
}

export function mountNotEnabled(root, ctx) {
  root.append(h('section', { class: 'empty-page card', 'aria-labelledby': 'ne-title' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('info')),
    h('h1', { id: 'ne-title' }, t('notEnabled.title')),
    h('p', {}, t('notEnabled.body', { number: ctx.user.number })),
    administrators(),
    h('div', { class: 'button-row' },
      h('a', { class: 'btn', href: '#/tokens' }, icon('key'), h('span', { class: 'btn-label' }, t('nav.tokens'))),
      button(t('action.logout'), { icon: 'logout', variant: 'primary', onclick: () => ctx.logout() }))));
}

/** The user's API tokens: list, create (shown once, with a copy button), revoke. */
export function mountTokens(root, ctx) {
  const tbody = h('tbody');
  // Administrators see everyone's tokens: then a column says whose each one is.
  const userHead = h('th', { scope: 'col', hidden: true }, t('tokens.user'));
  const table = h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, t('tokens.caption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('tokens.name')),
      userHead,
      h('th', { scope: 'col' }, t('tokens.created')),
      h('th', { scope: 'col' }, t('tokens.lastUsed')),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('table.actions'))))),
    tbody);
  const empty = h('div', { class: 'empty' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('key')),
    h('p', { class: 'empty-title' }, t('tokens.empty')),
    h('p', { class: 'muted-text' }, t('tokens.emptyHint')));
  const reveal = h('div', { class: 'callout', hidden: true, tabindex: '-1' });
  const nameInput = h('input', { id: 'token-name', type: 'text', required: true, maxlength: '100', autocomplete: 'off' });
  const form = h('form', { class: 'inline-form' },
    h('div', { class: 'field' }, h('label', { for: 'token-name' }, t('tokens.name')), nameInput),
    h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), h('span', { class: 'btn-label' }, t('tokens.create'))));

  async function load() {
    try {
      const tokens = await api.get('/tokens');
      const others = tokens.some((tok) => tok.user && tok.user !== ctx.user.number);
      userHead.hidden = !others;
      fill(tbody, tokens.map((tok) => h('tr', {},
        h('th', { scope: 'row' }, tok.name),
        others ? h('td', { class: 'mono' }, tok.user || '—') : null,
        h('td', {}, formatDateTime(tok.created_at) || '—'),
        h('td', {}, formatDateTime(tok.last_used_at) || t('tokens.never')),
        h('td', { class: 'cell-actions' }, button(t('tokens.revoke'), {
          icon: 'trash', class: 'btn-small', variant: 'danger-outline', ariaLabel: t('tokens.revokeAria', { name: tok.name }),
          onclick: () => revoke(tok),
        })))));
      table.hidden = tokens.length === 0;
      empty.hidden = tokens.length > 0;
    } catch (e) {
      if (e.status !== 401) notify(e.message, 'error');
    }
  }

  async function revoke(tok) {
    const yes = await confirmDialog({ title: t('tokens.revokeTitle', { name: tok.name }), body: t('tokens.revokeBody'), confirm: t('tokens.revoke') });
    if (!yes) return;
    try {
      await api.del(`/tokens/${api.seg(tok.id)}`);
      notify(t('tokens.revoked', { name: tok.name }), 'success');
      await load();
      root.querySelector('h1')?.focus();
    } catch (e) {
      if (e.status !== 401) notify(e.message, 'error');
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const created = await api.post('/tokens', { name: nameInput.value.trim() });
      nameInput.value = '';
      const field = h('input', { id: 'new-token', type: 'text', readOnly: true, value: created.token, class: 'mono' });
      field.addEventListener('focus', () => field.select());
      fill(reveal,
        h('h2', { class: 'callout-title' }, icon('key'), t('tokens.newTitle', { name: created.name })),
        h('p', {}, t('tokens.newBody')),
        h('div', { class: 'field' }, h('label', { for: 'new-token' }, t('tokens.token')),
          h('div', { class: 'input-with-button' }, field,
            button(t('action.copy'), { icon: 'copy', onclick: async () => { if (await copyText(created.token)) notify(t('tokens.copied'), 'success', 2000); } }))));
      reveal.hidden = false;
      reveal.focus();
      await load();
    } catch (err) {
      if (err.status !== 401) notify(err.message, 'error');
    }
  });

  root.append(h('div', { class: 'page' },
    h('div', { class: 'page-head' },
      h('h1', {}, t('tokens.title')),
      h('p', { class: 'muted-text' }, t('tokens.intro'))),
    h('section', { class: 'card', 'aria-labelledby': 'token-new-title' },
      h('h2', { id: 'token-new-title' }, t('tokens.newSection')), form, reveal),
    h('section', { class: 'card', 'aria-labelledby': 'token-list-title' },
      h('h2', { id: 'token-list-title' }, t('tokens.listSection')), table, empty)));
  table.hidden = true;
  empty.hidden = true;
  load();
}
