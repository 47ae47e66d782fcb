"""TAXII 2.1 conformance points that interoperability with other
implementations (taxii2-client among them) depends on, each against the real
server on 127.0.0.1, with the section of the TAXII 2.1 specification it
follows."""
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main  # noqa: E402
from sync_util import (add_peer, collection, grant, ids_in, import_objects,  # noqa: E402
                       indicator, make_node, sync)
from taxii_util import TAXII, Node, bearer, q  # noqa: E402

CT = {"Content-Type": TAXII}


def ind(i, oid=None, modified="2024-01-01T00:00:00.000Z"):
    return {"type": "indicator", "spec_version": "2.1", "id": oid or f"indicator--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00.000Z", "modified": modified,
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
            "pattern": f"[ipv4-addr:value = '198.51.100.{i % 250}']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z"}


def main():
    test_main(run, Node(), make_node("A"), make_node("B"))


def run(node, a, b, R):
    server(node, R)
    pull_history(a, b, R)


def server(node, R):
    node.partner("Alpha")
    node.account("ana", "Alpha", "pw-ana")
    tok = node.token("ana")
    A = bearer(tok)
    cid = str(uuid.uuid4())
    node.run("collection", "add", "feed", "--id", cid, "--alias", "feed",
             "--default-tlp", "green")
    node.run("collection", "add", "nobody", "--api-root", "second")  # no grant: not listed
    node.grant("Alpha", "feed", "--read", "--write")
    node.start()
    base = f"/api/collections/{cid}"
    objs = [ind(i) for i in range(3)]
    st, _, _ = node.request("POST", base + "/objects/", A, CT, {"objects": objs})
    R.check(st == 202, f"seed POST ({st})")

    unknown_match(node, R, base, A, objs)
    token_scheme(node, R, base, tok, objs)
    not_an_envelope(node, R, base, A)
    empty_results(node, R, base, A)
    per_object_versions(node, R, base, A)
    status_entries(node, R, base, A)
    discovery_config(node, R, A)


def unknown_match(node, R, base, A, objs):
    """3.4: a server MAY ignore filters it does not support; known ones are checked."""
    for path in ("/objects/", "/manifest/", f"/objects/{objs[0]['id']}/",
                 f"/objects/{objs[0]['id']}/versions/"):
        st, _, j = node.get_json(base + path + q({"match[relationship_type]": "uses",
                                                  "match[foo]": "bar"}), A)
        R.check(st == 200 and j and j.get("more") is False,
                f"unknown match[] ignored on {path} ({st})")
    st, _, j = node.get_json(base + "/objects/" + q({"match[foo]": "x",
                                                     "match[id]": objs[1]["id"]}), A)
    R.check(st == 200 and [o["id"] for o in j["objects"]] == [objs[1]["id"]],
            "known filters still apply beside an unknown one")
    for bad in ({"match[version]": "newest"}, {"match[spec_version]": "3.0"},
                {"match[id]": "not-an-id"}, {"match[type]": "Not A Type"}):
        st, hd, j = node.get_json(base + "/objects/" + q(dict(bad, **{"match[foo]": "x"})), A)
        R.check(st == 400 and hd.get("content-type") == TAXII and j["http_status"] == "400",
                f"known filter keeps its validation: {bad} ({st})")
    st, _, _ = node.get_json(base + f"/objects/{objs[0]['id']}/versions/" +
                             q({"match[type]": "indicator"}), A)
    R.check(st == 400, f"a known filter the endpoint does not take is still 400 ({st})")



def token_scheme(node, R, base, tok, objs):
    """taxii2-client's TokenAuth sends "Authorization: Token <token>": the same API token."""
    oid = objs[0]["id"]
    want = node.get_json(f"{base}/objects/{oid}/", bearer(tok))
    for auth in (f"Token {tok}", f"token {tok}", f"TOKEN  {tok}"):
        st, _, j = node.get_json(f"{base}/objects/{oid}/", auth)
        R.check(st == 200 and j == want[2] and j["objects"][0]["id"] == oid,
                f"'{auth.split()[0]}' scheme reads like Bearer ({st})")
    st, _, _ = node.request("POST", base + "/objects/", f"Token {tok}", CT,
                            {"objects": [ind(7)]})
    R.check(st == 202, f"'Token' scheme can write ({st})")
    for bad in (f"{tok[:-2]}xx", ""):
        bst, _, bj = node.get_json(f"{base}/objects/{oid}/", "Bearer " + bad)
        st, _, j = node.get_json(f"{base}/objects/{oid}/", "Token " + bad)
        R.check(st == 401 and st == bst and j == bj,
                f"a bad token under 'Token' fails as under Bearer ({st}, {bst})")
    st, _, _ = node.get_json(f"{base}/objects/{oid}/", "Tokens " + tok)
    R.check(st == 401, f"only the exact scheme name counts ({st})")



def not_an_envelope(node, R, base, A):
    """5.5: a body the server cannot process as an envelope is 422; one that is not
    JSON at all stays 400.  Nothing is stored from either."""
    probe = ind(11)
    for body in ([probe], [], "objects", 42, None, {}, {"more": False}, {"objects": probe},
                 {"objects": "x"}, {"type": "bundle", "id": f"bundle--{uuid.uuid4()}"}):
        raw = json.dumps(body).encode()
        st, hd, data = node.request("POST", base + "/objects/", A, CT, raw)
        j = json.loads(data) if data else {}
        R.check(st == 422 and hd.get("content-type") == TAXII and j.get("http_status") == "422",
                f"JSON but no envelope {raw[:40]!r}: 422 ({st})")
    for raw in (b'{"objects": [{"type": ', b"hello", b'[{"a": tru}]', b'{"a": tru}',
                b'"open', b'{"objects": []} {"objects": []}', b"", b"   ",
                b'{"objects":[{"a":"\xff"}]}'):
        st, hd, data = node.request("POST", base + "/objects/", A, CT, raw)
        j = json.loads(data) if data else {}
        R.check(st == 400 and j.get("http_status") == "400",
                f"malformed JSON {raw[:40]!r}: 400 ({st})")
    st, _, _ = node.get_json(f"{base}/objects/{probe['id']}/", A)
    R.check(st == 404, f"nothing stored from a refused body ({st})")
    st, _, data = node.request("POST", base + "/objects/", A, CT, b'{"objects": []}')
    R.check(st == 202, f"an envelope with no objects is still an envelope ({st})")



def no_date_headers(hd):
    return not any(k.startswith("x-taxii-date-added") for k in hd)


def empty_results(node, R, base, A):
    """An empty list is omitted (3.7, 5.1.1, 5.3.1, 5.8.1); the paged resources keep
    "more"; the date-added headers describe the objects returned (3.2): none, none."""
    st, hd, j = node.get_json("/second/collections/", A)
    R.check(st == 200 and j == {} and hd.get("content-type") == TAXII,
            f"no visible collection: {{}} ({st} {j})")
    st, _, j = node.get_json("/api/collections/", A)
    R.check(st == 200 and len(j.get("collections", [])) == 1, "collections listed when there are")
    for path in ("/objects/", "/manifest/"):
        st, hd, j = node.get_json(base + path + q({"match[type]": "malware"}), A)
        R.check(st == 200 and j == {"more": False} and no_date_headers(hd),
                f"empty {path}: {{'more': false}}, no date headers ({st} {j} {sorted(hd)})")
        st, hd, j = node.get_json(base + path + q({"match[type]": "indicator"}), A)
        R.check(st == 200 and j.get("objects") and hd.get("x-taxii-date-added-first")
                and hd.get("x-taxii-date-added-last"), f"non-empty {path} keeps list and headers")
    # an object whose versions go away between two pages: the next page is empty
    oid = f"indicator--{uuid.uuid4()}"
    vers = [ind(20, oid, f"2024-0{m}-01T00:00:00.000Z") for m in (1, 2, 3)]
    st, _, _ = node.request("POST", base + "/objects/", A, CT, {"objects": vers})
    R.check(st == 202, f"three versions posted ({st})")
    tokens = {}
    for path, params in ((f"/objects/{oid}/versions/", {}),
                         (f"/objects/{oid}/", {"match[version]": "all"})):
        st, _, j = node.get_json(base + path + q(dict(params, limit="1")), A)
        R.check(st == 200 and j.get("more") is True and j.get("next"), f"first page of {path}")
        tokens[path] = (params, j.get("next"))
    st, _, _ = node.request("DELETE", f"{base}/objects/{oid}/" + q({"match[version]": "all"}), A)
    R.check(st == 200, f"versions deleted ({st})")
    for path, (params, nxt) in tokens.items():
        st, hd, j = node.get_json(base + path + q(dict(params, limit="1", next=nxt)), A)
        R.check(st == 200 and j == {"more": False} and no_date_headers(hd),
                f"empty next page of {path}: {{'more': false}} ({st} {j})")




def per_object_versions(node, R, base, A):
    """3.4.1: versions are chosen per object across the spec versions asked for;
    5.6, 5.8.1: an object whose versions the filters all leave out is an empty
    200, an unknown (or hidden) one 404."""
    oid = f"indicator--{uuid.uuid4()}"
    v20 = {"type": "indicator", "id": oid, "created": "2024-01-01T00:00:00.000Z",
           "modified": "2024-01-01T00:00:00.000Z", "labels": ["malicious-activity"],
           "pattern": "[ipv4-addr:value = '192.0.2.20']", "valid_from": "2024-01-01T00:00:00Z",
           "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}
    v21 = dict(ind(21, oid, "2024-02-01T00:00:00.000Z"))
    for o in (v20, v21):
        st, _, _ = node.request("POST", base + "/objects/", A, CT, {"objects": [o]})
        R.check(st == 202, f"POST a {o.get('spec_version', '2.0')} version ({st})")
    both = {"match[id]": oid, "match[spec_version]": "2.0,2.1"}

    def spec_versions(path, params):
        st, _, j = node.get_json(base + path + q(params), A)
        objs = (j or {}).get("objects", [])
        return st, [(o.get("spec_version", "2.0"), o.get("modified") or o.get("version"))
                    for o in objs]

    st, got = spec_versions("/objects/", both)
    R.check(st == 200 and got == [("2.1", "2024-02-01T00:00:00.000Z")],
            f"last across 2.0 and 2.1 is one version, the 2.1 one ({got})")
    st, got = spec_versions("/objects/", dict(both, **{"match[version]": "first"}))
    R.check(st == 200 and got == [("2.0", "2024-01-01T00:00:00.000Z")],
            f"first across 2.0 and 2.1 is one version, the 2.0 one ({got})")
    st, got = spec_versions("/objects/", {"match[id]": oid})
    R.check(st == 200 and len(got) == 1 and got[0][0] == "2.1",
            f"without spec_version: the latest spec only ({got})")
    st, _, j = node.get_json(base + "/manifest/" + q(both), A)
    R.check(st == 200 and len(j.get("objects", [])) == 1,
            f"the manifest lists the object once ({st})")
    st, got = spec_versions(f"/objects/{oid}/", {"match[spec_version]": "2.0,2.1"})
    R.check(st == 200 and len(got) == 1, f"the object endpoint gives one version ({got})")
    st, got = spec_versions(f"/objects/{oid}/", {"match[spec_version]": "2.0,2.1",
                                                 "match[version]": "all"})
    R.check(st == 200 and len(got) == 2, f"match[version]=all gives both ({got})")

    for path, params in ((f"/objects/{oid}/", {"match[version]": "2030-01-01T00:00:00.000Z"}),
                         (f"/objects/{oid}/", {"added_after": "2099-01-01T00:00:00Z"}),
                         (f"/objects/{oid}/versions/", {"added_after": "2099-01-01T00:00:00Z"}),
                         (f"/objects/{oid}/", {"match[spec_version]": "2.0",
                                              "match[version]": "2024-02-01T00:00:00.000Z"})):
        st, hd, j = node.get_json(base + path + q(params), A)
        R.check(st == 200 and j == {"more": False} and no_date_headers(hd),
                f"filtered-out object is an empty 200 on {path} {params} ({st} {j})")
    st, _, _ = node.get_json(base + f"/objects/indicator--{uuid.uuid4()}/", A)
    R.check(st == 404, f"an unknown object is still 404 ({st})")
    # 5.2.1, 5.3.1: a collection holding 2.0 objects advertises version=2.0, and every
    # manifest entry's media_type is one of the collection's
    st, _, coll = node.get_json(base + "/", A)
    types = coll.get("media_types", []) if coll else []
    R.check(st == 200 and "application/stix+json;version=2.0" in types
            and "application/stix+json;version=2.1" in types,
            f"the collection advertises 2.0 beside 2.1 ({types})")
    st, _, man = node.get_json(base + "/manifest/" + q({"match[version]": "all",
                                                         "match[spec_version]": "2.0,2.1"}), A)
    R.check(st == 200 and all(m["media_type"] in types for m in man.get("objects", [])),
            "every manifest media_type is one the collection advertises")
    st, _, cols = node.get_json(base.rsplit("/collections/", 1)[0] + "/collections/", A)
    others = [c for c in (cols or {}).get("collections", []) if not base.endswith(c["id"])]
    R.check(all(c["media_types"] == ["application/stix+json;version=2.1"] for c in others),
            f"a collection without 2.0 objects advertises 2.1 only ({others})")


def status_entries(node, R, base, A):
    """4.3.1: every entry of successes and failures has id and version."""
    good = ind(40)
    bad = dict(ind(41))
    del bad["pattern"]
    nover = dict(ind(42))
    del nover["modified"]
    nover["created"] = "not a time"
    st, _, raw = node.request("POST", base + "/objects/", A, CT, {"objects": [good, bad, nover]})
    j = json.loads(raw) if raw else None
    R.check(st == 202 and j, f"POST with bad objects ({st})")
    if not j:
        return
    sid = j["id"]
    st, _, s = node.get_json(base.rsplit("/collections/", 1)[0] + f"/status/{sid}/", A)
    entries = s.get("successes", []) + s.get("failures", []) if s else []
    R.check(st == 200 and len(entries) == 3, f"status lists the three objects ({st} {s})")
    R.check(all(isinstance(e.get("id"), str) and isinstance(e.get("version"), str)
                and e["version"].endswith("Z") for e in entries),
            f"each entry has id and version ({entries})")
    fails = {e["id"]: e for e in s.get("failures", [])}
    R.check(fails.get(bad["id"], {}).get("version") == bad["modified"],
            f"a failure carries the version it was sent with ({fails.get(bad['id'])})")


def discovery_config(node, R, A):
    """Discovery and API roots say what `schakel config` sets; a root can be
    renamed or disabled, and the default chosen."""
    st, _, d = node.get_json("/taxii2/", A)
    R.check(st == 200 and d["title"] == "schakel" and "contact" not in d,
            f"discovery defaults ({d})")
    for k, v in (("taxii.title", "NCC TAXII (test)"), ("taxii.description", "early warning"),
                 ("taxii.contact", "soc@ncc.example"), ("taxii.root.second.title", "Second"),
                 ("taxii.root.second.description", "the other root"),
                 ("taxii.default_root", "second")):
        r = node.run("config", "set", k, v)
        R.check(r.code == 0, f"config set {k} ({r.err.strip()})")
    r = node.run("config", "get", "taxii.root.second.title")
    R.check(r.code == 0 and r.out.strip() == "Second", f"config get a root's title ({r.out})")
    st, _, d = node.get_json("/taxii2/", A)
    R.check(st == 200 and d["title"] == "NCC TAXII (test)" and d["description"] == "early warning"
            and d["contact"] == "soc@ncc.example", f"discovery says what is set ({d})")
    R.check(d["default"].endswith("/second/") and len(d["api_roots"]) == 2,
            f"the default root is the configured one ({d.get('default')})")
    st, _, j = node.get_json("/second/", A)
    R.check(st == 200 and j["title"] == "Second" and j["description"] == "the other root",
            f"the API root says its title and description ({j})")
    r = node.run("config", "set", "taxii.root.second.name", "other")
    R.check(r.code == 0, f"rename a root ({r.err.strip()})")
    st, _, d = node.get_json("/taxii2/", A)
    R.check(d["default"].endswith("/other/") and node.get_json("/second/", A)[0] == 404
            and node.get_json("/other/", A)[0] == 200, f"renamed: new URL, default follows ({d})")
    r = node.run("config", "set", "taxii.root.api.enabled", "false")
    R.check(r.code == 0, f"disable the built-in root ({r.err.strip()})")
    st, _, d = node.get_json("/taxii2/", A)
    R.check(all("/api/" not in u for u in d["api_roots"]), f"a disabled root is not listed ({d})")
    st, _, _ = node.get_json("/api/collections/", A)
    R.check(st == 404, f"a disabled root answers 404 ({st})")
    r = node.run("config", "set", "taxii.root.api.enabled", "true")
    st, _, _ = node.get_json("/api/collections/", A)
    R.check(r.code == 0 and st == 200, f"enabled again ({st})")
    for k, v, why in (("taxii.root.nope.title", "x", "unknown root"),
                      ("taxii.root.api.name", "taxii2", "reserved name"),
                      ("taxii.root.api.name", "other", "name taken"),
                      ("taxii.root.api.enabled", "maybe", "not a boolean"),
                      ("taxii.default_root", "nope", "unknown default")):
        r = node.run("config", "set", k, v, check=False)
        R.check(r.code != 0 and r.err.strip(), f"refused: {why} ({r.code} {r.err.strip()})")
    for k, v in (("taxii.root.other.name", "second"), ("taxii.default_root", "api")):
        node.run("config", "set", k, v)

def versions_in(node, coll):
    got = {}
    for o in ids_in(node, coll, all_versions=True):
        got.setdefault(o["id"], set()).add(o["modified"])
    return got


def pull_history(a, b, R):
    """As a client: a pull asks for match[version]=all (3.4 / 5.4: a server returns only
    the latest version by default), so B keeps the history A has."""
    collection(a, "share")
    collection(b, "inbox")
    a.start("--no-sync", "--page-size", "2")
    tok = grant(a, b, "share", read=True)
    add_peer(b, a, tok, "share", "inbox")
    mods = [f"2024-0{m}-01T00:00:00.000Z" for m in (1, 2, 3)]
    x, y = f"indicator--{uuid.uuid4()}", f"indicator--{uuid.uuid4()}"
    for m in mods:  # x: versions added oldest first, one import each
        import_objects(a, [indicator(a.ident, "green", x, m)], "share")
    for m in (mods[2], mods[0], mods[1]):  # y: the newest added first, older ones after
        import_objects(a, [indicator(a.ident, "green", y, m)], "share")
    r = sync(b, "A")
    R.check(r["rc"] == 0, f"pull ok ({r.get('stderr')})")
    got = versions_in(b, "inbox")
    R.check(got.get(x) == set(mods) and got.get(y) == set(mods),
            f"every version pulled, whatever order the peer added them in ({got})")
    later = "2024-04-01T00:00:00.000Z"
    import_objects(a, [indicator(a.ident, "green", x, later)], "share")
    r = sync(b, "A")
    R.check(r["rc"] == 0 and r.get("stored") == 1, f"a new version is pulled once ({r})")
    R.check(versions_in(b, "inbox").get(x) == set(mods) | {later}, "history grows by one")
    r = sync(b, "A")
    R.check(r["rc"] == 0 and r.get("requests") == 1 and r.get("stored") == 0,
            f"nothing new: one request ({r})")
    peer_set(a, b, R)


def peer_set(a, b, R):
    """`peer set` changes a peer without resetting its cursor (the remote
    collection changing is the one exception); a missing --local-collection
    is created."""
    r = b.run("peer", "set", "A", "--interval", "7", "--reshare", "--local-collection", "fresh")
    R.check(r.code == 0 and "sync state is kept" in r.err, f"peer set ({r.err.strip()})")
    lst = b.run("peer", "list").out
    R.check("fresh" in lst and "7" in lst and "reshare" in lst,
            f"peer list shows the new settings ({lst.strip()})")
    R.check("fresh" in b.run("collection", "list").out, "--local-collection created when missing")
    r = sync(b, "A")
    R.check(r["rc"] == 0 and r.get("requests") == 1 and r.get("stored") == 0,
            f"the cursor survived peer set: nothing pulled again ({r})")
    r = b.run("peer", "set", "A", "--no-pull", "--no-push", check=False)
    R.check(r.code == 2 and "pulled from, pushed to" in r.err,
            f"a peer that neither pulls nor pushes is refused ({r.err.strip()})")
    r = b.run("peer", "set", "nobody", "--interval", "5", check=False)
    R.check(r.code == 1 and "no peer" in r.err, f"an unknown peer ({r.err.strip()})")
    r = b.run("peer", "set", "A", "--url", "ftp://x.example/", check=False)
    R.check(r.code == 2, f"a bad URL is refused as on add ({r.err.strip()})")
    collection(a, "other")
    tok = grant(a, b, "other", read=True)
    r = b.run("peer", "set", "A", "--collection", "other", "--secret-stdin",
              stdin=tok + "\n")
    R.check(r.code == 0 and "starts from the beginning" in r.err,
            f"another remote collection resets the cursor ({r.err.strip()})")
    import_objects(a, [indicator(a.ident, "green", f"indicator--{uuid.uuid4()}",
                                 "2024-05-01T00:00:00.000Z")], "other")
    r = sync(b, "A")
    R.check(r["rc"] == 0 and r.get("stored") == 1, f"pulled from the new collection ({r})")
    R.check(len(ids_in(b, "fresh")) == 1, "into the new local collection")


if __name__ == "__main__":
    main()
