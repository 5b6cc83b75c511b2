// dom.js — small DOM helpers shared by every page: element builder, icons, status messages, dialogs, clipboard.
import { t } from '/ui/i18n.js';

/** h('button', {class: 'btn', onclick: fn, 'aria-label': '…'}, 'text', child, …) */
export function h(tag, props, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'hidden' || key === 'disabled' || key === 'checked' || key === 'required'
      || key === 'readOnly' || key === 'multiple' || key === 'selected') el[key] = true;
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces all children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// 24×24 stroke icons, drawn for this product.
const ICONS = {
  phone: 'M5 3.5h3.2l1.6 4.3-2.2 1.6a11.5 11.5 0 0 0 7 7l1.6-2.2 4.3 1.6v3.2a2 2 0 0 1-2.1 2A17 17 0 0 1 3 5.6a2 2 0 0 1 2-2.1z',
  hangup: 'M2.5 14.5c5.3-5 13.7-5 19 0l-2.4 2.6-3.6-1.3v-2.6a12 12 0 0 0-7 0v2.6l-3.6 1.3z',
  mic: 'M12 3a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z M5.5 11a6.5 6.5 0 0 0 13 0 M12 17.5V21',
  micOff: 'M12 3a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z M5.5 11a6.5 6.5 0 0 0 13 0 M12 17.5V21 M4 4l16 16',
  lock: 'M5.5 11h13v9.5h-13z M8.5 11V8a3.5 3.5 0 0 1 7 0v3',
  unlock: 'M5.5 11h13v9.5h-13z M8.5 11V8a3.5 3.5 0 0 1 6.8-1.2',
  link: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1.2 1.2 M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1.2-1.2',
  userPlus: 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M2 21a7 7 0 0 1 14 0 M19 8v6 M16 11h6',
  x: 'M6 6l12 12 M18 6L6 18',
  check: 'M5 12.5l4.5 4.5L19 7',
  redial: 'M19.5 12a7.5 7.5 0 1 1-2.2-5.3 M19.5 4v4.5H15',
  ban: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z M5.6 5.6l12.8 12.8',
  talking: 'M4 9.5h3l4-3.5v12l-4-3.5H4z M15 9a4 4 0 0 1 0 6 M17.8 6.2a8 8 0 0 1 0 11.6',
  speakerOff: 'M4 9.5h3l4-3.5v12l-4-3.5H4z M15.5 9.5l5 5 M20.5 9.5l-5 5',
  clock: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z M12 7v5l3.5 2',
  alert: 'M12 3.5l9.5 17h-19z M12 10v4.5 M12 17.5v.5',
  logout: 'M9.5 4H5v16h4.5 M15.5 8l4 4-4 4 M19.5 12H9.5',
  chevronDown: 'M6 9l6 6 6-6',
  bell: 'M6 16.5V11a6 6 0 0 1 12 0v5.5l1.5 1.5h-15z M10 20.5a2 2 0 0 0 4 0',
  keypad: 'M6 5h.01 M12 5h.01 M18 5h.01 M6 11h.01 M12 11h.01 M18 11h.01 M6 17h.01 M12 17h.01 M18 17h.01',
  copy: 'M9 9h11v11H9z M5.5 15H4V4h11v1.5',
  leave: 'M14 4h5v16h-5 M10 8l-4 4 4 4 M6 12h10',
  close: 'M5 5h14v14H5z M9.5 9.5l5 5 M14.5 9.5l-5 5',
  end: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z M9 9h6v6H9z',
  key: 'M8 15a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M12 11h9 M18 11v3 M21 11v2',
  settings: 'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z M12 2.5v3 M12 18.5v3 M2.5 12h3 M18.5 12h3 M5.3 5.3l2.1 2.1 M16.6 16.6l2.1 2.1 M5.3 18.7l2.1-2.1 M16.6 7.4l2.1-2.1',
  info: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z M12 11v5.5 M12 7.5v.5',
  plus: 'M12 5v14 M5 12h14',
  upload: 'M12 16V4 M7 9l5-5 5 5 M4.5 16v4h15v-4',
  trash: 'M4.5 6.5h15 M9 6.5V4h6v2.5 M6.5 6.5l1 14h9l1-14',
  edit: 'M4 20h4L19 9l-4-4L4 16z M13 7l4 4',
  search: 'M10.5 4a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13z M15.5 15.5L20 20',
  room: 'M4 20V8l8-4 8 4v12 M9 20v-6h6v6',
  calendar: 'M4.5 6h15v14h-15z M4.5 10.5h15 M8.5 3.5v4 M15.5 3.5v4',
  mail: 'M3.5 6h17v12h-17z M4 6.5l8 6.5 8-6.5',
  browser: 'M3.5 4.5h17v11h-17z M8.5 20h7 M12 15.5V20',
};

/** An inline SVG icon, hidden from assistive technology (the text next to it carries the meaning). */
export function icon(name, extraClass) {
  const svg = h('svg:svg', {
    class: 'icon' + (extraClass ? ' ' + extraClass : ''), viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false',
  });
  svg.append(h('svg:path', { d: ICONS[name] || ICONS.info }));
  return svg;
}

/** A button with an icon and a visible label. */
export function button(label, opts = {}) {
  const b = h('button', {
    type: opts.type || 'button',
    class: 'btn' + (opts.variant ? ' btn-' + opts.variant : '') + (opts.class ? ' ' + opts.class : ''),
    'aria-label': opts.ariaLabel, title: opts.title, onclick: opts.onclick, disabled: opts.disabled,
  }, opts.icon ? icon(opts.icon) : null, h('span', { class: 'btn-label' }, label));
  return b;
}

/**
 * A button whose label switches between two texts without changing its width:
 * both labels sit in the same grid cell and the inactive one is invisible (so not read out).
 */
export function toggleButton(labelOff, labelOn, opts = {}) {
  const off = h('span', { class: 'btn-label' }, opts.iconOff ? icon(opts.iconOff) : null, h('span', {}, labelOff));
  const on = h('span', { class: 'btn-label' }, opts.iconOn ? icon(opts.iconOn) : null, h('span', {}, labelOn));
  const b = h('button', { type: 'button', class: 'btn btn-toggle' + (opts.class ? ' ' + opts.class : ''), onclick: opts.onclick },
    h('span', { class: 'stack' }, off, on));
  b.setOn = (isOn) => {
    off.classList.toggle('invisible', isOn);
    on.classList.toggle('invisible', !isOn);
    b.dataset.on = isOn ? 'true' : 'false';
  };
  b.setOn(false);
  return b;
}

/**
 * A button that opens a small menu of actions (WAI-ARIA menu button): Enter, Space or the arrow keys
 * open it, the arrow keys, Home and End move, Escape closes it and returns to the button.
 * items: [{label, icon, onclick}]. Returns {el, button, items}; an item with aria-disabled="true" does nothing.
 */
export function menuButton(label, items, opts = {}) {
  const menuId = 'menu-' + Math.random().toString(36).slice(2, 9);
  const trigger = h('button', {
    type: 'button', class: 'btn' + (opts.class ? ' ' + opts.class : ''), 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    'aria-controls': menuId,
  }, opts.icon ? icon(opts.icon) : null, h('span', { class: 'btn-label' }, label), icon('chevronDown', 'chev'));
  const entries = items.map((item) => h('button', { type: 'button', role: 'menuitem', class: 'menu-item menu-action', tabindex: '-1' },
    item.icon ? icon(item.icon) : null, h('span', {}, item.label)));
  const menu = h('div', { id: menuId, class: 'menu-panel menu-pop', role: 'menu', 'aria-label': label, hidden: true }, entries);
  const wrap = h('div', { class: 'menu-wrap' }, trigger, menu);
  const isOpen = () => !menu.hidden;
  const enabled = () => entries.filter((b) => b.getAttribute('aria-disabled') !== 'true');
  const focusItem = (which) => {
    const list = enabled();
    if (list.length === 0) return;
    const at = list.indexOf(document.activeElement);
    const next = which === 'first' ? 0 : which === 'last' ? list.length - 1
      : which === 'next' ? (at + 1) % list.length : (at - 1 + list.length) % list.length;
    list[next].focus();
  };
  const outside = (e) => { if (!wrap.contains(e.target)) close(false); };
  const open = (which = 'first') => {
    menu.hidden = false;
    document.addEventListener('click', outside);
    trigger.setAttribute('aria-expanded', 'true');
    // Near the right edge (a phone's screen) the menu opens to the left.
    menu.classList.remove('menu-pop-end');
    if (menu.getBoundingClientRect().right > document.documentElement.clientWidth - 8) menu.classList.add('menu-pop-end');
    focusItem(which);
  };
  const close = (focusTrigger) => {
    if (!isOpen()) return;
    menu.hidden = true;
    document.removeEventListener('click', outside);
    trigger.setAttribute('aria-expanded', 'false');
    if (focusTrigger) trigger.focus();
  };
  trigger.addEventListener('click', () => (isOpen() ? close(false) : open('first')));
  trigger.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      open(e.key === 'ArrowDown' ? 'first' : 'last');
    }
  });
  menu.addEventListener('keydown', (e) => {
    const moves = { ArrowDown: 'next', ArrowUp: 'prev', Home: 'first', End: 'last' };
    if (moves[e.key]) { e.preventDefault(); focusItem(moves[e.key]); } else if (e.key === 'Escape') { e.preventDefault(); close(true); } else if (e.key === 'Tab') close(false);
  });
  entries.forEach((entry, i) => entry.addEventListener('click', () => {
    if (entry.getAttribute('aria-disabled') === 'true') return;
    close(true);
    items[i].onclick();
  }));
  wrap.addEventListener('focusout', (e) => { if (isOpen() && e.relatedTarget && !wrap.contains(e.relatedTarget)) close(false); });
  return { el: wrap, button: trigger, items: entries };
}

/** A visually hidden span: read by screen readers, not shown. */
export function srOnly(text) {
  return h('span', { class: 'visually-hidden' }, text);
}

// ---- status messages -------------------------------------------------------------------------

function region(id, role, live) {
  let el = document.getElementById(id);
  if (!el) {
    el = h('div', { id, class: 'toasts', role, 'aria-live': live });
    let stack = document.querySelector('.toast-stack');
    if (!stack) { stack = h('div', { class: 'toast-stack' }); document.body.append(stack); }
    stack.append(el);
  }
  return el;
}

/** Shows a short message in the bottom corner and announces it (politely; errors assertively). */
export function notify(message, kind = 'info', ms = 4000) {
  const host = region(kind === 'error' ? 'alerts' : 'status', kind === 'error' ? 'alert' : 'status',
    kind === 'error' ? 'assertive' : 'polite');
  const glyph = { error: 'alert', success: 'check', info: 'info' }[kind] || 'info';
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': t('action.dismiss') }, icon('x'));
  const toast = h('div', { class: 'toast toast-' + kind }, icon(glyph), h('span', { class: 'toast-text' }, message), close);
  const remove = () => toast.remove();
  close.addEventListener('click', remove);
  host.append(toast);
  while (host.children.length > 3) host.firstElementChild.remove();
  setTimeout(remove, kind === 'error' ? Math.max(ms, 8000) : ms);
}

/** Reads a message to screen readers only (participant joins and leaves). */
export function announce(message) {
  const el = region('announcer', 'log', 'polite');
  el.classList.add('visually-hidden');
  el.append(h('p', {}, message));
  while (el.children.length > 5) el.firstElementChild.remove();
}

// ---- dialogs ---------------------------------------------------------------------------------

function openDialog(build) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const dialog = h('dialog', { class: 'dialog' });
    let result = null;
    const done = (value) => { result = value; dialog.close(); };
    build(dialog, done);
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector('[autofocus]') || dialog.querySelector('input, select, textarea, button');
    if (first) first.focus();
  });
}

/**
 * Asks before something destructive. Resolves true when confirmed; Escape or Cancel resolves false.
 * The safe choice (Cancel, or `dismiss` when "Cancel" would be ambiguous) has the focus.
 */
export function confirmDialog({ title, body, confirm, danger = true, dismiss }) {
  return openDialog((dialog, done) => {
    const titleId = 'dlg-title-' + Math.random().toString(36).slice(2);
    dialog.setAttribute('aria-labelledby', titleId);
    dialog.append(
      h('h2', { id: titleId, class: 'dialog-title' }, title),
      body ? h('p', { class: 'dialog-body' }, body) : null,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', autofocus: true, onclick: () => done(false) }, dismiss || t('action.cancel')),
        h('button', { type: 'button', class: 'btn ' + (danger ? 'btn-danger' : 'btn-primary'), onclick: () => done(true) }, confirm)),
    );
  }).then((v) => v === true);
}

/**
 * A small form in a dialog. fields: [{name, label, type, value, required, autocomplete, hint, options}].
 * Resolves the values as an object, or null when cancelled.
 */
export function formDialog({ title, fields, submit, intro }) {
  return openDialog((dialog, done) => {
    const titleId = 'dlg-title-' + Math.random().toString(36).slice(2);
    dialog.setAttribute('aria-labelledby', titleId);
    const form = h('form', { class: 'stack-form', method: 'dialog', novalidate: false });
    const inputs = {};
    for (const f of fields) {
      const id = 'dlg-' + f.name + '-' + Math.random().toString(36).slice(2, 7);
      let input;
      if (f.type === 'select') {
        input = h('select', { id, name: f.name }, f.options.map(([v, l]) => h('option', { value: v, selected: v === f.value }, l)));
      } else {
        input = h('input', {
          id, name: f.name, type: f.type || 'text', value: f.value ?? '', required: f.required,
          autocomplete: f.autocomplete || 'off', minlength: f.minlength, inputmode: f.inputmode, pattern: f.pattern,
          'aria-describedby': f.hint ? id + '-hint' : null,
        });
      }
      inputs[f.name] = input;
      form.append(h('div', { class: 'field' },
        h('label', { for: id }, f.label), input,
        f.hint ? h('p', { id: id + '-hint', class: 'hint' }, f.hint) : null));
    }
    form.append(h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => done(null) }, t('action.cancel')),
      h('button', { type: 'submit', class: 'btn btn-primary' }, submit)));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      const values = {};
      for (const [k, el] of Object.entries(inputs)) values[k] = el.value;
      done(values);
    });
    dialog.append(h('h2', { id: titleId, class: 'dialog-title' }, title), intro ? h('p', { class: 'dialog-body' }, intro) : null, form);
  });
}

// ---- clipboard -------------------------------------------------------------------------------

/**
 * Copies text. The Clipboard API needs a secure context (https or localhost); elsewhere the
 * text is selected in a read-only field and copied the old way, or left selected for Ctrl+C.
 * Resolves true when the text is on the clipboard.
 */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); return true; } catch { /* fall through */ }
  }
  const opener = document.activeElement;
  const field = h('input', { type: 'text', class: 'offscreen', readOnly: true, value: text, 'aria-hidden': 'true', tabindex: '-1' });
  document.body.append(field);
  field.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  field.remove();
  if (opener && opener.isConnected) opener.focus();
  if (ok) return true;
  await showCopyField(text);
  return false;
}

function showCopyField(text) {
  return openDialog((dialog, done) => {
    const id = 'copy-' + Math.random().toString(36).slice(2);
    dialog.setAttribute('aria-labelledby', id + '-t');
    const field = h('input', { id, type: 'text', readOnly: true, value: text, class: 'mono' });
    field.addEventListener('focus', () => field.select());
    dialog.append(
      h('h2', { id: id + '-t', class: 'dialog-title' }, t('copy.manualTitle')),
      h('div', { class: 'field' }, h('label', { for: id }, t('copy.manualLabel')), field),
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: () => done(null) }, t('action.done'))));
  });
}

// ---- formatting ------------------------------------------------------------------------------

/** "04:07" under an hour, "1:04:07" from an hour on. */
export function formatDuration(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = s % 60;
  const pad = (n) => String(n).padStart(2, '0');
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${pad(minutes)}:${pad(seconds)}`;
}

/** Initials for an avatar: "Anna Müller" → "AM", "+4144…" → "#". */
export function initials(name) {
  if (!name) return '#';
  const words = name.replace(/[,()]/g, ' ').split(/\s+/).filter((w) => /\p{L}/u.test(w));
  if (words.length === 0) return '#';
  return (words[0][0] + (words.length > 1 ? words[words.length - 1][0] : '')).toUpperCase();
}
