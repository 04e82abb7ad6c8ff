#!/bin/sh
# hot-path.sh: a guard against the per-request cost growing.  callgrind
# counts instructions, not seconds, so the figure does not depend on how
# busy the machine is.  One run of 3 s at a constant rate: the
# instructions counted, divided by the requests completed, is the cost
# of one request.  It fails when that cost exceeds the budget
# recorded in tests/hot-path.budget (a generous margin over the measured
# figure: the point is to catch a regression, not a few per cent), once
# through each HTTP client: arrivald's own (h1.c, workload.client
# "auto") and libcurl's.
# Only the work done inside the worker's event handlers is counted
# (--toggle-collect), which is all of a request's life, so the start-up,
# the main thread and valgrind's own slowness do not enter the figure.
. "$top_srcdir/tests/lib.sh"
command -v valgrind >/dev/null || skip_all "valgrind is not installed"
case "$ARRIVALD" in *) ;; esac
if nm "$ARRIVALD" 2>/dev/null | grep -q __asan_init; then
	skip_all "a sanitizer build: instruction counts mean nothing here"
fi
budget() { sed -n "s/^$1 *//p" "$top_srcdir/tests/hot-path.budget"; }

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0001 -e det -s 1
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }
conf() { # conf CLIENT
	cat >"$T/h.conf" <<CONF
workload = { arrivals = "constant"; rate = 200.0; seed = 3; workers = 1; window = 1.0;
  client = "$1"; };
targets = ( { name = "h"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; };
CONF
}
measure() { # measure SECONDS: prints "instructions requests"
	rm -f "$T/cg.out"
	valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" \
		--toggle-collect=on_arrival --toggle-collect=on_event \
		--toggle-collect=on_timer --toggle-collect=on_pause_done \
		--toggle-collect=conn_read --toggle-collect=conn_write \
		--toggle-collect=conn_timeout \
		"$ARRIVALD" -c "$T/h.conf" -d "$1" >/dev/null 2>"$T/vg.err" || return 1
	ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$T/cg.out" | head -1)
	[ -n "$ir" ] || ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$T/cg.out" | head -1)
	n=$(json_get "$T/results/latest/summary.json" 'j["totals"]["completed"]')
	echo "$ir $n"
}
for client in auto libcurl; do
	conf "$client"
	b=$(budget "$client")
	set -- $(measure 3)
	ir=${1:-0} n=${2:-0}
	ok $(( n > 200 ? 0 : 1 )) "$client: the run completed requests under valgrind ($n)"
	per=$(python3 -c "print(int($ir / max(1, $n)))")
	diag "$client: instructions per request: $per (budget $b)"
	check "$client: per-request instructions $per within the budget $b" test "$per" -le "$b"
	echo "$per" >"$T/per.$client"
done
# the reason for h1.c: a request through it costs a fraction of libcurl's
check "auto costs under half of libcurl ($(cat "$T/per.auto") against $(cat "$T/per.libcurl"))" \
	test "$(( $(cat "$T/per.auto") * 2 ))" -lt "$(cat "$T/per.libcurl")"
done_testing
