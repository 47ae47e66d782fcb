"""Benchmark helpers for bench/taxii.sh (stdlib only):
  walk URL AUTH LIMIT     full paged walk of a collection, prints objects and objects/s
  post URL AUTH FILE N    POST FILE's objects in envelopes of N, prints objects/s accepted
"""
import http.client
import json
import sys
import time
import urllib.parse

TAXII = "application/taxii+json;version=2.1"


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=600), u.path


def walk(url, auth, limit):
    c, path = conn(url)
    h = {"Accept": TAXII, "Authorization": auth}
    n, pages, nxt = 0, 0, None
    t0 = time.perf_counter()
    while True:
        qs = {"limit": limit}
        if nxt:
            qs["next"] = nxt
        c.request("GET", path + "?" + urllib.parse.urlencode(qs), headers=h)
        r = c.getresponse()
        body = json.loads(r.read())
        if r.status != 200:
            sys.exit(f"walk: HTTP {r.status}: {body}")
        n += len(body.get("objects", []))
        pages += 1
        if not body.get("more"):
            break
        nxt = body["next"]
    dt = time.perf_counter() - t0
    print(f"walk: {n} objects in {pages} pages, {dt:.3f} s, {n / dt:,.0f} objects/s")


def post(url, auth, path_file, per):
    objs = json.load(open(path_file))["objects"]
    c, path = conn(url)
    h = {"Accept": TAXII, "Content-Type": TAXII, "Authorization": auth}
    bodies = [json.dumps({"objects": objs[i:i + per]}).encode() for i in range(0, len(objs), per)]
    ok = 0
    pending = []
    t0 = time.perf_counter()
    for b in bodies:
        c.request("POST", path, body=b, headers=h)
        r = c.getresponse()
        s = json.loads(r.read())
        if r.status != 202:
            sys.exit(f"post: HTTP {r.status}: {s}")
        if s.get("status") == "complete":
            ok += s["success_count"]
        else:
            pending.append(s["id"])
    # large envelopes are imported in the background: poll their statuses
    root = path.split("/collections/")[0]
    deadline = time.time() + 300
    while pending and time.time() < deadline:
        sid = pending[0]
        c.request("GET", f"{root}/status/{sid}/", headers={"Accept": TAXII, "Authorization": auth})
        r = c.getresponse()
        s = json.loads(r.read())
        if r.status == 200 and s.get("status") == "complete":
            ok += s["success_count"]
            pending.pop(0)
        else:
            time.sleep(0.005)
    dt = time.perf_counter() - t0
    print(f"post: {ok} of {len(objs)} objects accepted in {dt:.3f} s, {ok / dt:,.0f} objects/s "
          f"(envelopes of {per})")


if __name__ == "__main__":
    if sys.argv[1] == "walk":
        walk(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        post(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
