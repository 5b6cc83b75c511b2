// softphone-panel.js — the browser call's panel on both pages: state, mute, microphone level, devices, leave, problems.
import { t } from '/ui/i18n.js';
import { h, fill, icon, button } from '/ui/dom.js';
import { canChooseOutput } from '/ui/softphone.js';

const MIC_KEY = 'konferenz.mic';
const SPEAKER_KEY = 'konferenz.speaker';
// localStorage can be switched off (private modes): remembering the devices is a nicety.
const load = (key) => { try { return localStorage.getItem(key) || null; } catch { return null; } };
const save = (key, value) => {
  try { if (value) localStorage.setItem(key, value); else localStorage.removeItem(key); } catch { /* not remembered */ }
};

/** The microphone and speaker chosen last time in this browser, for Softphone.start(). */
export const rememberedDevices = () => ({ inputId: load(MIC_KEY), outputId: load(SPEAKER_KEY) });

const STATUS = {
  idle: 'soft.starting', starting: 'soft.starting', connected: 'soft.connected',
  reconnecting: 'soft.reconnecting', failed: 'soft.failed', ended: 'soft.ended',
};

/**
 * The panel of one Softphone. opts: onRetry() for "Try again" and "Join again", onLeave() for "Leave",
 * onClose() to put the panel away after a failure or an end, id (a prefix for the elements' ids).
 * Returns {el, update(kind), focus()}; the page calls update() from the softphone's onChange.
 */
export function softphonePanel(phone, { onRetry, onLeave, onClose, id = 'soft' }) {
  const title = h('h2', { id: id + '-title', tabindex: '-1' }, t('soft.title'));
  const status = h('p', { class: 'soft-status', role: 'status' });
  const hint = h('p', { class: 'muted-text soft-hint' });

  const muteIcon = h('span', { class: 'soft-mute-icon' });
  const mute = h('button', { type: 'button', class: 'btn soft-mute', 'aria-pressed': 'false', onclick: () => phone.setMuted(!phone.muted) },
    muteIcon, h('span', { class: 'btn-label' }, t('soft.mute')));
  const bar = h('span', { class: 'meter-bar' });
  const meter = h('div', {
    class: 'meter', role: 'meter', 'aria-label': t('soft.level'), 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0',
  }, bar);
  const leave = button(t('soft.leave'), { icon: 'hangup', variant: 'danger', class: 'soft-leave', onclick: () => onLeave() });
  const controls = h('div', { class: 'soft-controls' }, mute, h('div', { class: 'soft-meter' }, icon('mic'), meter), leave);

  const micSelect = h('select', { id: id + '-mic' });
  const speakerSelect = h('select', { id: id + '-speaker' });
  const speakerField = canChooseOutput()
    ? h('div', { class: 'field' }, h('label', { for: id + '-speaker' }, t('soft.speaker')), speakerSelect)
    : null;
  const devices = h('div', { class: 'soft-devices' },
    h('div', { class: 'field' }, h('label', { for: id + '-mic' }, t('soft.mic')), micSelect),
    speakerField);

  const problemText = h('p', { class: 'soft-problem-text', 'aria-live': 'assertive' });
  const retry = button(t('action.retry'), { icon: 'redial', variant: 'primary', onclick: () => onRetry() });
  const again = button(t('soft.joinAgain'), { icon: 'browser', variant: 'primary', onclick: () => onRetry() });
  const close = button(t('action.close'), { icon: 'x', onclick: () => onClose() });
  const problemActions = h('div', { class: 'button-row' }, retry, again, close);
  const problem = h('div', { class: 'soft-problem' }, problemText, problemActions);

  const el = h('section', { class: 'card softphone', 'aria-labelledby': id + '-title' },
    h('div', { class: 'soft-head' },
      h('span', { class: 'soft-badge', 'aria-hidden': 'true' }, icon('browser')),
      h('div', { class: 'soft-heading' }, title, status)),
    hint, controls, devices, problem);

  const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };

  function updateState() {
    const s = phone.state;
    el.dataset.state = s;
    setText(status, t(STATUS[s] || 'soft.starting'));
    let hintText = '';
    if (s === 'starting') hintText = t('soft.startingHint');
    else if (s === 'reconnecting') hintText = t('soft.reconnectingHint');
    else if (s === 'connected' && phone.muted) hintText = t('soft.mutedNote');
    setText(hint, hintText);
    hint.hidden = !hintText;

    controls.hidden = !phone.active;
    devices.hidden = !phone.active || !phone.stream;
    mute.setAttribute('aria-pressed', String(phone.muted));
    if (muteIcon.dataset.muted !== String(phone.muted)) {
      fill(muteIcon, icon(phone.muted ? 'micOff' : 'mic'));
      muteIcon.dataset.muted = String(phone.muted);
    }

    let text = '';
    if (s === 'failed') {
      text = phone.error === 'server' ? (phone.errorMessage || t('soft.err.server')) : t('soft.err.' + phone.error);
    } else if (s === 'ended' && phone.endReason !== 'left') {
      text = t('soft.endedBody');
    } else if (phone.active && phone.error) {
      text = t('soft.err.' + phone.error);   // a microphone problem during the call: the call stays up
    }
    setText(problemText, text);
    problem.hidden = !text;
    el.classList.toggle('has-problem', !!text);
    retry.hidden = s !== 'failed';
    again.hidden = s !== 'ended';
    close.hidden = phone.active;
    problemActions.hidden = phone.active;
    updateLevel();
  }

  function updateLevel() {
    const level = phone.active ? phone.level : 0;
    bar.style.transform = `scaleX(${level.toFixed(3)})`;
    const now = String(Math.round(level * 100));
    if (meter.getAttribute('aria-valuenow') !== now) meter.setAttribute('aria-valuenow', now);
  }

  let filling = 0;
  async function updateDevices() {
    if (!phone.active || !phone.stream) return;
    const ticket = ++filling;
    const { inputs, outputs } = await phone.devices();
    if (ticket !== filling) return;
    fillSelect(micSelect, inputs, phone.inputDevice, (n) => t('soft.micN', { n }));
    if (speakerField) {
      // Without any listed speaker (some browsers list none before the microphone is allowed) there is nothing to choose.
      speakerField.hidden = outputs.length === 0;
      fillSelect(speakerSelect, outputs, phone.outputDevice, (n) => t('soft.speakerN', { n }));
    }
  }

  function fillSelect(select, list, current, fallback) {
    const options = list.map((d, i) => h('option', { value: d.id }, d.label || fallback(i + 1)));
    if (list.length === 0) options.push(h('option', { value: '' }, t('soft.systemDefault')));
    fill(select, options);
    if (current && list.some((d) => d.id === current)) select.value = current;
    else if (list.some((d) => d.id === 'default')) select.value = 'default';
  }

  micSelect.addEventListener('change', async () => {
    const value = micSelect.value || null;
    try {
      await phone.switchInput(value);
      save(MIC_KEY, value);
    } catch {
      updateDevices();   // back to the microphone in use; the problem is shown
    }
  });
  speakerSelect.addEventListener('change', async () => {
    const value = speakerSelect.value || null;
    try {
      await phone.switchOutput(value);
      save(SPEAKER_KEY, value);
    } catch {
      updateDevices();
    }
  });

  function update(kind) {
    if (kind === 'level') updateLevel();
    else if (kind === 'devices') updateDevices();
    else updateState();
  }

  updateState();
  updateDevices();
  return { el, update, focus: () => title.focus() };
}
