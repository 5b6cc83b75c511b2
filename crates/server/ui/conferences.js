// conferences.js — the user's scheduled conferences (#/conferences) and one of them (#/conferences/<id>): times in the viewer's zone, invitees' mail states (polled while any is queued), add participants, change, cancel.
import { t } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button, notify, announce, confirmDialog } from '/ui/dom.js';
import { participantEditor } from '/ui/participants.js';
import { formatRange, formatTime, viewerZone } from '/ui/zones.js';

const POLL_MS = 3000;
const SLOW_POLL_MS = 15000;
const SLOW_AFTER_MS = 2 * 60 * 1000;

// The answer of the request that just created or changed a conference, shown at once on its page.
const fresh = new Map();

/** Keeps a conference from a POST/PATCH answer for its page (and what just happened to it). */
export function remember(c, how = {}) {
  fresh.set(String(c.id), { c, ...how });
}

/** The tabs shared by the scheduling pages. */
export function scheduleTabs(current) {
  const tabs = [['schedule', '#/schedule', 'sched.tabNew'], ['conferences', '#/conferences', 'sched.tabList']];
  return h('nav', { class: 'tabs', 'aria-label': t('sched.tabs') },
    h('ul', {}, tabs.map(([id, href, key]) => h('li', {},
      h('a', { href, class: 'tab', 'aria-current': id === current ? 'page' : null }, t(key))))));
}

// The server's sentences for refused input are English; the common ones have a translation.
const MESSAGES = [
  [/^not an e-mail address like anna@example\.org$/, 'sched.msgEmail'],
  [/^an IANA time zone such as Europe\/Zurich$/, 'sched.msgZone'],
  [/^the conference would be over already$/, 'sched.msgOver'],
  [/^1 to 200 characters$/, 'sched.msgTitle'],
  [/^0 to 120 minutes$/, 'sched.msgDialIn'],
  [/^name at least one e-mail address$/, 'sched.errNoParticipants'],
  [/^(.+): call at start needs a phone number$/, 'sched.msgCallNeedsPhone'],
  [/^no dial-in number configured/, 'sched.offBody'],
];

export function serverMessage(message, field) {
  // "participants: not an e-mail address …": the field is shown by where the message goes.
  let text = message || '';
  if (field && text.startsWith(`${field}: `)) text = text.slice(field.length + 2);
  for (const [re, key] of MESSAGES) {
    const m = re.exec(text);
    if (m) return t(key, { email: m[1] });
  }
  return text;
}

/** An invitee's mail in plain words: "Queued", "Sent", "Failed: 550 5.1.1 mailbox unavailable". */
export function mailText(p) {
  if (p.mail === 'sent') return t('mail.sent');
  if (p.mail === 'failed') return t('mail.failed', { error: p.mail_error || t('mail.noAnswer') });
  if (p.mail === 'queued') return t('mail.queued');
  return t('mail.none');
}

const MAIL_LOOK = { sent: ['badge-ok', 'check'], failed: ['badge-error', 'alert'], queued: ['badge-info', 'clock'] };
const STATUS_LOOK = {
  upcoming: ['badge-info', 'calendar'], open: ['badge-ok', 'phone'], over: ['badge-muted', 'check'], cancelled: ['badge-warn', 'ban'],
};
const pending = (c) => c.participants.some((p) => p.mail === 'queued');
const active = (c) => c.status === 'upcoming' || c.status === 'open';

/** Polls `load` every few seconds while `wanted()` says so, more slowly after two minutes. */
function poller(load, wanted) {
  let timer = null;
  let since = null;
  let stopped = false;
  const next = () => {
    clearTimeout(timer);
    if (stopped) return;
    if (!wanted()) { since = null; return; }
    since = since || Date.now();
    const ms = Date.now() - since > SLOW_AFTER_MS ? SLOW_POLL_MS : POLL_MS;
    timer = setTimeout(async () => { await load(); next(); }, ms);
  };
  return { next, stop: () => { stopped = true; clearTimeout(timer); } };
}

/** #/conferences */
export function mountConferences(root, ctx) {
  const upcomingList = h('div', { class: 'conf-cards' });
  const pastList = h('div', { class: 'conf-cards' });
  const upcomingEmpty = h('div', { class: 'empty card', hidden: true },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('calendar')),
    h('p', { class: 'empty-title' }, t('sc.noneUpcoming')),
    h('p', { class: 'muted-text' }, t('sc.noneUpcomingHint')),
    h('a', { class: 'btn btn-primary', href: '#/schedule' }, icon('plus'), h('span', { class: 'btn-label' }, t('sc.scheduleOne'))));
  const pastSection = h('section', { class: 'conf-section', 'aria-labelledby': 'conf-past-title', hidden: true },
    h('h2', { id: 'conf-past-title', tabindex: '-1' }, t('sc.past')), pastList);
  const loading = h('p', { class: 'muted-text' }, t('common.loading'));
  root.append(h('div', { class: 'page' },
    h('div', { class: 'page-head' },
      h('p', { class: 'eyebrow' }, t('sched.eyebrow')),
      h('h1', {}, t('sc.title')),
      h('p', { class: 'muted-text' }, t('sc.intro', { zone: viewerZone().replace(/_/g, ' ') }))),
    scheduleTabs('conferences'),
    loading,
    h('section', { class: 'conf-section', 'aria-labelledby': 'conf-upcoming-title' },
      h('h2', { id: 'conf-upcoming-title', tabindex: '-1' }, t('sc.upcoming')), upcomingEmpty, upcomingList),
    pastSection));

  const cards = new Map();
  let list = [];
  let stopped = false;
  const poll = poller(() => load(), () => list.some(pending));

  async function load() {
    try {
      list = await api.get('/conferences');
    } catch (e) {
      if (e.status !== 401 && !stopped) notify(e.message, 'error');
      return;
    }
    if (stopped) return;
    loading.hidden = true;
    const upcoming = list.filter(active).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    const past = list.filter((c) => !active(c)).sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
    place(upcomingList, upcoming);
    place(pastList, past);
    upcomingEmpty.hidden = upcoming.length > 0;
    pastSection.hidden = past.length === 0;
    for (const id of [...cards.keys()]) if (!list.some((c) => String(c.id) === id)) { cards.get(id).el.remove(); cards.delete(id); }
  }

  function place(container, items) {
    let prev = null;
    for (const c of items) {
      const key = String(c.id);
      let card = cards.get(key);
      if (!card) { card = new ConferenceCard(c, { reload: refresh, ctx, compact: true }); cards.set(key, card); } else card.update(c);
      const want = prev ? prev.nextSibling : container.firstChild;
      if (want !== card.el) {
        // Moving the card that holds the focus (it just got cancelled) keeps it on its heading.
        const hadFocus = card.el.contains(document.activeElement);
        container.insertBefore(card.el, want);
        if (hadFocus) card.heading.focus();
      }
      prev = card.el;
    }
  }

  async function refresh() { await load(); poll.next(); }
  refresh();
  return () => { stopped = true; poll.stop(); };
}

/** #/conferences/<id> */
export function mountConferencePage(root, id, ctx) {
  const known = fresh.get(String(id));
  fresh.delete(String(id));
  const body = h('div', { class: 'page-body' });
  const head = h('div', { class: 'page-head' }, h('p', { class: 'eyebrow' }, t('sched.eyebrow')));
  root.append(h('div', { class: 'page' }, head, scheduleTabs('conferences'), body));
  let card = null;
  let stopped = false;
  let current = known ? known.c : null;
  const poll = poller(() => load(), () => current && pending(current));

  function show(c) {
    current = c;
    if (!card) {
      card = new ConferenceCard(c, { reload: refresh, ctx, compact: false, titleLevel: 'h1' });
      head.append(card.headingBlock);
      document.title = `${c.title} · konferenz`;
      if (document.activeElement === document.body || !document.activeElement) card.heading.focus({ preventScroll: true });
      if (known && (known.created || known.updated)) {
        body.append(h('div', { class: 'callout sent-callout', role: 'status' },
          h('h2', { class: 'callout-title' }, icon('check'), t(known.created ? 'sc.sentTitle' : 'sc.updatedTitle', { count: c.participants.length })),
          h('p', {}, t(known.created ? 'sc.sentBody' : 'sc.updatedBody'))));
      }
      body.append(card.el);
    } else card.update(c);
  }

  async function load() {
    try {
      const c = await api.get(`/conferences/${api.seg(id)}`);
      if (!stopped) show(c);
    } catch (e) {
      if (stopped || e.status === 401) return;
      if (!card) {
        fill(body, h('section', { class: 'empty-page card' },
          h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('alert')),
          h('h1', {}, t('sc.notFound')), h('p', {}, e.message),
          h('a', { class: 'btn', href: '#/conferences' }, t('sc.backToList'))));
      } else notify(e.message, 'error');
    }
  }
  async function refresh() { await load(); poll.next(); }
  if (current) { show(current); poll.next(); } else refresh();
  return () => { stopped = true; poll.stop(); };
}

/** One conference: when, status, number and PIN, invitees with their mail, actions. */
class ConferenceCard {
  constructor(c, { reload, ctx, compact, titleLevel = 'h3' }) {
    this.reload = reload;
    this.ctx = ctx;
    this.compact = compact;
    this.c = c;
    const id = `conf-${c.id}`;
    this.heading = h(titleLevel, { id: `${id}-title`, tabindex: '-1', class: 'conf-title' });
    this.titleText = compact ? h('a', { href: `#/conferences/${c.id}` }) : h('span', {});
    this.heading.append(this.titleText);
    this.status = h('span', { class: 'badge' });
    this.when = h('p', { class: 'conf-when' });
    this.whenThere = h('p', { class: 'muted-text conf-when-there' });
    this.facts = h('dl', { class: 'conf-facts' });
    this.inviteeCount = h('span', { class: 'count' });
    this.invitees = h('ul', { class: 'mail-list', 'aria-label': t('sc.inviteesAria', { title: c.title }) });
    this.rows = new Map();
    this.actions = h('div', { class: 'button-row conf-actions' });
    this.addPanel = h('div', { class: 'add-panel', hidden: true });
    this.headingBlock = h('div', { class: 'conf-head' }, this.heading, this.status);
    const summary = h('div', { class: 'conf-summary' }, this.when, this.whenThere, this.facts);
    const inviteesBlock = h('div', { class: 'conf-invitees' },
      h('h4', { class: 'mini-heading' }, t('sc.invitees'), this.inviteeCount), this.invitees);
    this.el = compact
      ? h('article', { class: 'card conf-card', id, 'aria-labelledby': `${id}-title` }, this.headingBlock, summary, inviteesBlock, this.actions, this.addPanel)
      : h('section', { class: 'card conf-card', id, 'aria-labelledby': `${id}-title` }, summary, inviteesBlock, this.actions, this.addPanel);
    this.update(c, true);
  }

  update(c, first = false) {
    const before = this.c;
    this.c = c;
    this.titleText.textContent = c.title;
    const [cls, glyph] = STATUS_LOOK[c.status] || ['badge-muted', 'info'];
    this.status.className = `badge ${cls} conf-status`;
    fill(this.status, icon(glyph), h('span', {}, t(`sc.status.${c.status}`)));
    const start = Date.parse(c.start);
    const end = Date.parse(c.end);
    const mine = viewerZone();
    this.when.textContent = formatRange(start, end, mine);
    const there = formatRange(start, end, c.time_zone);
    this.whenThere.hidden = c.time_zone === mine || there === this.when.textContent;
    this.whenThere.textContent = t('sc.inZone', { when: there, zone: c.time_zone.replace(/_/g, ' ') });
    fill(this.facts,
      fact(t('sc.number'), h('span', { class: 'mono big-fact' }, c.number || '—')),
      fact(t('sc.pin'), h('span', { class: 'mono big-fact pin' }, c.pin)),
      fact(t('sc.dialInFrom'), formatTime(Date.parse(c.opens), mine)),
      c.location ? fact(t('sc.location'), c.location) : null,
      !this.compact && c.reply_to ? fact(t('sc.replyTo'), c.reply_to) : null,
      // Administrators see everyone's conferences: then whose it is.
      c.owner !== this.ctx.user.number ? fact(t('sc.owner'), c.owner) : null);
    this.inviteeCount.textContent = String(c.participants.length);
    this.syncInvitees(c, first);
    if (first || before.status !== c.status) this.buildActions();
    if (!active(c)) this.addPanel.hidden = true;
  }

  syncInvitees(c, first) {
    const seen = new Set();
    let prev = null;
    for (const p of c.participants) {
      const key = p.email.toLowerCase();
      seen.add(key);
      let row = this.rows.get(key);
      if (!row) {
        row = {
          badge: h('span', { class: 'badge mail-state' }),
          detail: h('span', { class: 'muted-text mail-detail' }),
          el: null,
        };
        row.el = h('li', { class: 'mail-row' },
          h('div', { class: 'mail-who' }, h('span', { class: 'mail-email' }, p.email),
            p.phone ? h('span', { class: 'muted-text' }, t(p.call_at_start ? 'sc.callsAtStart' : 'sc.phone', { phone: p.phone })) : null),
          h('div', { class: 'mail-status' }, row.badge, row.detail));
        this.rows.set(key, row);
      }
      const state = p.mail || 'none';
      if (row.state !== undefined && row.state !== state && !first && state !== 'queued') {
        announce(`${p.email}: ${mailText(p)}`);
      }
      if (row.state !== state || row.error !== p.mail_error) {
        const [cls, glyph] = MAIL_LOOK[state] || ['badge-muted', 'info'];
        row.badge.className = `badge ${cls} mail-state`;
        row.el.dataset.mail = state;
        fill(row.badge, icon(glyph), h('span', {}, mailText(p)));
        // Why a queued mail is still waiting, in the mail server's words.
        row.detail.textContent = state === 'queued' && p.mail_error ? t('mail.retrying', { error: p.mail_error }) : '';
        row.detail.hidden = !row.detail.textContent;
        row.state = state;
        row.error = p.mail_error;
      }
      const want = prev ? prev.nextSibling : this.invitees.firstChild;
      if (want !== row.el) this.invitees.insertBefore(row.el, want);
      prev = row.el;
    }
    for (const [key, row] of this.rows) if (!seen.has(key)) { row.el.remove(); this.rows.delete(key); }
  }

  buildActions() {
    const c = this.c;
    if (!active(c)) {
      fill(this.actions);
      this.actions.hidden = true;
      return;
    }
    this.actions.hidden = false;
    const name = c.title;
    fill(this.actions,
      button(t('sc.addParticipants'), { icon: 'userPlus', class: 'btn-small', ariaLabel: this.compact ? t('sc.addParticipantsAria', { title: name }) : null, onclick: () => this.openAdd() }),
      h('a', { class: 'btn btn-small', href: `#/conferences/${c.id}/change`, 'aria-label': this.compact ? t('sc.changeAria', { title: name }) : null },
        icon('edit'), h('span', { class: 'btn-label' }, t('sc.change'))),
      button(t('sc.cancel'), { icon: 'ban', class: 'btn-small', variant: 'danger-outline', ariaLabel: this.compact ? t('sc.cancelAria', { title: name }) : null, onclick: () => this.cancel() }));
  }

  openAdd() {
    if (!this.addPanel.hidden) { this.editor && this.editor.focus(); return; }
    const uid = `add-${this.c.id}`;
    this.editor = participantEditor({ id: uid, label: t('sc.addTitle'), hint: t('sc.addHint') });
    const send = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('mail'), h('span', { class: 'btn-label' }, t('sc.addSend')));
    const close = h('button', { type: 'button', class: 'btn btn-ghost' }, t('action.cancel'));
    const form = h('form', { class: 'add-form', novalidate: true }, this.editor.el, h('div', { class: 'button-row' }, send, close));
    close.addEventListener('click', () => this.closeAdd(true));
    form.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); this.closeAdd(true); } });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      this.editor.clearError();
      this.editor.takePending();
      const participants = this.editor.values();
      if (participants.length === 0) { this.editor.showError(t('sched.errNoParticipants')); return; }
      send.disabled = true;
      try {
        const updated = await api.post(`/conferences/${api.seg(this.c.id)}/participants`, { participants });
        notify(t('sc.added', { count: participants.length }), 'success');
        this.closeAdd(false);
        this.update(updated);
        this.heading.focus();
        await this.reload();
      } catch (err) {
        if (err.status === 401) return;
        if (err.status === 422) this.editor.showError(serverMessage(err.message, err.field));
        else notify(serverMessage(err.message), 'error');
      } finally {
        send.disabled = false;
      }
    });
    fill(this.addPanel, form);
    this.addPanel.hidden = false;
    this.editor.focus();
  }

  closeAdd(focus) {
    this.addPanel.hidden = true;
    fill(this.addPanel);
    this.editor = null;
    if (focus) this.actions.querySelector('button')?.focus();
  }

  async cancel() {
    const c = this.c;
    const yes = await confirmDialog({
      title: t('sc.cancelTitle', { title: c.title }),
      body: t('sc.cancelBody', { count: c.participants.length }),
      confirm: t('sc.cancelYes'),
      dismiss: t('sc.cancelKeep'),
    });
    if (!yes) return;
    try {
      await api.del(`/conferences/${api.seg(c.id)}`);
      notify(t('sc.cancelled', { title: c.title }), 'success');
      this.heading.focus();
      await this.reload();
    } catch (e) {
      if (e.status !== 401) notify(serverMessage(e.message), 'error');
    }
  }
}

function fact(label, value) {
  return h('div', { class: 'conf-fact' }, h('dt', {}, label), h('dd', {}, value));
}
