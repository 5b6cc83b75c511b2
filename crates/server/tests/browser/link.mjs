// link.mjs — a scheduled conference invitee's personal link page in Debian's headless
// Chromium: the title, the time in the viewer's zone (and the conference's), the .ics
// download (fetched and checked), and — the conference having been cancelled — no Call me.
// Started by tests/e2e_schedule_window.rs with LINK_URL (from a mailed invitation) and SHOTS.
import { chromium } from 'playwright-core';
import path from 'node:path';

const LINK = process.env.LINK_URL;
const SHOTS = process.env.SHOTS;
if (!LINK || !SHOTS) throw new Error('LINK_URL and SHOTS must be set');
const WAIT = 20_000;

function check(ok, message) {
  if (!ok) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ locale: 'en-US', timezoneId: 'America/New_York', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(LINK);
  await page.getByRole('heading', { name: 'Budget review', level: 1 }).waitFor({ timeout: WAIT });
  console.log('the link page names the conference');
  const when = await page.locator('#link-when').innerText();
  check(/2026|\d{4}/.test(when) || when.length > 10, `no time shown: ${when}`);
  const there = await page.getByText(/Europe\/London/).innerText();
  console.log(`time here: ${when}; ${there}`);
  await page.getByText('This conference was cancelled.').first().waitFor({ timeout: WAIT });
  check(await page.getByRole('button', { name: 'Call me' }).count() === 0, 'Call me offered for a cancelled conference');
  check(await page.getByRole('heading', { name: 'Dial in' }).count() === 0, 'dial-in details shown for a cancelled conference');
  const ics = page.getByRole('link', { name: /Add to calendar/ });
  const href = await ics.getAttribute('href');
  check(href && href.endsWith('/invite.ics'), `calendar link: ${href}`);
  const text = await page.evaluate(async (url) => {
    const r = await fetch(url);
    return `${r.status} ${r.headers.get('content-type')}\n${await r.text()}`;
  }, href);
  check(text.startsWith('200 text/calendar'), `calendar answer: ${text.slice(0, 80)}`);
  check(text.includes('BEGIN:VCALENDAR') && text.includes('METHOD:CANCEL') && text.includes('Budget review'), `calendar text: ${text.slice(0, 400)}`);
  console.log('the .ics download is the cancelled calendar entry');
  await page.screenshot({ path: path.join(SHOTS, 's19-link-page.png'), fullPage: true, animations: 'disabled' });
  await page.getByRole('button', { name: 'DE' }).click();
  await page.getByText('Diese Konferenz wurde abgesagt.').first().waitFor({ timeout: WAIT });
  await page.screenshot({ path: path.join(SHOTS, 's20-link-page-de.png'), fullPage: true, animations: 'disabled' });
  console.log('DONE');
} finally {
  await browser.close();
}
