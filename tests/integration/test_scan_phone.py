#!/usr/bin/env python3
"""test_scan_phone - telephone numbers in logs match hashed phone indicators
(docs/private-matching.md, "Where the values come from").

A Zeek sip.log, a Suricata EVE log with sip events and a CSV call-record
file written here carry numbers in the forms logs use: SIP and tel URIs in
From/To and in the request URI (with display names, tags, visual
separators, the 00 international prefix), and numbers as written in
caller/callee columns.  Two hashed phone indicators (a digest list and a
Bloom filter) are made with `schakel indicator hash --type phone`; `scan`
must hit exactly the lines whose numbers are listed, in E.164, and report
them as x-schakel-phone:value, and nothing for national numbers (no country
code), SIP user names or other numbers.  A SIP address that is a user name
(sip:alice@...) still counts as an e-mail address.  Without the key the
indicators are reported as cannot-match.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

CK = sklib.Checker("test_scan_phone")

LISTED = ["+31201234567", "+442071234567"]          # digest list
BLOOMED = ["+14155550123", "+33140000000"]          # Bloom filter
ADDRS = ["alice@voip.example"]                      # e-mail digests

SIP_HEAD = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)",
            "#unset_field\t-", "#path\tsip",
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\t"
            "method\turi\tfrom\tto\tuser_agent",
            "#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\t"
            "string\tstring"]
# (from, to, which numbers a correct reader finds: line hits by path)
SIP_ROWS = [
    ('"Alice" <sip:+31201234567@voip.example>;tag=a1', "<sip:+15550000000@voip.example>",
     {"phone:list"}),
    ("<sip:+31-20-123-4568@voip.example>", "<sip:bob@voip.example>", {"phone:bloom"}),
    ("<tel:+44-20-7123-4567>", "-", {"phone:list"}),
    ("<sip:0201234567@voip.example;user=phone>", "<sip:0031201234567@voip.example>",
     {"phone:list"}),
    ('"A" <sip:alice@voip.example>', "<sips:+1-415-555-0123@voip.example>",
     {"email", "phone:bloom"}),
    ("<sip:+33 1 40 00 00 00@voip.example;user=phone>", "-", {"phone:bloom"}),
    ("<sip:+3120123456789012@voip.example>", "<sip:020 123 4567@voip.example>", set()),
]
# Suricata 7 logs the request URI; newer versions the From and To headers too
EVE_ROWS = [
    ("sip:+31201234567@voip.example;user=phone", None, None, {"phone:list"}),
    ("sip:alice@voip.example", '"A" <sip:alice@voip.example>', "<tel:+1-415-555-0123>",
     {"email", "phone:bloom"}),
    ("sips:0201234567@voip.example", None, None, set()),
]
CSV_ROWS = [
    ("+31 20 123 4567", "+1 555 000 0000", {"phone:list"}),
    ("0031201234568", "020-1234567", set()),
    ("+1 (415) 555-0123", "+44 20 7123 4567", {"phone:list", "phone:bloom"}),
    ("not a number", "", set()),
]


def write_logs(node):
    sip_log = node.path("sip.log")
    with open(sip_log, "w") as f:
        f.write("\n".join(SIP_HEAD) + "\n")
        for i, (fr, to, _) in enumerate(SIP_ROWS):
            uri = "sip:+33140000000@voip.example" if i == 1 else "sip:+15550000001@voip.example"
            f.write("\t".join(["17040672%02d.000000" % i, "C%d" % i, "192.0.2.20", "5060",
                               "198.51.100.5", "5060", "1", "INVITE",
                               uri, fr, to, "test-ua"]) + "\n")
    cdr = node.path("calls.csv")
    with open(cdr, "w") as f:
        f.write("timestamp,caller,callee,duration\n")
        for i, (a, b, _) in enumerate(CSV_ROWS):
            f.write('2024-01-01T00:00:%02dZ,"%s","%s",%d\n' % (i, a, b, 10 + i))
    eve = node.path("eve.json")
    with open(eve, "w") as f:
        for i, (uri, fr, to, _) in enumerate(EVE_ROWS):
            sip = {"method": "INVITE", "uri": uri, "version": "SIP/2.0"}
            if fr:
                sip.update({"from": fr, "to": to})
            f.write(json.dumps({"timestamp": "2024-01-01T00:00:%02d.000000+0000" % i,
                                "event_type": "sip", "src_ip": "192.0.2.20", "src_port": 5060,
                                "dest_ip": "198.51.100.5", "dest_port": 5060, "proto": "UDP",
                                "sip": sip}) + "\n")
    return sip_log, cdr, eve


def main():
    with sklib.Node() as node:
        r = node.run("help", "indicator")
        if r.code != 0 or "hash" not in r.out + r.err:
            sklib.skip_all("this schakel has no 'indicator hash' command")
        node.run("collection", "add", "leak", check=True)
        node.run("hashkey", "create", "leak", check=True)
        inds = {}
        for name, values, kind, extra in (("phone:list", LISTED, "phone", []),
                                          ("phone:bloom", BLOOMED, "phone", ["--bloom"]),
                                          ("email", ADDRS, "email", [])):
            p = node.path("%s.txt" % name.replace(":", "-"))
            with open(p, "w") as f:
                f.write("\n".join(values + (["+31 6 12345678"] if kind == "phone" else [])) + "\n")
            r = node.run("indicator", "hash", "--collection", "leak", "--type", kind,
                         "--input", p, *extra)
            CK.check(r.code == 0, "indicator hash --type %s %s" % (kind, " ".join(extra)), r.err)
            inds[r.out.strip()] = name
        sip, cdr, eve = write_logs(node)
        for path, rows, fmt, first in ((sip, SIP_ROWS, [], 8),
                                       (cdr, CSV_ROWS, ["--format", "csv"], 2),
                                       (eve, EVE_ROWS, [], 1)):
            want = {(first + i, n) for i, row in enumerate(rows) for n in row[-1]}
            r = node.run("scan", "--no-sightings", *fmt, path)
            CK.check(r.code == 0, "scan %s exits 0" % os.path.basename(path), r.err[-400:])
            hits = [json.loads(x) for x in r.out.splitlines() if x.strip()]
            got = {(h["line"], inds.get(h["indicator"]["id"], "?")) for h in hits}
            CK.check(got == want, "%s: exactly the expected (line, indicator) hits"
                     % os.path.basename(path),
                     "missing %s, extra %s" % (sorted(want - got), sorted(got - want)))
            ph = [h for h in hits if inds.get(h["indicator"]["id"], "").startswith("phone")]
            CK.check(ph and all(h.get("kind") == "phone" and h.get("value", "").startswith("+")
                                and h["value"][1:].isdigit() for h in ph),
                     "%s: phone hits name the kind and the number in E.164"
                     % os.path.basename(path), repr(ph[:2]))
        # without the key: cannot match, said once per indicator
        shutil.move(node.db + ".hashkeys", node.path("keys.away"))
        r = node.run("scan", "--no-sightings", sip)
        CK.check(r.code == 0 and not r.out.strip(), "without the key: no hits", r.out[-300:])
        CK.check(r.err.count("cannot match") >= 3 and "does not hold" in r.err,
                 "without the key: each hashed indicator is reported as cannot-match",
                 r.err[-600:])
    CK.finish()


if __name__ == "__main__":
    main()
