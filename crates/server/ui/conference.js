// conference.js — the conference window for one room: toolbar, active and invited participants, live events (SSE), timers, the browser call.
import { t, lang } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button, toggleButton, menuButton, srOnly, notify, announce, confirmDialog, copyText, formatDuration, initials } from '/ui/dom.js';
import { inviteForm } from '/ui/invite.js';
import { formatTime, viewerZone } from '/ui/zones.js';
import { Softphone } from '/ui/softphone.js';
import { softphonePanel, rememberedDevices } from '/ui/softphone-panel.js';

const REFETCH_DEBOUNCE_MS = 100;
const FINISHED = new Set(['left', 'busy', 'declined', 'no-answer', 'failed']);
const RINGING = new Set(['calling', 'ringing', 'invited']);
const STATE_ICON = {
  'in-menu': 'keypad', invited: 'phone', calling: 'phone', ringing: 'bell', connected: 'check',
  left: 'leave', busy: 'ban', declined: 'x', 'no-answer': 'clock', failed: 'alert',
};

/** The state in plain words: "Ringing", "Busy", "Number not reachable (404)", "Failed (503 Service Unavailable)". */
export function stateText(p) {
  if (p.state === 'failed') {
    if (p.status === 404) return t('state.notReachable');
    if (p.status) return t('state.failedWith', { detail: [p.status, p.reason].filter(Boolean).join(' ') });
    return p.reason ? t('state.failedWith', { detail: p.reason }) : t('state.failed');
  }
  if (p.state === 'no-answer') {
    const secs = rangSeconds(p.events);
    if (secs !== null) return t('state.noAnswerAfter', { secs });
  }
  const key = 'state.' + p.state;
  const text = t(key);
  return text === key ? p.state : text;
}

/**
 * How long the latest attempt rang before it ended without an answer, in whole seconds, from the participant's
 * state timeline (`calling` … `no-answer`); null when the timeline does not show it.
 */
export function rangSeconds(events) {
  if (!Array.isArray(events)) return null;
  let end = events.length - 1;
  while (end >= 0 && events[end].state !== 'no-answer') end--;
  if (end < 0) return null;
  let start = null;
  for (let i = end - 1; i >= 0 && RINGING.has(events[i].state); i--) start = events[i];
  if (start === null) return null;
  const ms = (e) => (typeof e.at_ms === 'number' ? e.at_ms : e.at * 1000);
  return Math.max(0, Math.round((ms(events[end]) - ms(start)) / 1000));
}

// The browser call ("Dial in › In this browser"): {room, phone, view, orphanTimer}. It outlives a redraw of its
// room's window (a language switch mounts the window anew); leaving the window for anything else ends it.
let browserCall = null;

/** Ends the browser call, if any (before logging out). Resolves when the server was told. */
export function leaveBrowserCall() {
  const b = browserCall;
  browserCall = null;
  if (!b) return Promise.resolve();
  clearTimeout(b.orphanTimer);
  return b.phone.hangUp();
}

export function mountConference(root, room, ctx) {
  const view = new ConferenceView(root, room, ctx);
  view.start();
  return () => view.stop();
}

class ConferenceView {
  constructor(root, room, ctx) {
    this.root = root;
    this.room = room;
    this.ctx = ctx;
    this.user = ctx.user;
    this.calls = new Map();          // call id → participant
    this.names = new Map();          // number → name picked from the phone book
    this.locked = room.locked === true;
    this.roomMuted = room.muted === true;
    this.lastSeq = 0;
    this.loading = false;
    this.buffered = [];
    this.clockOffsetMs = 0;
    this.es = null;
    this.retryMs = 2000;
    this.stopped = false;
    this.activeRows = new Map();
    this.invitedRows = new Map();
    this.renderQueued = false;
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  async start() {
    this.build();
    this.adoptBrowserCall();
    this.tick = setInterval(() => this.updateTimers(), 1000);
    await this.reload();
    if (!this.stopped) this.connect();
    this.loadBlocks();
  }

  stop() {
    this.stopped = true;
    clearInterval(this.tick);
    clearTimeout(this.refetchTimer);
    clearTimeout(this.retryTimer);
    if (this.es) this.es.close();
    this.es = null;
    this.releaseBrowserCall();
  }

  path(rest = '') { return `/rooms/${api.seg(this.room.number)}${rest}`; }

  // ---- layout ----------------------------------------------------------------------------------

  build() {
    const r = this.room;
    const title = r.name || t(r.number === this.user.number ? 'room.own' : 'room.numbered', { number: r.number });
    this.lockedBadge = h('span', { class: 'badge badge-warn' }, icon('lock'), h('span', {}, t('badge.locked')));
    this.mutedBadge = h('span', { class: 'badge badge-info' }, icon('speakerOff'), h('span', {}, t('badge.roomMuted')));
    this.connBadge = h('span', { class: 'conn', 'data-conn': 'connecting' });
    this.setConn('connecting');

    const facts = [t('room.factNumber', { number: r.number })];
    if (r.pin) facts.push(t('room.factPin', { pin: r.pin }));
    else facts.push(t('room.factNoPin'));

    this.lockButton = toggleButton(t('action.lock'), t('action.unlock'), { iconOff: 'lock', iconOn: 'unlock', onclick: () => this.toggleLock() });
    this.muteAllButton = toggleButton(t('action.muteAll'), t('action.unmuteAll'), { iconOff: 'speakerOff', iconOn: 'talking', onclick: () => this.toggleRoomMute() });
    const invite = inviteForm({ onInvite: (number, name) => this.invite(number, name) });
    this.dialInMenu = menuButton(t('action.dialIn'), [
      { label: t('action.dialInBrowser'), icon: 'browser', onclick: () => this.joinBrowser() },
      { label: t('action.dialInPhone'), icon: 'phone', onclick: () => this.dialIn() },
    ], { icon: 'phone' });
    this.softHost = h('div', { class: 'soft-host' });
    this.focusInvite = invite.focus;

    this.activeList = h('ul', { class: 'plist', 'aria-labelledby': 'active-title' });
    this.activeEmpty = this.emptyState('active');
    this.activeCount = h('span', { class: 'count', 'aria-hidden': 'true' }, '0');
    this.invitedList = h('ul', { class: 'plist', 'aria-labelledby': 'invited-title' });
    this.invitedEmpty = this.emptyState('invited');
    this.invitedCount = h('span', { class: 'count', 'aria-hidden': 'true' }, '0');

    this.root.append(h('div', { class: 'conference' },
      h('div', { class: 'room-bar card' },
        h('div', { class: 'room-head' },
          h('div', { class: 'room-title' },
            h('h1', { id: 'room-title' }, title),
            h('div', { class: 'room-facts' },
              h('span', { class: 'muted-text' }, facts.join(' · ')),
              this.lockedBadge, this.mutedBadge)),
          this.connBadge),
        h('div', { class: 'toolbar', role: 'group', 'aria-label': t('conf.controls') },
          invite.el,
          h('div', { class: 'toolbar-buttons' },
            this.dialInMenu.el,
            button(t('action.schedule'), { icon: 'calendar', onclick: () => this.ctx.go('#/schedule') }),
            this.lockButton,
            this.muteAllButton,
            button(t('action.endConference'), { icon: 'end', variant: 'danger-outline', onclick: () => this.endConference() }),
            button(t('action.close'), { icon: 'x', variant: 'ghost', onclick: () => this.ctx.go('#/closed/' + encodeURIComponent(r.number)) })))),
      this.softHost,
      h('div', { class: 'panels' },
        h('section', { class: 'panel card', 'aria-labelledby': 'active-title' },
          h('div', { class: 'panel-head' }, h('h2', { id: 'active-title', tabindex: '-1' }, t('panel.active')), this.activeCount),
          this.activeList, this.activeEmpty),
        h('section', { class: 'panel card', 'aria-labelledby': 'invited-title' },
          h('div', { class: 'panel-head' }, h('h2', { id: 'invited-title', tabindex: '-1' }, t('panel.invited')), this.invitedCount),
          this.invitedList, this.invitedEmpty)),
      this.buildBlocks()));
    this.renderRoomState();
  }

  emptyState(which) {
    return h('div', { class: 'empty' },
      h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon(which === 'active' ? 'room' : 'userPlus')),
      h('p', { class: 'empty-title' }, t(`panel.${which}Empty`)),
      h('p', { class: 'muted-text' }, t(`panel.${which}EmptyHint`)));
  }

  setConn(state) {
    this.connBadge.dataset.conn = state;
    fill(this.connBadge, h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), t('conn.' + state));
  }

  renderRoomState() {
    this.lockedBadge.hidden = !this.locked;
    this.mutedBadge.hidden = !this.roomMuted;
    this.lockButton.setOn(this.locked);
    this.muteAllButton.setOn(this.roomMuted);
  }

  // ---- data ------------------------------------------------------------------------------------

  /** Loads the participant list; events that arrive meanwhile are replayed on top of it. */
  async reload() {
    // One load at a time: a second request waits for the first, so an older answer never
    // replaces a newer one; events keep collecting in `buffered` meanwhile.
    if (this.loading) { this.reloadAgain = true; return; }
    this.loading = true;
    try {
      const { data, headers } = await api.request('GET', this.path('/participants'));
      const seq = parseInt(headers.get('X-Event-Seq') || '', 10);
      const serverDate = Date.parse(headers.get('Date') || '');
      if (Number.isFinite(serverDate)) {
        const offset = serverDate - Date.now();
        this.clockOffsetMs = Math.abs(offset) > 2000 ? offset : 0;
      }
      const next = new Map();
      for (const p of data || []) {
        const old = this.calls.get(p.call);
        if (!p.name && old && old.name) p.name = old.name;
        if (!p.name && this.names.has(p.number)) p.name = this.names.get(p.number);
        if (!p.link && old && old.link) p.link = old.link;
        next.set(p.call, p);
      }
      // Calls we just placed may be newer than the list; keep them until the list has them.
      for (const [call, p] of this.calls) if (!next.has(call) && p.provisional) next.set(call, p);
      this.calls = next;
      if (Number.isFinite(seq)) this.lastSeq = seq;
    } catch (e) {
      if (e.status !== 401) notify(e.message, 'error');
    } finally {
      this.loading = false;
      if (this.reloadAgain && !this.stopped) {
        this.reloadAgain = false;
        this.reload();
        return;
      }
      const replay = this.buffered;
      this.buffered = [];
      for (const ev of replay) this.handle(ev);
      this.render();
    }
  }

  scheduleRefetch() {
    clearTimeout(this.refetchTimer);
    this.refetchTimer = setTimeout(() => { if (!this.stopped) this.reload(); }, REFETCH_DEBOUNCE_MS);
  }

  connect() {
    if (this.es) this.es.close();
    const url = `/api/v1/events?room=${encodeURIComponent(this.room.number)}&since=${this.lastSeq}`;
    const es = new EventSource(url);
    this.es = es;
    es.addEventListener('open', () => {
      this.retryMs = 2000;
      this.setConn('live');
      // After a reconnect the server may have restarted (and its sequence with it): start
      // again from a fresh list instead of trusting the numbers we had.
      if (this.streamOpened) this.reload();
      this.streamOpened = true;
    });
    es.addEventListener('error', () => this.onStreamError(es));
    const types = ['participant', 'muted', 'talking', 'refused', 'room-locked', 'room-muted', 'conference-ended'];
    for (const type of types) {
      es.addEventListener(type, (msg) => this.onMessage(type, msg));
    }
    es.addEventListener('reset', () => this.reload());
    // Our access ended (the server closes the stream): no reconnect; the app redraws for who we are now.
    es.addEventListener('access-ended', () => {
      es.close();
      if (this.stopped || es !== this.es) return;
      this.setConn('offline');
      this.ctx.accessChanged();
    });
    es.addEventListener('message', (msg) => this.onMessage(null, msg));
  }

  async onStreamError(es) {
    if (this.stopped || es !== this.es) return;
    if (es.readyState !== EventSource.CLOSED) { this.setConn('reconnecting'); return; }
    // The browser gave up (an error answer, e.g. 401): check the session, then start again.
    this.setConn('offline');
    es.close();
    try {
      await api.request('GET', '/session');
    } catch (e) {
      if (e.status === 401) return;     // the app shows the login page
    }
    if (this.stopped) return;
    this.retryTimer = setTimeout(async () => {
      await this.reload();
      this.streamOpened = false;
      if (!this.stopped) this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 30000);
  }

  onMessage(type, msg) {
    if (this.connBadge.dataset.conn !== 'live') this.setConn('live');
    let ev;
    try { ev = JSON.parse(msg.data); } catch { return; }
    if (!ev || typeof ev !== 'object') return;
    if (type && !ev.type) ev.type = type;
    if (ev.room && ev.room !== this.room.number) return;
    this.handle(ev);
  }

  handle(ev) {
    if (this.loading) { this.buffered.push(ev); return; }
    if (typeof ev.seq === 'number') {
      if (ev.seq <= this.lastSeq) return;
      this.lastSeq = ev.seq;
    }
    switch (ev.type) {
      case 'participant': this.onParticipant(ev); break;
      case 'muted': this.patchCall(ev.call, { muted: !!ev.muted }); break;
      case 'talking': this.patchCall(ev.call, { talking: !!ev.talking }); break;
      case 'refused': this.onRefused(ev); break;
      case 'room-locked': this.locked = !!ev.locked; this.renderRoomState(); break;
      case 'room-muted': this.roomMuted = !!ev.muted; this.renderRoomState(); break;
      case 'conference-ended': this.onEnded(); break;
      default: break;
    }
  }

  onParticipant(ev) {
    const at = typeof ev.at === 'number' ? ev.at / 1000 : (Date.now() + this.clockOffsetMs) / 1000;
    let p = this.calls.get(ev.call);
    const before = p ? p.state : null;
    if (!p) {
      p = {
        call: ev.call, room: this.room.number, number: ev.number, name: this.names.get(ev.number) || null,
        state: ev.state, status: null, reason: null, since: at, muted: false, talking: false,
        invited: !!ev.invited, link: null, events: [],
      };
      this.calls.set(ev.call, p);
      this.scheduleRefetch();         // for its name and personal link
    }
    if (p.state !== ev.state) p.since = at;
    p.state = ev.state;
    p.status = ev.status ?? null;
    p.reason = ev.reason ?? null;
    if (typeof ev.invited === 'boolean') p.invited = ev.invited;
    if (ev.state !== 'connected') p.talking = false;
    (p.events || (p.events = [])).push({ state: ev.state, at: Math.floor(at), at_ms: Math.round(at * 1000) });
    if (FINISHED.has(ev.state)) this.browserCallGone(ev.call);
    this.announceChange(p, before);
    this.queueRender();
  }

  announceChange(p, before) {
    if (before === p.state) return;
    const name = this.displayName(p);
    if (p.state === 'connected') announce(t('announce.joined', { name }));
    else if (p.state === 'left' && before === 'connected') announce(t('announce.left', { name }));
    else if (FINISHED.has(p.state) && p.invited) announce(`${name}: ${stateText(p)}`);
  }

  patchCall(call, fields) {
    const p = this.calls.get(call);
    if (!p) { this.scheduleRefetch(); return; }
    Object.assign(p, fields);
    this.queueRender();
  }

  onRefused(ev) {
    const who = ev.number || t('p.aCaller');
    const key = { locked: 'refused.locked', blocked: 'refused.blocked', throttled: 'refused.throttled' }[ev.reason] || 'refused.other';
    notify(t(key, { who, reason: ev.reason || '' }), 'info');
  }

  onEnded() {
    this.browserCallGone(null);
    this.locked = false;
    this.renderRoomState();
    // Whoever pressed "End conference" here already got the message.
    if (!this.endedHere || Date.now() - this.endedHere > 5000) notify(t('conf.ended'), 'info');
  }

  // ---- rendering -------------------------------------------------------------------------------

  queueRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => { this.renderQueued = false; this.render(); });
    // requestAnimationFrame does not run in a hidden tab; make sure the screen is right on return.
    setTimeout(() => { if (this.renderQueued) { this.renderQueued = false; this.render(); } }, 250);
  }

  displayName(p) { return p.name || this.names.get(p.number) || p.number; }
  isMine(p) { return p.number === this.user.number; }

  render() {
    if (this.stopped) return;
    const all = [...this.calls.values()];
    const active = all
      .filter((p) => p.state === 'connected' || p.state === 'in-menu')
      .sort((a, b) => (a.state === b.state ? 0 : a.state === 'connected' ? -1 : 1) || (a.since || 0) - (b.since || 0) || a.call - b.call);
    this.sync(this.activeList, this.activeRows, active, (p) => p.call, (p) => this.activeRow(p), (row, p) => this.updateActive(row, p));
    this.activeEmpty.hidden = active.length > 0;
    this.activeCount.textContent = String(active.filter((p) => p.state === 'connected').length);

    // One row per invited number: its latest call (a re-dial replaces the finished attempt).
    const latest = new Map();
    const firstSeen = new Map();
    for (const p of all.filter((x) => x.invited).sort((a, b) => a.call - b.call)) {
      latest.set(p.number, p);
      if (!firstSeen.has(p.number)) firstSeen.set(p.number, p.call);
    }
    const invited = [...latest.values()].sort((a, b) => firstSeen.get(a.number) - firstSeen.get(b.number));
    this.sync(this.invitedList, this.invitedRows, invited, (p) => p.number, (p) => this.invitedRow(p), (row, p) => this.updateInvited(row, p));
    this.invitedEmpty.hidden = invited.length > 0;
    this.invitedCount.textContent = String(invited.length);
    this.updateTimers();
  }

  /** Keyed update: rows are reused (keeping focus), added and removed; order changes only when needed. */
  sync(list, rows, items, keyOf, make, update) {
    const keys = new Set(items.map(keyOf));
    for (const [key, row] of rows) {
      if (keys.has(key)) continue;
      this.moveFocusAway(row.el, list);
      row.el.remove();
      rows.delete(key);
    }
    let prev = null;
    for (const p of items) {
      const key = keyOf(p);
      let row = rows.get(key);
      if (!row) { row = make(p); rows.set(key, row); }
      update(row, p);
      const want = prev ? prev.nextSibling : list.firstChild;
      if (want !== row.el) list.insertBefore(row.el, want);
      prev = row.el;
    }
  }

  /** A row about to disappear holds the focus: hand it to the neighbouring row or the panel heading. */
  moveFocusAway(el, list) {
    if (!el.contains(document.activeElement)) return;
    const neighbour = el.nextElementSibling || el.previousElementSibling;
    const target = neighbour && neighbour.querySelector('button:not(.invisible)');
    (target || list.closest('section').querySelector('h2')).focus();
  }

  activeRow(p) {
    const row = {};
    row.avatar = h('span', { class: 'avatar', 'aria-hidden': 'true' });
    row.name = h('span', { class: 'p-name' });
    row.meta = h('span', { class: 'p-meta' });
    row.talk = h('span', { class: 'talk' }, icon('talking'), h('span', { class: 'visually-hidden talk-text' }));
    row.mutedBadge = h('span', { class: 'badge badge-muted badge-small' }, icon('micOff'), h('span', {}, t('badge.muted')));
    row.timer = h('span', { class: 'timer', role: 'timer' });
    row.timerWrap = h('span', { class: 'p-time' }, srOnly(t('p.inRoomFor')), row.timer);
    row.pinLabel = h('span', { class: 'p-time p-menu' }, icon('keypad'), h('span', {}, t('state.in-menu')));
    row.mute = toggleButton(t('action.mute'), t('action.unmute'), { iconOff: 'micOff', iconOn: 'mic', class: 'btn-small', onclick: () => this.toggleMute(p.call) });
    row.hangup = button(t('action.hangup'), { icon: 'hangup', class: 'btn-small', variant: 'danger-outline', onclick: () => this.hangup(p.call, false) });
    row.block = button(t('action.hangupBlock'), { icon: 'ban', class: 'btn-small', variant: 'danger-outline', onclick: () => this.hangup(p.call, true) });
    row.el = h('li', { class: 'participant', dataset: { call: String(p.call) } },
      row.avatar,
      h('div', { class: 'p-who' },
        h('span', { class: 'p-line' }, row.name, row.talk),
        h('span', { class: 'p-line' }, row.meta, row.mutedBadge)),
      h('div', { class: 'p-status' }, row.timerWrap, row.pinLabel),
      h('div', { class: 'p-actions' }, row.mute, row.hangup, row.block));
    return row;
  }

  updateActive(row, p) {
    const name = this.displayName(p);
    const inMenu = p.state === 'in-menu';
    row.el.dataset.call = String(p.call);
    row.el.classList.toggle('is-menu', inMenu);
    row.el.classList.toggle('is-talking', !!p.talking && !inMenu);
    row.el.classList.toggle('is-muted', !!p.muted);
    row.avatar.textContent = initials(p.name || this.names.get(p.number));
    row.name.textContent = name + (this.isMine(p) ? ` ${t('p.you')}` : '');
    row.meta.textContent = name !== p.number ? p.number : (p.invited ? t('p.invited') : t('p.dialledIn'));
    row.talk.classList.toggle('invisible', !(p.talking && !inMenu));
    row.talk.querySelector('.talk-text').textContent = p.talking && !inMenu ? t('p.talking') : '';
    row.mutedBadge.hidden = !p.muted;
    row.timerWrap.hidden = inMenu;
    row.pinLabel.hidden = !inMenu;
    row.timer.dataset.since = String(p.since || 0);
    row.mute.setOn(!!p.muted);
    row.mute.setAttribute('aria-label', t(p.muted ? 'aria.unmute' : 'aria.mute', { name }));
    row.mute.classList.toggle('invisible', inMenu);
    row.hangup.setAttribute('aria-label', t('aria.hangup', { name }));
    row.block.setAttribute('aria-label', t('aria.hangupBlock', { name }));
  }

  invitedRow(p) {
    const row = {};
    row.stateIcon = h('span', { class: 'state-icon', 'aria-hidden': 'true' });
    row.name = h('span', { class: 'p-name' });
    row.meta = h('span', { class: 'p-meta' });
    row.state = h('span', { class: 'state-text' });
    row.when = h('span', { class: 'p-meta state-when' });
    row.cancel = button(t('action.cancel'), { icon: 'x', class: 'btn-small', onclick: () => this.cancel(row.call) });
    row.redial = button(t('action.redial'), { icon: 'redial', class: 'btn-small', onclick: () => this.redial(row.call) });
    row.link = toggleButton(t('action.link'), t('action.linkCopied'), { iconOff: 'link', iconOn: 'check', class: 'btn-small', onclick: () => this.copyLink(row) });
    row.revoke = button(t('action.revokeLink'), { icon: 'ban', class: 'btn-small revoke-link', onclick: () => this.revokeLink(row.call) });
    row.el = h('li', { class: 'participant invited' },
      row.stateIcon,
      h('div', { class: 'p-who' }, row.name, row.meta),
      h('div', { class: 'p-state' }, row.state, row.when),
      row.actions = h('div', { class: 'p-actions' }, row.link, row.revoke, h('span', { class: 'slot' }, row.cancel, row.redial)));
    return row;
  }

  updateInvited(row, p) {
    const name = this.displayName(p);
    row.call = p.call;
    row.p = p;
    row.el.dataset.call = String(p.call);
    row.el.dataset.state = p.state;
    if (row.iconState !== p.state) {
      fill(row.stateIcon, icon(STATE_ICON[p.state] || 'info'));
      row.iconState = p.state;
    }
    row.name.textContent = name;
    row.meta.textContent = name !== p.number ? p.number : '';
    row.state.textContent = stateText(p);
    row.when.textContent = p.since ? this.clock(p.since) : '';
    const ringing = RINGING.has(p.state);
    const finished = FINISHED.has(p.state);
    row.cancel.classList.toggle('invisible', !ringing);
    row.redial.classList.toggle('invisible', !finished);
    row.link.classList.toggle('invisible', !p.link);
    row.revoke.hidden = !p.link;
    // Nothing to do with it (a connected call without a link, e.g. the user's own phone): no empty button row.
    row.actions.hidden = !p.link && !ringing && !finished;
    row.cancel.setAttribute('aria-label', t('aria.cancel', { name }));
    row.redial.setAttribute('aria-label', t('aria.redial', { name }));
    row.link.setAttribute('aria-label', t('aria.link', { name }));
    row.revoke.setAttribute('aria-label', t('aria.revokeLink', { name }));
  }

  clock(unixSeconds) {
    return formatTime(unixSeconds * 1000);
  }

  updateTimers() {
    const now = (Date.now() + this.clockOffsetMs) / 1000;
    for (const el of this.activeList.querySelectorAll('.timer')) {
      const since = Number(el.dataset.since);
      const text = since ? formatDuration(now - since) : '';
      if (el.textContent !== text) el.textContent = text;
    }
  }

  // ---- actions ---------------------------------------------------------------------------------

  async run(action, success) {
    try {
      const result = await action();
      if (success) notify(typeof success === 'function' ? success(result) : success, 'success');
      return result;
    } catch (e) {
      if (e.status !== 401) notify(e.message, 'error');
      return undefined;
    }
  }

  async invite(number, name) {
    if (name) this.names.set(number, name);
    const answer = await this.run(() => api.post(this.path('/invitations'), { numbers: [number] }));
    if (!answer) return false;
    let ok = false;
    for (const inv of answer.invitations || []) {
      if (inv.error) { notify(inv.error.message || t('invite.failed', { number: inv.number }), 'error'); continue; }
      ok = true;
      this.addProvisional({ call: inv.call, number: inv.number, state: inv.state || 'calling', link: inv.link || null, name: name || null });
      notify(t('invite.calling', { name: name || inv.number }), 'success', 2500);
    }
    return ok;
  }

  addProvisional({ call, number, state, link, name }) {
    if (call === undefined || call === null) return;
    const known = this.calls.get(call);
    if (known) {
      // The call's events got here before the answer: add what only the answer carries.
      if (!known.link && link) known.link = link;
      if (!known.name && name) known.name = name;
      known.invited = true;
      this.queueRender();
      return;
    }
    this.calls.set(call, {
      call, room: this.room.number, number, name: name || this.names.get(number) || null, state,
      status: null, reason: null, since: (Date.now() + this.clockOffsetMs) / 1000, muted: false, talking: false,
      invited: true, link, events: [], provisional: true,
    });
    this.render();
    this.scheduleRefetch();
  }

  dialIn() {
    return this.run(() => api.post(this.path('/dial-in')), (r) => t('conf.dialingYou', { number: (r && r.number) || this.user.number }));
  }

  // ---- the browser call ------------------------------------------------------------------------

  myBrowserCall() {
    return browserCall && browserCall.room === this.room.number ? browserCall : null;
  }

  /** A redraw of this room's window (a language switch) takes over the call of the window before it. */
  adoptBrowserCall() {
    const b = this.myBrowserCall();
    if (!b) return;
    clearTimeout(b.orphanTimer);
    b.view = this;
    this.showSoftPanel();
  }

  /** The window goes away: unless the same room's window takes the call over at once, the call ends. */
  releaseBrowserCall() {
    const b = browserCall;
    if (!b || b.view !== this) return;
    b.view = null;
    this.softPanel = null;
    b.orphanTimer = setTimeout(() => {
      if (browserCall !== b || b.view) return;
      browserCall = null;
      if (b.phone.active) {
        b.phone.hangUp();
        notify(t('soft.leftWithWindow'), 'info', 6000);
      }
    }, 0);
  }

  async joinBrowser() {
    const mine = this.myBrowserCall();
    if (mine && mine.phone.active) {
      if (this.softPanel) this.softPanel.focus();
      return;
    }
    if (browserCall && !mine) await leaveBrowserCall();   // a call left behind in another room (not expected)
    let b = this.myBrowserCall();
    if (!b) {
      const base = `/rooms/${api.seg(this.room.number)}/browser`;
      const phone = new Softphone({
        join: (sdp, call) => api.post(base, call === null ? { sdp } : { sdp, call }),
        // Not through the 401 hook: after a logout the session is gone anyway.
        leave: (call) => api.request('DELETE', `${base}/${call}`, { session: false }),
        leaveUrl: (call) => `/api/v1${base}/${call}`,
        onChange: (kind) => { if (browserCall && browserCall.phone === phone && browserCall.view) browserCall.view.onSoftChange(kind); },
      });
      b = { room: this.room.number, phone, view: this, orphanTimer: null };
      browserCall = b;
    }
    this.showSoftPanel();
    this.dialInMenu.button.focus();
    await b.phone.start(rememberedDevices());
  }

  showSoftPanel() {
    const b = this.myBrowserCall();
    if (!b) return;
    this.softPanel = softphonePanel(b.phone, {
      id: 'soft',
      onRetry: () => b.phone.start(rememberedDevices()),
      onLeave: () => this.leaveBrowser(),
      onClose: () => this.closeSoftPanel(true),
    });
    fill(this.softHost, this.softPanel.el);
    this.updateDialInMenu();
  }

  closeSoftPanel(focus) {
    const b = this.myBrowserCall();
    if (b && !b.phone.active) browserCall = null;
    this.softPanel = null;
    const hadFocus = this.softHost.contains(document.activeElement);
    fill(this.softHost);
    this.updateDialInMenu();
    if (focus || hadFocus) this.dialInMenu.button.focus();
  }

  async leaveBrowser() {
    const b = this.myBrowserCall();
    if (!b) return;
    await b.phone.hangUp();
  }

  onSoftChange(kind) {
    const b = this.myBrowserCall();
    if (!b || this.stopped) return;
    if (kind === 'state' && b.phone.state === 'ended' && b.phone.endReason === 'left') {
      this.closeSoftPanel(false);
      notify(t('soft.left'), 'success', 3000);
      return;
    }
    if (this.softPanel) this.softPanel.update(kind);
    if (kind === 'state') this.updateDialInMenu();
  }

  /** "In this browser" is not offered twice. */
  updateDialInMenu() {
    const b = this.myBrowserCall();
    const busy = !!(b && b.phone.active);
    const item = this.dialInMenu.items[0];
    if (busy) item.setAttribute('aria-disabled', 'true'); else item.removeAttribute('aria-disabled');
  }

  /** The window learnt that our browser participant was hung up (call) or that the conference ended (null). */
  browserCallGone(call) {
    const b = this.myBrowserCall();
    if (!b || !b.phone.active || b.phone.call === null) return;
    if (call === null || call === b.phone.call) b.phone.drop('removed');
  }

  async toggleLock() {
    const locked = !this.locked;
    const ok = await this.run(() => api.post(this.path('/lock'), { locked }), t(locked ? 'conf.locked' : 'conf.unlocked'));
    if (ok !== undefined) { this.locked = locked; this.renderRoomState(); }
  }

  async toggleRoomMute() {
    const muted = !this.roomMuted;
    let except = null;
    if (muted) {
      const browser = this.myBrowserCall();
      const here = browser && browser.phone.call !== null ? this.calls.get(browser.phone.call) : null;
      const mine = (here && here.state === 'connected' ? here : null)
        || [...this.calls.values()].find((p) => p.state === 'connected' && this.isMine(p));
      except = mine ? mine.call : null;
    }
    const ok = await this.run(() => api.post(this.path('/mute'), { muted, except }), t(muted ? 'conf.mutedAll' : 'conf.unmutedAll'));
    if (ok !== undefined) { this.roomMuted = muted; this.renderRoomState(); }
  }

  async endConference() {
    const yes = await confirmDialog({ title: t('confirm.endTitle'), body: t('confirm.endBody'), confirm: t('confirm.endYes') });
    if (!yes) return;
    this.endedHere = Date.now();
    await this.run(() => api.post(this.path('/end')), t('conf.endedByYou'));
  }

  async toggleMute(call) {
    const p = this.calls.get(call);
    if (!p) return;
    const muted = !p.muted;
    const ok = await this.run(() => api.post(this.path(`/calls/${call}/mute`), { muted }));
    if (ok !== undefined) { p.muted = muted; this.queueRender(); }
  }

  // ---- blocked callers -------------------------------------------------------------------------

  buildBlocks() {
    this.blocksCount = h('span', { class: 'count' });
    this.blocksList = h('ul', { class: 'block-list' });
    this.blocksBox = h('details', { class: 'card blocks', hidden: true },
      h('summary', {}, h('span', { class: 'blocks-title' }, icon('ban'), t('blocks.title')), this.blocksCount, icon('chevronDown', 'chev')),
      h('p', { class: 'muted-text' }, t('blocks.hint')),
      this.blocksList);
    return this.blocksBox;
  }

  async loadBlocks() {
    let blocks;
    try {
      blocks = await api.get(this.path('/blocks'));
    } catch (e) {
      if (e.status !== 401 && e.status !== 403) notify(e.message, 'error');
      return;
    }
    if (this.stopped) return;
    this.blocksBox.hidden = !blocks || blocks.length === 0;
    this.blocksCount.textContent = String((blocks || []).length);
    fill(this.blocksList, (blocks || []).map((b) => h('li', { class: 'block-item' },
      h('span', { class: 'mono' }, b.who),
      h('span', { class: 'muted-text' }, [
        b.until ? t('blocks.until', { time: this.dateTime(b.until) }) : t('blocks.forever'),
        b.kind === 'caller-id' ? t('blocks.callerId') : null,
      ].filter(Boolean).join(' · ')),
      button(t('blocks.unblock'), { class: 'btn-small', ariaLabel: t('blocks.unblockAria', { who: b.who }), onclick: () => this.unblock(b.who) }))));
  }

  async unblock(who) {
    const ok = await this.run(() => api.del(this.path(`/blocks/${api.seg(who)}`)), t('blocks.unblocked', { who }));
    if (ok === undefined) return;
    await this.loadBlocks();
    if (!this.blocksBox.hidden) this.blocksBox.querySelector('summary').focus();
    else this.root.querySelector('h1').focus();
  }

  dateTime(unix) {
    return new Intl.DateTimeFormat(lang(), { dateStyle: 'short', timeStyle: 'short', timeZone: viewerZone() }).format(new Date(unix * 1000));
  }

  async hangup(call, block) {
    const p = this.calls.get(call);
    if (!p) return;
    const name = this.displayName(p);
    if (block) {
      const yes = await confirmDialog({ title: t('confirm.blockTitle', { name }), body: t('confirm.blockBody', { name }), confirm: t('confirm.blockYes') });
      if (!yes) return;
    }
    const ok = await this.run(
      () => api.request('POST', this.path(`/calls/${call}/hangup`), block ? { json: { block: true } } : {}),
      t(block ? 'conf.blocked' : 'conf.hungUp', { name }));
    if (block && ok !== undefined) this.loadBlocks();
  }

  cancel(call) {
    const p = this.calls.get(call);
    if (!p) return undefined;
    return this.run(() => api.request('POST', this.path(`/calls/${call}/hangup`)), t('conf.cancelled', { name: this.displayName(p) }));
  }

  async redial(call) {
    const p = this.calls.get(call);
    if (!p) return;
    const answer = await this.run(() => api.post(this.path(`/calls/${call}/redial`)), t('invite.calling', { name: this.displayName(p) }));
    if (answer && answer.call !== undefined) {
      this.addProvisional({ call: answer.call, number: answer.number || p.number, state: answer.state || 'calling', link: answer.link || p.link, name: p.name });
    }
  }

  async copyLink(row) {
    const p = row.p;
    if (!p || !p.link) return;
    const copied = await copyText(p.link);
    if (!copied) return;
    notify(t('conf.linkCopied'), 'success', 2000);
    row.link.setOn(true);
    clearTimeout(row.linkTimer);
    row.linkTimer = setTimeout(() => row.link.setOn(false), 2000);
  }

  /** Revokes the personal link of an invitee (every invitation of that number in this room shares it). */
  async revokeLink(call) {
    const p = this.calls.get(call);
    if (!p || !p.link) return;
    const name = this.displayName(p);
    const yes = await confirmDialog({ title: t('confirm.revokeTitle', { name }), body: t('confirm.revokeBody', { name }), confirm: t('confirm.revokeYes') });
    if (!yes) return;
    const link = p.link;
    const token = new URL(link, location.href).pathname.split('/').pop();
    const ok = await this.run(() => api.request('DELETE', this.path(`/links/${encodeURIComponent(token)}`)), t('conf.linkRevoked', { name }));
    if (ok === undefined) return;
    for (const other of this.calls.values()) if (other.link === link) other.link = null;
    this.queueRender();
  }
}
