"""scan_ref_host - the reference readers for host logs (ECS, osquery, auditd).

Part of the independent reference matcher (scan_ref.py), written from the
field maps of docs/matcher.md ("Host logs"), not from the C readers.  Each
reader yields scan_ref.Rec records whose objects are STIX cyber-observables:
process {name, command_line}, file {name, hashes.*}, directory {path},
windows-registry-key {key}, mutex {name}, user-account {user_id,
account_login}, plus the network objects scan_ref already knows.  A value
is kept as logged; registry keys with their hive spelled out (HKLM ->
HKEY_LOCAL_MACHINE) and compared without regard to case (eval in scan_ref).
"""

import json
import re

import scan_ref as ref

HIVES = [("HKLM", "HKEY_LOCAL_MACHINE"), ("HKCU", "HKEY_CURRENT_USER"), ("HKCR", "HKEY_CLASSES_ROOT"),
         ("HKU", "HKEY_USERS"), ("HKCC", "HKEY_CURRENT_CONFIG"),
         ("\\REGISTRY\\MACHINE", "HKEY_LOCAL_MACHINE"), ("\\REGISTRY\\USER", "HKEY_USERS"),
         ("\\REGISTRY\\A", "HKEY_APPLICATION_HIVE")]


def regkey(k):
    """The hive spelled out, no trailing backslash."""
    for abbr, full in HIVES:
        if k.upper() == abbr.upper() or k.upper().startswith(abbr.upper() + "\\"):
            k = full + k[len(abbr):]
            break
    return k.rstrip("\\")


def split_path(p):
    """(directory or None, base name) of a Windows or POSIX path."""
    i = max(p.rfind("\\"), p.rfind("/"))
    if i < 0:
        return None, p
    d = p[:i]
    if i == 0 or (i == 2 and p[1] == ":"):
        d = p[:i + 1]
    return d, p[i + 1:]


def strip_dir(d):
    while len(d) > 1 and d[-1] in "\\/" and not (len(d) == 3 and d[1] == ":"):
        d = d[:-1]
    return d


class Objs:
    """Helpers that append observables to a record."""

    def __init__(self, rec):
        self.rec = rec

    def add(self, t, props):
        self.rec.objs.append((t, props))

    def process(self, name=None, cmd=None, parent=None):
        p = dict(parent or {})
        if name:
            p["name"] = name
            p["image_ref.name"] = name
        if cmd:
            p["command_line"] = cmd
        if p:
            self.add("process", p)

    def path(self, p, image=False):
        if not p:
            return
        d, base = split_path(p)
        if base:
            self.add("file", {"name": base})
            if image:
                self.process(name=base)
        if d is not None:
            self.directory(d)

    def directory(self, d):
        if d:
            self.add("directory", {"path": strip_dir(d)})

    def regkey(self, k):
        if k:
            self.add("windows-registry-key", {"key": regkey(k)})

    def user(self, u):
        if u:
            self.add("user-account", {"user_id": u, "account_login": u})

    def hash(self, alg, v):
        lens = {"MD5": (32,), "SHA-1": (40,), "SHA-256": (64,), "SHA-512": (128,)}
        if alg is None:
            alg = {32: "MD5", 40: "SHA-1", 64: "SHA-256", 128: "SHA-512"}.get(len(v or ""))
            if alg is None:
                return
        h = ref.norm_hex(v, lens[alg])
        if h:
            self.add("file", {"hashes." + alg: h})


# --- ECS --------------------------------------------------------------------


def flatten(d, prefix="", out=None):
    """{dotted path: [scalar values]} of nested objects and dotted keys alike."""
    if out is None:
        out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            flatten(v, prefix + "." + k if prefix else k, out)
    elif isinstance(d, list):
        for v in d:
            flatten(v, prefix, out)
    elif isinstance(d, bool) or d is None:
        pass
    elif isinstance(d, (int, str)):
        out.setdefault(prefix, []).append(str(d))
    return out


def _ecs(no, d):
    f = flatten(d)

    def g(k):
        return f.get(k, [])

    ts = None
    if "@timestamp" in f:
        ts = ref.rfc3339_seconds(f["@timestamp"][0])
        if ts is None:
            return None
    rec = ref.Rec(no, ts)
    o = Objs(rec)
    ev = "winlog.event_data."
    # processes: the event's process (with its parent as parent_ref) and the parent itself
    for exe_k, cmd_k, pexe_k, pcmd_k, pname_k in (
            ("process.executable", "process.command_line", "process.parent.executable",
             "process.parent.command_line", "process.parent.name"),
            (ev + "Image", ev + "CommandLine", ev + "ParentImage", ev + "ParentCommandLine", None),
            (ev + "SourceImage", None, None, None, None), (ev + "TargetImage", None, None, None, None)):
        cmd = (g(cmd_k) if cmd_k else [None])[:1] or [None]
        pcmd = (g(pcmd_k) if pcmd_k else [None])[:1] or [None]
        pnames = [split_path(v)[1] for v in (g(pexe_k) if pexe_k else [])]
        pnames += [v for v in (g(pname_k) if pname_k else []) if v not in pnames]
        parent = {}
        if pnames:
            parent["parent_ref.name"] = pnames[0]
        if pcmd[0]:
            parent["parent_ref.command_line"] = pcmd[0]
        for v in g(exe_k):
            o.path(v)
            o.process(name=split_path(v)[1], cmd=cmd[0], parent=parent)
        if not g(exe_k) and (cmd[0] or parent):
            o.process(cmd=cmd[0], parent=parent)
        for extra in pnames[1:]:
            o.process(parent={"parent_ref.name": extra})
        for v in (g(pexe_k) if pexe_k else []):
            o.path(v)
            o.process(name=split_path(v)[1], cmd=pcmd[0])
        for v in (g(pname_k) if pname_k else []):
            o.process(name=v, cmd=pcmd[0])
        if pcmd[0] and not pnames:
            o.process(cmd=pcmd[0])
    for v in g("process.name"):
        o.process(name=v, cmd=(g("process.command_line") or [None])[0])
    for k in ("process.working_directory", ev + "CurrentDirectory", "file.directory"):
        for v in g(k):
            o.directory(v)
    for pre in ("process.hash.", "process.parent.hash.", "file.hash.", "dll.hash."):
        for alg, name in (("md5", "MD5"), ("sha1", "SHA-1"), ("sha256", "SHA-256"), ("sha512", "SHA-512")):
            for v in g(pre + alg):
                o.hash(name, v)
    for k in (ev + "Hashes", ev + "Hash"):
        for v in g(k):
            for part in v.split(","):
                name, eq, val = part.partition("=")
                if not eq:
                    o.hash(None, name)
                elif name != "IMPHASH":
                    o.hash(None, val)
    for v in g("related.hash"):
        o.hash(None, v)
    for k in ("file.path", "file.target_path", "dll.path", ev + "TargetFilename", ev + "ImageLoaded"):
        for v in g(k):
            o.path(v)
    for k in ("file.name", "dll.name"):
        for v in g(k):
            rec.objs.append(("file", {"name": v}))
    # registry
    hive, key, path, value = (g("registry." + x) for x in ("hive", "key", "path", "value"))
    if value and value[0]:
        rec.objs.append(("windows-registry-key", {"values[*].name": value[0],
                                                  "values.name": value[0]}))
    if hive and key and hive[0] and key[0]:
        o.regkey(hive[0] + "\\" + key[0])
        if path and value and value[0]:
            o.regkey(path[0])
    elif path and path[0]:
        if value and value[0] and "\\" in path[0]:
            o.regkey(path[0].rsplit("\\", 1)[0])
        o.regkey(path[0])
    for t in g(ev + "TargetObject"):
        if g(ev + "EventType")[:1] in (["SetValue"], ["DeleteValue"]) and "\\" in t:
            o.regkey(t.rsplit("\\", 1)[0])
            name = t.rsplit("\\", 1)[1]
            rec.objs.append(("windows-registry-key", {"values[*].name": name, "values.name": name}))
        o.regkey(t)
    for v in g(ev + "NewName"):
        o.regkey(v)
    # DNS and network
    for k in ("dns.question.name", ev + "QueryName", "source.domain", "destination.domain",
              ev + "DestinationHostname", "url.domain"):
        for v in g(k):
            ref._add_domain(rec, v)
    for v in g("dns.resolved_ip") + g("related.ip"):
        ref._add_ip(rec, v)
    for v in g("dns.answers.data"):
        ref._add_ip_or_domain(rec, ref._cut_port(v))
    for v in g(ev + "QueryResults"):
        for part in v.split(";"):
            part = re.sub(r"^type:\s*\d+\s*", "", part)
            if part.startswith("::ffff:") and ref.norm_ip(part[7:]) and "." in part:
                part = part[7:]
            if part:
                ref._add_ip_or_domain(rec, part)
    nt = {}
    for role, ips, ports in (("src", ("source.ip", "client.ip", ev + "SourceIp"),
                              ("source.port", "client.port", ev + "SourcePort")),
                             ("dst", ("destination.ip", "server.ip", ev + "DestinationIp"),
                              ("destination.port", "server.port", ev + "DestinationPort"))):
        for k in ips:
            for v in g(k):
                ref._add_ip(rec, v, role, nt)
        for k in ports:
            for v in g(k):
                ref._add_port(nt, role, v)
    if nt:
        rec.objs.append(("network-traffic", nt))
    for k in ("url.full", "url.original"):
        for v in g(k):
            rec.objs.append(("url", {"value": v}))
    for k in ("user.name", "user.id", "user.target.name", "user.target.id", "process.user.name",
              "process.user.id", "related.user", "winlog.user.identifier", "winlog.user.name",
              ev + "User", ev + "TargetUserName", ev + "TargetUserSid", ev + "SubjectUserName",
              ev + "SubjectUserSid"):
        for v in g(k):
            if v == "-":
                continue
            o.user(v)
            if "\\" in v:
                o.user(v.split("\\", 1)[1])
    for k in ("mutex.name", ev + "Mutex"):
        for v in g(k):
            rec.objs.append(("mutex", {"name": v}))
    return rec


def read_ecs(lines):
    for no, line in lines:
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if isinstance(d, dict):
            rec = _ecs(no, d)
            if rec is not None:
                yield rec


# --- osquery ----------------------------------------------------------------


def _osq_row(no, ts, row):
    rec = ref.Rec(no, ts)
    o = Objs(rec)
    proc = "pid" in row or "cmdline" in row
    nt = {}
    for k, v in row.items():
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or not v:
            continue
        if k == "cmdline":
            o.process(cmd=v)
        elif k == "path" and v[:5].upper() == "HKEY_":
            o.regkey(v)
        elif k in ("path", "target_path"):
            o.path(v, image=proc and k == "path")
        elif k == "key" and "key" in row:
            o.regkey(v)
        elif k == "name" and proc:
            o.process(name=v)
        elif k == "name" and "key" in row:
            rec.objs.append(("windows-registry-key", {"values[*].name": v, "values.name": v}))
        elif k in ("directory", "cwd"):
            o.directory(v)
        elif k == "filename":
            rec.objs.append(("file", {"name": v}))
        elif k in ("md5", "sha1", "sha256"):
            o.hash({"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}[k], v)
        elif k in ("username", "user", "uid", "uuid", "sid"):
            o.user(v)
        elif k == "remote_address":
            ref._add_ip(rec, v, "dst", nt)
        elif k == "local_address":
            ref._add_ip(rec, v, "src", nt)
        elif k == "remote_port":
            ref._add_port(nt, "dst", v)
        elif k == "local_port":
            ref._add_port(nt, "src", v)
        elif k == "url":
            rec.objs.append(("url", {"value": v}))
        elif k in ("domain", "hostname", "host"):
            ref._add_ip_or_domain(rec, v)
        elif k in ("mutex", "mutant"):
            rec.objs.append(("mutex", {"name": v}))
    if nt:
        rec.objs.append(("network-traffic", nt))
    return rec


def read_osquery(lines):
    import calendar
    import time
    for no, line in lines:
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if not isinstance(d, dict):
            continue
        ts = None
        if "unixTime" in d:
            try:
                ts = float(d["unixTime"])
            except (TypeError, ValueError):
                continue
        elif "calendarTime" in d:
            try:
                ts = calendar.timegm(time.strptime(d["calendarTime"], "%a %b %d %H:%M:%S %Y UTC"))
            except ValueError:
                continue
        if isinstance(d.get("columns"), dict):
            rows = [d["columns"]]
        elif isinstance(d.get("snapshot"), list):
            rows = d["snapshot"]
        elif isinstance(d.get("diffResults"), dict):
            dr = d["diffResults"]
            rows = (dr.get("added") or []) + (dr.get("removed") or [])
        else:
            continue
        for row in rows:
            if isinstance(row, dict):
                yield _osq_row(no, ts, row)


# --- auditd -----------------------------------------------------------------

_HDR = re.compile(r"type=(\S+) msg=audit\((\d+\.\d+):(\d+)\):")
_FIELD = re.compile(r"([A-Za-z0-9_\[\]]+)=(\"[^\"]*\"|[^ ']*)")
_UNTRUSTED = {"comm", "exe", "cwd", "name", "proctitle", "acct", "cmd", "key", "data", "path"}


def _value(k, v):
    if v.startswith('"'):
        return v[1:-1] if v.endswith('"') else v[1:]
    base = k.split("[")[0]
    if (base in _UNTRUSTED or re.match(r"^a\d", k)) and v and len(v) % 2 == 0 and \
            re.match(r"^[0-9A-Fa-f]+$", v):
        return bytes.fromhex(v).decode("utf-8", "replace")
    return v


def _audit_event(first_no, ts, lines):
    rec = ref.Rec(first_no, ts)
    o = Objs(rec)
    args, execve, title, saddr, sending = [], False, None, None, False
    for typ, body in lines:
        fields = [(k, v) for k, v in _FIELD.findall(body.replace("'", " "))]
        arch = None
        pname, parent = None, False
        for k, raw in fields:
            if not raw:
                continue
            if k == "saddr":
                saddr = raw
                continue
            if raw == "(null)":
                continue
            v = _value(k, raw)
            if typ == "EXECVE" and re.match(r"^a\d+(\[\d+\])?$", k):
                piece = re.match(r"^a\d+\[(\d+)\]$", k)
                if piece and piece.group(1) != "0" and args:
                    args[-1] += v
                else:
                    args.append(v)
                execve = True
            elif k == "proctitle":
                title = v.rstrip("\0").replace("\0", " ")
            elif k == "arch":
                arch = v
            elif k in ("syscall", "SYSCALL"):
                if v in ("connect", "sendto", "sendmsg") or \
                        (arch == "c000003e" and v in ("42", "44", "46")) or \
                        (arch == "c00000b7" and v in ("203", "206", "211")):
                    sending = True
            elif k == "exe":
                o.path(v, image=True)
            elif k == "comm":
                o.process(name=v)
            elif k == "cwd":
                o.directory(v)
            elif k == "name" and typ == "PATH":
                pname = v
            elif k == "nametype":
                parent = v == "PARENT"
            elif k == "cmd":
                o.process(cmd=v)
            elif k.lower() in ("acct", "uid", "auid", "euid"):
                if v not in ("4294967295", "unset", "?", "(null)"):
                    o.user(v)
            elif k in ("addr", "laddr"):
                ref._add_ip(rec, v)
            elif k == "hostname" and v != "?":
                ref._add_ip_or_domain(rec, v)
        if pname:
            if parent:
                o.directory(pname)
            else:
                o.path(pname)
    if execve and args:
        o.process(cmd=" ".join(args))
    elif title:
        o.process(cmd=title)
    if saddr and len(saddr) >= 16:
        b = bytes.fromhex(saddr[: len(saddr) // 2 * 2])
        fam = b[0] | b[1] << 8
        ip = None
        if fam == 2:
            ip = ".".join(str(x) for x in b[4:8])
        elif fam == 10 and len(b) >= 24:
            import ipaddress
            ip = str(ipaddress.IPv6Address(b[8:24]))
        if ip:
            nt = {}
            ref._add_ip(rec, ip, "dst" if sending else None, nt)
            if sending:
                ref._add_port(nt, "dst", b[2] << 8 | b[3])
                rec.objs.append(("network-traffic", nt))
    return rec


def read_auditd(lines):
    cur, first, ts, body = None, None, None, []
    for no, line in lines:
        m = _HDR.search(line)
        if not m:
            continue
        typ, serial = m.group(1), m.group(2) + ":" + m.group(3)
        if cur is not None and serial != cur:
            yield _audit_event(first, ts, body)
            cur = None
        if typ == "EOE":
            if cur is not None:
                yield _audit_event(first, ts, body)
            cur = None
            continue
        if cur is None:
            cur, first, ts, body = serial, no, float(m.group(2)), []
        body.append((typ, line[m.end():]))
    if cur is not None:
        yield _audit_event(first, ts, body)


def eval_host(stype, path, op, value, v):
    """A comparison on a host object's property; None when not a host path."""
    if stype == "windows-registry-key":
        if op == "MATCHES":
            return re.search(value, v, re.I) is not None
        if path == "key":
            return regkey(value).lower() == v.lower()
        return value.lower() == v.lower()
    if op == "MATCHES":
        return isinstance(v, str) and re.search(value, v) is not None
    return None
