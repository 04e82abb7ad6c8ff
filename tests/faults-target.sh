#!/bin/sh
# faults-target.sh: the target misbehaves, arrivald measures it and stays
# well.  A closed port is "refused"; a connection reset before the reply
# or in the middle of it is "reset"; a request never answered is
# "timeout"; a 500 is "http_5xx"; a mix of faults is counted by reason,
# each count equal to what arrival-sut says it injected and within the
# binomial bounds of its probability.  A target far slower than the rate
# fills the backlog: arrivals are dropped and counted, sent + dropped is
# the schedule's arrivals, memory stays flat and the control socket
# answers quickly throughout.  Every run exits 0 with its results.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
command -v curl >/dev/null || skip_all "curl not installed"
# the interpreter itself, not a version manager's shim: it is run often
PY=$(python3 -c 'import sys; print(sys.executable)')
python3() { "$PY" "$@"; }

conf() { # conf URL RATE [WORKLOAD-EXTRA] [TARGET-EXTRA]
	cat >"$T/a.conf" <<CONF
workload = { model = "open"; arrivals = "poisson"; rate = $2; seed = 17; workers = 2;
  drain = 3.0; ${3:-} };
targets = ( { name = "t"; url = "$1"; ${4:-} } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; interval = 0.5; };
CONF
}

sut_start() { # sut_start ARGS...: arrival-sut on a free port, in $port and $sut
	port=$(free_port)
	bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -s 5 "$@" 2>>"$T/sut.err"
	sut=$!
	wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }
}

sut_stop() { # sut_stop: its /_stats into $T/truth.json, then it goes
	curl -s "http://127.0.0.1:$port/_stats" >"$T/truth.json"
	kill -TERM "$sut"; wait "$sut" 2>/dev/null
}

# the results of the last run: reason counts from summary.json and from
# failures.csv, as one JSON object
outcome() {
	python3 - "$T/results/latest" <<'PY'
import csv, json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
csvsum = {}
for row in csv.DictReader(open(d + "/failures.csv")):
    csvsum[row["reason"]] = csvsum.get(row["reason"], 0) + int(row["count"])
rows = list(csv.reader(open(d + "/timeseries.csv")))
t = s["totals"]
print(json.dumps({"sent": t["sent"], "completed": t["completed"], "failed": t["failed"],
    "dropped": t["dropped"], "in_flight": t["in_flight"], "fail": t["failures"],
    "csv": csvsum, "rows": len(rows) - 1, "duration": s["duration"],
    "report": __import__("os").path.getsize(d + "/report.html")}))
PY
}

# run_fault NAME REASON URL RATE SECONDS [WORKLOAD-EXTRA] [TARGET-EXTRA]:
# every request fails with REASON; counted the same in summary.json and
# failures.csv; exit 0 with the results written
run_fault() {
	name=$1 reason=$2
	conf "$3" "$4" "${6:-}" "${7:-}"
	"$ARRIVALD" -c "$T/a.conf" -d "$5" 2>"$T/err.$name"
	rc=$?
	ok $rc "$name: arrivald exits 0"
	[ $rc -eq 0 ] || sed "s/^/# /" "$T/err.$name"
	outcome >"$T/o.$name" || { ok 1 "$name: results parse"; return; }
	sent=$(json_get "$T/o.$name" 'j["sent"]')
	n=$(json_get "$T/o.$name" 'j["fail"].get("'"$reason"'", 0)')
	# rate x seconds / 2 is many sd below the mean for these rates
	check "$name: every request ($sent) failed as $reason ($n)" \
		json_get "$T/o.$name" 'exit(not (j["sent"] >= '"$4 * $5 / 2"' and j["failed"] == j["sent"] == j["fail"]["'"$reason"'"] and j["completed"] == 0 and j["in_flight"] == 0))'
	check "$name: failures.csv counts the same by reason" \
		json_get "$T/o.$name" 'exit(j["csv"] != j["fail"])'
	check "$name: timeseries.csv and report.html written" \
		json_get "$T/o.$name" 'exit(not (j["rows"] >= '"$5"' and j["report"] > 1000))'
}

# 1. nothing listens
dead=$(free_port)
run_fault refused refused "http://127.0.0.1:$dead/" 50 2

# 2. the target resets every connection before answering
sut_start -d 0.001 -x reset=1
run_fault reset reset "http://127.0.0.1:$port/" 50 2
sut_stop
check "reset: the target saw each request once" \
	json_get "$T/truth.json" 'exit(j["arrivals"] != '"$sent"' or j["faults_reset"] != '"$sent"')'

# 3. the target answers half a reply, then closes (Content-Length: 100, 10 sent)
hport=$(free_port)
cat >"$T/half.py" <<'EOF'
import socket, sys, threading, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(128)
s.settimeout(1.0)
end = time.time() + 30            # bounded: gone after 30 s whatever happens
def serve(c):
    try:
        c.settimeout(2.0)
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = c.recv(4096)
            if not d:
                return
            buf += d
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    finally:
        c.close()
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
bg "$PY" "$T/half.py" "$hport"
half=$!
wait_for 10 port_open "$hport" || { echo "Bail out! half.py did not start"; exit 1; }
run_fault half-reply reset "http://127.0.0.1:$hport/" 30 2
kill "$half"; wait "$half" 2>/dev/null

# 4. the target holds every request unanswered; the target's timeout is 0.3 s
sut_start -d 0.001 -x hang=1
run_fault hang timeout "http://127.0.0.1:$port/" 50 2 "" "timeout = 0.3;"
sut_stop
check "hang: the target saw each request once" \
	json_get "$T/truth.json" 'exit(j["arrivals"] != '"$sent"')'

# 5. the target answers 500
sut_start -d 0.001 -x 5xx=1
run_fault 5xx http_5xx "http://127.0.0.1:$port/" 50 2
sut_stop

# 6. a mix on kept-alive connections: 20% 500s, 10% resets
sut_start -d 0.001 -x 5xx=0.2,reset=0.1
conf "http://127.0.0.1:$port/" 300 ""
"$ARRIVALD" -c "$T/a.conf" -d 3 2>"$T/err.mix"
ok $? "mix: arrivald exits 0"
sut_stop
outcome >"$T/o.mix"
python3 - "$T/o.mix" "$T/truth.json" >"$T/mix.tap" <<'PY'
import json, math, sys
o = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
n = o["sent"]; f = o["fail"]
def say(ok, msg): print(("ok" if ok else "not ok") + " - " + msg)
say(t["arrivals"] == n, "mix: one request at the target per request sent (%d, %d)" % (t["arrivals"], n))
say(f.get("http_5xx", 0) == t["faults_5xx"] and f.get("reset", 0) == t["faults_reset"],
    "mix: http_5xx %d and reset %d are the target's own counts (%d, %d)"
    % (f.get("http_5xx", 0), f.get("reset", 0), t["faults_5xx"], t["faults_reset"]))
# binomial: sd = sqrt(n p (1 - p)); 5 sd
for reason, p in (("http_5xx", 0.2), ("reset", 0.1)):
    k = f.get(reason, 0); sd = math.sqrt(n * p * (1 - p))
    say(n > 500 and abs(k - n * p) < 5 * sd,
        "mix: %s %d of %d within 5 sd (%.1f) of p = %g" % (reason, k, n, sd, p))
say(o["completed"] + o["failed"] == n and set(f) <= {"http_5xx", "reset"},
    "mix: completed + failed = sent, no other reason (%s)" % f)
say(o["csv"] == f, "mix: failures.csv counts the same by reason")
PY
while read -r st rest; do
	case $st in ok) ok 0 "${rest#*- }";; *) ok 1 "${rest#*- }";; esac
done <"$T/mix.tap"

# 7. a target far slower than the rate: one 50 ms FCFS station (20/s at
# most) under Poisson arrivals at 200/s, 4 in flight and a backlog of 20
sut_start -d 0.05 -e det
conf "http://127.0.0.1:$port/" 200 "max_in_flight = 4; backlog = 20;"
# (no quarantine of freed memory under AddressSanitizer, so that RSS
# shows what is live)
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0" \
	bg "$ARRIVALD" -c "$T/a.conf" -d 6 2>"$T/err.slow"
d=$!
wait_for 10 test -S "$T/ctl.sock" || { echo "Bail out! arrivald did not start"; exit 1; }
# 20 samples, one each 0.2 s from 1 s on: RSS, and a stats round trip
# on a fresh connection as arrivalctl makes it
python3 - "$T/ctl.sock" "$d" >"$T/slow.json" <<'PY'
import json, socket, sys, time
path, pid = sys.argv[1], sys.argv[2]
def rss():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
def stats():
    s = socket.socket(socket.AF_UNIX); s.settimeout(5)
    t0 = time.monotonic(); s.connect(path); s.sendall(b"stats\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(65536)
        if not d: break
        buf += d
    dt = time.monotonic() - t0; s.close()
    return dt, json.loads(buf)
while stats()[1]["uptime"] < 1.0:
    time.sleep(0.05)
out = {"rss": [], "rtt": [], "dropped": []}
for i in range(20):
    dt, j = stats()
    out["rtt"].append(dt); out["rss"].append(rss()); out["dropped"].append(j["dropped"])
    time.sleep(0.2)
print(json.dumps(out))
PY
wait "$d"
ok $? "slow target: arrivald exits 0"
sut_stop
rtt=$(json_get "$T/slow.json" 'round(max(j["rtt"]) * 1000, 1)')
check "slow target: stats answered within 100 ms each of 20 times (worst $rtt ms)" \
	json_get "$T/slow.json" 'exit(not (len(j["rtt"]) == 20 and max(j["rtt"]) < 0.1))'
check "slow target: dropped grows while the backlog is full" \
	json_get "$T/slow.json" 'exit(not (j["dropped"][0] > 0 and j["dropped"][-1] > j["dropped"][0] + 300))'
# nothing is allocated per dropped arrival: ~800 drops over the samples;
# a leaked request with its curl handle (~5 KB each) would pass 4 MB
grow=$(json_get "$T/slow.json" '(max(j["rss"]) - j["rss"][0]) // 1024')
check "slow target: RSS stays flat while dropping (grew $grow MB)" \
	json_get "$T/slow.json" 'exit(not max(j["rss"]) - j["rss"][0] < 4096)'
outcome >"$T/o.slow"
# 6 s at 200/s: 1200 arrivals, Poisson sd 34.6; 5 sd
check "slow target: sent + dropped is the schedule's arrivals ($(json_get "$T/o.slow" 'j["sent"] + j["dropped"]') of ~1200)" \
	json_get "$T/o.slow" 'exit(not abs(j["sent"] + j["dropped"] - 1200) < 5 * 34.6)'
# the station serves 20/s: sent is bounded by that, plus what was in flight and waiting
check "slow target: sent ($(json_get "$T/o.slow" 'j["sent"]')) is what the target could take" \
	json_get "$T/o.slow" 'exit(not (60 <= j["sent"] <= 6 * 20 + 4 + 20 + 5))'
check "slow target: the target saw exactly the requests sent" \
	json_get "$T/truth.json" 'exit(j["arrivals"] != '"$(json_get "$T/o.slow" 'j["sent"]')"')'
check "slow target: all sent completed, none failed" \
	json_get "$T/o.slow" 'exit(not (j["completed"] == j["sent"] and j["failed"] == 0))'
done_testing
