"""The hash-key export as an exit of the sharing policy, as a matrix
(docs/private-matching.md, "Keys"; docs/sharing-policy.md): a collection key
goes only where its indicators go.  Hashed indicators at every level
(CLEAR, GREEN, AMBER, AMBER+STRICT, RED), each level in its own collection
with its own key, x every kind of recipient (no grant, a plain read grant,
--amber, --amber-strict, a partner with a RED recipient account, a write-only
grant).  `hashkey export C --for P` must succeed exactly when `export --for
partner:P` (the one policy, as TAXII applies it) shows P a current indicator
hashed under C's key; a refusal exits 1, writes no file and no audit entry;
every success is audited.  A revoked indicator no longer carries its key."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from sklib import Node, test_main  # noqa: E402

LEVELS = ["clear", "green", "amber", "amber+strict", "red"]
PARTNERS = {"None": [], "Reader": ["--read"], "Amber": ["--read", "--amber"],
            "Strict": ["--read", "--amber-strict"], "RedOrg": ["--read"],
            "Writer": ["--write"]}


def main():
    test_main(run, Node(name="Producer"), Node(name="Recipient"))


def coll(level):
    return "leak-" + level.replace("+", "-")


def run(a, b, R):
    pk = a.run("key", "show", check=False).out  # make sure A has its key
    out = b.run("key", "show", check=True).out.split()
    bkey = out[out.index("key") + 1]
    for p, flags in PARTNERS.items():
        a.partner(p, "--country", "NL")
        a.run("partner", "set", p, "--key", bkey, check=True)
    a.account("red1", "RedOrg", "pw-red1")
    vals = a.path("v.txt")
    with open(vals, "w") as f:
        f.write("someone@example.org\n")
    ind = {}
    for lv in LEVELS:
        c = coll(lv)
        a.run("collection", "add", c, check=True)
        for p, flags in PARTNERS.items():
            if flags:
                a.grant(p, c, *flags)
        a.run("collection", "red-recipient", "red1", c, check=True)
        a.run("hashkey", "create", c, check=True)
        ind[lv] = a.run("indicator", "hash", "--collection", c, "--type", "email", "--input",
                        vals, "--tlp", lv, check=True).out.strip()
    del pk
    readers = ["Reader", "Amber", "Strict", "RedOrg"]
    want = {(lv, p) for lv in ("clear", "green") for p in readers} | \
        {("amber", "Amber"), ("amber+strict", "Strict")}
    allowed = set()
    for lv in LEVELS:
        c = coll(lv)
        for p in PARTNERS:
            exp = a.run("export", "--for", f"partner:{p}", "--collection", c, check=False)
            sees = exp.code == 0 and ind[lv] in exp.out
            dest = a.path(f"k-{c}-{p}.json")
            audits = len(a.run("audit", "list", "--action", "hashkey.export",
                               check=True).out.splitlines())
            r = a.run("hashkey", "export", c, "--for", p, "--output", dest, check=False)
            after = len(a.run("audit", "list", "--action", "hashkey.export",
                              check=True).out.splitlines())
            if sees:
                allowed.add((lv, p))
                R.check(r.code == 0 and os.path.exists(dest) and after == audits + 1,
                        f"{lv} x {p}: it sees the indicator, so the key goes (audited)",
                        r.err)
            else:
                R.check(r.code == 1 and "refused" in r.err and not os.path.exists(dest) and
                        after == audits,
                        f"{lv} x {p}: it may not see the indicator: refused, no file, "
                        f"no audit entry", r.err)
    R.eq(allowed, want, "the key went exactly where TLP lets its indicators go (RED to no "
         "partner: a RED recipient is an account)")
    # a plain-read partner sees the GREEN indicator; once revoked, the key no longer goes
    a.run("revoke", ind["green"], check=True)
    r = a.run("hashkey", "export", coll("green"), "--for", "Reader", "--output",
              a.path("k-rev.json"), check=False)
    R.check(r.code == 1 and "refused" in r.err, "after the revocation the key is refused",
            r.err)


if __name__ == "__main__":
    main()
