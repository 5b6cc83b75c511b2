// admin-texts.js — Administration › Invitation texts: the scheduling form's default title, location and mail text in English and German.
import { t } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, notify } from '/ui/dom.js';
import { fail } from '/ui/admin.js';

const LANGS = [['en', 'texts.english'], ['de', 'texts.german']];
const FIELDS = ['title', 'location', 'description'];

export function mountTexts(root) {
  const body = h('div', {}, h('p', { class: 'muted-text' }, t('common.loading')));
  root.append(h('p', { class: 'muted-text' }, t('texts.intro')), body);
  api.get('/settings/schedule')
    .then((texts) => render(body, texts))
    .catch((e) => fail(e));
}

function render(body, texts) {
  const inputs = {};
  const sections = LANGS.map(([lang, key]) => h('section', { class: 'card', 'aria-labelledby': 'texts-' + lang },
    h('h2', { id: 'texts-' + lang }, t(key)),
    FIELDS.map((field) => {
      const id = `texts-${lang}-${field}`;
      const attrs = { id, name: id, value: texts[lang][field] };
      const input = field === 'description'
        ? h('textarea', { id, name: id, rows: 6 }, texts[lang][field])
        : h('input', { ...attrs, type: 'text', required: field === 'title' });
      inputs[`${lang}.${field}`] = input;
      return h('div', { class: 'field' },
        h('label', { for: id }, t('texts.' + field)), input,
        field === 'description' ? h('p', { class: 'hint' }, t('texts.descriptionHint')) : null);
    })));
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, h('span', { class: 'btn-label' }, t('texts.save')));
  const form = h('form', { class: 'stack-form' }, sections, save);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = (lang) => Object.fromEntries(FIELDS.map((f) => [f, inputs[`${lang}.${f}`].value]));
    save.disabled = true;
    try {
      await api.request('PUT', '/settings/schedule', { json: { en: value('en'), de: value('de') } });
      notify(t('texts.saved'), 'success');
    } catch (err) {
      notify(err.message, 'error');
    } finally {
      save.disabled = false;
    }
  });
  fill(body, form);
}
