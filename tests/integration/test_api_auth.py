"""Sessions against a real hbd: login, logout, token expiry, login rate limiting (429 + Retry-After),
cookie sessions with CSRF protection, CORS allow-list, browser redirects, static files without path
traversal, and the open (no users) mode of docs/USERS.md."""

import time

import pytest

from api_helpers import PASSWORD, header, login, request, users_config
from hbtest import Hbd


@pytest.fixture(scope="module")
def hbd():
    cfg = {
        "users": users_config(alice=True, bob=False, eve=False),
        "hosts": {"web1": {"owner": "bob"}},
        "session_ttl": 2,
        "cors_origins": ["https://dash.example"],
    }
    with Hbd(cfg) as h:
        yield h


def test_login_sets_cookies_and_token(hbd):
    st, headers, _, body = request(hbd.hbd_port, "POST", "/api/0/auth/login",
                                   {"username": "bob", "password": PASSWORD})
    assert st == 200
    assert len(body["token"]) == 64 and body["username"] == "bob" and body["csrf_token"]
    cookies = header(headers, "Set-Cookie")
    session = [c for c in cookies if c.startswith("hb_session=")][0]
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Path=/" in session
    assert session.startswith(f"hb_session={body['token']};")
    csrf = [c for c in cookies if c.startswith("hb_csrf=")][0]
    assert "HttpOnly" not in csrf


def test_wrong_password_and_unknown_user(hbd):
    st, _, _, body = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": "bob", "password": "nope"})
    assert st == 401 and body == {"error": "invalid username or password"}
    st, _, _, body2 = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": "zed", "password": "x"})
    assert st == 401 and body2 == body  # same answer: no account enumeration
    st, _, _, body = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": "bob"})
    assert st == 400
    st, _, _, body = request(hbd.hbd_port, "POST", "/api/0/auth/login", b"username=bob&password=x",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert st == 415  # only JSON bodies are accepted (a form post is how a cross-site page writes)


def test_bearer_and_logout(hbd):
    tok, _, _ = login(hbd.hbd_port, "bob")
    assert request(hbd.hbd_port, "GET", "/api/0/me", token=tok)[0] == 200
    assert request(hbd.hbd_port, "GET", "/api/0/me", token="f" * 64)[0] == 401
    assert request(hbd.hbd_port, "GET", "/api/0/me")[0] == 401
    st, headers, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/logout", token=tok)
    assert st == 200
    assert any(c.startswith("hb_session=;") and "Max-Age=0" in c for c in header(headers, "Set-Cookie"))
    assert request(hbd.hbd_port, "GET", "/api/0/me", token=tok)[0] == 401


def test_session_expires(hbd):
    tok, cookies, body = login(hbd.hbd_port, "bob")
    assert body["expires"] - time.time() <= 2.5
    assert request(hbd.hbd_port, "GET", "/api/0/hosts", token=tok)[0] == 200
    # Expiry is the behaviour under test: valid until the expiry the login announced, 401 from then on.
    codes = []

    def status():
        codes.append(request(hbd.hbd_port, "GET", "/api/0/hosts", token=tok)[0])
        return codes[-1]
    hbd.wait_for(status, body["expires"] - time.time() + 2, "the session's expiry", ok=lambda st: st == 401)
    assert time.time() >= body["expires"] - 0.05, "expired before the announced time"
    assert set(codes[:-1]) <= {200}, codes
    assert request(hbd.hbd_port, "GET", "/api/0/hosts", token=tok)[0] == 401
    assert request(hbd.hbd_port, "GET", "/api/0/hosts", cookies=cookies)[0] == 401


def test_cookie_writes_need_csrf_token(hbd):
    _, cookies, body = login(hbd.hbd_port, "bob")
    # reads with the cookie alone work
    assert request(hbd.hbd_port, "GET", "/api/0/hosts/web1/access", cookies=cookies)[0] == 200
    change = {"monitors": ["eve"]}
    st, _, _, err = request(hbd.hbd_port, "PUT", "/api/0/hosts/web1/access", change, cookies=cookies)
    assert st == 403 and "CSRF" in err["error"]
    st, _, _, _ = request(hbd.hbd_port, "PUT", "/api/0/hosts/web1/access", change, cookies=cookies,
                          headers={"X-CSRF-Token": "0" * 32})
    assert st == 403
    acc = request(hbd.hbd_port, "GET", "/api/0/hosts/web1/access", cookies=cookies)[3]
    assert acc["monitors"] == []  # nothing changed
    st, _, _, acc = request(hbd.hbd_port, "PUT", "/api/0/hosts/web1/access", change, cookies=cookies,
                            headers={"X-CSRF-Token": cookies["hb_csrf"]})
    assert st == 200 and acc["monitors"] == ["eve"]
    # a cross-site page cannot write even with the token
    st, _, _, _ = request(hbd.hbd_port, "PUT", "/api/0/hosts/web1/access", change, cookies=cookies,
                          headers={"X-CSRF-Token": cookies["hb_csrf"], "Origin": "https://evil.example"})
    assert st == 403
    # same-origin Origin is fine
    st, _, _, _ = request(hbd.hbd_port, "PUT", "/api/0/hosts/web1/access", change, cookies=cookies,
                          headers={"X-CSRF-Token": cookies["hb_csrf"], "Origin": f"http://127.0.0.1:{hbd.hbd_port}"})
    assert st == 200


def test_cors_allow_list(hbd):
    tok, _, _ = login(hbd.hbd_port, "bob")
    st, headers, _, _ = request(hbd.hbd_port, "OPTIONS", "/api/0/hosts",
                                headers={"Origin": "https://dash.example", "Access-Control-Request-Method": "GET"})
    assert st == 204
    assert header(headers, "Access-Control-Allow-Origin") == ["https://dash.example"]
    assert "Authorization" in header(headers, "Access-Control-Allow-Headers")[0]
    st, headers, _, _ = request(hbd.hbd_port, "GET", "/api/0/hosts", token=tok, headers={"Origin": "https://dash.example"})
    assert st == 200 and header(headers, "Access-Control-Allow-Origin") == ["https://dash.example"]
    st, headers, _, _ = request(hbd.hbd_port, "GET", "/api/0/hosts", token=tok, headers={"Origin": "https://evil.example"})
    assert header(headers, "Access-Control-Allow-Origin") == []
    st, _, _, _ = request(hbd.hbd_port, "OPTIONS", "/api/0/hosts", headers={"Origin": "https://evil.example"})
    assert st == 403


def test_browser_redirects_and_static(hbd):
    st, headers, _, _ = request(hbd.hbd_port, "GET", "/live")
    assert st == 302 and header(headers, "Location") == ["/login?next=%2Flive"]
    st, headers, _, _ = request(hbd.hbd_port, "GET", "/plugins/web1")
    assert st == 302
    st, headers, raw, _ = request(hbd.hbd_port, "GET", "/login")
    assert st == 200 and b"<" in raw
    _, cookies, _ = login(hbd.hbd_port, "bob")
    for page in ("/live", "/alerts", "/settings", "/plugins", "/plugins/web1"):
        st, headers, raw, _ = request(hbd.hbd_port, "GET", page, cookies=cookies)
        assert st == 200 and header(headers, "Content-Type")[0].startswith("text/html"), page
    for bad in ("/static/../CMakeLists.txt", "/static/%2e%2e/%2e%2e/CMakeLists.txt", "/static/..%2f..%2fCMakeLists.txt",
                "/static/.hidden", "/static/%00", "/static/"):
        st, _, raw, body = request(hbd.hbd_port, "GET", bad)
        assert st in (400, 404), (bad, st)
        assert b"cmake_minimum_required" not in raw
    assert request(hbd.hbd_port, "GET", "/nope")[0] == 404


def test_rate_limit_per_user(hbd):
    for _ in range(5):
        st, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": "eve", "password": "bad"})
        assert st == 401
    st, headers, _, body = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": "eve", "password": PASSWORD})
    assert st == 429 and "error" in body
    assert 1 <= int(header(headers, "Retry-After")[0]) <= 300
    # another user from the same address is not locked out by eve's failures
    assert login(hbd.hbd_port, "alice")[0]


def test_rate_limit_per_address(hbd):
    # 20 failures per address in the window: spread over many user names
    codes = []
    for i in range(22):
        st, _, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": f"u{i}", "password": "bad"})
        codes.append(st)
    assert 429 in codes and codes[0] == 401
    st, headers, _, _ = request(hbd.hbd_port, "POST", "/api/0/auth/login", {"username": "alice", "password": PASSWORD})
    assert st == 429 and header(headers, "Retry-After")
    assert "failed login" in hbd.log() and PASSWORD not in hbd.log()


def test_open_mode_without_users():
    with Hbd({"hosts": {"web1": {}}}) as h:
        assert request(h.hbd_port, "GET", "/api/0/hosts")[0] == 200
        st, _, _, me = request(h.hbd_port, "GET", "/api/0/me")
        assert st == 200 and me["auth_enabled"] is False
        assert request(h.hbd_port, "GET", "/live")[0] == 200
        assert request(h.hbd_port, "GET", "/api/0/hosts/web1/access")[0] == 200
        assert request(h.hbd_port, "GET", "/metrics")[0] == 200
        st, _, _, _ = request(h.hbd_port, "POST", "/api/0/auth/login", {"username": "a", "password": "b"})
        assert st == 400
