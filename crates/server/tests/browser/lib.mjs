// lib.mjs — helpers for the browser scripts that use it (controls.mjs): Debian's headless
// Chromium through playwright-core, a page per user with its errors collected, logging in,
// waiting for what the user should see (with a message saying what was expected),
// screenshots into SHOTS, and the HTTP API with the harness's bearer token.

import { chromium } from 'playwright-core';
import path from 'node:path';
import fs from 'node:fs';

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
};

export const WAIT = 20_000;          // the longest any single wait may take
const started = Date.now();
export const secs = (ms) => (ms / 1000).toFixed(2) + ' s';
export const log = (line) => console.log(`[${secs(Date.now() - started)}] ${line}`);

export class Failed extends Error {}
export function check(ok, message) {
  if (!ok) throw new Failed(message);
}

/** Waits until `locator` is visible; the message says what the user expected to see. */
export async function see(locator, what, timeout = WAIT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    throw new Failed(`not seen within ${timeout} ms: ${what}`);
  }
}

/** Waits until `locator` is gone (detached or hidden). */
export async function gone(locator, what, timeout = WAIT) {
  try {
    await locator.first().waitFor({ state: 'hidden', timeout });
  } catch {
    throw new Failed(`still there after ${timeout} ms: ${what}`);
  }
}

/** Polls `fn` in the page (every animation frame) until it returns something truthy. */
export async function until(page, fn, arg, what, timeout = WAIT) {
  try {
    return await (await page.waitForFunction(fn, arg, { timeout, polling: 'raf' })).jsonValue();
  } catch {
    throw new Failed(`never true within ${timeout} ms: ${what}`);
  }
}

/** Polls `fn` (in Node) every 50 ms until it returns something truthy. */
export async function eventually(fn, what, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Failed(`never true within ${timeout} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The browser, pages by name (for the failure screenshots) and the errors they logged. */
export class Browser {
  constructor(shots, prefix) {
    this.shots = shots;
    this.prefix = prefix;
    this.pages = new Map();
    this.errors = [];
    this.shotNo = 0;
    fs.mkdirSync(shots, { recursive: true });
    // Screenshots of an earlier run would mix with this one's.
    const mine = new RegExp(`^${prefix}\\d\\d-.*\\.png$`);
    for (const f of fs.readdirSync(shots)) if (mine.test(f)) fs.rmSync(path.join(shots, f));
  }

  async launch() {
    this.browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }

  /** A page in a fresh context (no cookies, no saved language) with the given browser locale. */
  async newPage(name, { locale = 'en-US', viewport = { width: 1280, height: 800 } } = {}) {
    const context = await this.browser.newContext({ locale, viewport });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (e) => this.errors.push(`${name}: ${e.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      // An answer the page handles itself (401 before login, 403/404 on purpose) is logged by
      // Chromium as a failed resource; anything else (CSP violations, exceptions) counts.
      if (/Failed to load resource: the server responded with a status of (401|403|404|409|429)/.test(text)) return;
      this.errors.push(`${name}: console: ${text}`);
    });
    this.pages.set(name, page);
    return page;
  }

  async shot(page, name, opts = {}) {
    this.shotNo += 1;
    const file = path.join(this.shots, `${this.prefix}${String(this.shotNo).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, animations: 'disabled', ...opts });
    return path.basename(file);
  }

  /** Screenshots of every open page, named FAILED-<page>. */
  async failureShots() {
    for (const [name, page] of this.pages) {
      try { await this.shot(page, `FAILED-${name}`, { fullPage: true }); } catch { /* closed */ }
    }
  }

  async close() {
    if (this.browser) await this.browser.close();
  }
}

/** Opens the login page and logs in with the mouse. */
export async function logIn(page, base, login, password) {
  await page.goto(base + '/');
  await see(page.getByRole('heading', { name: 'Log in to konferenz', level: 1 }), 'the login page');
  await page.getByLabel('Login', { exact: true }).fill(login);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
}

/** The HTTP API as the harness's local administrator (bearer token). */
export function apiClient(base, token) {
  return async function api(method, path, body) {
    const response = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: response.status, json, text };
  };
}

/** A 16-bit PCM mono WAV file of `seconds` of a sine at `hz`. */
export function toneWav(hz, seconds, rate = 8000) {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);            // fmt chunk size
  buf.writeUInt16LE(1, 20);             // PCM
  buf.writeUInt16LE(1, 22);             // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);      // bytes per second
  buf.writeUInt16LE(2, 32);             // block align
  buf.writeUInt16LE(16, 34);            // bits per sample
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(Math.sin(2 * Math.PI * hz * i / rate) * 8000), 44 + i * 2);
  return buf;
}
