#!/bin/sh
# results.sh: the files of a run, end to end.  A 5 s run with two named
# targets and a three-step transaction against arrival-sut (2% of replies
# a 500): summary.json, timeseries.csv, timers.csv, failures.csv and
# latency.hgrm checked against each other (tests/results.py), `latest`,
# `arrivalctl report DIR` rewriting report.html, and on a terminal the
# daemon's progress bar and `arrivalctl watch`'s live view.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.001 -e det -s 1 -x 5xx=0.02
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }

u=http://127.0.0.1:$port
cat >"$T/r.conf" <<CONF
workload = { model = "open"; rate = 200.0; seed = 3; workers = 2; window = 2.0; };
targets = (
  { name = "home"; url = "$u/"; weight = 2.0; },
  { name = "api"; url = "$u/api"; weight = 1.0; headers = [ "Authorization: Bearer s3cr3t" ]; }
);
transactions = (
  { name = "shop"; weight = 1.0;
    steps = (
      { name = "browse"; url = "$u/shop"; },
      { name = "cart"; method = "POST"; url = "$u/cart"; body = "item=1"; pause = 0.01; },
      { name = "buy"; method = "POST"; url = "$u/buy"; form = [ "card=x" ]; }
    ); }
);
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; interval = 0.5; };
CONF
"$ARRIVALD" -t -c "$T/r.conf" >/dev/null 2>"$T/check.err"
ok $? "the configuration is valid"

# the run, on a terminal: the daemon draws its progress line
bg python3 "$top_srcdir/tests/pty-run.py" "$T/pty.out" "$ARRIVALD" -c "$T/r.conf" -d 5
run=$!
check "the daemon listens" wait_for 10 test -S "$T/ctl.sock"
check "stats carries duration 5 and uptime" sh -c "\"$ARRIVALCTL\" -j -s '$T/ctl.sock' stats |
	python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(not (j[\"duration\"] == 5.0 and 0 < j[\"uptime\"] < 5))'"
# arrivalctl watch on a terminal: the live view, with a progress bar
python3 "$top_srcdir/tests/pty-run.py" --for 1.5 "$T/watch.out" \
	"$ARRIVALCTL" -s "$T/ctl.sock" watch 0.2
check "arrivalctl watch on a terminal draws the live view" \
	grep -q "arrivald $T/ctl.sock  running  open/poisson" "$T/watch.out"
check "the live view has a progress bar with the duration" \
	grep -Eq '\[#+\.*\] +[0-9]+%  [0-9]+/5 s' "$T/watch.out"
check "the live view redraws (several frames in 1.5 s)" \
	test "$(grep -c 'lambda' "$T/watch.out")" -ge 4
wait "$run"
ok $? "the run exits 0 on its own after 5 s"
check "on a terminal the daemon shows its progress bar" grep -q '\[####' "$T/pty.out"
check "the progress line has the duration and the rates" grep -Eq '/5 s  target 200\.0/s  lambda' "$T/pty.out"
check "on a terminal the log has no <N> prefixes" sh -c "! grep -q '<6>' '$T/pty.out'"

python3 "$top_srcdir/tests/results.py" "$T/results" 5 0.5 "$T/res"
ok $? "results.py ran to its end"
while read -r st desc; do ok "$st" "$desc"; done <"$T/res"

# arrivalctl report DIR regenerates report.html
R=$T/results/latest
touch -d '2000-01-01' "$R/report.html"
before=$(stat -c %Y "$R/report.html")
"$ARRIVALCTL" report "$R" 2>"$T/report.err"
ok $? "arrivalctl report DIR exits 0"
after=$(stat -c %Y "$R/report.html")
check "report.html rewritten (mtime $before -> $after)" test "$after" -gt "$before"
for t in home api shop shop/browse shop/cart shop/buy; do
	grep -q ">$t<" "$R/report.html" || grep -q "\"$t\"" "$R/report.html" || { diag "report lacks $t"; bad=1; }
done
check "report.html names every timer" test -z "${bad:-}"
"$ARRIVALCTL" report "$T/nowhere" 2>"$T/report2.err"
check "arrivalctl report of a missing directory exits 1 and says why" \
	sh -c "test $? -eq 1 && test -s '$T/report2.err'"
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/pty.out'"
[ "$tap_failed" -eq 0 ] || tail -c 2000 "$T/pty.out" | tr '\r' '\n' | sed 's/^/# daemon: /' | tail -10
done_testing
