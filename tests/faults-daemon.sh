#!/bin/sh
# faults-daemon.sh: faults at arrivald itself.  Out of descriptors, the
# requests fail as "fd" while the control socket still answers, and
# completions come back when the rate drops.  The control socket under
# abuse (1,000 clients in and out, a watcher that never reads, oversize
# lines, binary garbage) keeps answering while the rate at the target
# holds.  100 SIGHUPs in a second leave it running with no descriptor
# leaked; a broken config, a directory or a missing file on reload is
# logged and the old config keeps running.  SIGTERM gives complete
# results; kill -9 leaves every finished interval in timeseries.csv.  A
# results directory that cannot be made, or files at the size limit,
# are logged while the load and the stats go on.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
[ -d /proc/self/fd ] || skip_all "no /proc"
# the interpreter itself, not a version manager's shim: it is run often
PY=$(python3 -c 'import sys; print(sys.executable)')
python3() { "$PY" "$@"; }

S=$T/ctl.sock
ctl() { "$ARRIVALCTL" -s "$S" -j "$@"; }
stat_of() { # stat_of EXPR: a python expression over the stats object j
	ctl stats | json_get - "$1"
}
stat_is() { # stat_is EXPR: true when EXPR over the stats object holds
	[ "$(stat_of "$1")" = True ]
}
nfds() { # nfds PID: its open descriptors, the least over 0.3 s, so that a
	# control connection whose client has just gone is not counted
	python3 -c 'import os, sys, time
n = []
for i in range(15):
    n.append(len(os.listdir("/proc/%s/fd" % sys.argv[1]))); time.sleep(0.02)
print(min(n))' "$1"
}
quietly() { "$@" >/dev/null; }

conf() { # conf FILE URL RATE [WORKLOAD-EXTRA] [RESULTS-DIR]
	cat >"$1" <<CONF
workload = { model = "open"; arrivals = "poisson"; rate = $3; seed = 23; workers = 2;
  drain = 2.0; ${4:-} };
targets = ( { name = "t"; url = "$2"; } );
control = { socket = "$S"; };
results = { dir = "${5:-$T/results}"; interval = 0.25; };
CONF
}

start() { # start CONF ERRFILE [ARGS]: arrivald in the background, pid in $d
	c=$1 e=$2; shift 2
	bg "$ARRIVALD" -c "$c" "$@" 2>"$e"
	d=$!
	wait_for 10 test -S "$S" || { echo "Bail out! arrivald did not start"; sed "s/^/# /" "$e"; exit 1; }
}

finish() { # finish DESC: stop arrivald, which exits 0
	ctl stop >/dev/null
	wait "$d"
	ok $? "$1"
}

port=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.0005 -e det -s 7
sut=$!
wait_for 10 port_open "$port" || { echo "Bail out! arrival-sut did not start"; exit 1; }
URL=http://127.0.0.1:$port/

# --- 1. out of descriptors ---------------------------------------------
# 64 descriptors; no keep-alive; half the requests are held unanswered
# until the 1 s timeout, so 200/s needs ~100 sockets at once
hport=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$hport" -d 0.0005 -e det -s 7 -x hang=0.5
hang=$!
wait_for 10 port_open "$hport" || { echo "Bail out! arrival-sut did not start"; exit 1; }
conf "$T/fd.conf" "http://127.0.0.1:$hport/" 200 "keepalive = false; timeout = 1.0;"
bg sh -c 'ulimit -n 64 && exec "$@"' sh "$ARRIVALD" -c "$T/fd.conf" -d 20 2>"$T/err.fd"
d=$!
wait_for 10 test -S "$S" || { echo "Bail out! arrivald did not start"; exit 1; }
check "fd: with 64 descriptors, requests fail as \"fd\"" \
	wait_for 10 stat_is 'j["failures"]["fd"] > 0'
# round trips on fresh connections while short of descriptors
python3 - "$S" >"$T/fd-rtt.json" <<'PY'
import json, socket, sys, time
rtt = []
for i in range(10):
    s = socket.socket(socket.AF_UNIX); s.settimeout(10)
    t0 = time.monotonic(); s.connect(sys.argv[1]); s.sendall(b"stats\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(65536)
        if not d: break
        buf += d
    rtt.append(time.monotonic() - t0); s.close()
    assert json.loads(buf)["ok"]
    time.sleep(0.05)
print(json.dumps({"rtt": rtt}))
PY
ok $? "fd: the control socket answers 10 of 10 stats while short of descriptors"
check "fd: each within 250 ms (worst $(json_get "$T/fd-rtt.json" 'round(max(j["rtt"]) * 1000)') ms)" \
	json_get "$T/fd-rtt.json" 'exit(not max(j["rtt"]) < 0.25)'
check "fd: set rate 10 is accepted" quietly ctl set rate 10
# at 10/s ~5 sockets are held: once the old ones time out, no more "fd"
check "fd: in flight falls once the rate is down" wait_for 10 stat_is 'j["in_flight"] < 15'
fd0=$(stat_of 'j["failures"]["fd"]')
c0=$(stat_of 'j["completed"]')
check "fd: completions resume" wait_for 10 stat_is "j['completed'] >= $c0 + 10"
check "fd: no request is short of a descriptor at 10/s" stat_is "j['failures']['fd'] == $fd0"
finish "fd: arrivald exits 0"
check "fd: summary.json counts the fd failures, as failures.csv does" python3 - "$T/results/latest" <<'PY'
import csv, json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))["totals"]
n = sum(int(r["count"]) for r in csv.DictReader(open(sys.argv[1] + "/failures.csv")) if r["reason"] == "fd")
sys.exit(not (s["failures"].get("fd", 0) > 0 and n == s["failures"]["fd"]))
PY
kill "$hang"; wait "$hang" 2>/dev/null

# --- 2. the control socket under abuse -----------------------------------
# a target of its own, whose request log is the rate's ground truth
lport=$(free_port)
bg "$ARRIVAL_SUT" -l "127.0.0.1:$lport" -d 0.0005 -e det -s 7 -L "$T/sut.log"
lsut=$!
wait_for 10 port_open "$lport" || { echo "Bail out! arrival-sut did not start"; exit 1; }
conf "$T/a.conf" "http://127.0.0.1:$lport/" 200
start "$T/a.conf" "$T/err.abuse" -d 7
python3 - "$S" >"$T/abuse.tap" <<'PY'
import json, random, socket, sys, time
path = sys.argv[1]
end = time.monotonic() + 30              # bounded whatever happens
def conn():
    s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(path); return s
def line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(65536)
        if not d: break
        buf += d
    return buf
def say(ok, msg): print(("ok" if ok else "not ok") + " - abuse: " + msg)
def stats_ok():
    s = conn(); s.sendall(b"stats\n"); j = json.loads(line(s)); s.close()
    return j["ok"] and j["sent"] > 0
# a watcher that never reads
lazy = conn(); lazy.sendall(b"watch 0.1\n")
# 1,000 clients in and out, 50 at a time; a third say "stats" and go unread
n = 0
while n < 1000 and time.monotonic() < end:
    batch = []
    for i in range(50):
        s = conn(); batch.append(s)
        if (n + i) % 3 == 0: s.sendall(b"stats\n")
    for s in batch: s.close()
    n += 50
say(n == 1000 and stats_ok(), "1,000 clients came and went; stats still answered")
# oversize: 5,000 bytes and a newline gets an error line, then the close
s = conn(); s.sendall(b"a" * 5000 + b"\n")
reply = line(s)
j = json.loads(reply) if reply else {}
rest = s.recv(100)
say(j.get("ok") is False and rest == b"", "a 5,000-byte line: error %r, then closed" % j.get("error"))
s.close()
# oversize without any newline, 64 KB
s = conn(); s.sendall(b"b" * 65536)
reply = line(s); j = json.loads(reply) if reply else {}
say(j.get("ok") is False, "64 KB without a newline: error %r" % j.get("error"))
s.close()
# binary garbage, one line: an error reply, and the connection stays usable
rng = random.Random(1)
g = bytes(rng.choice([b for b in range(256) if b != 10]) for _ in range(1000))
s = conn(); s.sendall(g + b"\n")
j1 = json.loads(line(s))
s.sendall(b"\x00\xff\xfe\n")
j2 = json.loads(line(s))
s.sendall(b"stats\n")
j3 = json.loads(line(s))
say(j1["ok"] is False and j2["ok"] is False and j3["ok"] is True,
    "binary garbage gets error replies (%r) and the connection still serves stats" % j1["error"])
s.close()
t0 = time.monotonic(); good = stats_ok(); dt = time.monotonic() - t0
say(good and dt < 0.25, "stats on a fresh connection after it all (%.1f ms)" % (dt * 1000))
lazy.close()
PY
while read -r st rest; do
	case $st in ok) ok 0 "${rest#*- }";; *) ok 1 "${rest#*- }";; esac
done <"$T/abuse.tap"
check "abuse: the daemon is alive" kill -0 "$d"
wait "$d"
ok $? "abuse: arrivald exits 0 at the end of its 7 s"
kill -TERM "$lsut"; wait "$lsut" 2>/dev/null  # its log is whole once it has gone
# the rate at the target meanwhile, from its own log: 1..6 s, 1000 at 200/s, sd 31.6
python3 "$top_srcdir/tests/stream.py" "$T/sut.log" --skip 1 --until 6 --rate 200 >"$T/abuse-stream.json"
n=$(json_get "$T/abuse-stream.json" 'j["n"]')
check "abuse: the target saw $n arrivals in 5 s, within 5 sd of 1000" \
	python3 -c "import sys; sys.exit(not abs($n - 1000) < 5 * 31.6)"

# --- 3. 100 SIGHUPs in a second, then broken reloads ----------------------
conf "$T/h.conf" "$URL" 100 "keepalive = false;"
start "$T/h.conf" "$T/err.hup" -d 40
quiet() { # quiet: paused and nothing in flight
	ctl pause >/dev/null && wait_for 10 stat_is 'j["in_flight"] == 0'
}
check "hup: paused with nothing in flight" quiet
fds0=$(nfds "$d")
ctl resume >/dev/null
python3 -c '
import os, signal, sys, time
for i in range(100):
    os.kill(int(sys.argv[1]), signal.SIGHUP); time.sleep(0.01)' "$d"
ok $? "hup: 100 SIGHUPs sent in a second"
check "hup: alive and answering, rate 100" wait_for 10 stat_is 'j["rate_target"] == 100 and j["state"] == "running"'
# signals pending together are delivered once: at least 10 distinct reloads
n=$(grep -c "configuration in force" "$T/err.hup")
check "hup: $n reloads done" test "$n" -ge 10
check "hup: paused again with nothing in flight" quiet
fds1=$(nfds "$d")
check "hup: no descriptor leaked ($fds0 before, $fds1 after)" test "$fds0" -eq "$fds1"
ctl resume >/dev/null
# a broken file: rate on line 1 is negative
sed 's/rate = 100;/rate = -5;/' "$T/h.conf" >"$T/h.bad"
cp "$T/h.conf" "$T/h.good"
cp "$T/h.bad" "$T/h.conf"
kill -HUP "$d"
check "hup: a broken config is logged as FILE:LINE" wait_for 10 grep -q "$T/h.conf:1: .*rate" "$T/err.hup"
check "hup: the old config keeps running (rate 100)" stat_is 'j["rate_target"] == 100 and j["state"] == "running"'
rm "$T/h.conf"
kill -HUP "$d"
check "hup: a missing config is logged" wait_for 10 grep -q "$T/h.conf.*No such file" "$T/err.hup"
mkdir "$T/h.conf"
ctl reload >/dev/null 2>"$T/reload.err"
ok $((! $?)) "hup: a directory in its place: reload fails"
check "hup: ... and says why" grep -q "h.conf.*directory" "$T/reload.err"
check "hup: the old config still runs (rate 100)" stat_is 'j["rate_target"] == 100 and j["state"] == "running"'
check "hup: after all that the daemon is alive" kill -0 "$d"
rmdir "$T/h.conf"
sed 's/rate = 100;/rate = 150;/' "$T/h.good" >"$T/h.conf"
check "hup: a good config is taken again" quietly ctl reload
check "hup: its rate is in force (150)" stat_is 'j["rate_target"] == 150'
finish "hup: arrivald exits 0"

# --- 4. SIGTERM mid-run -------------------------------------------------
conf "$T/a.conf" "$URL" 200 "" "$T/term"
start "$T/a.conf" "$T/err.term" -d 30
wait_for 10 stat_is 'j["uptime"] >= 1.5'
kill -TERM "$d"
wait "$d"
ok $? "term: SIGTERM mid-run: arrivald exits 0"
check "term: summary.json and timeseries.csv complete and consistent" python3 - "$T/term/latest" <<'PY'
import csv, json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
rows = list(csv.reader(open(d + "/timeseries.csv")))
assert rows[0] == "t,rate_target,lambda,X,Q,R,p50,p90,p99,max,N,Z,in_flight,sent,completed,failed,dropped".split(",")
assert len(rows) >= 7 and all(len(r) == 17 for r in rows)
done = 0
for r in rows[1:]:
    [float(x) for x in r[:5] + r[12:]]
    # R and the percentiles are numbers where something completed in the
    # interval and empty where nothing did (say, a last short interval
    # with nothing in flight at the signal)
    if int(r[14]) > done:
        [float(x) for x in r[5:10]]
    else:
        assert all(x == "" for x in r[5:10]), r
    done = int(r[14])
t = s["totals"]
assert int(rows[-1][13]) == t["sent"] and t["sent"] > 200
assert t["completed"] + t["failed"] == t["sent"] and t["in_flight"] == 0
assert s["duration"] < 10
PY

# --- 5. kill -9 mid-run ---------------------------------------------------
conf "$T/a.conf" "$URL" 200 "" "$T/kill"
start "$T/a.conf" "$T/err.kill" -d 30
wait_for 10 stat_is 'j["uptime"] >= 2.6'
up=$(stat_of 'j["uptime"]')
kill -KILL "$d"
wait "$d" 2>/dev/null
rm -f "$S"
check "kill -9: timeseries.csv holds every finished interval, each row whole (uptime $up s)" \
	python3 - "$T/kill/latest/timeseries.csv" "$up" <<'PY'
import csv, sys
text = open(sys.argv[1]).read()
assert text.endswith("\n")
rows = list(csv.reader(text.splitlines()))[1:]
due = int(float(sys.argv[2]) / 0.25)
print("# %d rows, %d intervals due" % (len(rows), due))
assert due - 1 <= len(rows) <= due + 2
assert all(len(r) == 17 for r in rows)
[float(r[0]) for r in rows]
PY

# --- 6. results that cannot be written ----------------------------------
# The results directory's parent is a regular file: mkdir fails with
# ENOTDIR, for root too
: >"$T/plain"
conf "$T/a.conf" "$URL" 100 "" "$T/plain/results"
start "$T/a.conf" "$T/err.nodir" -d 3
check "nodir: the error is logged" wait_for 10 grep -q "results: cannot create $T/plain/results.*Not a directory" "$T/err.nodir"
check "nodir: stats on the socket, load going" wait_for 10 stat_is 'j["sent"] > 20 and j["completed"] > 20'
wait "$d"
ok $? "nodir: arrivald exits 0"
check "nodir: the file is left as it was" test -f "$T/plain" -a ! -s "$T/plain"

# Files at the size limit (RLIMIT_FSIZE 1000 bytes: a full disk, as far
# as a writer can tell, even for root).  stderr goes through a pipe,
# which the limit does not cover; SIGXFSZ is back to its default, as a
# service manager would leave it.
mkfifo "$T/errpipe"
bg sh -c 'exec cat "$1" >"$2"' sh "$T/errpipe" "$T/err.fsize"
cat=$!
conf "$T/a.conf" "$URL" 100 "" "$T/fsize"
bg python3 -c '
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_DFL); signal.signal(signal.SIGPIPE, signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
os.execv(sys.argv[1], sys.argv[1:])' "$ARRIVALD" -c "$T/a.conf" -d 6 2>"$T/errpipe"
d=$!
wait_for 10 test -S "$S" || { echo "Bail out! arrivald did not start"; exit 1; }
check "fsize: a full results file is logged" wait_for 10 grep -q "results: cannot write .*File too large" "$T/err.fsize"
s0=$(stat_of 'j["sent"]')
check "fsize: the load goes on after it, stats on the socket" wait_for 10 stat_is "j['sent'] > $s0 + 20"
wait "$d"
ok $? "fsize: arrivald exits 0 (not killed by SIGXFSZ)"
wait "$cat"
n=$(grep -c "results: cannot write" "$T/err.fsize")
check "fsize: said once, not every interval ($n)" test "$n" -eq 1
check "fsize: the run's end is logged" grep -q "done: sent" "$T/err.fsize"

kill -TERM "$sut"; wait "$sut" 2>/dev/null
done_testing
