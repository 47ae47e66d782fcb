#!/usr/bin/env python3
"""The console's administration and its bad input (docs/console.md,
"Administration"), against a real `schakel serve`:

- an admin creates a partner, a partner's account (generated password shown
  once, and it works), an own account, a token (shown once; listed by its
  id only; revoked), a grant and a RED recipient; disables an account and
  gives it a new password; deletes an account; lists peers with their state;
- an analyst, a viewer and a partner's account get 403 on every admin route;
  a Bearer token of an admin may change things, Basic credentials may not;
- malformed JSON, a wrong content type, an oversized body (413 before the
  body is sent), a deeply nested body, unknown members, missing fields, a
  duplicate, an unknown route (404) and a wrong method (405 with Allow) all
  get a clear 4xx JSON error;
- the access log holds no generated password or token.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_util import (Node, Session, basic, bearer, own, raw_request,  # noqa: E402
                          status_of)
from sklib import test_main  # noqa: E402

SECRETS = []


def setup(node):
    node.partner("Alpha")
    node.account("pat", "Alpha", "pat-password")
    own(node, "adm", "admin", "adm-password")
    own(node, "ana", "analyst", "ana-password")
    own(node, "vie", "viewer", "vie-password")
    node.run("collection", "add", "feed")
    node.run("peer", "add", "upstream", "http://127.0.0.1:9/taxii2/", "--api-root", "api",
             "--collection", "c0ffee00-0000-4000-8000-000000000000", "--auth", "none",
             "--pull", check=False)


def is_err(j, status):
    return isinstance(j, dict) and j.get("status") == status and isinstance(j.get("error"), str)


def admin_flow(node, R):
    s = Session(node)
    R.eq(s.login("adm", "adm-password")[0], 200, "the admin logs in")
    st, _, j = s.call("POST", "admin/partners",
                      {"name": "Beta", "country": "DE", "sectors": ["energy", "utilities"]})
    R.check(st == 201 and j.get("name") == "Beta" and j.get("identity", "").startswith(
        "identity--"), "create a partner: 201 with its identity", (st, j))
    st, _, j = s.call("GET", "admin/partners")
    beta = [p for p in (j or {}).get("partners", []) if p.get("name") == "Beta"]
    R.check(st == 200 and beta and beta[0].get("country") == "DE"
            and beta[0].get("sectors") == ["energy", "utilities"] and beta[0]["accounts"] == 0,
            "the partner is listed with country and sectors", j)
    st, _, j = s.call("POST", "admin/partners", {"name": "Beta"})
    R.check(st == 409 and is_err(j, 409), "the same partner again: 409", (st, j))

    st, _, j = s.call("POST", "admin/accounts", {"name": "beta1", "partner": "Beta"})
    pw = (j or {}).get("password")
    R.check(st == 201 and j.get("name") == "beta1" and pw and len(pw) >= 16,
            "create a partner's account: 201 with a generated password", (st, j))
    SECRETS.append(pw)
    st, _, me = Session(node).call("GET", "me", auth=basic("beta1", pw))
    R.check(st == 200 and me.get("partner") == "Beta", "the generated password works", (st, me))
    st, _, j = s.call("POST", "admin/accounts",
                      {"name": "an2", "role": "analyst", "password": "an2-password"})
    R.check(st == 201 and "password" not in j, "create an own account with a given password",
            (st, j))
    SECRETS.append("an2-password")
    st, _, j = s.call("GET", "admin/accounts")
    accts = {a["name"]: a for a in (j or {}).get("accounts", [])}
    R.check(st == 200 and accts.get("beta1", {}).get("partner") == "Beta"
            and accts.get("an2", {}).get("role") == "analyst"
            and accts["an2"].get("partner") is None and accts["adm"].get("totp") is False,
            "accounts are listed with partner, role and totp", j)

    st, _, j = s.call("POST", "admin/tokens", {"account": "beta1", "label": "feed reader"})
    tok, tid = (j or {}).get("token"), (j or {}).get("id")
    R.check(st == 201 and tok and tok.startswith("sk_") and tid and tid.startswith("tk"),
            "create a token: 201 with it (once) and its id", (st, j))
    SECRETS.append(tok)
    R.eq(Session(node).call("GET", "me", auth=bearer(tok))[0], 200, "the token works")
    st, _, j = s.call("GET", "admin/tokens")
    toks = (j or {}).get("tokens", [])
    R.check(st == 200 and any(t["id"] == tid and t["account"] == "beta1"
                              and t["label"] == "feed reader" and not t["revoked"]
                              for t in toks) and tok not in json.dumps(j),
            "tokens are listed by id, never the token", j)
    st, _, j = s.call("POST", "admin/tokens", {"account": "adm"})
    SECRETS.append((j or {}).get("token"))
    R.check(st == 201 and s.call("GET", "me")[0] == 200,
            "a token for one's own account keeps one's session", (st, j))
    st, _, _ = s.call("DELETE", "admin/tokens/" + tid)
    R.eq(st, 204, "revoke the token: 204")
    R.eq(Session(node).call("GET", "me", auth=bearer(tok))[0], 401, "the revoked token fails")
    st, _, j = s.call("DELETE", "admin/tokens/" + tok)
    R.check(st == 404, "a token itself is never taken in a URL (404)", (st, j))

    st, _, j = s.call("POST", "admin/grants",
                      {"collection": "feed", "partner": "Beta", "read": True, "write": False,
                       "amber": True})
    R.check(st == 200, "set a grant: 200", (st, j))
    st, _, j = s.call("POST", "admin/red", {"collection": "feed", "account": "beta1",
                                            "red": True})
    R.check(st == 200, "name a RED recipient: 200", (st, j))
    st, _, j = s.call("GET", "admin/grants")
    g = [x for x in (j or {}).get("grants", []) if x["partner"] == "Beta"]
    R.check(st == 200 and g and g[0] == {"collection": "feed", "partner": "Beta", "read": True,
                                         "write": False, "amber": True, "amber_strict": False}
            and {"collection": "feed", "account": "beta1"} in j.get("red", [])
            and "Beta" in j.get("partners", []) and "" not in j.get("partners", [])
            and any(c["name"] == "feed" for c in j.get("collections", [])),
            "the grants matrix shows the grant and the RED recipient", j)
    st, _, j = s.call("POST", "admin/grants", {"collection": "nope", "partner": "Beta",
                                               "read": True, "write": False})
    R.check(st == 404 and is_err(j, 404), "a grant on an unknown collection: 404", (st, j))

    st, _, j = s.call("POST", "admin/accounts/beta1", {"disabled": True})
    R.check(st == 200 and "password" not in j, "disable an account: 200", (st, j))
    R.eq(Session(node).call("GET", "me", auth=basic("beta1", pw))[0], 401,
         "the disabled account's password fails")
    st, _, j = s.call("POST", "admin/accounts/beta1", {"disabled": False, "password": None})
    pw2 = (j or {}).get("password")
    SECRETS.append(pw2)
    R.check(st == 200 and pw2 and pw2 != pw, "enable with a generated new password", (st, j))
    R.eq(Session(node).call("GET", "me", auth=basic("beta1", pw2))[0], 200,
         "the new password works")
    st, _, j = s.call("POST", "admin/accounts/nobody", {"disabled": True})
    R.check(st == 404 and is_err(j, 404), "an unknown account: 404", (st, j))
    st, _, _ = s.call("DELETE", "admin/accounts/an2")
    R.eq(st, 204, "delete an account: 204")
    st, _, j = s.call("DELETE", "admin/accounts/an2")
    R.check(st == 404 and is_err(j, 404), "delete it again: 404", (st, j))

    st, _, j = s.call("GET", "admin/peers")
    peers = (j or {}).get("peers")
    R.check(st == 200 and isinstance(peers, list)
            and all({"name", "url", "collection", "pull", "push", "last_success", "lag_s",
                     "errors", "last_error"} <= set(p) for p in peers),
            "peers with their sync state", j)
    R.check(any(p["name"] == "upstream" and p["pull"] and p["last_success"] is None
                for p in peers or []), "the configured peer is listed", peers)


def who_may(node, R):
    body = {"name": "Gamma"}
    for user, pw in (("ana", "ana-password"), ("vie", "vie-password"), ("pat", "pat-password")):
        s = Session(node)
        R.eq(s.login(user, pw)[0], 200, "%s logs in" % user)
        gets = [s.call("GET", "admin/" + w)[0] for w in
                ("partners", "accounts", "tokens", "grants", "peers")]
        st, _, j = s.call("POST", "admin/partners", body)
        st2, _, _ = s.call("DELETE", "admin/accounts/adm")
        R.check(gets == [403] * 5 and st == 403 and is_err(j, 403) and st2 == 403,
                "%s gets 403 on every admin route" % user, (gets, st, j, st2))
    tok = node.token("adm")
    SECRETS.append(tok)
    anon = Session(node)
    st, _, j = anon.call("POST", "admin/partners", body, auth=basic("adm", "adm-password"))
    R.check(st == 403 and "Basic" in j.get("error", ""), "an admin's Basic credentials: 403",
            (st, j))
    st, _, j = anon.call("POST", "admin/partners", body, auth=bearer(tok))
    R.check(st == 201, "an admin's Bearer token may change things", (st, j))
    st, _, j = anon.call("GET", "admin/partners", auth=basic("adm", "adm-password"))
    R.eq(st, 200, "an admin's Basic credentials read")


def bad_input(node, R):
    s = Session(node)
    R.eq(s.login("adm", "adm-password")[0], 200, "the admin logs in")
    st, _, j = s.call("POST", "admin/partners", raw=b'{"name": "x",', headers={
        "Content-Type": "application/json"})
    R.check(st == 400 and is_err(j, 400) and "malformed JSON" in j["error"],
            "malformed JSON: 400 saying where", (st, j))
    st, _, j = s.call("POST", "admin/partners", raw=b'name=x', headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    R.check(st == 415 and is_err(j, 415), "a form body: 415", (st, j))
    st, _, j = s.call("POST", "admin/partners", raw=b'{"name": "x"}', headers={
        "Content-Type": "text/plain"})
    R.check(st == 415 and is_err(j, 415), "JSON sent as text/plain: 415", (st, j))
    st, _, j = s.call("POST", "admin/partners", raw=b"[1, 2]", headers={
        "Content-Type": "application/json"})
    R.check(st == 400 and is_err(j, 400), "a JSON array body: 400", (st, j))
    deep = b"[" * 40 + b"]" * 40
    st, _, j = s.call("POST", "admin/partners", raw=b'{"name": ' + deep + b"}", headers={
        "Content-Type": "application/json"})
    R.check(st == 400 and is_err(j, 400) and "deeper" in j["error"],
            "a body nested 41 deep: 400", (st, j))
    st, _, j = s.call("POST", "admin/partners", {"name": "y", "colour": "blue"})
    R.check(st == 400 and "colour" in j.get("error", ""), "an unknown member: 400 naming it",
            (st, j))
    st, _, j = s.call("POST", "admin/partners", {"country": "NL"})
    R.check(st == 400 and "'name'" in j.get("error", ""), "a missing name: 400 naming it",
            (st, j))
    st, _, j = s.call("POST", "admin/partners", {"name": "Delta", "country": "Netherlands"})
    R.check(st == 400 and "country" in j.get("error", ""), "a bad country: 400", (st, j))
    st, _, j = s.call("POST", "admin/grants", {"collection": "feed", "partner": "Alpha",
                                               "read": "yes", "write": False})
    R.check(st == 400 and "'read'" in j.get("error", ""), "a string for a boolean: 400", (st, j))
    st, _, j = s.call("POST", "login", raw=b"{}", headers={"Content-Type": "application/json"})
    R.check(st == 400 and "'user'" in j.get("error", ""), "login without user: 400", (st, j))

    head = ("POST /ui/api/admin/partners HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nContent-Length: 2000000\r\n"
            "Cookie: sk_session=%s\r\nX-CSRF-Token: %s" % (s.cookie, s.csrf)).encode()
    raw = raw_request(node, head)
    R.check(status_of(raw) == 413, "a 2 MB body is refused (413) before it is sent", raw[:300])
    head = ("POST /ui/api/admin/partners HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nContent-Length: 2000000").encode()
    raw = raw_request(node, head)
    R.check(status_of(raw) in (401, 413), "... and so is an unauthenticated one", raw[:300])
    head = ("POST /ui/api/admin/partners HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n"
            "Cookie: sk_session=%s" % s.cookie).encode()
    raw = raw_request(node, head)
    R.check(status_of(raw) == 403, "a body without the CSRF token: 403 before it is sent",
            raw[:300])

    st, hd, j = s.call("GET", "nothing-here")
    R.check(st == 404 and is_err(j, 404), "an unknown route: 404 JSON", (st, j))
    st, hd, j = s.call("GET", "admin/partners/extra/segments")
    R.check(st == 404 and is_err(j, 404), "too many segments: 404 JSON", (st, j))
    st, hd, j = s.call("GET", "admin/widgets")
    R.check(st == 404 and is_err(j, 404), "an unknown admin list: 404 JSON", (st, j))
    st, hd, j = s.call("DELETE", "me")
    R.check(st == 405 and is_err(j, 405) and hd.get("allow") == "GET",
            "a wrong method: 405 with Allow", (st, hd, j))
    st, hd, j = s.call("PUT", "admin/partners", {"name": "z"})
    R.check(st == 405 and "POST" in hd.get("allow", ""), "PUT on admin: 405 with Allow",
            (st, hd, j))


def access_log(node, R):
    log = open(node.path("access.log"), errors="replace").read()
    leaked = [x for x in SECRETS if x and x in log]
    R.check(not leaked and "/ui/api/admin/tokens" in log and '"account":"adm"' in log,
            "the access log names the admin but holds no password or token", leaked)


def run(node, R):
    setup(node)
    node.start()
    try:
        for fn in (admin_flow, who_may, bad_input):
            R.run(fn, node, R)
    finally:
        node.stop()
    R.run(access_log, node, R)


if __name__ == "__main__":
    test_main(run, Node())
