"""The sharing policy as a matrix (docs/sharing-policy.md): every kind of
account x every marking x every way out of the node (objects, object,
manifest, versions, status details, X-TAXII-Date-Added headers, pagination
with next, `schakel export --for`).  Each cell asserts the exact permitted set:
nothing missing, nothing leaked, hidden objects indistinguishable from absent."""
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import Results  # noqa: E402
from taxii_util import Node, basic, bearer, q, walk  # noqa: E402

M = {  # marking ids -> (name, level)
    "clear": ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", 1),
    "green": ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", 2),
    "amber": ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", 3),
    "strict": ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", 4),
    "red": ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", 5),
    "white1": ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", 1),
    "green1": ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", 2),
    "amber1": ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", 3),
    "red1": ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", 5),
}
DEFAULT_LEVEL = 3  # the collection default: TLP:AMBER

n_ind = [0]


def indicator(marking=None, producer=None, oid=None, modified="2024-01-01T00:00:00.000Z"):
    n_ind[0] += 1
    o = {
        "type": "indicator", "spec_version": "2.1",
        "id": oid or f"indicator--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z", "modified": modified,
        "pattern": f"[ipv4-addr:value = '198.51.100.{n_ind[0] % 250}']",
        "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
    }
    if marking:
        o["object_marking_refs"] = [M[marking][0]]
    if producer:
        o["created_by_ref"] = producer
    return o


def matrix_objects(prod, producer_marks=(None, "clear", "green", "amber", "strict", "red",
                                          "amber1")):
    """The matrices' indicators: one per marking made here (TLP 2.0 and 1.0, and
    unmarked), one per marking in producer_marks produced by prod, and three
    objects whose versions change marking (the newest hidden, visible, and
    visible after a hidden one in the middle)."""
    objs = [indicator(mk) for mk in [None, "clear", "green", "amber", "strict", "red",
                                      "white1", "green1", "amber1", "red1"]]
    objs += [indicator(mk, producer=prod) for mk in producer_marks]
    x, y, z = (f"indicator--{uuid.uuid4()}" for _ in range(3))
    objs.append(indicator("green", oid=x, modified="2024-02-01T00:00:00.000Z"))
    objs.append(indicator("red", oid=x, modified="2024-03-01T00:00:00.000Z"))
    objs.append(indicator("amber", oid=y, modified="2024-02-01T00:00:00.000Z"))
    objs.append(indicator("clear", oid=y, modified="2024-03-01T00:00:00.000Z"))
    objs.append(indicator("green", oid=z, modified="2024-02-01T00:00:00.000Z"))
    objs.append(indicator("strict", oid=z, modified="2024-03-01T00:00:00.000Z"))
    objs.append(indicator("clear", oid=z, modified="2024-04-01T00:00:00.000Z"))
    return objs


def import_matrix(node, objs, *colls):
    """Import objs into each collection: those made here as a file, the
    Producer's own as received from it (--from Producer): received TLP:AMBER
    and stricter go only back to their producer or source."""
    for name, part, src in (("m.json", [o for o in objs if "created_by_ref" not in o], ()),
                            ("p.json", [o for o in objs if "created_by_ref" in o],
                             ("--from", "Producer"))):
        bundle = os.path.join(node.dir, name)
        with open(bundle, "w") as f:
            json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": part}, f)
        for c in colls:
            node.run("import", "--quiet", "--collection", c, *src, bundle, check=True)


def main():
    R = Results()
    with Node() as node:
        try:
            run(node, R)
        finally:
            rc = node.stop()
            R.check(rc == 0, f"server exits 0 on SIGTERM (got {rc})")
    R.finish()


def run(node, R):
    # --- partners, accounts, grants -------------------------------------------------
    ident = {}
    for p in ["Reader", "Amber", "Strict", "Producer", "RedOrg", "Outsider"]:
        ident[p] = node.partner(p, "--country", "NL")
    accounts = {"reader": "Reader", "amber": "Amber", "strict": "Strict",
                "producer": "Producer", "red1": "RedOrg", "red2": "RedOrg",
                "outsider": "Outsider"}
    auth = {"anonymous": None}
    for a, p in accounts.items():
        if a == "reader":
            auth[a] = basic(a, node.account(a, p))  # the password schakel made
        else:
            node.account(a, p, "pw-" + a)
            auth[a] = bearer(node.token(a))
    cid = str(uuid.uuid4())
    node.run("collection", "add", "matrix", "--id", cid, "--alias", "mx", "--public")
    node.run("collection", "add", "private", "--default-tlp", "clear", "--alias", "private")
    node.grant("Reader", "matrix", "--read", "--write")
    node.grant("Amber", "matrix", "--read", "--amber")
    node.grant("Strict", "matrix", "--read", "--amber-strict")
    node.grant("Producer", "matrix", "--read")
    node.grant("RedOrg", "matrix", "--read")
    node.run("collection", "red-recipient", "red1", "matrix")

    # --- objects: every marking, producer variants, multi-version objects ------------------
    prod = ident["Producer"]
    objs = matrix_objects(prod, (None, "amber", "strict", "red", "amber1"))
    import_matrix(node, objs, "matrix", "private")

    def level(o):
        refs = o.get("object_marking_refs")
        return max(M[k][1] for k in M if M[k][0] in refs) if refs else DEFAULT_LEVEL

    def may(acct, o):
        lv = level(o)
        if acct == "anonymous" or acct == "outsider":  # public collection, no grant
            return lv == 1
        p = accounts[acct]
        producer = o.get("created_by_ref") == ident[p]
        if lv in (1, 2):
            return True
        if "created_by_ref" in o:  # received from its producer: AMBER+ only back to it
            return producer
        if lv == 3:
            return p == "Amber" or producer
        if lv == 4:
            return p == "Strict" or producer
        return acct == "red1"

    def versions_for(acct):
        return {(o["id"], o["modified"]) for o in objs if may(acct, o)}

    def latest_for(acct):
        best = {}
        for o in objs:
            if may(acct, o) and (o["id"] not in best or o["modified"] > best[o["id"]]):
                best[o["id"]] = o["modified"]
        return set(best.items())

    node.start()
    base = f"/api/collections/{cid}"
    all_ids = sorted({o["id"] for o in objs})
    missing = f"indicator--{uuid.uuid4()}"
    # what "absent" looks like, per account
    for acct, a in auth.items():
        exp_latest, exp_all = latest_for(acct), versions_for(acct)
        # objects, paged with limit 1 and 2: exactly the set, once each, no empty pages
        for lim in (1, 2, 5):
            items, st, heads = walk(node, base + "/objects/", a, limit=lim)
            R.check(st == 200, f"{acct}: objects walk limit {lim} -> {st}")
            if items is None:
                continue
            got = [(o["id"], o["modified"]) for o in items]
            R.check(len(got) == len(set(got)), f"{acct}: objects walk has duplicates")
            R.check(set(got) == exp_latest,
                    f"{acct}: objects (latest) limit {lim}: extra {set(got) - exp_latest}, "
                    f"missing {exp_latest - set(got)}")
            pages = len(heads)
            R.check(pages == max(1, -(-len(exp_latest) // lim)),
                    f"{acct}: {pages} pages for {len(exp_latest)} objects at limit {lim}")
        items, st, _ = walk(node, base + "/objects/", a, {"match[version]": "all"}, limit=3)
        got = {(o["id"], o["modified"]) for o in items or []}
        R.check(got == exp_all, f"{acct}: objects all versions: extra {got - exp_all}, "
                f"missing {exp_all - got}")
        # manifest with date-added headers
        items, st, heads = walk(node, base + "/manifest/", a, {"match[version]": "all"}, limit=2)
        got = {(m["id"], m["version"]) for m in items or []}
        R.check(got == exp_all, f"{acct}: manifest: extra {got - exp_all}, missing {exp_all - got}")
        if items:
            das = [m["date_added"] for m in items]
            R.check(heads[0].get("x-taxii-date-added-first") == das[0],
                    f"{acct}: X-TAXII-Date-Added-First is the first permitted row")
            R.check(heads[-1].get("x-taxii-date-added-last") == das[-1],
                    f"{acct}: X-TAXII-Date-Added-Last is the last permitted row")
        else:
            R.check(all("x-taxii-date-added-first" not in h for h in heads),
                    f"{acct}: no date-added headers on an empty page")
        # object and versions for every id: hidden == absent
        st_missing, _, j_missing = node.get_json(f"{base}/objects/{missing}/", a)
        for oid in all_ids:
            exp_v = sorted(m for i, m in exp_all if i == oid)
            st, hd, j = node.get_json(f"{base}/objects/{oid}/", a)
            if exp_v:
                ok = st == 200 and [o["modified"] for o in j["objects"]] == [exp_v[-1]]
                R.check(ok, f"{acct}: object {oid} -> {st} {j}")
            else:
                R.check(st == st_missing and j == j_missing and "x-taxii-date-added-first" not in hd,
                        f"{acct}: hidden object {oid} looks different from a missing one")
            st, hd, j = node.get_json(f"{base}/objects/{oid}/versions/", a)
            if exp_v:
                R.check(st == 200 and sorted(j["versions"]) == exp_v,
                        f"{acct}: versions of {oid}: {j} expected {exp_v}")
            else:
                R.check(st == st_missing, f"{acct}: versions of hidden {oid} -> {st}")
            st, hd, j = node.get_json(f"{base}/objects/{oid}/" + q({"match[version]": "all"}), a)
            if exp_v:
                R.check(st == 200 and sorted(o["modified"] for o in j["objects"]) == exp_v,
                        f"{acct}: object {oid} all versions")
        # the private collection: anonymous 401, others (no grant) 404 like a missing one
        st, _, _ = node.get_json("/api/collections/private/objects/", a)
        st2, _, _ = node.get_json(f"/api/collections/{uuid.uuid4()}/objects/", a)
        R.check(st == st2 == (401 if a is None else 404),
                f"{acct}: private collection {st}, missing collection {st2}")
        # export --for (partner view; red1 also as account)
        if acct not in ("anonymous",):
            who = accounts[acct] if acct not in ("red1", "red2") else acct
            out = node.run("export", "--for", who, "--collection", "matrix").stdout
            got = {(o["id"], o["modified"]) for o in json.loads(out)["objects"]}
            exp = exp_all if acct != "red2" else versions_for("red2")
            if acct not in ("red1", "red2") and accounts[acct] == "RedOrg":
                exp = {v for v in exp if True}
            R.check(got == exp, f"export --for {who}: extra {got - exp}, missing {exp - got}")
    # partner-level export of RedOrg: no RED (RED is per account)
    out = node.run("export", "--for", "RedOrg", "--collection", "matrix").stdout
    got = {(o["id"], o["modified"]) for o in json.loads(out)["objects"]}
    R.check(got == versions_for("red2"), "export --for RedOrg (partner) has no RED")

    # --- the alias works like the id ------------------------------------------------------
    st, _, j = node.get_json("/api/collections/mx/objects/", auth["amber"])
    R.check(st == 200 and len(j["objects"]) == len(latest_for("amber")), "alias addressing")

    # --- status details -----------------------------------------------------------------
    red_obj = next(o for o in objs if o.get("object_marking_refs") == [M["red"][0]]
                   and "created_by_ref" not in o)
    green_obj = next(o for o in objs if o.get("object_marking_refs") == [M["green"][0]]
                     and [p["id"] for p in objs].count(o["id"]) == 1)
    new_obj = indicator("clear")
    bad = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}"}
    env = {"objects": [red_obj, green_obj, new_obj, bad]}
    st, hd, data = node.request("POST", base + "/objects/", auth["reader"],
                                {"Content-Type": "application/taxii+json;version=2.1"}, env)
    s = json.loads(data)
    R.check(st == 202 and s["total_count"] == 4 and s["success_count"] == 3
            and s["failure_count"] == 1 and s["pending_count"] == 0, f"POST status {st} {s}")
    msgs = {d["id"]: d.get("message") for d in s["successes"]}
    R.check(msgs.get(green_obj["id"]) == "already present", "visible duplicate says already present")
    R.check(msgs.get(red_obj["id"]) is None and msgs.get(new_obj["id"]) is None,
            "hidden duplicate looks exactly like a new object")
    R.check(s["failures"][0]["id"] == bad["id"], "failure names the object")
    st2, _, s2 = node.get_json(f"/api/status/{s['id']}/", auth["reader"])
    R.check(st2 == 200 and s2["successes"] == s["successes"], "GET status = POST answer")
    for other in ("amber", "red1", "outsider"):
        st3, _, _ = node.get_json(f"/api/status/{s['id']}/", auth[other])
        R.check(st3 == 404, f"{other} cannot read reader's status ({st3})")
    st3, hd3, _ = node.get_json(f"/api/status/{s['id']}/", None)
    R.check(st3 == 401 and "www-authenticate" in hd3, "anonymous status -> 401")
    # the RED object is still hidden from the reader after re-posting it
    st, _, _ = node.get_json(f"{base}/objects/{red_obj['id']}/", auth["reader"])
    R.check(st == 404, "re-posting a hidden object does not reveal it")
    st, _, j = node.get_json(f"{base}/objects/{new_obj['id']}/", None)
    R.check(st == 200, "newly posted CLEAR object readable anonymously (public collection)")


if __name__ == "__main__":
    main()
