"""Federation over TLS, end to end: node A serves with `serve --tls-cert/--tls-key`
(a throwaway CA and a server certificate for 127.0.0.1 and localhost, made
at test time with the openssl or GnuTLS certtool CLI; no key is kept), node B
pulls from it with `peer add --ca FILE`.  With the CA the pull works (by
address and by name); without --ca, with another CA, or with a name the
certificate does not carry, the sync fails with a certificate error and
stores nothing; serve refuses a key that does not match its certificate; a
plain-http URL to the TLS port fails cleanly; a relative --ca path still
works when the sync runs from another directory, a missing one is refused."""
import os
import shutil
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import Results, skip_all, tempdir  # noqa: E402
from sync_util import (collection, grant, ids_in, import_objects, indicator,  # noqa: E402
                       make_node, sql, sync)


def sh(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {p.returncode}: {p.stdout[-2000:]}")


def certs_openssl(d, name):
    """CA `name` (ca-NAME.pem/.key) and, for the first CA, a server certificate."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    sh(["openssl", "req", "-x509", *ec, "-keyout", f"ca-{name}.key", "-out", f"ca-{name}.pem",
        "-days", "2", "-subj", f"/CN=schakel test CA {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)


def server_openssl(d, ca, sans, out):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    sh(["openssl", "req", *ec, "-keyout", f"{out}.key", "-out", f"{out}.csr",
        "-subj", "/CN=schakel test server"], d)
    with open(os.path.join(d, f"{out}.ext"), "w") as f:
        f.write("subjectAltName=" + ",".join(sans) + "\n"
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    sh(["openssl", "x509", "-req", "-in", f"{out}.csr", "-CA", f"ca-{ca}.pem",
        "-CAkey", f"ca-{ca}.key", "-CAcreateserial", "-out", f"{out}.pem", "-days", "2",
        "-extfile", f"{out}.ext"], d)


def certs_certtool(d, name):
    with open(os.path.join(d, f"ca-{name}.tmpl"), "w") as f:
        f.write(f'cn = "schakel test CA {name}"\nca\ncert_signing_key\ncrl_signing_key\n'
                "expiration_days = 2\n")
    sh(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", f"ca-{name}.key"],
       d)
    sh(["certtool", "--generate-self-signed", "--load-privkey", f"ca-{name}.key",
        "--template", f"ca-{name}.tmpl", "--outfile", f"ca-{name}.pem"], d)


def server_certtool(d, ca, sans, out):
    lines = ['cn = "schakel test server"', "tls_www_server", "signing_key", "encryption_key",
             "expiration_days = 2"]
    for s in sans:
        kind, v = s.split(":", 1)
        lines.append(f'{"ip_address" if kind == "IP" else "dns_name"} = "{v}"')
    with open(os.path.join(d, f"{out}.tmpl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    sh(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", f"{out}.key"], d)
    sh(["certtool", "--generate-certificate", "--load-privkey", f"{out}.key",
        "--load-ca-certificate", f"ca-{ca}.pem", "--load-ca-privkey", f"ca-{ca}.key",
        "--template", f"{out}.tmpl", "--outfile", f"{out}.pem"], d)


def make_certs(d):
    """Two CAs ("test", "other") and server certificates signed by "test":
    srv (IP:127.0.0.1, DNS:localhost) and named (DNS:node.test only).
    Returns the tool used, or None when neither CLI is installed."""
    if os.environ.get("SK_TLS_TOOL") in ("openssl", "certtool"):
        tools = [os.environ["SK_TLS_TOOL"]]  # to exercise one path on purpose
    else:
        tools = ["openssl", "certtool"]
    for tool in tools:
        if not shutil.which(tool):
            continue
        ca, srv = (certs_openssl, server_openssl) if tool == "openssl" else \
            (certs_certtool, server_certtool)
        ca(d, "test")
        ca(d, "other")
        srv(d, "test", ["IP:127.0.0.1", "DNS:localhost"], "srv")
        srv(d, "test", ["DNS:node.test"], "named")
        return tool
    return None


def add_peer(b, a, tok, name, url, local, ca=None, cwd=None):
    args = ["peer", "add", name, url, "--api-root", "/api/", "--collection", "share",
            "--auth", "token", "--secret-stdin", "--identity", a.ident,
            "--local-collection", local, "--pull"]
    if ca:
        args += ["--ca", ca]
    return b.run(*args, stdin=tok + "\n", check=False, cwd=cwd)


def stored_from(b, peer, local):
    prov = sql(b, f"SELECT count(*) FROM provenance WHERE peer='{peer}'")[0][0]
    objs = len(ids_in(b, local))
    cur = sql(b, "SELECT s.pull_cursor FROM peer_state s JOIN peers p ON p.pid=s.pid"
                 f" WHERE p.name='{peer}'")[0][0]
    return prov, objs, cur


def main():
    R = Results()
    d = tempdir("sk-tls-")
    try:
        tool = make_certs(d)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        print(f"FAIL: making the test certificates: {e}")
        print("0 passed, 1 failed")
        sys.exit(1)
    if not tool:
        skip_all("neither the openssl nor the certtool CLI is installed, so no test "
                 "certificates can be made (scripts/install-deps.sh installs openssl)")
    print(f"certificates made with {tool}")
    with make_node("A") as a, make_node("B") as b:
        run(a, b, d, R)
    R.finish()


def run(a, b, d, R):
    ca, other = os.path.join(d, "ca-test.pem"), os.path.join(d, "ca-other.pem")
    collection(a, "share")
    # a key that does not belong to the certificate: serve refuses to start
    p = a.run("serve", "--listen", "127.0.0.1:0", "--no-sync",
              "--tls-cert", os.path.join(d, "srv.pem"), "--tls-key", os.path.join(d, "named.key"),
              stdin=b"", timeout=60, check=False)
    R.check(p.returncode != 0 and "listening" not in p.stdout and
            "certificate and key" in p.stderr,
            f"serve refuses a key that does not match the certificate ({p.returncode}: "
            f"{p.stderr.strip()!r})")
    a.start("--no-sync", "--tls-cert", os.path.join(d, "srv.pem"),
            "--tls-key", os.path.join(d, "srv.key"))
    R.check(a.url.startswith("https://127.0.0.1:"), f"A serves https ({a.url})")
    port = a.port

    # an independent client (Python's ssl) accepts A's certificate with the CA
    for host in ("127.0.0.1", "localhost"):
        ctx = ssl.create_default_context(cafile=ca)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s, \
                    ctx.wrap_socket(s, server_hostname=host) as t:
                R.check(t.version() is not None, f"handshake verified as {host}")
        except (ssl.SSLError, OSError) as e:
            R.check(False, f"handshake verified as {host}: {e}")

    tok = grant(a, b, "share", read=True)
    first = [indicator(a.ident, "green") for _ in range(25)]
    import_objects(a, first, "share")
    want = {o["id"] for o in first}

    # --- with the CA: pull works, by address and by name -------------------------------
    for name, host in (("good", "127.0.0.1"), ("byname", "localhost")):
        local = "in-" + name
        collection(b, local)
        p = add_peer(b, a, tok, name, f"https://{host}:{port}/", local, ca=ca)
        R.check(p.returncode == 0, f"peer add {name} --ca ({p.stderr.strip()})")
        r = sync(b, name, check=False)
        R.check(r["rc"] == 0 and r.get("stored") == 25,
                f"{name}: pull over TLS with --ca ({r})")
        got = {o["id"] for o in ids_in(b, local) if o["type"] == "indicator"}
        R.check(got == want, f"{name}: every object arrived ({len(got)} of {len(want)})")

    # --- trust failures: nothing stored, cursor untouched, a certificate error ------------
    cases = (("noca", f"https://127.0.0.1:{port}/", None, "no --ca (system CAs only)"),
             ("wrongca", f"https://127.0.0.1:{port}/", other, "another CA"))
    for name, url, cafile, what in cases:
        local = "in-" + name
        collection(b, local)
        p = add_peer(b, a, tok, name, url, local, ca=cafile)
        R.check(p.returncode == 0, f"peer add {name} ({p.stderr.strip()})")
        r = sync(b, name, check=False)
        err = r["stderr"].lower()
        print(f"{what}: {r['stderr'].strip()}")
        R.check(r["rc"] == 1, f"{what}: sync fails (rc {r['rc']})")
        R.check("certificate" in err, f"{what}: the error names the certificate: "
                f"{r['stderr'].strip()!r}")
        R.check(stored_from(b, name, local) == (0, 0, None),
                f"{what}: nothing stored ({stored_from(b, name, local)})")
        st = b.run("peer", "status").stdout
        line = [ln for ln in st.splitlines() if ln.startswith(name + ":")]
        R.check(line and "failures 1" in line[0] and "certificate" in line[0].lower(),
                f"{what}: peer status shows the failure ({line})")

    # a name the certificate does not carry: A on a second port with the
    # node.test-only certificate, reached as 127.0.0.1
    with make_node("A2") as a2:
        collection(a2, "share")
        a2.start("--no-sync", "--tls-cert", os.path.join(d, "named.pem"),
                 "--tls-key", os.path.join(d, "named.key"))
        tok2 = grant(a2, b, "share", read=True)
        import_objects(a2, [indicator(a2.ident, "green")], "share")
        collection(b, "in-mismatch")
        p = add_peer(b, a2, tok2, "mismatch", f"https://127.0.0.1:{a2.port}/", "in-mismatch",
                     ca=ca)
        r = sync(b, "mismatch", check=False)
        print(f"mismatch: {r['stderr'].strip()}")
        R.check(r["rc"] == 1, f"name mismatch: sync fails (rc {r['rc']})")
        err = r["stderr"].lower()
        R.check("certificate" in err or "name" in err,
                f"name mismatch: a clear error ({r['stderr'].strip()!r})")
        R.check(stored_from(b, "mismatch", "in-mismatch") == (0, 0, None),
                "name mismatch: nothing stored")

    # --- plain http to the TLS port: a clean failure, and A is unharmed -----------------
    collection(b, "in-plain")
    p = add_peer(b, a, tok, "plain", f"http://127.0.0.1:{port}/", "in-plain")
    r = b.run("peer", "sync", "plain", "--timeout", "60", check=False)
    R.check(r.returncode == 1, f"plain http to a TLS server fails (rc {r.returncode}): "
            f"{r.stderr.strip()!r}")
    R.check(r.stderr.strip().startswith("schakel: peer sync: peer plain:"),
            f"plain http: one clear error line ({r.stderr.strip()!r})")
    R.check(stored_from(b, "plain", "in-plain") == (0, 0, None), "plain http: nothing stored")

    more = [indicator(a.ident, "green") for _ in range(3)]
    import_objects(a, more, "share")
    r = sync(b, "good", check=False)
    R.check(r["rc"] == 0 and r.get("stored") == 3 and r.get("requests") == 1,
            f"A still serves TLS after the failed handshakes; incremental pull ({r})")

    # --- a relative --ca path is kept usable from another working directory -------------
    collection(b, "in-rel")
    p = add_peer(b, a, tok, "relca", f"https://127.0.0.1:{port}/", "in-rel", ca="ca-test.pem",
                 cwd=d)
    R.check(p.returncode == 0, f"peer add --ca RELATIVE ({p.stderr.strip()})")
    r = sync(b, "relca", check=False)  # in B's directory, not d
    R.check(r["rc"] == 0 and r.get("stored") == 28,
            f"relative --ca resolved at add time ({r})")
    # a --ca file that does not exist is refused when the peer is added
    p = add_peer(b, a, tok, "noca-file", f"https://127.0.0.1:{port}/", "in-rel",
                 ca=os.path.join(d, "missing.pem"))
    R.check(p.returncode != 0 and "missing.pem" in p.stderr,
            f"peer add --ca MISSING refused ({p.returncode}: {p.stderr.strip()!r})")


if __name__ == "__main__":
    main()
