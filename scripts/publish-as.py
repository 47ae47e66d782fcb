#!/usr/bin/env python3
"""Print a demo STIX bundle as published by NODE_ID: the demo data names a
fixed "National Cyber Centre (demo)" identity as producer; a node that
imports it as its own must name itself, because "made here" means produced
by the node's own identity (docs/sharing-policy.md, the write rule).  The
bundle's own copy of that identity is dropped.

    scripts/publish-as.py BUNDLE NODE_ID > out.json
"""
import json
import sys

DEMO_PRODUCER = "identity--00ca31ca-b82d-5c2a-9174-fe16e1d4463c"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: publish-as.py BUNDLE NODE_ID")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    doc["objects"] = [o for o in doc["objects"] if o.get("id") != DEMO_PRODUCER]
    print(json.dumps(doc).replace(DEMO_PRODUCER, sys.argv[2]))


if __name__ == "__main__":
    main()
