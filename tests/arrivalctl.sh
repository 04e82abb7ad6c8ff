#!/bin/sh
# arrivalctl.sh: the client against stand-in daemons that answer with
# known replies: the stats table, -j, exit statuses, the socket search
# order, fleet columns and sums, watch as JSON lines and as a live view.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"

cat >"$T/fake.py" <<'PY'
import json, os, socket, sys, threading, time
path, shard, mult = sys.argv[1], sys.argv[2], float(sys.argv[3])
stats = {"ok": True, "model": "closed", "arrivals": "poisson", "state": "running",
    "rate_target": 100.0 * mult, "lambda": 99.5 * mult, "X": 99.0 * mult,
    "Q": 2.0 * mult, "R": 0.0123, "N": 1000 * mult, "Z": 10.0,
    "Q_over_Z": 0.2 * mult, "lambda_N": None, "scale": 1.0, "sent": 1000 * mult,
    "completed": 990 * mult, "failed": 3, "dropped": 0, "in_flight": 7,
    "p50": 0.0101, "p90": 0.02, "p99": 0.0456, "max": 0.2,
    "window": 10.0, "uptime": 30.0, "duration": 60.0, "shard": shard,
    "failures": {"timeout": 2, "refused": 1}, "profile": None, "timers": [],
    "autoscale_limited": False}
def serve(c):
    f = c.makefile("rwb")
    n = 0
    for line in f:
        w = line.decode().split()
        if w[0] == "stats":
            r = stats
        elif w[0] == "watch":
            for i in range(4):
                s = dict(stats, **{"lambda": 50.0 + 10 * i})
                f.write((json.dumps(s) + "\n").encode()); f.flush()
                time.sleep(0.05)
            break
        elif w[0] == "reload":
            r = {"ok": False, "error": "reload: broken.conf:3: bad rate"}
        elif w[0] == "version":
            r = {"ok": True, "version": "9.9.9"}
        elif w[0] == "help":
            r = {"ok": True, "commands": [{"syntax": "stats", "description": "the numbers"}]}
        else:
            r = {"ok": True}
        f.write((json.dumps(r) + "\n").encode()); f.flush()
    c.close()
s = socket.socket(socket.AF_UNIX)
s.bind(path); s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

bg python3 "$T/fake.py" "$T/a.sock" 0/2 1
bg python3 "$T/fake.py" "$T/b.sock" 1/2 2
check "stand-in daemons listen" wait_for 5 test -S "$T/a.sock" -a -S "$T/b.sock"

out=$("$ARRIVALCTL" -s "$T/a.sock" stats); rc=$?
check "stats exits 0" test $rc -eq 0
check "stats: lambda as a rate" sh -c "echo '$out' | grep -Eq '^lambda +99.50/s$'"
check "stats: p99 in ms" sh -c "echo '$out' | grep -Eq '^p99 +45.60 ms$'"
check "stats: counts whole" sh -c "echo '$out' | grep -Eq '^sent +1000$'"
check "stats: null shown as -" sh -c "echo '$out' | grep -Eq '^lambda_N +-$'"
check "stats: missing shown as -" sh -c "echo '$out' | grep -Eq '^p999 +-$'"
check "stats: booleans" sh -c "echo '$out' | grep -Eq '^autoscale_limited +no$'"
check "stats: failures by reason" sh -c "echo '$out' | grep -Eq '^failures: timeout 2 refused 1$'"
for f in model arrivals state rate_target lambda X Q R N Z Q_over_Z lambda_N \
    scale sent completed failed dropped in_flight p50 p90 p99 p999 max window uptime; do
	echo "$out" | grep -q "^$f " || { diag "stats table lacks $f"; bad=1; }
done
check "stats table has every SPEC field" test -z "${bad:-}"

"$ARRIVALCTL" -j -s "$T/a.sock" stats >"$T/j.json"
check "-j: the JSON line itself" test "$(json_get "$T/j.json" 'j["Q"]')" = "2.0"

ARRIVALD_SOCKET=$T/b.sock "$ARRIVALCTL" -j stats >"$T/env.json"
check "ARRIVALD_SOCKET used" test "$(json_get "$T/env.json" 'j["shard"]')" = "1/2"
ARRIVALD_SOCKET=$T/nope.sock "$ARRIVALCTL" -j -s "$T/a.sock" stats >"$T/s.json"
check "-s wins over ARRIVALD_SOCKET" test "$(json_get "$T/s.json" 'j["shard"]')" = "0/2"

err=$("$ARRIVALCTL" -s "$T/a.sock" reload 2>&1 >/dev/null); rc=$?
check "an error reply exits 1" test $rc -eq 1
check "the error is printed" sh -c "echo '$err' | grep -q 'broken.conf:3: bad rate'"

err=$("$ARRIVALCTL" -s "$T/missing.sock" stats 2>&1); rc=$?
check "unreachable socket exits 2" test $rc -eq 2
check "unreachable: names the path and the reason" \
	sh -c "echo '$err' | grep -q '$T/missing.sock: No such file or directory'"
"$ARRIVALCTL" -s "$T/a.sock" set rate abc 2>"$T/err"; rc=$?
check "an invalid command exits 2 before sending" test $rc -eq 2
check "and says why" grep -q '"abc" is not a number' "$T/err"
"$ARRIVALCTL" 2>/dev/null; check "no command: usage, exit 2" test $? -eq 2

check "set rate: confirmation" sh -c "\"$ARRIVALCTL\" -s '$T/a.sock' set rate 5 over 10 | grep -qx 'rate target 5/s over 10 s'"
check "pause: confirmation" sh -c "\"$ARRIVALCTL\" -s '$T/a.sock' pause | grep -qx paused"
check "version" sh -c "\"$ARRIVALCTL\" -s '$T/a.sock' version | grep -qx 'arrivald 9.9.9'"
check "help" sh -c "\"$ARRIVALCTL\" -s '$T/a.sock' help | grep -Eq '^stats +the numbers$'"

# fleet
out=$("$ARRIVALCTL" -s "$T/a.sock" -s "$T/b.sock" stats)
check "fleet: a column per shard and the fleet" sh -c "echo '$out' | head -1 | grep -Eq 'a.sock +b.sock +fleet'"
check "fleet: lambda summed" sh -c "echo '$out' | grep -Eq '^lambda +99.50/s +199.00/s +298.50/s$'"
check "fleet: Q_over_Z summed" sh -c "echo '$out' | grep -Eq '^Q_over_Z +0.20/s +0.40/s +0.60/s$'"
check "fleet: in_flight summed" sh -c "echo '$out' | grep -Eq '^in_flight +7 +7 +14$'"
"$ARRIVALCTL" -s "$T/a.sock" -s "$T/missing.sock" stats >/dev/null 2>&1
check "fleet: one unreachable shard exits 2" test $? -eq 2

# watch: JSON lines when not a terminal, with the socket in fleet mode
"$ARRIVALCTL" -s "$T/a.sock" -s "$T/b.sock" watch 0.1 >"$T/w.out"
check "watch: 4 lines from each" test "$(grep -c a.sock "$T/w.out")" -eq 4 -a \
	"$(grep -c b.sock "$T/w.out")" -eq 4
check "watch: lines are JSON with the socket" \
	sh -c "head -1 '$T/w.out' | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j[\"socket\"].endswith(\".sock\")'"

# the live view on a terminal
if command -v script >/dev/null 2>&1; then
	script -qec "\"$ARRIVALCTL\" -s \"$T/a.sock\" watch 0.1" "$T/tty.out" >/dev/null 2>&1
	check "live view: sparkline" grep -q '▁▄' "$T/tty.out"
	check "live view: progress bar at 50%" grep -q '\] *50%' "$T/tty.out"
	check "live view: p99 in ms" grep -q 'p99 45.60 ms' "$T/tty.out"
fi
done_testing
