#!/usr/bin/env python3
"""test_scan_oracle - `schakel scan` against an independent reference matcher (issue 4).

Copies the shared Zeek (TSV and JSON) and Suricata EVE logs into a temporary
directory, plants known indicator values from the shared feeds into some of
their records (maltrail domains, IPv4 addresses and CIDR ranges, URLs,
malicious-hash MD5/SHA-1/SHA-256, plus subdomains of planted domains), builds
a STIX 2.1 bundle of indicators (exact domains, domains under --subdomains,
IPv4/IPv6 and CIDR ISSUBSET, file and certificate hashes, URL, e-mail,
network-traffic dst address + port, and the multi-observation patterns
[A] AND [B], ([A] FOLLOWEDBY [B]) WITHIN n SECONDS and [A] REPEATS n TIMES),
imports it, runs `schakel scan --no-sightings --no-warninglists` on every
copy (with and without --subdomains) and requires the set of
(file, line, indicator) hits to equal the reference matcher's (scan_ref.py),
and for multi-observation hits the contributing records too.

Skips (77) when ../shared is absent or when the binary has no `scan` command
yet; strict once `scan` exists.  SK_KEEP_TMP=1 keeps the planted copies and
the node for a repro (paths are printed).
"""

import gzip
import ipaddress
import json
import os
import random
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
import scan_ref as ref  # noqa: E402

PSL_PATH = "/usr/share/publicsuffix/public_suffix_list.dat"
NS = uuid.UUID("5c4a2b1e-0f0d-4d6e-9a55-6f7261636c65")


def shared_root():
    root = os.environ.get("SK_SHARED") or os.path.join(os.path.dirname(sklib.REPO), "shared")
    d = os.path.join(root, "data")
    return d if os.path.isdir(os.path.join(d, "logs")) and os.path.isdir(os.path.join(d, "feeds")) else None


# --- feeds ------------------------------------------------------------------


def load_feeds(data):
    """A deterministic sample of feed values to plant."""
    doms, ips, cidrs, urls = [], [], [], []
    with gzip.open(os.path.join(data, "feeds", "maltrail", "maltrail_static.tsv.gz"), "rt",
                   encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f):
            p = line.rstrip("\n").split("\t")
            if len(p) < 2:
                continue
            v, kind = p[0], p[1]
            if kind == "domain" and n % 997 == 0 and len(doms) < 80:
                d = ref.norm_domain(v)
                if d and d.count(".") == 1 and "_" not in d and not d.startswith("-"):
                    doms.append(d)
            elif kind == "ipv4" and len(ips) < 40 and n % 7 == 0:
                if ref.norm_ip(v) and not ipaddress.ip_address(v).is_private:
                    ips.append(v)
            elif kind == "ipv4_cidr" and len(cidrs) < 4 and n % 3 == 0:
                try:
                    net = ipaddress.ip_network(v, strict=True)
                    if net.num_addresses >= 16 and not net.is_private:
                        cidrs.append(str(net))
                except ValueError:
                    pass
            elif kind == "url" and len(urls) < 4 and v.startswith("http://"):
                host, _, path = v[7:].partition("/")
                if path and ref.norm_domain(host) and " " not in v and "?" not in v:
                    urls.append((host, "/" + path))
    hashes = {}
    for alg in ("md5", "sha1", "sha256"):
        with open(os.path.join(data, "feeds", "malicious-hash", "full-hash-%s-aa.txt" % alg)) as f:
            vals = [x.strip().lower() for x in f if x.strip()]
        hashes[alg] = vals[100:110]
    assert len(doms) >= 40 and len(ips) >= 20 and len(cidrs) >= 2 and len(urls) >= 2, \
        (len(doms), len(ips), len(cidrs), len(urls))
    return doms, ips, cidrs, urls, hashes


# --- indicators -------------------------------------------------------------


class Plan:
    def __init__(self):
        self.inds = {}    # id -> tree
        self.names = {}   # id -> name

    def add(self, name, tree):
        iid = "indicator--" + str(uuid.uuid5(NS, name))
        self.inds[iid] = tree
        self.names[iid] = name
        return iid

    def bundle(self, path):
        objs = [ref.indicator_object(i, t, self.names[i]) for i, t in self.inds.items()]
        with open(path, "w") as f:
            json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid5(NS, "bundle")),
                       "objects": objs}, f, indent=1)


def dom(v):
    return ref.cmp("domain-name", "value", v)


def build(feeds):
    doms, ips, cidrs, urls, hashes = feeds
    P = Plan()
    D = iter(doms)
    I = iter(ips)
    v = {}  # planted values by role name
    for k in range(6):
        v["dom%d" % k] = next(D)
        P.add("domain exact %d" % k, dom(v["dom%d" % k]))
    v["dom_upper"] = next(D)
    P.add("domain given in upper case", dom(v["dom_upper"].upper()))
    v["dom_sub"] = next(D)
    P.add("domain, subdomains planted", dom(v["dom_sub"]))
    P.add("public suffix github.io as a domain", dom("github.io"))
    P.add("domain under an unlisted TLD", dom("corp-oracle.internal"))
    v["or_a"], v["or_b"] = next(D), next(D)
    P.add("domain A OR B", ("obs", ("OR", [("cmp", "domain-name", "value", "=", v["or_a"]),
                                           ("cmp", "domain-name", "value", "=", v["or_b"])])))
    for k in range(5):
        v["ip%d" % k] = next(I)
        P.add("ipv4 exact %d" % k, ref.cmp("ipv4-addr", "value", v["ip%d" % k]))
    for k, c in enumerate(cidrs[:2]):
        net = ipaddress.ip_network(c)
        v["cidr%d_in" % k] = str(net.network_address + 5)
        v["cidr%d_out" % k] = str(net.broadcast_address + 1)
        P.add("ipv4 CIDR %d" % k, ref.cmp("ipv4-addr", "value", c, "ISSUBSET"))
    v["nt_ip"] = next(I)
    P.add("network-traffic dst + port 53",
          ("obs", ("AND", [("cmp", "network-traffic", "dst_ref.value", "=", v["nt_ip"]),
                           ("cmp", "network-traffic", "dst_port", "=", 53)])))
    P.add("network-traffic dst type + address + port 53 (the maltrail ip:port form)",
          ("obs", ("AND", [("cmp", "network-traffic", "dst_ref.type", "=", "ipv4-addr"),
                           ("cmp", "network-traffic", "dst_ref.value", "=", v["nt_ip"]),
                           ("cmp", "network-traffic", "dst_port", "=", 53)])))
    P.add("network-traffic dst type ipv6 + ipv4 address (never)",
          ("obs", ("AND", [("cmp", "network-traffic", "dst_ref.type", "=", "ipv6-addr"),
                           ("cmp", "network-traffic", "dst_ref.value", "=", v["nt_ip"])])))
    v["nt_ip2"] = next(I)
    P.add("network-traffic dst + port 8443 (never)",
          ("obs", ("AND", [("cmp", "network-traffic", "dst_ref.value", "=", v["nt_ip2"]),
                           ("cmp", "network-traffic", "dst_port", "=", 8443)])))
    net = ipaddress.ip_network(cidrs[2] if len(cidrs) > 2 else cidrs[0])
    v["nt_cidr_in"] = str(net.network_address + 3)
    P.add("network-traffic dst ISSUBSET CIDR + port 443",
          ("obs", ("AND", [("cmp", "network-traffic", "dst_ref.value", "ISSUBSET", str(net)),
                           ("cmp", "network-traffic", "dst_port", "=", 443)])))
    P.add("ipv6 exact, compressed form", ref.cmp("ipv6-addr", "value", "2001:41d0:a:f78a::1"))
    P.add("ipv6 CIDR", ref.cmp("ipv6-addr", "value", "2a01:e0a::/32", "ISSUBSET"))
    v["md5"], v["sha1"], v["sha256"] = hashes["md5"][0], hashes["sha1"][0], hashes["sha256"][0]
    v["md5_upper"] = hashes["md5"][1]
    P.add("file MD5", ref.cmp("file", "hashes.MD5", v["md5"]))
    P.add("file MD5 given in upper case", ref.cmp("file", "hashes.MD5", v["md5_upper"].upper()))
    P.add("file SHA-1", ref.cmp("file", "hashes.SHA-1", v["sha1"]))
    P.add("file SHA-256", ref.cmp("file", "hashes.SHA-256", v["sha256"]))
    v["x509"] = hashes["sha256"][2]
    P.add("x509 SHA-256", ref.cmp("x509-certificate", "hashes.SHA-256", v["x509"]))
    P.add("x509 SHA-1 (EVE tls.fingerprint)",
          ref.cmp("x509-certificate", "hashes.SHA-1", "9330fe1ef2adaf216f4b11b9f255f3c1051617be"))
    v["url_host"], v["url_path"] = urls[0]
    P.add("url", ref.cmp("url", "value", "http://" + urls[0][0] + urls[0][1]))
    v["mail_a"] = "oracle.a@" + next(D)
    v["mail_b"] = "oracle.b@" + next(D)
    v["mail_c"] = "oracle.c@" + next(D)
    P.add("email-addr (mailfrom)", ref.cmp("email-addr", "value", v["mail_a"]))
    P.add("email-message from_ref", ref.cmp("email-message", "from_ref.value", v["mail_b"]))
    P.add("email-addr (rcptto)", ref.cmp("email-addr", "value", v["mail_c"]))
    # multi-observation
    v["and_a"], v["and_b"] = next(D), next(I)
    P.add("[domain] AND [ipv4]", ("and", [dom(v["and_a"]), ref.cmp("ipv4-addr", "value", v["and_b"])]))
    for tag in ("near", "far", "rev"):
        v["fb_%s_a" % tag], v["fb_%s_b" % tag] = next(D), next(D)
        P.add("FOLLOWEDBY WITHIN 60 SECONDS (%s)" % tag,
              ("followedby", dom(v["fb_%s_a" % tag]), dom(v["fb_%s_b" % tag]), 60))
    v["rep3"], v["rep2"] = next(D), next(D)
    P.add("REPEATS 3 TIMES (planted 3 times)", ("repeats", dom(v["rep3"]), 3))
    P.add("REPEATS 3 TIMES (planted twice)", ("repeats", dom(v["rep2"]), 3))
    return P, v


# --- planting ---------------------------------------------------------------


class LogCopy:
    """A log held as lines; set(line_no, field, value) rewrites one value."""

    def __init__(self, src):
        self.lines = [t for _, t in ref.open_lines(src)]
        self.tsv = self.lines[0].startswith("#")
        self.fields = None
        self.used = set()
        self.rows = []  # (line_no, ts, event) of data lines
        for no, t in enumerate(self.lines, 1):
            if self.tsv:
                if t.startswith("#fields"):
                    self.fields = {n: i for i, n in enumerate(t.split("\t")[1:])}
                elif t and not t.startswith("#"):
                    self.rows.append((no, float(t.split("\t")[0]), None))
            elif t.strip():
                d = json.loads(t)
                ts = d.get("ts", d.get("timestamp"))
                ts = ref.rfc3339_seconds(ts) if isinstance(ts, str) else ts
                self.rows.append((no, ts, d))

    def pick(self, rng, want=lambda d: True):
        cands = [r for r in self.rows if r[0] not in self.used and (r[2] is None or want(r[2]))]
        r = rng.choice(cands)
        self.used.add(r[0])
        return r[0]

    def pick_after(self, line, lo, hi):
        """An unused line whose time is lo..hi seconds after `line`'s."""
        t0 = next(r[1] for r in self.rows if r[0] == line)
        for r in self.rows:
            if r[0] > line and r[0] not in self.used and lo <= r[1] - t0 <= hi:
                self.used.add(r[0])
                return r[0]
        raise RuntimeError("no line %s..%s s after line %d" % (lo, hi, line))

    def set(self, no, field, value):
        t = self.lines[no - 1]
        if self.tsv:
            cols = t.split("\t")
            cols[self.fields[field]] = value
            self.lines[no - 1] = "\t".join(cols)
            return
        d = json.loads(t)
        cur = d
        keys = field.split("/")
        for k in keys[:-1]:
            cur = cur.setdefault(k, {})
        cur[keys[-1]] = value
        self.lines[no - 1] = json.dumps(d, separators=(",", ":"), ensure_ascii=False)

    def write(self, path):
        data = ("\n".join(self.lines) + "\n").encode("utf-8")
        if path.endswith(".gz"):
            with gzip.open(path, "wb") as f:
                f.write(data)
        else:
            with open(path, "wb") as f:
                f.write(data)


def plant_zeek_dns(c, v, rng):
    js = not c.tsv
    ans = (lambda x: [x]) if js else (lambda x: x)
    port = (lambda p: p) if js else str
    for k in range(6):
        c.set(c.pick(rng), "query", v["dom%d" % k])
    c.set(c.pick(rng), "query", v["dom0"] + ".")              # trailing dot
    c.set(c.pick(rng), "query", v["dom1"].upper())             # upper case in the log
    c.set(c.pick(rng), "answers", ans(v["dom2"]))
    c.set(c.pick(rng), "query", v["dom_upper"])
    for sub in ("", "www.", "a.b."):
        c.set(c.pick(rng), "query", sub + v["dom_sub"])
    c.set(c.pick(rng), "query", "x" + v["dom_sub"])           # not a subdomain
    c.set(c.pick(rng), "query", "evil-oracle.github.io")
    c.set(c.pick(rng), "query", "host.corp-oracle.internal")
    c.set(c.pick(rng), "query", v["or_a"])
    c.set(c.pick(rng), "query", v["or_b"])
    n = c.pick(rng)
    c.set(n, "query", v["or_a"])
    c.set(n, "answers", ans(v["or_b"]))                        # both in one record: one hit
    for k in range(5):
        c.set(c.pick(rng), "id.resp_h", v["ip%d" % k])
    c.set(c.pick(rng), "id.orig_h", v["ip0"])
    c.set(c.pick(rng), "answers", ans(v["ip1"]) if js else v["ip1"] + ",192.0.2.1")
    for k in range(2):
        c.set(c.pick(rng), "id.orig_h", v["cidr%d_in" % k])
        c.set(c.pick(rng), "id.resp_h", v["cidr%d_out" % k])
    n = c.pick(rng)
    c.set(n, "id.resp_h", v["nt_ip"])
    c.set(n, "id.resp_p", port(53))
    n = c.pick(rng)
    c.set(n, "id.orig_h", v["nt_ip"])                          # src, not dst
    c.set(n, "id.orig_p", port(53))
    n = c.pick(rng)
    c.set(n, "id.resp_h", v["nt_ip2"])
    c.set(n, "id.resp_p", port(53))
    a = c.pick(rng)
    c.set(a, "query", v["and_a"])
    c.set(c.pick(rng), "id.resp_h", v["and_b"])
    a = c.pick(rng, lambda d: True)
    c.set(a, "query", v["fb_near_a"])
    c.set(c.pick_after(a, 2, 40), "query", v["fb_near_b"])
    a = c.pick(rng)
    c.set(a, "query", v["fb_far_a"])
    c.set(c.pick_after(a, 300, 1e9), "query", v["fb_far_b"])
    a = c.pick(rng)
    c.set(a, "query", v["fb_rev_b"])
    c.set(c.pick_after(a, 2, 40), "query", v["fb_rev_a"])     # B before A
    for _ in range(3):
        c.set(c.pick(rng), "query", v["rep3"])
    for _ in range(2):
        c.set(c.pick(rng), "query", v["rep2"])


def plant_zeek_ssl(c, v, rng):
    js = not c.tsv
    for k in (3, 4):
        c.set(c.pick(rng), "server_name", v["dom%d" % k])
    c.set(c.pick(rng), "server_name", "www." + v["dom_sub"])
    c.set(c.pick(rng), "id.resp_h", v["ip2"])
    c.set(c.pick(rng), "id.resp_h", v["nt_cidr_in"])
    c.set(c.pick(rng), "cert_chain_fps", [v["x509"]] if js else v["x509"])


def plant_zeek_x509(c, v, rng):
    c.set(c.pick(rng), "fingerprint", v["x509"])
    c.set(c.pick(rng), "san.dns", v["dom5"] + ",www." + v["dom_sub"])


def plant_zeek_smtp(c, v, rng):
    c.set(c.pick(rng), "mailfrom", "<%s>" % v["mail_a"])
    c.set(c.pick(rng), "mailfrom", "<%s>" % v["mail_b"])
    c.set(c.pick(rng), "rcptto", "%s,<%s>" % ("someone@corp.example", v["mail_c"]))
    c.set(c.pick(rng), "id.resp_h", v["ip3"])


def plant_eve(c, v, rng):
    ev = lambda t: (lambda d: d.get("event_type") == t)  # noqa: E731
    for k in range(3):
        c.set(c.pick(rng, ev("dns")), "dns/rrname", v["dom%d" % k])
    c.set(c.pick(rng, ev("dns")), "dns/rrname", "a.b." + v["dom_sub"])
    c.set(c.pick(rng, ev("tls")), "tls/sni", v["dom3"])
    n = c.pick(rng, ev("http"))
    c.set(n, "http/hostname", v["url_host"])
    c.set(n, "http/url", v["url_path"])
    for alg in ("md5", "sha1", "sha256"):
        c.set(c.pick(rng, ev("fileinfo")), "fileinfo/" + alg, v[alg])
    c.set(c.pick(rng, ev("fileinfo")), "fileinfo/md5", v["md5_upper"].upper())
    c.set(c.pick(rng, ev("flow")), "src_ip", v["ip4"])
    c.set(c.pick(rng, ev("flow")), "dest_ip", v["cidr0_in"])
    n = c.pick(rng, ev("flow"))
    c.set(n, "dest_ip", v["nt_cidr_in"])
    c.set(n, "dest_port", 443)
    c.set(c.pick(rng, ev("dns")), "dns/rrname", v["and_a"])
    c.set(c.pick(rng, ev("flow")), "dest_ip", v["and_b"])
    for _ in range(3):
        c.set(c.pick(rng, ev("dns")), "dns/rrname", v["rep3"])


FILES = [  # (source under data/logs, copy name, planter)
    ("zeek-wrccdc2018/tsv/dns.log.gz", "dns.log.gz", plant_zeek_dns),
    ("zeek-wrccdc2018/json/dns.json.gz", "dns.json", plant_zeek_dns),
    ("zeek-wrccdc2018/tsv/ssl.log.gz", "ssl.log", plant_zeek_ssl),
    ("zeek-wrccdc2018/json/ssl.json.gz", "ssl.json.gz", plant_zeek_ssl),
    ("zeek-wrccdc2018/tsv/x509.log.gz", "x509.log", plant_zeek_x509),
    ("zeek-wrccdc2018/tsv/smtp.log.gz", "smtp.log", plant_zeek_smtp),
    ("suricata-eve/eve_suricata-verify_mix.json.gz", "eve.json", plant_eve),
]


def main():
    data = shared_root()
    if not data:
        sklib.skip_all("../shared/data (logs and feeds) is absent: the scan oracle needs it")
    refonly = bool(os.environ.get("SK_ORACLE_REFONLY"))
    if not refonly:
        why = ref.scan_missing(sklib.Node())
        if why:
            sklib.skip_all(why)
    ck = sklib.Checker("test_scan_oracle")
    psl = ref.PSL(PSL_PATH)
    if not psl.loaded:
        sklib.skip_all("%s is absent (Debian package publicsuffix)" % PSL_PATH)
    plan, vals = build(load_feeds(data))
    node = sklib.Node()
    bundle = node.path("oracle-indicators.json")
    plan.bundle(bundle)
    r = node.imp(bundle)
    ck.check(r.code == 0, "import the %d oracle indicators" % len(plan.inds), repr(r))
    rng = random.Random(4)
    copies = []
    for src, name, planter in FILES:
        c = LogCopy(os.path.join(data, "logs", src))
        planter(c, vals, rng)
        dst = node.path(name)
        c.write(dst)
        copies.append((dst, c))
    print("# planted copies and node in %s%s" % (node.dir, "" if os.environ.get("SK_KEEP_TMP")
                                                  else " (SK_KEEP_TMP=1 keeps them)"))
    covered = set()
    for dst, c in copies:
        records = list(ref.read_records(dst))
        for sub in (False, True):
            want = ref.match(records, plan.inds, psl, subdomains=sub)
            covered |= {iid for _, iid in want}
            if refonly:
                print("# %s%s: %d reference hits" % (os.path.basename(dst), " --subdomains" if sub else "", len(want)))
                for (line, iid), recs in sorted(want.items()):
                    print("#   line %d %s %s" % (line, plan.names[iid], recs if len(recs) > 1 else ""))
                continue
            got, res, problems = run_scan(node, dst, sub)
            label = "%s%s" % (os.path.basename(dst), " --subdomains" if sub else "")
            d = ref.diff_hits(got, want, plan.names, lambda n: c.lines[n - 1])
            ck.check(not problems and not d,
                     "%s: %d hits, the same (file, line, indicator) set as the reference" % (label, len(want)),
                     "\n".join(problems[:20] + d + ["repro: %s" % " ".join(res.args)]))
    never = {"network-traffic dst + port 8443 (never)",
             "network-traffic dst type ipv6 + ipv4 address (never)",
             "FOLLOWEDBY WITHIN 60 SECONDS (far)", "FOLLOWEDBY WITHIN 60 SECONDS (rev)",
             "REPEATS 3 TIMES (planted twice)"}
    uncovered = sorted(plan.names[i] for i in plan.inds if i not in covered and plan.names[i] not in never)
    ck.check(not uncovered, "every indicator meant to hit has a reference hit somewhere",
             "\n".join(uncovered))
    wrongly = sorted(plan.names[i] for i in covered if plan.names[i] in never)
    ck.check(not wrongly, "the reference hits none of the never-hit indicators", "\n".join(wrongly))
    ck.finish()


def run_scan(node, path, sub):
    return ref.run_scan(node, path, subdomains=sub)


if __name__ == "__main__":
    main()
