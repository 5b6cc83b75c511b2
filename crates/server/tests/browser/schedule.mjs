// schedule.mjs — scheduling conferences in Debian's headless Chromium, driven as a user would:
// open the form from the window, check the defaults, be refused an invalid address and fix
// it, send and see number and PIN, watch the mails go from Queued to Sent, add a participant
// the mail server refuses, change the duration, find reply-to and participants remembered,
// cancel; German, phone-sized, Administration › Outbox, a server without a dial-in number,
// Administration › Invitation texts, and My account (time zone, language, password).
//
// Started by tests/e2e_schedule_window.rs, which runs the server (its SMTP server is down at
// first) and sets:
//   BASE_URL   the server's http://127.0.0.1:PORT
//   PASSWORD   every user's password (users 100 Ada Admin, 201 Anna Müller anna@example.org)
//   SHOTS      the folder for the screenshots (s01-….png …)
//   UNCONFIGURED_URL  a second server without a dial-in number (user 201 there too)
// Prints one line per step, `SMTP START` when the harness should start the SMTP server,
// `PIN <digits>` once the PIN is shown, and `DONE` at the end; exits 1 on any failure.

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
const SHOTS = env('SHOTS');
const UNCONFIGURED = env('UNCONFIGURED_URL').replace(/\/$/, '');
fs.mkdirSync(SHOTS, { recursive: true });
for (const f of fs.readdirSync(SHOTS)) if (/^s\d\d-.*\.png$/.test(f)) fs.rmSync(path.join(SHOTS, f));

const WAIT = 20_000;
const MAIL_WAIT = 45_000;     // the outbox retries after 1, 2, 4 … s while the SMTP server was down
const VIEWER_ZONE = 'America/New_York';
const started = Date.now();
const secs = (ms) => (ms / 1000).toFixed(2) + ' s';
const log = (line) => console.log(`[${secs(Date.now() - started)}] ${line}`);

class Failed extends Error {}
function check(ok, message) {
  if (!ok) throw new Failed(message);
}

async function see(locator, what, timeout = WAIT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    throw new Failed(`not seen within ${timeout} ms: ${what}`);
  }
}

async function gone(locator, what, timeout = WAIT) {
  try {
    await locator.first().waitFor({ state: 'hidden', timeout });
  } catch {
    throw new Failed(`still there after ${timeout} ms: ${what}`);
  }
}

async function until(page, fn, arg, what, timeout = WAIT) {
  try {
    return await (await page.waitForFunction(fn, arg, { timeout, polling: 250 })).jsonValue();
  } catch {
    throw new Failed(`never true within ${timeout} ms: ${what}`);
  }
}

const pages = new Map();
const pageErrors = [];
let shotNo = 0;
async function shot(page, name, opts = {}) {
  shotNo += 1;
  const file = path.join(SHOTS, `s${String(shotNo).padStart(2, '0')}-${name}.png`);
  // A full-page picture taken while scrolled shows the sticky header in the middle.
  if (opts.fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, animations: 'disabled', ...opts });
  return path.basename(file);
}

async function newPage(browser, name, { locale = 'en-US', timezoneId = VIEWER_ZONE } = {}) {
  const context = await browser.newContext({ locale, timezoneId, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const text = msg.text();
      // Answers the page handles itself (401 before login, the 422 of the invalid address).
      if (/Failed to load resource: the server responded with a status of (401|422)/.test(text)) return;
      pageErrors.push(`${name}: console: ${text}`);
    }
  });
  pages.set(name, page);
  return page;
}

async function logIn(page, login, base = BASE) {
  await page.goto(base + '/');
  await see(page.getByRole('heading', { name: 'Log in to konferenz', level: 1 }), 'the login page');
  await page.getByLabel('Login', { exact: true }).fill(login);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

/** The wall clock of `ms` in `zone` as {date: "2026-12-09", time: "09:30"} (node's own Intl). */
function wall(ms, zone) {
  const p = {};
  for (const x of new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).formatToParts(new Date(ms))) p[x.type] = x.value;
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

// ---- the pages' parts, by role and name --------------------------------------------------------

const field = (page, label) => page.getByLabel(label, { exact: true });
const entryField = (scope) => scope.getByLabel('Participants’ e-mail addresses', { exact: true });
const rowEmail = (scope, n) => scope.getByRole('textbox', { name: `E-mail address of participant ${n}`, exact: true });
const rowPhone = (scope, n) => scope.getByRole('textbox', { name: `Phone (optional) of participant ${n}`, exact: true });
const rowCall = (scope, n) => scope.getByRole('checkbox', { name: `Call at start: participant ${n}`, exact: true });
const card = (page, title) => page.locator('article').filter({ has: page.getByRole('heading', { name: title, exact: true }) });
const mailRow = (scope, email) => scope.locator('li.mail-row').filter({ hasText: email });
const mailState = (scope, email) => mailRow(scope, email).locator('.mail-state');

/** Records every mail state text the rows show, to prove they change without a reload. */
async function recordMailStates(page) {
  await page.evaluate(() => {
    const seen = {};
    window.__mail = seen;
    const scan = () => {
      for (const li of document.querySelectorAll('li.mail-row')) {
        const who = li.querySelector('.mail-email')?.textContent?.trim();
        const state = li.querySelector('.mail-state')?.textContent?.trim();
        if (!who || !state) continue;
        const list = seen[who] || (seen[who] = []);
        if (list[list.length - 1] !== state) list.push(state);
      }
    };
    scan();
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function noOverflow(page, what) {
  const overflow = await page.evaluate(() => {
    const width = document.documentElement.scrollWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && el.getClientRects().length)
      .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    return { width, wide };
  });
  check(overflow.width <= 361, `${what}: the page is ${overflow.width} px wide at 360 px: ${overflow.wide.join(', ')}`);
  return overflow.width;
}

async function englishLeft(page, words) {
  return page.evaluate((list) => {
    // The page and header; the screen reader log keeps what it announced in English before.
    const visible = ['header', 'main', '.toast-stack'].map((s) => document.querySelector(s)?.innerText || '').join('\n');
    const names = [...document.querySelectorAll('[aria-label]')].map((el) => el.getAttribute('aria-label')).join('\n');
    return list.filter((w) => new RegExp(`\\b${w}\\b`).test(visible) || new RegExp(`\\b${w}\\b`).test(names));
  }, words);
}

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
  // 1. Anna opens the form from her window: the defaults are there.
  let t = Date.now();
  const a = await newPage(browser, 'A');
  await logIn(a, '201');
  await see(a.getByRole('heading', { level: 1, name: 'My room (201)', exact: true }), 'Anna’s window');
  await see(a.getByText('Live', { exact: true }), 'the window connected');
  const windowShot = await shot(a, 'window');
  await a.getByRole('button', { name: 'Schedule', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'Schedule a conference', exact: true }), 'the scheduling form');
  await see(field(a, 'Title'), 'the Title field');
  await until(a, () => document.querySelector('#sf-title')?.value !== undefined, null, 'the form filled in');
  check(await field(a, 'Title').inputValue() === 'Telephone conference', `title default: ${await field(a, 'Title').inputValue()}`);
  check(await field(a, 'Location').inputValue() === 'Telephone conference', 'location default');
  const description = await field(a, 'Description').inputValue();
  check(description.includes('<number>') && description.includes('<pin>'), `description default: ${description}`);
  await see(a.getByText(/<number> and <pin> are replaced/), 'the hint on <number> and <pin>');
  check(await field(a, 'Time zone').inputValue() === 'Europe/Zurich', `time zone default: ${await field(a, 'Time zone').inputValue()}`);
  check(await field(a, 'Dial-in possible (minutes before the start)').inputValue() === '10', 'dial-in default');
  check(await field(a, 'Duration (minutes)').inputValue() === '60', 'duration default');
  check(await field(a, 'Reply to').inputValue() === 'anna@example.org', 'reply-to default');
  check(/^\d{4}-\d{2}-\d{2}$/.test(await field(a, 'Start date').inputValue()), 'a start date is proposed');
  check(/^\d{2}:00$/.test(await field(a, 'Start time').inputValue()), 'a full hour is proposed');
  check(await rowEmail(a, 1).inputValue() === 'anna@example.org', 'Anna’s own address first');
  check(await rowEmail(a, 2).count() === 0, 'more than her own address offered');
  log(`1 the form from the window, with the defaults (${secs(Date.now() - t)}) — ${windowShot}, ${await shot(a, 'form', { fullPage: true })}`);

  // 2. Fill it in, with a mistyped address: the field says what is wrong.
  t = Date.now();
  const day = wall(Date.now() + 3 * 86400 * 1000, 'Europe/London').date;
  await field(a, 'Title').fill('Budget review');
  await field(a, 'Start date').fill(day);
  await field(a, 'Start time').fill('09:30');
  await field(a, 'Time zone').selectOption('Europe/London');
  await field(a, 'Duration (minutes)').fill('45');
  await field(a, 'Reply to').fill('team@example.org');
  await entryField(a).fill('bert@example');
  await entryField(a).press('Enter');
  await see(rowEmail(a, 2), 'the second participant row');
  await entryField(a).fill('carla@example.org');
  await a.getByRole('button', { name: 'Add', exact: true }).click();
  await rowPhone(a, 3).fill('+41 44 555 12 34');
  await rowCall(a, 3).check();
  await see(a.getByText(/\(Europe\/London\)/), 'the summary of the time in Europe/London');
  check(await entryField(a).inputValue() === '', 'the entry field was not cleared');
  await a.getByRole('button', { name: 'Send invitation', exact: true }).click();
  const error = a.getByText('This is not an e-mail address like anna@example.org.', { exact: true });
  await see(error, 'the error next to the participants');
  await see(a.getByText('Check this address', { exact: true }).filter({ visible: true }), 'the wrong row marked');
  check(await a.getByText('Check this address', { exact: true }).filter({ visible: true }).count() === 1, 'more than one row marked');
  check(await rowEmail(a, 2).evaluate((el) => el === document.activeElement), 'the wrong address does not have the focus');
  check(await rowEmail(a, 2).getAttribute('aria-invalid') === 'true', 'the wrong address is not marked invalid');
  check(a.url().includes('#/schedule'), 'the form was left');
  log(`2 "bert@example" refused next to the participants, the row marked and focused (${secs(Date.now() - t)}) — `
    + `${await shot(a, 'field-error', { fullPage: true })}`);

  // 3. Fix it and send: number and PIN, and each participant's mail.
  t = Date.now();
  await rowEmail(a, 2).fill('bert@example.org');
  await gone(error, 'the error after fixing the address');
  await a.getByRole('button', { name: 'Send invitation', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'Budget review', exact: true }), 'the conference page');
  await see(a.getByText('Scheduled: 3 invitations are on their way', { exact: true }), 'the confirmation');
  await see(a.getByText('+41 44 123 45 67', { exact: true }), 'the number to dial');
  const pin = (await a.locator('dd .pin').innerText()).trim();
  check(/^\d{6}$/.test(pin), `the PIN shown is "${pin}"`);
  console.log(`PIN ${pin}`);
  for (const who of ['anna@example.org', 'bert@example.org', 'carla@example.org']) {
    await see(mailRow(a, who), `${who} listed`);
    check(/^(Queued|Sent)$/.test((await mailState(a, who).innerText()).trim()), `${who}: ${await mailState(a, who).innerText()}`);
  }
  await see(mailRow(a, 'carla@example.org').getByText('Called at the start on +41445551234'), 'Carla’s phone for the start');
  const id = Number(a.url().split('#/conferences/')[1]);
  check(Number.isInteger(id), `the address is ${a.url()}`);
  const c = await a.evaluate(async (cid) => (await fetch(`/api/v1/conferences/${cid}`)).json(), id);
  const london = wall(Date.parse(c.start), 'Europe/London');
  check(london.date === day && london.time === '09:30', `the start sent was ${c.start}, ${JSON.stringify(london)} in London`);
  check(c.time_zone === 'Europe/London' && c.duration_minutes === 45, JSON.stringify(c));
  const ny = wall(Date.parse(c.start), VIEWER_ZONE).time;
  const ny12 = `${((Number(ny.slice(0, 2)) + 11) % 12) + 1}:${ny.slice(3)}`;
  const when = await a.locator('.conf-when').innerText();
  check(new RegExp(`(^|\\D)0?${ny12}(\\D|$)`).test(when), `the start in the viewer's zone (${VIEWER_ZONE}, ${ny12}) is not shown: ${when}`);
  await see(a.getByText(/(^|\D)0?9:30.*in Europe\/London/), 'the start in the conference’s zone');
  log(`3 sent: number +41 44 123 45 67, PIN ${pin}, start ${c.start} (09:30 London, "${when}" for the viewer) (${secs(Date.now() - t)}) — `
    + `${await shot(a, 'sent', { fullPage: true })}`);

  // 4. The Conferences view: Queued while the mail server is down, then Sent, without a reload.
  t = Date.now();
  await a.getByRole('link', { name: 'Conferences', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'Conferences', exact: true }), 'the Conferences view');
  const budget = card(a, 'Budget review');
  await see(budget, 'the conference in the list');
  await see(budget.getByText('Upcoming', { exact: true }), 'its status');
  for (const who of ['anna@example.org', 'bert@example.org', 'carla@example.org']) {
    await see(mailState(budget, who).getByText('Queued', { exact: true }), `${who} queued`);
  }
  await see(budget.getByText(/Not sent yet, trying again: /), 'why the mails wait');
  await a.evaluate(() => { window.__notReloaded = true; });
  await recordMailStates(a);
  const queuedShot = await shot(a, 'queued', { fullPage: true });
  console.log('SMTP START');
  const smtpAt = Date.now();
  for (const who of ['anna@example.org', 'bert@example.org', 'carla@example.org']) {
    await see(mailState(budget, who).getByText('Sent', { exact: true }), `${who} sent`, MAIL_WAIT);
  }
  const sentAfter = Date.now() - smtpAt;
  check(await a.evaluate(() => window.__notReloaded === true), 'the page was reloaded');
  const seen = await a.evaluate(() => window.__mail);
  for (const who of ['anna@example.org', 'bert@example.org', 'carla@example.org']) {
    check(JSON.stringify(seen[who]) === '["Queued","Sent"]', `${who} showed ${JSON.stringify(seen[who])}`);
  }
  log(`4 Queued → Sent for all three ${secs(sentAfter)} after the SMTP server came up (${secs(Date.now() - t)}) — `
    + `${queuedShot}, ${await shot(a, 'mails-sent', { fullPage: true })}`);

  // 5. Add a participant the mail server refuses: Failed, with its answer.
  t = Date.now();
  await budget.getByRole('button', { name: 'Add participants to Budget review', exact: true }).click();
  await see(entryField(budget), 'the add-participants field');
  check(await entryField(budget).evaluate((el) => el === document.activeElement), 'the field does not have the focus');
  await entryField(budget).fill('reject-me@example.org');
  await entryField(budget).press('Enter');
  const addShot = await shot(a, 'add-participant');
  await budget.getByRole('button', { name: 'Send invitations', exact: true }).click();
  await see(mailRow(budget, 'reject-me@example.org'), 'the added participant');
  await see(mailState(budget, 'reject-me@example.org').getByText(/^Failed: .*550/), 'the refusal with the server’s answer', MAIL_WAIT);
  const failedText = (await mailState(budget, 'reject-me@example.org').innerText()).trim();
  log(`5 added reject-me@example.org: "${failedText}" (${secs(Date.now() - t)}) — ${addShot}, ${await shot(a, 'failed', { fullPage: true })}`);

  // 6. Change the duration: the form comes prefilled; everyone gets an update.
  t = Date.now();
  await budget.getByRole('link', { name: 'Change Budget review', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'Change the conference', exact: true }), 'the change form');
  await see(field(a, 'Title'), 'the change form’s fields');
  check(await field(a, 'Title').inputValue() === 'Budget review', 'the title prefilled');
  check(await field(a, 'Start date').inputValue() === day, 'the date prefilled');
  check(await field(a, 'Start time').inputValue() === '09:30', 'the time prefilled');
  check(await field(a, 'Time zone').inputValue() === 'Europe/London', 'the zone prefilled');
  check(await field(a, 'Duration (minutes)').inputValue() === '45', 'the duration prefilled');
  check(await entryField(a).count() === 0, 'the change form offers the participants');
  const changeShot = await shot(a, 'change-form', { fullPage: true });
  await field(a, 'Duration (minutes)').fill('90');
  await a.getByRole('button', { name: 'Send update', exact: true }).click();
  await see(a.getByText('Conference changed', { exact: true }), 'the change confirmed');
  await see(a.getByRole('heading', { level: 1, name: 'Budget review', exact: true }), 'the conference page again');
  const changed = await a.evaluate(async (cid) => (await fetch(`/api/v1/conferences/${cid}`)).json(), id);
  check(changed.duration_minutes === 90 && changed.sequence === 1, JSON.stringify(changed));
  check(changed.start === c.start, `the start moved: ${changed.start}`);
  for (const who of ['anna@example.org', 'bert@example.org', 'carla@example.org']) {
    await see(mailState(a, who).getByText('Sent', { exact: true }), `${who}: update sent`, MAIL_WAIT);
  }
  log(`6 duration 45 → 90 min, sequence 1, updates sent (${secs(Date.now() - t)}) — ${changeShot}, ${await shot(a, 'changed', { fullPage: true })}`);

  // 7. The form again, from the window: reply-to, participants and time zone remembered.
  t = Date.now();
  await a.getByRole('button', { name: 'Anna Müller account menu', exact: true }).click();
  await a.getByRole('link', { name: 'Conference window', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'My room (201)', exact: true }), 'the window again');
  await a.getByRole('button', { name: 'Schedule', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'Schedule a conference', exact: true }), 'the form again');
  await see(rowEmail(a, 1), 'the remembered participants');
  check(await field(a, 'Reply to').inputValue() === 'team@example.org', `reply-to: ${await field(a, 'Reply to').inputValue()}`);
  const remembered = [];
  for (let n = 1; await rowEmail(a, n).count(); n += 1) remembered.push(await rowEmail(a, n).inputValue());
  check(JSON.stringify(remembered) === JSON.stringify(['anna@example.org', 'bert@example.org', 'carla@example.org']),
    `participants remembered: ${remembered.join(', ')}`);
  check(await field(a, 'Time zone').inputValue() === 'Europe/London', 'the time zone remembered');
  check(await field(a, 'Title').inputValue() === 'Telephone conference', 'the title is the default again');
  const rememberedShot = await shot(a, 'remembered', { fullPage: true });
  await a.getByRole('link', { name: 'Cancel', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'Conferences', exact: true }), 'the Conferences view after Cancel');
  log(`7 remembered: reply-to team@example.org, ${remembered.join(', ')}, Europe/London (${secs(Date.now() - t)}) — ${rememberedShot}`);

  // 8. Cancel the conference: asked first, then Cancelled and the cancellations sent.
  t = Date.now();
  await see(budget, 'the conference in the list');
  await budget.getByRole('button', { name: 'Cancel conference Budget review', exact: true }).click();
  const dialog = a.getByRole('dialog');
  await see(dialog.getByRole('heading', { name: 'Cancel “Budget review”?' }), 'the confirm dialog');
  check(await dialog.getByRole('button', { name: 'Keep it', exact: true }).evaluate((el) => el === document.activeElement), 'the safe choice lacks the focus');
  const dialogShot = await shot(a, 'cancel-dialog');
  await dialog.getByRole('button', { name: 'Cancel conference', exact: true }).click();
  await gone(dialog, 'the dialog');
  await see(budget.getByText('Cancelled', { exact: true }), 'the status Cancelled');
  await see(a.getByRole('heading', { level: 2, name: 'Past and cancelled', exact: true }), 'the past section');
  check(await budget.getByRole('button', { name: /Cancel conference|Add participants/ }).count() === 0, 'a cancelled conference still offers actions');
  await see(a.getByText('No upcoming conferences', { exact: true }), 'no upcoming conference left');
  for (const who of ['anna@example.org', 'bert@example.org', 'carla@example.org']) {
    await see(mailState(budget, who).getByText('Sent', { exact: true }), `${who}: cancellation sent`, MAIL_WAIT);
  }
  log(`8 cancelled after confirming; cancellations sent (${secs(Date.now() - t)}) — ${dialogShot}, ${await shot(a, 'cancelled', { fullPage: true })}`);

  // 9. German, then a phone-sized screen: the list and the form.
  t = Date.now();
  await a.getByRole('button', { name: 'DE', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'Konferenzen', exact: true }), 'the German list');
  await see(budget.getByText('Abgesagt', { exact: true }), 'Cancelled in German');
  await see(mailState(budget, 'reject-me@example.org').getByText(/^Fehlgeschlagen: .*550/), 'Failed in German');
  const listWords = ['Conferences', 'Upcoming', 'Cancelled', 'Sent', 'Queued', 'Failed', 'Past', 'Invited', 'Number', 'Dial-in',
    'Location', 'New conference', 'Schedule', 'Add participants', 'Cancel', 'Change', 'No upcoming', 'Times are shown'];
  let english = await englishLeft(a, listWords);
  check(english.length === 0, `English left in the German list: ${english.join(', ')}`);
  const germanShot = await shot(a, 'german-list', { fullPage: true });
  await a.setViewportSize({ width: 360, height: 740 });
  await see(a.getByRole('heading', { level: 1, name: 'Konferenzen', exact: true }), 'the list at 360 px');
  const listWidth = await noOverflow(a, 'the list');
  const listPhone = await shot(a, 'german-list-phone', { fullPage: true });
  await a.getByRole('link', { name: 'Neue Konferenz', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'Konferenz planen', exact: true }), 'the German form');
  await see(a.getByLabel('Titel', { exact: true }), 'the German form’s fields');
  await until(a, () => document.querySelector('#sf-title')?.value === 'Telefonkonferenz', null, 'the German default title');
  for (const label of ['Beschreibung', 'Ort', 'Startdatum', 'Startzeit', 'Zeitzone', 'Dauer (Minuten)',
    'Einwahl möglich (Minuten vor Beginn)', 'Antwort an', 'E-Mail-Adressen der Teilnehmer']) {
    await see(a.getByLabel(label, { exact: true }), `the field "${label}"`);
  }
  await see(a.getByRole('button', { name: 'Einladung senden', exact: true }), 'the German send button');
  english = await englishLeft(a, ['Title', 'Description', 'Location', 'Start date', 'Start time', 'Time zone', 'Duration',
    'Dial-in possible', 'Reply to', 'Participants', 'Send invitation', 'Add', 'Remove', 'Phone', 'Call at start', 'E-mail address',
    'Invitation', 'Time', 'Your time', 'Telephone conference', 'minutes']);
  check(english.length === 0, `English left in the German form: ${english.join(', ')}`);
  const formWidth = await noOverflow(a, 'the form');
  log(`9 German list and form, no English left; at 360 px scrollWidth ${listWidth} and ${formWidth} (${secs(Date.now() - t)}) — `
    + `${germanShot}, ${listPhone}, ${await shot(a, 'german-form-phone', { fullPage: true })}`);
  await a.getByRole('button', { name: 'EN', exact: true }).click();

  // 10. The administrator's Outbox.
  t = Date.now();
  const d = await newPage(browser, 'D');
  await logIn(d, '100');
  await d.getByRole('button', { name: 'Ada Admin account menu', exact: true }).click();
  await d.getByRole('link', { name: 'Administration', exact: true }).click();
  await see(d.getByRole('heading', { level: 1, name: 'Users', exact: true }), 'Administration');
  await d.getByRole('link', { name: 'Outbox', exact: true }).click();
  await see(d.getByRole('heading', { level: 1, name: 'Outbox', exact: true }), 'Administration › Outbox');
  const rows = d.locator('table tbody tr');
  await see(rows, 'the mails');
  // The last refusals may still be on their way: the page refreshes itself while any is queued.
  await see(d.getByText('0 queued, 9 sent, 3 failed.', { exact: true }), 'the outbox summary');
  const total = await rows.count();
  check(total === 12, `${total} mails listed, 12 expected (3 × invitation, update, cancellation + 3 refused)`);
  const failedRows = d.locator('tbody tr[data-state="failed"]');
  check(await failedRows.count() === 3, `${await failedRows.count()} failed rows`);
  check(/550/.test(await failedRows.first().innerText()), 'the refusal’s answer is not shown');
  check(await d.locator('tbody tr[data-state="sent"]').count() === 9, 'not 9 sent rows');
  await d.setViewportSize({ width: 360, height: 740 });
  const outboxWidth = await noOverflow(d, 'the outbox');
  await d.setViewportSize({ width: 1280, height: 900 });
  log(`10 Outbox: ${total} mails, 9 sent, 3 failed with 550; 360 px scrollWidth ${outboxWidth} (${secs(Date.now() - t)}) — `
    + `${await shot(d, 'outbox', { fullPage: true })}`);

  // 11. A server without a number to dial: the form says scheduling is not set up.
  t = Date.now();
  const u = await newPage(browser, 'U');
  await logIn(u, '201', UNCONFIGURED);
  await see(u.getByRole('heading', { level: 1, name: 'My room (201)', exact: true }), 'Anna’s window on the other server');
  await u.getByRole('button', { name: 'Schedule', exact: true }).click();
  await see(u.getByRole('heading', { level: 2, name: 'Scheduling is not set up', exact: true }), 'the not-set-up notice');
  check(await u.getByRole('button', { name: 'Send invitation' }).count() === 0, 'the form is offered anyway');
  log(`11 without a dial-in number: "Scheduling is not set up", no form (${secs(Date.now() - t)}) — ${await shot(u, 'not-configured')}`);

  // 12. Administration › Invitation texts: what the administrator saves is what the form starts with.
  t = Date.now();
  await d.getByRole('link', { name: 'Invitation texts', exact: true }).click();
  await see(d.getByRole('heading', { level: 1, name: 'Invitation texts', exact: true }), 'Administration › Invitation texts');
  await see(d.locator('#texts-en-title'), 'the English title field');
  check(await d.locator('#texts-en-title').inputValue() === 'Telephone conference', 'the configured English title is not shown');
  check(await d.locator('#texts-de-title').inputValue() === 'Telefonkonferenz', 'the configured German title is not shown');
  await d.locator('#texts-en-title').fill('Weekly board call');
  await d.locator('#texts-en-location').fill('Board room and by phone');
  await d.getByRole('button', { name: 'Save texts', exact: true }).click();
  await see(d.getByText('Texts saved.', { exact: true }), 'the confirmation');
  const textsShot = await shot(d, 'admin-texts', { fullPage: true });
  await d.goto(BASE + '/#/schedule');
  await until(d, () => document.querySelector('#sf-title')?.value === 'Weekly board call', null, 'the administrator’s title in a new form');
  check(await field(d, 'Location').inputValue() === 'Board room and by phone', 'the administrator’s location is not the form’s');
  log(`12 Invitation texts: saved, a new form starts with "Weekly board call" (${secs(Date.now() - t)}) — ${textsShot}, `
    + `${await shot(d, 'form-with-admin-texts')}`);

  // 13. My account: a time zone the window then shows times in, a language that follows the user to
  // another browser, and a new password (the wrong current one and a mismatch refused first).
  t = Date.now();
  await a.goto(BASE + '/#/account');
  await see(a.getByRole('heading', { level: 1, name: 'My account', exact: true }), 'My account');
  await see(a.getByText('anna@example.org', { exact: true }), 'the account’s e-mail');
  // The zone of Anna's first conference became hers (the page refreshes what login read).
  await until(a, () => document.querySelector('#account-zone')?.value === 'Europe/London', null, 'the zone scheduled in as the account’s');
  await field(a, 'Time zone').selectOption('Asia/Tokyo');
  await a.getByRole('combobox', { name: 'Language', exact: true }).selectOption('de');
  await a.getByRole('button', { name: 'Save settings', exact: true }).click();
  await see(a.getByRole('heading', { level: 1, name: 'Mein Konto', exact: true }), 'the page in German after saving');
  await see(a.getByText('Einstellungen gespeichert.', { exact: true }), 'the German confirmation');
  await field(a, 'Aktuelles Passwort').fill('not my password');
  await field(a, 'Neues Passwort').fill('a new secret 2');
  await field(a, 'Neues Passwort wiederholen').fill('a new secret 3');
  await a.getByRole('button', { name: 'Passwort ändern', exact: true }).click();
  await see(a.getByText('Die beiden neuen Passwörter stimmen nicht überein.', { exact: true }), 'the mismatch');
  await field(a, 'Neues Passwort wiederholen').fill('a new secret 2');
  await a.getByRole('button', { name: 'Passwort ändern', exact: true }).click();
  await see(a.getByText('Das ist nicht Ihr aktuelles Passwort.', { exact: true }), 'the wrong current password');
  check(await field(a, 'Aktuelles Passwort').getAttribute('aria-invalid') === 'true', 'the wrong field is not marked');
  await field(a, 'Aktuelles Passwort').fill(PASSWORD);
  await a.getByRole('button', { name: 'Passwort ändern', exact: true }).click();
  await see(a.getByText('Passwort geändert. Ihre anderen Browser-Sitzungen wurden abgemeldet.', { exact: true }), 'the change');
  await a.setViewportSize({ width: 360, height: 740 });
  const accountWidth = await noOverflow(a, 'My account');
  const accountShot = await shot(a, 'account-phone', { fullPage: true });
  await a.setViewportSize({ width: 1280, height: 900 });
  await a.goto(BASE + '/#/conferences');
  await see(a.getByText(/Asia\/Tokyo/).first(), 'times in the account’s zone on the conferences page');
  // Another browser (English, New York): the new password, and the window comes up in German.
  const e = await newPage(browser, 'E');
  await e.goto(BASE + '/');
  await see(e.getByRole('heading', { name: 'Log in to konferenz', level: 1 }), 'the login page');
  await e.getByLabel('Login', { exact: true }).fill('201');
  await e.getByLabel('Password', { exact: true }).fill('a new secret 2');
  await e.getByRole('button', { name: 'Log in', exact: true }).click();
  await see(e.getByRole('heading', { level: 1, name: 'Mein Raum (201)', exact: true }), 'Anna’s window in German in another browser');
  log(`13 My account: Asia/Tokyo and German saved, mismatch and wrong password refused, changed; another browser logs in `
    + `with it in German; 360 px scrollWidth ${accountWidth} (${secs(Date.now() - t)}) — ${accountShot}, ${await shot(e, 'account-language-elsewhere')}`);

  check(pageErrors.length === 0, `errors in the pages:\n${pageErrors.join('\n')}`);
  console.log('DONE');
}

main().catch((e) => {
  process.exitCode = 1;
  console.log(`FAIL ${e instanceof Failed ? e.message : e.stack || e}`);
  if (pageErrors.length) console.log(`page errors: ${pageErrors.join(' | ')}`);
});
