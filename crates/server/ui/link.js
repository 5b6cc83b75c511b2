// link.js — the invited guest's personal-link page (/j/{token}): dial-in number and PIN, "Join in browser" and "Call me".
import { t, lang, setLang, applyI18n, onLangChange } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button, notify, copyText } from '/ui/dom.js';
import { Softphone } from '/ui/softphone.js';
import { softphonePanel, rememberedDevices } from '/ui/softphone-panel.js';

const view = document.getElementById('view');
const token = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
let info = null;        // the link's answer, kept across language switches
let failure = null;     // {status, code, message} when the link cannot be used
let typedNumber = null; // what the guest typed, kept across language switches
let result = null;      // {kind: 'ok'|'error', text-key or message}
let retryTimer = null;
let resultBox = null;   // the live region under the "Call me" button
let phone = null;       // the browser call, kept across language switches
let softPanel = null;   // its panel while shown

/** Writes the call result into the live region in place, so screen readers announce it. */
function showResult() {
  if (!resultBox) return;
  fill(resultBox, result ? h('p', { class: 'badge ' + (result.kind === 'ok' ? 'badge-ok' : 'badge-error') },
    icon(result.kind === 'ok' ? 'phone' : 'alert'), h('span', {}, result.text())) : null);
}

function render() {
  document.title = info && info.room_name ? `${info.room_name} · konferenz` : 'konferenz';
  if (failure) return renderFailure();
  if (!info) return fill(view, h('p', { class: 'muted-text' }, t('common.loading')));

  const roomTitle = info.room_name || t('room.numbered', { number: info.room_number || info.room });
  const blocks = [];
  if (info.dial_in_number) blocks.push(bigValue('link-number', t('link.dial'), info.dial_in_number, t('link.copyNumber'), 'tel'));
  else blocks.push(bigValue('link-number', t('link.dialInternal'), info.room_number || info.room, t('link.copyNumber'), 'tel'));
  if (info.pin) blocks.push(bigValue('link-pin', t('link.pin'), info.pin, t('link.copyPin'), null, t('link.pinThenHash')));
  else blocks.push(h('p', { class: 'muted-text' }, t('link.noPin')));
  if (info.dial_in_number && info.room_number) blocks.push(h('p', { class: 'muted-text' }, t('link.internal', { number: info.room_number })));

  const numberInput = h('input', {
    id: 'callme-number', type: 'tel', autocomplete: 'tel', required: true, inputmode: 'tel',
    value: typedNumber ?? info.number ?? '', 'aria-describedby': 'callme-hint',
  });
  numberInput.addEventListener('input', () => { typedNumber = numberInput.value; });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-large' }, icon('phone'), h('span', { class: 'btn-label' }, t('link.callMe')));
  resultBox = h('div', { class: 'callme-result', 'aria-live': 'polite' });
  showResult();
  const form = h('form', { class: 'stack-form', 'aria-labelledby': 'callme-title' },
    h('div', { class: 'field' },
      h('label', { for: 'callme-number' }, t('link.yourNumber')), numberInput,
      h('p', { class: 'hint', id: 'callme-hint' }, t('link.callMeHint'))),
    submit, resultBox);
  form.addEventListener('submit', (e) => { e.preventDefault(); callMe(numberInput, submit); });

  const conf = info.conference;
  // The browser call is offered where "Call me" is: without a schedule, or while dialling in is open.
  const browserSection = browserCallSection(!conf || conf.status === 'open');
  let when = null;
  let callMeSection = h('section', { class: 'card', 'aria-labelledby': 'callme-title' },
    h('h2', { id: 'callme-title' }, t('link.callMeTitle')), form);
  if (conf) {
    const fmt = (iso, tz) => new Intl.DateTimeFormat(lang(), {
      dateStyle: 'full', timeStyle: 'short', ...(tz ? { timeZone: tz } : {}),
    }).format(new Date(iso));
    const endFmt = (iso, tz) => new Intl.DateTimeFormat(lang(), {
      timeStyle: 'short', ...(tz ? { timeZone: tz } : {}),
    }).format(new Date(iso));
    const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
    when = h('section', { class: 'card', 'aria-labelledby': 'when-title' },
      h('h2', { id: 'when-title' }, t('link.when')),
      h('p', { class: 'big-when', id: 'link-when' }, `${fmt(conf.start)} – ${endFmt(conf.end)}`),
      here !== conf.time_zone
        ? h('p', { class: 'muted-text' }, t('link.whenThere', { time: `${fmt(conf.start, conf.time_zone)} – ${endFmt(conf.end, conf.time_zone)}`, zone: conf.time_zone }))
        : null,
      conf.status === 'cancelled' ? h('p', { class: 'badge badge-error' }, icon('alert'), h('span', {}, t('link.cancelled'))) : null,
      h('p', {}, h('a', { class: 'btn', href: conf.ics, download: 'invite.ics' }, icon('calendar'), h('span', { class: 'btn-label' }, t('link.ics')))));
    if (conf.status !== 'open') {
      callMeSection = h('section', { class: 'card', 'aria-labelledby': 'callme-title' },
        h('h2', { id: 'callme-title' }, t('link.callMeTitle')),
        h('p', { class: 'muted-text', id: 'callme-closed' }, conf.status === 'upcoming'
          ? t('link.callMeFrom', { time: fmt(conf.opens) })
          : conf.status === 'cancelled' ? t('link.cancelled') : t('link.callMeOver')));
    }
  }

  fill(view, h('div', { class: 'page' },
    h('div', { class: 'page-head' },
      h('p', { class: 'muted-text' }, t('link.invited')),
      h('h1', {}, roomTitle)),
    when,
    // A cancelled conference has nothing to dial any more.
    conf && conf.status === 'cancelled' ? null : h('section', { class: 'card', 'aria-labelledby': 'dial-title' },
      h('h2', { id: 'dial-title' }, t('link.dialTitle')), blocks),
    browserSection,
    callMeSection));
}

/** The panel of the browser call while there is one to show, else (when offered) the "Join in browser" card. */
function browserCallSection(offered) {
  const shown = phone && (phone.active || phone.state === 'failed' || (phone.state === 'ended' && phone.endReason !== 'left'));
  if (shown) {
    softPanel = softphonePanel(phone, {
      id: 'soft',
      onRetry: () => joinBrowser(),
      onLeave: () => phone.hangUp(),
      onClose: () => { phone = null; softPanel = null; render(); document.getElementById('join-browser')?.focus(); },
    });
    return softPanel.el;
  }
  softPanel = null;
  if (!offered) return null;
  return h('section', { class: 'card', 'aria-labelledby': 'browser-title' },
    h('h2', { id: 'browser-title' }, t('link.browserTitle')),
    h('div', { class: 'stack-form' },
      h('p', { class: 'muted-text' }, t('link.browserHint')),
      h('div', {},
        h('button', { type: 'button', id: 'join-browser', class: 'btn btn-primary btn-large', onclick: () => joinBrowser() },
          icon('browser'), h('span', { class: 'btn-label' }, t('link.joinBrowser'))))));
}

async function joinBrowser() {
  if (phone && phone.active) return;
  if (!phone) {
    const base = `/links/${encodeURIComponent(token)}/browser`;
    phone = new Softphone({
      join: async (sdp, call) => (await api.request('POST', base, { json: call === null ? { sdp } : { sdp, call }, session: false })).data,
      leave: (call) => api.request('DELETE', `${base}/${call}`, { session: false }),
      leaveUrl: (call) => `/api/v1${base}/${call}`,
      onChange: onPhoneChange,
    });
  }
  const starting = phone.start(rememberedDevices());   // 'starting' at once: the panel replaces the button
  if (softPanel) softPanel.focus();
  await starting;
}

function onPhoneChange(kind) {
  if (kind === 'state') {
    if (phone.state === 'ended' && phone.endReason === 'left') {
      render();
      notify(t('soft.left'), 'success', 3000);
      document.getElementById('join-browser')?.focus();
      return;
    }
    if (phone.state === 'failed' && (phone.errorStatus === 404 || phone.errorStatus === 403)) {
      // The link was withdrawn or blocked meanwhile: the same page as on opening it.
      failure = { status: phone.errorStatus, message: phone.errorMessage };
      render();
      view.querySelector('h1')?.focus();
      return;
    }
    if (!softPanel) { render(); return; }
  }
  if (softPanel) softPanel.update(kind);
}

function bigValue(id, label, value, copyLabel, kind, hint) {
  return h('div', { class: 'big-value' },
    h('span', { class: 'big-label', id: id + '-label' }, label),
    h('div', { class: 'big-row' },
      kind === 'tel'
        ? h('a', { class: 'big', href: 'tel:' + value.replace(/[^+\d*#]/g, ''), 'aria-labelledby': id + '-label ' + id }, h('span', { id }, value))
        : h('span', { class: 'big', id }, value),
      button(copyLabel, { icon: 'copy', class: 'btn-small', onclick: async () => { if (await copyText(value)) notify(t('link.copied'), 'success', 2000); } })),
    hint ? h('span', { class: 'hint' }, hint) : null);
}

async function callMe(input, submit) {
  const number = input.value.trim();
  if (!number) { input.focus(); return; }
  submit.disabled = true;
  clearInterval(retryTimer);
  try {
    await api.request('POST', `/links/${encodeURIComponent(token)}/call`, { json: { number }, session: false });
    result = { kind: 'ok', text: () => t('link.calling') };
    showResult();
    submit.disabled = false;
  } catch (e) {
    submit.disabled = false;
    if (e.status === 404 || e.status === 403) {
      failure = e;
      render();
      view.querySelector('h1')?.focus();
      return;
    }
    if (e.status === 429) {
      let left = e.retryAfter || 30;
      result = { kind: 'error', text: () => t('link.tooMany', { seconds: left }) };
      submit.disabled = true;
      retryTimer = setInterval(() => {
        left -= 1;
        // Announced once; the countdown itself only updates the screen.
        resultBox.setAttribute('aria-live', 'off');
        if (left > 0) { showResult(); return; }
        resultBox.setAttribute('aria-live', 'polite');
        clearInterval(retryTimer);
        result = null;
        showResult();
        const b = view.querySelector('form button[type=submit]');
        if (b) b.disabled = false;
      }, 1000);
    } else {
      result = { kind: 'error', text: () => e.message };
    }
    showResult();
    input.focus();
  }
}

function renderFailure() {
  const blocked = failure.status === 403;
  const gone = failure.status === 404;
  fill(view, h('section', { class: 'empty-page card', 'aria-labelledby': 'fail-title' },
    h('div', { class: 'empty-icon', 'aria-hidden': 'true' }, icon(blocked ? 'ban' : 'alert')),
    h('h1', { id: 'fail-title', tabindex: '-1' }, blocked ? t('link.blockedTitle') : gone ? t('link.goneTitle') : t('error.loadTitle')),
    h('p', {}, blocked ? t('link.blockedBody') : gone ? t('link.goneBody') : failure.message)));
}

function reflectLang() {
  for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang()));
}

async function start() {
  applyI18n(document);
  reflectLang();
  for (const b of document.querySelectorAll('[data-lang]')) b.addEventListener('click', () => setLang(b.dataset.lang));
  onLangChange(() => { applyI18n(document); reflectLang(); render(); });
  render();
  if (!token) { failure = { status: 404 }; render(); return; }
  try {
    info = (await api.request('GET', `/links/${encodeURIComponent(token)}`, { session: false })).data;
  } catch (e) {
    failure = e;
  }
  render();
}

start();
