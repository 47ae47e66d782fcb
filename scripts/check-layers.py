#!/usr/bin/env python3
"""check-layers.py - the library's folders use only the folders below them.

docs/architecture.md draws the stack; this script is its enforcement.  Every
`#include "..."` in src/<folder>/ is resolved to the folder that owns the
header (a private header by its path, a public header in include/schakel/ by
the table below) and checked against the folders <folder> may use.  A public
header that the table does not know, or a folder the table does not know,
fails the check too, so a new module has to take its place in the stack.

Usage: check-layers.py [REPO]   (exit 0 clean, 1 with one line per crossing)
"""
import os
import re
import sys

# Folder -> the folders it may use (besides itself), in stack order.
ALLOWED = {
    "core": [],
    "stix": ["core"],
    "trust": ["core"],
    "store": ["trust", "stix", "core"],
    "detect": ["store", "stix", "core"],
    "logs": ["detect", "core"],
    "feeds": ["store", "trust", "stix", "core"],
    "share": ["store", "trust", "stix", "core"],
    "sync": ["share", "store", "trust", "stix", "core"],
    "intel": ["store", "trust", "stix", "core"],
    "fleet": ["share", "store", "trust", "stix", "core"],
    "ui": ["fleet", "intel", "sync", "share", "feeds", "store", "trust", "stix", "core"],
    "node": ["fleet", "ui", "intel", "sync", "share", "feeds", "logs", "detect", "store", "trust", "stix", "core"],
}

# Public header (include/schakel/NAME.h) -> the folder that implements it.
PUBLIC = {
    "error": "core", "buf": "core", "json": "core", "jstream": "core",
    "reader": "core", "timestamp": "core", "uuid": "core", "file": "core",
    "stix": "stix", "tlp": "stix", "pattern": "stix",
    "canon": "trust", "sign": "trust", "bundle": "trust", "hashkey": "trust",
    "store": "store", "import": "store", "audit": "store", "decay": "store",
    "logrec": "detect", "matcher": "detect", "psl": "detect", "warninglist": "detect",
    "match_cache": "detect", "hashed": "detect",
    "logread": "logs",
    "feed": "feeds",
    "httpd": "share", "taxii": "share", "account": "share", "policy": "share",
    "invite": "share",
    "peer": "sync", "sync": "sync", "taxii_client": "sync",
    "intel": "intel", "galaxy": "intel", "coop": "intel", "dossier": "intel", "ui": "ui",
    "fleet": "fleet",
    "node": "node", "hit": "node", "indload": "node", "watch": "node",
    "match_base": "node",
}

# Headers named *_int.h are a folder's own: only files of that folder include them.
INTERNAL = re.compile(r"_int\.h$")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def owner(inc, here):
    """The folder that owns an included header, or None if unknown."""
    if inc.startswith("schakel/"):
        return PUBLIC.get(inc[len("schakel/"):-2])
    if "/" in inc:
        return inc.split("/", 1)[0]
    return here  # a header of the same folder


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = []
    pub_dir = os.path.join(repo, "include", "schakel")
    for name in sorted(os.listdir(pub_dir)):
        if name.endswith(".h") and name[:-2] not in PUBLIC:
            problems.append(f"include/schakel/{name}: no folder owns it (add it to PUBLIC)")
    files = []
    for folder in sorted(os.listdir(os.path.join(repo, "src"))):
        path = os.path.join(repo, "src", folder)
        if not os.path.isdir(path):
            continue
        if folder not in ALLOWED:
            problems.append(f"src/{folder}/: a folder the stack does not know (add it to ALLOWED)")
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith((".c", ".h")):
                files.append((folder, f"src/{folder}/{name}"))
    for name in sorted(os.listdir(pub_dir)):
        if name.endswith(".h") and name[:-2] in PUBLIC:
            files.append((PUBLIC[name[:-2]], f"include/schakel/{name}"))
    for folder, rel in files:
        with open(os.path.join(repo, rel), encoding="utf-8") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            dep = owner(inc, folder)
            line = text.count("\n", 0, m.start()) + 1
            if dep is None:
                problems.append(f"{rel}:{line}: includes {inc}, which no folder owns")
            elif dep != folder and INTERNAL.search(inc):
                problems.append(f"{rel}:{line}: {inc} is internal to src/{dep}/")
            elif dep != folder and dep not in ALLOWED[folder]:
                problems.append(f"{rel}:{line}: {folder} may not use {dep} (includes {inc})")
    for p in problems:
        print(p)
    print(f"check-layers: {len(files)} files, {len(problems)} crossings")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
