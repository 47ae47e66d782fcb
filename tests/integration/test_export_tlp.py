"""The sensor exports (`schakel export --format zeek-intel|suricata`) as exits
of the sharing policy: a TLP matrix over markings x recipients (a partner
with a GREEN-only grant, one named as an AMBER recipient, the node itself),
for both formats, with the exact permitted set of values; every --for export
leaves an export.for audit entry.  The Zeek file is checked against the Intel
framework's format by a reference parser (zeek itself, when installed, reads
it too), the Suricata directory by a parser of its rules, datasets and lists;
what a sensor cannot match is left out and said on stderr."""
import base64
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main  # noqa: E402
from sync_util import TLP, collection, import_objects, make_node  # noqa: E402

ZEEK_TYPES = {"Intel::ADDR", "Intel::SUBNET", "Intel::DOMAIN", "Intel::URL", "Intel::EMAIL",
              "Intel::FILE_HASH", "Intel::FILE_NAME", "Intel::USER_NAME", "Intel::CERT_HASH",
              "Intel::SOFTWARE", "Intel::PUBKEY_HASH"}
FIELDS = ["indicator", "indicator_type", "meta.source", "meta.desc", "meta.url"]
LEVELS = ["clear", "green", "amber", "red", None]  # None: unmarked (the collection's AMBER)


def ind(pattern, marking, name):
    o = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "name": name, "pattern": pattern, "pattern_type": "stix",
         "valid_from": "2024-01-01T00:00:00Z"}
    if marking:
        o["object_marking_refs"] = [TLP[marking]]
    return o


def plant(level):
    """Indicators at one level: (objects, {(zeek type, value)} a sensor can match)."""
    t = level or "unmarked"
    n = LEVELS.index(level) + 1
    objs, want = [], set()

    def add(pattern, *vals):
        objs.append(ind(pattern, level, f"{t} {len(objs)}"))
        want.update(vals)

    add(f"[ipv4-addr:value = '198.51.100.{n}']", ("Intel::ADDR", f"198.51.100.{n}"))
    add(f"[ipv4-addr:value = '203.0.113.{n * 16}/28']", ("Intel::SUBNET", f"203.0.113.{n * 16}/28"))
    add(f"[domain-name:value = 'c2-{t}.Evil.Example'] OR [url:value = 'http://dl-{t}.example/p?x=1']",
        ("Intel::DOMAIN", f"c2-{t}.evil.example"), ("Intel::URL", f"dl-{t}.example/p?x=1"))
    h = "%032x" % n
    add(f"[file:hashes.MD5 = '{h.upper()}' OR file:name = 'inv-{t}.js']",
        ("Intel::FILE_HASH", h), ("Intel::FILE_NAME", f"inv-{t}.js"))
    add(f"[email-addr:value IN ('a-{t}@Bad.Example', 'b-{t}@bad.example')]",
        ("Intel::EMAIL", f"a-{t}@bad.example"), ("Intel::EMAIL", f"b-{t}@bad.example"))
    add(f"[user-account:user_id = 'svc-{t}']", ("Intel::USER_NAME", f"svc-{t}"))
    # never exported: a combination, a regex, a host object, a sequence
    add(f"[domain-name:value = 'and-{t}.example' AND domain-name:value = 'x.example']")
    add(f"[process:command_line MATCHES 'evil-{t}']")
    add(f"[windows-registry-key:key = 'HKLM\\\\Software\\\\{t}']")
    add(f"[domain-name:value = 'fb1-{t}.example'] FOLLOWEDBY [domain-name:value = 'fb2-{t}.example']")
    return objs, want


def parse_zeek(text, R, what):
    """Reference parser of a Zeek Intel file: [(type, value)]; format errors fail R."""
    lines = text.split("\n")
    R.check(lines[-1] == "", f"{what}: ends with a newline")
    R.check(lines[0] == "#fields\t" + "\t".join(FIELDS), f"{what}: #fields header ({lines[0]!r})")
    out = []
    for no, line in enumerate(lines[1:-1], 2):
        cols = line.split("\t")
        ok = (len(cols) == len(FIELDS) and cols[1] in ZEEK_TYPES and all(cols)
              and not any(c != c.strip() or "\r" in c for c in cols))
        if ok and cols[1] == "Intel::ADDR":
            ok = str(ipaddress.ip_address(cols[0])) == cols[0]
        if ok and cols[1] == "Intel::SUBNET":
            ok = str(ipaddress.ip_network(cols[0])) == cols[0]
        if ok and cols[1] == "Intel::URL":
            ok = "://" not in cols[0]
        if ok and cols[1] == "Intel::FILE_HASH":
            ok = re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128}", cols[0]) is not None
        if not ok:
            R.check(False, f"{what}: line {no} is a well-formed Intel line: {line!r}")
        out.append((cols[1], cols[0]))
    R.check(len(out) == len(set(out)), f"{what}: no duplicate (indicator, type)")
    return out


RULE = re.compile(r'^alert (\w[\w-]*) any any -> any any \((.*)\)$')


def parse_suricata(d, R, what):
    """Reference parser of the Suricata directory: the same [(zeek-style type, value)] set."""
    out, sids = [], set()
    rules = open(os.path.join(d, "schakel.rules")).read().splitlines()
    for line in rules:
        if not line or line.startswith("#"):
            continue
        m = RULE.match(line)
        if not m:
            R.check(False, f"{what}: rule parses: {line}")
            continue
        opts = [o.strip() for o in re.findall(r'((?:[^;"\\]|"(?:[^"\\]|\\.)*")+);', m.group(2))]
        keys = dict(o.split(":", 1) if ":" in o else (o, "") for o in opts)
        R.check("msg" in keys and "sid" in keys and "rev" in keys, f"{what}: msg, sid, rev: {line}")
        R.check(keys.get("sid") not in sids, f"{what}: sid {keys.get('sid')} unique")
        sids.add(keys.get("sid"))
        if "dataset" in keys:
            ds = keys["dataset"].split(",")
            R.check(ds[0] == "isset" and ds[2] == "type string" and ds[3].startswith("load "),
                    f"{what}: dataset isset, string, load: {line}")
            path = os.path.join(d, ds[3][5:])
            R.check(os.path.exists(path), f"{what}: dataset file {ds[3][5:]} exists")
            kind = {"schakel-domains": "Intel::DOMAIN", "schakel-filenames": "Intel::FILE_NAME"}.get(ds[1])
            if kind and os.path.exists(path):
                for v in open(path).read().split():
                    out.append((kind, base64.b64decode(v, validate=True).decode()))
        for kw in ("filemd5", "filesha1", "filesha256"):
            if kw in keys:
                path = os.path.join(d, keys[kw])
                R.check(os.path.exists(path), f"{what}: {kw} list exists")
                out += [("Intel::FILE_HASH", v) for v in open(path).read().split()]
        if "iprep" in keys:
            R.check(keys["iprep"] == "any,schakel,>,0", f"{what}: iprep rule")
            for v in open(os.path.join(d, "schakel-iprep.list")).read().split():
                a, cat, score = v.split(",")
                R.check(cat == "1" and 0 < int(score) <= 127, f"{what}: iprep line {v}")
                out.append(("Intel::SUBNET" if "/" in a else "Intel::ADDR", a))
        if "http.uri.raw" in opts:
            hosts = re.findall(r'content:"([^"]*)"', m.group(2))
            out.append(("Intel::URL", hosts[0] + hosts[1]))
    return sorted(set(out))


def run(node, R):
    collection(node, "share")
    green = node.partner("p-green", "--identity", f"identity--{uuid.uuid4()}")
    amber = node.partner("p-amber", "--identity", f"identity--{uuid.uuid4()}")
    node.grant("p-green", "share", "--read")
    node.grant("p-amber", "share", "--read", "--amber")
    want, objs = {}, []
    for lv in LEVELS:
        o, w = plant(lv)
        objs += o
        want[lv] = w
    import_objects(node, objs, "share")
    may = {"p-green": ["clear", "green"], "p-amber": ["clear", "green", "amber", None],
           None: LEVELS}
    for who, levels in may.items():
        exp = set().union(*(want[lv] for lv in levels))
        args = ["--for", who] if who else []
        tag = who or "the node"
        # zeek-intel
        out = node.path(f"intel-{tag}.dat")
        r = node.run("export", "--format", "zeek-intel", "--output", out, *args, check=False)
        R.check(r.code == 0, f"zeek-intel for {tag}: exit 0 ({r.err})")
        got = set(parse_zeek(open(out).read(), R, f"zeek-intel for {tag}"))
        R.check(got == exp, f"zeek-intel for {tag}: exactly the permitted values",
                f"leaked {sorted(got - exp)} missing {sorted(exp - got)}")
        R.check(oct(os.stat(out).st_mode & 0o777) == "0o600", f"zeek-intel for {tag}: file 0600")
        n = len(levels)
        R.check(f"{6 * n} of {10 * n} indicators written" in r.err and "FOLLOWEDBY" in r.err
                and "joined by AND" in r.err and "process, registry key" in r.err,
                f"zeek-intel for {tag}: the summary says what was left out and why", r.err)
        # suricata
        d = node.path(f"suricata-{tag}")
        r = node.run("export", "--format", "suricata", "--output", d, *args, check=False)
        R.check(r.code == 0, f"suricata for {tag}: exit 0 ({r.err})")
        sexp = {x for x in exp if x[0] not in ("Intel::EMAIL", "Intel::USER_NAME")}
        got = set(parse_suricata(d, R, f"suricata for {tag}"))
        R.check(got == sexp, f"suricata for {tag}: exactly the permitted values",
                f"leaked {sorted(got - sexp)} missing {sorted(sexp - got)}")
        R.check(f"{4 * n} of {10 * n} indicators written" in r.err and "no way to match" in r.err,
                f"suricata for {tag}: the summary says what was left out", r.err)
    # every --for export is audited with the versions that left
    entries = [json.loads(x) for x in node.run("audit", "list", "--json", "--action", "export.for",
                                               check=True).stdout.splitlines() if x.strip()]
    per = {}
    for e in entries:
        per.setdefault(e["subject"], []).append(len(e["versions"]))
    R.check(per == {"partner:p-green": [20, 20], "partner:p-amber": [40, 40]},
            f"export.for audit entries per partner and format ({per})")
    # zeek, when installed, loads the file
    zeek = shutil.which("zeek")
    if zeek:
        script = node.path("load.zeek")
        with open(script, "w") as f:
            f.write('@load frameworks/intel/seen\nredef Intel::read_files += { "%s" };\n'
                    % node.path("intel-the node.dat"))
        p = subprocess.run([zeek, "-b", script], capture_output=True, text=True, timeout=120)
        R.check(p.returncode == 0 and "error" not in p.stderr.lower(), f"zeek reads it ({p.stderr})")
    # only what is valid now, as scan compiles it
    collection(node, "old")
    future, expired, revoked = (ind(f"[domain-name:value = '{n}.example']", "green", n)
                                for n in ("future", "expired", "revoked"))
    future["valid_from"] = "2999-01-01T00:00:00Z"
    expired["valid_until"] = "2024-06-01T00:00:00Z"
    revoked["revoked"] = True
    import_objects(node, [future, expired, revoked], "old")
    out = node.path("intel-old.dat")
    r = node.run("export", "--format", "zeek-intel", "--collection", "old", "--output", out,
                 check=False)
    R.check(r.code == 0 and open(out).read().count("\n") == 1
            and "0 of 3 indicators written" in r.err and "3  revoked, past valid_until or before"
            in r.err, f"revoked, expired and not yet valid indicators are left out ({r.err})")
    # bad use
    r = node.run("export", "--format", "suricata", check=False)
    R.check(r.code == 2 and "--output DIR" in r.err, f"suricata without --output: usage ({r.err})")
    r = node.run("export", "--format", "snort", check=False)
    R.check(r.code == 2 and "unknown format" in r.err, f"unknown format: usage ({r.err})")
    r = node.run("export", "--format", "zeek-intel", "--for", "nobody", check=False)
    R.check(r.code == 1 and "nobody" in r.err, f"--for an unknown partner: exit 1 ({r.err})")
    del green, amber


def main():
    test_main(run, make_node("A"))


if __name__ == "__main__":
    main()
