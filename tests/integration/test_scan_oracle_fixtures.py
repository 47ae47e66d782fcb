#!/usr/bin/env python3
"""test_scan_oracle_fixtures - the scan oracle over the project's own log fixtures.

The self-contained sibling of test_scan_oracle.py: no shared data, only
tests/fixtures/logs (documentation addresses, .example/.test names).  A
bundle of indicators for values those fixtures hold (domains exact and by
--subdomains, IPv4/IPv6 and CIDR ISSUBSET, MD5/SHA-1/SHA-256 in both cases,
URL, x509 SHA-1/SHA-256, e-mail, network-traffic dst + port, and the
multi-observation forms) is imported, `schakel scan --no-sightings
--no-warninglists` runs on each fixture, with and without --subdomains, and
its (line, indicator) hits must equal the reference matcher's (scan_ref.py).

Skips (77) while the binary has no `scan` command; strict once it has.
"""

import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
import scan_ref as ref  # noqa: E402

PSL_PATH = "/usr/share/publicsuffix/public_suffix_list.dat"
NS = uuid.UUID("5c4a2b1e-0f0d-4d6e-9a55-6f7261636c66")

FILES = ["zeek_dns.log", "zeek_ssl.log", "zeek_x509.log", "zeek_smtp.log", "zeek_files.log",
         "zeek_http.log", "zeek_conn.log", "zeek_mixed.log", "zeek.json", "eve.json"]


def dom(v):
    return ref.cmp("domain-name", "value", v)


INDICATORS = [
    ("domain evil.example", dom("evil.example")),
    ("domain www.evil.example", dom("www.evil.example")),
    ("domain Secure.Shop.Example. (not normalised)", dom("Secure.Shop.Example")),
    ("domain shop.example", dom("shop.example")),
    ("domain example (a bare TLD)", dom("example")),
    ("domain mail.test", dom("mail.test")),
    ("ipv4 203.0.113.7", ref.cmp("ipv4-addr", "value", "203.0.113.7")),
    ("ipv4 CIDR 198.51.100.0/24", ref.cmp("ipv4-addr", "value", "198.51.100.0/24", "ISSUBSET")),
    ("ipv4 CIDR 203.0.113.88/30", ref.cmp("ipv4-addr", "value", "203.0.113.88/30", "ISSUBSET")),
    ("ipv6 2001:db8:0:0::7", ref.cmp("ipv6-addr", "value", "2001:db8:0:0::7")),
    ("ipv6 CIDR 2001:db8::/64", ref.cmp("ipv6-addr", "value", "2001:db8::/64", "ISSUBSET")),
    ("MD5 upper", ref.cmp("file", "hashes.MD5", "44D88612FEA8A8F36DE82E1278ABB02F")),
    ("SHA-1", ref.cmp("file", "hashes.SHA-1", "3395856ce81f2b7382dee72602f798b642f14140")),
    ("SHA-256", ref.cmp("file", "hashes.SHA-256",
                        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")),
    ("x509 SHA-256", ref.cmp("x509-certificate", "hashes.SHA-256",
                             "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe")),
    ("x509 SHA-1", ref.cmp("x509-certificate", "hashes.SHA-1",
                           "9330fe1ef2adaf216f4b11b9f255f3c1051617be")),
    ("url eve", ref.cmp("url", "value", "http://download.evil.example/payload.bin")),
    ("url zeek", ref.cmp("url", "value", "http://download.evil.example/payload.bin?id=1")),
    ("url referrer", ref.cmp("url", "value", "http://landing.example/")),
    ("email-addr phisher", ref.cmp("email-addr", "value", "phisher@bad.example")),
    ("email-message to victim1", ref.cmp("email-message", "to_refs[*].value", "victim1@corp.example")),
    ("network-traffic dst 198.51.100.53:53",
     ("obs", ("AND", [("cmp", "network-traffic", "dst_ref.value", "=", "198.51.100.53"),
                      ("cmp", "network-traffic", "dst_port", "=", 53)]))),
    ("network-traffic src 198.51.100.53 (never: it is dst)",
     ("obs", ("cmp", "network-traffic", "src_ref.value", "=", "198.51.100.53"))),
    ("[mail.test] AND [203.0.113.7]",
     ("and", [dom("mail.test"), ref.cmp("ipv4-addr", "value", "203.0.113.7")])),
    ("([cdn.evil.example] FOLLOWEDBY [mail.test]) WITHIN 5 SECONDS",
     ("followedby", dom("cdn.evil.example"), dom("mail.test"), 5)),
    ("([mail.test] FOLLOWEDBY [cdn.evil.example]) WITHIN 5 SECONDS (wrong order)",
     ("followedby", dom("mail.test"), dom("cdn.evil.example"), 5)),
]


def main():
    node = sklib.Node()
    why = ref.scan_missing(node)
    if why:
        sklib.skip_all(why)
    psl = ref.PSL(PSL_PATH)
    if not psl.loaded:
        sklib.skip_all("%s is absent (Debian package publicsuffix)" % PSL_PATH)
    ck = sklib.Checker("test_scan_oracle_fixtures")
    inds, names = {}, {}
    for name, tree in INDICATORS:
        iid = "indicator--" + str(uuid.uuid5(NS, name))
        inds[iid], names[iid] = tree, name
    bundle = node.path("fixture-indicators.json")
    import json
    with open(bundle, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid5(NS, "b")),
                   "objects": [ref.indicator_object(i, t, names[i]) for i, t in inds.items()]}, f)
    r = node.imp(bundle)
    ck.check(r.code == 0, "import %d indicators" % len(inds), repr(r))
    total = 0
    for fn in FILES:
        path = sklib.fixture("logs", fn)
        lines = [t for _, t in ref.open_lines(path)]
        records = list(ref.read_records(path))
        for sub in (False, True):
            want = ref.match(records, inds, psl, subdomains=sub)
            total += len(want)
            got, res, problems = ref.run_scan(node, path, subdomains=sub)
            d = ref.diff_hits(got, want, names, lambda n: lines[n - 1])
            ck.check(not problems and not d,
                     "%s%s: %d hits, as the reference" % (fn, " --subdomains" if sub else "", len(want)),
                     "\n".join(problems[:20] + d + ["repro: %s" % " ".join(res.args)]))
    ck.check(total > 20, "the fixtures give the reference a fair number of hits (%d)" % total)
    ck.finish()


if __name__ == "__main__":
    main()
