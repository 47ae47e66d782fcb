"""Joining a hub in one step (docs/enrol.md): `schakel invite` at the hub,
`schakel enrol` at the new node, end to end over TLS with a self-signed hub
certificate (made here with openssl; no key is kept).

What must hold: the enrolled node pulls the hub's signed objects at once
(first sync, signatures verified against the key the code pinned); the hub
has the partner bound to the new node's identity, its key pinned, exactly the
grants given (no AMBER without --amber) and a token; the new node's sightings
go back by push.  Refused with exit 1 and nothing stored: a reused code, a
changed code, an expired invitation, a code whose TLS pin is not the hub's, a
fingerprint the operator was not told, an http:// hub without --allow-http.
Attacks on the enrolment endpoint itself (POST /taxii2/enrol): no
invitation, a wrong secret, a used one, an oversized or malformed body, the
hub's own or another partner's identity each get their status, and nothing
changes at the hub."""
import base64
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import Results, skip_all, tempdir  # noqa: E402
from sync_util import collection, import_objects, indicator, make_node, sql  # noqa: E402


def make_cert(d, name):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key", "-out",
                    f"{name}.pem", "-days", "2", "-subj", f"/CN={name}.test",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   cwd=d, check=True, capture_output=True, timeout=120)
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


def invite(hub, partner, url, cert, *flags):
    args = ["invite", partner, "--collection", "share", "--url", url]
    if cert:
        args += ["--tls-cert", cert]
    return hub.run(*args, *flags, check=False)


def fingerprint(node):
    for line in node.run("key", "show").out.splitlines():
        if line.startswith("fingerprint"):
            return line.split()[1]
    return None


def enrol(node, code, *flags):
    path = os.path.join(node.dir, "code.txt")
    with open(path, "w") as f:
        f.write(code + "\n")
    return node.run("enrol", "@" + path, *flags, check=False)


def state(node):
    """What enrolment may change at a node: peers, pins, partners, tokens, invites."""
    return (sql(node, "SELECT name, url FROM peers ORDER BY name"),
            sql(node, "SELECT identity, hex(pk) FROM keys ORDER BY 1, 2"),
            sql(node, "SELECT name, identity FROM partners ORDER BY 1"),
            sql(node, "SELECT count(*) FROM tokens"),
            sql(node, "SELECT iid, used FROM invites ORDER BY 1"))


def post(port, auth, body, ctype="application/json"):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=ctx)
    headers = {"Content-Type": ctype}
    if auth:
        headers["Authorization"] = auth
    c.request("POST", "/taxii2/enrol", body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def secret_of(code):
    payload = code[len("skinv1."):].split(".")[0]
    j = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return j["invite"], j["secret"]


def run(d, hub, new, other, R):
    cert, key = make_cert(d, "hub")
    wrong_cert, _ = make_cert(d, "elsewhere")
    collection(hub, "share")
    objs = [indicator(hub.ident, "green") for _ in range(10)]
    import_objects(hub, objs, "share")
    hub.start("--no-sync", "--tls-cert", cert, "--tls-key", key)
    url = f"https://127.0.0.1:{hub.port}"
    fp = fingerprint(hub)
    R.check(fp, f"the hub has a key fingerprint ({fp})")

    # --- the happy path ------------------------------------------------------------
    p = invite(hub, "Partner New", url, cert, "--read", "--write", "--expires", "2h")
    code = p.out.strip()
    R.check(p.code == 0 and code.startswith("skinv1.") and "\n" not in code,
            f"invite prints one code on stdout ({p.code}: {p.err.strip()!r})")
    R.check(fp in p.err, "invite names the hub's key fingerprint on stderr")
    R.check(code not in p.err, "the code is not repeated on stderr")
    p = enrol(new, code, "--fingerprint", fp)
    R.check(p.code == 0, f"enrol succeeds ({p.code}: {p.err.strip()!r})")
    R.check("first sync: 10 objects received, 10 stored" in p.err,
            f"the first sync pulled the hub's objects ({p.err.strip()!r})")
    got = sql(new, "SELECT count(*) FROM objects o JOIN provenance v ON v.ver=o.ver"
                   " WHERE o.type='indicator' AND o.sig=1")
    R.eq(got[0][0], 10, "every pulled indicator's signature verified (sig verdict 1)")
    peers = sql(new, "SELECT name, pull, push, identity, tls_pin IS NOT NULL FROM peers")
    R.eq(peers, [("hub", 1, 1, hub.ident, 1)],
         "the hub is a pull+push peer with its identity and TLS pin")
    pinned = sql(new, f"SELECT how FROM keys WHERE identity='{hub.ident}'")
    R.check(pinned and pinned[0][0] == "configured", f"the hub's key is pinned ({pinned})")
    partners = sql(hub, "SELECT identity FROM partners WHERE name='Partner New'")
    R.eq(partners, [(new.ident,)], "the hub bound the partner to the new node's identity")
    hub_pin = sql(hub, f"SELECT how FROM keys WHERE identity='{new.ident}'")
    R.eq(hub_pin, [("enrolled",)], "the hub pinned the new node's key")
    grants = sql(hub, "SELECT g.can_read, g.can_write, g.amber, g.amber_strict FROM grants g"
                      " JOIN partners p ON p.pid=g.pid WHERE p.name='Partner New'")
    R.eq(grants, [(1, 1, 0, 0)], "exactly the grants given: read, write, no AMBER")
    lst = hub.run("invite", "list").out
    R.check("used" in lst and new.ident in lst, f"invite list shows it used ({lst.strip()!r})")
    audit = hub.run("audit", "list").out
    R.check("invite.create" in audit and "invite.redeem" in audit,
            "the audit log has the invitation and its redemption")
    R.check(secret_of(code)[1] not in audit, "the audit log never holds the secret")
    R.check(hub.run("audit", "verify").code == 0, "the audit chain verifies")

    # the new node's sighting goes back to the hub by push
    new.run("sighting", "add", objs[0]["id"], check=False)
    p = new.run("peer", "sync", "hub", check=False)
    back = sql(hub, "SELECT count(*) FROM objects WHERE type='sighting'")
    R.check(p.code == 0 and back[0][0] >= 1, f"a sighting reached the hub ({p.err.strip()!r})")

    # --- refusals at the new node's side: nothing stored ---------------------------
    before_new, before_hub = state(new), state(hub)
    p = enrol(new, code, "--name", "again")
    R.check(p.code == 1 and "used already" in p.err, f"a reused code is refused ({p.err!r})")
    R.eq((state(new), state(hub)), (before_new, before_hub), "a reused code stores nothing")

    p2 = invite(hub, "Partner Other", url, cert)
    code2 = p2.out.strip()
    mid = len("skinv1.") + 40
    flipped = code2[:mid] + ("A" if code2[mid] != "A" else "B") + code2[mid + 1:]
    before_o, before_hub = state(other), state(hub)
    p = enrol(other, flipped)
    R.check(p.code == 1 and ("changed" in p.err or "damaged" in p.err),
            f"a changed code is refused ({p.err.strip()!r})")
    p = enrol(other, code2[:len(code2) // 2])
    R.check(p.code == 1 and ("damaged" in p.err or "cut short" in p.err or "changed" in p.err),
            f"a truncated code is refused ({p.err.strip()!r})")
    p = enrol(other, code2, "--fingerprint", "AAAA-BBBB-CCCC-DDDD")
    R.check(p.code == 1 and "not AAAA-BBBB-CCCC-DDDD" in p.err,
            f"a fingerprint the operator was not told is refused ({p.err.strip()!r})")
    R.eq((state(other), state(hub)), (before_o, before_hub),
         "changed, truncated and wrong-fingerprint codes store nothing anywhere")

    # a code whose pin is another certificate's: the TLS connection is refused
    p3 = invite(hub, "Partner Pin", url, wrong_cert)
    before_o, before_hub = state(other), state(hub)
    p = enrol(other, p3.out.strip())
    R.check(p.code == 1 and ("pinned" in p.err.lower() or "public key" in p.err.lower()),
            f"a hub whose key is not the pinned one is refused ({p.err.strip()!r})")
    R.eq((state(other), state(hub)), (before_o, before_hub), "a wrong pin stores nothing")

    # an invitation the hub has let expire (its record decides)
    iid2, _ = secret_of(code2)
    sql_exec(hub, f"UPDATE invites SET expires=1 WHERE iid='{iid2}'")
    before_o = state(other)
    p = enrol(other, code2)
    R.check(p.code == 1 and "expired" in p.err, f"an expired invitation is refused ({p.err!r})")
    R.eq(state(other), before_o, "an expired invitation stores nothing")

    # an http:// hub needs --allow-http
    p4 = invite(hub, "Partner Plain", "http://127.0.0.1:9", None)
    p = enrol(other, p4.out.strip())
    R.check(p.code == 1 and "--allow-http" in p.err, f"http needs --allow-http ({p.err!r})")
    p = invite(hub, "Partner Plain", "https://127.0.0.1:9", None)
    R.check(p.code == 2 and "--tls-cert" in p.err, "an https invitation needs --tls-cert")
    p = hub.run("invite", "Partner X", "--collection", "nosuch", "--url", url, "--tls-cert",
                cert, check=False)
    R.check(p.code != 0 and not p.out.strip(), f"an unknown collection: no code ({p.err!r})")

    # a name with quotes stays one value of the audit entry's JSON
    p = invite(hub, "Partner Quote", url, cert, "--account", 'q","forged')
    det = sql(hub, "SELECT detail FROM audit WHERE action='invite.create' ORDER BY seq DESC"
                   " LIMIT 1")
    d = json.loads(det[0][0]) if det else {}
    R.check(p.code == 0 and d.get("account") == 'q","forged' and "forged" not in d,
            f"a quoted account name stays one JSON value in the audit log ({det})")

    # --- attacks on POST /taxii2/enrol ------------------------------------------
    p5 = invite(hub, "Partner Attack", url, cert, "--read")
    iid5, sec5 = secret_of(p5.out.strip())
    body = json.dumps({"identity": other.ident, "key": "A" * 43 + "="})
    before_hub = state(hub)
    cases = [
        (None, body, 401, "no invitation"),
        ("Bearer sk_nothing", body, 401, "a token instead of an invitation"),
        (f"Invite {iid5}.{'x' * 43}", body, 401, "a wrong secret"),
        (f"Invite {iid2}.{secret_of(code2)[1]}", body, 401, "an expired invitation"),
        (f"Invite {iid5}.{sec5}", "{not json", 400, "malformed JSON"),
        (f"Invite {iid5}.{sec5}", json.dumps({"identity": "x"}), 422, "no identity or key"),
        (f"Invite {iid5}.{sec5}", json.dumps({"identity": hub.ident,
                                               "key": "A" * 43 + "="}), 409,
         "the hub's own identity"),
        (f"Invite {iid5}.{sec5}", json.dumps({"identity": new.ident,
                                               "key": "A" * 43 + "="}), 409,
         "another partner's identity"),
        (f"Invite {iid5}.{sec5}", "x" * 20000, 413, "an oversized body"),
    ]
    for auth, b, want, what in cases:
        status, data = post(hub.port, auth, b)
        R.check(status == want, f"{what}: HTTP {want} (got {status}: {data[:200]!r})")
    R.eq(state(hub), before_hub, "no refused enrolment changed anything at the hub")
    R.check(secret_of(code)[1] not in open(os.path.join(hub.dir, "access.log")).read(),
            "the access log never holds an invitation's secret")


def sql_exec(node, q):
    import sqlite3
    c = sqlite3.connect(node.db, timeout=30)
    try:
        c.execute(q)
        c.commit()
    finally:
        c.close()


def main():
    if not shutil.which("openssl"):
        skip_all("the openssl CLI is not installed, so no test certificate can be made "
                 "(scripts/install-deps.sh installs it)")
    R = Results()
    d = tempdir("sk-invite-")
    with make_node("hub") as hub, make_node("new") as new, make_node("other") as other:
        run(d, hub, new, other, R)
    R.finish()


if __name__ == "__main__":
    main()
