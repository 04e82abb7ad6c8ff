#!/bin/sh
# open-model.sh: the open model end to end against arrival-sut.  Counts
# agree with the target's own; the rate is within its Poisson bounds; the
# gaps the target sees are exponential (KS distance) and the counts
# Poisson (dispersion index); constant spacing is even; a target that is
# down gives failures counted by reason, and the run still ends with its
# results written.
. "$top_srcdir/tests/lib.sh"

port=$(free_port)
# sut_up: a fresh arrival-sut with an empty per-request log, pid in $sut
sut_up() {
	rm -f "$T/sut.log"
	bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0002 -e det -s 1 -L "$T/sut.log"
	sut=$!
	wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }
}
sut_up

conf() { # conf ARRIVALS RATE URL
	cat >"$T/a.conf" <<CONF
workload = { model = "open"; arrivals = "$1"; rate = $2; seed = 7; workers = 2; };
targets = ( { name = "home"; url = "$3"; } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; interval = 1.0; };
CONF
}

# Poisson at 400/s for 6 s
conf poisson 400 "http://127.0.0.1:$port/"
"$ARRIVALD" -c "$T/a.conf" -d 6 2>"$T/err1"
ok $? "a 6 s Poisson run exits 0"
S=$T/results/latest/summary.json
check "summary.json written" test -s "$S"
kill -TERM "$sut"; wait "$sut" 2>/dev/null
lines=$(wc -l <"$T/sut.log")
sent=$(json_get "$S" 'j["totals"]["sent"]')
completed=$(json_get "$S" 'j["totals"]["completed"]')
check "the target saw every request sent ($lines of $sent)" test "$lines" -eq "$sent"
check "every request completed ($completed of $sent)" test "$completed" -eq "$sent"
python3 "$top_srcdir/tests/stream.py" "$T/sut.log" --skip 0.5 --until 5.5 --rate 400 \
	--floor 0.0005 >"$T/st1"
n=$(json_get "$T/st1" 'j["n"]')
# 5 s at 400/s: 2000 arrivals, sd 44.7; 5 sd plus 1% for the window edges
check "arrivals in 5 s within Poisson bounds ($n, expect 2000)" \
	python3 -c "import sys; sys.exit(abs($n - 2000) > 5 * 44.7 + 20)"
ks=$(json_get "$T/st1" 'j["ks"]')
# The target stamps an arrival when its event loop gets to it, so gaps
# shorter than its time per request are not resolved; above a 0.5 ms
# floor the gaps of a Poisson stream are again Exp(400).  About 1640 of
# them: the KS critical value at alpha = 1e-4 is 0.053, which a quiet
# machine meets (0.02 measured); a test running beside another on two
# cores adds milliseconds of scheduling noise to some arrivals, so the
# bound is 0.1: still far below evenly spaced (~0.5) or 1 ms timer
# ticks (~0.3).  The schedule itself is held to the strict bound in
# test-arrival, and docs/BENCHMARKS.md measures the rest.
check "gaps at the target are Exp(400): KS distance $ks above a 0.5 ms floor" \
	python3 -c "import sys; sys.exit(not $ks < 0.1)"
disp=$(json_get "$T/st1" 'j["dispersion"]')
# 50 bins of 100 ms: the dispersion index of Poisson counts has sd 0.2
check "counts per 100 ms are Poisson: dispersion index $disp" \
	python3 -c "import sys; sys.exit(not 0.3 < $disp < 1.9)"
p50=$(json_get "$S" 'j["latency"]["p50"]')
check "latency is measured from the intended start and includes the 0.2 ms service ($p50 s)" \
	python3 -c "import sys; sys.exit(not 0.0002 <= $p50 < 0.05)"
check "timeseries.csv has the SPEC header" \
	grep -qx 't,rate_target,lambda,X,Q,R,p50,p90,p99,max,N,Z,in_flight,sent,completed,failed,dropped' \
	"$T/results/latest/timeseries.csv"
rows=$(($(wc -l <"$T/results/latest/timeseries.csv") - 1))
check "one row per interval ($rows rows for 6 s)" test "$rows" -ge 5 -a "$rows" -le 8

# constant spacing at 200/s: gaps even at the target
sut_up
conf constant 200 "http://127.0.0.1:$port/"
"$ARRIVALD" -c "$T/a.conf" -d 4 2>"$T/err2"
ok $? "a constant-rate run exits 0"
kill -TERM "$sut"; wait "$sut" 2>/dev/null
python3 "$top_srcdir/tests/stream.py" "$T/sut.log" --skip 0.5 --until 3.5 >"$T/st2"
rate=$(json_get "$T/st2" 'j["rate"]')
grid=$(json_get "$T/st2" 'j["grid"]')
check "constant rate at the target is 200/s ($rate)" \
	python3 -c "import sys; sys.exit(abs($rate - 200) > 4)"
# Even spacing, judged per arrival: the share that reach the target
# within 1 ms (a fifth of the gap) of an even grid fitted to the stream.
# Poisson arrivals wander off any grid: of 2000 simulated 600-arrival
# paths none had more than 0.08 there.  A late arrival moves only
# itself: with the sanitizer build, six CPU hogs and the whole suite
# beside it on two cores, 0.68-0.73 were on the grid (half of them
# within 0.13 ms of it; the rest 1-4 ms late, the host's time slices).
check "constant arrivals are evenly spaced: $grid of them on a 5 ms grid" \
	python3 -c "import sys; sys.exit(not $grid > 0.5)"
pgrid=$(json_get "$T/st1" 'j["grid"]')
check "and the Poisson run above is not: $pgrid of it on its own grid" \
	python3 -c "import sys; sys.exit(not $pgrid < 0.2)"

# A constant-rate run makes exactly rate x duration arrivals: none at or
# past the end, however late the stop timer fires.  At 2000/s (0.5 ms
# apart) a stop 0.5 ms late was one more, so a bound on the end that
# leaked would show here.
sut_up
conf constant 2000 "http://127.0.0.1:$port/"
"$ARRIVALD" -c "$T/a.conf" -d 2 2>"$T/err4"
ok $? "a 2 s constant run at 2000/s exits 0"
kill -TERM "$sut"; wait "$sut" 2>/dev/null
S=$T/results/latest/summary.json
made=$(json_get "$S" 'j["totals"]["sent"] + j["totals"]["dropped"]')
check "it made exactly 4000 arrivals ($made sent or dropped)" test "$made" -eq 4000
lines=$(wc -l <"$T/sut.log")
sent=$(json_get "$S" 'j["totals"]["sent"]')
check "and the target saw every one sent ($lines of $sent)" test "$lines" -eq "$sent"

# A schedule faster than the worker: constant 1,000,000/s, arrivals 1 us
# apart, most of them dropped at max_in_flight.  The worker spins the
# last few microseconds up to an arrival, but only while its loop has
# turned in the last 20 us, so it still reads replies and hears `stop`
# while it runs; without that bound it spun from one arrival to the next
# and completed nothing until the schedule ended.
sut_up
conf constant 1000000 "http://127.0.0.1:$port/"
bg "$ARRIVALD" -c "$T/a.conf" -d 20 2>"$T/err5"
ad=$!
completing() {
	"$ARRIVALCTL" -j -s "$T/ctl.sock" stats | json_get - 'j["completed"] > 1000' | grep -qx True
}
check "1,000,000/s, faster than the worker: replies are read while it runs" \
	wait_for 15 completing
"$ARRIVALCTL" -s "$T/ctl.sock" stop >/dev/null
wait "$ad"
ok $? "... and it stops when told, exit 0"
kill -TERM "$sut"; wait "$sut" 2>/dev/null

# the target is down: every request fails as refused, the run ends cleanly
dead=$(free_port)
conf poisson 50 "http://127.0.0.1:$dead/"
"$ARRIVALD" -c "$T/a.conf" -d 2 2>"$T/err3"
ok $? "a run against a closed port exits 0"
S=$T/results/latest/summary.json
sent=$(json_get "$S" 'j["totals"]["sent"]')
refused=$(json_get "$S" 'j["totals"]["failures"].get("refused", 0)')
check "failures counted by reason: refused $refused of $sent" test "$sent" -gt 50 -a "$refused" -eq "$sent"
check "failures.csv names the reason" grep -q ',refused,' "$T/results/latest/failures.csv"
done_testing
