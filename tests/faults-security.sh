#!/bin/sh
# faults-security.sh: what arrivald exposes.  The control socket gets the
# configured mode (0660 unless told) and never a world-writable one;
# arrivald never follows a symlink, replaces a file or takes over a live
# daemon's socket at its path; /metrics given only a port listens on
# loopback; secrets in request headers reach the target but never the
# logs, the results or the stats.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
# the interpreter itself, not a version manager's shim: it is run often
PY=$(python3 -c 'import sys; print(sys.executable)')
python3() { "$PY" "$@"; }

S=$T/ctl.sock
ctl() { "$ARRIVALCTL" -s "$S" -j "$@"; }
mode_of() { python3 -c 'import os,stat,sys; print("%o" % stat.S_IMODE(os.lstat(sys.argv[1]).st_mode))' "$1"; }

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0005 -e det -s 9
sut=$!
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }

conf() { # conf FILE [CONTROL-EXTRA] [TOP-LEVEL-EXTRA]
	cat >"$1" <<CONF
workload = { model = "open"; rate = 50; seed = 29; workers = 1; };
targets = ( { name = "t"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$S"; ${2:-} };
results = { dir = "$T/results"; interval = 0.5; };
${3:-}
CONF
}

# --- the socket's mode ---------------------------------------------------
conf "$T/a.conf"
bg "$ARRIVALD" -c "$T/a.conf" -d 20 2>"$T/err.a"
d=$!
wait_for 10 test -S "$S" || { echo "Bail out! arrivald did not start"; exit 1; }
m=$(mode_of "$S")
check "the control socket is 0660 by default ($m)" test "$m" = 660

# --- a live daemon's socket is not taken over ---------------------------
"$ARRIVALD" -c "$T/a.conf" -d 2 2>"$T/err.twice"
ok $((! $?)) "a second arrivald on the same socket exits non-zero"
check "... saying another arrivald listens" grep -q "another arrivald is listening" "$T/err.twice"
check "... and the first still answers on it" sh -c '"$1" -s "$2" stats >/dev/null' sh "$ARRIVALCTL" "$S"
ctl stop >/dev/null
wait "$d"
ok $? "the first exits 0"

conf "$T/b.conf" 'mode = "0600";'
bg "$ARRIVALD" -c "$T/b.conf" -d 20 2>"$T/err.b"
d=$!
wait_for 10 test -S "$S" || { echo "Bail out! arrivald did not start"; exit 1; }
m=$(mode_of "$S")
check "control.mode = \"0600\" gives 0600 ($m)" test "$m" = 600
ctl stop >/dev/null
wait "$d"

conf "$T/w.conf" 'mode = "0666";'
"$ARRIVALD" -t -c "$T/w.conf" 2>"$T/err.w"
ok $((! $?)) "arrivald -t rejects a world-writable control.mode"
check "... with FILE:LINE" grep -q "^$T/w.conf:3: control.mode" "$T/err.w"
conf "$T/w2.conf" 'mode = "0662";'
"$ARRIVALD" -c "$T/w2.conf" -d 1 2>"$T/err.w2"
ok $((! $?)) "arrivald will not run with control.mode 0662 either"
check "... and made no socket" test ! -e "$S"

# --- what is at the socket path stays as it was --------------------------
echo "precious" >"$T/precious"
ln -s "$T/precious" "$S"
"$ARRIVALD" -c "$T/a.conf" -d 1 2>"$T/err.link"
ok $(($? != 1)) "a symlink at the socket path: arrivald exits 1"
check "... saying so" grep -q "$S: exists and is not a socket" "$T/err.link"
check "... the symlink and its target left intact" \
	sh -c 'test -L "$1" && test "$(readlink "$1")" = "$2" && test "$(cat "$2")" = precious' sh "$S" "$T/precious"
rm "$S"
# a symlink to a stale socket is not followed and not removed either
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/stale.sock"
ln -s "$T/stale.sock" "$S"
"$ARRIVALD" -c "$T/a.conf" -d 1 2>"$T/err.link2"
ok $(($? != 1)) "a symlink to a stale socket: arrivald exits 1"
check "... both left as they were" sh -c 'test -L "$1" && test -S "$2"' sh "$S" "$T/stale.sock"
rm "$S"
echo "precious" >"$S"
"$ARRIVALD" -c "$T/a.conf" -d 1 2>"$T/err.file"
ok $(($? != 1)) "a regular file at the socket path: arrivald exits 1"
check "... and the file is intact" sh -c 'test -f "$1" && test "$(cat "$1")" = precious' sh "$S"
rm "$S"

# --- /metrics on loopback when given only a port ---------------------------
mport=$(free_port)
conf "$T/m.conf" "" "metrics = { listen = \"$mport\"; };"
bg "$ARRIVALD" -c "$T/m.conf" -d 20 2>"$T/err.m"
d=$!
wait_for 10 test -S "$S" || { echo "Bail out! arrivald did not start"; exit 1; }
# /proc/net/tcp: local address as hex IP:PORT, state 0A is LISTEN
listeners() {
	python3 - "$mport" <<'PY'
import sys
port = "%04X" % int(sys.argv[1])
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        lines = open(f).read().splitlines()[1:]
    except OSError:
        continue
    for l in lines:
        p = l.split()
        addr, st = p[1], p[3]
        if st == "0A" and addr.endswith(":" + port):
            print(addr)
PY
}
l=$(listeners | tr '\n' ' ')
check "metrics.listen = \"$mport\" listens on 127.0.0.1 only ($l)" test "$l" = "0100007F:$(printf %04X "$mport") "
check "... and serves /metrics there" python3 -c '
import sys, urllib.request
t = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
sys.exit("arrivald_requests_sent_total" not in t)' "$mport"
ctl stop >/dev/null
wait "$d"
ok $? "the metrics run exits 0"

# --- secrets in headers -----------------------------------------------------
# a target that answers 200 or 500 in turn and counts the requests that
# carried both secrets, so the test knows they were sent
sport=$(free_port)
cat >"$T/echo.py" <<'EOF'
import http.server, sys, threading
seen = [0, 0]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        seen[0] += 1
        if self.headers.get("Authorization") == "Bearer SECRET123" and \
           "COOKIE456" in (self.headers.get("Cookie") or ""):
            seen[1] += 1
        code = 200 if seen[0] % 2 else 500
        body = b"ok\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
bound = threading.Timer(30, s.shutdown)   # bounded whatever happens
bound.daemon = True
bound.start()
threading.Thread(target=s.serve_forever, daemon=True).start()
sys.stdin.read()                          # until the test closes our stdin
s.shutdown()
print(seen[0], seen[1])
EOF
mkfifo "$T/echo.in"
bg sh -c 'exec "$1" "$2" "$3" <"$4" >"$5"' sh "$PY" "$T/echo.py" "$sport" "$T/echo.in" "$T/echo.out"
echo_pid=$!
exec 3>"$T/echo.in"
wait_for 10 port_open "$sport" || { echo "Bail out! echo.py did not start"; exit 1; }
mport=$(free_port)
cat >"$T/s.conf" <<CONF
workload = { model = "open"; rate = 50; seed = 31; workers = 1; };
targets = ( { name = "t"; url = "http://127.0.0.1:$sport/";
  headers = [ "Authorization: Bearer SECRET123", "Cookie: session=COOKIE456" ]; } );
control = { socket = "$S"; };
results = { dir = "$T/sresults"; interval = 0.5; };
metrics = { listen = "127.0.0.1:$mport"; };
CONF
bg "$ARRIVALD" -D -c "$T/s.conf" -d 3 2>"$T/err.s"
d=$!
wait_for 10 test -S "$S" || { echo "Bail out! arrivald did not start"; exit 1; }
wait_for 10 sh -c '"$1" -s "$2" -j stats | grep -q "\"completed\": *[1-9]"' sh "$ARRIVALCTL" "$S"
ctl stats >"$T/s.stats"
python3 -c 'import sys, urllib.request
open(sys.argv[2], "wb").write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read())' "$mport" "$T/s.metrics"
wait "$d"
rc=$?
ok $rc "the run with secret headers exits 0"
[ $rc -eq 0 ] || sed "s/^/# /" "$T/err.s" | grep -v debug | head -20
exec 3>&-
wait "$echo_pid"
read -r reqs with <"$T/echo.out"
check "the target got the secrets on every request ($with of $reqs)" test "$reqs" -gt 50 -a "$with" -eq "$reqs"
check "the run had failures to log (http_5xx)" \
	json_get "$T/sresults/latest/summary.json" 'exit(not j["totals"]["failures"].get("http_5xx", 0) > 0)'
check "summary.json shows the headers redacted" grep -q "Authorization: (redacted)" "$T/sresults/latest/summary.json"
found=$(grep -rl -e SECRET123 -e COOKIE456 "$T/sresults" "$T/err.s" "$T/s.stats" "$T/s.metrics" "$T/sresults/latest/" 2>/dev/null | tr '\n' ' ')
check "no secret in the results, the log (-D), stats or /metrics (${found:-none})" test -z "$found"

kill -TERM "$sut"; wait "$sut" 2>/dev/null
done_testing
