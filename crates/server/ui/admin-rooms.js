// admin-rooms.js — Administration › Rooms: add, rename, PIN, owner, shares, prompt language, on-hold music, delete.
import { t } from '/ui/i18n.js';
import * as api from '/ui/api.js';
import { h, fill, icon, button, notify, confirmDialog, formDialog } from '/ui/dom.js';
import { fail, field } from '/ui/admin.js';

const PIN_PATTERN = '[0-9]{3,12}';

function languageOptions(selected) {
  return [['', t('rooms.langDefault')], ['en', 'English'], ['de', 'Deutsch']]
    .map(([v, l]) => h('option', { value: v, selected: (selected || '') === v }, l));
}

function userOptions(users, selected, noneLabel) {
  return [h('option', { value: '', selected: !selected }, noneLabel)]
    .concat(users.map((u) => h('option', { value: u.number, selected: u.number === selected }, u.name ? `${u.name} (${u.number})` : u.number)));
}

export function mountRooms(root, ctx) {
  let users = [];
  const list = h('div', { class: 'room-cards' }, h('p', { class: 'muted-text' }, t('common.loading')));

  async function load() {
    try {
      const [rooms, us] = await Promise.all([api.get('/rooms'), api.get('/users')]);
      users = us;
      fill(list, rooms.length
        ? rooms.map((r) => roomCard(r))
        : h('div', { class: 'empty card' }, h('p', { class: 'empty-title' }, t('rooms.noneYet'))));
      fill(ownerSelect, userOptions(users, ownerSelect.value, t('rooms.noOwner')));
    } catch (e) { fail(e); }
  }

  /** Runs a change, reports it, reloads the cards and the header's room list. */
  async function change(action, message, focusSelector) {
    const card = document.activeElement && document.activeElement.closest('article.room-card');
    try {
      await action();
      notify(message, 'success', 2500);
      await load();
      await ctx.refreshRooms();
      // The cards were rebuilt: put the focus back where it was, or on the room's heading.
      const target = (focusSelector && list.querySelector(focusSelector)) || (card && document.getElementById(card.id)?.querySelector('h2'));
      if (target && (document.activeElement === document.body || !document.activeElement)) target.focus();
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  }

  function roomCard(r) {
    const path = `/rooms/${api.seg(r.number)}`;
    const id = 'room-' + r.number.replace(/[^A-Za-z0-9_-]/g, '_');
    const title = r.name ? `${r.number} · ${r.name}` : r.number;
    const at = (what) => `#${id} [data-focus="${what}"]`;

    const pinRow = r.pin
      ? h('div', { class: 'setting-value' },
        h('span', { class: 'mono pin' }, r.pin),
        button(t('rooms.changePin'), { class: 'btn-small', onclick: () => setPin(r) }),
        button(t('rooms.clearPin'), { class: 'btn-small', variant: 'danger-outline', onclick: () => clearPin(r) }))
      : h('div', { class: 'setting-value' },
        h('span', { class: 'badge badge-warn' }, icon('alert'), h('span', {}, t('rooms.noPinWarning'))),
        button(t('rooms.setPin'), { class: 'btn-small', onclick: () => setPin(r) }));

    const owner = h('select', { id: id + '-owner', 'data-focus': 'owner' }, userOptions(users, r.owner, t('rooms.noOwner')));
    owner.addEventListener('change', () => change(() => api.patch(path, { owner: owner.value || null }), t('rooms.saved', { room: r.number }), at('owner')));

    const language = h('select', { id: id + '-lang', 'data-focus': 'lang' }, languageOptions(r.language));
    language.addEventListener('change', () => change(() => api.patch(path, { language: language.value || null }), t('rooms.saved', { room: r.number }), at('lang')));

    const shared = r.shared_with || [];
    const shareSelect = h('select', { id: id + '-share', 'data-focus': 'share' },
      userOptions(users.filter((u) => !shared.includes(u.number) && u.number !== r.owner), '', t('rooms.pickUser')));
    const shareForm = h('form', { class: 'inline-form' },
      h('label', { for: id + '-share', class: 'visually-hidden' }, t('rooms.shareWith', { room: r.number })), shareSelect,
      h('button', { type: 'submit', class: 'btn btn-small' }, icon('plus'), h('span', { class: 'btn-label' }, t('rooms.share'))));
    shareForm.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!shareSelect.value) { shareSelect.focus(); return; }
      change(() => api.request('PUT', `${path}/shares/${api.seg(shareSelect.value)}`), t('rooms.shared', { room: r.number }), at('share'));
    });
    const chips = shared.length
      ? h('ul', { class: 'chips' }, shared.map((n) => {
        const u = users.find((x) => x.number === n);
        const label = u && u.name ? `${u.name} (${n})` : n;
        return h('li', { class: 'chip' }, h('span', {}, label),
          h('button', { type: 'button', class: 'chip-remove', 'aria-label': t('rooms.unshareAria', { user: label }),
            onclick: () => change(() => api.del(`${path}/shares/${api.seg(n)}`), t('rooms.unshared', { user: label }), at('share')) }, icon('x')));
      }))
      : h('p', { class: 'muted-text' }, t('rooms.notShared'));

    const file = h('input', { id: id + '-music', type: 'file', accept: 'audio/wav,audio/x-wav,.wav' });
    const musicState = r.has_music === undefined ? null
      : h('p', { class: 'muted-text' }, r.has_music ? t('rooms.musicOwn') : t('rooms.musicIsDefault'));
    const musicForm = h('form', { class: 'inline-form' },
      h('label', { for: id + '-music', class: 'visually-hidden' }, t('rooms.musicFile', { room: r.number })), file,
      h('button', { type: 'submit', class: 'btn btn-small' }, icon('upload'), h('span', { class: 'btn-label' }, t('rooms.upload'))),
      r.has_music === false ? null
        : button(t('rooms.musicDefault'), { class: 'btn-small', variant: 'ghost', onclick: () => change(() => api.del(`${path}/music`), t('rooms.musicRemoved', { room: r.number })) }));
    musicForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const f = file.files && file.files[0];
      if (!f) { file.focus(); notify(t('rooms.musicPick'), 'error'); return; }
      change(() => api.request('PUT', `${path}/music`, { body: f, type: 'audio/wav' }), t('rooms.musicUploaded', { room: r.number }));
    });

    return h('article', { class: 'card room-card', id, 'aria-labelledby': id + '-title' },
      h('div', { class: 'room-card-head' },
        h('h2', { id: id + '-title', tabindex: '-1' }, title),
        h('div', { class: 'button-row' },
          button(t('rooms.rename'), { icon: 'edit', class: 'btn-small', ariaLabel: t('rooms.renameAria', { room: r.number }), onclick: () => rename(r) }),
          button(t('action.delete'), { icon: 'trash', class: 'btn-small', variant: 'danger-outline', ariaLabel: t('rooms.deleteAria', { room: r.number }), onclick: () => remove(r) }))),
      h('div', { class: 'settings-grid' },
        h('div', { class: 'setting' }, h('span', { class: 'setting-label' }, t('rooms.pin')), pinRow),
        h('div', { class: 'setting' }, h('label', { class: 'setting-label', for: id + '-owner' }, t('rooms.owner')), owner),
        h('div', { class: 'setting' }, h('label', { class: 'setting-label', for: id + '-lang' }, t('rooms.language')), language),
        h('div', { class: 'setting' }, h('span', { class: 'setting-label' }, t('rooms.sharedWith')), chips, shareForm),
        h('div', { class: 'setting' }, h('span', { class: 'setting-label' }, t('rooms.music')), musicState, musicForm)));
  }

  async function setPin(r) {
    const values = await formDialog({
      title: t('rooms.pinTitle', { room: r.number }), submit: t('action.save'),
      fields: [{ name: 'pin', label: t('rooms.pin'), value: r.pin || '', required: true, inputmode: 'numeric', pattern: PIN_PATTERN, hint: t('rooms.pinHint') }],
    });
    if (values) change(() => api.put(`/rooms/${api.seg(r.number)}/pin`, { pin: values.pin.trim() }), t('rooms.pinSet', { room: r.number }));
  }

  async function clearPin(r) {
    const yes = await confirmDialog({ title: t('rooms.clearPinTitle', { room: r.number }), body: t('rooms.clearPinBody'), confirm: t('rooms.clearPin') });
    if (yes) change(() => api.del(`/rooms/${api.seg(r.number)}/pin`), t('rooms.pinCleared', { room: r.number }));
  }

  async function rename(r) {
    const values = await formDialog({
      title: t('rooms.renameTitle', { room: r.number }), submit: t('action.save'),
      fields: [{ name: 'name', label: t('rooms.name'), value: r.name || '' }],
    });
    if (values) change(() => api.patch(`/rooms/${api.seg(r.number)}`, { name: values.name.trim() || null }), t('rooms.saved', { room: r.number }));
  }

  async function remove(r) {
    const yes = await confirmDialog({ title: t('rooms.deleteTitle', { room: r.number }), body: t('rooms.deleteBody'), confirm: t('action.delete') });
    if (!yes) return;
    if (await change(() => api.del(`/rooms/${api.seg(r.number)}`), t('rooms.deleted', { room: r.number }))) {
      root.closest('.page').querySelector('h1').focus();
    }
  }

  // Add room
  const number = h('input', { type: 'text', required: true, autocomplete: 'off', inputmode: 'numeric', maxlength: '32' });
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const pin = h('input', { type: 'text', autocomplete: 'off', inputmode: 'numeric', pattern: PIN_PATTERN });
  const language = h('select', {}, languageOptions(''));
  const ownerSelect = h('select', {}, userOptions([], '', t('rooms.noOwner')));
  const form = h('form', { class: 'grid-form' },
    field('nr-number', t('rooms.number'), number),
    field('nr-name', t('rooms.name'), name),
    field('nr-pin', t('rooms.pin'), pin, t('rooms.pinHintOptional')),
    field('nr-language', t('rooms.language'), language),
    field('nr-owner', t('rooms.owner'), ownerSelect),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), h('span', { class: 'btn-label' }, t('rooms.add')))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {
      number: number.value.trim(), name: name.value.trim() || null, pin: pin.value.trim() || null,
      language: language.value || null, owner: ownerSelect.value || null,
    };
    try {
      await api.post('/rooms', body);
      notify(t('rooms.added', { room: body.number }), 'success');
      form.reset();
      number.focus();
      await load();
      await ctx.refreshRooms();
    } catch (err) {
      fail(err);
      const target = err.field && form.querySelector(`#nr-${err.field}`);
      if (target) target.focus();
    }
  });

  root.append(
    h('section', { class: 'card', 'aria-labelledby': 'rooms-add-title' },
      h('h2', { id: 'rooms-add-title' }, t('rooms.add')), form),
    h('section', { 'aria-label': t('rooms.listTitle') }, list));
  load();
}
