#!/bin/sh
# metrics.sh: Prometheus /metrics against the real daemon.  Every SPEC
# metric is there with the arrivald_ prefix and its type, promtool finds
# nothing to say, and the values agree with `stats` read just before and
# after (counters in between, gauges close); the histogram is cumulative
# and counts the completed requests; users and think_seconds appear only
# in the closed model; other paths get 404; a bare port binds 127.0.0.1.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
command -v promtool >/dev/null 2>&1 || skip_all "promtool not installed (Debian: prometheus)"

port=$(free_port)
# 3 ms deterministic service, 10% of replies a 500: failures by reason
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.003 -e det -s 1 -x 5xx=0.1
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }

mport=$(free_port)
cat >"$T/a.conf" <<CONF
workload = { model = "open"; rate = 150.0; seed = 5; workers = 2; window = 2.0; };
targets = ( { name = "home"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; interval = 1.0; };
metrics = { listen = "127.0.0.1:$mport"; };
CONF
bg "$ARRIVALD" -c "$T/a.conf" -d 60 2>"$T/err"
daemon=$!
check "/metrics listens on 127.0.0.1:$mport" wait_for 10 port_open "$mport"
wait_for 10 test -S "$T/ctl.sock"
# a window's worth of load first, so every estimate has something in it
wait_for 20 sh -c "\"$ARRIVALCTL\" -j -s '$T/ctl.sock' stats | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(not (j[\"uptime\"] > 2.5 and j[\"failed\"] > 0))'"

url=http://127.0.0.1:$mport/metrics
python3 "$top_srcdir/tests/metrics.py" "$T/ctl.sock" "$url" "$T/res"
ok $? "open model: one scrape checked"
"$ARRIVALCTL" -s "$T/ctl.sock" set model closed >/dev/null
ok $? "set model closed"
wait_for 10 sh -c "\"$ARRIVALCTL\" -j -s '$T/ctl.sock' stats | python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin)[\"model\"] == \"closed\")'"
python3 "$top_srcdir/tests/metrics.py" "$T/ctl.sock" "$url" "$T/res" closed
ok $? "closed model: one scrape checked"
"$ARRIVALCTL" -s "$T/ctl.sock" set model open >/dev/null
python3 "$top_srcdir/tests/metrics.py" "$T/ctl.sock" "$url" "$T/res"
ok $? "back to the open model: one scrape checked"
while read -r st desc; do ok "$st" "$desc"; done <"$T/res"

status() { # status METHOD PATH: the HTTP status
	python3 - "$1" "http://127.0.0.1:$mport$2" <<'PY'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[2], method=sys.argv[1], data=b"x" if sys.argv[1] == "POST" else None)
try:
    print(urllib.request.urlopen(req, timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)
PY
}
for p in / /metric /metrics/x /stats; do
	s=$(status GET "$p")
	check "GET $p: 404 ($s)" test "$s" = 404
done
s=$(status GET "/metrics?name%5B%5D=x")
check "GET /metrics with a query string (Prometheus' params): 200 ($s)" test "$s" = 200
s=$(status POST /metrics)
check "POST /metrics: 405 ($s)" test "$s" = 405

# a bare port: 127.0.0.1, not every address
bport=$(free_port)
sed -e "s|listen = \"127.0.0.1:$mport\"|listen = \"$bport\"|" -e "s|$T/ctl.sock|$T/b.sock|" \
	"$T/a.conf" >"$T/b.conf"
bg "$ARRIVALD" -c "$T/b.conf" -o "$T/results-b" -d 30 2>"$T/err-b"
bdaemon=$!
check "a bare port listens ($bport)" wait_for 10 port_open "$bport"
addr=$(python3 - "$bport" <<'PY'
import sys
port = int(sys.argv[1])
for path in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(path).read().splitlines()[1:]:
        f = line.split()
        a, p = f[1].rsplit(":", 1)
        if int(p, 16) == port and f[3] == "0A":
            print(a)
PY
)
check "a bare port binds 127.0.0.1 only (listening on $addr)" test "$addr" = 0100007F
"$ARRIVALCTL" -s "$T/b.sock" stop >/dev/null
wait "$bdaemon"
ok $? "the second daemon exits 0"

"$ARRIVALCTL" -s "$T/ctl.sock" stop >/dev/null
wait "$daemon"
ok $? "the daemon exits 0 after stop"
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/err' '$T/err-b'"
[ "$tap_failed" -eq 0 ] || sed 's/^/# daemon: /' "$T/err" | tail -20
done_testing
