// invite.js — the "Invite telephone participant" field: a number or a phone-book name, with autocomplete (ARIA combobox).
import { t } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, notify } from '/ui/dom.js';

const DEBOUNCE_MS = 150;
const LIMIT = 8;

/** An entry's numbers with their labels ("work", "mobile"); an entry may carry only `number`. */
export function numbersOf(entry) {
  if (Array.isArray(entry.numbers) && entry.numbers.length) return entry.numbers;
  return entry.number ? [{ label: null, number: entry.number }] : [];
}

/** One suggestion per number: "Anna Müller · mobile +4179…" can be told from her office line. */
function suggestions(found) {
  const out = [];
  for (const e of Array.isArray(found) ? found : []) {
    for (const n of numbersOf(e)) out.push({ name: e.name, company: e.company || null, label: n.label || null, number: n.number });
  }
  return out.slice(0, LIMIT);
}

/** "+41 44 123 45 67", "044/123-45-67" → "+41441234567"; anything else (a name) → null. */
export function asNumber(raw) {
  const compact = raw.replace(/[\s()/.\-]/g, '');
  return /^\+?\d+$/.test(compact) ? compact : null;
}

/**
 * Builds the invite form. `onInvite(number, name)` places the call and resolves true on
 * success; the field then clears so the next person can be typed right away.
 */
export function inviteForm({ onInvite }) {
  const uid = Math.random().toString(36).slice(2, 7);
  const inputId = 'invite-input-' + uid;
  const listId = 'invite-list-' + uid;
  const hintId = 'invite-hint-' + uid;

  const input = h('input', {
    id: inputId, type: 'text', role: 'combobox', autocomplete: 'off', spellcheck: 'false',
    'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId, 'aria-describedby': hintId,
    placeholder: t('invite.placeholder'), enterkeyhint: 'send',
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'combo-list', 'aria-label': t('invite.suggestions'), hidden: true });
  const live = h('p', { id: hintId, class: 'visually-hidden', 'aria-live': 'polite' }, t('invite.hint'));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('userPlus'), h('span', { class: 'btn-label' }, t('action.invite')));
  const form = h('form', { class: 'invite-form', 'aria-labelledby': 'invite-title-' + uid },
    h('h2', { id: 'invite-title-' + uid, class: 'visually-hidden' }, t('invite.title')),
    h('label', { for: inputId, class: 'invite-label' }, t('invite.label')),
    h('div', { class: 'invite-row' }, h('div', { class: 'combo' }, input, list), submit),
    live);

  let entries = [];       // current suggestions
  let active = -1;        // highlighted suggestion
  let timer = null;
  let searchSeq = 0;
  let pending = null;     // the running search, so Enter can wait for it
  let busy = false;

  const open = () => entries.length > 0 && !list.hidden;

  function renderList() {
    fill(list, entries.map((e, i) => h('li', {
      id: `${listId}-${i}`, role: 'option', class: 'combo-option', 'aria-selected': String(i === active),
      onmousedown: (ev) => ev.preventDefault(),
      onclick: () => choose(i),
    }, h('span', { class: 'combo-name' }, e.name, e.company ? h('span', { class: 'combo-company' }, ` · ${e.company}`) : null),
    h('span', { class: 'combo-number' }, e.label ? `${e.label} ` : '', e.number))));
    const show = entries.length > 0;
    list.hidden = !show;
    input.setAttribute('aria-expanded', String(show));
    if (active >= 0 && show) {
      input.setAttribute('aria-activedescendant', `${listId}-${active}`);
      document.getElementById(`${listId}-${active}`)?.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }

  function closeList() {
    entries = [];
    active = -1;
    renderList();
  }

  function search() {
    clearTimeout(timer);
    timer = null;
    const q = input.value.trim();
    const seq = ++searchSeq;
    if (q.length < 1) { closeList(); pending = null; return Promise.resolve(); }
    pending = api.get(`/phonebook?q=${encodeURIComponent(q)}&limit=${LIMIT}`)
      .then((found) => {
        if (seq !== searchSeq) return;
        entries = suggestions(found);
        active = -1;
        renderList();
        live.textContent = entries.length ? t('invite.matches', { count: entries.length }) : '';
      })
      .catch(() => { if (seq === searchSeq) closeList(); });
    return pending;
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });

  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!open()) { search(); return; }
      active = (active + 1) % entries.length;
      renderList();
    } else if (e.key === 'ArrowUp') {
      if (!open()) return;
      e.preventDefault();
      active = active <= 0 ? entries.length - 1 : active - 1;
      renderList();
    } else if (e.key === 'Escape') {
      if (open()) { e.preventDefault(); e.stopPropagation(); closeList(); } else if (input.value) { e.preventDefault(); input.value = ''; }
    } else if (e.key === 'Tab') {
      if (open()) closeList();
    }
  });
  input.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== input) closeList(); }, 100));

  function choose(i) {
    const e = entries[i];
    if (e) invite(e.number, e.name);
  }

  async function invite(number, name) {
    if (busy) return;
    busy = true;
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const ok = await onInvite(number, name);
      if (ok) {
        clearTimeout(timer);
        searchSeq += 1;
        input.value = '';
        closeList();
      }
    } finally {
      busy = false;
      submit.disabled = false;
      form.removeAttribute('aria-busy');
      input.focus();
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (active >= 0 && entries[active]) return choose(active);
    const raw = input.value.trim();
    if (!raw) {
      notify(t('invite.empty'), 'error');
      input.focus();
      return;
    }
    const number = asNumber(raw);
    if (number) return invite(number, null);
    // A name: wait for the phone book's answer to exactly this text.
    await (timer || !pending ? search() : pending);
    if (entries.length === 1) return choose(0);
    if (entries.length > 1) {
      active = 0;
      renderList();
      live.textContent = t('invite.chooseOne', { count: entries.length });
      notify(t('invite.chooseOne', { count: entries.length }), 'info');
      return;
    }
    // Not in the phone book: it may be a phone's user name; the server checks it.
    return invite(raw, null);
  });

  return { el: form, focus: () => input.focus() };
}
