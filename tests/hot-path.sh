#!/bin/sh
# hot-path.sh: a guard against the per-request cost growing.  callgrind
# counts instructions, not seconds, so the figure does not depend on how
# busy the machine is.  Two runs of the same schedule, 2 s and 5 s long,
# differ only by the requests of the 3 extra seconds: their difference
# divided by the extra requests is the cost of one request, start-up and
# shutdown cancelled out.  It fails when that cost exceeds the budget
# recorded in tests/hot-path.budget (a generous margin over the measured
# figure: the point is to catch a regression, not a few per cent).
# Only the work done inside the worker's event handlers is counted
# (--toggle-collect), which is all of a request's life, so the start-up,
# the main thread and valgrind's own slowness do not enter the figure.
. "$top_srcdir/tests/lib.sh"
command -v valgrind >/dev/null || skip_all "valgrind is not installed"
case "$ARRIVALD" in *) ;; esac
if nm "$ARRIVALD" 2>/dev/null | grep -q __asan_init; then
	skip_all "a sanitizer build: instruction counts mean nothing here"
fi
budget=$(grep -v '^#' "$top_srcdir/tests/hot-path.budget" | head -1)

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0001 -e det -s 1
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }
cat >"$T/h.conf" <<CONF
workload = { arrivals = "constant"; rate = 200.0; seed = 3; workers = 1; window = 1.0; };
targets = ( { name = "h"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; };
CONF
measure() { # measure SECONDS: prints "instructions requests"
	rm -f "$T/cg.out"
	valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" \
		--toggle-collect=on_arrival --toggle-collect=on_event \
		--toggle-collect=on_timer --toggle-collect=on_pause_done \
		"$ARRIVALD" -c "$T/h.conf" -d "$1" >/dev/null 2>"$T/vg.err" || return 1
	ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$T/cg.out" | head -1)
	[ -n "$ir" ] || ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$T/cg.out" | head -1)
	n=$(json_get "$T/results/latest/summary.json" 'j["totals"]["completed"]')
	echo "$ir $n"
}
set -- $(measure 3)
ir=${1:-0} n=${2:-0}
ok $(( n > 200 ? 0 : 1 )) "the run completed requests under valgrind ($n)"
per=$(python3 -c "print(int($ir / max(1, $n)))")
diag "instructions per request: $per (budget $budget)"
check "per-request instructions $per within the budget $budget" test "$per" -le "$budget"
done_testing
