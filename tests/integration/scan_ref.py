"""scan_ref - an independent reference matcher for the `schakel scan` oracle tests.

Written from the STIX 2.1 patterning semantics and the field maps of
docs/matcher.md ("Log records"), not from schakel's C code.  Python 3 stdlib.

Pieces:
  - readers for Zeek TSV, Zeek JSON and Suricata EVE that turn each data line
    into a record: (line, ts seconds or None, objects), where objects is a
    list of (stix_type, {path: value}) dicts, i.e. the cyber-observables the
    line stands for (one network-traffic, one per domain/IP/URL/e-mail, one
    file, one x509-certificate per fingerprint);
  - a Public Suffix List (the standard algorithm, default rule "*");
  - indicators as small trees (not pattern text: the tests build both the
    tree and its pattern text), evaluated over the records:
      single observation  ("obs", expr)                   hit on each record where
                                                          one object satisfies expr
      ("and", [obs, obs])                                 both, on distinct records
      ("followedby", obs_a, obs_b, within_seconds|None)  b strictly later than a
      ("repeats", obs, n)                                 n distinct records
    comparison expressions: ("cmp", type, path, op, value) with op "=" or
    "ISSUBSET", and ("AND"|"OR", [expr, ...]) inside one observation.
    A multi-observation pattern gives one hit, on the record that first
    completes it (the contract's "one hit ... on the record that completes
    it"); the tests plant such values so that only one completion exists.
"""

import gzip
import ipaddress
import json
import re

# --- values -----------------------------------------------------------------

_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")


def norm_domain(s):
    """Lowercase, no trailing dot, label syntax; None if not a domain name."""
    if s is None:
        return None
    if s.endswith("."):
        s = s[:-1]
    if not s or len(s) > 253:
        return None
    if not all(_LABEL.match(lab) for lab in s.split(".")):
        return None
    return s.lower()


def norm_ip(s):
    """ipaddress object (v4 or v6, zone dropped) or None."""
    if s is None:
        return None
    try:
        return ipaddress.ip_address(s.split("%", 1)[0])
    except ValueError:
        return None


def norm_hex(s, lengths):
    if s is None:
        return None
    s = s.replace(":", "")
    if len(s) not in lengths or not _HEX.match(s):
        return None
    return s.lower()


def norm_email(s):
    """Strip a display name and angle brackets; lowercase the domain part."""
    if s is None:
        return None
    s = s.strip()
    m = re.search(r"<([^<>]*)>", s)
    if m:
        s = m.group(1).strip()
    if s.count("@") < 1 or " " in s:
        return None
    local, _, dom = s.rpartition("@")
    if not local or not dom:
        return None
    return local + "@" + dom.lower()


# --- the Public Suffix List -------------------------------------------------


class PSL:
    def __init__(self, path):
        self.rules, self.wild, self.exc = set(), set(), set()
        self.loaded = False
        if path:
            try:
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        line = line.strip()
                        if not line or line.startswith("//"):
                            continue
                        r = line.split()[0].lower()
                        if r.startswith("!"):
                            self.exc.add(r[1:])
                        elif r.startswith("*."):
                            self.wild.add(r[2:])
                        else:
                            self.rules.add(r)
                self.loaded = True
            except OSError:
                pass

    def suffix_labels(self, labels):
        """Number of labels of the public suffix of a name (default rule '*' = 1)."""
        best = 1
        n = len(labels)
        for i in range(n):
            cand = ".".join(labels[i:])
            if cand in self.exc:
                return n - i - 1
            if cand in self.rules:
                best = max(best, n - i)
            if i >= 1 and cand in self.wild:
                best = max(best, n - i + 1)
        return best

    def registrable_labels(self, name):
        """Labels in the registrable domain of name, or None if name has none."""
        labels = name.split(".")
        k = self.suffix_labels(labels) + 1
        return k if k <= len(labels) else None

    def parents(self, name):
        """name and its parents down to (and including) the registrable domain."""
        labels = name.split(".")
        k = self.registrable_labels(name)
        if k is None:
            return [name]
        return [".".join(labels[i:]) for i in range(0, len(labels) - k + 1)]


# --- records ----------------------------------------------------------------


class Rec:
    __slots__ = ("line", "ts", "objs")

    def __init__(self, line, ts):
        self.line, self.ts, self.objs = line, ts, []


def _add_ip(rec, v, role=None, nt=None):
    ip = norm_ip(v)
    if ip is None:
        return False
    rec.objs.append(("ipv%d-addr" % ip.version, {"value": ip}))
    if role and nt is not None:
        nt[role + "_ref.value"] = ip
        nt[role + "_ref.type"] = "ipv%d-addr" % ip.version
    return True


def _add_domain(rec, v):
    d = norm_domain(v)
    if d is not None:
        rec.objs.append(("domain-name", {"value": d}))
        return True
    return False


def _add_ip_or_domain(rec, v):
    if not _add_ip(rec, v):
        _add_domain(rec, v)


def _add_email(rec, v, role=None):
    e = norm_email(v)
    if e is None:
        return
    rec.objs.append(("email-addr", {"value": e}))
    if role == "src":
        rec.objs.append(("email-message", {"from_ref.value": e}))
    elif role == "dst":
        rec.objs.append(("email-message", {"to_refs[*].value": e}))


def _add_port(nt, role, v):
    try:
        p = int(v)
    except (TypeError, ValueError):
        return
    if 0 <= p <= 65535:
        nt[role + "_port"] = p


def _cut_port(h):
    if h.startswith("["):
        return h[1:h.index("]")] if "]" in h else h
    if h.count(":") == 1:
        return h.split(":")[0]
    return h


def _zeek_fields(rec, get):
    """Fill rec from a Zeek record; get(name) -> list of string values (or [])."""
    nt = {}
    for f in ("id.orig_h", "src"):
        for v in get(f):
            _add_ip(rec, v, "src", nt)
    for f in ("id.resp_h", "dst"):
        for v in get(f):
            _add_ip(rec, v, "dst", nt)
    for v in get("id.orig_p"):
        _add_port(nt, "src", v)
    for v in get("id.resp_p"):
        _add_port(nt, "dst", v)
    for f in ("query", "server_name", "host_name", "san.dns"):
        for v in get(f):
            _add_domain(rec, v)
    for v in get("answers"):
        _add_ip_or_domain(rec, v)
    hosts, uris = get("host"), get("uri")
    for h in hosts:
        _add_ip_or_domain(rec, _cut_port(h))
    for u in uris:
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", u):
            rec.objs.append(("url", {"value": u}))
        elif hosts:
            rec.objs.append(("url", {"value": "http://" + hosts[0] + u}))
    for v in get("referrer"):
        rec.objs.append(("url", {"value": v}))
    for f, lens in (("md5", (32,)), ("sha1", (40,)), ("sha256", (64,))):
        hs = {}
        for v in get(f):
            h = norm_hex(v, lens)
            if h:
                hs[{"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}[f]] = h
        if hs:
            rec.objs.append(("file", {"hashes." + k: v for k, v in hs.items()}))
    for f in ("fingerprint", "cert_chain_fps", "client_cert_chain_fps"):
        for v in get(f):
            h = norm_hex(v, (40, 64))
            if h:
                alg = "SHA-1" if len(h) == 40 else "SHA-256"
                rec.objs.append(("x509-certificate", {"hashes." + alg: h}))
    for v in get("san.ip"):
        _add_ip(rec, v)
    for v in get("san.email"):
        _add_email(rec, v)
    for f in ("mailfrom", "from"):
        for v in get(f):
            _add_email(rec, v, "src")
    for f in ("rcptto", "to", "cc"):
        for v in get(f):
            _add_email(rec, v, "dst")
    for v in get("reply_to"):
        _add_email(rec, v)
    for f in ("x_originating_ip", "tx_hosts", "rx_hosts", "client_addr", "server_addr"):
        for v in get(f):
            _add_ip(rec, v)
    for v in get("path"):
        _add_ip(rec, v)
    if nt:
        rec.objs.append(("network-traffic", nt))


def _unescape_zeek(s):
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), s).replace("\\\\", "\\")


def read_zeek_tsv(lines):
    sep, setsep, empty, unset = "\t", ",", "(empty)", "-"
    fields, types = None, None
    for no, line in lines:
        if line.startswith("#"):
            key, _, val = line[1:].partition(sep if not line.startswith("#separator") else " ")
            if line.startswith("#separator"):
                sep = _unescape_zeek(line.split(" ", 1)[1])
            elif key == "set_separator":
                setsep = _unescape_zeek(val)
            elif key == "empty_field":
                empty = val
            elif key == "unset_field":
                unset = val
            elif key == "fields":
                fields = val.split(sep)
            elif key == "types":
                types = val.split(sep)
            continue
        if not line.strip() or fields is None:
            continue
        cols = line.split(sep)
        if len(cols) != len(fields):
            continue
        vals = {}
        for i, name in enumerate(fields):
            c = cols[i]
            if c == unset:
                vals[name] = []
                continue
            t = types[i] if types and i < len(types) else "string"
            if t.startswith("set[") or t.startswith("vector["):
                vals[name] = [] if c == empty else [_unescape_zeek(x) for x in c.split(setsep)]
            else:
                vals[name] = [_unescape_zeek(c)]
        try:
            ts = float(vals["ts"][0]) if vals.get("ts") else None
        except ValueError:
            continue
        rec = Rec(no, ts)
        _zeek_fields(rec, lambda f: vals.get(f, []))
        yield rec


def rfc3339_seconds(s):
    """Epoch seconds of an RFC 3339 / EVE timestamp (+0000, +00:00, Z)."""
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$", s)
    if not m:
        return None
    import calendar
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    t = calendar.timegm((y, mo, d, h, mi, se, 0, 0, 0)) + (float(m.group(7)) if m.group(7) else 0.0)
    tz = m.group(8)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        tz = tz[1:].replace(":", "")
        t -= sign * (int(tz[:2]) * 3600 + int(tz[2:]) * 60)
    return t


def _strs(v):
    if v is None:
        return []
    if isinstance(v, list):
        return [x for x in v if isinstance(x, str)]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return [str(v)]
    return [v] if isinstance(v, str) else []


def read_json_lines(lines):
    """Zeek JSON or EVE, by the keys of each line."""
    for no, line in lines:
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if not isinstance(d, dict):
            continue
        if "event_type" in d or ("src_ip" in d and "_path" not in d):
            rec = _eve(no, d)
        else:
            rec = _zeek_json(no, d)
        if rec is not None:
            yield rec


def _zeek_json(no, d):
    ts = d.get("ts")
    if isinstance(ts, str):
        ts = rfc3339_seconds(ts)
        if ts is None:
            return None
    elif isinstance(ts, (int, float)):
        ts = float(ts)
    else:
        ts = None
    rec = Rec(no, ts)
    _zeek_fields(rec, lambda f: _strs(d.get(f)))
    return rec


def _eve(no, d):
    ts = d.get("timestamp")
    if ts is not None:
        ts = rfc3339_seconds(ts) if isinstance(ts, str) else None
        if ts is None:
            return None
    rec = Rec(no, ts)
    nt = {}
    for v in _strs(d.get("src_ip")):
        _add_ip(rec, v, "src", nt)
    for v in _strs(d.get("dest_ip")):
        _add_ip(rec, v, "dst", nt)
    if "src_port" in d:
        _add_port(nt, "src", d["src_port"])
    if "dest_port" in d:
        _add_port(nt, "dst", d["dest_port"])
    dns = d.get("dns")
    if isinstance(dns, dict):
        for v in _strs(dns.get("rrname")):
            _add_domain(rec, v)
        for q in dns.get("queries") or []:
            if isinstance(q, dict):
                for v in _strs(q.get("rrname")):
                    _add_domain(rec, v)
        ans = dns.get("answers")
        if isinstance(ans, list):
            for a in ans:
                if isinstance(a, dict):
                    for v in _strs(a.get("rdata")):
                        _add_ip_or_domain(rec, v)
        else:
            g = dns.get("grouped")
            if isinstance(g, dict):
                for vs in g.values():
                    for v in _strs(vs):
                        _add_ip_or_domain(rec, v)
        for v in _strs(dns.get("rdata")):
            _add_ip_or_domain(rec, v)
    http = d.get("http")
    if isinstance(http, dict):
        host = http.get("hostname") if isinstance(http.get("hostname"), str) else None
        if host:
            _add_ip_or_domain(rec, host)
        url = http.get("url") if isinstance(http.get("url"), str) else None
        if url is not None:
            if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
                rec.objs.append(("url", {"value": url}))
            elif host:
                rec.objs.append(("url", {"value": "http://" + host + url}))
        for v in _strs(http.get("http_refer")):
            rec.objs.append(("url", {"value": v}))
    for key in ("tls", "quic"):
        t = d.get(key)
        if isinstance(t, dict):
            for v in _strs(t.get("sni")):
                _add_domain(rec, v)
            if key == "tls":
                h = norm_hex(t.get("fingerprint") if isinstance(t.get("fingerprint"), str) else None, (40,))
                if h:
                    rec.objs.append(("x509-certificate", {"hashes.SHA-1": h}))
    fi = d.get("fileinfo")
    if isinstance(fi, dict):
        hs = {}
        for f, alg, lens in (("md5", "MD5", (32,)), ("sha1", "SHA-1", (40,)), ("sha256", "SHA-256", (64,))):
            v = fi.get(f)
            h = norm_hex(v if isinstance(v, str) else None, lens)
            if h:
                hs["hashes." + alg] = h
        if hs:
            rec.objs.append(("file", hs))
    smtp = d.get("smtp")
    if isinstance(smtp, dict):
        for v in _strs(smtp.get("mail_from")):
            _add_email(rec, v, "src")
        for v in _strs(smtp.get("rcpt_to")):
            _add_email(rec, v, "dst")
    em = d.get("email")
    if isinstance(em, dict):
        for v in _strs(em.get("from")):
            _add_email(rec, v, "src")
        for f in ("to", "cc"):
            for v in _strs(em.get(f)):
                _add_email(rec, v, "dst")
    if nt:
        rec.objs.append(("network-traffic", nt))
    return rec


def open_lines(path):
    """(1-based line number, text without newline) over a plain or gzip file."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    op = gzip.open if gz else open
    with op(path, "rb") as f:
        for i, raw in enumerate(f, 1):
            yield i, raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")


def read_records(path, fmt=None):
    """Records of a log file; fmt "ecs", "osquery" or "auditd" for the host logs."""
    if fmt:
        import scan_ref_host
        return getattr(scan_ref_host, "read_" + fmt)(open_lines(path))
    it = open_lines(path)
    first = None
    buf = []
    for no, line in it:
        buf.append((no, line))
        if line.strip():
            first = line
            break

    def chain():
        yield from buf
        yield from it

    if first is not None and first.startswith("#"):
        return read_zeek_tsv(chain())
    return read_json_lines(chain())


# --- indicators -------------------------------------------------------------


def _ip_in(ip, cidr):
    try:
        return ip in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def norm_value(stype, path, value):
    """Indicator literal normalised like the log values of that path."""
    if isinstance(value, int):
        return value
    if stype == "domain-name":
        return norm_domain(value)
    if path.endswith("value") and stype in ("ipv4-addr", "ipv6-addr", "network-traffic"):
        return norm_ip(value)
    if path.startswith("hashes."):
        return value.lower()
    return value


def eval_expr(expr, stype, props, psl, subdomains):
    kind = expr[0]
    if kind == "AND":
        return all(eval_expr(e, stype, props, psl, subdomains) for e in expr[1])
    if kind == "OR":
        return any(eval_expr(e, stype, props, psl, subdomains) for e in expr[1])
    _, t, path, op, value = expr
    if t != stype:
        return False
    v = props.get(path)
    if v is None:
        return False
    if op == "ISSUBSET":
        return isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)) and _ip_in(v, value)
    if op == "MATCHES" or t == "windows-registry-key":
        import scan_ref_host
        return scan_ref_host.eval_host(t, path, op, value, v)
    want = norm_value(t, path, value)
    if want is None:
        return False
    if t == "domain-name" and subdomains:
        return want in psl.parents(v)
    return v == want


def expr_types(expr):
    if expr[0] in ("AND", "OR"):
        s = set()
        for e in expr[1]:
            s |= expr_types(e)
        return s
    return {expr[1]}


def obs_matches(obs, rec, psl, subdomains):
    expr = obs[1]
    types = expr_types(expr)
    for stype, props in rec.objs:
        if stype in types and eval_expr(expr, stype, props, psl, subdomains):
            return True
    return False


def _leaves(ind):
    k = ind[0]
    if k == "obs":
        return [ind]
    if k == "and":
        return list(ind[1])
    if k == "followedby":
        return [ind[1], ind[2]]
    if k == "repeats":
        return [ind[1]]
    raise ValueError(k)


def _index_expr(expr):
    """[(type, path, normalised value)] if expr is '=' comparisons joined by OR, else None."""
    if expr[0] == "OR":
        out = []
        for e in expr[1]:
            sub = _index_expr(e)
            if sub is None:
                return None
            out += sub
        return out
    if expr[0] == "cmp" and expr[3] == "=" and expr[1] != "windows-registry-key":
        return [(expr[1], expr[2], norm_value(expr[1], expr[2], expr[4]))]
    return None


def match(records, indicators, psl, subdomains=False):
    """Hits of {indicator id: tree} over a record iterable.

    Returns {(line, id): [contributing lines]}.  Plain '=' comparisons go
    through a dict (the same semantics as obs_matches, only faster); the
    rest is evaluated object by object."""
    hits = {}
    leaves = []  # (indicator id, leaf index, obs)
    for iid, t in indicators.items():
        for k, leaf in enumerate(_leaves(t)):
            leaves.append((iid, k, leaf))
    index, generic = {}, []
    for n, (_, _, leaf) in enumerate(leaves):
        keys = _index_expr(leaf[1])
        if keys is None:
            generic.append(n)
        else:
            for key in keys:
                index.setdefault(key, set()).add(n)
    multis = {i: t for i, t in indicators.items() if t[0] != "obs"}
    seen = {i: [[] for _ in _leaves(t)] for i, t in multis.items()}  # per leaf: [(line, ts)]
    done = set()
    for rec in records:
        matched = set()
        for stype, props in rec.objs:
            for path, val in props.items():
                if stype == "domain-name" and subdomains:
                    for p in psl.parents(val):
                        matched |= index.get((stype, path, p), set())
                else:
                    matched |= index.get((stype, path, val), set())
        for n in generic:
            if obs_matches(leaves[n][2], rec, psl, subdomains):
                matched.add(n)
        if not matched:
            continue
        touched = set()
        for n in matched:
            iid, k, _ = leaves[n]
            if iid in multis:
                if iid not in done:
                    seen[iid][k].append((rec.line, rec.ts))
                    touched.add(iid)
            else:
                hits[(rec.line, iid)] = [rec.line]
        for iid in touched:
            got = _complete(multis[iid], seen[iid], rec)
            if got:
                hits[(rec.line, iid)] = sorted(got)
                done.add(iid)
    return hits


def _complete(t, seen, rec):
    """Contributing lines if the pattern is complete with rec last, else None."""
    k = t[0]
    if k == "and":
        a, b = seen
        for la, _ in a:
            for lb, _ in b:
                if la != lb and rec.line in (la, lb):
                    return [la, lb]
        return None
    if k == "followedby":
        a, b = seen
        within = t[3]
        for lb, tb in b:
            if lb != rec.line:
                continue
            for la, ta in a:
                if ta is None or tb is None or not ta < tb:
                    continue
                if within is not None and tb - ta > within:
                    continue
                return [la, lb]
        return None
    if k == "repeats":
        (a,) = seen
        if len(a) >= t[2] and a[-1][0] == rec.line:
            return [x[0] for x in a[: t[2]]]
        return None
    return None


# --- pattern text -----------------------------------------------------------


def _lit(v):
    if isinstance(v, int):
        return str(v)
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _path_text(t, path):
    parts = path.split(".")
    out = []
    for p in parts:
        out.append("'" + p + "'" if "-" in p else p)
    return t + ":" + ".".join(out)


def expr_text(e):
    if e[0] in ("AND", "OR"):
        return (" %s " % e[0]).join(expr_text(x) for x in e[1])
    _, t, path, op, value = e
    return "%s %s %s" % (_path_text(t, path), op, _lit(value))


def pattern_text(ind):
    k = ind[0]
    if k == "obs":
        return "[" + expr_text(ind[1]) + "]"
    if k == "and":
        return " AND ".join(pattern_text(x) for x in ind[1])
    if k == "followedby":
        s = "%s FOLLOWEDBY %s" % (pattern_text(ind[1]), pattern_text(ind[2]))
        return "(%s) WITHIN %d SECONDS" % (s, ind[3]) if ind[3] is not None else s
    if k == "repeats":
        return "%s REPEATS %d TIMES" % (pattern_text(ind[1]), ind[2])
    raise ValueError(k)


def cmp(t, path, value, op="="):
    return ("obs", ("cmp", t, path, op, value))


def indicator_object(iid, tree, name):
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": iid,
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "name": name,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern_text(tree),
        "pattern_type": "stix",
        "valid_from": "2000-01-01T00:00:00Z",
    }


# --- driving `schakel scan` and comparing -----------------------------------


def scan_missing(node):
    """A reason string when the binary has no `scan` command, else None."""
    r = node.run("help", "scan")
    if r.code != 0 and ("no such command" in r.err or "not a schakel command" in r.err):
        return "this schakel has no 'scan' command yet (%s)" % r.err.strip().splitlines()[-1]
    return None


def run_scan(node, path, subdomains=False, extra=()):
    """Hits of `schakel scan` on one file: ({(line, id): [lines]}, Result, problems)."""
    args = ["scan", "--no-sightings", "--no-warninglists", "--format", "auto"]
    if subdomains:
        args.append("--subdomains")
    r = node.run(*(args + list(extra) + [path]), timeout=600)
    hits, problems = {}, []
    if r.code != 0:
        problems.append("scan exited %s: %s" % (r.code, r.err.strip()[-800:]))
        return hits, r, problems
    for n, line in enumerate(r.out.splitlines(), 1):
        if not line.strip():
            continue
        try:
            h = json.loads(line)
            iid = h["indicator"]["id"]
            key = (int(h["line"]), iid)
            recs = sorted(int(x["line"]) for x in h.get("records") or [])
        except (ValueError, KeyError, TypeError) as e:
            problems.append("output line %d is not a hit object (%s): %s" % (n, e, line[:200]))
            continue
        if h.get("file") != path:
            problems.append("output line %d: file %r, expected %r" % (n, h.get("file"), path))
        if key in hits:
            problems.append("indicator %s hit line %d more than once" % (iid, key[0]))
        hits[key] = recs
    return hits, r, problems


def diff_hits(got, want, names, lines_of=None, limit=20):
    """Lines describing the differences (first `limit` of each kind)."""
    out = []
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    for tag, keys in (("missing (reference hit, scan did not)", missing),
                      ("extra (scan hit, reference did not)", extra)):
        if keys:
            out.append("%d %s:" % (len(keys), tag))
            for line, iid in keys[:limit]:
                text = lines_of(line) if lines_of else ""
                out.append("  line %d  %s  %s  %s" % (line, iid[-12:], names.get(iid, "?"), text[:160]))
    recdiff = [(k, got[k], want[k]) for k in sorted(set(got) & set(want)) if got[k] and got[k] != want[k]]
    if recdiff:
        out.append("%d hits with other contributing records:" % len(recdiff))
        for (line, iid), g, w in recdiff[:limit]:
            out.append("  line %d  %s  records %s, reference %s" % (line, names.get(iid, "?"), g, w))
    return out
