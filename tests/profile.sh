#!/bin/sh
# profile.sh: rate profiles end to end against arrival-sut -L.  The counts
# per interval at the target follow the integral of lambda(t) (Pearson
# chi-square at a fixed significance of 1e-4, fixed seeds: the schedule is
# the same every run, only its timing jitter is not); scale multiplies the
# rates; end = "stop" ends the run by itself; "hold" holds the last rate;
# "loop" repeats; set profile switches while running and stats shows it;
# set profile off holds the rate; bad files are refused with FILE:LINE by
# arrivald -t and by set profile; in the closed model N/Z follows the
# profile at fixed N; a profile made by profile-from-log from a synthetic
# access log replays the log's shape.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
FIT=$top_srcdir/tests/profile/fit.py
port=$(free_port)

sut_start() {
	rm -f "$T/sut.log"
	bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0002 -e det -s 1 -L "$T/sut.log"
	sut=$!
	wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }
}
sut_stop() {
	kill -TERM "$sut"; wait "$sut" 2>/dev/null
}
conf() { # conf MODEL PROFILE-GROUP [WORKLOAD-EXTRA]
	cat >"$T/p.conf" <<CONF
workload = { model = "$1"; arrivals = "poisson"; seed = 5; workers = 1; window = 1.0; ${3:-} };
profile = { $2 };
targets = ( { name = "home"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; interval = 1.0; };
CONF
}
fit() { # fit PROFILE SPEED SCALE END BIN FROM UNTIL: JSON into $T/fit
	python3 "$FIT" "$T/sut.log" "$@" >"$T/fit"
	diag "fit: $(cat "$T/fit")"
}
jtrue() { # jtrue FILE EXPR
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not eval(sys.argv[2]))' "$1" "$2"
}
stats() { "$ARRIVALCTL" -s "$T/ctl.sock" -j stats >"$T/stats.json"; }

# --- a replay at speed 5 and scale 2, end = "stop", no duration ---
# 30 s of profile: 100/s, up to 400/s at 10 s, down to 100/s at 20 s,
# held to 30 s; at speed 5 it plays in 6 s, and at scale 2 it is 2400
# arrivals (1200 without the scale: 20 sd away)
cat >"$T/shape.csv" <<'CSV'
t_seconds,rate
0,100
10,400
20,100
30,100
CSV
sut_start
conf open 'file = "'"$T"'/shape.csv"; speed = 5.0; scale = 2.0; end = "stop";'
# a bound on the wait: the run ends by itself or the test fails
timeout 30 "$ARRIVALD" -c "$T/p.conf" 2>"$T/err1"
ok $? "a profile with end = stop and no duration ends the run by itself (exit 0)"
check "the log says the profile ended the run" grep -q 'stopping (the profile ended)' "$T/err1"
sut_stop
fit "$T/shape.csv" 5 2 stop 0.5 0 6
# 12 bins of 0.5 s with means 70 to 400: the chi-square approximation holds
check "counts per 0.5 s follow the integral of lambda(t): chi-square p > 1e-4" \
	jtrue "$T/fit" 'j["p"] > 1e-4'
check "scale 2 doubles the arrivals: $(json_get "$T/fit" 'j["n"]') for 2400 expected" \
	jtrue "$T/fit" 'abs(j["n"] - 2400) < 5 * 2400 ** 0.5'
python3 "$FIT" "$T/sut.log" "$T/shape.csv" 5 2 stop 0.5 6.1 8 >"$T/fit2"
check "no arrivals after the profile's end" jtrue "$T/fit2" 'j["n"] == 0'

# --- end = "hold": the last rate holds past the profile's end, and the
# run lasts its duration ---
printf '0,50\n1,200\n' >"$T/hold.csv"
sut_start
conf open 'file = "'"$T"'/hold.csv"; end = "hold";'
"$ARRIVALD" -c "$T/p.conf" -d 4 2>"$T/err2"
ok $? "a held profile runs its duration and exits 0"
sut_stop
fit "$T/hold.csv" 1 1 hold 0.5 0 3.5
check "held: counts per 0.5 s follow the profile, then 200/s held: chi-square p > 1e-4" \
	jtrue "$T/fit" 'j["p"] > 1e-4'
check "held: 1.5 s after the end at 200/s ($(json_get "$T/fit" 'sum(j["counts"][4:])') for 300)" \
	jtrue "$T/fit" 'abs(sum(j["counts"][4:]) - 300) < 5 * 300 ** 0.5'

# --- loop: a 1 s triangle repeated ---
printf '0,0\n0.5,400\n1,0\n' >"$T/loop.csv"
sut_start
conf open 'file = "'"$T"'/loop.csv"; loop = true;'
"$ARRIVALD" -c "$T/p.conf" -d 3.5 2>"$T/err3"
ok $? "a looping profile runs its duration and exits 0"
sut_stop
# the first arrival comes late in a rising ramp: allow it up to 0.5 s
python3 "$FIT" "$T/sut.log" "$T/loop.csv" 1 1 loop 0.25 0 3 --offset-from 0.5 >"$T/fit"
diag "fit: $(cat "$T/fit")"
check "loop: counts per 0.25 s rise and fall every second: chi-square p > 1e-4" \
	jtrue "$T/fit" 'j["p"] > 1e-4'
check "loop: three periods of 200 arrivals ($(json_get "$T/fit" 'j["n"]'))" \
	jtrue "$T/fit" 'abs(j["n"] - 600) < 5 * 600 ** 0.5'

# --- set profile while running; stats; set profile off; bad files ---
printf '0,20\n' >"$T/flat.csv"
printf 't,rate\n0,100\n10,300\n' >"$T/ramp.csv"
printf '0,10\n5,20\n4,30\n' >"$T/back.csv"
printf '0,10\n1,-5\n' >"$T/neg.csv"
printf '# nothing here\n\n' >"$T/empty.csv"
sut_start
conf open 'file = "'"$T"'/flat.csv"; end = "hold";'
bg "$ARRIVALD" -c "$T/p.conf" -d 20
d=$!
wait_for 10 test -S "$T/ctl.sock" || { echo "Bail out! arrivald did not start"; exit 1; }
stats
check "stats shows the configured profile" jtrue "$T/stats.json" \
	'j["profile"]["file"].endswith("flat.csv") and j["profile"]["rate"] == 20'
"$ARRIVALCTL" -s "$T/ctl.sock" set profile "$T/ramp.csv" speed 10 scale 2 >/dev/null
ok $? "set profile FILE speed 10 scale 2 while running"
stats
diag "$(json_get "$T/stats.json" "(j[\"rate_target\"], j[\"profile\"])")"
check "stats: profile {file, position, rate} of the new profile; rate_target follows it" \
	jtrue "$T/stats.json" '(j["profile"]["file"].endswith("ramp.csv") and 0 <= j["profile"]["position"] < 1 and
	  abs(j["profile"]["rate"] - 2 * (100 + 200 * j["profile"]["position"])) < 1 and
	  abs(j["rate_target"] - j["profile"]["rate"]) < 5)'
wait_for 10 sh -c '"$1" -s "$2" -j stats | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)[\"profile\"][\"position\"] < 0.5)"' \
	- "$ARRIVALCTL" "$T/ctl.sock"
"$ARRIVALCTL" -s "$T/ctl.sock" set profile off >/dev/null
ok $? "set profile off"
stats
cp "$T/stats.json" "$T/off1.json"
wait_for 10 sh -c '"$1" -s "$2" -j stats | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)[\"uptime\"] < float(sys.argv[1]))" "$3"' \
	- "$ARRIVALCTL" "$T/ctl.sock" "$(json_get "$T/off1.json" 'j["uptime"] + 1.5')"
stats
check "profile off: no profile in stats, the rate it had reached holds" \
	python3 -c 'import json,sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(not (a["profile"] is None and b["rate_target"] == a["rate_target"] and 390 < a["rate_target"] < 600.001))' \
	"$T/off1.json" "$T/stats.json"
for bad in back:3 neg:2 empty:2; do
	f=${bad%:*}
	"$ARRIVALCTL" -s "$T/ctl.sock" -j set profile "$T/$f.csv" >"$T/reply" 2>&1
	rc=$?
	check "set profile $f.csv: error reply naming $f.csv:${bad#*:}" \
		sh -c 'test "$1" -ne 0 && grep -q "$2" "$3"' - "$rc" "$f.csv:${bad#*:}" "$T/reply"
	conf open 'file = "'"$T"'/'"$f"'.csv";'
	"$ARRIVALD" -t -c "$T/p.conf" >/dev/null 2>"$T/terr"
	rc=$?
	check "arrivald -t refuses $f.csv with FILE:LINE ($(head -c 120 "$T/terr"))" \
		sh -c 'test "$1" -eq 1 && grep -q "$2" "$3"' - "$rc" "$f.csv:${bad#*:}" "$T/terr"
done
"$ARRIVALCTL" -s "$T/ctl.sock" stop >/dev/null
wait "$d"
ok $? "the daemon stops cleanly after refusing bad profiles"
sut_stop

# --- the closed model: N fixed, Z = N / lambda(t) ---
printf '0,100\n4,400\n' >"$T/closed.csv"
sut_start
conf closed 'file = "'"$T"'/closed.csv"; end = "hold";' 'users = 100; think = 1.0; autoscale = false;'
bg "$ARRIVALD" -c "$T/p.conf" -d 10
d=$!
wait_for 10 test -S "$T/ctl.sock" || { echo "Bail out! arrivald did not start"; exit 1; }
wait_for 10 sh -c '"$1" -s "$2" -j stats | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)[\"uptime\"] < 2)"' \
	- "$ARRIVALCTL" "$T/ctl.sock"
stats
cp "$T/stats.json" "$T/c1.json"
wait_for 10 sh -c '"$1" -s "$2" -j stats | python3 -c "import json,sys; sys.exit(json.load(sys.stdin)[\"uptime\"] < 5.5)"' \
	- "$ARRIVALCTL" "$T/ctl.sock"
stats
"$ARRIVALCTL" -s "$T/ctl.sock" stop >/dev/null
wait "$d"
ok $? "a closed run with a profile stops cleanly"
sut_stop
for f in c1 stats; do
	diag "$f: $(json_get "$T/$f.json" "(j[\"rate_target\"], j[\"N\"], j[\"Z\"], j[\"profile\"])")"
	check "closed ($f): rate_target follows the profile, N stays 100, Z = N / rate_target" \
		jtrue "$T/$f.json" '(abs(j["rate_target"] - (100 + 75 * min(j["profile"]["position"], 4))) < 3 and
		  j["N"] == 100 and abs(j["Z"] - 100 / j["rate_target"]) < 1e-6)'
done
# at 5.5 s the held 400/s: the users' own measured rate follows (1 s window)
check "closed: lambda follows N/Z up to the held 400/s ($(json_get "$T/stats.json" 'j["lambda"]'))" \
	jtrue "$T/stats.json" 'abs(j["lambda"] - 400) < 5 * 20'

# --- profile-from-log: a synthetic access log's shape, replayed ---
# 10 minutes of log in 60 s intervals: 60, 120, 240, 120, 60, 60, 180,
# 360, 180, 60 requests; replayed at speed 100 and scale 100 (the counts
# per replayed interval are the log's), 6 s
python3 - "$T/access.log" <<'PY'
import random, sys, time
random.seed(42)
counts = [60, 120, 240, 120, 60, 60, 180, 360, 180, 60]
t0 = 1262304000  # 2010-01-01T00:00:00Z
lines = []
for i, c in enumerate(counts):
    for _ in range(c):
        t = t0 + 60 * i + random.random() * 60
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S", time.gmtime(t))
        lines.append("10.0.0.%d - - [%s +0000] \"GET /x HTTP/1.1\" 200 12 \"-\" \"t\"\n"
                     % (random.randrange(256), stamp))
random.shuffle(lines)
open(sys.argv[1], "w").writelines(lines)
PY
"$ARRIVALCTL" profile-from-log --interval 60 -o "$T/log.csv" "$T/access.log" 2>"$T/lp.err"
ok $? "profile-from-log makes a profile from the synthetic log"
sut_start
conf open 'file = "'"$T"'/log.csv"; speed = 100.0; scale = 100.0; end = "stop";'
timeout 30 "$ARRIVALD" -c "$T/p.conf" 2>"$T/err5"
ok $? "its replay ends by itself"
sut_stop
fit "$T/log.csv" 100 100 stop 0.6 0 6
check "the replay's counts per 0.6 s follow the profile: chi-square p > 1e-4" \
	jtrue "$T/fit" 'j["p"] > 1e-4'
# the log's own shape: 100 x its counts per 0.6 s (sum 1440 x 100 / 100)
check "and the log's shape: chi-square against 100 x its counts per interval, p > 1e-4" \
	python3 -c 'import json, sys
sys.path.insert(0, sys.argv[2])
j = json.load(open(sys.argv[1]))
want = [c * 100 / 100.0 for c in [60, 120, 240, 120, 60, 60, 180, 360, 180, 60]]
chi2 = sum((c - m) ** 2 / m for c, m in zip(j["counts"], want))
exec(open(sys.argv[3]).read().split("def main")[0])
p = upper_gamma_q(9 / 2.0, chi2 / 2.0)
print("# chi2 %.1f on 9 df, p %.3g; counts %s" % (chi2, p, j["counts"]))
sys.exit(not p > 1e-4)' "$T/fit" "$top_srcdir/tests/profile" "$FIT"
done_testing
