// controls.mjs — the conference window's controls no other script clicks, and the
// administration pages, in Debian's headless Chromium, driven as a user would: Dial in ›
// Call my phone, invite by name with the keyboard, the talking indicator, mute/unmute a
// participant, mute all but me, lock/unlock, hang up and block, cancel a ringing invitation,
// re-dial a busy one, no answer after the ring time, an API change shown live within 500 ms,
// Administration › Rooms / Phone book / Settings (no trunk password anywhere), German from
// the browser's language, and the keyboard through the login form and the window.
//
// Started by tests/e2e_window_controls.rs, which runs the server (ring time 4 s) and the
// phones and sets:
//   BASE_URL        the server's http://127.0.0.1:PORT
//   PASSWORD        every user's password (users 100 Ada Admin, 201 Anna Müller, 202 Bert Brandt)
//   TOKEN           the local administrator's bearer token (for the API checks)
//   TRUNK_PASSWORD  the trunk's password in the config, which must show up nowhere
//   TALKER          the number (SIP port) of a phone that answers and sends a tone
//   RINGING         the number of a phone that rings and is never answered (cancelled)
//   UNANSWERED      the number of another such phone (left to the ring time)
//   BUSY            the number of a phone that rejects with 486 Busy Here
//   SHOTS           the folder for the screenshots (c01-….png, …)
// Anna's own phone is registered as 201; numbers of the phone book (Erika Mustermann
// +49 30 1234567, Erich Kästner) reach a silent phone that answers.
// Prints one line per step (with timings) and `DONE` at the end; exits 1 on any failure.

import {
  env, secs, log, Failed, check, see, gone, until, eventually, Browser, logIn, apiClient, toneWav,
} from './lib.mjs';

const BASE = env('BASE_URL').replace(/\/$/, '');
const PASSWORD = env('PASSWORD');
const TRUNK_PASSWORD = env('TRUNK_PASSWORD');
const TALKER = env('TALKER');
const RINGING = env('RINGING');
const UNANSWERED = env('UNANSWERED');
const BUSY = env('BUSY');
const ERIKA = '+49301234567';       // the phone-book number, as the server stores it (E.164)
const api = apiClient(BASE, env('TOKEN'));
const ui = new Browser(env('SHOTS'), 'c');
const shot = (page, name, opts) => ui.shot(page, name, opts);

// Checks whose failure is reported at the end, after the remaining steps ran (for known
// bugs, so that one of them does not hide what the later steps would find).
const deferred = [];
const later = (ok, message) => { if (!ok) deferred.push(message); };

// ---- the window's parts, found by role and name ---------------------------------------------

const section = (page, heading) => page.locator('section').filter({
  has: page.getByRole('heading', { name: heading, level: 2 }),
});
const activePanel = (page) => section(page, 'Active participants');
const invitedPanel = (page) => section(page, 'Invited participants');
const word = (s) => new RegExp(`(^|\\D)${s.replace(/[+]/g, '\\+')}(\\D|$)`);
const activeRow = (page, number) => activePanel(page).locator('li[data-call]').filter({ hasText: word(number) });
const invitedRow = (page, number) => invitedPanel(page).locator('li[data-call]').filter({ hasText: word(number) });
/** The row, if it shows this state (the state is its own text, not part of a longer one). */
const inState = (row, text) => row.filter({ has: row.page().getByText(text, { exact: true }) });
const inviteField = (page) => page.getByRole('combobox', { name: 'Number or name', exact: true });
const button = (scope, name) => scope.getByRole('button', { name, exact: true });

/** Resolves when the page has the answer to its `method` request to `path` (made after this call). */
const answerTo = (page, method, path) => page.waitForResponse((r) => r.request().method() === method && new URL(r.url()).pathname === path);

async function openRoom(page, number) {
  await page.getByLabel('Room', { exact: true }).selectOption(number);
  await see(page.getByRole('heading', { level: 1, name: `Room ${number}`, exact: true }), `the window of room ${number}`);
  await see(page.getByText('Live', { exact: true }), 'the live connection badge');
}

/** Invites a number typed into the field (Enter) and waits for its row. */
async function invite(page, number) {
  await inviteField(page).fill(number);
  await inviteField(page).press('Enter');
  await see(invitedRow(page, number), `${number} in Invited participants`);
  await until(page, () => document.querySelector('input[role=combobox]').value === '', null, `the field cleared after inviting ${number}`, 5000);
}

/** What the row of an active participant shows: talking, muted. */
async function rowLooks(page, number) {
  return activeRow(page, number).evaluate((li) => ({
    talkingClass: li.classList.contains('is-talking'),
    talkIcon: !li.querySelector('.talk').classList.contains('invisible'),
    talkText: li.querySelector('.talk-text').textContent,
    muted: li.classList.contains('is-muted'),
    mutedBadge: !li.querySelector('.badge-muted').hidden && li.querySelector('.badge-muted').offsetParent !== null,
  }));
}
/** The active row of a call, in the page. */
const ACTIVE = (call) => `li.participant:not(.invited)[data-call="${call}"]`;
const talkingIn = (page, call, who) => until(page, (sel) => {
  const li = document.querySelector(sel);
  return li && li.classList.contains('is-talking') && !li.querySelector('.talk').classList.contains('invisible')
    && li.querySelector('.talk-text').textContent === 'talking';
}, ACTIVE(call), `${who} shown talking`);
const notTalkingIn = (page, call, who) => until(page, (sel) => {
  const li = document.querySelector(sel);
  return li && !li.classList.contains('is-talking') && li.querySelector('.talk').classList.contains('invisible');
}, ACTIVE(call), `${who} no longer shown talking`);

/** The room's participants as the API lists them (the latest entry per number). */
async function participants() {
  const answer = await api('GET', '/api/v1/rooms/800/participants');
  check(answer.status === 200, `GET participants: ${answer.status} ${answer.text}`);
  const latest = new Map();
  for (const p of answer.json) {
    const known = latest.get(p.number);
    if (!known || p.call > known.call) latest.set(p.number, p);
  }
  return latest;
}
const apiParticipant = async (number) => (await participants()).get(number);
const room800 = async () => (await api('GET', '/api/v1/rooms/800')).json;

/** Records the state texts an invited row shows (to catch short-lived ones). */
async function recordStates(page, number) {
  await page.evaluate((num) => {
    const t0 = performance.now();
    const seen = [];
    window.__states = window.__states || {};
    window.__states[num] = seen;
    const scan = () => {
      for (const li of document.querySelectorAll('li.invited[data-call]')) {
        if (!li.textContent.includes(num)) continue;
        const state = li.querySelector('.state-text')?.textContent?.trim();
        const call = li.dataset.call;
        const last = seen[seen.length - 1];
        if (state && (!last || last.state !== state || last.call !== call)) {
          seen.push({ state, call, ms: Math.round(performance.now() - t0) });
        }
      }
    };
    scan();
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  }, number);
}
const recordedStates = (page, number) => page.evaluate((num) => (window.__states || {})[num] || [], number);
const statesText = (seen) => seen.map((s) => `${s.state}@${s.ms}ms`).join(' → ');

// ---- the scenarios --------------------------------------------------------------------------

async function main() {
  await ui.launch();
  try {
    await windowScenarios();
    await adminScenarios();
    await languageAndKeyboard();
  } catch (e) {
    await ui.failureShots();
    throw e;
  } finally {
    await ui.close();
  }
  check(ui.errors.length === 0, `errors in the pages:\n${ui.errors.join('\n')}`);
  if (deferred.length) throw new Failed(`checks failed along the way:\n  ${deferred.join('\n  ')}`);
  console.log('DONE');
}

async function windowScenarios() {
  // 1. Anna opens room 800 and has her own (registered) phone called: Dial in › Call my phone.
  let t = Date.now();
  const a = await ui.newPage('A');
  await logIn(a, BASE, '201', PASSWORD);
  await see(a.getByRole('heading', { level: 1, name: 'My room (201)', exact: true }), 'Anna’s own room first');
  await openRoom(a, '800');
  const dialIn = a.getByRole('button', { name: 'Dial in', exact: true });
  await dialIn.click();
  const menu = a.getByRole('menu', { name: 'Dial in' });
  await see(menu, 'the Dial in menu');
  const callMine = menu.getByRole('menuitem', { name: 'Call my phone', exact: true });
  await see(callMine, 'the menu item "Call my phone"');
  check(await a.evaluate(() => document.activeElement?.getAttribute('role')) === 'menuitem', 'the open menu has no focused item');
  const menuShot = await shot(a, 'dial-in-menu');
  const clicked = Date.now();
  await callMine.click();
  await see(a.getByRole('status').getByText('Calling your phone (201) into the room…', { exact: true }), 'the "calling your phone" confirmation');
  const mine = activeRow(a, '201');
  await see(mine, 'Anna’s phone in Active participants');
  await see(mine.getByText('Anna Müller (you)', { exact: true }), 'Anna’s row named "Anna Müller (you)"');
  await see(mine.getByRole('timer'), 'Anna’s phone connected (time counter)');
  const own = await eventually(async () => {
    const p = await apiParticipant('201');
    return p && p.state === 'connected' ? p : null;
  }, 'the API lists 201 connected');
  check(own.name === 'Anna Müller', `the API's entry of 201: ${JSON.stringify(own)}`);
  log(`1 Dial in › Call my phone: 201 connected ${secs(Date.now() - clicked)} after the click, shown as "Anna Müller (you)" `
    + `(${secs(Date.now() - t)}) — ${menuShot}, ${await shot(a, 'call-my-phone-connected')}`);

  // 2. Invite by name: part of the name, the suggestion picked with ArrowDown + Enter.
  t = Date.now();
  await inviteField(a).focus();
  await a.keyboard.type('Eri');
  const options = a.getByRole('listbox', { name: 'Phone book matches' }).getByRole('option');
  await see(options.filter({ hasText: 'Erika Mustermann' }), 'the suggestion "Erika Mustermann"');
  await see(options.filter({ hasText: 'Erich Kästner' }), 'the suggestion "Erich Kästner"');
  const count = await options.count();
  let picked = null;
  for (let i = 0; i < count && !(picked || '').includes('Erika'); i++) {
    await inviteField(a).press('ArrowDown');
    picked = await until(a, () => {
      const input = document.activeElement;
      const id = input && input.getAttribute('aria-activedescendant');
      const el = id && document.getElementById(id);
      return el && el.getAttribute('aria-selected') === 'true' ? el.textContent : null;
    }, null, 'a highlighted suggestion after ArrowDown');
  }
  check((picked || '').includes('Erika Mustermann'), `ArrowDown never highlighted Erika: last "${picked}"`);
  const suggestionShot = await shot(a, 'invite-by-name-suggestion');
  await inviteField(a).press('Enter');
  const erikaInvited = invitedRow(a, ERIKA);
  await see(erikaInvited.getByText('Erika Mustermann', { exact: true }), 'Erika invited, by name');
  await see(inState(erikaInvited, 'Connected'), 'Erika connected');
  const erika = activePanel(a).locator('li[data-call]').filter({ hasText: 'Erika Mustermann' });
  await see(erika, 'Erika in Active participants');
  // (The phone may answer before the page has the answer to its POST, which clears the field.)
  await until(a, () => document.querySelector('input[role=combobox]').value === '', null, 'the field cleared after inviting by name', 5000);
  await gone(a.getByRole('listbox', { name: 'Phone book matches' }), 'the suggestion list after inviting');
  const erikaApi = await apiParticipant(ERIKA);
  check(erikaApi && erikaApi.name === 'Erika Mustermann' && erikaApi.state === 'connected', `the API: ${JSON.stringify(erikaApi)}`);
  // From now on, note whether Erika's (silent) row is ever shown talking.
  await a.evaluate((sel) => {
    window.__erikaTalked = false;
    const scan = () => {
      const li = document.querySelector(sel);
      if (li && li.classList.contains('is-talking')) window.__erikaTalked = true;
    };
    scan();
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
  }, ACTIVE(erikaApi.call));
  log(`2 "Eri" + ArrowDown + Enter invited Erika Mustermann (${ERIKA}), connected (${secs(Date.now() - t)}) — `
    + `${suggestionShot}, ${await shot(a, 'invite-by-name-connected')}`);

  // 3. The talking indicator: the tone phones talk, the silent one does not.
  t = Date.now();
  await invite(a, TALKER);
  await see(activeRow(a, TALKER), 'the tone phone in Active participants');
  const talkerCall = (await eventually(async () => {
    const p = await apiParticipant(TALKER);
    return p && p.state === 'connected' ? p : null;
  }, `the API lists ${TALKER} connected`)).call;
  await talkingIn(a, talkerCall, 'the tone phone');
  await talkingIn(a, own.call, 'Anna’s phone (a tone too)');
  await a.waitForTimeout(1500);   // Erika has now been connected for a while, in silence
  check(!(await a.evaluate(() => window.__erikaTalked)), 'the silent phone was shown talking');
  const erikaLooks = await erika.evaluate((li) => ({ talking: li.classList.contains('is-talking'), icon: !li.querySelector('.talk').classList.contains('invisible') }));
  check(!erikaLooks.talking && !erikaLooks.icon, `the silent phone shows the talking indicator: ${JSON.stringify(erikaLooks)}`);
  const talkApi = await participants();
  check(talkApi.get(TALKER).talking === true && talkApi.get(ERIKA).talking === false, `the API's talking flags: ${TALKER} ${talkApi.get(TALKER).talking}, Erika ${talkApi.get(ERIKA).talking}`);
  log(`3 talking: ${TALKER} and 201 (tones) shown talking, Erika (silent) never (${secs(Date.now() - t)}) — ${await shot(a, 'talking')}`);

  // 4. Mute and unmute the tone phone from its row.
  t = Date.now();
  await button(activeRow(a, TALKER), `Mute ${TALKER}`).click();
  await see(activeRow(a, TALKER).getByText('Muted', { exact: true }), 'the "Muted" badge on the tone phone');
  await see(button(activeRow(a, TALKER), `Unmute ${TALKER}`), 'the row’s button now "Unmute"');
  let looks = await rowLooks(a, TALKER);
  check(looks.muted && looks.mutedBadge, `the muted row: ${JSON.stringify(looks)}`);
  await eventually(async () => (await apiParticipant(TALKER)).muted === true, `the API shows ${TALKER} muted`);
  await notTalkingIn(a, talkerCall, 'the muted tone phone');   // muted: its tone no longer counts as talking
  const mutedShot = await shot(a, 'muted');
  await button(activeRow(a, TALKER), `Unmute ${TALKER}`).click();
  await see(button(activeRow(a, TALKER), `Mute ${TALKER}`), 'the row’s button "Mute" again');
  await gone(activeRow(a, TALKER).getByText('Muted', { exact: true }), 'the "Muted" badge after unmuting');
  await eventually(async () => (await apiParticipant(TALKER)).muted === false, `the API shows ${TALKER} unmuted`);
  await talkingIn(a, talkerCall, 'the unmuted tone phone');
  log(`4 muted ${TALKER}: badge, API muted, talking indicator off; unmuted: API agrees, talking again (${secs(Date.now() - t)}) — `
    + `${mutedShot}, ${await shot(a, 'unmuted')}`);

  // 5. Mute all but me, then Lock / Unlock.
  t = Date.now();
  const muteAllAnswered = answerTo(a, 'POST', '/api/v1/rooms/800/mute');
  await button(a, 'Mute all but me').click();
  await see(a.getByRole('status').getByText('Everyone but you is muted.', { exact: true }), 'the "everyone but you is muted" confirmation');
  await see(a.getByText('Everyone muted', { exact: true }), 'the "Everyone muted" badge');
  await see(button(a, 'Unmute all'), 'the button now "Unmute all"');
  await see(activeRow(a, TALKER).getByText('Muted', { exact: true }), 'the tone phone shown muted');
  await see(erika.getByText('Muted', { exact: true }), 'Erika shown muted');
  check(!(await rowLooks(a, '201')).muted, 'Anna’s own phone is shown muted by "Mute all but me"');
  await eventually(async () => {
    const list = await participants();
    return list.get(TALKER).muted && list.get(ERIKA).muted && !list.get('201').muted;
  }, 'the API: everyone but 201 muted');
  // (The room's own flags are read once, right after the window showed the answer to its POST.)
  await muteAllAnswered;
  later((await room800()).muted === true, 'step 5: GET /api/v1/rooms/800 does not show the room muted after "Mute all but me"');
  const muteAllShot = await shot(a, 'mute-all-but-me');
  const unmuteAllAnswered = answerTo(a, 'POST', '/api/v1/rooms/800/mute');
  await button(a, 'Unmute all').click();
  await gone(a.getByText('Everyone muted', { exact: true }), 'the "Everyone muted" badge after "Unmute all"');
  await until(a, () => document.querySelectorAll('li.participant.is-muted').length === 0
    && [...document.querySelectorAll('li.participant .badge-muted')].every((b) => b.hidden), null, 'no row shown muted after "Unmute all"');
  await eventually(async () => [...(await participants()).values()].filter((p) => p.state === 'connected').every((p) => !p.muted),
    'the API: nobody muted after "Unmute all"');
  await unmuteAllAnswered;
  later((await room800()).muted === false, 'step 5: GET /api/v1/rooms/800 still shows the room muted after "Unmute all"');

  await button(a, 'Lock').click();
  await see(a.getByRole('status').getByText(/^The room is locked/), 'the "locked" confirmation');
  await see(a.locator('.room-facts').getByText('Locked', { exact: true }), 'the "Locked" badge');
  await see(button(a, 'Unlock'), 'the button now "Unlock"');
  later((await room800()).locked === true, 'step 5: GET /api/v1/rooms/800 does not show the room locked after Lock');
  const lockedShot = await shot(a, 'locked');
  await button(a, 'Unlock').click();
  await gone(a.locator('.room-facts').getByText('Locked', { exact: true }), 'the "Locked" badge after unlocking');
  await see(button(a, 'Lock'), 'the button "Lock" again');
  later((await room800()).locked === false, 'step 5: GET /api/v1/rooms/800 still shows the room locked after Unlock');
  log(`5 mute all but me: ${TALKER} and Erika muted, 201 not (window and API); unmute all; locked and unlocked (window and API) `
    + `(${secs(Date.now() - t)}) — ${muteAllShot}, ${lockedShot}`);

  // 9. (Before the tone phone is blocked.) An API change is on the screen within 500 ms.
  t = Date.now();
  const live = [];
  for (const muted of [true, false]) {
    await a.evaluate(([sel, want]) => {
      window.__shownAt = null;
      const probe = () => {
        const li = document.querySelector(sel);
        const badge = li && li.querySelector('.badge-muted');
        if (li && li.classList.contains('is-muted') === want && badge.hidden === !want && window.__shownAt === null) window.__shownAt = Date.now();
      };
      const observer = new MutationObserver(probe);
      observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
      window.__probe = observer;
    }, [ACTIVE(talkerCall), muted]);
    const sent = Date.now();
    const answer = await api('POST', `/api/v1/rooms/800/calls/${talkerCall}/mute`, { muted });
    check(answer.status === 204, `POST …/mute: ${answer.status} ${answer.text}`);
    const shownAt = await until(a, () => window.__shownAt, null, `the ${muted ? 'muted' : 'unmuted'} row after the API call`, 5000);
    await a.evaluate(() => window.__probe.disconnect());
    live.push({ muted, ms: shownAt - sent });
  }
  const liveShot = await shot(a, 'live-api-change');
  for (const { muted, ms } of live) check(ms < 500, `the ${muted ? 'mute' : 'unmute'} by API took ${ms} ms to show (limit 500 ms)`);
  log(`9 API mute shown after ${live[0].ms} ms, unmute after ${live[1].ms} ms (limit 500 ms) (${secs(Date.now() - t)}) — ${liveShot}`);

  // 6. Hang up and block the tone phone.
  t = Date.now();
  await button(activeRow(a, TALKER), `Hang up and block ${TALKER}`).click();
  const dialog = a.getByRole('dialog', { name: `Hang up and block ${TALKER}?` });
  await see(dialog, 'the confirmation dialog');
  check(/cannot join this room again/.test(await dialog.innerText()), 'the dialog does not say what blocking means');
  check(await a.evaluate(() => document.activeElement?.textContent) === 'Cancel', 'the dialog’s focus is not on Cancel');
  const blockDialogShot = await shot(a, 'block-dialog');
  await button(dialog, 'Block').click();
  await gone(dialog, 'the dialog after Block');
  await gone(activeRow(a, TALKER), 'the blocked phone in Active participants');
  await see(inState(invitedRow(a, TALKER), 'Left'), 'the blocked phone shown as Left');
  await see(a.getByRole('status').getByText(`${TALKER} was hung up and blocked from this room.`), 'the "blocked" confirmation');
  const blocksBox = a.locator('details.blocks');
  await see(blocksBox.getByText('Blocked in this room'), 'the block list of the room');
  await blocksBox.locator('summary').click();
  await see(blocksBox.getByText(TALKER, { exact: true }), 'the blocked number in the block list');
  const blocks = await api('GET', '/api/v1/rooms/800/blocks');
  check(blocks.status === 200 && blocks.json.some((b) => b.who === TALKER), `the API's block list: ${blocks.text}`);
  log(`6 hang up and block ${TALKER}: dialog, gone, "Left", in the block list (window and API: ${blocks.text}) `
    + `(${secs(Date.now() - t)}) — ${blockDialogShot}, ${await shot(a, 'blocked')}`);

  // 7. Cancel an invitation while it rings; re-dial a busy one.
  t = Date.now();
  await recordStates(a, RINGING);
  await invite(a, RINGING);
  await see(inState(invitedRow(a, RINGING), 'Ringing'), 'the ringing phone shown Ringing');
  const ringingShot = await shot(a, 'ringing');
  await button(invitedRow(a, RINGING), `Cancel invitation of ${RINGING}`).click();
  await see(a.getByRole('status').getByText(`The invitation of ${RINGING} was cancelled.`), 'the "cancelled" confirmation');
  await until(a, (num) => {
    const li = [...document.querySelectorAll('li.invited[data-call]')].find((el) => el.textContent.includes(num));
    return li && !['calling', 'ringing', 'invited'].includes(li.dataset.state);
  }, RINGING, 'the cancelled invitation no longer ringing');
  const cancelled = invitedRow(a, RINGING);
  await see(button(cancelled, `Re-dial ${RINGING}`), 'Re-dial on the cancelled row');
  check(!(await button(cancelled, `Cancel invitation of ${RINGING}`).isVisible()), 'Cancel still offered after cancelling');
  const cancelledState = await cancelled.locator('.state-text').innerText();
  const cancelledData = await cancelled.getAttribute('data-state');
  check(await activeRow(a, RINGING).count() === 0, 'the cancelled phone is listed as active');
  const cancelApi = await apiParticipant(RINGING);
  check(cancelApi.state === cancelledData, `the window shows ${cancelledData}, the API ${cancelApi.state}`);
  const cancelledShot = await shot(a, 'cancelled');

  await invite(a, BUSY);
  await see(inState(invitedRow(a, BUSY), 'Busy'), 'the busy phone shown Busy');
  const firstBusyCall = await invitedRow(a, BUSY).getAttribute('data-call');
  await recordStates(a, BUSY);
  await button(invitedRow(a, BUSY), `Re-dial ${BUSY}`).click();
  await until(a, ([num, first]) => {
    const li = [...document.querySelectorAll('li.invited[data-call]')].find((el) => el.textContent.includes(num));
    return li && li.dataset.call !== first && li.dataset.state === 'busy';
  }, [BUSY, firstBusyCall], 'the re-dialled call busy again');
  const redialSeen = await recordedStates(a, BUSY);
  const again = redialSeen.filter((s) => s.call !== firstBusyCall);
  check(again.length >= 2 && /^(Calling…|Ringing)$/.test(again[0].state), `the re-dial was not shown calling: ${statesText(redialSeen)}`);
  check(again[again.length - 1].state === 'Busy', `the re-dial did not end busy: ${statesText(redialSeen)}`);
  check(await invitedPanel(a).locator('li[data-call]').filter({ hasText: word(BUSY) }).count() === 1, 'the re-dial added a second row');
  log(`7 cancelled ${RINGING} while ringing → "${cancelledState}" (${cancelledData}; states ${statesText(await recordedStates(a, RINGING))}); `
    + `re-dialled ${BUSY}: ${statesText(redialSeen)} (${secs(Date.now() - t)}) — ${ringingShot}, ${cancelledShot}, ${await shot(a, 'redialled-busy')}`);

  // 8. Nobody answers within the ring time (4 s): the row ends with the reason.
  t = Date.now();
  await recordStates(a, UNANSWERED);
  await invite(a, UNANSWERED);
  await see(inState(invitedRow(a, UNANSWERED), 'Ringing'), 'the unanswered phone shown Ringing');
  const rangAt = Date.now();
  await until(a, (num) => {
    const li = [...document.querySelectorAll('li.invited[data-call]')].find((el) => el.textContent.includes(num));
    return li && li.dataset.state === 'no-answer';
  }, UNANSWERED, 'the unanswered invitation ended as no-answer', 10_000);
  const gaveUp = Date.now() - rangAt;
  const noAnswerText = (await invitedRow(a, UNANSWERED).locator('.state-text').innerText()).trim();
  await see(button(invitedRow(a, UNANSWERED), `Re-dial ${UNANSWERED}`), 'Re-dial on the unanswered row');
  check(gaveUp > 2500 && gaveUp < 6000, `the invitation gave up ${gaveUp} ms after ringing (ring time 4 s)`);
  const noAnswerShot = await shot(a, 'no-answer');
  const timeline = (await apiParticipant(UNANSWERED)).events.map((e) => `${e.state}@${e.at}`).join(' ');
  later(/No answer after 4\s?s/.test(noAnswerText), `step 8: the unanswered row says "${noAnswerText}", not /No answer after 4\\s?s/`);
  log(`8 ${UNANSWERED} not answered: gave up ${secs(gaveUp)} after ringing (API: ${timeline}); row says "${noAnswerText}"`
    + `${/No answer after 4\s?s/.test(noAnswerText) ? '' : ' (EXPECTED "No answer after 4 s")'} (${secs(Date.now() - t)}) — ${noAnswerShot}`);
}

async function adminScenarios() {
  // 10. Administration as Ada: Rooms, Phone book, Settings.
  let t = Date.now();
  const d = await ui.newPage('D');
  await logIn(d, BASE, '100', PASSWORD);
  await see(d.getByRole('button', { name: 'Ada Admin account menu', exact: true }), 'Ada’s account menu');
  await d.getByRole('button', { name: 'Ada Admin account menu', exact: true }).click();
  await d.getByRole('link', { name: 'Administration', exact: true }).click();
  await see(d.getByRole('heading', { level: 1, name: 'Users', exact: true }), 'Administration › Users');
  await d.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Rooms', exact: true }).click();
  await see(d.getByRole('heading', { level: 1, name: 'Rooms', exact: true }), 'Administration › Rooms');
  const addForm = d.locator('section').filter({ has: d.getByRole('heading', { name: 'Add room', level: 2 }) });
  await see(addForm, 'the "Add room" form');
  await addForm.getByLabel('Number', { exact: true }).fill('555');
  await addForm.getByLabel('Name', { exact: true }).fill('Board room');
  await addForm.getByLabel('PIN', { exact: true }).fill('2468');
  await button(addForm, 'Add room').click();
  await see(d.getByRole('status').getByText('Room 555 added.', { exact: true }), 'the "room added" confirmation');
  const card = d.locator('article#room-555');
  await see(card.getByRole('heading', { name: '555 · Board room' }), 'the card of room 555');
  await see(card.getByText('2468', { exact: true }), 'the PIN 2468 on the card');
  /** Runs a change on the card and waits until the page has rebuilt the card from the server. */
  const onCard = async (what, action, message) => {
    await card.evaluate((el) => { el.__before = true; });
    await action();
    await see(d.getByRole('status').getByText(message, { exact: true }), `the confirmation of ${what}`);
    await until(d, () => { const el = document.getElementById('room-555'); return el && !el.__before; }, null, `the card rebuilt after ${what}`);
  };
  await onCard('the owner', () => card.getByLabel('Owner', { exact: true }).selectOption({ label: 'Anna Müller (201)' }), 'Room 555 saved.');
  await onCard('the share', async () => {
    await card.getByLabel('Share room 555 with', { exact: true }).selectOption({ label: 'Bert Brandt (202)' });
    await button(card, 'Share').click();
  }, 'Room 555 shared.');
  await onCard('the prompt language', () => card.getByLabel('Prompt language', { exact: true }).selectOption({ label: 'Deutsch' }), 'Room 555 saved.');
  await see(card.getByText('This room plays the default music.', { exact: true }), 'the default music before the upload');
  const wav = toneWav(440, 2, 8000);
  await onCard('the music upload', async () => {
    await card.getByLabel('On-hold music file (WAV) for room 555', { exact: true }).setInputFiles({ name: 'hold.wav', mimeType: 'audio/wav', buffer: wav });
    await button(card, 'Upload').click();
  }, 'On-hold music of room 555 replaced.');
  await see(card.getByText('This room plays its own music.', { exact: true }), 'the room’s own music after the upload');
  check(await card.getByLabel('Owner', { exact: true }).inputValue() === '201', 'the owner is not shown as Anna');
  check(await card.getByLabel('Prompt language', { exact: true }).inputValue() === 'de', 'the prompt language is not shown as German');
  await see(card.locator('.chip').getByText('Bert Brandt (202)', { exact: true }), 'the share with Bert on the card');
  const stored = (await api('GET', '/api/v1/rooms/555')).json;
  check(stored && stored.pin === '2468' && stored.owner === '201' && stored.language === 'de'
    && JSON.stringify(stored.shared_with) === '["202"]' && stored.has_music === true && stored.name === 'Board room',
  `the API's room 555: ${JSON.stringify(stored)}`);
  await card.scrollIntoViewIfNeeded();
  log(`10a room 555 "Board room" added with PIN 2468; owner Anna, shared with Bert, prompts German, own music `
    + `(${wav.length} bytes, 8 kHz) — API agrees (${secs(Date.now() - t)}) — ${await shot(d, 'admin-room', { fullPage: true })}`);

  // Phone book: a CSV with one bad line.
  t = Date.now();
  await d.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Phone book', exact: true }).click();
  await see(d.getByRole('heading', { level: 1, name: 'Phone book', exact: true }), 'Administration › Phone book');
  const csv = 'Name,Phone\nGreta Good,+41 44 555 11 11\nBad Line,not a number\nHans Good,+41 44 555 22 22\n';
  await d.getByLabel('File (CSV or vCard)', { exact: true }).setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await button(d.locator('form.inline-form'), 'Import').click();
  const report = d.locator('.import-report');
  try {
    await see(report.getByText(/^2 added, 0 merged, 0 updated\. \d+ lines? rejected:$/), 'the import summary');
  } catch (e) {
    // Say what the page shows instead (a toast, another report, the file gone from the field).
    const toasts = await d.locator('.toast-text').allInnerTexts().catch(() => []);
    const shown = await report.innerText().catch(() => '?');
    const files = await d.getByLabel('File (CSV or vCard)', { exact: true }).evaluate((el) => el.files.length).catch(() => '?');
    throw new Failed(`${e.message}; the report says ${JSON.stringify(shown)}, toasts ${JSON.stringify(toasts)}, files in the field: ${files}`);
  }
  const summary = (await report.locator('p.badge').innerText()).trim();
  // One bad line in the file: the summary counts lines, whatever number of reasons it has.
  later(/ 1 line rejected:$/.test(summary), `step 10b: one bad CSV line, but the import summary says "${summary}"`);
  const rejected = report.getByRole('table', { name: 'Rejected lines' });
  await see(rejected, 'the table of rejected lines');
  const rows = await rejected.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
  check(rows.length >= 1 && rows.every(([line, who]) => line === '3' && who === 'Bad Line'), `the rejected lines: ${JSON.stringify(rows)}`);
  const reasons = rows.map(([, , reason]) => reason);
  check(reasons.some((r) => /"not a number" is not a phone number/.test(r)), `no reason names the bad number: ${JSON.stringify(reasons)}`);
  const entries = d.getByRole('table', { name: 'Phone book entries' });
  await see(entries.getByRole('rowheader', { name: 'Greta Good', exact: true }), 'Greta in the phone book');
  await see(entries.getByRole('rowheader', { name: 'Hans Good', exact: true }), 'Hans in the phone book');
  check(await entries.getByRole('rowheader', { name: 'Bad Line', exact: true }).count() === 0, 'the bad line was imported');
  await see(entries.getByText('+41445551111', { exact: true }), 'Greta’s number in international format');
  log(`10b phone book CSV: Greta and Hans added; "${summary}" line 3 "Bad Line": ${reasons.map((r) => `"${r}"`).join(', ')} (${secs(Date.now() - t)}) — `
    + `${await shot(d, 'admin-phonebook-import', { fullPage: true })}`);

  // Settings: trunk and dial-in shown read-only, no trunk password anywhere.
  t = Date.now();
  await d.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Settings', exact: true }).click();
  await see(d.getByRole('heading', { level: 1, name: 'Settings', exact: true }), 'Administration › Settings');
  const trunk = d.locator('section').filter({ has: d.getByRole('heading', { name: 'SIP trunk', level: 2 }) });
  const dialin = d.locator('section').filter({ has: d.getByRole('heading', { name: 'Dial-in', level: 2 }) });
  await see(trunk.getByText('Trunk address', { exact: true }), 'the trunk address');
  await see(trunk.getByText(/^sip:erika@127\.0\.0\.1:\d+;dialled=\{number\}$/), 'the trunk URI');
  await see(trunk.getByText('konferenz', { exact: true }), 'the trunk user name');
  await see(dialin.getByText('+41 44 123 45 67', { exact: true }), 'the external dial-in number');
  const controls = await d.locator('.settings').locator('input, select, textarea, button, [contenteditable=""], [contenteditable="true"]').count();
  check(controls === 0, `the settings page has ${controls} controls: it is not read-only`);
  const pageText = await d.evaluate(() => document.documentElement.outerHTML + '\n' + document.body.innerText);
  check(!pageText.includes(TRUNK_PASSWORD), 'the trunk password is in the settings page');
  const viaPage = await d.evaluate(() => fetch('/api/v1/settings').then((r) => r.text()));
  const viaToken = await api('GET', '/api/v1/settings');
  check(viaToken.status === 200 && viaToken.json.trunk && viaToken.json.dialin, `GET /api/v1/settings: ${viaToken.status} ${viaToken.text}`);
  check(!viaPage.includes(TRUNK_PASSWORD) && !viaToken.text.includes(TRUNK_PASSWORD), 'the trunk password is in GET /api/v1/settings');
  check(!/"password"\s*:/.test(viaToken.text), `GET /api/v1/settings has a password field: ${viaToken.text}`);
  log(`10c settings: trunk and dial-in shown, no form control, trunk password in neither the page nor the API `
    + `(${secs(Date.now() - t)}) — ${await shot(d, 'admin-settings', { fullPage: true })}`);
}

async function languageAndKeyboard() {
  // 11. A German browser, no saved preference: the login page in German.
  let t = Date.now();
  const g = await ui.newPage('G', { locale: 'de-DE' });
  await g.goto(BASE + '/');
  check(await g.evaluate(() => localStorage.getItem('konferenz.lang')) === null, 'a language was saved before');
  await see(g.getByRole('heading', { level: 1, name: 'Bei konferenz anmelden', exact: true }), 'the German login page');
  await see(g.getByLabel('Anmeldename', { exact: true }), 'the German login field');
  await see(g.getByLabel('Passwort', { exact: true }), 'the German password field');
  await see(button(g, 'Anmelden'), 'the German submit button');
  check(await g.evaluate(() => document.documentElement.lang) === 'de', 'the page language is not de');
  check(await button(g, 'DE').getAttribute('aria-pressed') === 'true', 'DE is not shown as the language in use');
  const english = await g.evaluate(() => ['Log in', 'Login', 'Password', 'Skip to content'].filter((w) => document.body.innerText.includes(w)));
  check(english.length === 0, `English on the German login page: ${english.join(', ')}`);
  log(`11 de-DE browser: login page in German (${secs(Date.now() - t)}) — ${await shot(g, 'login-german')}`);

  // 12. The keyboard: login form in order, Enter logs in; in the window, Tab reaches the
  // invite field and the room's buttons.
  t = Date.now();
  const k = await ui.newPage('K');
  await k.goto(BASE + '/');
  await see(k.getByRole('heading', { level: 1, name: 'Log in to konferenz' }), 'the login page');
  /** What has the focus, for messages. */
  const focused = () => k.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const name = el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.innerText || el.textContent;
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(name || '').replace(/\s+/g, ' ').trim()}"`;
  });
  /** Presses `key` and checks that the focus moved to `locator` (document.activeElement). */
  const walked = [];
  const step = async (key, locator, what) => {
    await k.keyboard.press(key);
    const now = await focused();
    walked.push(`${key === 'Tab' ? '' : key + ' '}${now}`);
    const there = await locator.evaluate((el) => el === document.activeElement).catch(() => false);
    check(there, `${key} did not move the focus to ${what}: ${walked.join(' → ')}`);
  };
  const loginField = k.getByLabel('Login', { exact: true });
  const passwordField = k.getByLabel('Password', { exact: true });
  const submit = button(k, 'Log in');
  // The login field has the focus when the page opens; the language buttons come before it.
  await until(k, () => document.activeElement?.id === 'login', null, 'the focus in the login field on opening');
  await step('Shift+Tab', button(k, 'DE'), 'the DE button before the form');
  await step('Tab', loginField, 'the login field');
  await k.keyboard.type('201');
  await step('Tab', passwordField, 'the password field');
  await k.keyboard.type(PASSWORD);
  await step('Tab', submit, 'the "Log in" button');
  await step('Shift+Tab', passwordField, 'the password field again');
  const loginPath = walked.splice(0).join(' → ');
  const loginShot = await shot(k, 'keyboard-login');
  await k.keyboard.press('Enter');
  await see(k.getByRole('heading', { level: 1, name: 'My room (201)', exact: true }), 'Anna’s room after Enter');
  await see(k.getByText('Live', { exact: true }), 'the live badge');
  // The window: the page heading has the focus; Tab walks through the invite form and the toolbar.
  await until(k, () => document.activeElement?.tagName === 'H1', null, 'the focus on the window’s heading');
  await step('Tab', inviteField(k), 'the invite field');
  await step('Tab', button(k, 'Invite'), 'the Invite button');
  await step('Tab', button(k, 'Dial in'), 'Dial in');
  await step('Tab', button(k, 'Schedule'), 'Schedule');
  await step('Tab', button(k, 'Lock'), 'Lock');
  await step('Tab', button(k, 'Mute all but me'), 'Mute all but me');
  await step('Tab', button(k, 'End conference'), 'End conference');
  await step('Tab', button(k, 'Close'), 'Close');
  await step('Shift+Tab', button(k, 'End conference'), 'End conference, backwards');
  const windowPath = walked.splice(0).join(' → ');
  // The Dial in menu by keyboard: Enter opens it on its first item, ArrowDown moves, Escape
  // closes it and gives the focus back to the button.
  const dialMenu = k.getByRole('menu', { name: 'Dial in' });
  await step('Shift+Tab', button(k, 'Mute all but me'), 'Mute all but me, backwards');
  await step('Shift+Tab', button(k, 'Lock'), 'Lock, backwards');
  await step('Shift+Tab', button(k, 'Schedule'), 'Schedule, backwards');
  await step('Shift+Tab', button(k, 'Dial in'), 'Dial in, backwards');
  await step('Enter', dialMenu.getByRole('menuitem', { name: 'In this browser', exact: true }), 'the first item of the opened menu');
  await step('ArrowDown', dialMenu.getByRole('menuitem', { name: 'Call my phone', exact: true }), 'the second item');
  const menuShot = await shot(k, 'keyboard-dial-in-menu');
  await step('Escape', button(k, 'Dial in'), 'Dial in after Escape');
  await gone(dialMenu, 'the Dial in menu after Escape');
  const menuPath = walked.splice(0).join(' → ');
  log(`12 keyboard: login ${loginPath}; Enter logged in; window ${windowPath}; menu ${menuPath} `
    + `(${secs(Date.now() - t)}) — ${loginShot}, ${menuShot}`);
}

main().catch((e) => {
  process.exitCode = 1;
  console.log(`FAIL ${e instanceof Failed ? e.message : e.stack || e}`);
  if (ui.errors.length) console.log(`page errors: ${ui.errors.join(' | ')}`);
  if (deferred.length && !(e instanceof Failed && e.message.startsWith('checks failed along the way'))) {
    console.log(`and before that: ${deferred.join(' | ')}`);
  }
});
