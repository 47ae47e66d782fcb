#!/usr/bin/env python3
"""The console's dossier (GET /ui/api/dossier; docs/dossier.md) over HTTP against
a real `schakel serve`, on the KESTREL fixture (tests/fixtures/dossier):

- an analyst gets the author's version (AMBER included, the document marked
  TLP:AMBER) as JSON, and as HTML or a STIX bundle to save;
- a GREEN-only partner's account gets its releasable version: no AMBER id,
  name or count, every figure recomputed, the exit in the audit log;
- an analyst asking for that partner's version (for=) gets the same, audited;
  a partner may not ask for another's;
- bad requests: no subject (400), an unknown subject (404), a bad format
  (400), nobody logged in (401)."""
import json
import os
import sys
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from taxii_util import Node, basic  # noqa: E402

FIX = sklib.fixture("dossier", "kestrel.json")
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
ANA = basic("ana", "ana-password")
BANK = basic("banker", "banker-password")


def get(n, q, auth=ANA):
    st, hd, data = n.request("GET", "/ui/api/dossier?" + q, auth=auth, accept=None)
    return st, hd, data


def main(n, R):
    with open(FIX, encoding="utf-8") as f:
        objs = json.load(f)["objects"]
    amber = [o["id"] for o in objs if AMBER in o.get("object_marking_refs", [])]
    ident = {o["name"]: o["id"] for o in objs if o["type"] == "identity"}
    n.run("import", FIX)
    n.run("account", "add", "ana", "--role", "analyst", "--password-stdin",
          stdin="ana-password\n")
    n.partner("bank", "--identity", ident["Voorbeeldbank (example)"], "--country", "DE")
    n.partner("energy", "--identity", ident["Waterkracht Energie (example)"], "--country", "NL")
    n.account("banker", "bank", "banker-password")
    n.grant("bank", "default", "--read")
    n.start()
    subj = "subject=" + urllib.parse.quote("KESTREL SET")

    st, _, data = get(n, subj)
    d = json.loads(data) if st == 200 else {}
    R.check(st == 200 and d["tlp"]["level"] == "amber" and d["impact"]["sightings"] == 4,
            "analyst: the author's version", (st, data[:300]))
    st, hd, data = get(n, subj + "&format=html")
    R.check(st == 200 and hd.get("content-type", "").startswith("text/html")
            and "attachment" in hd.get("content-disposition", "")
            and b"Attribution dossier: KESTREL SET" in data, "analyst: the HTML to save",
            (st, hd))
    st, hd, data = get(n, subj + "&format=stix")
    b = json.loads(data) if st == 200 else {}
    R.check(st == 200 and b["objects"][0]["labels"] == ["attribution-dossier"],
            "analyst: the signed STIX bundle to save", (st, data[:300]))

    for who, q, auth in (("the partner's account", subj, BANK),
                         ("an analyst for the partner", subj + "&for=bank", ANA)):
        st, _, data = get(n, q, auth)
        text = data.decode()
        d = json.loads(text) if st == 200 else {}
        R.check(st == 200 and not [i for i in amber if i in text]
                and "amber" not in text.lower() and "LEDGER" not in text,
                who + ": no AMBER object, id, marking or name", (st, text[:300]))
        R.check(d.get("impact", {}).get("sightings") == 3
                and d.get("activity", {}).get("counts", {}).get("campaigns") == 1,
                who + ": figures recomputed from the releasable evidence", d.get("impact"))
    a = n.run("audit", "list").out
    R.check(a.count("dossier.for") == 2 and "partner:bank" in a,
            "both releasable versions are in the audit log", a[-1000:])

    st, _, _ = get(n, subj + "&for=energy", BANK)
    R.check(st == 403, "a partner may not ask for another partner's version", st)
    st, _, data = get(n, "format=json")
    R.check(st == 400 and b"subject" in data, "no subject: 400", (st, data))
    st, _, data = get(n, "subject=NOBODY")
    R.check(st == 404 and b"no visible" in data, "an unknown subject: 404", (st, data))
    st, _, _ = get(n, subj + "&format=pdf")
    R.check(st == 400, "a bad format: 400", st)
    st, _, _ = get(n, subj, auth=None)
    R.check(st == 401, "nobody logged in: 401", st)


if __name__ == "__main__":
    sklib.test_main(main, Node())
