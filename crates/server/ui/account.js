// account.js — the user's own pages: API tokens, and "not enabled for conferences" for users without a role.
import { t, lang } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button, notify, confirmDialog, copyText } from '/ui/dom.js';

export function formatDateTime(unix) {
  if (unix === null || unix === undefined) return null;
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(unix * 1000));
}

/** "Your account is not enabled for conferences. Ask your administrator …" plus log out and tokens. */
export function mountNotEnabled(root, ctx) {
  root.append(h('section', { class: 'empty-page card', 'aria-labelledby': 'ne-title' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('info')),
    h('h1', { id: 'ne-title' }, t('notEnabled.title')),
    h('p', {}, t('notEnabled.body', { number: ctx.user.number })),
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
