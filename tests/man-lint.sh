#!/bin/sh
# man-lint.sh: every manual page in the tree is clean mdoc: mandoc -Tlint
# at warning level says nothing about any of them.
. "$top_srcdir/tests/lib.sh"

command -v mandoc >/dev/null 2>&1 || skip_all "mandoc not installed"

n=0
for page in "$top_srcdir"/man/*.[1-8]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	rc=$?
	[ -n "$out" ] && diag "$out"
	if [ $rc -eq 0 ] && [ -z "$out" ]; then ok 0 "mandoc -Tlint: $(basename "$page")"
	else ok 1 "mandoc -Tlint: $(basename "$page")"; fi
done
check "there are manual pages to check ($n)" test "$n" -gt 0

# the lint itself catches a broken page, so that the passes above mean something
printf '.Dd $Mdocdate$\n.Dt BROKEN 1\n.Os\n.Sh NAME\n.Nm broken\n.Sh DESCRIPTION\n.Bl -tag\n.It x\n' >"$T/broken.1"
check "mandoc -Tlint flags a broken page (self-check)" \
	sh -c "mandoc -Tlint -W warning '$T/broken.1' 2>&1 | grep -q ."

# the daemon's page keeps the sections and names it promises
page=$top_srcdir/man/arrivald.8
for sec in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES SIGNALS \
    "EXIT STATUS" EXAMPLES "SEE ALSO"; do
	check "arrivald.8 has section $sec" grep -qx ".Sh $sec" "$page"
done
for name in NOTIFY_SOCKET LISTEN_FDS WATCHDOG_USEC JOURNAL_STREAM ARRIVALD_SHARD; do
	check "arrivald.8 documents $name" grep -q "$name" "$page"
done
for m in requests_sent_total requests_completed_total requests_failed_total \
    arrivals_dropped_total in_flight rate_target arrival_rate throughput \
    queue_length users think_seconds response_time_seconds; do
	check "arrivald.8 lists arrivald_$m" grep -q "arrivald_$m\\b" "$page"
done
for f in summary.json timeseries.csv timers.csv failures.csv latency.hgrm report.html latest; do
	check "arrivald.8 describes $f" grep -q "$f" "$page"
done

done_testing
