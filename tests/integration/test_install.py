"""`cmake --install` puts schakel and its manual pages under a prefix; the
pages are generated from the help texts, one per command, and are valid roff."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import sklib  # noqa: E402
from sklib import test_main  # noqa: E402


def run_test(R):
    build = os.path.dirname(os.path.abspath(sklib.binary()))
    if not os.path.exists(os.path.join(build, "cmake_install.cmake")):
        sklib.skip_all("SCHAKEL_BIN is not in a CMake build directory")
    prefix = tempfile.mkdtemp(prefix="sk-install-")
    try:
        p = subprocess.run(["cmake", "--install", build, "--prefix", prefix],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        R.check(p.returncode == 0, f"cmake --install ({p.stdout[-400:]})")
        exe = os.path.join(prefix, "bin", "schakel")
        v = subprocess.run([exe, "--version"], stdout=subprocess.PIPE, text=True)
        R.check(v.returncode == 0 and v.stdout.startswith("schakel "),
                f"the installed binary runs ({v.stdout.strip()})")
        mandir = os.path.join(prefix, "share", "man", "man1")
        pages = set(os.listdir(mandir)) if os.path.isdir(mandir) else set()
        R.check("schakel.1" in pages, "schakel(1) installed")
        helptext = sklib.run(None, "--help").out
        cmds = re.findall(r"^  ([a-z]+) ", helptext.split("Commands:")[1].split("Global")[0],
                          re.M)
        missing = [c for c in cmds if f"schakel-{c}.1" not in pages]
        R.check(cmds and not missing, f"a page per command ({len(cmds)}; missing {missing})")
        for c in cmds:
            usage = sklib.run(None, "help", c).out.splitlines()[0]
            with open(os.path.join(mandir, f"schakel-{c}.1"), encoding="utf-8") as f:
                page = f.read()
            words = usage.replace("usage: ", "").split()[:2]
            R.check(all(w.replace("-", "\\-") in page for w in words),
                    f"schakel-{c}(1) carries the usage of `schakel help {c}`")
        if shutil.which("groff"):
            bad = []
            for pg in sorted(pages):
                g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z",
                                    os.path.join(mandir, pg)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                if g.returncode or g.stderr.strip():
                    bad.append((pg, g.stderr.strip()[:200]))
            R.check(not bad, f"groff -ww finds nothing to warn about ({bad[:3]})")
        else:
            print("note - groff not installed: roff syntax not checked")
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def main():
    test_main(run_test)


if __name__ == "__main__":
    main()
