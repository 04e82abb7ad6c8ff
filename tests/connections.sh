#!/bin/sh
# connections.sh: workload.connections caps the connections a worker
# holds to one host.  The target is three 20 ms deterministic stations
# in tandem (capacity 50/s, 60 ms a request), offered 40/s: an open
# workload keeps about 2.4 requests in it.  With a cap of one connection
# the target never holds more than one request, the rest wait inside
# arrivald (still outstanding, latency still from the intended start),
# and the daemon says the cap is holding requests back.
. "$top_srcdir/tests/lib.sh"

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.02,0.02,0.02 -e det -s 1
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }
truth() { sut_stat "$port" "$1"; }
reset() { sut_reset "$port"; }
run() { # run CONNECTIONS
	cat >"$T/c.conf" <<CONF
workload = { rate = 40.0; seed = 9; workers = 1; connections = $1; drain = 0.5; };
targets = ( { name = "t"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; };
CONF
	reset
	"$ARRIVALD" -c "$T/c.conf" -d 5 2>"$T/err"
}

run 1
ok $? "a run with connections = 1 exits 0"
q=$(truth Q)
x=$(truth X)
check "the target never held more than one request: its Q is $q" \
	python3 -c "import sys; sys.exit(not $q <= 1.0001)"
# one request at a time through 60 ms of stations: at most 16.7/s
check "so its throughput is bounded by one connection: X $x <= 1/60 ms" \
	python3 -c "import sys; sys.exit(not $x <= 17)"
S=$T/results/latest/summary.json
check "the requests held back stayed outstanding and none failed" \
	python3 -c "import json,sys; t = json.load(open('$S'))['totals']
sys.exit(not (t['failed'] == 0 and t['in_flight'] > 20 and t['sent'] == t['completed'] + t['in_flight']))"
aq=$(json_get "$S" 'j["Q"]')
check "arrivald counts the waiting requests in its Q ($aq, the target's $q)" \
	python3 -c "import sys; sys.exit(not $aq > 5 * $q)"
check "the daemon says the cap holds requests back" grep -q 'more than workload.connections (1)' "$T/err"

run 0
ok $? "a run with no cap exits 0"
q=$(truth Q)
x=$(truth X)
# 40/s for 5 s: 200 arrivals, sd 7%; the reset and the drain trim the
# span a little at either end
check "with no cap the target sees the open workload: X $x near 40/s" \
	python3 -c "import sys; sys.exit(not 30 <= $x <= 48)"
check "and holds more than one request at a time: Q $q" \
	python3 -c "import sys; sys.exit(not $q > 1.5)"
check "and no warning" sh -c "! grep -q 'workload.connections' '$T/err'"
done_testing
