#!/usr/bin/env python3
"""bench/console_api.py - latency of the console's API calls, as the pages make
them, on one connection (p50, p95, max over N calls each), against a running
`schakel serve`; and the TAXII objects call beside them as the peer path.

usage: console_api.py URL USER PASSWORD [N]

Prints one line per call; exits 0.  Run by bench/console.sh.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse


def main():
    url, user, pw = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    u = urllib.parse.urlparse(url)
    con = http.client.HTTPConnection(u.hostname, u.port, timeout=120)

    def req(method, path, body=None, headers=None):
        h = dict(headers or {})
        if cookie:
            h["Cookie"] = cookie
        data = json.dumps(body).encode() if body is not None else None
        if data:
            h["Content-Type"] = "application/json"
        con.request(method, path, body=data, headers=h)
        r = con.getresponse()
        out = r.read()
        return r.status, r.getheader("Set-Cookie"), out

    cookie = None
    st, sc, out = req("POST", "/ui/api/login", {"user": user, "password": pw})
    if st != 200:
        print(f"login failed: {st} {out[:200]}")
        return 1
    cookie = sc.split(";")[0]

    # ids the pages would open: an ATT&CK technique, APT28, an indicator
    def first(q, typ):
        st, _, out = req("GET", "/ui/api/search?" + urllib.parse.urlencode(
            {"q": q, "type": typ, "limit": 1}))
        res = json.loads(out).get("results", []) if st == 200 else []
        return res[0]["id"] if res else None
    tech = first("T1566", "attack-pattern")
    apt28 = first("APT28", "intrusion-set")
    ind = first("198.51.100.1", "indicator") or first("maltrail", "indicator")

    calls = [
        ("me", "/ui/api/me"),
        ("overview (30 days)", "/ui/api/overview?since=" +
         time.strftime("%Y-%m-%d", time.gmtime(time.time() - 30 * 86400))),
        ("alerts", "/ui/api/alerts?limit=50"),
        ("facets", "/ui/api/facets"),
        ("search q=T1566", "/ui/api/search?q=T1566"),
        ("search q=APT28", "/ui/api/search?q=APT28"),
        ("search q=198.51.100.1 (an IP)", "/ui/api/search?q=198.51.100.1"),
        ("search q=phishing", "/ui/api/search?q=phishing"),
        ("list type=indicator", "/ui/api/search?type=indicator&limit=50"),
        ("list type=intrusion-set", "/ui/api/search?type=intrusion-set&limit=50"),
        ("actors", "/ui/api/actors"),
        ("actors country=RU sector=government", "/ui/api/actors?country=RU&sector=government"),
        ("sectors", "/ui/api/sectors"),
        ("sector water", "/ui/api/sectors/water"),
    ]
    if tech:
        calls += [("object (technique)", f"/ui/api/objects/{tech}"),
                  ("graph (technique)", f"/ui/api/graph?id={tech}")]
    if apt28:
        calls += [("object (APT28)", f"/ui/api/objects/{apt28}"),
                  ("graph (APT28)", f"/ui/api/graph?id={apt28}"),
                  ("actor (APT28, matrix)", f"/ui/api/actors/{apt28}"),
                  ("timeline (APT28)", f"/ui/api/timeline?id={apt28}")]
    if ind:
        calls += [("object (indicator)", f"/ui/api/objects/{ind}")]
    print(f"{'call':44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>9}")
    worst = []
    for name, path in calls:
        ts, size = [], 0
        req("GET", path)  # warm
        for _ in range(n):
            t0 = time.perf_counter()
            st, _, out = req("GET", path)
            ts.append((time.perf_counter() - t0) * 1000)
            size = len(out)
            if st != 200:
                print(f"{name}: status {st} {out[:120]}")
                break
        ts.sort()
        p95 = ts[min(len(ts) - 1, int(len(ts) * 0.95))]
        worst.append((p95, name))
        print(f"{name:44} {statistics.median(ts):8.1f} {p95:8.1f} {ts[-1]:8.1f} {size:9}")
    worst.sort(reverse=True)
    print(f"slowest p95: {worst[0][1]} {worst[0][0]:.1f} ms; "
          f"calls over 100 ms at p95: {sum(1 for p, _ in worst if p > 100)} of {len(worst)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
