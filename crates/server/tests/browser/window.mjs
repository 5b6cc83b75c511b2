// window.mjs — the conference window in Debian's headless Chromium, driven as a user would:
// log in, invite, watch the states change live, hang up, close and reopen, copy a personal
// link and use "Call me" as the guest, revoke it, have an administrator withdraw a user's organiser
// flag (his open window turns him away by itself), switch to German and to a phone-sized screen, end the conference.
//
// Started by tests/e2e_window.rs, which runs the server and the phones and sets:
//   BASE_URL   the server's http://127.0.0.1:PORT
//   PASSWORD   every user's password (users 100 Ada Admin, 201 Anna Müller, 202 Bert Brandt)
//   ANSWERING  the number (SIP port) of a phone that answers by itself
//   BUSY       the number of a phone that rejects with 486 Busy Here
//   CALL_ME    the number of a phone that answers by itself, for "Call me"
//   SHOTS      the folder for the screenshots (one PNG per scenario)
// Prints one line per step (with timings) and `DONE` at the end; exits 1 on any failure.

import { chromium } from 'playwright-core';
import path from 'node:path';
import fs from 'node:fs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
};
const BASE = env('BASE_URL').replace(/\/$/, '');
const PASSWORD = env('PASSWORD');
const ANSWERING = env('ANSWERING');
const BUSY = env('BUSY');
const CALL_ME = env('CALL_ME');
const SHOTS = env('SHOTS');
fs.mkdirSync(SHOTS, { recursive: true });
// Screenshots of an earlier run would mix with this one's.
for (const f of fs.readdirSync(SHOTS)) if (/^\d\d-.*\.png$/.test(f)) fs.rmSync(path.join(SHOTS, f));

const WAIT = 20_000;          // the longest any single wait may take
const started = Date.now();
const secs = (ms) => (ms / 1000).toFixed(2) + ' s';
const log = (line) => console.log(`[${secs(Date.now() - started)}] ${line}`);

class Failed extends Error {}
function check(ok, message) {
  if (!ok) throw new Failed(message);
}

/** Waits until `locator` is visible; the message says what the user expected to see. */
async function see(locator, what, timeout = WAIT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (e) {
    throw new Failed(`not seen within ${timeout} ms: ${what}`);
  }
}

/** Waits until `locator` is gone (detached or hidden). */
async function gone(locator, what, timeout = WAIT) {
  try {
    await locator.first().waitFor({ state: 'hidden', timeout });
  } catch (e) {
    throw new Failed(`still there after ${timeout} ms: ${what}`);
  }
}

/** Polls `fn` in the page until it returns something truthy (Playwright's own polling). */
async function until(page, fn, arg, what, timeout = WAIT) {
  try {
    return await (await page.waitForFunction(fn, arg, { timeout, polling: 'raf' })).jsonValue();
  } catch (e) {
    throw new Failed(`never true within ${timeout} ms: ${what}`);
  }
}

const pages = new Map();      // name → page, for the failure screenshots
const pageErrors = [];
let shotNo = 0;
async function shot(page, name, opts = {}) {
  shotNo += 1;
  const file = path.join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled', ...opts });
  return path.basename(file);
}

async function newPage(browser, name, { locale = 'en-US', clipboard = false } = {}) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  if (clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const text = msg.text();
      // An answer the page handles itself (401 before login, 403/404 on purpose) is logged by
      // Chromium as a failed resource; anything else (CSP violations, exceptions) counts.
      if (/Failed to load resource: the server responded with a status of (401|403|404|409|429)/.test(text)) return;
      pageErrors.push(`${name}: console: ${text}`);
    }
  });
  pages.set(name, page);
  return page;
}

async function logIn(page, login, password = PASSWORD) {
  await page.goto(BASE + '/');
  await see(page.getByRole('heading', { name: 'Log in to konferenz', level: 1 }), 'the login page');
  await page.getByLabel('Login', { exact: true }).fill(login);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

// ---- the window's parts, found by role and name ---------------------------------------------

const section = (page, heading) => page.locator('section').filter({
  has: page.getByRole('heading', { name: heading, level: 2 }),
});
// The panels in English or German.
const activePanel = (page) => section(page, /^(Active participants|Aktive Teilnehmer)$/);
const invitedPanel = (page) => section(page, /^(Invited participants|Eingeladene Teilnehmer)$/);
const word = (s) => new RegExp(`(^|\\D)${s.replace(/[+]/g, '\\+')}(\\D|$)`);
const activeRow = (page, number) => activePanel(page).locator('li[data-call]').filter({ hasText: word(number) });
const invitedRow = (page, number) => invitedPanel(page).locator('li[data-call]').filter({ hasText: word(number) });
/** The row, if it shows this state (the state is its own text, not part of a longer one). */
const inState = (row, text) => row.filter({ has: row.page().getByText(text, { exact: true }) });
const inviteField = (page) => page.getByRole('combobox', { name: 'Number or name', exact: true });

async function openRoom(page, number) {
  await page.getByLabel('Room', { exact: true }).selectOption(number);
  await see(page.getByRole('heading', { level: 1, name: `Room ${number}`, exact: true }), `the window of room ${number}`);
  await see(page.getByText('Live', { exact: true }), 'the live connection badge');
}

/** Installs a recorder of the state texts an invited row shows (to prove they change live). */
async function recordStates(page, number) {
  await page.evaluate((num) => {
    const t0 = performance.now();
    const seen = [];
    window.__seen = seen;
    const scan = () => {
      for (const li of document.querySelectorAll('li.invited[data-call]')) {
        if (!li.textContent.includes(num)) continue;
        const state = li.querySelector('.state-text')?.textContent?.trim();
        if (state && (seen.length === 0 || seen[seen.length - 1].state !== state)) {
          seen.push({ state, ms: Math.round(performance.now() - t0) });
        }
      }
    };
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, number);
}
const recordedStates = (page) => page.evaluate(() => window.__seen || []);

/** A mark that survives only as long as the page is not reloaded. */
const markPage = (page) => page.evaluate(() => { window.__notReloaded = true; });
const notReloaded = async (page) => check(await page.evaluate(() => window.__notReloaded === true), 'the page was reloaded');

// ---- the scenarios --------------------------------------------------------------------------

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await scenarios(browser);
  } catch (e) {
    for (const [name, page] of pages) {
      try { await shot(page, `FAILED-${name}`, { fullPage: true }); } catch { /* closed */ }
    }
    throw e;
  } finally {
    await browser.close();
  }
}

async function scenarios(browser) {
  // 1. Log in as Anna (201) and pick room 800.
  let t = Date.now();
  const a = await newPage(browser, 'A', { clipboard: true });
  await logIn(a, '201');
  await see(a.getByRole('button', { name: 'Anna Müller account menu', exact: true }), 'Anna’s account menu');
  await see(a.getByRole('heading', { level: 1, name: 'My room (201)', exact: true }), 'Anna’s own room first');
  await openRoom(a, '800');
  await see(a.getByText('Nobody is in the room yet', { exact: true }), 'the empty active list');
  log(`1 logged in as 201 and opened room 800 (${secs(Date.now() - t)}) — ${await shot(a, 'login-room-800')}`);

  // 2. Invite the answering phone; watch calling/ringing → connected without reload.
  await markPage(a);
  await recordStates(a, ANSWERING);
  await inviteField(a).fill(ANSWERING);
  const entered = Date.now();
  await inviteField(a).press('Enter');
  await see(invitedRow(a, ANSWERING), 'the answering phone in Invited participants');
  const firstState = (await invitedRow(a, ANSWERING).innerText()).replace(/\s+/g, ' ');
  const appeared = Date.now() - entered;
  await see(inState(invitedRow(a, ANSWERING), 'Connected'), 'the answering phone connected');
  const connectedAfter = Date.now() - entered;
  const seen = await recordedStates(a);
  check(seen.length >= 2, `only one state was shown: ${JSON.stringify(seen)}`);
  check(/^(Calling…|Ringing|Invited)$/.test(seen[0].state), `the first state shown was ${seen[0].state}`);
  check(seen[seen.length - 1].state === 'Connected', `the last state shown was ${seen[seen.length - 1].state}`);
  check(await inviteField(a).inputValue() === '', 'the field was not cleared after inviting');
  const row = activeRow(a, ANSWERING);
  await see(row, 'the answering phone in Active participants');
  const timer = row.getByRole('timer');
  await see(timer, 'a time counter in the active row');
  const first = await timer.innerText();
  check(/^\d{2}:\d{2}$/.test(first), `the time counter shows "${first}"`);
  await until(a, ([num, before]) => {
    const li = [...document.querySelectorAll('li[data-call]')].find((el) => !el.classList.contains('invited') && el.textContent.includes(num));
    const text = li && li.querySelector('[role=timer]')?.textContent;
    return text && text !== before ? text : null;
  }, [ANSWERING, first], 'the time counter runs');
  await notReloaded(a);
  log(`2 invited ${ANSWERING}: row after ${secs(appeared)} ("${firstState}"), connected ${secs(connectedAfter)} after Enter; `
    + `states ${seen.map((s) => `${s.state}@${s.ms}ms`).join(' → ')}; counter ${first} and running — ${await shot(a, 'answering-connected')}`);

  // 3. Autocomplete from the phone book (not invited).
  t = Date.now();
  await inviteField(a).fill('Erik');
  const option = a.getByRole('option', { name: /Erika Mustermann/ });
  await see(option, 'the suggestion "Erika Mustermann"');
  check(/\+49 ?30 ?1234567|\+49301234567/.test(await option.innerText()), `the suggestion lacks the number: ${await option.innerText()}`);
  const suggestedAfter = Date.now() - t;
  const autocompleteShot = await shot(a, 'autocomplete');
  await inviteField(a).press('Escape');
  await gone(a.getByRole('listbox'), 'the suggestion list after Escape');
  await inviteField(a).fill('');
  check(await invitedPanel(a).locator('li[data-call]').count() === 1, 'something else was invited');
  log(`3 "Erik" suggested "Erika Mustermann" after ${secs(suggestedAfter)}; field cleared — ${autocompleteShot}`);

  // 4. Invite the busy phone: busy, in plain words.
  await inviteField(a).fill(BUSY);
  const busyEntered = Date.now();
  await inviteField(a).press('Enter');
  await see(invitedRow(a, BUSY), 'the busy phone in Invited participants');
  await see(inState(invitedRow(a, BUSY), 'Busy'), 'the busy phone shown as Busy');
  const busyText = (await invitedRow(a, BUSY).innerText()).replace(/\s+/g, ' ');
  check(!/[{}"]|486|undefined|null/.test(busyText), `the busy row is not plain words: ${busyText}`);
  await see(invitedRow(a, BUSY).getByRole('button', { name: `Re-dial ${BUSY}`, exact: true }), 'Re-dial on the busy row');
  check(await activeRow(a, BUSY).count() === 0, 'the busy phone is listed as active');
  log(`4 invited ${BUSY}: busy after ${secs(Date.now() - busyEntered)}: "${busyText}" — ${await shot(a, 'busy')}`);

  // 5. Hang up the answering phone from its row.
  t = Date.now();
  await activeRow(a, ANSWERING).getByRole('button', { name: `Hang up ${ANSWERING}`, exact: true }).click();
  await gone(activeRow(a, ANSWERING), 'the answering phone in Active participants after hanging up');
  await see(inState(invitedRow(a, ANSWERING), 'Left'), 'the answering phone shown as Left');
  await see(a.getByText('Nobody is in the room yet', { exact: true }), 'the empty active list again');
  log(`5 hung up ${ANSWERING}: gone from Active participants and "Left" after ${secs(Date.now() - t)} — ${await shot(a, 'hung-up')}`);

  // 6. Close the window, reopen it, reload: the same state.
  t = Date.now();
  await a.getByRole('button', { name: 'Close', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'The conference window is closed' }), 'the closed page');
  check(await activePanel(a).count() === 0, 'the window is still shown after Close');
  check(await a.getByLabel('Room', { exact: true }).inputValue() === '', 'the room selector still names the closed room');
  const closedShot = await shot(a, 'closed');
  await openRoom(a, '800');
  const expectState = async (what) => {
    await see(inState(invitedRow(a, BUSY), 'Busy'), `${what}: the busy entry`);
    await see(inState(invitedRow(a, ANSWERING), 'Left'), `${what}: the ended entry`);
    check(await activeRow(a, ANSWERING).count() === 0, `${what}: the hung-up phone is active`);
  };
  await expectState('reopened');
  const reopenedShot = await shot(a, 'reopened');
  await a.reload();
  await see(a.getByRole('heading', { level: 1, name: 'Room 800', exact: true }), 'room 800 after a reload');
  await expectState('reloaded');
  log(`6 closed, reopened and reloaded: busy and ended entries kept (${secs(Date.now() - t)}) — ${closedShot}, ${reopenedShot}, ${await shot(a, 'reloaded')}`);

  // 7. Copy the personal link; the guest uses "Call me" in a fresh browser.
  t = Date.now();
  await markPage(a);
  const linkButton = invitedRow(a, ANSWERING).getByRole('button', { name: `Link for ${ANSWERING}: copy the personal link`, exact: true });
  await see(linkButton, 'the Link button of the invited row');
  await linkButton.click();
  await see(a.getByRole('status').getByText('Link copied', { exact: true }), 'the "Link copied" confirmation');
  await see(invitedRow(a, ANSWERING).getByText('Copied', { exact: true }), 'the Link button saying "Copied"');
  const copiedShot = await shot(a, 'link-copied');
  const url = await a.evaluate(() => navigator.clipboard.readText());
  check(url.startsWith(`${BASE}/j/`), `the clipboard holds "${url}", not a personal link of ${BASE}`);
  const b = await newPage(browser, 'B');
  await b.goto(url);
  await see(b.getByRole('heading', { level: 1, name: 'Room 800' }), 'the guest page’s room');
  await see(b.getByText('4711', { exact: true }), 'the PIN 4711 on the guest page');
  await see(b.getByText('+41 44 123 45 67', { exact: true }), 'the dial-in number on the guest page');
  const callMe = b.getByRole('button', { name: 'Call me', exact: true });
  await see(callMe, 'the Call me button');
  const guestShot = await shot(b, 'guest-page', { fullPage: true });
  await b.getByLabel('Your phone number').fill(CALL_ME);
  const called = Date.now();
  await callMe.click();
  await see(b.getByText(/Calling you now/), 'the guest page’s confirmation');
  const guestSent = await shot(b, 'guest-called', { fullPage: true });
  const callMeRow = activeRow(a, CALL_ME);
  await see(callMeRow, 'the Call me phone in Active participants');
  await see(callMeRow.getByRole('timer'), 'the Call me phone connected (time counter)');
  check(!(await callMeRow.getByText('Entering PIN', { exact: true }).isVisible()), 'the Call me phone is still in the voice menu');
  await notReloaded(a);
  log(`7 link copied (${url.replace(/\/j\/.*/, '/j/…')}); guest page shows PIN 4711; Call me ${CALL_ME} connected `
    + `${secs(Date.now() - called)} after the click, live in A — ${copiedShot}, ${guestShot}, ${guestSent}, ${await shot(a, 'call-me-connected')}`);

  // 7b. Anna revokes that link from her window; the guest's page then says it is no longer valid.
  t = Date.now();
  const revoke = invitedRow(a, ANSWERING).getByRole('button', { name: `Revoke the personal link of ${ANSWERING}`, exact: true });
  await see(revoke, 'the Revoke link button of the invited row');
  await revoke.click();
  const revokeDialog = a.getByRole('dialog', { name: `Revoke the personal link of ${ANSWERING}?` });
  await see(revokeDialog, 'the confirmation before revoking');
  const revokeShot = await shot(a, 'revoke-confirm');
  await revokeDialog.getByRole('button', { name: 'Revoke', exact: true }).click();
  await see(a.getByRole('status').getByText(`The link of ${ANSWERING} no longer works`), 'the "link revoked" confirmation');
  await gone(linkButton, 'the Link button after revoking');
  await b.reload();
  await see(b.getByRole('heading', { name: 'This link is no longer valid' }), 'the guest page saying the link is revoked');
  check(!(await b.getByRole('button', { name: 'Call me', exact: true }).isVisible()), 'Call me is still offered on a revoked link');
  await notReloaded(a);
  log(`7b link revoked from the window; the guest page says so (${secs(Date.now() - t)}) — ${revokeShot}, ${await shot(b, 'guest-revoked')}`);

  // 8. Bert (202) opens room 800; the administrator withdraws his organiser flag.
  t = Date.now();
  const c = await newPage(browser, 'C');
  await logIn(c, '202');
  await see(c.getByRole('heading', { level: 1, name: 'Room 800', exact: true }), 'Bert’s window of room 800');
  await see(c.getByRole('heading', { level: 2, name: 'Invited participants', exact: true }), 'Bert sees the invited list');
  await see(inState(invitedRow(c, BUSY), 'Busy'), 'Bert sees the same busy entry');
  const bertShot = await shot(c, 'bert-room-800');
  await markPage(c);
  const d = await newPage(browser, 'D');
  await logIn(d, '100');
  await d.getByRole('button', { name: 'Ada Admin account menu', exact: true }).click();
  await d.getByRole('link', { name: 'Administration', exact: true }).click();
  await see(d.getByRole('heading', { level: 1, name: 'Users', exact: true }), 'Administration › Users');
  const organiser = d.getByRole('checkbox', { name: 'Organiser: Bert Brandt (202)', exact: true });
  await see(organiser, 'the organiser box of Bert');
  check(await organiser.isChecked(), 'Bert is not an organiser to begin with');
  await organiser.uncheck();
  await see(d.getByRole('status').getByText('User Bert Brandt (202) saved.'), 'the "saved" confirmation');
  check(!(await organiser.isChecked()), 'the organiser box is ticked again');
  const adminShot = await shot(d, 'admin-users');
  const withdrawn = Date.now();
  // Without a reload: the server ends Bert's event stream and his page redraws itself.
  await see(c.getByRole('heading', { level: 1, name: 'Your account is not enabled for conferences' }), 'Bert’s window refused', 5000);
  const refusedAfter = Date.now() - withdrawn;
  await notReloaded(c);
  await see(c.getByRole('listitem').filter({ hasText: 'Ada Admin' }), 'the page naming the administrator to ask');
  check(await c.getByRole('heading', { name: 'Invited participants' }).count() === 0, 'Bert still sees the window');
  check(await c.getByLabel('Room', { exact: true }).isHidden(), 'Bert still has a room selector');
  log(`8 Bert opened room 800; organiser withdrawn by Ada; Bert's open window refused him ${secs(refusedAfter)} later, without a reload (${secs(Date.now() - t)}) — `
    + `${bertShot}, ${adminShot}, ${await shot(c, 'bert-refused')}`);

  // 8b. The audit log shows what Ada just did, in words, and who hung up whom.
  t = Date.now();
  await d.getByRole('link', { name: 'Audit log', exact: true }).click();
  await see(d.getByRole('heading', { level: 1, name: 'Audit log', exact: true }), 'Administration › Audit log');
  const changeRow = d.locator('tr[data-action="PATCH /api/v1/users/{number}"]').first();
  await see(changeRow, 'Ada’s change of Bert');
  check(/Changed a user/.test(await changeRow.innerText()) && /100/.test(await changeRow.innerText()), 'the change row names Ada and the change');
  await see(d.locator('tr[data-action="login"]').first(), 'the logins');
  await d.getByLabel('Show', { exact: true }).selectOption('login');
  await until(d, () => [...document.querySelectorAll('tbody tr')].length > 0
    && [...document.querySelectorAll('tbody tr')].every((tr) => tr.dataset.action.startsWith('login')), null, 'only logins after filtering');
  log(`8b audit log: Ada's change of Bert and the logins listed, filter works (${secs(Date.now() - t)}) — ${await shot(d, 'audit-log', { fullPage: true })}`);

  // 9. German, then a phone-sized screen.
  t = Date.now();
  await a.getByRole('button', { name: 'DE', exact: true }).click();
  await see(a.getByRole('heading', { level: 2, name: 'Aktive Teilnehmer', exact: true }), 'the German window');
  await see(a.getByRole('heading', { level: 2, name: 'Eingeladene Teilnehmer', exact: true }), 'the German invited list');
  await see(inState(invitedRow(a, BUSY), 'Besetzt'), 'the busy entry in German');
  await see(inState(invitedRow(a, ANSWERING), 'Aufgelegt'), 'the ended entry in German');
  const english = await a.evaluate(() => {
    const words = ['Active participants', 'Invited participants', 'Invite', 'Dial in', 'Lock', 'Mute all', 'End conference',
      'Close', 'Connected', 'Left', 'Busy', 'Hang up', 'Re-dial', 'Number or name', 'Room', 'Number', 'Cancel', 'Mute',
      'Nobody', 'Copied', 'Calling', 'Ringing', 'account menu', 'Muted', 'talking', 'Log out', 'Language', 'Skip'];
    // ("Live", "Link", "PIN" and "Administration" are German words too.)
    const visible = document.body.innerText;
    const names = [...document.querySelectorAll('[aria-label]')].map((el) => el.getAttribute('aria-label')).join('\n');
    return words.filter((w) => new RegExp(`\\b${w}\\b`).test(visible) || new RegExp(`\\b${w}\\b`).test(names));
  });
  check(english.length === 0, `English left in the German window: ${english.join(', ')}`);
  check(await a.evaluate(() => document.documentElement.lang) === 'de', 'the page language is not de');
  const germanShot = await shot(a, 'german');
  await a.setViewportSize({ width: 360, height: 740 });
  await see(a.getByRole('heading', { level: 2, name: 'Aktive Teilnehmer', exact: true }), 'the window at 360 px');
  const overflow = await a.evaluate(() => {
    const width = document.documentElement.scrollWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && el.getClientRects().length)
      .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    return { width, wide };
  });
  check(overflow.width <= 361, `the page is ${overflow.width} px wide at 360 px: ${overflow.wide.join(', ')}`);
  log(`9 German: no English left; at 360×740 scrollWidth ${overflow.width} (${secs(Date.now() - t)}) — ${germanShot}, `
    + `${await shot(a, 'german-phone', { fullPage: true })}`);

  // 10. End the conference (back in English, still phone-sized).
  t = Date.now();
  await a.getByRole('button', { name: 'EN', exact: true }).click();
  await see(a.getByRole('heading', { level: 2, name: 'Active participants', exact: true }), 'the English window again');
  await see(activeRow(a, CALL_ME), 'the Call me phone still active before the end');
  await a.getByRole('button', { name: 'End conference', exact: true }).click();
  const dialog = a.getByRole('dialog');
  await see(dialog.getByRole('heading', { name: 'End the conference?' }), 'the confirm dialog');
  const dialogShot = await shot(a, 'end-dialog');
  await dialog.getByRole('button', { name: 'End for everyone', exact: true }).click();
  await gone(dialog, 'the confirm dialog');
  await gone(activePanel(a).locator('li[data-call]'), 'active participants after the end');
  await see(a.getByText('Nobody is in the room yet', { exact: true }), 'the empty active list after the end');
  await until(a, () => ![...document.querySelectorAll('li.invited[data-call]')]
    .some((li) => ['calling', 'ringing', 'invited', 'connected', 'in-menu'].includes(li.dataset.state)), null,
  'no invited participant is still ringing or connected');
  await see(a.getByRole('status').getByText('The conference has ended.'), 'the "ended" confirmation');
  log(`10 conference ended: active list empty, no invitation left running (${secs(Date.now() - t)}) — ${dialogShot}, `
    + `${await shot(a, 'ended', { fullPage: true })}`);

  check(pageErrors.length === 0, `errors in the pages:\n${pageErrors.join('\n')}`);
  console.log('DONE');
}

main().catch((e) => {
  process.exitCode = 1;
  console.log(`FAIL ${e instanceof Failed ? e.message : e.stack || e}`);
  if (pageErrors.length) console.log(`page errors: ${pageErrors.join(' | ')}`);
});
