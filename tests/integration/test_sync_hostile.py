"""Hostile and broken peers: garbage, a body claiming 1 GB, an endless
chunked stream, a connection cut mid-page, a peer that never answers.  The
client stops at its bounds and timeouts, stores nothing half-read, keeps its
cursor, and the next sync against a good server works.  Pulls fetch the
next page while storing one: a bad second page keeps the good first one
(and its cursor); a first page the store refuses abandons the second GET."""
import http.server
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from sklib import HttpServer, Results  # noqa: E402
from sync_util import indicator, make_node, sql, sync  # noqa: E402

MODE = {"m": "garbage"}
LAST1 = "2030-01-01T00:00:00.000000Z"


def page(objs, more, next_tok=None):
    env = {"more": more, "objects": objs}
    if next_tok:
        env["next"] = next_tok
    return json.dumps(env).encode()


class Fake(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        m = MODE["m"]
        try:
            if m == "garbage":
                body = b"\x00\xffnot json at all{{{[[[" * 100
                self.send_response(200)
                self.send_header("Content-Type", "application/taxii+json;version=2.1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif m == "huge":  # claims 1 GB, sends a little
                self.send_response(200)
                self.send_header("Content-Type", "application/taxii+json;version=2.1")
                self.send_header("Content-Length", str(1 << 30))
                self.end_headers()
                self.wfile.write(b'{"objects":[' + b" " * 65536)
            elif m == "stream":  # endless chunked body, no length
                self.send_response(200)
                self.send_header("Content-Type", "application/taxii+json;version=2.1")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b" " * (1 << 20)
                head = b"%x\r\n" % len(chunk)
                self.wfile.write(b'1\r\n{\r\n')
                for _ in range(1 << 14):  # up to 16 GiB; the client cuts first
                    self.wfile.write(head + chunk + b"\r\n")
            elif m == "cut":  # a page cut in the middle
                self.send_response(200)
                self.send_header("Content-Type", "application/taxii+json;version=2.1")
                self.send_header("Content-Length", "100000")
                self.send_header("X-TAXII-Date-Added-Last", "2030-01-01T00:00:00.000000Z")
                self.end_headers()
                self.wfile.write(b'{"more":false,"objects":[{"type":"indicator",')
                self.wfile.flush()
                self.connection.shutdown(2)
            elif m == "silent":
                threading.Event().wait(8)
            elif m in ("page2garbage", "bigfirst"):
                if "next=" in self.path:  # the second page
                    if m == "bigfirst":
                        threading.Event().wait(8)  # stalls: the client gives up on it
                    body = b"\x00\xffnot json at all{{{[[["
                elif m == "page2garbage":
                    body = page([indicator() for _ in range(3)], True, "t2")
                else:  # one object above the importer's 32 MiB element bound
                    big = indicator()
                    big["description"] = "x" * (33 << 20)
                    body = page([big], True, "t2")
                self.send_response(200)
                self.send_header("Content-Type", "application/taxii+json;version=2.1")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-TAXII-Date-Added-Last", LAST1)
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        self.close_connection = True


def main():
    R = Results()
    with make_node("B") as b, HttpServer(Fake) as srv:
        url = srv.url
        b.run("peer", "add", "evil", url, "--api-root", "/api/", "--collection", "c1",
              "--pull")
        for mode, timeout in (("garbage", 30), ("huge", 30), ("stream", 60), ("cut", 30),
                              ("silent", 2)):
            MODE["m"] = mode
            r = b.run("peer", "sync", "evil", "--timeout", str(timeout), check=False)
            R.check(r.returncode == 1, f"{mode}: sync fails cleanly (rc {r.returncode}): "
                    f"{r.stderr.strip()[:200]}")
            n = sql(b, "SELECT count(*) FROM objects WHERE rx IS NOT NULL")[0][0]
            R.check(n == 0, f"{mode}: nothing stored ({n})")
            cur = sql(b, "SELECT pull_cursor FROM peer_state")[0][0]
            R.check(cur is None, f"{mode}: cursor unchanged ({cur})")
        # pipelined pulls: the second page is fetched while the first is stored
        MODE["m"] = "page2garbage"
        r = b.run("peer", "sync", "evil", "--timeout", "30", check=False)
        R.check(r.returncode == 1, f"bad second page: the sync fails ({r.returncode})")
        n = sql(b, "SELECT count(*) FROM objects WHERE rx IS NOT NULL")[0][0]
        R.check(n == 3, f"bad second page: the first page's objects are kept ({n})")
        cur = sql(b, "SELECT pull_cursor FROM peer_state")[0][0]
        R.check(cur == LAST1, f"bad second page: cursor after the first page ({cur})")
        b.run("peer", "add", "evil2", url, "--api-root", "/api/", "--collection", "c2",
              "--pull")
        MODE["m"] = "bigfirst"
        r = b.run("peer", "sync", "evil2", "--timeout", "30", check=False)
        R.check(r.returncode == 1 and "large" in r.stderr,
                f"first page refused by the store: the sync fails ({r.stderr.strip()[:200]})")
        n = sql(b, "SELECT count(*) FROM objects WHERE rx IS NOT NULL")[0][0]
        R.check(n == 3, f"first page refused: nothing more stored ({n})")
        cur = sql(b, "SELECT p.pull_cursor FROM peer_state p JOIN peers USING (pid)"
                     " WHERE peers.name='evil2'")[0][0]
        R.check(cur is None, f"first page refused: cursor unchanged ({cur})")
        st = b.run("peer", "status").stdout
        R.check("last error" in st, "status records the last error")
        # the node is unharmed: the store still opens and answers
        R.check(b.run("stats").returncode == 0, "store intact")
    R.finish()


if __name__ == "__main__":
    main()
