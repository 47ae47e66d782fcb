"""TAXII 2.1 over real HTTP on 127.0.0.1: every endpoint, filters, paging,
content negotiation, every error status, bad input (malformed and oversized
bodies, huge and repeated query parameters, bad next tokens, invalid UTF-8,
slow clients), a client walk, TLS, and clean shutdown."""
import json
import os
import socket
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import WAIT, test_main  # noqa: E402
from taxii_util import TAXII, Node, basic, bearer, q, walk  # noqa: E402

CT = {"Content-Type": TAXII}


def ind(i, oid=None, modified="2024-01-01T00:00:00.000Z", spec="2.1", typ="indicator"):
    o = {"type": typ, "id": oid or f"{typ}--{uuid.uuid4()}",
         "created": "2024-01-01T00:00:00.000Z", "modified": modified,
         "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}
    if typ == "indicator":
        o.update(pattern=f"[ipv4-addr:value = '203.0.113.{i % 250}']", pattern_type="stix",
                 valid_from="2024-01-01T00:00:00Z")
    else:
        o.update(name=f"Example {i}", is_family=False)
    if spec == "2.1":
        o["spec_version"] = "2.1"
    else:
        o.pop("object_marking_refs")  # (2.0 objects stay unmarked: collection default)
        o.pop("is_family", None)
        o["labels"] = ["malicious-activity"]
        if typ == "indicator":
            o.pop("pattern_type")
    return o


def main():
    test_main(run, Node())


def run(node, R):
    node.partner("Alpha")
    node.account("ana", "Alpha", "correct horse")
    node.account("ro", "Alpha", "ro-pass")
    tok = node.token("ana")
    A = bearer(tok)
    cid = str(uuid.uuid4())
    node.run("collection", "add", "feed", "--id", cid, "--alias", "feed",
             "--default-tlp", "green", "--title", "Feed")
    node.run("collection", "add", "other", "--api-root", "second", "--alias", "other")
    node.grant("Alpha", "feed", "--read", "--write")
    node.grant("Alpha", "other", "--read")
    node.start("--page-size", "50", "--max-content-length", "200000", "--timeout", "2")
    base = f"/api/collections/{cid}"

    # --- discovery, api roots, collections ----------------------------------------------
    st, hd, j = node.get_json("/taxii2/", A)
    R.check(st == 200 and hd["content-type"] == TAXII, f"discovery {st}")
    R.check(len(j["api_roots"]) == 2 and j["default"].endswith("/api/"), f"api roots {j}")
    st, _, j2 = node.get_json("/taxii2", A)
    R.check(st == 200 and j2 == j, "no trailing slash works too")
    st, _, j = node.get_json("/api/", basic("ana", "correct horse"))
    R.check(st == 200 and j["max_content_length"] == 200000 and TAXII in j["versions"],
            f"api root {j}")
    st, _, j = node.get_json("/second/collections/", A)
    R.check(st == 200 and len(j["collections"]) == 1, "second API root has its collection")
    st, _, j = node.get_json("/api/collections/", A)
    R.check(st == 200 and [c["id"] for c in j["collections"]] == [cid], f"collections {j}")
    c = j["collections"][0]
    R.check(c["can_read"] and c["can_write"] and c["alias"] == "feed" and c["title"] == "Feed",
            f"collection resource {c}")
    st, _, j = node.get_json(f"{base}", A)
    R.check(st == 200 and j["id"] == cid, "collection GET")
    st, _, j = node.get_json("/api/collections/feed/", A)
    R.check(st == 200 and j["id"] == cid, "collection by alias")
    st, _, _ = node.get_json("/nope/", A)
    R.check(st == 404, "unknown api root 404")

    # --- POST -----------------------------------------------------------------------------
    objs = [ind(i) for i in range(120)]
    multi = f"indicator--{uuid.uuid4()}"
    objs += [ind(500, multi, "2024-02-01T00:00:00.000Z"), ind(501, multi, "2024-03-01T00:00:00.000Z")]
    m20 = f"malware--{uuid.uuid4()}"
    objs += [ind(600, m20, spec="2.0", typ="malware"), ind(601, m20, spec="2.1", typ="malware")]
    st, hd, data = node.request("POST", base + "/objects/", A, CT, {"objects": objs})
    s = json.loads(data)
    R.check(st == 202 and s["success_count"] == len(objs) and s["failure_count"] == 0,
            f"POST {st} {s.get('success_count')}")
    R.check(hd["content-type"] == TAXII, "POST answers TAXII media type")
    st, _, data = node.request("POST", base + "/objects/", A, CT, {"objects": objs[:3]})
    s = json.loads(data)
    R.check(st == 202 and s["success_count"] == 3 and
            all(d.get("message") == "already present" for d in s["successes"]),
            "re-posting: success, already present")
    st, _, s2 = node.get_json(f"/api/status/{s['id']}/", A)
    R.check(st == 200 and s2["id"] == s["id"] and s2["status"] == "complete", f"status GET {st} {s2}")
    st, _, _ = node.get_json(f"/api/status/{uuid.uuid4()}/", A)
    R.check(st == 404, "unknown status 404")

    # --- objects and filters --------------------------------------------------------------
    total_latest = 120 + 1 + 1
    items, st, heads = walk(node, base + "/objects/", A, limit=7)
    R.check(st == 200 and len(items) == total_latest, f"walk {st} {len(items or [])}")
    R.check(len({o["id"] for o in items}) == total_latest, "each object once")
    st, hd, j = node.get_json(base + "/objects/" + q({"limit": "1000"}), A)
    R.check(st == 200 and len(j["objects"]) == 50 and j["more"], "limit clamped to page size")
    st, _, j = node.get_json(base + "/objects/" + q({"match[type]": "malware"}), A)
    R.check(st == 200 and len(j["objects"]) == 1 and j["objects"][0]["spec_version"] == "2.1",
            "match[type]; latest spec version by default")
    st, _, j = node.get_json(base + "/objects/" + q({"match[type]": "malware",
                                                     "match[spec_version]": "2.0"}), A)
    R.check(st == 200 and len(j["objects"]) == 1 and "spec_version" not in j["objects"][0],
            "match[spec_version]=2.0")
    st, _, j = node.get_json(base + "/objects/" + q({"match[type]": "malware",
                                                     "match[spec_version]": "2.0,2.1"}), A)
    R.check(st == 200 and len(j["objects"]) == 1 and j["objects"][0]["spec_version"] == "2.1",
            "match[spec_version]=2.0,2.1: one version per object, the last (3.4.1)")
    st, _, j = node.get_json(base + "/objects/" + q({"match[type]": "malware",
                                                     "match[spec_version]": "2.0,2.1",
                                                     "match[version]": "all"}), A)
    R.check(st == 200 and len(j["objects"]) == 2, "match[spec_version]=2.0,2.1, all versions")
    ids = [objs[0]["id"], objs[1]["id"]]
    st, _, j = node.get_json(base + "/objects/" + q({"match[id]": ",".join(ids)}), A)
    R.check(st == 200 and sorted(o["id"] for o in j["objects"]) == sorted(ids), "match[id] OR")
    st, _, j = node.get_json(base + "/objects/" + q({"match[id]": ids[0], "match[type]": "malware"}), A)
    R.check(st == 200 and j.get("objects", []) == [], "different keys AND")
    st, _, j = node.get_json(base + "/objects/" + q({"match[id]": multi}), A)
    R.check([o["modified"] for o in j["objects"]] == ["2024-03-01T00:00:00.000Z"], "last default")
    st, _, j = node.get_json(base + "/objects/" + q({"match[id]": multi, "match[version]": "first"}), A)
    R.check([o["modified"] for o in j["objects"]] == ["2024-02-01T00:00:00.000Z"], "first")
    st, _, j = node.get_json(base + "/objects/" + q({"match[id]": multi, "match[version]": "all"}), A)
    R.check(len(j["objects"]) == 2, "all")
    st, _, j = node.get_json(base + "/objects/" + q({"match[id]": multi,
                                                     "match[version]": "2024-02-01T00:00:00Z"}), A)
    R.check([o["modified"] for o in j["objects"]] == ["2024-02-01T00:00:00.000Z"], "version timestamp")
    # added_after is strict, on date_added
    st, _, m = node.get_json(base + "/manifest/" + q({"limit": "10"}), A)
    da = [e["date_added"] for e in m["objects"]]
    st, hd, j = node.get_json(base + "/manifest/" + q({"added_after": da[4], "limit": "3"}), A)
    R.check([e["date_added"] for e in j["objects"]] == da[5:8], "added_after strict")
    R.check(hd["x-taxii-date-added-first"] == da[5] and hd["x-taxii-date-added-last"] == da[7],
            "date-added headers")
    R.check(len(da[0].split(".")[1]) == 7, "microsecond precision")
    # object, versions, manifest
    st, _, j = node.get_json(f"{base}/objects/{multi}/versions/", A)
    R.check(st == 200 and j["versions"] == ["2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"],
            f"versions {j}")
    st, _, j = node.get_json(f"{base}/objects/{multi}/", A)
    R.check(st == 200 and len(j["objects"]) == 1, "object GET")
    st, _, j = node.get_json(f"{base}/objects/indicator--{uuid.uuid4()}/", A)
    R.check(st == 404 and j["http_status"] == "404" and "title" in j, "missing object 404")
    # DELETE
    st, _, _ = node.request("DELETE", f"{base}/objects/{objs[5]['id']}/", A)
    st2, _, _ = node.get_json(f"{base}/objects/{objs[5]['id']}/", A)
    R.check(st == 200 and st2 == 404, f"DELETE removes the object from the collection {st} {st2}")
    st, _, _ = node.request("DELETE", f"{base}/objects/{objs[5]['id']}/", A)
    R.check(st == 404, "DELETE of missing -> 404")

    # --- errors ---------------------------------------------------------------------------
    st, hd, j = node.get_json(base + "/objects/", None)
    R.check(st == 401 and "www-authenticate" in hd and j["http_status"] == "401", "401 + challenge")
    st, hd, _ = node.get_json(base + "/objects/", basic("ana", "wrong"))
    R.check(st == 401 and hd["content-type"] == TAXII, "wrong password 401")
    st, _, _ = node.get_json(base + "/objects/", bearer("sk_forged"))
    R.check(st == 401, "forged token 401")
    st, hd, j = node.get_json(base + "/objects/", A, accept="application/json")
    R.check(st == 406 and hd["content-type"] == TAXII and j["http_status"] == "406", "406")
    st, _, _ = node.get_json(base + "/objects/", A, accept="application/taxii+json;version=2.0")
    R.check(st == 406, "406 for another TAXII version")
    st, _, _ = node.get_json(base + "/objects/", A, accept="application/taxii+json")
    R.check(st == 200, "Accept without version ok")
    st, hd, _ = node.request("POST", base + "/objects/", A, {"Content-Type": "application/json"},
                             {"objects": []})
    R.check(st == 415 and hd["content-type"] == TAXII, "415")
    st, _, _ = node.request("PUT", base + "/objects/", A)
    R.check(st == 405, "405")
    st, _, _ = node.get_json("/api/collections/other/objects/", A)
    R.check(st == 404, "collection in another API root 404")
    st, _, _ = node.request("POST", "/second/collections/other/objects/", A, CT, {"objects": []})
    R.check(st == 403, "POST without can_write 403")
    st, _, data = node.request("POST", base + "/objects/", A, CT, b'{"objects": [{"type": ')
    R.check(st == 400 and json.loads(data)["http_status"] == "400", "malformed JSON 400")
    st, _, _ = node.request("POST", base + "/objects/", A, CT, b'[{"type":"indicator"}]')
    R.check(st == 422, "JSON but not an envelope 422 (5.5)")
    st, _, _ = node.request("POST", base + "/objects/", A, CT, b'{"objects":[{"a":"\xff"}]}')
    R.check(st == 400, "invalid UTF-8 body 400")
    big = {"objects": [ind(i) for i in range(700)]}
    st, hd, _ = node.request("POST", base + "/objects/", A, CT, big)
    R.check(st == 413 and hd["content-type"] == TAXII, f"413 ({st})")
    probe = big["objects"][0]["id"]
    st, _, _ = node.get_json(f"{base}/objects/{probe}/", A)
    R.check(st == 404, "nothing stored from a rejected body")
    # a rejected object inside an envelope is not stored, the others are
    badobj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}"}
    good = ind(900)
    st, _, data = node.request("POST", base + "/objects/", A, CT, {"objects": [badobj, good]})
    s = json.loads(data)
    R.check(st == 202 and s.get("failure_count") == 1 and s.get("success_count") == 1,
            f"mixed envelope {st} {s}")
    st, _, _ = node.get_json(f"{base}/objects/{badobj['id']}/", A)
    R.check(st == 404, "rejected object not stored")
    for bad_q, what in [({"limit": "0"}, "limit 0"), ({"limit": "x"}, "limit x"),
                        ({"added_after": "yesterday"}, "bad added_after"),
                        ({"match[version]": "newest"}, "bad version"),
                        ({"match[spec_version]": "3.0"}, "bad spec"),
                        ({"match[id]": "not-an-id"}, "bad id"),
                        ({"next": "AAAA"}, "bad next"),
                        ({"next": "x" * 200}, "long next"),
                        ({"match[type]": ",".join(["indicator"] * 200)}, "too many values")]:
        st, hd, j = node.get_json(base + "/objects/" + q(bad_q), A)
        R.check(st == 400 and hd["content-type"] == TAXII and j and j["http_status"] == "400",
                f"400 for {what} ({st})")
    st, _, _ = node.get_json(base + "/objects/?limit=1&limit=2", A)
    R.check(st == 400, "repeated parameter 400")
    st, _, _ = node.get_json(base + "/objects/?" + "&".join(f"x{i}=1" for i in range(100)), A)
    R.check(st == 400, "too many parameters 400")
    st, _, _ = node.get_json(base + "/objects/?match[type]=" + "a" * 60000, A)
    R.check(st in (400, 414, 431), f"huge parameter rejected ({st})")
    st, _, _ = node.get_json(base + "/objects/?match[type]=%ff%fe", A)
    R.check(st == 400, "invalid UTF-8 in query 400")
    # a next token is bound to its filters and collection, and forging fails cleanly
    st, _, j = node.get_json(base + "/objects/" + q({"limit": "2"}), A)
    tok2 = j["next"]
    st, _, _ = node.get_json(base + "/objects/" + q({"limit": "2", "next": tok2,
                                                     "match[type]": "malware"}), A)
    R.check(st == 400, "next with other filters 400")
    forged = tok2[:-3] + ("AAA" if tok2[-3:] != "AAA" else "BBB")
    st, _, _ = node.get_json(base + "/objects/" + q({"limit": "2", "next": forged}), A)
    R.check(st == 400, "forged next 400")

    # --- slow client: an unfinished request times out, the server stays up ----------------------
    s = socket.create_connection((node.host, node.port), timeout=WAIT)
    s.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n")
    try:
        closed = s.recv(100) == b""  # blocks until the server gives up on the request
    except socket.timeout:
        closed = False
    except OSError:
        closed = True
    s.close()
    R.check(closed, "idle connection closed after the timeout")
    st, _, _ = node.get_json("/taxii2/", A)
    R.check(st == 200, "server alive after slow client")

    # --- token revocation ----------------------------------------------------------------
    node.run("token", "revoke", tok)
    st, _, _ = node.get_json("/taxii2/", A)
    R.check(st == 401, f"revoked token 401 ({st})")

    # --- access log: one JSON line per request, no secrets ------------------------------------
    rc = node.stop()
    R.check(rc == 0, f"clean exit on SIGTERM ({rc})")
    with open(os.path.join(node.dir, "access.log")) as f:
        lines = [l for l in f if l.startswith("{")]
    R.check(len(lines) > 50 and all("status" in json.loads(l) for l in lines), "JSON access log")
    text = "".join(lines)
    R.check(tok not in text and "correct horse" not in text and "Basic" not in text,
            "no secrets in the log")

    # --- plain HTTP off loopback is refused; TLS works ----------------------------------------
    p = node.run("serve", "--listen", "0.0.0.0:0", check=False)
    R.check(p.returncode == 2 and "insecure" in p.stderr, "plain HTTP off loopback refused")
    cert, key = os.path.join(node.dir, "c.pem"), os.path.join(node.dir, "k.pem")
    g = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                       capture_output=True)
    if g.returncode == 0:
        node.start("--tls-cert", cert, "--tls-key", key)
        R.check(node.url.startswith("https://"), "https URL")
        st, _, j = node.get_json("/api/", basic("ro", "ro-pass"))
        R.check(st == 200, f"HTTPS request ({st})")
        R.check(node.stop() == 0, "TLS server stops cleanly")
    else:
        print("note: openssl unavailable, TLS check skipped")


if __name__ == "__main__":
    main()
