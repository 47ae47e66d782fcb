#!/usr/bin/env python3
"""test_decay - indicator scores and decay through the real binary
(docs/decay.md).

- A partner's trust (`partner set NAME --trust N`) changes the score of its
  indicators (`show`) and whether they alert in `scan`.
- An IP address indicator of some age stops alerting while a file hash of
  the same age, from the same producer, still alerts; `--no-decay` brings it
  back; `scan --at` decays to that time instead of now.
- A sighting refreshes a decayed indicator; a false-positive report (a
  sighting with x_schakel_false_positive, also made by `sighting add
  --false-positive`, or an opinion of disagree) lowers one.
- The matcher cache: loaded when nothing changed, rebuilt when the threshold
  changes.
- Named feeds: an entry that dropped out of a feed's latest import expires
  as a new version (valid_until), while another feed of the same producer
  keeps its entries; an entry that comes back is valid again.

All times are relative to the time the test runs.
"""

import datetime
import json
import os
import re
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklib  # noqa: E402

NS = uuid.UUID("5d1c9f3e-7a0b-4e55-9b1e-64656361790a")
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
HASH = "ab" * 32


def ts(days_ago):
    return (NOW - datetime.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def iid(name):
    return "indicator--" + str(uuid.uuid5(NS, name))


def indicator(name, pattern, days_ago, producer=None, confidence=80):
    o = {"type": "indicator", "spec_version": "2.1", "id": iid(name), "created": ts(days_ago),
         "modified": ts(days_ago), "name": name, "pattern": pattern, "pattern_type": "stix",
         "valid_from": ts(days_ago), "confidence": confidence}
    if producer:
        o["created_by_ref"] = producer
    return o


def write(node, name, objs):
    path = node.path(name)
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objs}, f)
    return path


def hits(node, *extra):
    """The ids of the indicators with hits in the log, and the run."""
    r = node.run("scan", "--format", "text", "--no-sightings", *extra, node.path("t.log"))
    ids = set()
    for line in r.out.splitlines():
        try:
            ids.add(json.loads(line)["indicator"]["id"])
        except (ValueError, KeyError):
            pass
    return ids, r


def score(node, ident):
    out = node.run("show", ident).out
    m = re.search(r"score\s+(\d+) \(base (\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (None, out)


def test_scores(node, R):
    r = node.run("partner", "add", "acme")
    R.check(r.code == 0, "partner add", r)
    acme = r.out.split()[0]
    A = indicator("ip acme", "[ipv4-addr:value = '192.0.2.10']", 10, acme)
    B = indicator("hash acme", "[file:hashes.'SHA-256' = '%s']" % HASH, 10, acme)
    C = indicator("ip old", "[ipv4-addr:value = '198.51.100.7']", 20)
    D = indicator("ip fresh", "[ipv4-addr:value = '203.0.113.5']", 1)
    r = node.run("import", "--from", "acme", write(node, "acme.json", [A, B]))
    R.check(r.code == 0, "import the partner's indicators", r)
    r = node.run("import", write(node, "own.json", [C, D]))
    R.check(r.code == 0, "import the other indicators", r)
    with open(node.path("t.log"), "w") as f:
        f.write("%s conn 192.0.2.10 198.51.100.7 203.0.113.5 file %s\n" % (ts(0), HASH))

    R.eq(node.run("config", "set", "decay.threshold", "30").code, 0, "set the threshold")
    R.eq(node.run("config", "get", "decay.threshold").out.strip(), "30", "config get")
    show = node.run("config", "show").out
    R.check(re.search(r"decay\.threshold\s+30\s+\(database\)", show) and
            re.search(r"decay\.file\.lifetime\s+1095d\s+\(default\)", show),
            "config show lists the decay settings and where they come from", show)
    r = node.run("config", "set", "decay.ip.lifetime", "forever")
    R.check(r.code == 2 and "duration" in r.err, "a bad duration is refused, saying why", r)

    # default trust (75): base 60; an IP of 10 days in 30: 40 > 30, alerting
    R.eq(score(node, A["id"]), (40, 60), "default trust: the score decays from its base")
    got, r = hits(node)
    R.check({A["id"], B["id"], D["id"]} <= got and C["id"] not in got,
            "alerting: the 10-day IP and hash, the fresh IP; not the 20-day IP", r)

    # trust 40: base 32; the IP falls below 30 within two days, the hash (3 years) does not
    r = node.run("partner", "set", "acme", "--trust", "40")
    R.check(r.code == 0, "partner set --trust", r)
    R.check("trust 40" in node.run("partner", "list").out, "partner list shows the trust")
    R.eq(score(node, A["id"])[1], 32, "the partner's trust lowers the base")
    got, r = hits(node)
    R.check(A["id"] not in got, "the old IP of a less trusted producer no longer alerts", r)
    R.check(B["id"] in got, "a hash of the same age and producer still alerts", r)
    R.check("decayed below the score threshold" in r.err, "the summary counts decayed ones", r)
    got, r = hits(node, "--no-decay")
    R.check(A["id"] in got and C["id"] in got, "--no-decay compiles decayed indicators", r)
    got, r = hits(node, "--at", ts(9))
    R.check(A["id"] in got, "--at nine days ago: the IP had not decayed yet then", r)
    r = node.run("partner", "set", "acme", "--trust", "101")
    R.check(r.code == 2, "trust above 100 is refused", r)

    # a sighting refreshes the 20-day IP (and raises its base)
    R.check(C["id"] not in hits(node)[0], "the 20-day IP is decayed")
    r = node.run("sighting", "add", C["id"])
    R.check(r.code == 0, "sighting add", r)
    R.eq(score(node, C["id"]), (70, 70), "a sighting refreshes and raises the score")
    R.check(C["id"] in hits(node)[0], "the refreshed IP alerts again")

    # false-positive reports lower the fresh IP: a sighting, then an opinion
    fp = {"type": "sighting", "spec_version": "2.1", "id": "sighting--" + str(uuid.uuid4()),
          "created": ts(0), "modified": ts(0), "sighting_of_ref": D["id"],
          "x_schakel_false_positive": True}
    r = node.run("import", write(node, "fp.json", [fp]))
    R.check(r.code == 0, "import a false-positive sighting", r)
    R.eq(score(node, D["id"])[1], 35, "a false-positive sighting lowers the base")
    op = {"type": "opinion", "spec_version": "2.1", "id": "opinion--" + str(uuid.uuid4()),
          "created": ts(0), "modified": ts(0), "opinion": "strongly-disagree",
          "object_refs": [D["id"]]}
    r = node.run("import", write(node, "op.json", [op]))
    R.check(r.code == 0, "import a disagreeing opinion", r)
    R.eq(score(node, D["id"])[1], 10, "a disagreeing opinion lowers it further")
    R.check(D["id"] not in hits(node)[0], "below the threshold, it stops alerting")

    # the matcher cache: kept while nothing changes, stale when the threshold does
    hits(node)
    got, r = hits(node)
    R.check("loaded from the matcher cache" in r.err, "an unchanged node loads the cache", r)
    R.eq(node.run("config", "set", "decay.threshold", "5").code, 0, "lower the threshold")
    got, r = hits(node)
    R.check("loaded from the matcher cache" not in r.err and D["id"] in got,
            "a threshold change makes the cached matcher stale", r)
    R.eq(node.run("config", "set", "decay.threshold", "30").code, 0, "threshold back")

    # sighting add --false-positive: the hash of the partner is reported benign
    r = node.run("sighting", "add", B["id"], "--false-positive")
    R.check(r.code == 0, "sighting add --false-positive", r)
    fpv = json.loads(node.run("get", r.out.strip()).out or "{}")
    R.check(fpv.get("x_schakel_false_positive") is True, "the sighting says so", fpv)
    R.eq(score(node, B["id"])[1], 7, "and lowers the indicator's base")
    R.check(B["id"] not in hits(node)[0], "the hash reported benign stops alerting")

    # the default trust for producers without one rescores their indicators
    R.eq(node.run("config", "set", "decay.default_trust", "50").code, 0, "set default_trust")
    R.eq(score(node, C["id"])[1], 50, "the default trust scales unknown producers")
    R.eq(score(node, A["id"])[1], 32, "a partner with its own trust keeps it")


def ids_by_name(node):
    """{name: id} of the node's indicators (`list --json`)"""
    ids = {}
    for line in node.run("list", "--type", "indicator", "--json").out.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        ids[o.get("name")] = o.get("id")
    return ids


def current(node, ident):
    r = node.run("get", ident)
    return json.loads(r.out) if r.code == 0 else {}


def test_feeds(node, R):
    def imp(feed, lines):
        path = node.path(feed + ".txt")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return node.run("feed", "import", "--format", "lines", "--producer", "Example Feeds",
                        "--tlp", "green", "--feed", feed, path)

    r = imp("blocklist", ["192.0.2.101", "192.0.2.102", "bad.example"])
    R.check(r.code == 0, "import the first feed", r)
    r = imp("hashes", [HASH, "192.0.2.101"])
    R.check(r.code == 0, "import a second feed of the same producer", r)
    ids = ids_by_name(node)
    R.check("192.0.2.102" in ids and "bad.example" in ids and HASH in ids,
            "the feed entries are stored", ids)
    r = imp("blocklist", ["192.0.2.101", "bad.example"])
    R.check(r.code == 0 and "1 expired" in r.err, "re-import: one entry dropped out", r)
    gone = current(node, ids.get("192.0.2.102", ""))
    R.check("valid_until" in gone, "the dropped entry expires as a new version", gone)
    R.check("valid_until" not in current(node, ids.get("bad.example", "")),
            "the entries still in the feed are untouched")
    R.check("valid_until" not in current(node, ids.get(HASH, "")),
            "the other feed's entries are untouched")
    r = imp("hashes", [HASH])
    R.check("valid_until" not in current(node, ids.get("192.0.2.101", "")),
            "an entry still in another feed of the producer stays valid", r)
    r = imp("blocklist", ["192.0.2.101", "192.0.2.102", "bad.example"])
    R.check("1 valid again" in r.err, "the import says an entry came back", r)
    R.check("valid_until" not in current(node, ids.get("192.0.2.102", "")),
            "an entry that comes back is valid again (a new version)", r)
    with open(node.path("new.txt"), "w") as f:
        f.write("198.51.100.200\n")
    r = node.run("feed", "import", "--format", "lines", "--producer", "Example Feeds",
                 "--tlp", "green", "--feed", "timed", "--valid-for", "30d",
                 node.path("new.txt"))
    R.check(r.code == 0, "feed import --valid-for", r)
    new = current(node, ids_by_name(node).get("198.51.100.200", ""))
    R.check(new.get("valid_until", "") > new.get("valid_from", "~"),
            "--valid-for sets valid_until on new indicators", new)
    r = node.run("feed", "import", "--format", "lines", "--producer", "Example Feeds",
                 "--tlp", "green", "--valid-for", "soon", node.path("new.txt"))
    R.check(r.code == 2, "a bad --valid-for is refused", r)


def main(R):
    with sklib.Node(name="decay test") as node:
        R.run(test_scores, node, R)
    with sklib.Node(name="decay feeds") as node:
        R.run(test_feeds, node, R)


if __name__ == "__main__":
    R = sklib.Checker("test_decay")
    main(R)
    R.finish()
