#!/usr/bin/env python3
"""site.py: a small site that needs a real login, for the transactions test.

    site.py PORT USERS_CSV SECONDS [PORT_FILE]

Serves on 127.0.0.1:PORT and exits by itself after SECONDS.  PORT 0 takes
any free port; PORT_FILE, if given, receives the port once the site is
listening (written whole, then renamed into place, so a reader never sees
half of it).  USERS_CSV has a header row with columns user and password.  The flow is a forum's:

  GET  /login         a form with a hidden input csrf, new for every request
  POST /login         user, password, csrf: sets cookie sid, 302 to /t/1;
                      403 on a bad password, unknown user or unknown csrf
  GET  /t/1           with a valid sid: a page holding this session's token
                      in <input type="hidden" name="uh" value="...">;
                      without: the page with a login link and no token
  GET  /t/locked      a locked thread: never any token
  POST /api/comment   uh, text: "ok" if sid is a session and uh its token,
                      otherwise 403 with the reason
  GET  /_stats        JSON of what the site saw, so a test can assert on the
                      server side of each transaction
"""
import csv
import os
import html
import json
import secrets
import sys
import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
users = {}
csrfs = set()      # issued and not yet used
sessions = {}      # sid -> {"user": ..., "uh": ...}
stats = {
    "requests": Counter(),        # "METHOD /path" -> n
    "logins": Counter(),          # user -> successful logins
    "login_failures": Counter(),  # reason -> n
    "posts_accepted": 0,
    "posts_by_user": Counter(),
    "posts_rejected": Counter(),  # reason -> n
    "stale_cookie": 0,            # GET /login already carrying a live sid
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "site.py"
    # one write per response, sent at once: a header write and a body
    # write would meet the client's delayed ACK and add 40 ms to each
    wbufsize = 65536
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="text/html", headers=()):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def session(self):
        """The session named by the sid cookie, or None."""
        for part in self.headers.get_all("Cookie", []):
            for c in part.split(";"):
                name, _, value = c.strip().partition("=")
                if name == "sid" and value in sessions:
                    return value, sessions[value]
        return None, None

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace")
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        with lock:
            stats["requests"]["GET " + path] += 1
            if path == "/login":
                if self.session()[0] is not None:
                    stats["stale_cookie"] += 1
                token = secrets.token_hex(12)
                csrfs.add(token)
                # value before name: a form_field rule must not care
                page = ('<html><body><form method="post" action="/login">'
                        '<input type="text" name="user">'
                        '<input type="password" name="password">'
                        "<input type='hidden' value='%s' name='csrf'>"
                        '</form></body></html>' % token)
                return self.send(200, page)
            if path == "/t/1":
                sid, sess = self.session()
                if sess is None:
                    return self.send(200, '<html><a href="/login">log in to comment</a></html>')
                page = ('<html><body><p>thread 1, hello %s</p><form>'
                        '<input type="hidden" name="uh" value="%s">'
                        '<textarea name="text"></textarea></form></body></html>'
                        % (html.escape(sess["user"]), sess["uh"]))
                return self.send(200, page)
            if path == "/t/locked":
                return self.send(200, "<html><p>this thread is locked</p></html>")
            if path == "/_stats":
                return self.send(200, json.dumps(stats), "application/json")
        self.send(404, "not found")

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        f = self.form()
        with lock:
            stats["requests"]["POST " + path] += 1
            if path == "/login":
                user, password, csrf = f.get("user"), f.get("password"), f.get("csrf")
                if csrf not in csrfs:
                    reason = "bad csrf"
                elif user not in users:
                    reason = "unknown user"
                elif users[user] != password:
                    reason = "bad password"
                else:
                    reason = None
                csrfs.discard(csrf)
                if reason is not None:
                    stats["login_failures"][reason] += 1
                    return self.send(403, reason)
                sid = secrets.token_hex(16)
                sessions[sid] = {"user": user, "uh": secrets.token_hex(8)}
                stats["logins"][user] += 1
                return self.send(302, "", headers=[
                    ("Set-Cookie", "sid=%s; Path=/; HttpOnly" % sid),
                    ("Location", "/t/1")])
            if path == "/api/comment":
                sid, sess = self.session()
                if sess is None:
                    reason = "no session"
                elif f.get("uh") != sess["uh"]:
                    reason = "bad token"
                elif not f.get("text"):
                    reason = "no text"
                else:
                    stats["posts_accepted"] += 1
                    stats["posts_by_user"][sess["user"]] += 1
                    return self.send(200, "ok", "text/plain")
                stats["posts_rejected"][reason] += 1
                return self.send(403, reason, "text/plain")
        self.send(404, "not found")


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: site.py PORT USERS_CSV SECONDS [PORT_FILE]")
    port, users_csv, limit = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    with open(users_csv, newline="") as fp:
        for row in csv.DictReader(fp):
            users[row["user"]] = row["password"]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    if len(sys.argv) == 5:
        tmp = sys.argv[4] + ".tmp"
        with open(tmp, "w") as fp:
            fp.write("%d\n" % server.server_address[1])
        os.rename(tmp, sys.argv[4])
    timer = threading.Timer(limit, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
