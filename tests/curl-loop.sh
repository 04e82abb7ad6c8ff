#!/bin/sh
# curl-loop.sh: bench/curl-loop, the reference of figures 1 and 2, does
# the work its numbers are quoted for.  Closed: exactly -n requests.
# Paced with -p: one request per 1/RATE on the precise timer, so the
# gaps arrival-sut stamps are RATE's spacing (its median deviation well
# under a millisecond); libevent's default timer has millisecond
# resolution, and without -p the same pacing comes out as gaps of whole
# milliseconds around the spacing.
. "$top_srcdir/tests/lib.sh"
CL="$top_builddir/bench/curl-loop"
jtrue() { json_get "$1" "$2" | grep -qx True; }
[ -x "$CL" ] || { echo "Bail out! $CL not built"; exit 1; }

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0001 -e det -s 1 -L "$T/sut.log"
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }
url="http://127.0.0.1:$port/"

"$CL" -u "$url" -c 4 -d 20 -n 200 >"$T/closed.json"
check "closed loop: -n 200 completes 200, none failed" \
	jtrue "$T/closed.json" 'j["completed"] == 200 and j["failed"] == 0'

curl -s -o /dev/null -X POST "http://127.0.0.1:$port/_reset"	# flushes the log
n0=$(wc -l <"$T/sut.log")	# the closed run's lines, skipped below
# 64 handles: a request that falls due with every handle busy is skipped,
# and a host that stalls either program for 20 ms kept 8 busy at 400/s
"$CL" -u "$url" -c 64 -d 2 -r 400 -p >"$T/paced.json"
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/_reset"
diag "paced -p: $(cat "$T/paced.json")"
check "paced -p at 400/s for 2 s: 790-801 completed, none skipped or failed" \
	jtrue "$T/paced.json" '790 <= j["completed"] <= 801 and j["skipped"] == 0 and j["failed"] == 0'
check "paced -p: the median gap is 2.5 ms within 0.3 ms" python3 -c '
import sys
a = [int(l.split()[0]) for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):]]
dev = sorted(abs((b - a) / 1e6 - 2.5) for a, b in zip(a, a[1:]))
print("# median |gap - 2.5 ms| %.3f ms over %d gaps" % (dev[len(dev) // 2], len(dev)))
sys.exit(0 if len(dev) > 700 and dev[len(dev) // 2] < 0.3 else 1)' "$T/sut.log" "$n0"

"$CL" -u "$url" -c 4 -d 1 -q >/dev/null 2>"$T/bad.err"
check "an unknown option: exit 2" test $? -eq 2
check "... with the usage line" grep -q 'usage: curl-loop' "$T/bad.err"
done_testing
