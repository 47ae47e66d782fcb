#!/usr/bin/env python3
"""Personal data matched without being revealed (docs/private-matching.md),
through the real binaries on 127.0.0.1.

A (producer) hashes e-mail addresses under its collection key and shares the
indicator over TAXII with B and C.  Only B gets the key, sealed to its
pinned key in a file; B matches a log line and its sighting flows back to A.
C receives the indicator, reports it as cannot-match and never sees the key.
The key is in no TAXII response, audit entry, log or database; rotation
gives a new key id while old digests keep matching; a tampered or foreign
sealed key is refused with nothing stored."""
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import test_main, wait_for  # noqa: E402
from sync_util import add_peer, collection, grant, make_node, sql, sync  # noqa: E402
from taxii_util import bearer, walk  # noqa: E402

ADDRS = ["Alice.Doe@Example.org", "bob@example.org", "carol@mail.example.net"]


def main():
    test_main(run, make_node("A"), make_node("B"), make_node("C"))


def key_of(node):
    out = node.run("key", "show").out.split()
    return out[out.index("key") + 1]


def held_keys(node):
    """{key id: raw key} from the node's <db>.hashkeys (the test may look; nothing else does)."""
    path = node.db + ".hashkeys"
    if not os.path.exists(path):
        return {}
    keys = {}
    with open(path) as f:
        for line in f.read().splitlines()[1:]:
            parts = line.split("\t")
            keys[parts[0]] = base64.b64decode(parts[5])
    return keys


def forms(raw):
    """The ways a key could leak: raw bytes, base64, hex."""
    return [raw, base64.b64encode(raw), raw.hex().encode(), raw.hex().upper().encode()]


def files_of(node):
    """Every file of the node's directory but the key file itself."""
    for root, _, names in os.walk(node.dir):
        for n in names:
            p = os.path.join(root, n)
            if not p.endswith(".hashkeys"):
                yield p


def leaks(node, raw):
    found = []
    for p in files_of(node):
        try:
            data = open(p, "rb").read()
        except OSError:
            continue
        if any(f in data for f in forms(raw)):
            found.append(os.path.basename(p))
    return found


def scan(node, log, *extra):
    r = node.run("scan", "--format", "text", "--no-cache", *extra, log, check=False)
    hits = [json.loads(x) for x in r.out.splitlines() if x.strip()]
    return r, hits


def sightings_of(node, ind):
    rows = sql(node, "SELECT json FROM objects WHERE type='sighting'")
    return [json.loads(j) for (j,) in rows if json.loads(j).get("sighting_of_ref") == ind]


def run(a, b, c, R):
    collection(a, "leak", "amber")
    collection(b, "inbox")
    collection(c, "inbox")
    a.start("--no-sync")
    tok_b = grant(a, b, "leak", read=True, write=True, amber=True)
    tok_c = grant(a, c, "leak", read=True, write=True, amber=True)
    add_peer(b, a, tok_b, "leak", "inbox", push=True)
    add_peer(c, a, tok_c, "leak", "inbox", push=True)
    # keys pinned both ways: A seals to B's key, B checks A's signature
    a.run("partner", "set", "p-B", "--key", key_of(b), check=True)
    a.run("partner", "set", "p-C", "--key", key_of(c), check=True)
    b.run("key", "pin", a.ident, key_of(a), check=True)
    c.run("key", "pin", a.ident, key_of(a), check=True)

    # --- the producer's key and indicator -----------------------------------------------
    r = a.run("hashkey", "create", "leak", check=True)
    kid1 = r.out.strip()
    R.check(len(kid1) == 16 and r.out.count("\n") == 1, f"create prints the key id only ({r.out!r})")
    keys = held_keys(a)
    R.check(list(keys) == [kid1], "the key is kept in <db>.hashkeys")
    R.eq(oct(os.stat(a.db + ".hashkeys").st_mode & 0o777), "0o600", "the key file is 0600")
    raw1 = keys[kid1]
    r = a.run("hashkey", "create", "leak", check=False)
    R.check(r.returncode == 1 and "rotate" in r.err, "a second create is refused (rotate)")
    vals = a.path("addrs.txt")
    with open(vals, "w") as f:
        f.write("# leaked credential set\n" + "\n".join(ADDRS) + "\n\n")
    r = a.run("indicator", "hash", "--collection", "leak", "--type", "email-addr:value",
              "--input", vals, "--tlp", "amber", "--name", "leaked credentials", check=True)
    ind1 = r.out.strip()
    R.check(ind1.startswith("indicator--"), f"indicator hash prints the indicator id ({r.out!r})")
    obj = json.loads(a.run("get", ind1, check=True).out)
    ext = obj["extensions"]["extension-definition--0c5e7d2a-8b41-4f3e-a6d9-2e7b1c9f4a58"]
    R.eq(ext["key_id"], kid1, "the extension names the key id")
    R.eq(len(ext["digests"]), 3, "one digest per distinct address")
    text = json.dumps(obj).lower()
    R.check(not any(x.lower() in text for x in ADDRS) and "example.org" not in text,
            "no address, nor its domain, is in the indicator")
    bad = a.path("bad.txt")
    with open(bad, "w") as f:
        f.write("ok@example.org\nnot an address\n")
    r = a.run("indicator", "hash", "--collection", "leak", "--type", "email", "--input", bad,
              check=False)
    R.check(r.returncode == 1 and "bad.txt:2" in r.err, f"a bad value names its line ({r.err})")

    # --- both partners receive the indicator over TAXII -----------------------------------
    R.check(sync(b, "A")["rc"] == 0 and sync(c, "A")["rc"] == 0, "B and C pull A")
    for n in (b, c):
        R.check(bool(sql(n, f"SELECT 1 FROM objects WHERE id='{ind1}'")),
                f"{n.name} has the hashed indicator")

    # --- the key goes to B only, sealed ---------------------------------------------------
    grant_file = a.path("key-for-b.json")
    a.run("hashkey", "export", "leak", "--for", "p-B", "--output", grant_file, check=True)
    R.eq(oct(os.stat(grant_file).st_mode & 0o777), "0o600", "the sealed key file is 0600")
    R.check(not any(f in open(grant_file, "rb").read() for f in forms(raw1)),
            "the key is not readable in the sealed file")
    # C may not open B's file
    r = c.run("hashkey", "import", grant_file, check=False)
    R.check(r.returncode == 1 and "not this node" in r.err and not held_keys(c),
            f"a key sealed for another node is refused, nothing kept ({r.err.strip()})")
    # a tampered file is refused
    j = json.load(open(grant_file))
    p = bytearray(base64.b64decode(j["payload"]))
    p[len(p) // 2] ^= 1
    j["payload"] = base64.b64encode(bytes(p)).decode()
    tampered = b.path("tampered.json")
    json.dump(j, open(tampered, "w"))
    r = b.run("hashkey", "import", tampered, check=False)
    R.check(r.returncode == 1 and "refused" in r.err and "signature" in r.err and
            not held_keys(b), f"a tampered key file is refused, nothing kept ({r.err.strip()})")
    r = b.run("hashkey", "import", grant_file, check=True)
    R.check(kid1 in r.out, f"B imports the key ({r.out.strip()})")
    R.eq(held_keys(b), {kid1: raw1}, "B holds A's key")
    R.eq(oct(os.stat(b.db + ".hashkeys").st_mode & 0o777), "0o600", "B's key file is 0600")
    R.check(kid1 in b.run("hashkey", "list", check=True).out and
            base64.b64encode(raw1).decode() not in b.run("hashkey", "list").out,
            "hashkey list shows ids, not keys")

    # --- B matches, C cannot ---------------------------------------------------------------
    log = b.path("auth.log")
    with open(log, "w") as f:
        f.write("2026-12-07T10:00:00Z sshd: accepted password for root from 192.0.2.10\n"
                "2026-12-07T10:00:05Z webmail: login for BOB@example.org from 198.51.100.7\n"
                "2026-12-07T10:00:09Z webmail: login for dave@example.org from 198.51.100.8\n")
    r, hits = scan(b, log)
    R.check(r.returncode == 0, f"B's scan runs ({r.err[-300:]})")
    R.eq([(h["line"], h["indicator"]["id"]) for h in hits], [(2, ind1)],
         "B matches the leaked address (case aside) and nothing else")
    clog = c.path("auth.log")
    with open(clog, "w") as f:
        f.write(open(log).read())
    r, hits = scan(c, clog)
    R.check(r.returncode == 0 and hits == [], f"C matches nothing ({hits})")
    R.check(f"{ind1}: cannot match" in r.err and kid1 in r.err,
            f"C reports the indicator as cannot-match, naming the key ({r.err[-400:]})")

    # --- B's sighting flows back to A -------------------------------------------------------
    R.check(len(sightings_of(b, ind1)) == 1, "B's scan stored a sighting of the indicator")
    sync(b, "A")
    R.check(wait_for(lambda: sightings_of(a, ind1), timeout=30),
            "B's sighting of the hashed indicator reached A")
    R.check(all("example.org" not in json.dumps(sg).lower() for sg in sightings_of(a, ind1)),
            "the sighting says when and how often, not which address")

    # --- rotation -------------------------------------------------------------------------
    kid2 = a.run("hashkey", "rotate", "leak", check=True).out.strip()
    R.check(len(kid2) == 16 and kid2 != kid1, "rotate gives a new key id")
    with open(vals, "w") as f:
        f.write("erin@example.org\n")
    ind2 = a.run("indicator", "hash", "--collection", "leak", "--type", "email",
                 "--input", vals, "--tlp", "amber", check=True).out.strip()
    sync(b, "A")
    with open(log, "a") as f:
        f.write("2026-12-07T11:00:00Z webmail: login for erin@example.org from 198.51.100.9\n")
    r, hits = scan(b, log, "--no-sightings")
    got = sorted((h["line"], h["indicator"]["id"]) for h in hits)
    R.eq(got, [(2, ind1)], "before B has the new key, the old digests match and the new do not")
    R.check(f"{ind2}: cannot match" in r.err, "the new indicator is cannot-match at B for now")
    a.run("hashkey", "export", "leak", "--for", "p-B", "--output", grant_file, check=True)
    b.run("hashkey", "import", grant_file, check=True)
    r, hits = scan(b, log, "--no-sightings")
    got = sorted((h["line"], h["indicator"]["id"]) for h in hits)
    R.eq(got, [(2, ind1), (4, ind2)], "with both keys, old and new indicators match")
    # --- a Bloom filter instead of a digest list ----------------------------------------------
    with open(vals, "w") as f:
        f.write("\n".join(f"member{i}@example.org" for i in range(500)) + "\nfrank@example.org\n")
    r = a.run("indicator", "hash", "--collection", "leak", "--type", "email", "--input", vals,
              "--bloom", "--fp-rate", "0.000001", "--tlp", "amber", check=True)
    ind3 = r.out.strip()
    R.check("Bloom filter" in r.err, f"the Bloom filter's size and rate are reported ({r.err})")
    bl = json.loads(a.run("get", ind3, check=True).out)["extensions"][
        "extension-definition--0c5e7d2a-8b41-4f3e-a6d9-2e7b1c9f4a58"]
    R.check("digests" not in bl and bl["bloom"]["m"] > 500 and bl["bloom"]["k"] >= 1,
            f"the indicator carries a Bloom filter ({ {k: v for k, v in bl['bloom'].items() if k != 'bits'} })")
    sync(b, "A")
    with open(log, "a") as f:
        f.write("2026-12-07T12:00:00Z webmail: login for Frank@example.org from 198.51.100.11\n")
    r, hits = scan(b, log, "--no-sightings")
    got = sorted((h["line"], h["indicator"]["id"]) for h in hits)
    R.eq(got, [(2, ind1), (4, ind2), (5, ind3)], "the Bloom filter matches its member only")

    lst = a.run("hashkey", "list", check=True).out
    R.check(f"{kid1}  old" in lst and f"{kid2}  current" in lst, f"A lists old and current ({lst})")

    # --- the keys are nowhere else --------------------------------------------------------
    st, _, body = a.request("GET", "/api/collections/leak/objects/", auth=bearer(tok_c))
    items, _, _ = walk(a, "/api/collections/leak/objects/", bearer(tok_b), limit=100)
    taxii = json.dumps(items or []).encode() + body
    R.check(st == 200 and items, f"TAXII answers B and C ({st})")
    for raw in (raw1, held_keys(a)[kid2]):
        R.check(not any(f in taxii for f in forms(raw)), "no key in a TAXII response")
        for n in (a, b, c):
            R.eq(leaks(n, raw), [], f"no key in {n.name}'s database, logs or other files")
    audit = a.run("audit", "list", "--action", "hashkey.export", check=True).out
    R.check("hashkey.export" in audit and kid1 in audit,
            f"the key export is audited by key id ({audit[-300:]})")
    R.check(not os.path.exists(c.db + ".hashkeys"), "C never held a key")


if __name__ == "__main__":
    main()
