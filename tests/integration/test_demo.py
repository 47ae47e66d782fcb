"""The three-node demo (scripts/demo.sh) against the built binary: it must
exit 0, print every PASS line of its proofs and no FAIL line, print its
timeline and leave no server behind.  Runs in a temporary directory
(DEMO_DIR), in the detection mode the binary supports (serve --watch, or the
scan --follow fallback); with --watch available, the fallback is run too."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from sklib import Results, binary  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEMO = os.path.join(ROOT, "scripts", "demo.sh")
PROOFS = [
    "PASS: GREEN indicator set: at all three nodes",
    "PASS: AMBER indicator: at NCC and partner CERT only",
    "PASS: RED indicator: at NCC only",
    "PASS: utility alerted on the wiper's C2 connection",
    "PASS: sighting of the C2 indicator reached NCC",
]
TIMELINE = ["NCC publishes", "partner CERT pulled", "utility pulled", "utility ALERT",
            "NCC has the utility's sighting"]


def run_demo(R, mode):
    d = tempfile.mkdtemp(prefix="sk-demo-")
    env = dict(os.environ, SCHAKEL_BIN=binary(),
               DEMO_DIR=os.path.join(d, "run"), DEMO_WAIT="300")  # a safety net, not a deadline
    if mode:
        env["DEMO_MODE"] = mode
    try:
        p = subprocess.run(["bash", DEMO], env=env, capture_output=True, text=True,
                           timeout=120)
    except subprocess.TimeoutExpired as e:
        R.check(False, f"demo ({mode or 'default'}) finished within 120 s: {e.stdout!r}")
        shutil.rmtree(d, ignore_errors=True)
        return
    out = p.stdout
    tag = mode or "default"
    if not R.check(p.returncode == 0, f"demo ({tag}) exit 0 (got {p.returncode})"):
        print(out)
        print(p.stderr)
    for line in PROOFS:
        R.check(line in out, f"demo ({tag}) prints {line!r}")
    R.check("FAIL" not in out, f"demo ({tag}) prints no FAIL line")
    for what in TIMELINE:
        R.check(any(ln.startswith("t+") and what in ln for ln in out.splitlines()),
                f"demo ({tag}) timeline has {what!r}")
    # every server and follower stopped: nothing holds the demo's databases open
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    R.check(env["DEMO_DIR"] not in ps, f"demo ({tag}) left no process behind")
    shutil.rmtree(d, ignore_errors=True)


def main():
    R = Results()
    run_demo(R, None)
    h = subprocess.run([binary(), "help", "serve"], capture_output=True, text=True)
    if "--watch" in h.stdout + h.stderr:
        run_demo(R, "scan")
    R.finish()


if __name__ == "__main__":
    main()
