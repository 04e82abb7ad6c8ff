#!/bin/sh
# send-loop.sh: bench/send-loop, figure 4's bare Poisson sender, does the
# work its numbers are quoted for: a Poisson number of requests in the
# run, every one answered, on keep-alive connections, and gaps at the
# target that are exponential.
. "$top_srcdir/tests/lib.sh"
SL="$top_builddir/bench/send-loop"
jtrue() { json_get "$1" "$2" | grep -qx True; }
[ -x "$SL" ] || { echo "Bail out! $SL not built"; exit 1; }

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0001 -e det -s 1 -L "$T/sut.log"
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }

# 1,000/s for 4 s: 4,000 expected, sd 63; +-6 sd never fails a correct
# build.  A request due with every connection busy is skipped, and under
# `make -j check` the target is now and then held up for tens of
# milliseconds: 16 connections at 1,000/s skipped 28 once, so 128.
"$SL" -p "$port" -r 1000 -d 4 -c 128 -s 7 >"$T/run.json"
diag "$(cat "$T/run.json")"
check "1,000/s for 4 s: sent within 4000 +- 380, none skipped" \
	jtrue "$T/run.json" '3620 <= j["sent"] <= 4380 and j["skipped"] == 0'
check "every request answered" jtrue "$T/run.json" 'j["completed"] == j["sent"]'
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/_reset"	# flushes the log
sent=$(json_get "$T/run.json" 'j["sent"]')
check "the target saw every request ($sent)" test "$(wc -l <"$T/sut.log")" -eq "$sent"
python3 "$top_srcdir/bench/fidelity.py" --bin 0.01 "$T/sut.log" >"$T/fid.json"
diag "$(cat "$T/fid.json")"
# The gaps are exponential, not evenly spaced and not batched.  Not the
# fidelity figure (bench/run measures that on pinned cores): under
# `make -j check` the other tests take the cores now and then and move
# sends by tens of microseconds, which took the KS distance to 0.048
# once where a pinned run gives 0.016.  Even spacing gives a KS distance
# of 0.63 and a CV near 0; ten requests a batch, a CV over 4.  For an
# exponential, the CV of 3,000 gaps has an sd of 0.026; the load's stalls
# took it to 1.09 once.
check "the gaps are exponential: KS distance under 0.1" \
	jtrue "$T/fid.json" 'j["ks"] <= 0.1'
check "... and their coefficient of variation within 1 +- 0.3" \
	jtrue "$T/fid.json" 'abs(j["cv"] - 1) <= 0.3'

"$SL" -p "$port" -r 0 -d 1 >/dev/null 2>"$T/bad.err"
check "a rate of 0: exit 2" test $? -eq 2
check "... with the usage line" grep -q 'usage: send-loop' "$T/bad.err"
"$SL" -H localhost -p "$port" -r 10 -d 1 >/dev/null 2>"$T/bad.err"
check "a host that is not an address: exit 2, named" grep -q 'localhost: not an IPv4 address' "$T/bad.err"
done_testing
