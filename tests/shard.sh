#!/bin/sh
# shard.sh: four arrivald instances (shards 0/4 .. 3/4, the same seed, one
# worker each) against one arrival-sut are one arrival process.  Poisson:
# the merged stream the target logs has the total rate, exponential gaps
# and Poisson counts (the shards' streams are independent, not copies).
# Constant: the shards interleave into one evenly spaced stream although
# they start at different instants (the schedule is anchored to the wall
# clock), also after a `set rate`.  The fleet's summed figures equal the
# target's ground truth over the same span; arrivalctl's fleet column sums
# measurements and takes targets once; `set rate` reaches every shard.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
K=4
port=$(free_port)

sut_start() { # sut_start DEMANDS: arrival-sut logging every arrival
	rm -f "$T/sut.log"
	bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d "$1" -e det -s 1 -L "$T/sut.log"
	sut=$!
	wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }
}
sut_stop() {
	kill -TERM "$sut"; wait "$sut" 2>/dev/null
}
sut_get() { # sut_get PATH [POST]
	python3 -c 'import sys, urllib.request
r = urllib.request.Request("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]),
    method=sys.argv[3] if len(sys.argv) > 3 else "GET")
print(urllib.request.urlopen(r, timeout=5).read().decode())' "$port" "$@"
}

fleet_start() { # fleet_start ARRIVALS RATE SECONDS WINDOW: K shards in the background
	pids=""
	socks=""
	i=0
	while [ $i -lt $K ]; do
		cat >"$T/s$i.conf" <<CONF
workload = { model = "open"; arrivals = "$1"; rate = $2; seed = 7; workers = 1;
  shard = "$i/$K"; window = $4; };
targets = ( { name = "home"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$T/s$i.sock"; };
results = { dir = "$T/r$i"; interval = 1.0; };
CONF
		bg "$ARRIVALD" -c "$T/s$i.conf" -d "$3" 2>"$T/err$i"
		pids="$pids $!"
		socks="$socks -s $T/s$i.sock"
		i=$((i + 1))
	done
	for i in 0 1 2 3; do
		wait_for 10 test -S "$T/s$i.sock" || { echo "Bail out! shard $i did not start"; exit 1; }
	done
}
fleet_wait() { # every shard ends by itself and exits 0
	rc=0
	for p in $pids; do wait "$p" || rc=1; done
	return $rc
}
fleet_json() { # fleet_json OUT: every shard's stats, one JSON line each
	# shellcheck disable=SC2086
	"$ARRIVALCTL" -j $socks stats >"$1"
}
uptime_at_least() { # every shard has run this long
	fleet_json "$T/up.json" && python3 -c '
import json, sys
ups = [json.loads(l)["uptime"] for l in open(sys.argv[1])]
sys.exit(not (len(ups) == 4 and min(ups) >= float(sys.argv[2])))' "$T/up.json" "$1"
}
jtrue() { # jtrue FILE EXPR: EXPR over the object j is true
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not eval(sys.argv[2]))' "$1" "$2"
}
sut_elapsed_at_least() {
	sut_get /_stats | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["elapsed"] < float(sys.argv[1]))' "$1"
}

# snap OUT [reset]: every shard's stats and the target's /_stats, read
# within a few ms of each other by one process (and then a reset of the
# target), so that both ends see the same span
snap() {
	python3 - "$ARRIVALCTL" "$port" "$@" $socks <<'PY'
import json, subprocess, sys, urllib.request
ctl, port, out, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
reset = rest and rest[0] == "reset"
socks = rest[1:] if reset else rest
base = "http://127.0.0.1:%s" % port
fleet = subprocess.run([ctl, "-j"] + socks + ["stats"], capture_output=True,
                       text=True, timeout=10).stdout.splitlines()
truth = urllib.request.urlopen(base + "/_stats", timeout=5).read()
if reset:
    urllib.request.urlopen(urllib.request.Request(base + "/_reset", method="POST"), timeout=5)
json.dump({"fleet": [json.loads(l) for l in fleet], "truth": json.loads(truth)},
          open(out, "w"))
PY
}

# --- Poisson at 200/s in all, 50/s a shard: the fleet against the truth ---
# the target: 16 deterministic stations of 3 ms (U = 0.6 each), so that
# Q ~ 10 is mostly the target's own and the client's share of it is small
d=0.003; sut_start "$d,$d,$d,$d,$d,$d,$d,$d,$d,$d,$d,$d,$d,$d,$d,$d"
fleet_start poisson 200 6 4.0
snap "$T/f0.json" reset
wait_for 15 sut_elapsed_at_least 4.2
snap "$T/f1.json"
# shellcheck disable=SC2086
"$ARRIVALCTL" $socks stats >"$T/table" 2>&1
ok $? "arrivalctl with four sockets prints the fleet's stats"
fleet_wait
ok $? "the four shards end by themselves and exit 0"
sut_stop

python3 - "$T/f0.json" "$T/f1.json" >"$T/cmp" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
f0, f1, t = a["fleet"], b["fleet"], b["truth"]
out = {
    "shards": sorted(s["shard"] for s in f1),
    "sent": sum(s["sent"] for s in f1) - sum(s["sent"] for s in f0),
    "done": sum(s["completed"] for s in f1) - sum(s["completed"] for s in f0),
    "lambda": sum(s["lambda"] for s in f1), "X": sum(s["X"] for s in f1),
    "Q": sum(s["Q"] for s in f1), "targets": [s["rate_target"] for s in f1],
    "t_arrivals": t["arrivals"], "t_completions": t["completions"],
    "t_lambda": t["lambda"], "t_X": t["X"], "t_Q": t["Q"],
}
print(json.dumps(out))
PY
diag "fleet vs target: $(cat "$T/cmp")"
check "the four instances are shards 0/4 .. 3/4" \
	jtrue "$T/cmp" 'j["shards"] == ["0/4", "1/4", "2/4", "3/4"]'
check "every shard reports the fleet's rate_target, 200/s" \
	jtrue "$T/cmp" 'all(x == 200 for x in j["targets"])'
# the counters over the same span: the target counts what the fleet sent
# (~840 requests), give or take those on the way at either end
check "summed sent over the span = the target's arrivals within 2%" \
	jtrue "$T/cmp" 'abs(j["sent"] / j["t_arrivals"] - 1) < 0.02'
check "summed completed over the span = the target's completions within 2%" \
	jtrue "$T/cmp" 'abs(j["done"] / j["t_completions"] - 1) < 0.02'
# the estimates: a window of 4 s in steps of 0.4 s, so up to 10% of the
# spans differ (~80 requests: sd 1.1% of 800); 5%
check "summed lambda = the target's within 5%" \
	jtrue "$T/cmp" 'abs(j["lambda"] / j["t_lambda"] - 1) < 0.05'
check "summed X = the target's within 5%" \
	jtrue "$T/cmp" 'abs(j["X"] / j["t_X"] - 1) < 0.05'
# Q at the client is lambda times the client's response time, which holds
# the target's ~50 ms and the client's own time per request (loopback, the
# time to be scheduled, longer in a sanitizer build on a loaded machine):
# 5% plus lambda x 5 ms for the latter
check "summed Q = the target's within 5% + lambda x 5 ms" \
	jtrue "$T/cmp" 'abs(j["Q"] - j["t_Q"]) < 0.05 * j["t_Q"] + 200 * 0.005'
sed 's/^/# /' "$T/table"
python3 - "$T/table" >"$T/tcmp" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    w = line.split()
    if w and w[0] in ("lambda", "rate_target", "sent"):
        rows[w[0]] = [float(re.sub(r"/s$", "", x)) for x in w[1:]]
lam, tgt, sent = rows["lambda"], rows["rate_target"], rows["sent"]
ok = (len(lam) == 5 and abs(lam[4] - sum(lam[:4])) <= 0.02 * 4 and
      sent[4] == sum(sent[:4]) and tgt == [200.0] * 5)
print("ok" if ok else "bad: %s" % rows)
PY
check "the fleet column sums lambda and sent, and shows rate_target once (200, not 800): $(cat "$T/tcmp")" \
	grep -qx ok "$T/tcmp"

# --- the merged Poisson stream, against a light target: with ~10
# requests outstanding above, connections are opened as the load comes
# and their set-up time would blur the arrival instants the target logs
sut_start 0.0002
fleet_start poisson 200 8 4.0
fleet_wait
ok $? "a second Poisson fleet run ends by itself"
sut_stop
python3 "$top_srcdir/tests/stream.py" "$T/sut.log" --skip 0.5 --until 7.5 --rate 200 --bin 0.25 \
	--floor 0.0005 >"$T/st1"
n=$(json_get "$T/st1" 'j["n"]')
# 7 s at 200/s: 1400 arrivals, sd 37; 5 sd, plus 1% for start-up skew
check "merged arrivals in 7 s within Poisson bounds ($n, expect 1400)" \
	python3 -c "import sys; sys.exit(abs($n - 1400) > 5 * 37 + 14)"
ks=$(json_get "$T/st1" 'j["ks"]')
# Above a 0.5 ms floor (the target cannot resolve shorter gaps: it
# stamps an arrival when its event loop gets to it), by memorylessness
# the gaps less the floor are Exp(200) again: ~1270 of them, KS critical
# value 0.060 at alpha = 1e-4; scheduling jitter on a loaded machine
# adds a little, so 0.075.  Four copies of one stream would give ~0.75,
# a constant stream ~0.5
check "merged gaps are Exp(200): KS distance $ks above a 0.5 ms floor" \
	python3 -c "import sys; sys.exit(not $ks < 0.075)"
disp=$(json_get "$T/st1" 'j["dispersion"]')
# 28 bins of 250 ms: the dispersion index of Poisson counts has sd 0.27;
# four copies of one stream would give 4
check "merged counts per 250 ms are Poisson: dispersion index $disp" \
	python3 -c "import sys; sys.exit(not 0.2 < $disp < 2.2)"

# --- constant at 40/s in all, then set rate 80 (gaps of 25 and 12.5 ms:
# wide enough that a loaded machine's late timers stay inside the band) ---
# evenness: the share of merged gaps within 40% of 1/rate.  Interleaved
# evenly nearly all are (jitter is ~0.1 ms of 5-10 ms, a few ms on a
# loaded machine only now and then); four streams at random phases are
# spaced like 4 uniform points on a circle, of which only ~34% fall there
# ((0.85)^3 - (0.65)^3), and 70% needs 3 of the 4 spacings right
even() { # even LOG RATE FROM_S UNTIL_S
	python3 - "$@" <<'PY'
import sys
path, rate, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
t = sorted(int(l.split()[0]) / 1e9 for l in open(path) if l.strip())
t = [x for x in t if t[0] + a <= x < t[0] + b]
g = [y - x for x, y in zip(t, t[1:])]
m = sum(g) / len(g)
cv = (sum((x - m) ** 2 for x in g) / len(g)) ** 0.5 / m
near = sum(abs(x * rate - 1) < 0.4 for x in g) / len(g)
print("%.4f %.1f %.3f" % (near, len(g) / (t[-1] - t[0]), cv))
PY
}
sut_start 0.0002
fleet_start constant 40 8 2.0
wait_for 15 uptime_at_least 3
set_at=$(python3 -c 'import time; print(time.monotonic_ns())')
# shellcheck disable=SC2086
"$ARRIVALCTL" $socks set rate 80 >"$T/setrate" 2>&1
ok $? "set rate 80 to the four sockets"
wait_for 15 uptime_at_least 6
fleet_json "$T/f2.json"
fleet_wait
ok $? "the constant-rate shards end by themselves and exit 0"
sut_stop
# 2 s at 20/s a shard, evenly spaced: within 40%
check "every shard reports the fleet's rate_target 80 and its own lambda near 20" \
	python3 -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
print("# " + " ".join("%s: target %g lambda %.1f" % (x["shard"], x["rate_target"], x["lambda"]) for x in s))
sys.exit(not (len(s) == 4 and all(x["rate_target"] == 80 and abs(x["lambda"] - 20) < 8 for x in s)))' "$T/f2.json"
awk -v t="$set_at" '$1 < t' "$T/sut.log" >"$T/before.log"
awk -v t="$set_at" '$1 >= t + 100000000' "$T/sut.log" >"$T/after.log"
set -- $(even "$T/before.log" 40 0.5 100)
diag "before set rate: $1 of gaps within 40% of 25 ms, rate $2/s, CV $3"
check "merged constant rate is 40/s ($2)" python3 -c "import sys; sys.exit(abs($2 - 40) > 1.5)"
check "the four shards interleave evenly: $1 of the gaps within 40% of 1/40 s" \
	python3 -c "import sys; sys.exit(not $1 > 0.6)"
set -- $(even "$T/after.log" 80 0 3.5)
diag "after set rate 80: $1 of gaps within 40% of 12.5 ms, rate $2/s, CV $3"
check "after set rate 80 the merged rate is 80/s ($2)" python3 -c "import sys; sys.exit(abs($2 - 80) > 3)"
check "and they interleave evenly again: $1 of the gaps within 40% of 1/80 s" \
	python3 -c "import sys; sys.exit(not $1 > 0.6)"
done_testing
