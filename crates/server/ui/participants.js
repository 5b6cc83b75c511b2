// participants.js — the e-mail invitees editor of the scheduling form: one field that adds rows, each with an editable address, an optional phone number and "call at start".
import { t } from '/ui/i18n.js';
import { h, icon } from '/ui/dom.js';

/** The server's rule for an address, to point at the row a refusal is about. */
export function looksLikeEmail(text) {
  const s = (text || '').trim();
  if (!s || s.length > 254 || /\s/.test(s)) return false;
  const at = s.indexOf('@');
  if (at <= 0) return false;
  const domain = s.slice(at + 1);
  return domain.includes('.') && !domain.includes('@') && !domain.startsWith('.') && !domain.endsWith('.');
}

/** Splits pasted text ("a@x.org, b@y.org; c@z.org") into addresses. */
export function splitAddresses(text) {
  return (text || '').split(/[\s,;]+/).map((s) => s.trim().replace(/^<|>$/g, '')).filter(Boolean);
}

/**
 * participantEditor({id, label, hint, own, initial}) → {el, input, values(), takePending(), showError(msg), clearError(), focus()}.
 * `initial`: addresses or {email, phone, call_at_start}; `own`: the user's address, marked "(you)".
 */
export function participantEditor({ id, label, hint, own, initial = [] }) {
  const entry = h('input', {
    id, type: 'text', inputmode: 'email', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
    enterkeyhint: 'enter', 'aria-describedby': `${id}-hint ${id}-error`,
  });
  const add = h('button', { type: 'button', class: 'btn' }, icon('plus'), h('span', { class: 'btn-label' }, t('sched.addParticipant')));
  const error = h('p', { id: `${id}-error`, class: 'field-error' });
  const note = h('p', { class: 'hint', 'aria-live': 'polite' });
  const list = h('ol', { class: 'invitees', 'aria-label': t('sched.participantsList') });
  const count = h('span', { class: 'count' }, '0');
  const rows = [];

  function renumber() {
    rows.forEach((row, i) => {
      const n = i + 1;
      row.email.setAttribute('aria-label', t('sched.pEmailAria', { n }));
      row.phone.setAttribute('aria-label', t('sched.pPhoneAria', { n }));
      row.call.setAttribute('aria-label', t('sched.pCallAria', { n }));
      row.remove.setAttribute('aria-label', t('sched.pRemoveAria', { n, email: row.email.value.trim() || '—' }));
      row.you.hidden = !(own && row.email.value.trim().toLowerCase() === own.toLowerCase());
    });
    count.textContent = String(rows.length);
    list.hidden = rows.length === 0;
  }

  function addRow(p) {
    const value = typeof p === 'string' ? { email: p } : p;
    const uid = `${id}-${Math.random().toString(36).slice(2, 8)}`;
    const row = {};
    row.email = h('input', { id: `${uid}-email`, type: 'text', inputmode: 'email', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', value: value.email || '' });
    row.phone = h('input', { id: `${uid}-phone`, type: 'tel', autocomplete: 'off', value: value.phone || '' });
    row.call = h('input', { id: `${uid}-call`, type: 'checkbox', checked: !!value.call_at_start });
    row.you = h('span', { class: 'badge badge-info badge-small you-badge' }, t('p.you').replace(/[()]/g, ''));
    row.flag = h('span', { class: 'row-flag', hidden: true }, icon('alert'), h('span', {}, t('sched.checkAddress')));
    row.remove = h('button', { type: 'button', class: 'btn btn-small btn-ghost invitee-remove' }, icon('x'), h('span', { class: 'btn-label' }, t('sched.remove')));
    row.el = h('li', { class: 'invitee-edit' },
      h('div', { class: 'mini-field inv-email' },
        h('span', { class: 'mini-label-row' }, h('label', { for: row.email.id, class: 'mini-label' }, t('sched.pEmail')), row.you, row.flag),
        row.email),
      h('div', { class: 'mini-field inv-phone' }, h('label', { for: row.phone.id, class: 'mini-label' }, t('sched.pPhone')), row.phone),
      h('div', { class: 'check inv-call' }, row.call, h('label', { for: row.call.id }, t('sched.pCall'))),
      h('div', { class: 'inv-remove' }, row.remove));
    const edited = () => {
      markRow(row, false);
      if (!rows.some((r) => r.el.classList.contains('is-invalid'))) clearError();
    };
    row.email.addEventListener('input', () => { edited(); renumber(); });
    row.phone.addEventListener('input', edited);
    row.call.addEventListener('change', edited);
    row.remove.addEventListener('click', () => {
      const i = rows.indexOf(row);
      rows.splice(i, 1);
      row.el.remove();
      renumber();
      const next = rows[i] || rows[i - 1];
      (next ? next.remove : entry).focus();
      note.textContent = t('sched.removed', { email: row.email.value.trim() });
    });
    rows.push(row);
    list.append(row.el);
    return row;
  }

  function markRow(row, bad) {
    row.flag.hidden = !bad;
    row.el.classList.toggle('is-invalid', bad);
    if (bad) row.email.setAttribute('aria-invalid', 'true');
    else row.email.removeAttribute('aria-invalid');
    if (bad) row.email.setAttribute('aria-describedby', `${id}-error`);
    else row.email.removeAttribute('aria-describedby');
  }

  /** Adds what is typed in the entry field; returns the rows added. */
  function takePending() {
    const wanted = splitAddresses(entry.value);
    const added = [];
    const dupes = [];
    for (const email of wanted) {
      if (rows.some((r) => r.email.value.trim().toLowerCase() === email.toLowerCase())) { dupes.push(email); continue; }
      added.push(addRow(email));
    }
    entry.value = '';
    renumber();
    if (added.length) note.textContent = t('sched.added', { count: added.length, email: added.map((r) => r.email.value).join(', ') });
    else if (dupes.length) note.textContent = t('sched.already', { email: dupes.join(', ') });
    if (added.length) clearError();
    return added;
  }

  entry.addEventListener('keydown', (e) => {
    // Enter adds the address (it does not send the form); a comma or semicolon ends one too.
    if (e.key === 'Enter' || e.key === ',' || e.key === ';') {
      e.preventDefault();
      if (entry.value.trim()) takePending();
    }
  });
  entry.addEventListener('paste', () => setTimeout(() => { if (/[\s,;]/.test(entry.value.trim())) takePending(); }, 0));
  entry.addEventListener('input', () => clearError());
  add.addEventListener('click', () => { takePending(); entry.focus(); });

  function showError(message) {
    error.textContent = message;
    let first = null;
    for (const row of rows) {
      const bad = !looksLikeEmail(row.email.value)
        || (row.call.checked && !row.phone.value.trim())
        || (row.email.value.trim() !== '' && message.startsWith(`${row.email.value.trim()}:`));
      markRow(row, bad);
      if (bad && !first) first = row;
    }
    if (first) {
      const target = looksLikeEmail(first.email.value) ? first.phone : first.email;
      target.focus();
      target.select?.();
    } else {
      entry.setAttribute('aria-invalid', 'true');
      entry.focus();
    }
  }

  function clearError() {
    error.textContent = '';
    entry.removeAttribute('aria-invalid');
  }

  for (const p of initial) addRow(p);
  renumber();

  const el = h('fieldset', { class: 'participants-field' },
    h('legend', {}, h('span', {}, label), count),
    h('div', { class: 'field' },
      h('label', { for: id }, t('sched.addLabel')),
      h('div', { class: 'input-with-button' }, entry, add),
      h('p', { class: 'hint', id: `${id}-hint` }, hint)),
    error,
    list,
    note);

  return {
    el, input: entry,
    values: () => rows.map((r) => {
      const phone = r.phone.value.trim();
      const email = r.email.value.trim();
      return phone || r.call.checked ? { email, phone: phone || null, call_at_start: r.call.checked } : email;
    }),
    emails: () => rows.map((r) => r.email.value.trim()),
    takePending, showError, clearError,
    focus: () => entry.focus(),
  };
}
