// HTTP calls to hbd's /api/0 (main thread). The session cookie travels with every
// same-origin request; a 401 sends the browser to the login page once.

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

let redirecting = false;

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return '';
}

function loginUrl() {
  const next = location.pathname + location.search;
  return `/login?next=${encodeURIComponent(next)}`;
}

/**
 * api('/hosts') -> parsed JSON. opts: {method, body (object -> JSON), noRedirect}.
 * Throws ApiError with the server's {"error"} text on non-2xx.
 */
export async function api(path, opts = {}) {
  return (await apiResponse(path, opts)).data;
}

/** The same as api(), answering {data, headers} for the response headers (X-Total-Count...). */
export async function apiResponse(path, opts = {}) {
  const init = { method: opts.method || 'GET', credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (init.method !== 'GET' && init.method !== 'HEAD') {
    // hbd checks the double-submit CSRF token on cookie-authenticated writes.
    const csrf = cookie('hb_csrf');
    if (csrf) init.headers['X-CSRF-Token'] = csrf;
  }
  if (opts.body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  const url = path.startsWith('/api/') ? path : `/api/0${path}`;
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, `server unreachable (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: text.slice(0, 200) }; }
  }
  if (res.status === 401 && !opts.noRedirect && location.pathname !== '/login') {
    if (!redirecting) { redirecting = true; location.assign(loginUrl()); }
    throw new ApiError(401, 'login required');
  }
  if (!res.ok) {
    const msg = (data && data.error) || `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg, Number(res.headers.get('Retry-After')) || 0);
  }
  return { data, headers: res.headers };
}

let mePromise = null;
/**
 * The logged-in user: {username, full_name, admin, auth_enabled}. A server without
 * /api/0/me (or without users) is treated as open: admin, no auth.
 */
export function getMe() {
  if (!mePromise) {
    mePromise = api('/me').then(
      (me) => ({ username: null, admin: false, auth_enabled: true, ...me }),
      (e) => {
        if (e.status === 401) throw e;
        if (e.status === 404) return { username: null, admin: true, auth_enabled: false };
        throw e;
      });
  }
  return mePromise;
}

/** Array of hosts whatever the envelope ([...] or {"hosts":[...]}). */
export function hostList(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.hosts)) return data.hosts;
  return [];
}

export async function logout() {
  try { await api('/auth/logout', { method: 'POST', noRedirect: true }); } catch { /* already gone */ }
  location.assign('/login');
}
