#!/bin/sh
# closed.sh: the closed model against arrival-sut running the seed's
# network time-scaled by 10 (0.5/0.4/0.3 ms).  Throughput matches MVA for
# two rows of the seed's Table 2; Little's law holds between arrivald's
# own estimates; autoscaling near saturation raises N and Z together
# until lambda_N is within tolerance of N/Z.  Against a target of its
# own: a user due when a stop reaches a late worker still sends.
. "$top_srcdir/tests/lib.sh"

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0005,0.0004,0.0003 -s 3
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }

run() { # run N Z SECONDS [EXTRA]
	cat >"$T/c.conf" <<CONF
workload = { model = "closed"; arrivals = "poisson"; users = $1; think = $2;
  seed = 11; workers = 2; window = 2.0; ${4:-} };
targets = ( { name = "home"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; interval = 1.0; };
CONF
	"$ARRIVALD" -c "$T/c.conf" -d "$3" 2>"$T/err"; rc=$?; [ $rc -eq 0 ] || sed "s/^/# /" "$T/err"; return $rc
}

# X over the rows of timeseries.csv from FROM seconds on, from the counters
x_after() {
	python3 - "$T/results/latest/timeseries.csv" "$1" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
from_t = float(sys.argv[2])
rows = [r for r in rows if float(r["t"]) >= from_t]
a, b = rows[0], rows[-1]
print((int(b["completed"]) - int(a["completed"])) / (float(b["t"]) - float(a["t"])))
PY
}

for row in 1500:1 15000:10; do
	n=${row%:*}
	z=${row#*:}
	sut_reset "$port"
	run "$n" "$z" 8
	ok $? "closed run N=$n Z=$z exits 0"
	x=$(x_after 2)
	S=$T/results/latest/summary.json
	# A user's cycle is its think time plus arrivald's R, which holds the
	# stations' R (the target's own) and the time spent outside them:
	# lag, libcurl, loopback.  That time is a delay station in series
	# with the think time, so MVA is solved with Z + d.  It is a fraction
	# of a millisecond in a plain build; under a sanitizer on a busy host
	# it has reached 19 ms, which alone moves X by 2% at Z = 1 s.
	d=$(python3 -c "print(max(0.0, $(json_get "$S" 'j["R"]') - $(sut_stat "$port" R)))")
	diag "N=$n Z=$z: time outside the stations d = $d s"
	mva=$(python3 "$top_srcdir/bench/mva.py" --demands 0.0005,0.0004,0.0003 --rows "$n:$(python3 -c "print($z + $d)")" --json |
		python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["X"])')
	# 6 s at 1500/s: 9000 completions, Poisson sd 1.1%; allow 4%
	check "N=$n Z=$z: X $x within 4% of MVA's $mva (Z + d)" \
		python3 -c "import sys; sys.exit(abs($x / $mva - 1) > 0.04)"
	check "N=$n Z=$z: summary has N and Z" \
		python3 -c "import json,sys; c=json.load(open('$S'))['closed']; sys.exit(not (c['N'] == $n and abs(c['Z'] - $z) < 1e-9))"
	q=$(json_get "$S" 'j["Q"]')
	xr=$(json_get "$S" 'j["X"] * j["R"]')
	check "Little's law: Q $q = X R $xr within 10%" \
		python3 -c "import sys; sys.exit(abs($q - $xr) > 0.1 * $q + 0.05)"
done

# autoscaling near saturation: 95% of the bottleneck's 2000/s from N0 = 50
run 50 0.0263158 14 'rate = 1900.0; autoscale = true; tolerance = 0.01; max_users = 100000;'
ok $? "autoscaled run exits 0"
S=$T/results/latest/summary.json
k=$(json_get "$S" 'j["closed"]["scale"]')
check "the scale factor grew from 1 ($k)" python3 -c "import sys; sys.exit(not $k > 5)"
check "N and Z grew together: N/Z holds at 1900/s" \
	python3 -c "import json,sys; c=json.load(open('$S'))['closed']; sys.exit(abs(c['N'] / c['Z'] - 1900) > 19)"
check "the scaling was logged with its measurement" grep -q 'autoscale: Q = ' "$T/err"
x=$(x_after 9)
check "after scaling, X $x is within 5% of 1900/s" \
	python3 -c "import sys; sys.exit(abs($x / 1900 - 1) > 0.05)"

# max_users stops the scaling short: the daemon says so
run 50 0.0263158 8 'rate = 1900.0; autoscale = true; tolerance = 0.001; max_users = 60;'
S=$T/results/latest/summary.json
check "a ceiling reached is reported in the summary" \
	python3 -c "import json,sys; sys.exit(not json.load(open('$S'))['closed']['autoscale_limited'])"
check "and in the log" grep -q 'max_users (60) reached' "$T/err"

# A stop takes effect when the worker handles it: a user whose think ended
# before then sends first, however late the worker.  One user thinks 20 ms;
# the target answers its first request with 80 a's, on which the check
# backtracks for about a second (glibc, a back-reference in an ERE), and
# the stop comes during the check.  The user falls due in it, so the run
# sends 2 requests; an engine that deleted the users' timer at the stop
# sent 1.
cat >"$T/slow.py" <<'PY'
import http.server, sys
log = open(sys.argv[2], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    n = 0
    def do_GET(self):
        H.n += 1
        body = b"a" * 80 if H.n == 1 else b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        log.write("%d\n" % H.n)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
sport=$(free_port)
bg python3 "$T/slow.py" "$sport" "$T/slow.log"
wait_for 10 port_open "$sport" || { echo "Bail out! the slow target did not start"; exit 1; }
cat >"$T/s.conf" <<CONF
workload = { model = "closed"; arrivals = "constant"; users = 1; think = 0.02; seed = 11; workers = 1; };
targets = ( { name = "slow"; url = "http://127.0.0.1:$sport/";
  expect = { body = "^(a*)*\\\\1\\\\1\\\\1b"; }; } );
control = { socket = "$T/s.sock"; };
results = { dir = "$T/s-results"; };
CONF
bg "$ARRIVALD" -c "$T/s.conf" -d 30 2>"$T/s.err"
daemon=$!
check "the target answered the first request with the slow body" wait_for 10 grep -qx 1 "$T/slow.log"
# the worker is in the check once a thread but main has run 0.1 s
worker_busy() {
	for f in /proc/"$daemon"/task/*/stat; do
		[ "$f" = "/proc/$daemon/task/$daemon/stat" ] || sed 's/.*) //' "$f"
	done 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" '$12 + $13 >= hz / 10 { f = 1 } END { exit !f }'
}
check "the worker has run the check for 0.1 s" wait_for 10 worker_busy
out=$("$ARRIVALCTL" -s "$T/s.sock" stop)
seen=$(wc -l <"$T/slow.log")
check "stop replies ($out) while the check runs: $seen request at the target" \
	test "$out" = stopping -a "$seen" -eq 1
wait "$daemon"
ok $? "the stopped run exits 0"
sent=$(json_get "$T/s-results/latest/summary.json" 'j["totals"]["sent"]')
seen=$(wc -l <"$T/slow.log")
check "the user due at the stop sent: $sent sent, $seen at the target, of 2" \
	test "$sent" -eq 2 -a "$seen" -eq 2
done_testing
