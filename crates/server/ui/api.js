// api.js — fetch wrapper for /api/v1: JSON bodies, the CSRF header, error objects, the "logged out" hook.
import { t } from '/ui/i18n.js';

const BASE = '/api/v1';
let csrf = null;
let onUnauthorized = () => {};

/** The CSRF token from the login or session answer; sent with every request that changes something. */
export function setCsrf(token) { csrf = token || null; }

/** The CSRF token in use (null before login and on the personal-link page), for requests made without `request`. */
export function csrfToken() { return csrf; }

/** Called when any request answers 401 (the session ended): the app shows the login page. */
export function onAuthLost(fn) { onUnauthorized = fn; }

/** An error answer: `message` is the server's sentence for the user. */
export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.retryAfter = retryAfter;
  }
}

/**
 * request('POST', '/rooms/800/lock', {json: {locked: true}}) → {status, data, headers}.
 * opts.body + opts.type send a raw body (a WAV or CSV file); opts.session = false skips the
 * 401 hook (the login form and the personal-link page handle 401 themselves).
 */
export async function request(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = opts.type || 'application/octet-stream';
    body = opts.body;
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;

  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', t('error.network'), null, null);
  }
  let data = null;
  if (response.status !== 204) {
    const text = await response.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
  }
  if (!response.ok) {
    const e = (data && typeof data.error === 'object' && data.error) || {};
    const retry = parseInt(response.headers.get('Retry-After') || '', 10);
    const message = e.message || (typeof (data && data.error) === 'string' ? data.error : null) || fallbackMessage(response.status);
    const err = new ApiError(response.status, e.code || String(response.status), message, e.field, Number.isFinite(retry) ? retry : null);
    if (response.status === 401 && opts.session !== false) onUnauthorized(err);
    throw err;
  }
  return { status: response.status, data, headers: response.headers };
}

function fallbackMessage(status) {
  if (status === 401) return t('error.unauthorized');
  if (status === 403) return t('error.forbidden');
  if (status === 404) return t('error.notFound');
  if (status === 429) return t('error.tooMany');
  if (status >= 500) return t('error.server');
  return t('error.generic', { status });
}

export const get = async (path, opts) => (await request('GET', path, opts)).data;
export const post = async (path, json, opts = {}) => (await request('POST', path, { ...opts, json })).data;
export const patch = async (path, json) => (await request('PATCH', path, { json })).data;
export const put = async (path, json) => (await request('PUT', path, { json })).data;
export const del = async (path) => (await request('DELETE', path)).data;

/** Encodes one path segment ("+41…" and e-mail-like user numbers stay intact). */
export const seg = (s) => encodeURIComponent(String(s));
