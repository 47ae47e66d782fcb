"""A large POST is answered at once with a pending status and imported by the
background writer; readers are served meanwhile; the status completes with the
exact counts; a restart-free poll loop is bounded.  Loopback only."""
import json
import threading
import uuid

from sklib import test_main, wait_for
from taxii_util import Node, bearer, TAXII

CT = {"Content-Type": TAXII}


def indicator(i):
    ts = "2026-01-01T00:00:00.000Z"
    return {"type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{uuid.UUID(int=i + 1, version=4)}",
            "created": ts, "modified": ts, "pattern_type": "stix",
            "pattern": f"[ipv4-addr:value = '198.51.100.{i % 250}']",
            "valid_from": ts, "name": f"bulk {i}"}


def main():
    test_main(run, Node())


def run(node, R):
    node.partner("Alpha")
    node.account("ana", "Alpha", "pw-ana-123")
    A = bearer(node.token("ana"))
    cid = str(uuid.uuid4())
    node.run("collection", "add", "bulk", "--id", cid, "--default-tlp", "green")
    node.grant("Alpha", "bulk", "--read", "--write")
    node.start()
    base = f"/api/collections/{cid}"

    n = 6000  # above the synchronous bound (2000 objects)
    objs = [indicator(i) for i in range(n)]
    objs.append({"type": "indicator", "id": "indicator--not-a-uuid"})  # one failure
    body = json.dumps({"objects": objs}).encode()

    # readers keep being served while the writer works
    stop = threading.Event()
    reads = {"ok": 0, "bad": 0}

    def reader():
        while not stop.is_set():
            st, _, _ = node.request("GET", "/taxii2/", A)
            reads["ok" if st == 200 else "bad"] += 1

    t = threading.Thread(target=reader)
    t.start()
    try:
        st, hd, data = node.request("POST", base + "/objects/", A, CT, body)
        s = json.loads(data)
        R.check(st == 202, f"large POST answers 202 ({st})")
        R.check(s.get("total_count") == n + 1, f"total_count {s.get('total_count')}")
        R.check(s.get("status") in ("pending", "complete"), f"status {s.get('status')}")
        R.check(s.get("pending_count", 0) + s.get("success_count", 0) +
                s.get("failure_count", 0) == n + 1, "counts add up")
        sid = s["id"]

        def complete():
            st, _, j = node.get_json(f"/api/status/{sid}/", A)
            return j if st == 200 and j.get("status") == "complete" else None
        final = wait_for(complete)  # bounded poll
    finally:
        stop.set()
        t.join(timeout=30)
    R.check(final is not None, "status completes")
    if final:
        R.check(final["success_count"] == n, f"success_count {final['success_count']}")
        R.check(final["failure_count"] == 1, f"failure_count {final['failure_count']}")
        R.check(final["pending_count"] == 0, "pending_count 0")
        R.check(len(final.get("failures", [])) == 1, "one failure detail")
    R.check(reads["ok"] > 0 and reads["bad"] == 0, f"reads during the write: {reads}")

    # everything posted is there
    st, hd, j = node.get_json(base + "/manifest/?limit=1", A)
    R.check(st == 200, "manifest after the write")
    got = node.run("stats", "--json").stdout
    count = sum(json.loads(l)["versions"] for l in got.splitlines()
                if json.loads(l)["collection"] == "bulk" and json.loads(l)["type"] == "indicator")
    R.check(count == n, f"{count} indicators stored in the collection")

    # a shutdown with work queued finishes it first (clean SIGTERM)
    body2 = json.dumps({"objects": [indicator(n + i) for i in range(3000)]}).encode()
    st, _, data = node.request("POST", base + "/objects/", A, CT, body2)
    R.check(st == 202, "second large POST accepted")
    rc = node.stop()
    R.check(rc == 0, f"clean exit after SIGTERM ({rc})")
    got = node.run("stats", "--json").stdout
    count = sum(json.loads(l)["versions"] for l in got.splitlines()
                if json.loads(l)["collection"] == "bulk" and json.loads(l)["type"] == "indicator")
    R.check(count == n + 3000, f"queued envelope finished before exit ({count})")


if __name__ == "__main__":
    main()
