#!/bin/sh
# send-loop.sh: bench/send-loop, figure 4's bare Poisson sender, does the
# work its numbers are quoted for: a Poisson number of requests in the
# run, every one answered, on keep-alive connections, and gaps at the
# target that are exponential (KS under a bound generous enough for the
# host's send floor at this rate).
. "$top_srcdir/tests/lib.sh"
SL="$top_builddir/bench/send-loop"
jtrue() { json_get "$1" "$2" | grep -qx True; }
[ -x "$SL" ] || { echo "Bail out! $SL not built"; exit 1; }

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0001 -e det -s 1 -L "$T/sut.log"
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }

# 1,000/s for 4 s: 4,000 expected, sd 63; +-6 sd never fails a correct build
"$SL" -p "$port" -r 1000 -d 4 -c 16 -s 7 >"$T/run.json"
diag "$(cat "$T/run.json")"
check "1,000/s for 4 s: sent within 4000 +- 380, none skipped" \
	jtrue "$T/run.json" '3620 <= j["sent"] <= 4380 and j["skipped"] == 0'
check "every request answered" jtrue "$T/run.json" 'j["completed"] == j["sent"]'
curl -s -o /dev/null -X POST "http://127.0.0.1:$port/_reset"	# flushes the log
sent=$(json_get "$T/run.json" 'j["sent"]')
check "the target saw every request ($sent)" test "$(wc -l <"$T/sut.log")" -eq "$sent"
python3 "$top_srcdir/bench/fidelity.py" --bin 0.01 "$T/sut.log" >"$T/fid.json"
diag "$(cat "$T/fid.json")"
# a Poisson stream of n gaps stays under 1.95/sqrt(n) 99.9% of the time
# (fidelity.py's ks_crit is the 95% bound, 1.36/sqrt(n)); a send
# floor of 10 us adds 0.01 at this rate
check "the gaps are exponential: KS under 1.95/sqrt(n) + 0.01" \
	jtrue "$T/fid.json" 'j["ks"] <= j["ks_crit"] * 1.95 / 1.36 + 0.01'

"$SL" -p "$port" -r 0 -d 1 >/dev/null 2>"$T/bad.err"
check "a rate of 0: exit 2" test $? -eq 2
check "... with the usage line" grep -q 'usage: send-loop' "$T/bad.err"
"$SL" -H localhost -p "$port" -r 10 -d 1 >/dev/null 2>"$T/bad.err"
check "a host that is not an address: exit 2, named" grep -q 'localhost: not an IPv4 address' "$T/bad.err"
done_testing
