#!/bin/sh
# control.sh: every control command of the SPEC against the real daemon
# (tests/control.py drives it: each command's effect in `stats`, and at
# the target through arrival-sut's request log), every kind of error
# reply on one connection, 200 clients hammering stats while the rate at
# the target holds, and `stop`: exit 0 with the results written.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0002 -e det -s 1 -L "$T/sut.log"
sut=$!
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }

cat >"$T/a.conf" <<CONF
workload = { model = "open"; arrivals = "poisson"; rate = 200.0; seed = 17; workers = 2; window = 1.0; };
targets = ( { name = "home"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; interval = 1.0; };
CONF
bg "$ARRIVALD" -c "$T/a.conf" -d 120 2>"$T/err"
daemon=$!
check "the daemon listens on its control socket" wait_for 10 test -S "$T/ctl.sock"

python3 "$top_srcdir/tests/control.py" "$T/ctl.sock" "$T/a.conf" "$T/sut.log" "$port" \
	"$top_srcdir" "$T/res"
ok $? "the driver ran to its end"
while read -r st desc; do ok "$st" "$desc"; done <"$T/res"

out=$("$ARRIVALCTL" -s "$T/ctl.sock" stop); rc=$?
check "stop replies ($out)" test $rc -eq 0 -a "$out" = "stopping"
wait "$daemon"; rc=$?
check "the daemon exits 0 after stop" test $rc -eq 0
check "and removes its socket" test ! -e "$T/ctl.sock"
S=$T/results/latest/summary.json
check "stop writes the results" test -s "$S" -a -s "$T/results/latest/report.html"
kill -TERM "$sut"; wait "$sut" 2>/dev/null
lines=$(wc -l <"$T/sut.log")
sent=$(json_get "$S" 'j["totals"]["sent"]')
completed=$(json_get "$S" 'j["totals"]["completed"]')
check "summary counts every request the target saw ($sent sent, $completed completed, $lines at the target)" \
	test "$sent" -eq "$lines" -a "$completed" -eq "$sent"
check "the reload and the rejected one were logged" \
	sh -c "grep -q 'reload: .*configuration in force' '$T/err' && grep -q 'rejected, the running configuration stays' '$T/err'"
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/err'"
[ "$tap_failed" -eq 0 ] || sed 's/^/# daemon: /' "$T/err" | tail -20
done_testing
