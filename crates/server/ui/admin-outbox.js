// admin-outbox.js — Administration › Outbox: the invitation mails waiting, sent and failed, refreshed while any is queued.
import { t } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button } from '/ui/dom.js';
import { fail } from '/ui/admin.js';
import { formatUnix } from '/ui/zones.js';

const POLL_MS = 5000;
const LOOK = { sent: ['badge-ok', 'check'], failed: ['badge-error', 'alert'], queued: ['badge-info', 'clock'] };

export function mountOutbox(root) {
  const tbody = h('tbody');
  const table = h('table', { class: 'table outbox-table' },
    h('caption', { class: 'visually-hidden' }, t('outbox.caption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('outbox.created')),
      h('th', { scope: 'col' }, t('outbox.recipient')),
      h('th', { scope: 'col' }, t('outbox.conference')),
      h('th', { scope: 'col' }, t('outbox.state')),
      h('th', { scope: 'col', class: 'cell-center' }, t('outbox.attempts')),
      h('th', { scope: 'col' }, t('outbox.when')),
      h('th', { scope: 'col' }, t('outbox.answer')))),
    tbody);
  const summary = h('p', { class: 'muted-text', 'aria-live': 'polite' });
  const empty = h('div', { class: 'empty', hidden: true },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('mail')),
    h('p', { class: 'empty-title' }, t('outbox.empty')));
  let timer = null;
  let stopped = false;

  async function load() {
    clearTimeout(timer);
    let mails;
    try {
      mails = await api.get('/outbox');
    } catch (e) { if (!stopped) fail(e); return; }
    if (stopped) return;
    fill(tbody, mails.map((m) => {
      const [cls, glyph] = LOOK[m.state] || ['badge-muted', 'info'];
      const when = m.state === 'sent' ? t('outbox.sentAt', { time: formatUnix(m.sent_at) })
        : m.state === 'queued' ? t('outbox.nextAt', { time: formatUnix(m.next_attempt_at) }) : '—';
      return h('tr', { dataset: { state: m.state } },
        h('td', { class: 'nowrap' }, formatUnix(m.created_at)),
        h('th', { scope: 'row', class: 'cell-wrap' }, m.recipient),
        h('td', {}, m.conference ? h('a', { href: `#/conferences/${m.conference}` }, `#${m.conference}`) : '—'),
        h('td', {}, h('span', { class: `badge ${cls}` }, icon(glyph), h('span', {}, t(`outbox.state.${m.state}`)))),
        h('td', { class: 'cell-center' }, String(m.attempts)),
        h('td', { class: 'nowrap' }, when),
        h('td', { class: 'cell-wrap mono small' }, m.last_error || ''));
    }));
    const counts = { queued: 0, sent: 0, failed: 0 };
    for (const m of mails) counts[m.state] = (counts[m.state] || 0) + 1;
    summary.textContent = t('outbox.summary', counts);
    table.hidden = mails.length === 0;
    empty.hidden = mails.length > 0;
    if (counts.queued > 0) timer = setTimeout(load, POLL_MS);
  }

  root.append(h('section', { class: 'card', 'aria-labelledby': 'outbox-title' },
    h('div', { class: 'card-head' },
      h('h2', { id: 'outbox-title' }, t('outbox.title')),
      button(t('outbox.refresh'), { icon: 'redial', class: 'btn-small', onclick: () => load() })),
    h('p', { class: 'muted-text' }, t('outbox.intro')),
    summary,
    h('div', { class: 'table-wrap' }, table), empty));
  table.hidden = true;
  load();
  return () => { stopped = true; clearTimeout(timer); };
}
