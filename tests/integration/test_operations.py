"""Operations: serve's configuration file (flags override it, errors name
file and line, `config show` says where each setting comes from), --log with
SIGHUP reopening it for logrotate, and the Debian package (contents,
dependencies, maintainer scripts, the hardened unit checked by
systemd-analyze, and the unit's ExecStart run as an unprivileged user).
Installing the package for real (dpkg -i, then purge) only with
SK_TEST_INSTALL_DEB=1, as it changes the machine."""
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import sklib  # noqa: E402
from sklib import test_main, wait_for  # noqa: E402
from taxii_util import Node  # noqa: E402


def main():
    test_main(run, Node())


def run(node, R):
    conf_file(node, R)
    log_reopen(node, R)
    package(node, R)


def public_objects(node, n):
    node.run("collection", "add", "pub", "--alias", "pub", "--public", "--default-tlp", "clear")
    objs = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "pattern": f"[ipv4-addr:value = '192.0.2.{i + 1}']", "pattern_type": "stix",
             "valid_from": "2026-01-01T00:00:00Z",
             "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]}
            for i in range(n)]
    node.run("import", "--collection", "pub", "-", stdin="\n".join(json.dumps(o) for o in objs))


def page_len(node):
    st, _, j = node.get_json("/api/collections/pub/objects/")
    return len((j or {}).get("objects", [])) if st == 200 else -st


def conf_file(node, R):
    public_objects(node, 5)
    conf = node.path("serve.conf")
    with open(conf, "w") as f:
        f.write("# test configuration\nno-sync = true\npage-size = 2   # two a page\n"
                "metrics = false\nthreads \"2\"\n")
    node.start("--config", conf)
    R.check(page_len(node) == 2, f"the file's page-size applies ({page_len(node)})")
    node.stop()
    node.start("--config", conf, "--page-size", "3")
    R.check(page_len(node) == 3, f"a flag overrides the file ({page_len(node)})")
    node.stop()
    node.start(env={"SCHAKEL_CONFIG": conf})
    R.check(page_len(node) == 2, "SCHAKEL_CONFIG names the file")
    node.stop()
    r = node.run("config", "show", "--config", conf, check=False)
    R.check(r.code == 0 and re.search(r"serve\.page-size\s+2\s+\(.*serve\.conf:3\)", r.out)
            and re.search(r"sync\.max_pages\s+1000\s+\(default\)", r.out)
            and re.search(r"taxii\.root\.api\.enabled\s+true", r.out),
            f"config show: every setting, its value and where it comes from ({r.out[-600:]})")
    for text, why in (("bogus = 1\n", "unknown setting 'bogus'"),
                      ("insecure = yes\n", "'insecure' is a flag"),
                      ("page-size =\n", "'page-size' needs a value"),
                      ("listen = \"127.0.0.1:1\n", "unterminated")):
        bad = node.path("bad.conf")
        with open(bad, "w") as f:
            f.write("# first\n" + text)
        r = node.run("serve", "--config", bad, check=False)
        R.check(r.code == 2 and "bad.conf:2: " in r.err and why in r.err,
                f"bad file refused with file and line: {why} ({r.code} {r.err.strip()})")
    r = node.run("serve", "--config", node.path("missing.conf"), check=False)
    R.check(r.code == 1 and "missing.conf" in r.err, f"a named file must exist ({r.err.strip()})")


def log_reopen(node, R):
    log = node.path("access.log")
    srv = node.start("--no-sync", "--log", log)
    node.get_json("/taxii2/")
    R.check(wait_for(lambda: os.path.exists(log) and "/taxii2/" in open(log).read(), 10),
            "--log: the access log goes to the file")
    R.check(os.stat(log).st_mode & 0o077 == 0, "the log file is 0600")
    os.rename(log, log + ".1")
    srv.proc.send_signal(signal.SIGHUP)
    R.check(wait_for(lambda: os.path.exists(log), 10), "SIGHUP reopens the log under its name")
    node.get_json("/api/collections/")
    R.check(wait_for(lambda: "/api/collections/" in open(log).read(), 10)
            and "/api/collections/" not in open(log + ".1").read(),
            "after SIGHUP new lines go to the new file, none to the rotated one")
    R.check(node.server.proc.poll() is None, "the server keeps running after SIGHUP")
    R.check(srv.stop() == 0, "and stops cleanly")


def package(node, R):
    build = os.path.dirname(os.path.abspath(sklib.binary()))
    cpconf = os.path.join(build, "CPackConfig.cmake")
    if not (shutil.which("cpack") and shutil.which("dpkg-deb") and os.path.exists(cpconf)):
        print("note - cpack, dpkg-deb or the CPack configuration missing: package not built")
        return
    out = tempfile.mkdtemp(prefix="sk-deb-")
    try:
        p = subprocess.run(["cpack", "-G", "DEB", "-B", out, "--config", cpconf],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        R.check(p.returncode == 0 and len(debs) == 1, f"cpack builds the package ({p.stdout[-500:]})")
        if not debs:
            return
        deb = os.path.join(out, debs[0])
        files = subprocess.run(["dpkg-deb", "-c", deb], stdout=subprocess.PIPE, text=True).stdout
        for want in ("./usr/bin/schakel", "./usr/lib/systemd/system/schakel.service",
                     "./etc/schakel/schakel.conf", "./usr/share/man/man1/schakel-serve.1"):
            R.check(want in files, f"the package holds {want}")
        info = subprocess.run(["dpkg-deb", "-I", deb], stdout=subprocess.PIPE, text=True).stdout
        R.check(all(d in info for d in ("libsqlite3-0", "libmicrohttpd12", "libsodium23",
                                        "libhyperscan5", "adduser")),
                f"its dependencies are the libraries it links ({info[:600]})")
        R.check("postinst" in info and "conffiles" in info, "maintainer scripts and conffiles")
        os.chmod(out, 0o755)  # the unprivileged run below reaches the extracted binary
        root = os.path.join(out, "root")
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        unit = open(os.path.join(root, "usr/lib/systemd/system/schakel.service")).read()
        for h in ("User=schakel", "NoNewPrivileges=yes", "ProtectSystem=strict",
                  "CapabilityBoundingSet=", "ExecReload=/bin/kill -HUP $MAINPID"):
            R.check(h in unit, f"the unit has {h}")
        if shutil.which("systemd-analyze"):
            # the unit as installed, its binary at the extracted path (verify checks it runs)
            udir = os.path.join(out, "unit")
            os.makedirs(udir)
            with open(os.path.join(udir, "schakel.service"), "w") as f:
                f.write(unit.replace("/usr/bin/schakel", os.path.join(root, "usr/bin/schakel")))
            v = subprocess.run(["systemd-analyze", "verify", "--man=no",
                                os.path.join(udir, "schakel.service")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            msgs = [ln for ln in v.stdout.splitlines() if "schakel.service" in ln]
            R.check(v.returncode == 0 and not msgs,
                    f"systemd-analyze verify finds nothing in the unit ({v.stdout[-400:]})")
        exec_start(node, R, root, unit)
        if os.environ.get("SK_TEST_INSTALL_DEB") == "1":
            real_install(R, deb)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def exec_start(node, R, root, unit):
    """The unit's ExecStart, with the package's binary and configuration, run
    as an unprivileged user (the package's schakel, else nobody)."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        print("note - not root: the ExecStart run as another user is skipped")
        return
    user = "schakel"
    try:
        pwd.getpwnam(user)
    except KeyError:
        user = "nobody"
    pw = pwd.getpwnam(user)
    line = [ln for ln in unit.splitlines() if ln.startswith("ExecStart=")][0][len("ExecStart="):]
    argv = line.split()
    state = tempfile.mkdtemp(prefix="sk-state-")
    os.chown(state, pw.pw_uid, pw.pw_gid)
    os.chmod(state, 0o750)
    db = os.path.join(state, "schakel.db")
    conf = os.path.join(state, "schakel.conf")
    with open(os.path.join(root, "etc/schakel/schakel.conf")) as f:
        text = f.read().replace("listen = 127.0.0.1:6543", "listen = 127.0.0.1:0")
    with open(conf, "w") as f:
        f.write(text + "no-sync = true\n")
    os.chmod(conf, 0o644)
    exe = os.path.join(root, argv[0].lstrip("/"))
    argv = [exe if a == argv[0] else db if a == "/var/lib/schakel/schakel.db" else
            conf if a == "/etc/schakel/schakel.conf" else a for a in argv]
    os.chmod(state, 0o755)  # the extracted binary's directory must be reachable: it is
    env = dict(os.environ, SCHAKEL_CONFIG="/dev/null")
    try:
        i = subprocess.run(["runuser", "-u", user, "--", exe, "--db", db, "init", "--name",
                            "package test"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env)
        R.check(i.returncode == 0, f"init as {user} ({i.stderr.strip()})")
        outp = os.path.join(state, "out")
        with open(outp, "w") as o:
            proc = subprocess.Popen(["runuser", "-u", user, "--"] + argv, stdout=o,
                                    stderr=subprocess.STDOUT, env=env)
        got = wait_for(lambda: "listening on" in open(outp).read() or proc.poll() is not None,
                       30)
        R.check(got and proc.poll() is None and "listening on http://127.0.0.1:" in
                open(outp).read(), f"the unit's ExecStart serves as {user} "
                                   f"({open(outp).read()[-400:]})")
        R.check(os.stat(db).st_uid == pw.pw_uid and os.stat(db).st_mode & 0o077 == 0,
                "its database belongs to that user, 0600")
        proc.send_signal(signal.SIGTERM)  # runuser passes it on, then ends by it
        rc = proc.wait(30)
        R.check(rc in (0, -signal.SIGTERM) and "SIGTERM, shutting down" in open(outp).read(),
                f"and it stops on SIGTERM ({rc})")
    finally:
        shutil.rmtree(state, ignore_errors=True)


def real_install(R, deb):
    r = subprocess.run(["dpkg", "-i", deb], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    try:
        R.check(r.returncode == 0, f"dpkg -i ({r.stdout[-500:]})")
        R.check(pwd.getpwnam("schakel") is not None, "the schakel user exists")
        st = os.stat("/var/lib/schakel/schakel.db")
        R.check(st.st_uid == pwd.getpwnam("schakel").pw_uid and st.st_mode & 0o077 == 0,
                "postinst made the node, owned by schakel, 0600")
        v = subprocess.run(["/usr/bin/schakel", "--version"], stdout=subprocess.PIPE, text=True)
        R.check(v.returncode == 0, "schakel is on the PATH")
    finally:
        subprocess.run(["dpkg", "--purge", "schakel"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
