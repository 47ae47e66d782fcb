#!/usr/bin/env python3
"""test_feed_shared.py - the feed importers on the real feeds in
../shared/data/feeds (skipped, exit 77, when they are absent).

The maltrail import is checked against an independent Python reading of the
file that applies the rules documented in src/feeds/feed_formats.c: the per-kind
counts, the total of valid rows and the number of rejected rows must agree,
and the number of stored indicators must equal the number of distinct
normalised (kind, value) pairs."""
import gzip
import ipaddress
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
from sklib import feed_summary  # noqa: E402

FEEDS = sklib.shared("data", "feeds")
R = sklib.Results()
check = R.check


def run(db, *args):
    """code, out, err of `schakel --db DB ARGS`, however long a full feed takes."""
    return sklib.run(db, *args, timeout=None)


# --- an independent implementation of the documented value rules ---------

DEC = re.compile(r"^(0|[1-9][0-9]{0,4})$")
LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
HEX = re.compile(r"^[0-9a-fA-F]+$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,31}://")


def port(s):
    return bool(DEC.match(s)) and 1 <= int(s) <= 65535


def ipv4(s):
    p = s.split(".")
    return len(p) == 4 and all(re.match(r"^(0|[1-9][0-9]{0,2})$", x) and int(x) <= 255
                               for x in p)


def ipv6(s):
    if len(s) < 2 or "%" in s or not re.match(r"^[0-9a-fA-F:.]+$", s):
        return None
    try:
        return ipaddress.IPv6Address(s)
    except ValueError:
        return None


def domain(s):
    if s.endswith("."):
        s = s[:-1]
    s = s.lower() if s.isascii() else s
    if not s or len(s) > 253:
        return None
    labels = s.split(".")
    if len(labels) < 2 or not all(LABEL.match(x) for x in labels) or labels[-1].isdigit():
        return None
    return s


def host_ok(h):
    if h.startswith("["):
        if "]" not in h:
            return False
        i = h.index("]")
        if not ipv6(h[1:i]):
            return False
        rest = h[i + 1:]
        return rest == "" or (rest.startswith(":") and port(rest[1:]))
    if ":" in h:
        h, p = h.split(":", 1)
        if not port(p):
            return False
    if ipv4(h):
        return True
    return domain(h) is not None and len(h.rstrip(".")) < 256


def url(s):
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in s):
        return None
    m = SCHEME.match(s)
    if m:
        sl = len(m.group(0)) - 3
        if len(s) == sl + 3 or s[sl + 3] == "/":
            return None
        return ("url", s[:sl].lower() + s[sl:].replace(" ", "%20"))
    if len(s) > 1 and s[0] == "/":
        return ("url_path", s.replace(" ", "%20"))
    h = re.split(r"[/?#]", s, 1)[0]
    if not host_ok(h):
        return None
    return ("url", "http://" + s.replace(" ", "%20"))


def cidr(s, v6):
    a, _, p = s.partition("/")
    if not DEC.match(p) or int(p) > (128 if v6 else 32):
        return None
    if v6:
        if not ipv6(a):
            return None
        return str(ipaddress.IPv6Network("%s/%s" % (a, p), strict=False))
    if not ipv4(a):
        return None
    return str(ipaddress.IPv4Network("%s/%s" % (a, p), strict=False))


def email(s):
    local, _, dom = s.partition("@")
    if not 1 <= len(local) <= 64 or any(ord(c) <= 0x20 or ord(c) >= 0x7f or c in '()<>[]:;@\\,"'
                                        for c in local):
        return None
    d = domain(dom)
    return local + "@" + d if d else None


def normalise(kind, v):
    if kind == "domain":
        d = domain(v)
        return (kind, d) if d else None
    if kind == "ipv4":
        return (kind, v) if ipv4(v) else None
    if kind == "ipv6":
        a = ipv6(v)
        return (kind, a.compressed) if a else None
    if kind in ("ipv4_cidr", "ipv6_cidr"):
        if "/" not in v:
            return None
        c = cidr(v, kind == "ipv6_cidr")
        return (kind, c) if c else None
    if kind == "ipv4_port":
        h, _, p = v.partition(":")
        return (kind, v) if ipv4(h) and port(p) else None
    if kind == "domain_port":
        h, _, p = v.partition(":")
        d = domain(h)
        return (kind, d + ":" + p) if d and port(p) else None
    if kind == "ipv6_port":
        m = re.match(r"^\[([^\]]*)\]:(.*)$", v)
        if not m or len(v) < 4:
            return None
        a = ipv6(m.group(1))
        return (kind, a.compressed + ":" + m.group(2)) if a and port(m.group(2)) else None
    if kind in ("url", "url_path"):
        return url(v)
    if kind == "email":
        e = email(v)
        return (kind, e) if e else None
    if kind in ("md5", "sha1", "sha256", "sha512"):
        n = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}[kind]
        return (kind, v.lower()) if len(v) == n and HEX.match(v) else None
    if kind in ("domain_regex", "url_regex"):
        ok = v and not any(ord(c) < 0x20 or ord(c) == 0x7f for c in v)
        return (kind, v) if ok else None
    return None


def detect(v):
    if not v:
        return None
    if SCHEME.match(v):
        return normalise("url", v)
    if "@" in v:
        return normalise("email", v)
    if HEX.match(v) and len(v) in (32, 40, 64, 128):
        return normalise({32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}[len(v)], v)
    if "/" in v:
        head, _, tail = v.partition("/")
        if ipv4(head):
            return normalise("ipv4_cidr" if tail.isdigit() and tail.isascii() else "url", v)
        if ":" in head and ipv6(head):
            return normalise("ipv6_cidr", v)
        return normalise("url", v)
    if ipv4(v):
        return ("ipv4", v)
    if ipv6(v):
        return normalise("ipv6", v)
    if v[0] == "[":
        return normalise("ipv6_port", v)
    if ":" in v:
        if v.count(":") > 1:
            return None
        return normalise("ipv4_port" if ipv4(v.split(":")[0]) else "domain_port", v)
    return normalise("domain", v)


KINDS = {"domain": "domain", "ipv4": "ipv4", "ipv6": "ipv6", "ipv4_cidr": "ipv4_cidr",
         "ipv6_cidr": "ipv6_cidr", "ipv4_port": "ipv4_port", "ipv6_port": "ipv6_port",
         "domain_port": "domain_port", "url": "url", "url_path": "url_path", "email": "email",
         "md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512",
         "regex": "domain_regex", "domain_regex": "domain_regex", "url_regex": "url_regex"}


def maltrail_expect(path):
    kinds, distinct, rejected = {}, set(), 0
    with gzip.open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for i, raw in enumerate(lines, 1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if len(raw) > 8192:
            rejected += 1
            continue
        if i == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        t = raw.strip(b" \t")
        if not t or t.startswith(b"#"):
            continue
        try:
            s = t.decode("utf-8")
        except UnicodeDecodeError:
            rejected += 1
            continue
        if "\0" in s:
            rejected += 1
            continue
        f = [x.strip(" \t\r") for x in s.split("\t", 3)]
        if len(f) < 2 or not f[0]:
            rejected += 1
            continue
        k = f[1].lower()
        if k in ("", "other"):
            r = detect(f[0])
        elif k in KINDS:
            r = normalise(KINDS[k], f[0])
        else:
            r = None
        if r is None:
            rejected += 1
            continue
        kinds[r[0]] = kinds.get(r[0], 0) + 1
        distinct.add(r)
    return kinds, len(distinct), rejected


def count_lines(path, pred):
    with open(path, "rb") as f:
        return sum(1 for x in f if pred(x.strip()))


def main():
    mt = os.path.join(FEEDS, "maltrail", "maltrail_static.tsv.gz")
    if not os.path.isfile(mt):
        sklib.skip_all("%s not present (the shared feed data is not available)" % FEEDS)
    with sklib.Node(init=False) as node:
        tmp = node.dir
        # SK_FEED_SAMPLE_ROWS=N (set by .ci/run for the sanitizer build, which
        # is ~10x slower) checks the first N rows instead of all 1.85 M.
        sample = int(os.environ.get("SK_FEED_SAMPLE_ROWS", "0") or 0)
        if sample > 0:
            cut = os.path.join(tmp, "maltrail_sample.tsv.gz")
            with gzip.open(mt, "rb") as src, gzip.open(cut, "wb") as dst:
                for i, line in enumerate(src):
                    if i > sample:
                        break
                    dst.write(line)
            print("note: checking the first %d maltrail rows (SK_FEED_SAMPLE_ROWS)" % sample)
            mt = cut
        db = node.db
        rc, _, err = run(db, "init", "--name", "Shared feed test")
        check(rc == 0, "init " + err)

        want_kinds, want_distinct, want_rej = maltrail_expect(mt)
        rc, _, err = run(db, "feed", "import", "--quiet", "--format", "maltrail", "--producer",
                         "Maltrail", "--tlp", "clear", mt)
        # --quiet has no summary; read the counts from a second, checking run
        rej_lines = len(re.findall(r"rejected: ", err))
        check(rc == (3 if want_rej else 0), "maltrail exit %d (3: some rows rejected)" % rc)
        check(rej_lines == min(want_rej, 1000), "rejected lines %d, want %d" % (rej_lines, want_rej))
        rc, _, err = run(db, "feed", "import", "--format", "maltrail", "--producer", "Maltrail",
                         "--tlp", "clear", mt)
        kinds, t = feed_summary(err)
        check(kinds == want_kinds, "maltrail kinds %s, want %s" % (kinds, want_kinds))
        check(t.get("entries") == sum(want_kinds.values()), "entries %s" % t)
        check(t.get("rejected") == want_rej, "rejected %s, want %d" % (t, want_rej))
        check(t.get("stored") == 0 and t.get("duplicate") == t.get("entries"),
              "re-import all duplicates %s" % t)
        rc, out, _ = run(db, "stats", "--json")
        check(str(want_distinct) in out, "stored indicators = %d distinct: %s" % (want_distinct, out[:300]))

        ip = os.path.join(FEEDS, "ipsum", "ipsum.txt")
        if os.path.isfile(ip):
            n = count_lines(ip, lambda x: x and not x.startswith(b"#"))
            rc, _, err = run(db, "feed", "import", "--format", "ipsum", "--producer", "IPsum",
                             "--tlp", "clear", ip)
            kinds, t = feed_summary(err)
            check(rc == 0 and t.get("entries") == n, "ipsum %d rows: %s" % (n, t))
        for alg in ("md5", "sha1", "sha256"):
            hp = os.path.join(FEEDS, "malicious-hash", "full-hash-%s-aa.txt" % alg)
            if not os.path.isfile(hp):
                continue
            n = count_lines(hp, lambda x: x and not x.startswith(b"#"))
            rc, _, err = run(db, "feed", "import", "--format", "lines", "--producer",
                             "malicious-hash", "--tlp", "clear", hp)
            kinds, t = feed_summary(err)
            check(kinds.get(alg) == t.get("entries") and t.get("entries", 0) + t.get("rejected", 0) == n,
                  "%s hashes %d rows: %s %s" % (alg, n, kinds, t))

        wl = os.path.join(FEEDS, "misp-warninglists")
        if os.path.isdir(wl):
            nlists = sum(1 for d in os.listdir(wl) if os.path.isfile(os.path.join(wl, d, "list.json")))
            rc, _, err = run(db, "warninglist", "import", "--quiet", wl)
            check(rc == 0 and ("%d lists loaded" % nlists) in err, "warninglists %d: %s" % (nlists, err[-300:]))
            rc, out, _ = run(db, "warninglist", "check", "8.8.8.8")
            check(rc == 0 and re.search(r"^8\.8\.8\.8\t.*\t", out, re.M) and
                  "public DNS" in out or "public-dns" in out.lower(), "8.8.8.8: " + out)
            rc, out, _ = run(db, "warninglist", "check", "google.com")
            check(rc == 0 and re.search(r"top|Top", out), "google.com: " + out[:500])
            rc, out, _ = run(db, "warninglist", "list")
            check(rc == 0 and len(out.splitlines()) == nlists + 1, "list %d lines" % len(out.splitlines()))
    R.finish()


if __name__ == "__main__":
    main()
