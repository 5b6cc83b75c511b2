// schedule.js — the scheduling form (#/schedule) and the change form of a scheduled conference (#/conferences/<id>/change): defaults, time zones, field errors.
import { t, lang } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, notify } from '/ui/dom.js';
import { participantEditor } from '/ui/participants.js';
import { allZones, knownZone, nextStart, wallToInstant, rfc3339In, fieldsFor, formatRange, viewerZone } from '/ui/zones.js';
import { remember, scheduleTabs, serverMessage } from '/ui/conferences.js';

// What was typed in the form survives leaving it (and a language switch) until it is sent or
// discarded; the administrator's texts left untouched follow the language.
let draft = null;

/** #/schedule: a new conference. */
export function mountSchedule(root, ctx) {
  const page = pageFrame(root, t('sched.title'), t('sched.intro'), 'schedule');
  const body = h('div', { class: 'page-body' }, h('p', { class: 'muted-text' }, t('common.loading')));
  page.append(body);
  let form = null;
  let stopped = false;
  api.get(`/conferences/defaults?lang=${lang()}`)
    .then((defaults) => {
      if (stopped) return;
      if (!defaults.number) { fill(body, notConfigured(ctx)); return; }
      form = new ScheduleForm({ mode: 'new', defaults, ctx });
      fill(body, form.el);
    })
    .catch((e) => { if (!stopped) { fill(body); if (e.status !== 401) notify(e.message, 'error'); } });
  return () => {
    stopped = true;
    if (form && !form.done) draft = { ...form.snapshot(), lang: lang() };
  };
}

/** #/conferences/<id>/change: time, duration and texts of a scheduled conference. */
export function mountChange(root, id, ctx) {
  const page = pageFrame(root, t('sched.changeTitle'), t('sched.changeIntro'), 'conferences');
  const body = h('div', { class: 'page-body' }, h('p', { class: 'muted-text' }, t('common.loading')));
  page.append(body);
  let stopped = false;
  api.get(`/conferences/${api.seg(id)}`)
    .then((c) => {
      if (stopped) return;
      if (c.status === 'cancelled' || c.status === 'over') {
        fill(body, h('div', { class: 'callout' }, h('p', {}, t(c.status === 'cancelled' ? 'sched.changeCancelled' : 'sched.changeOver')),
          h('a', { class: 'btn', href: '#/conferences' }, t('sc.backToList'))));
        return;
      }
      const form = new ScheduleForm({ mode: 'change', conference: c, ctx });
      fill(body, form.el);
    })
    .catch((e) => { if (!stopped) { fill(body); if (e.status !== 401) notify(e.message, 'error'); } });
  return () => { stopped = true; };
}

function pageFrame(root, title, intro, current) {
  const page = h('div', { class: 'page page-form' },
    h('div', { class: 'page-head' },
      h('p', { class: 'eyebrow' }, t('sched.eyebrow')),
      h('h1', {}, title),
      intro ? h('p', { class: 'muted-text' }, intro) : null),
    scheduleTabs(current));
  root.append(page);
  return page;
}

function notConfigured(ctx) {
  return h('section', { class: 'empty-page card', 'aria-labelledby': 'sched-off-title' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon('alert')),
    h('h2', { id: 'sched-off-title' }, t('sched.offTitle')),
    h('p', {}, t(ctx.user.admin ? 'sched.offAdmin' : 'sched.offBody')),
    h('a', { class: 'btn', href: '#/' }, t('nav.home')));
}

const FIELD_OF = {
  title: 'title', description: 'description', location: 'location', start: 'date', time_zone: 'zone',
  duration_minutes: 'duration', dial_in_minutes_before: 'dialIn', reply_to: 'replyTo', participants: 'participants',
};

class ScheduleForm {
  constructor({ mode, defaults, conference, ctx }) {
    this.mode = mode;
    this.ctx = ctx;
    this.defaults = defaults || null;
    this.conference = conference || null;
    this.done = false;
    this.errors = {};
    this.build();
  }

  initial() {
    if (this.mode === 'change') {
      const c = this.conference;
      const zone = knownZone(c.time_zone) ? c.time_zone : viewerZone();
      const f = fieldsFor(Date.parse(c.start), zone);
      return {
        title: c.title, description: c.description, location: c.location, date: f.date, time: f.time, zone,
        duration: c.duration_minutes, dialIn: c.dial_in_minutes_before,
      };
    }
    const d = this.defaults;
    const zone = knownZone(d.time_zone) ? d.time_zone : viewerZone();
    const start = nextStart(zone);
    const fresh = {
      title: d.title, description: d.description, location: d.location, date: start.date, time: start.time, zone,
      duration: d.duration_minutes, dialIn: d.dial_in_minutes_before, replyTo: d.reply_to || '',
      participants: d.participants || [], defaults: { title: d.title, description: d.description, location: d.location },
    };
    if (!draft) return fresh;
    // A draft from before: keep what the user typed; texts they left alone follow the language.
    const out = { ...draft, defaults: fresh.defaults };
    for (const key of ['title', 'description', 'location']) {
      if (draft.defaults && draft[key] === draft.defaults[key]) out[key] = fresh[key];
    }
    return out;
  }

  build() {
    const v = this.initial();
    this.defaultTexts = v.defaults || null;
    const uid = 'sf';
    const input = (name, props) => h('input', { id: `${uid}-${name}`, name, ...props });
    this.f = {
      title: input('title', { type: 'text', required: true, maxlength: '200', autocomplete: 'off', value: v.title }),
      location: input('location', { type: 'text', maxlength: '200', autocomplete: 'off', value: v.location }),
      description: h('textarea', { id: `${uid}-description`, name: 'description', rows: '8', maxlength: '10000' }),
      date: input('date', { type: 'date', required: true, value: v.date }),
      time: input('time', { type: 'time', required: true, step: '300', value: v.time }),
      zone: h('select', { id: `${uid}-zone`, name: 'time_zone' }, allZones(v.zone).map((z) => h('option', { value: z, selected: z === v.zone }, z.replace(/_/g, ' ')))),
      dialIn: input('dialIn', { type: 'number', required: true, min: '0', max: '120', step: '1', inputmode: 'numeric', value: String(v.dialIn) }),
      duration: input('duration', { type: 'number', required: true, min: '5', max: '1440', step: '5', inputmode: 'numeric', value: String(v.duration) }),
    };
    this.f.description.value = v.description || '';
    if (this.mode === 'new') {
      this.f.replyTo = input('replyTo', { type: 'email', autocomplete: 'email', value: v.replyTo || '' });
      this.participants = participantEditor({
        id: `${uid}-participants`, label: t('sched.participants'), hint: t('sched.participantsHint'),
        own: this.ctx.user.email || null, initial: v.participants || [],
      });
    }
    this.summary = h('p', { class: 'when-summary', id: `${uid}-summary` });
    this.formError = h('div', { class: 'form-error form-error-box', role: 'alert' });
    this.submit = h('button', { type: 'submit', class: 'btn btn-primary btn-large' },
      icon(this.mode === 'new' ? 'mail' : 'check'), h('span', { class: 'btn-label' }, t(this.mode === 'new' ? 'sched.send' : 'sched.sendUpdate')));

    const errorSlot = (name) => h('p', { id: `${uid}-${name}-error`, class: 'field-error' });
    const field = (name, label, control, hint, cls) => {
      const hintId = hint ? `${uid}-${name}-hint` : null;
      control.setAttribute('aria-describedby', [hintId, `${uid}-${name}-error`].filter(Boolean).join(' '));
      return h('div', { class: 'field' + (cls ? ' ' + cls : '') },
        h('label', { for: control.id }, label), control,
        hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
        errorSlot(name));
    };
    // The start's error belongs to date and time together.
    const startError = errorSlot('date');
    this.f.date.setAttribute('aria-describedby', `${uid}-date-error ${uid}-summary`);
    this.f.time.setAttribute('aria-describedby', `${uid}-date-error ${uid}-summary`);
    this.f.zone.setAttribute('aria-describedby', `${uid}-zone-hint ${uid}-zone-error`);

    const what = h('fieldset', { class: 'form-section' },
      h('legend', {}, t('sched.sectionWhat')),
      field('title', t('sched.fTitle'), this.f.title, t('sched.fTitleHint')),
      field('location', t('sched.fLocation'), this.f.location, t('sched.fLocationHint')),
      field('description', t('sched.fDescription'), this.f.description, t('sched.fDescriptionHint')));
    const when = h('fieldset', { class: 'form-section' },
      h('legend', {}, t('sched.sectionWhen')),
      h('div', { class: 'when-grid' },
        h('div', { class: 'field' }, h('label', { for: this.f.date.id }, t('sched.fDate')), this.f.date),
        h('div', { class: 'field' }, h('label', { for: this.f.time.id }, t('sched.fTime')), this.f.time),
        h('div', { class: 'field field-zone' }, h('label', { for: this.f.zone.id }, t('sched.fZone')), this.f.zone,
          h('p', { class: 'hint', id: `${uid}-zone-hint` }, t('sched.fZoneHint')), errorSlot('zone'))),
      startError,
      h('div', { class: 'when-grid' },
        field('duration', t('sched.fDuration'), this.f.duration, t('sched.fDurationHint')),
        field('dialIn', t('sched.fDialIn'), this.f.dialIn, t('sched.fDialInHint'))),
      this.summary);
    const sections = [what, when];
    if (this.mode === 'new') {
      sections.push(h('fieldset', { class: 'form-section' },
        h('legend', {}, t('sched.sectionWho')),
        field('replyTo', t('sched.fReplyTo'), this.f.replyTo, t('sched.fReplyToHint')),
        this.participants.el));
    }
    const cancel = h('a', { class: 'btn btn-ghost', href: '#/conferences' }, t('action.cancel'));
    cancel.addEventListener('click', () => { if (this.mode === 'new') { this.done = true; draft = null; } });
    this.form = h('form', { class: 'card schedule-form', novalidate: true, 'aria-describedby': `${uid}-form-error` },
      ...sections,
      h('div', { class: 'form-foot' }, this.formError, h('div', { class: 'button-row' }, this.submit, cancel)));
    this.formError.id = `${uid}-form-error`;
    this.el = this.form;

    for (const el of [this.f.date, this.f.time, this.f.zone, this.f.duration, this.f.dialIn]) {
      el.addEventListener('input', () => this.updateSummary());
      el.addEventListener('change', () => this.updateSummary());
    }
    for (const [name, el] of Object.entries(this.f)) el.addEventListener('input', () => this.clearError(name));
    this.f.time.addEventListener('input', () => this.clearError('date'));
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
    this.updateSummary();
  }

  snapshot() {
    return {
      title: this.f.title.value, description: this.f.description.value, location: this.f.location.value,
      date: this.f.date.value, time: this.f.time.value, zone: this.f.zone.value,
      duration: this.f.duration.value, dialIn: this.f.dialIn.value, replyTo: this.f.replyTo ? this.f.replyTo.value : '',
      participants: this.participants ? this.participants.values() : [], defaults: this.defaultTexts,
    };
  }

  /** The start as an instant, from the date and time typed for the chosen zone (null: incomplete). */
  start() {
    return wallToInstant(this.f.date.value, this.f.time.value, this.f.zone.value);
  }

  updateSummary() {
    const at = this.start();
    const minutes = Number(this.f.duration.value);
    const before = Number(this.f.dialIn.value);
    if (at === null || !Number.isFinite(minutes) || minutes <= 0) { this.summary.textContent = ''; return; }
    const zone = this.f.zone.value;
    const end = at + minutes * 60000;
    const parts = [t('sched.summary', { when: formatRange(at, end, zone), zone: zone.replace(/_/g, ' ') })];
    if (Number.isFinite(before) && before >= 0) parts.push(t('sched.summaryDialIn', { minutes: before }));
    const mine = viewerZone();
    if (mine !== zone && formatRange(at, end, zone) !== formatRange(at, end, mine)) {
      parts.push(t('sched.summaryYours', { when: formatRange(at, end, mine) }));
    }
    if (at + minutes * 60000 <= Date.now()) parts.push(t('sched.summaryPast'));
    this.summary.textContent = parts.join(' ');
    this.summary.classList.toggle('is-warning', at + minutes * 60000 <= Date.now());
  }

  // ---- errors ----------------------------------------------------------------------------------

  setError(field, message) {
    const name = FIELD_OF[field] || null;
    if (name === 'participants' && this.participants) {
      this.participants.showError(message);
      return;
    }
    const slot = name && this.form.querySelector(`#sf-${name}-error`);
    const control = name && this.f[name];
    if (!slot || !control) {
      this.formError.textContent = message;
      this.formError.scrollIntoView({ block: 'nearest' });
      this.submit.focus();
      return;
    }
    slot.textContent = message;
    control.setAttribute('aria-invalid', 'true');
    if (name === 'date') this.f.time.setAttribute('aria-invalid', 'true');
    control.focus();
    if (typeof control.select === 'function' && control.type !== 'date' && control.type !== 'time' && control.tagName !== 'SELECT') control.select();
  }

  clearError(name) {
    const slot = this.form.querySelector(`#sf-${name}-error`);
    if (slot) slot.textContent = '';
    if (this.f[name]) this.f[name].removeAttribute('aria-invalid');
    if (name === 'date' || name === 'time') { this.f.date.removeAttribute('aria-invalid'); this.f.time.removeAttribute('aria-invalid'); }
    this.formError.textContent = '';
  }

  clearAll() {
    for (const slot of this.form.querySelectorAll('.field-error')) slot.textContent = '';
    for (const el of this.form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    for (const el of this.form.querySelectorAll('.is-invalid')) el.classList.remove('is-invalid');
    for (const el of this.form.querySelectorAll('.row-flag')) el.hidden = true;
    this.formError.textContent = '';
  }

  /** The browser's own checks (required, min/max), shown the same way as the server's. */
  localCheck() {
    const checks = [
      ['title', this.f.title, () => this.f.title.value.trim() !== '', 'sched.errTitle'],
      ['start', this.f.date, () => this.start() !== null, 'sched.errStart'],
      ['duration_minutes', this.f.duration, () => this.f.duration.validity.valid && this.f.duration.value !== '', 'sched.errDuration'],
      ['dial_in_minutes_before', this.f.dialIn, () => this.f.dialIn.validity.valid && this.f.dialIn.value !== '', 'sched.errDialIn'],
    ];
    for (const [field, , ok, key] of checks) {
      if (!ok()) { this.setError(field, t(key)); return false; }
    }
    return true;
  }

  // ---- sending ---------------------------------------------------------------------------------

  async send() {
    if (this.busy) return;
    this.clearAll();
    if (this.participants) this.participants.takePending();
    if (!this.localCheck()) return;
    const zone = this.f.zone.value;
    const start = rfc3339In(this.start(), zone);
    this.busy = true;
    this.submit.disabled = true;
    this.form.setAttribute('aria-busy', 'true');
    try {
      if (this.mode === 'new') {
        const body = {
          title: this.f.title.value.trim(), description: this.f.description.value, location: this.f.location.value.trim(),
          start, time_zone: zone, duration_minutes: Number(this.f.duration.value), dial_in_minutes_before: Number(this.f.dialIn.value),
          reply_to: this.f.replyTo.value.trim() || null, participants: this.participants.values(), language: lang(),
        };
        if (body.participants.length === 0) { this.setError('participants', t('sched.errNoParticipants')); return; }
        const { data } = await api.request('POST', '/conferences', { json: body });
        this.done = true;
        draft = null;
        remember(data, { created: true });
        this.ctx.go('#/conferences/' + encodeURIComponent(data.id));
      } else {
        const c = this.conference;
        const changes = {};
        const text = { title: this.f.title.value.trim(), description: this.f.description.value, location: this.f.location.value.trim() };
        for (const [k, value] of Object.entries(text)) if (value !== c[k]) changes[k] = value;
        if (Date.parse(start) !== Date.parse(c.start)) changes.start = start;
        if (zone !== c.time_zone) { changes.time_zone = zone; changes.start = start; }
        const duration = Number(this.f.duration.value);
        const dialIn = Number(this.f.dialIn.value);
        if (duration !== c.duration_minutes) changes.duration_minutes = duration;
        if (dialIn !== c.dial_in_minutes_before) changes.dial_in_minutes_before = dialIn;
        if (Object.keys(changes).length === 0) { this.formError.textContent = t('sched.nothingChanged'); return; }
        const updated = await api.patch(`/conferences/${api.seg(c.id)}`, changes);
        this.done = true;
        remember(updated, { updated: true });
        this.ctx.go('#/conferences/' + encodeURIComponent(updated.id));
      }
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 422) this.setError(e.field, serverMessage(e.message, e.field));
      else this.setError(null, serverMessage(e.message));
    } finally {
      this.busy = false;
      this.submit.disabled = false;
      this.form.removeAttribute('aria-busy');
    }
  }
}
