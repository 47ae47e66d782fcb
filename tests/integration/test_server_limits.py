"""The server stays up, and sync runs end: over real HTTP on 127.0.0.1.

(a) slowloris: an attacker at 127.0.0.1 that opens more slow connections
than --max-connections-per-address, trickling header bytes, holds only its
share (the rest are refused at once), a client at another address
(127.0.0.2: Linux routes all of 127/8 to loopback) is served meanwhile, the
attacker's connections are closed at --header-timeout however they trickle,
and then 127.0.0.1 is served again;
(b) 1,000 query parameters get 400 and an over-long URI 414, at once, and the
server serves the next request;
(c) a POST declaring a 50 MiB body is answered 401 / 401 / 403 / 413 before a
byte of the body is sent, a chunked body past --max-content-length is cut,
and an ordinary POST still works;
(d) a peer answering `more: true` with the same `next` forever, or with new
tokens forever, or slowly forever: `peer sync` ends with a clear error
(repeated token, sync.max_pages, sync.max_seconds), recorded in `peer
status`, with the cursor kept.

Waits are on events (a response, a closed socket, a process exit), bounded
by sklib.WAIT; nothing asserts how long anything took."""
import http.server
import json
import os
import select
import socket
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from sklib import WAIT, HttpServer, Results, wait_for  # noqa: E402
from sync_util import indicator, make_node, sql  # noqa: E402
from taxii_util import TAXII, Node, basic  # noqa: E402

PER_ADDR = 20
SLOW = 60  # attacker connections: PER_ADDR held, the rest refused
BIG = 50 << 20


def conn(node, src="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(WAIT)
    s.connect((node.host, node.port))
    return s


def closed(s):
    """Wait (up to WAIT) for the server to close s without answering: True
    if it did, False if bytes came or nothing happened."""
    s.settimeout(WAIT)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def status_of(s):
    """The status code of the response on s (0: closed without one)."""
    data = b""
    s.settimeout(WAIT)
    try:
        while b"\r\n" not in data:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except (ConnectionResetError, socket.timeout):
        pass
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def get(node, path, src="127.0.0.1", auth=None):
    s = conn(node, src)
    try:
        h = f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nConnection: close\r\n"
        if auth:
            h += f"Authorization: {auth}\r\n"
        s.sendall((h + "\r\n").encode())
        return status_of(s)
    finally:
        s.close()


def slowloris(node, R):
    held, stop = [], threading.Event()
    # (the header timeout, 10 s, leaves ample time to open them all and be refused)
    for _ in range(PER_ADDR):
        s = conn(node)
        s.sendall(b"G")
        held.append(s)
    # the same address again: beyond its share, refused at once
    extra = [conn(node) for _ in range(SLOW - PER_ADDR)]
    refused = 0
    for s in extra:
        try:
            s.sendall(b"GET /taxii2/ HTTP/1.1\r\n")
        except OSError:
            pass
        refused += closed(s)
        s.close()
    R.check(refused == SLOW - PER_ADDR,
            f"connections beyond the per-address limit are refused ({refused})")
    alive = [s for s in held if not select.select([s], [], [], 0)[0]]
    R.check(len(alive) == PER_ADDR, f"the first {PER_ADDR} are still held ({len(alive)})")

    # the attacker trickles a byte now and then: the idle timeout never fires
    def trickle():
        line = b"ET /taxii2/ HTTP/1.1\r\nX-Slow: " + b"a" * 1000
        i = 0
        while not stop.wait(0.5):
            for s in held:
                try:
                    s.send(line[i % len(line):i % len(line) + 1])
                except OSError:
                    pass
            i += 1
    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        # meanwhile another address is served: the total limit is far from reached
        st = get(node, "/taxii2/", src="127.0.0.2")
        R.check(st == 401, f"a client at 127.0.0.2 is served during the attack ({st})")
        # the head deadline closes every slow connection, trickle or not
        n = sum(closed(s) for s in held)
        R.check(n == PER_ADDR, f"slow connections closed at the header timeout ({n})")
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()
    # the server notices the closed sockets on its own time: wait for it, bounded
    st = wait_for(lambda: get(node, "/taxii2/") == 401) and 401
    R.check(st == 401, f"after the attack 127.0.0.1 is served again ({st})")
    log = node.server.log()
    R.check("per-IP" in log or "limit" in log.lower(), "the refusals are logged")


def queries(node, R, auth):
    q = "&".join(f"p{i}=v" for i in range(1000))
    st = get(node, f"/taxii2/?{q}", auth=auth)
    R.check(st == 400, f"1,000 query parameters: 400 ({st})")
    st = get(node, "/taxii2/?a=" + "x" * 20000, auth=auth)
    R.check(st == 414, f"a 20 KB URI: 414 ({st})")
    st = get(node, "/taxii2/?a=" + "x" * 100000, auth=auth)
    R.check(st == 414, f"a 100 KB URI: 414 ({st})")
    # a flood of empty parameters past what libmicrohttpd can parse: closed, not held
    s = conn(node)
    s.sendall(("GET /taxii2/?" + "a&" * 30000 + " HTTP/1.1\r\nHost: x\r\n\r\n").encode())
    st = status_of(s)
    s.close()
    R.check(st in (0, 400, 414, 431), f"a 30,000-parameter flood ends ({st})")
    st = get(node, "/taxii2/", auth=auth)
    R.check(st == 200, f"the next request is served ({st})")


def post_head(node, path, auth=None, length=BIG, ctype=TAXII):
    """POST headers declaring `length` body bytes and no body: the status."""
    s = conn(node)
    try:
        h = f"POST {path} HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nContent-Length: {length}\r\n"
        if ctype:
            h += f"Content-Type: {ctype}\r\n"
        if auth:
            h += f"Authorization: {auth}\r\n"
        s.sendall((h + "\r\n").encode())
        return status_of(s)
    finally:
        s.close()


def chunked(node, R, cid):
    """A chunked body past --max-content-length (1 MB here) is cut, not buffered."""
    p = f"/api/collections/{cid}/objects/"
    s = conn(node)
    s.sendall((f"POST {p} HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nContent-Type: {TAXII}\r\n"
               f"Authorization: {basic('rw', 'rw-pass')}\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode())
    chunk = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
    try:
        for _ in range(64):  # 4 MiB
            s.sendall(chunk)
    except OSError:
        pass
    st = status_of(s)
    s.close()
    R.check(st in (0, 413), f"a chunked body past the limit is cut ({st})")


def bodies(node, R, cid):
    """With the default --max-content-length (100 MiB): 50 MiB declared."""
    p = f"/api/collections/{cid}/objects/"
    R.eq(post_head(node, p), 401, "50 MiB POST, no credentials: 401 before the body")
    R.eq(post_head(node, p, basic("rw", "wrong")), 401, "wrong password: 401 before the body")
    R.eq(post_head(node, p, basic("ro", "ro-pass")), 403,
         "read-only account: 403 before the body")
    R.eq(post_head(node, "/api/collections/nope/objects/", basic("rw", "rw-pass")), 404,
         "no such collection: 404 before the body")
    R.eq(post_head(node, p, basic("rw", "rw-pass"), ctype="text/plain"), 415,
         "wrong media type: 415 before the body")
    R.eq(post_head(node, p, basic("rw", "rw-pass"), length=200 << 20), 413,
         "above --max-content-length: 413 before the body")
    R.eq(post_head(node, "/api/collections/", basic("rw", "rw-pass")), 405,
         "POST to a resource that takes none: 405 before the body")
    # an ordinary POST is read and stored
    env = {"objects": [indicator()]}
    st, _, data = node.request("POST", p, basic("rw", "rw-pass"), {"Content-Type": TAXII}, env)
    R.check(st in (200, 202) and json.loads(data)["success_count"] == 1,
            f"an ordinary POST is stored ({st} {data[:200]})")


def server_part(R):
    with Node() as node:
        node.partner("Alpha")
        node.account("rw", "Alpha", "rw-pass")
        node.partner("Beta")
        node.account("ro", "Beta", "ro-pass")
        cid = str(uuid.uuid4())
        node.run("collection", "add", "feed", "--id", cid, "--alias", "feed")
        node.grant("Alpha", "feed", "--read", "--write")
        node.grant("Beta", "feed", "--read")
        tok = node.token("rw")
        node.start("--max-connections-per-address", str(PER_ADDR), "--max-connections", "200",
                   "--header-timeout", "10", "--max-content-length", "1000000")
        slowloris(node, R)
        queries(node, R, "Bearer " + tok)
        chunked(node, R, cid)
        R.check(node.stop() == 0, "the server stops cleanly")
        node.start()
        bodies(node, R, cid)


# --- (d) a hostile peer ---------------------------------------------------------------

MODE = {"m": "same", "n": 0}
LAST = "2030-01-01T00:00:00.000000Z"


class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        MODE["n"] += 1
        m = MODE["m"]
        if m == "slow" and MODE["n"] > 1:  # the first page at once: a cursor to keep
            threading.Event().wait(0.3)
        tok = "same-token" if m == "same" else f"t{MODE['n']}"
        body = json.dumps({"more": True, "next": tok, "objects": [indicator()]}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", TAXII)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-TAXII-Date-Added-First", LAST)
            self.send_header("X-TAXII-Date-Added-Last", LAST)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass


def peer_part(R):
    with make_node("B") as b, HttpServer(Hostile) as srv:
        b.run("peer", "add", "evil", srv.url, "--api-root", "/api/", "--collection", "c1",
              "--pull")
        r = b.run("config", "set", "sync.max_pages", "0", check=False)
        R.check(r.returncode != 0, "sync.max_pages must be a positive number")
        for mode, setting, value, words in (
                ("same", "sync.max_pages", "1000", "repeated"),
                ("fresh", "sync.max_pages", "7", "page limit"),
                ("slow", "sync.max_seconds", "3", "time limit")):
            MODE["m"], MODE["n"] = mode, 0
            b.run("config", "set", "sync.max_pages", "1000")
            b.run("config", "set", "sync.max_seconds", "300")
            b.run("config", "set", setting, value)
            r = b.run("peer", "sync", "evil", timeout=WAIT * 5, check=False)
            R.check(r.returncode == 1 and words in r.stderr,
                    f"{mode}: the sync ends with an error ({r.returncode}: {r.stderr.strip()[:200]})")
            if mode == "fresh":
                R.check(MODE["n"] == 7, f"fresh: 7 pages fetched ({MODE['n']})")
            if mode == "same":
                R.check(MODE["n"] == 2, f"same: stops at the first repeat ({MODE['n']} GETs)")
            err = sql(b, "SELECT last_error FROM peer_state")[0][0] or ""
            R.check(words in err, f"{mode}: last_error recorded ({err[:200]})")
            cur = sql(b, "SELECT pull_cursor FROM peer_state")[0][0]
            R.check(cur == LAST, f"{mode}: the cursor is kept ({cur})")
            st = b.run("peer", "status").stdout
            R.check(words in st, f"{mode}: peer status shows it")


def main():
    R = Results()
    server_part(R)
    peer_part(R)
    R.finish()


if __name__ == "__main__":
    main()
