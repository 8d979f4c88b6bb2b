// The /login page: posts the form to /api/0/auth/login, shows the server's error,
// honours a 429 rate limit (button disabled for Retry-After seconds), then goes to ?next=.
import { api } from './api.js';

/** Only same-site paths: "/alerts" yes, "//evil.example" or "https://..." no. */
function nextPath() {
  const n = new URLSearchParams(location.search).get('next') || '/live';
  return n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/\\') && !n.startsWith('/login') ? n : '/live';
}

const form = document.getElementById('login-form');
const err = document.getElementById('login-error');
const btn = document.getElementById('login-submit');
let lockedUntil = 0;

function showError(text) {
  err.textContent = text;
  err.hidden = !text;
}

function lockFor(seconds) {
  lockedUntil = Date.now() + seconds * 1000;
  btn.disabled = true;
  const tick = () => {
    const left = Math.ceil((lockedUntil - Date.now()) / 1000);
    if (left <= 0) { btn.disabled = false; btn.textContent = 'Log in'; return; }
    btn.textContent = `Try again in ${left} s`;
    setTimeout(tick, 500);
  };
  tick();
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (Date.now() < lockedUntil) return;
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    showError('Enter your user name and password.');
    (username ? form.password : form.username).focus();
    return;
  }
  showError('');
  btn.disabled = true;
  try {
    await api('/auth/login', { method: 'POST', body: { username, password }, noRedirect: true });
    location.assign(nextPath());
  } catch (e) {
    btn.disabled = false;
    if (e.status === 429) {
      showError(e.message || 'Too many login attempts.');
      lockFor(e.retryAfter || 30);
    } else if (e.status === 401 || e.status === 403) {
      showError(e.message && e.message !== 'login required' ? e.message : 'Invalid user name or password.');
      form.password.select();
    } else {
      showError(`Login failed: ${e.message}`);
    }
  }
});

// Already logged in (or no users configured): go straight on.
api('/me', { noRedirect: true }).then((me) => {
  if (me && (me.username || me.auth_enabled === false)) location.replace(nextPath());
}, () => {});
