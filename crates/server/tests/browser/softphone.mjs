// softphone.mjs — the browser as a phone in Debian's headless Chromium: log in, "Dial in › In this browser",
// hear the phone in the room (a spectrum of the softphone's remote audio), hold while the caller records
// what the phone hears, lose the connection (pc.close() while the signalling is cut off for 5 s) and come
// back as the same participant, mute and unmute, a language switch and a phone-sized screen, then Leave.
//
// Environment (set by the Rust test that runs the server and the phone):
//   BASE_URL   the server's http://127.0.0.1:PORT
//   LOGIN      the user to log in as (e.g. 201); PASSWORD their password
//   ROOM       the room to open (e.g. 800), where a phone plays a tone
//   SHOTS      the folder for the screenshots
//   TONE_WAV   the fake microphone's WAV (16-bit PCM mono; Chromium loops it)
//   EXPECT_HZ  the tone the phone in the room plays (±30 Hz)
//   HOLD_MS    how long to stay connected after `CONNECTED` before the reconnect (default 6000)
//   HOLD_FILE  optional: instead, hold until this file exists (at most 120 s)
// Prints, each on its own line: `connected in N s`, `CONNECTED call=<id>`, `heard the phone's tone at N Hz …`,
// `RECONNECTING` (the hold is over), `reconnected call=<id> …`, `heard the phone's tone again at N Hz …`,
// `muted and unmuted`, `left`, `DONE`;
// or `FAIL <reason>` (exit code 1).

import { chromium } from 'playwright-core';
import path from 'node:path';
import fs from 'node:fs';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') throw new Error(`environment variable ${name} is not set`);
  return v;
};
const BASE = env('BASE_URL').replace(/\/$/, '');
const LOGIN = env('LOGIN');
const PASSWORD = env('PASSWORD');
const ROOM = env('ROOM');
const SHOTS = env('SHOTS');
const TONE_WAV = env('TONE_WAV');
const EXPECT_HZ = Number(env('EXPECT_HZ'));
const HOLD_MS = Number(env('HOLD_MS', '6000'));
const HOLD_FILE = process.env.HOLD_FILE || null;
const GUEST_LINK = process.env.GUEST_LINK || null; // optional: a personal link to join from in a second context
fs.mkdirSync(SHOTS, { recursive: true });
if (!fs.existsSync(TONE_WAV)) throw new Error(`TONE_WAV ${TONE_WAV} does not exist`);
if (!Number.isFinite(EXPECT_HZ) || EXPECT_HZ <= 0) throw new Error(`EXPECT_HZ is not a frequency: ${process.env.EXPECT_HZ}`);

const WAIT = 20_000;          // the longest any single wait may take
const CONNECT_LIMIT = 10_000; // click → connected
const CUT_MS = 5_000;         // how long the signalling is cut off during the reconnect
const secs = (ms) => (ms / 1000).toFixed(2) + ' s';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
    return await (await page.waitForFunction(fn, arg, { timeout, polling: 100 })).jsonValue();
  } catch {
    const state = await page.evaluate(() => {
      const sp = window.konferenzSoftphone;
      return sp ? { state: sp.state, error: sp.error, message: sp.errorMessage, call: sp.call, pc: sp.pc && sp.pc.connectionState } : null;
    }).catch(() => null);
    throw new Failed(`never true within ${timeout} ms: ${what} (softphone: ${JSON.stringify(state)})`);
  }
}

/** The softphone's state as the page has it. */
const phoneState = (page) => page.evaluate(() => {
  const sp = window.konferenzSoftphone;
  return sp ? {
    state: sp.state, call: sp.call, error: sp.error, message: sp.errorMessage, muted: sp.muted,
    trackEnabled: sp.track ? sp.track.enabled : null, pc: sp.pc ? sp.pc.connectionState : null,
    level: sp.level, remoteLevel: sp.remoteLevel, audioInDom: !!(sp.audio && sp.audio.isConnected),
  } : null;
});

/**
 * Listens to the softphone's remote audio through an AnalyserNode (8192-point FFT) until the strongest
 * component between 100 Hz and 7 kHz is within ±30 Hz of `hz` and ≥ 20 dB above anything else more than
 * 100 Hz away from it, three times in a row (0.6 s).
 */
async function hear(page, hz) {
  const result = await page.evaluate(async ({ hz, timeout }) => {
    const sp = window.konferenzSoftphone;
    if (!sp || !sp.remoteTrack) return { error: 'the softphone has no remote track' };
    const ctx = new AudioContext();
    await ctx.resume();
    const source = ctx.createMediaStreamSource(new MediaStream([sp.remoteTrack]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0;
    source.connect(analyser);
    const bins = new Float32Array(analyser.frequencyBinCount);
    const binHz = ctx.sampleRate / analyser.fftSize;
    const lo = Math.floor(100 / binHz);
    const hi = Math.min(bins.length - 2, Math.ceil(7000 / binHz));
    const started = performance.now();
    let good = 0;
    let last = null;
    try {
      while (performance.now() - started < timeout) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        analyser.getFloatFrequencyData(bins);
        let at = lo;
        for (let i = lo; i <= hi; i++) if (bins[i] > bins[at]) at = i;
        const [a, b, c] = [bins[at - 1], bins[at], bins[at + 1]];
        const shift = Number.isFinite(a) && Number.isFinite(c) && a - 2 * b + c !== 0 ? 0.5 * (a - c) / (a - 2 * b + c) : 0;
        const peakHz = (at + shift) * binHz;
        let rest = -Infinity;
        for (let i = lo; i <= hi; i++) if (Math.abs(i - at) * binHz > 100 && bins[i] > rest) rest = bins[i];
        last = { hz: Math.round(peakHz), peakDb: Math.round(b * 10) / 10, restDb: Math.round(rest * 10) / 10 };
        const ok = Math.abs(peakHz - hz) <= 30 && b > -75 && b - rest >= 20;
        good = ok ? good + 1 : 0;
        if (good >= 3) return { ...last, ms: Math.round(performance.now() - started) };
      }
      return { error: 'no clear tone', last };
    } finally {
      source.disconnect();
      ctx.close();
    }
  }, { hz, timeout: WAIT });
  if (result.error) {
    const last = result.last ? `; last spectrum: strongest ${result.last.hz} Hz at ${result.last.peakDb} dB, the rest up to ${result.last.restDb} dB` : '';
    throw new Failed(`the phone's ${hz} Hz tone was not heard within ${WAIT} ms: ${result.error}${last}`);
  }
  return result;
}

const pageErrors = [];
let page = null;

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${TONE_WAV}`, '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['microphone'], { origin: BASE });
    // The fake microphone plays a pure tone: no echo cancellation, noise suppression or gain control.
    await context.addInitScript(() => { window.KONFERENZ_TEST_RAW_AUDIO = true; });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      // Answers the page handles itself, and the requests this test cuts off on purpose.
      if (/Failed to load resource: (the server responded with a status of (401|403|404|409)|net::ERR_FAILED)/.test(text)) return;
      pageErrors.push(`console: ${text}`);
    });
    await scenario();
    if (GUEST_LINK) await guest(browser);
    await refused();
    check(pageErrors.length === 0, `errors in the page:\n${pageErrors.join('\n')}`);
    console.log('DONE');
  } catch (e) {
    if (page) {
      try { await page.screenshot({ path: path.join(SHOTS, 'FAILED-softphone.png'), fullPage: true }); } catch { /* closed */ }
    }
    throw e;
  } finally {
    await browser.close();
  }
}

async function scenario() {
  // Log in and open the room.
  await page.goto(BASE + '/');
  await see(page.getByRole('heading', { name: 'Log in to konferenz', level: 1 }), 'the login page');
  await page.getByLabel('Login', { exact: true }).fill(LOGIN);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await see(page.getByLabel('Room', { exact: true }), 'the room selector after logging in');
  await page.getByLabel('Room', { exact: true }).selectOption(ROOM);
  await until(page, (room) => location.hash === `#/room/${room}`, ROOM, `the window of room ${ROOM}`);
  await see(page.getByText('Live', { exact: true }), 'the live connection badge');

  // Dial in › In this browser.
  const dialIn = page.getByRole('button', { name: 'Dial in', exact: true });
  await dialIn.click();
  const inBrowser = page.getByRole('menuitem', { name: 'In this browser', exact: true });
  await see(inBrowser, 'the "In this browser" choice');
  await see(page.getByRole('menuitem', { name: 'Call my phone', exact: true }), 'the "Call my phone" choice');
  const clicked = Date.now();
  await inBrowser.click();
  const panel = page.locator('section.softphone');
  await see(panel, 'the browser call panel');
  await see(panel.getByText('You are in the conference from this browser', { exact: true }), 'the browser call connected');
  const connectedMs = Date.now() - clicked;
  check(connectedMs <= CONNECT_LIMIT, `connecting took ${secs(connectedMs)} (more than ${secs(CONNECT_LIMIT)})`);
  const first = await phoneState(page);
  check(first && first.state === 'connected' && Number.isInteger(first.call), `the softphone after connecting: ${JSON.stringify(first)}`);
  check(first.audioInDom, 'the softphone\'s <audio> element is not in the page');
  console.log(`connected in ${secs(connectedMs)}`);
  console.log(`CONNECTED call=${first.call}`);
  const holdFrom = Date.now();

  // Hear the phone's tone in the softphone's remote audio; the meter moves with the microphone.
  const heard = await hear(page, EXPECT_HZ);
  console.log(`heard the phone's tone at ${heard.hz} Hz (${heard.peakDb} dB, the rest ≤ ${heard.restDb} dB, after ${secs(heard.ms)})`);
  const meter = panel.getByRole('meter', { name: 'Microphone level', exact: true });
  await see(meter, 'the microphone level meter');
  await until(page, () => Number(document.querySelector('section.softphone [role=meter]')?.getAttribute('aria-valuenow')) > 5,
    null, 'the microphone level meter shows the fake microphone\'s tone');
  await see(panel.getByLabel('Microphone', { exact: true }), 'the microphone choice');
  const hasSink = await page.evaluate(() => 'setSinkId' in HTMLMediaElement.prototype);
  if (hasSink) await see(panel.getByLabel('Speaker', { exact: true }), 'the speaker choice');
  await page.screenshot({ path: path.join(SHOTS, 's30-softphone.png'), animations: 'disabled' });

  // Hold while the caller records what the phone hears.
  if (HOLD_FILE) {
    const limit = Date.now() + 120_000;
    while (!fs.existsSync(HOLD_FILE)) {
      check(Date.now() < limit, `HOLD_FILE ${HOLD_FILE} did not appear within 120 s`);
      await sleep(100);
    }
  } else {
    await sleep(Math.max(0, HOLD_MS - (Date.now() - holdFrom)));
  }
  const held = await phoneState(page);
  check(held.state === 'connected' && held.call === first.call, `the call did not hold: ${JSON.stringify(held)}`);

  // Reconnect: the connection goes away while the signalling is cut off for 5 s; the same participant comes back.
  console.log('RECONNECTING');
  let cutOff = 0;
  const cut = (route) => { cutOff += 1; return route.abort(); };
  await page.route('**/api/v1/rooms/*/browser', cut);
  const lost = Date.now();
  await page.evaluate(() => window.konferenzSoftphone.pc.close());
  await see(panel.getByText('Reconnecting…', { exact: true }), 'the panel saying "Reconnecting…"', 5_000);
  await sleep(Math.max(0, CUT_MS - (Date.now() - lost)));
  await page.unroute('**/api/v1/rooms/*/browser', cut);
  check(cutOff >= 2, `only ${cutOff} reconnect attempt(s) while the signalling was cut off for ${secs(CUT_MS)}`);
  await see(panel.getByText('You are in the conference from this browser', { exact: true }), 'the browser call connected again');
  const again = await until(page, () => {
    const sp = window.konferenzSoftphone;
    return sp && sp.state === 'connected' && sp.pc && sp.pc.connectionState === 'connected' ? { call: sp.call } : null;
  }, null, 'the softphone connected again');
  check(again.call === first.call, `the reconnect made a new participant: call ${again.call}, was ${first.call}`);
  console.log(`reconnected call=${again.call} after ${secs(Date.now() - lost)} (${cutOff} attempts cut off)`);
  const heardAgain = await hear(page, EXPECT_HZ);
  console.log(`heard the phone's tone again at ${heardAgain.hz} Hz (${heardAgain.peakDb} dB, the rest ≤ ${heardAgain.restDb} dB)`);
  await page.screenshot({ path: path.join(SHOTS, 's31-softphone-reconnected.png'), animations: 'disabled' });

  // Mute and unmute.
  const mute = panel.getByRole('button', { name: 'Mute', exact: true });
  check(await mute.getAttribute('aria-pressed') === 'false', 'the Mute button starts pressed');
  await mute.click();
  await until(page, () => document.querySelector('section.softphone .soft-mute')?.getAttribute('aria-pressed') === 'true', null, 'Mute pressed');
  let s = await phoneState(page);
  check(s.muted === true && s.trackEnabled === false, `muted, but the softphone says ${JSON.stringify(s)}`);
  await see(panel.getByText('Muted: the others do not hear you.', { exact: true }), 'the "Muted" note');
  await until(page, () => Number(document.querySelector('section.softphone [role=meter]')?.getAttribute('aria-valuenow')) === 0,
    null, 'the level meter at zero while muted');
  await mute.click();
  await until(page, () => document.querySelector('section.softphone .soft-mute')?.getAttribute('aria-pressed') === 'false', null, 'Mute released');
  s = await phoneState(page);
  check(s.muted === false && s.trackEnabled === true, `unmuted, but the softphone says ${JSON.stringify(s)}`);
  console.log('muted and unmuted');

  // German and a phone-sized screen: the window is drawn anew, the call stays.
  await page.getByRole('button', { name: 'DE', exact: true }).click();
  await see(panel.getByRole('heading', { name: 'Anruf im Browser', exact: true }), 'the German panel');
  await see(panel.getByText('Sie sind über diesen Browser in der Konferenz', { exact: true }), 'the German state');
  await see(panel.getByRole('button', { name: 'Stummschalten', exact: true }), 'the German Mute button');
  await see(panel.getByRole('button', { name: 'Verlassen', exact: true }), 'the German Leave button');
  await see(panel.getByRole('meter', { name: 'Mikrofonpegel', exact: true }), 'the German level meter');
  await see(panel.getByLabel('Mikrofon', { exact: true }), 'the German microphone choice');
  await page.setViewportSize({ width: 375, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  check(overflow <= 376, `the page is ${overflow} px wide at 375 px`);
  await page.getByRole('button', { name: 'Einwählen', exact: true }).click();
  await see(page.getByRole('menuitem', { name: 'In diesem Browser', exact: true }), 'the German "In this browser"');
  await see(page.getByRole('menuitem', { name: 'Mein Telefon anrufen', exact: true }), 'the German "Call my phone"');
  const menuRight = await page.getByRole('menu').evaluate((el) => el.getBoundingClientRect().right);
  check(menuRight <= 375, `the dial-in menu reaches ${Math.round(menuRight)} px at 375 px`);
  await page.keyboard.press('Escape');
  await gone(page.getByRole('menu'), 'the dial-in menu after Escape');
  await page.screenshot({ path: path.join(SHOTS, 's32-softphone-phone-de.png'), fullPage: true, animations: 'disabled' });
  s = await phoneState(page);
  check(s.state === 'connected' && s.call === first.call, `the language switch touched the call: ${JSON.stringify(s)}`);
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('button', { name: 'EN', exact: true }).click();
  await see(panel.getByRole('heading', { name: 'Browser call', exact: true }), 'the English panel again');

  // Leave.
  const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE' && r.url().endsWith(`/browser/${first.call}`), { timeout: WAIT });
  await panel.getByRole('button', { name: 'Leave', exact: true }).click();
  const answer = await deleted;
  check(answer.status() === 204, `DELETE of the browser call answered ${answer.status()}`);
  await gone(panel, 'the browser call panel after Leave');
  s = await phoneState(page);
  check(s.state === 'ended' && !s.audioInDom, `after Leave the softphone says ${JSON.stringify(s)}`);
  console.log('left');
}

/**
 * A browser that refuses the microphone (headless Chromium without the fake permission UI
 * denies getUserMedia): "In this browser" must say so in plain words and offer to try again,
 * and nobody joins.
 */
async function refused() {
  const denying = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--use-fake-device-for-media-stream'],
  });
  try {
    const context = await denying.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
    const p = await context.newPage();
    p.setDefaultTimeout(WAIT);
    await p.goto(BASE + '/');
    await p.getByLabel('Login', { exact: true }).fill(LOGIN);
    await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await p.getByRole('button', { name: 'Log in', exact: true }).click();
    await see(p.getByLabel('Room', { exact: true }), 'the room selector (refusing browser)');
    await p.getByLabel('Room', { exact: true }).selectOption(ROOM);
    await see(p.getByText('Live', { exact: true }), 'the live badge (refusing browser)');
    await p.getByRole('button', { name: 'Dial in', exact: true }).click();
    await p.getByRole('menuitem', { name: 'In this browser', exact: true }).click();
    const panel = p.locator('section.softphone');
    await see(panel.getByText('Your browser refused the microphone. Allow it in the address bar and try again.', { exact: true }),
      'the "microphone refused" message');
    await see(panel.getByRole('button', { name: /Try again/ }), 'a "Try again" button');
    const state = await p.evaluate(() => window.konferenzSoftphone && { state: window.konferenzSoftphone.state, error: window.konferenzSoftphone.error, call: window.konferenzSoftphone.call });
    check(state && state.error === 'mic-denied' && !state.call, `after the refusal the softphone says ${JSON.stringify(state)}`);
    await p.screenshot({ path: path.join(SHOTS, 's34-softphone-mic-refused.png'), animations: 'disabled' });
    console.log('microphone refused: said so, nobody joined');
  } finally {
    await denying.close();
  }
}

/** A guest on their personal link: "Join in browser", hear the phone, close the tab. */
async function guest(browser) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 } });
  await context.grantPermissions(['microphone'], { origin: BASE });
  await context.addInitScript(() => { window.KONFERENZ_TEST_RAW_AUDIO = true; });
  const guestPage = await context.newPage();
  guestPage.setDefaultTimeout(WAIT);
  guestPage.on('pageerror', (e) => pageErrors.push(`guest: ${e.message}`));
  await guestPage.goto(GUEST_LINK);
  const join = guestPage.getByRole('button', { name: 'Join in browser', exact: true });
  await see(join, 'the "Join in browser" button on the personal link page');
  const clicked = Date.now();
  await join.click();
  const panel = guestPage.locator('section.softphone');
  await see(panel.getByText('You are in the conference from this browser', { exact: true }), 'the guest connected');
  const s = await until(guestPage, () => {
    const sp = window.konferenzSoftphone;
    return sp && sp.state === 'connected' && sp.pc && sp.pc.connectionState === 'connected' ? { call: sp.call } : null;
  }, null, 'the guest\'s softphone connected');
  console.log(`GUEST CONNECTED call=${s.call} in ${secs(Date.now() - clicked)}`);
  const heard = await hear(guestPage, EXPECT_HZ);
  console.log(`the guest heard the phone's tone at ${heard.hz} Hz`);
  await guestPage.screenshot({ path: path.join(SHOTS, 's33-link-softphone.png'), fullPage: true, animations: 'disabled' });
  // The guest closes the tab instead of pressing Leave: the page says goodbye on its way out.
  await guestPage.close({ runBeforeUnload: true });
  console.log('guest closed the tab');
  await context.close();
}

main().catch((e) => {
  process.exitCode = 1;
  console.log(`FAIL ${e instanceof Failed ? e.message : e.stack || e}`);
  if (pageErrors.length) console.log(`page errors: ${pageErrors.join(' | ')}`);
});
