// admin-phonebook.js — Administration › Phone book: search, add, edit, delete, and import a CSV or vCard file.
import { t } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button, notify, confirmDialog, formDialog } from '/ui/dom.js';
import { fail, field } from '/ui/admin.js';
import { numbersOf } from '/ui/invite.js';

const LIMIT = 100;

export function mountPhonebook(root) {
  let timer = null;
  let seq = 0;

  const search = h('input', { type: 'search', autocomplete: 'off', spellcheck: 'false' });
  const tbody = h('tbody');
  const summary = h('p', { class: 'muted-text', 'aria-live': 'polite' });
  const table = h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, t('pb.caption')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('pb.name')),
      h('th', { scope: 'col' }, t('pb.company')),
      h('th', { scope: 'col' }, t('pb.numbers')),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('table.actions'))))),
    tbody);

  async function load() {
    const mine = ++seq;
    try {
      const q = search.value.trim();
      const entries = await api.get(`/phonebook?q=${encodeURIComponent(q)}&limit=${LIMIT}`);
      if (mine !== seq) return;
      fill(tbody, entries.map((e) => h('tr', {},
        h('th', { scope: 'row' }, e.name),
        h('td', {}, e.company || '—'),
        h('td', {}, h('ul', { class: 'plain-list' }, numbersOf(e).map((n) => h('li', {},
          n.label ? h('span', { class: 'muted-text' }, `${n.label} `) : null, h('span', { class: 'mono' }, n.number))))),
        h('td', { class: 'cell-actions' },
          button(t('action.edit'), { icon: 'edit', class: 'btn-small', ariaLabel: t('pb.editAria', { name: e.name }), onclick: () => edit(e) }),
          button(t('action.delete'), { icon: 'trash', class: 'btn-small', variant: 'danger-outline', ariaLabel: t('pb.deleteAria', { name: e.name }), onclick: () => remove(e) })))));
      if (entries.length === 0) tbody.append(h('tr', {}, h('td', { colspan: '4', class: 'cell-empty' }, q ? t('pb.noMatch', { q }) : t('pb.empty'))));
      summary.textContent = entries.length >= LIMIT ? t('pb.first', { count: LIMIT }) : t('pb.count', { count: entries.length });
    } catch (e) { fail(e); }
  }

  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 150); });

  async function edit(e) {
    const numbers = numbersOf(e);
    const values = await formDialog({
      title: t('pb.editTitle', { name: e.name }), submit: t('action.save'),
      fields: [
        { name: 'name', label: t('pb.name'), value: e.name, required: true },
        { name: 'company', label: t('pb.company'), value: e.company || '' },
        ...numbers.map((n, i) => ({ name: 'n' + i, label: n.label ? t('pb.numberLabelled', { label: n.label }) : t('pb.number'), value: n.number, required: i === 0, type: 'tel' })),
      ],
    });
    if (!values) return;
    // PUT replaces the entry: send every number back, with its label, leaving out emptied ones.
    const changed = numbers.map((n, i) => ({ label: n.label || null, number: values['n' + i].trim() })).filter((n) => n.number);
    try {
      await api.put(`/phonebook/${api.seg(e.id)}`, { name: values.name.trim(), company: values.company.trim() || null, numbers: changed });
      notify(t('pb.saved', { name: values.name.trim() }), 'success');
      await load();
    } catch (err) { fail(err); }
  }

  async function remove(e) {
    const yes = await confirmDialog({ title: t('pb.deleteTitle', { name: e.name }), body: t('pb.deleteBody'), confirm: t('action.delete') });
    if (!yes) return;
    try {
      await api.del(`/phonebook/${api.seg(e.id)}`);
      notify(t('pb.deleted', { name: e.name }), 'success');
      await load();
      search.focus();
    } catch (err) { fail(err); }
  }

  // Add
  const name = h('input', { type: 'text', required: true, autocomplete: 'off' });
  const company = h('input', { type: 'text', autocomplete: 'off' });
  const number = h('input', { type: 'tel', required: true, autocomplete: 'off' });
  const addForm = h('form', { class: 'grid-form' },
    field('pb-name', t('pb.name'), name),
    field('pb-company', t('pb.company'), company),
    field('pb-number', t('pb.number'), number, t('pb.numberHint')),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), h('span', { class: 'btn-label' }, t('pb.add')))));
  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api.post('/phonebook', { name: name.value.trim(), company: company.value.trim() || null, number: number.value.trim() });
      notify(t('pb.added', { name: name.value.trim() }), 'success');
      addForm.reset();
      name.focus();
      await load();
    } catch (err) {
      fail(err);
      const target = err.field && addForm.querySelector(`#pb-${err.field}`);
      if (target) target.focus();
    }
  });

  // Import
  const file = h('input', { type: 'file', accept: '.csv,.vcf,.vcard,text/csv,text/vcard,text/x-vcard' });
  const report = h('div', { class: 'import-report', tabindex: '-1' });
  const importForm = h('form', { class: 'inline-form' },
    field('pb-file', t('pb.file'), file, t('pb.fileHint')),
    h('button', { type: 'submit', class: 'btn' }, icon('upload'), h('span', { class: 'btn-label' }, t('pb.import'))));
  importForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = file.files && file.files[0];
    if (!f) { notify(t('pb.pickFile'), 'error'); file.focus(); return; }
    const vcard = /\.(vcf|vcard)$/i.test(f.name) || /vcard/i.test(f.type);
    const submit = importForm.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const { data } = await api.request('POST', '/phonebook/import', { body: f, type: vcard ? 'text/vcard' : 'text/csv' });
      showReport(data || {});
      importForm.reset();
      await load();
    } catch (err) { fail(err); } finally { submit.disabled = false; }
  });

  function showReport(result) {
    // The server names every problem; a line may have several (a bad number, then no number left): one row per line.
    const byLine = new Map();
    for (const r of result.rejected || []) {
      const row = byLine.get(r.line);
      if (row) { if (!row.reasons.includes(r.reason)) row.reasons.push(r.reason); row.name = row.name || r.name; } else byLine.set(r.line, { line: r.line, name: r.name, reasons: [r.reason] });
    }
    const rejected = [...byLine.values()].map((r) => ({ line: r.line, name: r.name, reason: r.reasons.join('; ') }));
    const summary = result.imported !== undefined
      ? t('pb.imported', { count: result.imported })
      : t('pb.importSummary', { added: result.added ?? 0, merged: result.merged ?? 0, updated: result.updated ?? 0 });
    fill(report,
      h('p', { class: 'badge ' + (rejected.length ? 'badge-warn' : 'badge-ok') }, icon(rejected.length ? 'alert' : 'check'),
        h('span', {}, summary + (rejected.length ? ' ' + t('pb.rejectedCount', { count: rejected.length }) : ''))),
      rejected.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('caption', {}, t('pb.rejectedCaption')),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, t('pb.line')),
          h('th', { scope: 'col' }, t('pb.name')),
          h('th', { scope: 'col' }, t('pb.reason')))),
        h('tbody', {}, rejected.map((r) => h('tr', {},
          h('td', { class: 'mono' }, String(r.line)),
          h('td', {}, r.name || '—'),
          h('td', {}, r.reason)))))) : null);
    report.focus();
  }

  root.append(
    h('section', { class: 'card', 'aria-labelledby': 'pb-list-title' },
      h('h2', { id: 'pb-list-title' }, t('pb.listTitle')),
      field('pb-search', t('pb.search'), search),
      summary,
      h('div', { class: 'table-wrap' }, table)),
    h('div', { class: 'two-up' },
      h('section', { class: 'card', 'aria-labelledby': 'pb-add-title' }, h('h2', { id: 'pb-add-title' }, t('pb.add')), addForm),
      h('section', { class: 'card', 'aria-labelledby': 'pb-import-title' }, h('h2', { id: 'pb-import-title' }, t('pb.importTitle')), importForm, report)));
  load();
  return () => clearTimeout(timer);
}
