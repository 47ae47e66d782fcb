#!/usr/bin/env python3
"""The console's front door and sessions (docs/console.md, "Who is asking"),
against a real `schakel serve`:

- / redirects to /ui/; /ui/ is the single page with ETag, 304 and gzip, or,
  in a binary built without the front end, a clear 404 text; every console
  answer carries the security headers;
- login sets the cookie sk_session (HttpOnly, SameSite=Strict, Path=/ui, no
  Secure over plain HTTP) and answers the CSRF token; /ui/api/me; logout;
- a change without or with a wrong X-CSRF-Token is 403; Basic credentials
  read but cannot change anything (403), a Bearer token can;
- under TLS the cookie is also Secure;
- a session ends when idle (--ui-idle, polled until 401) and when its account
  is disabled or given a new password;
- TOTP: enrolment over the API and from the CLI, login with a code computed
  here, a code used twice is refused;
- a metrics account has no console (403); wrong passwords hit the same login
  limits as TAXII (429 + Retry-After);
- the access log holds no cookie, CSRF token, password or token.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from console_util import (Node, Session, basic, bearer, own, secret_of,  # noqa: E402
                          totp)
from sklib import test_main, wait_for  # noqa: E402

SECURITY = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' "
                               "'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'self'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}

SECRETS = []  # every secret seen: none may be in the access log


def setup(node):
    node.partner("Alpha")
    node.account("pat", "Alpha", "pat-password")
    own(node, "ana", "analyst", "ana-password")
    own(node, "adm", "admin", "adm-password")
    own(node, "mon", "metrics", "mon-password")
    own(node, "tim", "viewer", "tim-password")
    own(node, "vic", "viewer", "vic-password")
    SECRETS.extend(["pat-password", "ana-password", "adm-password", "mon-password",
                    "tim-password", "vic-password"])


def secure(hd):
    return all(hd.get(k) == v for k, v in SECURITY.items())


def pages(node, R):
    st, hd, _ = node.request("GET", "/", accept=None)
    R.check(st == 302 and hd.get("location") == "/ui/", "/ redirects to /ui/", (st, hd))
    st, hd, body = node.request("GET", "/ui/", accept=None)
    R.check(secure(hd), "a page carries the security headers", hd)
    if st == 404:
        R.check(b"console not built into this binary (built with -DSK_UI=OFF)" in body,
                "without the front end /ui/ says so clearly", body[:300])
        return
    R.check(st == 200 and hd.get("cache-control") == "no-cache" and hd.get("etag"),
            "/ui/ is index.html, no-cache, with an ETag", (st, hd))
    etag = hd.get("etag")
    st2, hd2, _ = node.request("GET", "/ui/", accept=None, headers={"If-None-Match": etag})
    R.eq(st2, 304, "If-None-Match with its ETag: 304")
    st3, hd3, body3 = node.request("GET", "/ui/search/anything", accept=None)
    R.check(st3 == 200 and body3 == body, "a page of the single-page app is index.html", st3)
    st4, hd4, gz = node.request("GET", "/ui/", accept=None, headers={"Accept-Encoding": "gzip"})
    if hd4.get("content-encoding") == "gzip":
        import gzip
        R.check(gzip.decompress(gz) == body and hd4.get("etag") != etag,
                "gzip when accepted, with its own ETag", hd4)
    st5, _, _ = node.request("GET", "/ui/nothing.js", accept=None)
    R.eq(st5, 404, "a missing file (a dot in its name) is 404")


def login_logout(node, R):
    s = Session(node)
    st, hd, j = s.login("ana", "wrong-password")
    R.check(st == 401 and j and "error" in j and j.get("status") == 401
            and "www-authenticate" not in hd, "a wrong password: 401 JSON, no challenge",
            (st, j, hd))
    st, hd, j = s.login("ana", "ana-password")
    R.check(st == 200 and j.get("account") == "ana" and j.get("role") == "analyst"
            and j.get("csrf"), "login answers account, role and csrf", (st, j))
    c = s.set_cookie or ""
    flags = [f.strip() for f in c.split(";")]
    R.check(c.startswith("sk_session=") and "HttpOnly" in flags and "SameSite=Strict" in flags
            and "Path=/ui" in flags and "Secure" not in flags,
            "the cookie is HttpOnly, SameSite=Strict, Path=/ui (no Secure over HTTP)", c)
    R.check(secure(hd), "an API answer carries the security headers", hd)
    SECRETS.extend([s.cookie, s.csrf])
    st, _, me = s.call("GET", "me")
    R.check(st == 200 and me.get("account") == "ana" and me.get("csrf") == s.csrf
            and me.get("totp") is False and me.get("node", {}).get("name") == "Test CERT"
            and me["node"].get("identity", "").startswith("identity--"),
            "me: account, csrf, totp, node", me)
    st, _, j = s.call("POST", "logout", csrf=False)
    R.check(st == 403 and "X-CSRF-Token" in j.get("error", ""), "logout without CSRF: 403", j)
    st, _, j = s.call("POST", "logout", headers={"X-CSRF-Token": "x" * 43}, csrf=False)
    R.check(st == 403, "logout with a wrong CSRF token: 403", (st, j))
    st, hd, _ = s.call("POST", "logout")
    R.check(st == 204 and "Max-Age=0" in hd.get("set-cookie", ""), "logout: 204, cookie cleared",
            (st, hd))
    st, _, j = s.call("GET", "me")
    R.eq(st, 401, "after logout the cookie is worth nothing")
    st, _, _ = Session(node).call("GET", "me")
    R.eq(st, 401, "me without anything: 401")
    st, _, _ = Session(node).call("GET", "me", headers={"Cookie": "sk_session=" + "A" * 43})
    R.eq(st, 401, "a made-up session id: 401")


def credentials(node, R):
    anon = Session(node)
    st, _, me = anon.call("GET", "me", auth=basic("pat", "pat-password"))
    R.check(st == 200 and me.get("role") == "partner" and me.get("partner") == "Alpha"
            and "csrf" not in me, "Basic reads me (a partner's account)", (st, me))
    st, _, j = anon.call("POST", "logout", auth=basic("pat", "pat-password"))
    R.check(st == 403 and "Basic" in (j or {}).get("error", ""),
            "Basic credentials cannot change anything (403)", (st, j))
    st, _, j = anon.call("POST", "totp/enroll", {}, auth=basic("ana", "ana-password"))
    R.eq(st, 403, "Basic cannot enrol a second factor either")
    tok = node.token("ana")
    SECRETS.append(tok)
    st, _, me = anon.call("GET", "me", auth=bearer(tok))
    R.check(st == 200 and me.get("account") == "ana", "a Bearer token reads", (st, me))
    st, _, _ = anon.call("POST", "logout", auth=bearer(tok))
    R.eq(st, 204, "a Bearer token can change (logout is a no-op for it)")
    st, _, _ = anon.call("GET", "me", auth=basic("pat", "nope"))
    R.eq(st, 401, "wrong Basic credentials: 401")
    s = Session(node)
    st, _, j = s.login("mon", "mon-password")
    R.check(st == 403, "a metrics account cannot log in to the console (403)", (st, j))
    st, _, _ = anon.call("GET", "me", auth=basic("mon", "mon-password"))
    R.eq(st, 403, "nor read it with Basic credentials")
    st, _, j = anon.call("POST", "totp/enroll", {}, auth=bearer(node.token("pat")))
    R.check(st == 403, "a partner's account cannot enrol a second factor (own people only)",
            (st, j))


def account_changes(node, R):
    s = Session(node)
    R.eq(s.login("tim", "tim-password")[0], 200, "tim logs in")
    R.eq(s.call("GET", "me")[0], 200, "tim's session works")
    node.run("account", "disable", "tim")
    R.eq(s.call("GET", "me")[0], 401, "disabling the account ends its session at once")
    node.run("account", "enable", "tim")
    R.eq(s.call("GET", "me")[0], 401, "... and enabling it again does not bring it back")
    R.eq(s.login("tim", "tim-password")[0], 200, "tim logs in again")
    node.run("account", "passwd", "tim", "--password-stdin", stdin="tim-password2\n")
    SECRETS.append("tim-password2")
    R.eq(s.call("GET", "me")[0], 401, "a new password ends the session")
    R.eq(s.login("tim", "tim-password2")[0], 200, "the new password logs in")
    node.run("account", "delete", "tim")
    R.eq(s.call("GET", "me")[0], 401, "deleting the account ends the session")


def totp_api(node, R):
    s = Session(node)
    R.eq(s.login("adm", "adm-password")[0], 200, "adm logs in")
    st, _, j = s.call("POST", "totp/enroll", {})
    R.check(st == 200 and j.get("uri", "").startswith("otpauth://totp/schakel:adm?secret=")
            and j.get("secret") == secret_of(j["uri"]), "enroll answers the secret and URI",
            (st, j))
    secret = j["secret"]
    SECRETS.append(secret)
    st, _, me = s.call("GET", "me")
    R.eq(me.get("totp"), False, "not on before it is confirmed")
    # steps now-1, now, now+1 in turn: each fresh, all within the drift window
    # even if the clock moves one step during the test
    now = int(time.time()) // 30
    st, _, j = s.call("POST", "totp/confirm", {"code": totp(secret, now + 5)})
    R.check(st == 400, "confirm with a wrong code: 400", (st, j))
    st, _, j = s.call("POST", "totp/confirm", {"code": totp(secret, now - 1)})
    R.check(st == 204, "confirm with a current code: 204", (st, j))
    R.eq(s.call("GET", "me")[2].get("totp"), True, "me says the second factor is on")
    s2 = Session(node)
    st, _, j = s2.login("adm", "adm-password")
    R.check(st == 401 and j.get("totp_required") is True,
            "the password alone is not enough: 401 totp_required", (st, j))
    st, _, j = s2.login("adm", "adm-password", totp(secret, now - 1))
    R.check(st == 401 and j.get("totp_required") is True,
            "the code already used to confirm is refused", (st, j))
    code = totp(secret, now)
    st, _, j = s2.login("adm", "adm-password", code)
    R.check(st == 200, "password and a fresh code log in", (st, j))
    st, _, j = Session(node).login("adm", "adm-password", code)
    R.check(st == 401, "the same code a second time: refused", (st, j))
    st, _, j = s2.call("POST", "totp/enroll", {})
    R.eq(st, 409, "enrolling again while on: 409")
    st, _, j = s2.call("POST", "totp/disable", {"code": "123"})
    R.eq(st, 400, "disable with a malformed code: 400")
    st, _, j = s2.call("POST", "totp/disable", {"code": totp(secret, now + 1)})
    R.check(st == 204, "disable with a fresh code: 204", (st, j))
    R.eq(Session(node).login("adm", "adm-password")[0], 200, "the password alone works again")


def totp_cli(node, R):
    r = node.run("account", "totp", "ana", "enable")
    uri = r.out.strip()
    R.check(uri.startswith("otpauth://totp/schakel:ana?secret=") and "period=30" in uri,
            "account totp NAME enable prints the otpauth URI", r.out)
    secret = secret_of(uri)
    SECRETS.append(secret)
    st, _, j = Session(node).login("ana", "ana-password")
    R.check(st == 401 and j.get("totp_required"), "then the login needs the code", (st, j))
    st, _, j = Session(node).login("ana", "ana-password", totp(secret))
    R.check(st == 200, "and the code computed here logs in", (st, j))
    st, _, me = Session(node).call("GET", "me", auth=basic("ana", "ana-password"))
    R.eq(st, 200, "TAXII credentials are not affected by the second factor")
    node.run("account", "totp", "ana", "disable")
    R.eq(Session(node).login("ana", "ana-password")[0], 200, "disable: the password alone again")
    r = node.run("account", "totp", "nobody", "enable", check=False)
    R.check(r.code != 0 and "nobody" in r.err, "an unknown account is an error", r.err)


def limits(node, R):
    s = Session(node)
    codes = [s.login("vic", "wrong-%d" % i)[0] for i in range(3)]
    st, hd, j = s.login("vic", "vic-password")
    R.check(codes == [401, 401, 401] and st == 429 and int(hd.get("retry-after", "0")) > 0,
            "wrong passwords: 429 with Retry-After, even for the right one now",
            (codes, st, hd, j))
    st, _, _ = Session(node).call("GET", "me", auth=basic("vic", "vic-password"))
    R.eq(st, 429, "the same limits as TAXII Basic (one counter)")


def expiry(node, R):
    # margins wide enough for a loaded machine: a request every 0.5 s keeps a
    # session with 4 s idle time alive until its 8 s absolute limit
    srv = node.start("--ui-idle", "4", "--ui-max-age", "8", err="access2.log")
    try:
        busy, idle = Session(node), Session(node)
        t_before = time.monotonic()  # the server starts the session after this
        R.eq(busy.login("pat", "pat-password")[0], 200, "login on a server with --ui-idle 4")
        t_after = time.monotonic()  # ... and before this
        R.eq(idle.login("pat", "pat-password")[0], 200, "a second session")
        # used every 0.5 s: alive past the idle time, ended by the absolute one.  Only
        # bounds that a slow machine cannot break are asserted: the session may not end
        # before 8 s after the login began, and a request sent more than 4.5 s after the
        # login ended (past the idle limit, had it not been used) must still succeed.
        seen = []

        def call():
            sent = time.monotonic()
            st = busy.call("GET", "me")[0]
            seen.append((sent, time.monotonic(), st))
            return st == 401
        gone = wait_for(call, timeout=60, step=0.5)
        ended = next((t for _, t, st in seen if st == 401), None)
        R.check(gone and ended is not None and ended - t_before >= 7.9,
                "a session in use ends at --ui-max-age (401), not before",
                [(round(a - t_before, 2), st) for a, _, st in seen])
        R.check(any(st == 200 and sent - t_after >= 4.5 for sent, _, st in seen) and
                all(st == 200 for _, _, st in seen[:-1]),
                "... and stays alive past --ui-idle while in use",
                [(round(a - t_before, 2), st) for a, _, st in seen])
        # asked less often than the idle time: the first answer is already 401
        first = wait_for(lambda: idle.call("GET", "me")[0], timeout=30, step=4.5)
        R.eq(first, 401, "an idle session ends after --ui-idle (401)")
    finally:
        srv.stop()


def tls_cookie(node, R):
    """Under TLS the cookie is also Secure (a self-signed certificate made here)."""
    import shutil
    import subprocess
    if not shutil.which("openssl"):
        R.skip("no openssl to make a certificate: the Secure flag is not checked")
        return
    key, crt = node.path("tls.key"), node.path("tls.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    srv = node.start("--tls-cert", crt, "--tls-key", key, err="access3.log")
    try:
        s = Session(node)
        st, _, _ = s.login("pat", "pat-password")
        flags = [f.strip() for f in (s.set_cookie or "").split(";")]
        R.check(st == 200 and node.tls and "Secure" in flags and "HttpOnly" in flags,
                "under TLS the cookie is Secure too", s.set_cookie)
    finally:
        srv.stop()
        node.tls = False


def access_log(node, R):
    log = "".join(open(node.path(f), errors="replace").read()
                  for f in ("access.log", "access2.log", "access3.log")
                  if os.path.exists(node.path(f)))
    leaked = [x for x in SECRETS if x and x in log]
    R.check(not leaked and "/ui/api/login" in log,
            "the access log has the requests but no cookie, CSRF token, password or token",
            leaked)


def run(node, R):
    setup(node)
    node.start("--auth-user-failures", "3")
    try:
        for fn in (pages, login_logout, credentials, account_changes, totp_api, totp_cli,
                   limits):
            R.run(fn, node, R)
    finally:
        node.stop()
    R.run(expiry, node, R)
    R.run(tls_cookie, node, R)
    R.run(access_log, node, R)


if __name__ == "__main__":
    test_main(run, Node())
