// zones.js — wall times in IANA time zones (the browser's Intl): a date and time typed for a zone → an instant with its offset, and dates shown in the viewer's zone.
import { lang } from '/ui/i18n.js';

const partsFormat = new Map();

/** The wall clock of instant `ms` in `zone`: {y, mo, d, h, mi, s}. */
export function wallParts(ms, zone) {
  let f = partsFormat.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    partsFormat.set(zone, f);
  }
  const p = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  return { y: Number(p.year), mo: Number(p.month), d: Number(p.day), h: Number(p.hour) % 24, mi: Number(p.minute), s: Number(p.second) };
}

/** The zone's offset from UTC at instant `ms`, in milliseconds (+01:00 → 3 600 000). */
export function offsetAt(ms, zone) {
  const whole = Math.floor(ms / 1000) * 1000;
  const p = wallParts(whole, zone);
  return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - whole;
}

/** True when `zone` is a time zone this browser knows. */
export function knownZone(zone) {
  if (!zone) return false;
  try { new Intl.DateTimeFormat('en', { timeZone: zone }); return true; } catch { return false; }
}

/** Every IANA zone the browser knows, the given ones included, sorted. */
export function allZones(...wanted) {
  let zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch { zones = []; }
  const set = new Set(zones);
  for (const z of ['UTC', browserZone(), ...wanted]) if (z) set.add(z);
  return [...set].sort((a, b) => a.localeCompare(b));
}

let chosenZone = null;

/** The time zone the user chose on the Account page (null: none; the browser's applies). */
export function setChosenZone(zone) { chosenZone = knownZone(zone) ? zone : null; }

/** The browser's time zone. */
export function browserZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; }
}

/** The viewer's own time zone: the one chosen on the Account page, else the browser's. */
export function viewerZone() {
  return chosenZone || browserZone();
}

/**
 * "2026-12-09" + "09:30" in "Europe/London" → the instant (ms). A wall time that does not
 * exist (the hour skipped when clocks go forward) lands on the equivalent later time.
 */
export function wallToInstant(date, time, zone) {
  const dm = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || '');
  const tm = /^(\d{2}):(\d{2})/.exec(time || '');
  if (!dm || !tm || !knownZone(zone)) return null;
  const guess = Date.UTC(Number(dm[1]), Number(dm[2]) - 1, Number(dm[3]), Number(tm[1]), Number(tm[2]));
  if (!Number.isFinite(guess)) return null;
  const first = offsetAt(guess, zone);
  let at = guess - first;
  const second = offsetAt(at, zone);
  if (second !== first) at = guess - second;
  return at;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** The instant as RFC 3339 with the zone's offset there: "2026-12-09T09:30:00+01:00". */
export function rfc3339In(ms, zone) {
  const p = wallParts(ms, zone);
  const off = Math.round(offsetAt(ms, zone) / 60000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The date and time fields' values for instant `ms` in `zone`: {date: "2026-12-09", time: "09:30"}. */
export function fieldsFor(ms, zone) {
  const p = wallParts(ms, zone);
  return { date: `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)}`, time: `${pad(p.h)}:${pad(p.mi)}` };
}

/** The next full hour at least half an hour away, as field values in `zone`. */
export function nextStart(zone) {
  const hour = 3600 * 1000;
  const at = Math.floor((Date.now() + 90 * 60 * 1000) / hour) * hour;
  // Zones with half-hour offsets: round their wall clock, not UTC's.
  const f = fieldsFor(at, zone);
  return { date: f.date, time: f.time.slice(0, 3) + '00' };
}

/** "Wed, 9 Dec 2026, 09:30 – 10:30" in `zone` (the viewer's when omitted). */
export function formatRange(startMs, endMs, zone, withZone = false) {
  const opts = { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' };
  opts.timeZone = zone || viewerZone();
  if (withZone) opts.timeZoneName = 'short';
  const f = new Intl.DateTimeFormat(lang(), opts);
  try { return f.formatRange(new Date(startMs), new Date(endMs)); } catch { return `${f.format(new Date(startMs))} – ${f.format(new Date(endMs))}`; }
}

/** "09:30" in `zone`. */
export function formatTime(ms, zone) {
  const opts = { hour: '2-digit', minute: '2-digit' };
  opts.timeZone = zone || viewerZone();
  return new Intl.DateTimeFormat(lang(), opts).format(new Date(ms));
}

/** "9 Dec 2026, 09:30" in the viewer's zone; for unix seconds. */
export function formatUnix(unix) {
  if (unix === null || unix === undefined) return '';
  return new Intl.DateTimeFormat(lang(), { dateStyle: 'medium', timeStyle: 'short', timeZone: viewerZone() }).format(new Date(unix * 1000));
}
