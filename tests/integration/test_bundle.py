"""Signed bundle files for partners without a network link (docs/provenance.md,
"Bundle files"): `bundle export --for` writes exactly what the partner may see,
signed and (with --encrypt) sealed to its key; `bundle import` refuses a
tampered, truncated, replayed or foreign file with exit 1 and nothing stored,
and stores a good one under every rule, as received from the sender."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import test_main, wait_for  # noqa: E402
from sync_util import collection, import_objects, indicator, make_node, sql  # noqa: E402


def key_of(node):
    out = node.run("key", "show").out.split()
    return out[out.index("key") + 1]


def count(node):
    return sql(node, "SELECT count(*) FROM objects")[0][0]


def main():
    test_main(run, *(make_node(n) for n in ("A", "B", "C")))


def run(a, b, c, R):
    collection(a, "x", "green")
    # A knows B and C as partners with their keys; B knows A
    for n in (b, c):
        a.run("partner", "add", "p-" + n.name, "--identity", n.ident)
        a.run("partner", "set", "p-" + n.name, "--key", key_of(n))
    a.run("collection", "grant", "p-B", "x", "--read")
    b.run("partner", "add", "p-A", "--identity", a.ident)
    b.run("partner", "set", "p-A", "--key", key_of(a))
    green, amber = indicator(a.ident, "green"), indicator(a.ident, "amber")
    import_objects(a, [green, amber], "x")

    out = a.path("b1.bundle")
    a.run("bundle", "export", "--for", "p-B", "--output", out, "--encrypt")
    R.check(os.stat(out).st_mode & 0o777 == 0o600, "the bundle file is 0600")
    raw = open(out, "rb").read()
    R.check(green["pattern"].encode() not in raw, "encrypted: the content is not readable")

    # --- refused files: nothing stored ---------------------------------------------------
    before = count(b)

    def refused(name, data, why):
        p = b.path(name)
        with open(p, "wb") as f:
            f.write(data)
        r = b.run("bundle", "import", p, check=False)
        R.check(r.returncode == 1 and "refused" in r.err and count(b) == before,
                f"{why}: refused, nothing stored ({r.err.strip()[-160:]})")

    i = raw.index(b'"payload":"') + 40
    flipped = raw[:i] + (b"B" if raw[i:i + 1] != b"B" else b"C") + raw[i + 1:]
    refused("tampered.bundle", flipped, "a changed byte")
    refused("truncated.bundle", raw[:len(raw) // 2], "a truncated file")
    doc = json.loads(raw)
    doc["seq"] = doc["seq"] + 5  # a header field changed: the signature covers it
    refused("reseq.bundle", json.dumps(doc).encode(), "a changed sequence number")
    c_out = a.path("c1.bundle")
    a.run("bundle", "export", "--for", "p-C", "--output", c_out)
    refused("foreign.bundle", open(c_out, "rb").read(), "a bundle for another node")

    # --- the good one --------------------------------------------------------------------
    r = b.run("bundle", "import", out, check=False)
    R.check(r.returncode == 0, f"B imports its bundle ({r.err.strip()})")
    got = {row[0] for row in sql(b, "SELECT id FROM objects")}
    R.check(green["id"] in got and amber["id"] not in got,
            "exactly what B may see: GREEN, not A's AMBER")
    rc = b.run("verify", green["id"], check=False)
    R.check(rc.returncode == 0, f"A's signature verifies at B ({rc.out.strip()})")
    rx = sql(b, f"SELECT rx FROM objects WHERE id='{green['id']}'")
    R.check(rx == [(a.ident,)], f"recorded as received from A ({rx})")
    before = count(b)
    refused("replay.bundle", raw, "the same bundle again (a replay)")

    # --- --since-last: only what is new --------------------------------------------------
    newer = indicator(a.ident, "green")
    import_objects(a, [newer], "x")
    out2 = a.path("b2.bundle")
    a.run("bundle", "export", "--for", "p-B", "--output", out2, "--since-last")
    r = b.run("bundle", "import", out2, check=False)
    R.check(r.returncode == 0 and "1 objects" in r.err, f"the next bundle has only the new "
            f"object ({r.err.strip()})")
    got = {row[0] for row in sql(b, "SELECT id FROM objects")}
    R.check(newer["id"] in got, "and B has it")


    # --- kill -9 during an import: all or nothing, and the file imports afterwards --------
    many = [indicator(a.ident, "green") for _ in range(20000)]
    import_objects(a, many, "x")
    out3 = a.path("b3.bundle")
    a.run("bundle", "export", "--for", "p-B", "--output", out3, "--since-last")
    before = count(b)
    proc = subprocess.Popen([b.bin, "--db", b.db, "bundle", "import", out3],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # the import has begun writing once the write-ahead log grows (an event, not a clock)
    wal = b.db + "-wal"
    size0 = os.path.getsize(wal) if os.path.exists(wal) else 0
    wait_for(lambda: proc.poll() is not None or
             (os.path.exists(wal) and os.path.getsize(wal) > size0), step=0.001)
    proc.kill()
    proc.wait()
    n = count(b) - before
    R.check(n in (0, 20000), f"after kill -9 the bundle is stored whole or not at all ({n})")
    r = b.run("bundle", "import", out3, check=False)
    if n == 0:
        R.check(r.returncode == 0 and count(b) - before == 20000,
                f"the interrupted bundle imports afterwards ({r.err.strip()[-160:]})")
    else:
        R.check(r.returncode == 1 and "replayed" in r.err, "a completed one is not taken twice")


if __name__ == "__main__":
    main()
