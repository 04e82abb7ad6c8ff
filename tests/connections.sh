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
check "the daemon says the cap holds requests to this host back" \
	grep -q "requests to http://127.0.0.1:$port wait for a connection: all of workload.connections (1) are busy" "$T/err"

# Waiting for a connection counts against a step's timeout, as it would
# inside libcurl.  One connection to a target that never answers in
# time; half the arrivals are "slow" (a 2 s timeout: each holds the
# connection that long), half "fast" (0.2 s).  A fast one that arrives
# behind a slow one waits out its timeout in arrivald and fails as
# "timeout" without reaching the target.
port2=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port2" -d 30 -e det -s 1
wait_for 10 port_open "$port2" || { echo "Bail out! arrival-sut did not start"; exit 1; }
cat >"$T/t.conf" <<CONF
workload = { rate = 20.0; seed = 9; workers = 1; connections = 1; drain = 2.5; };
targets = ( { name = "slow"; url = "http://127.0.0.1:$port2/s"; timeout = 2.0; },
	{ name = "fast"; url = "http://127.0.0.1:$port2/f"; timeout = 0.2; } );
control = { socket = "$T/ctl2.sock"; };
results = { dir = "$T/results2"; };
CONF
"$ARRIVALD" -c "$T/t.conf" -d 3 2>"$T/err2"
ok $? "a run with one connection to a target that does not answer exits 0"
seen=$(sut_stat "$port2" arrivals)
S2=$T/results2/latest/summary.json
check "every request failed as a timeout, none is left outstanding" \
	python3 -c "import json,sys; t = json.load(open('$S2'))['totals']
sys.exit(not (t['sent'] >= 40 and t['failed'] == t['sent'] and t['failures'] == {'timeout': t['sent']}))"
# The slow ones all reach it, each with what is left of its 2 s; of the
# fast ones only those that find the connection free do
n_slow=$(json_get "$S2" '[t["sent"] for t in j["timers"] if t["name"] == "slow"][0]')
n_fast=$(json_get "$S2" '[t["sent"] for t in j["timers"] if t["name"] == "fast"][0]')
check "the fast ones mostly never reached the target: it saw $seen of $n_slow slow + $n_fast fast" \
	python3 -c "import sys; sys.exit(not ($seen <= $n_slow + $n_fast / 3 and $n_fast >= 15))"

# Two hosts, one connection each; the first hangs, so its queue is
# drained mostly by timeouts, and each timeout lets a transaction in from
# the backlog, which may be the first to the second host: the worker's
# table of queues grows while the first one's is being drained (the
# sanitizer build caught a use after free there with this seed).
port3=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port3" -d 0.001 -e det -s 1
wait_for 10 port_open "$port3" || { echo "Bail out! arrival-sut did not start"; exit 1; }
cat >"$T/u.conf" <<CONF
workload = { rate = 200.0; seed = 3; workers = 1; connections = 1; timeout = 0.05;
	max_in_flight = 3; backlog = 100; drain = 0.5; };
targets = ( { name = "a"; url = "http://127.0.0.1:$port2/"; weight = 0.97; },
	{ name = "b"; url = "http://127.0.0.1:$port3/"; weight = 0.03; } );
control = { socket = "$T/ctl3.sock"; };
results = { dir = "$T/results3"; };
CONF
"$ARRIVALD" -c "$T/u.conf" -d 2 2>"$T/err3"
ok $? "two hosts, one hanging: a run exits 0"
S3=$T/results3/latest/summary.json
# one connection, 50 ms timeouts: about 20 a second fail inside libcurl
# and more in the queue; the backlog drops the rest
check "the hanging host's requests fail as timeouts, the other's complete" \
	python3 -c "import json,sys; j = json.load(open('$S3')); t = j['totals']
b = [x for x in j['timers'] if x['name'] == 'b'][0]
sys.exit(not (b['completed'] > 0 and list(t['failures']) == ['timeout'] and t['failed'] >= 40))"

# More transfers at once than one of a worker's libcurl multi handles
# takes (32): a target that holds every request 30 s, 200 arrivals in
# 1 s and a cap of 100 connections.  The first 100 reach the target, on
# 100 connections spread over several multi handles; the other 100 wait
# in arrivald, and all 200 are still outstanding when the run ends.
port4=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port4" -d 30 -e det -s 1
wait_for 10 port_open "$port4" || { echo "Bail out! arrival-sut did not start"; exit 1; }
cat >"$T/m.conf" <<CONF
workload = { arrivals = "constant"; rate = 200.0; seed = 3; workers = 1;
	connections = 100; timeout = 20.0; drain = 0.5; };
targets = ( { name = "m"; url = "http://127.0.0.1:$port4/"; } );
control = { socket = "$T/ctl4.sock"; };
results = { dir = "$T/results4"; };
CONF
"$ARRIVALD" -c "$T/m.conf" -d 1 2>"$T/err4"
ok $? "a run with 100 connections held by the target exits 0"
S4=$T/results4/latest/summary.json
seen=$(sut_stat "$port4" arrivals)
check "the target saw exactly the cap, 100 requests at once: $seen" test "$seen" -eq 100
tot=$(json_get "$S4" '{k: j["totals"][k] for k in ("sent", "in_flight", "completed", "failed", "dropped")}')
check "arrivald sent 200, none completed or failed, all still outstanding: $tot" \
	python3 -c "import json,sys; t = json.load(open('$S4'))['totals']
sys.exit(not (t['sent'] == 200 and t['in_flight'] == 200 and t['completed'] == 0 and t['failed'] == 0 and t['dropped'] == 0))"

# The same with the host taken from a variable: such a step is not in
# the worker's queues, libcurl holds it to the cap instead, and the cap
# is still one for the worker, not one per multi handle.  A cap of 10:
# the target sees exactly 10 of the 200.
printf 'hp\n127.0.0.1:%s\n' "$port4" >"$T/hosts.csv"
sut_reset "$port4"
cat >"$T/v.conf" <<CONF
workload = { arrivals = "constant"; rate = 200.0; seed = 3; workers = 1;
	connections = 10; timeout = 20.0; drain = 0.5; };
transactions = ( { name = "v"; weight = 1.0; feed = { file = "$T/hosts.csv"; };
	steps = ( { name = "get"; url = "http://\${hp}/"; } ); } );
control = { socket = "$T/ctl5.sock"; };
results = { dir = "$T/results5"; };
CONF
"$ARRIVALD" -c "$T/v.conf" -d 1 2>"$T/err5"
ok $? "a run to a host named by a variable, held by the target, exits 0"
seen=$(sut_stat "$port4" arrivals)
check "the target saw exactly the cap, 10 requests at once: $seen" test "$seen" -eq 10
tot=$(json_get "$T/results5/latest/summary.json" '{k: j["totals"][k] for k in ("sent", "in_flight", "failed")}')
check "arrivald sent 200, all still outstanding: $tot" \
	python3 -c "import json,sys; t = json.load(open('$T/results5/latest/summary.json'))['totals']
sys.exit(not (t['sent'] == 200 and t['in_flight'] == 200 and t['failed'] == 0))"

run 0
ok $? "a run with no cap exits 0"
q=$(truth Q)
seen=$(truth arrivals)
# 40/s for 5 s: 200 arrivals, sd 14; 150..250 is 3.5 sd.  (The target's
# X is not used: its span starts at the reset, before arrivald is up.)
check "with no cap the target sees the open workload: all $seen of arrivald's sent" \
	python3 -c "import json,sys; t = json.load(open('$S'))['totals']
sys.exit(not (150 <= t['sent'] <= 250 and t['completed'] == t['sent'] == $seen))"
el=$(truth elapsed)
# its Q is over the span since the reset; over the 5 s of load it is
# Q * elapsed / 5 (M/D/1 tandem at 40/s, 60 ms: 2.4 and up)
check "and holds more than one request at a time: Q $q over ${el} s" \
	python3 -c "import sys; sys.exit(not $q * $el / 5 > 1.5)"
check "and no warning" sh -c "! grep -q 'workload.connections' '$T/err'"
done_testing
