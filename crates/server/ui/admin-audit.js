// admin-audit.js — Administration › Audit log: who did what and from where (logins, changes, hang-ups and blocks, lockouts), newest first, filtered by kind, paged back.
import { t } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button } from '/ui/dom.js';
import { fail } from '/ui/admin.js';
import { formatUnix } from '/ui/zones.js';

const PAGE = 100;

// Filters: an action prefix the server matches.
const FILTERS = [
  ['', 'audit.filter.all'],
  ['login', 'audit.filter.logins'],
  ['pin.lockout', 'audit.filter.lockouts'],
  ['call.block', 'audit.filter.blocks'],
  ['DELETE', 'audit.filter.deletions'],
];

// Operations in words; others are shown as the API operation they were.
const WORDS = {
  'login': 'audit.op.login',
  'login.failed': 'audit.op.loginFailed',
  'login.refused': 'audit.op.loginRefused',
  'logout': 'audit.op.logout',
  'pin.lockout.room': 'audit.op.pinLockoutRoom',
  'pin.lockout.caller': 'audit.op.pinLockoutCaller',
  'POST /api/v1/users': 'audit.op.userAdd',
  'PATCH /api/v1/users/{number}': 'audit.op.userSet',
  'DELETE /api/v1/users/{number}': 'audit.op.userRemove',
  'POST /api/v1/rooms': 'audit.op.roomAdd',
  'PATCH /api/v1/rooms/{number}': 'audit.op.roomSet',
  'DELETE /api/v1/rooms/{number}': 'audit.op.roomRemove',
  'PUT /api/v1/rooms/{number}/pin': 'audit.op.pinSet',
  'DELETE /api/v1/rooms/{number}/pin': 'audit.op.pinClear',
  'PUT /api/v1/rooms/{number}/shares/{user}': 'audit.op.share',
  'DELETE /api/v1/rooms/{number}/shares/{user}': 'audit.op.unshare',
  'POST /api/v1/rooms/{number}/invitations': 'audit.op.invite',
  'POST /api/v1/rooms/{number}/dial-in': 'audit.op.dialIn',
  'POST /api/v1/rooms/{number}/calls/{call}/hangup': 'audit.op.hangup',
  'POST /api/v1/calls/{call}/hangup': 'audit.op.hangup',
  'POST /api/v1/rooms/{number}/lock': 'audit.op.lock',
  'call.block': 'audit.op.block',
  'POST /api/v1/rooms/{number}/end': 'audit.op.end',
  'DELETE /api/v1/rooms/{number}/blocks/{who}': 'audit.op.unblock',
  'POST /api/v1/tokens': 'audit.op.tokenCreate',
  'DELETE /api/v1/tokens/{id}': 'audit.op.tokenRevoke',
  'PUT /api/v1/account/password': 'audit.op.password',
  'POST /api/v1/conferences': 'audit.op.conferenceAdd',
  'PATCH /api/v1/conferences/{id}': 'audit.op.conferenceSet',
  'DELETE /api/v1/conferences/{id}': 'audit.op.conferenceCancel',
};

export function mountAudit(root) {
  const tbody = h('tbody');
  const table = h('table', { class: 'table audit-table' },
    h('caption', { class: 'visually-hidden' }, t('audit.caption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('audit.when')),
      h('th', { scope: 'col' }, t('audit.who')),
      h('th', { scope: 'col' }, t('audit.what')),
      h('th', { scope: 'col' }, t('audit.subject')),
      h('th', { scope: 'col' }, t('audit.from')))),
    tbody);
  const filter = h('select', { id: 'audit-filter' },
    FILTERS.map(([value, key]) => h('option', { value }, t(key))));
  const more = button(t('audit.older'), { icon: 'clock', class: 'btn-small', onclick: () => load(true) });
  const empty = h('div', { class: 'empty', hidden: true },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('info')),
    h('p', { class: 'empty-title' }, t('audit.empty')));
  let oldest = null;
  let rows = [];

  async function load(older = false) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (filter.value) params.set('action', filter.value);
    if (older && oldest !== null) params.set('before', String(oldest));
    let entries;
    try {
      entries = await api.get('/audit?' + params);
    } catch (e) { fail(e); return; }
    rows = older ? rows.concat(entries) : entries;
    oldest = rows.length ? rows[rows.length - 1].id : null;
    fill(tbody, rows.map((e) => h('tr', { dataset: { action: e.action } },
      h('td', { class: 'nowrap' }, formatUnix(e.at)),
      h('th', { scope: 'row', class: 'mono' }, e.actor),
      h('td', {}, WORDS[e.action] ? t(WORDS[e.action]) : h('span', { class: 'mono small' }, e.action),
        e.detail ? h('span', { class: 'muted-text' }, ` — ${e.detail}`) : null),
      h('td', { class: 'cell-wrap mono small' }, e.subject),
      h('td', { class: 'mono small' }, e.source || '—'))));
    table.hidden = rows.length === 0;
    empty.hidden = rows.length > 0;
    more.hidden = entries.length < PAGE;
  }
  filter.addEventListener('change', () => load(false));

  root.append(h('section', { class: 'card', 'aria-labelledby': 'audit-title' },
    h('div', { class: 'card-head' },
      h('h2', { id: 'audit-title' }, t('audit.title')),
      button(t('outbox.refresh'), { icon: 'redial', class: 'btn-small', onclick: () => load(false) })),
    h('p', { class: 'muted-text' }, t('audit.intro')),
    h('div', { class: 'field audit-filter' }, h('label', { for: 'audit-filter' }, t('audit.show')), filter),
    h('div', { class: 'table-wrap' }, table), empty,
    h('div', { class: 'button-row' }, more)));
  table.hidden = true;
  more.hidden = true;
  load(false);
}
