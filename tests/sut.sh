#!/bin/sh
# sut.sh: arrival-sut against its own queueing theory.  A small bounded
# load generator (python3, asyncio, keep-alive connections) drives it;
# the checks lean on what does not depend on the generator's timing:
# deterministic service gives exact departures, Little's law and the
# utilisation law hold exactly once everything has left, and service
# times recovered from the -L log are a fixed-seed sample to test by KS.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
command -v curl >/dev/null || skip_all "curl not installed"
# the interpreter itself, not a version manager's shim: it is run often
PY=$(python3 -c 'import sys; print(sys.executable)')
free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port_open() {
	"$PY" -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' "$1"
}

cat >"$T/load.py" <<'EOF'
# load.py MODE PORT ...: a bounded HTTP/1.1 load generator; prints JSON.
#   seq PORT N            N requests one after another on one connection
#                         (and the shortest round trip, min_rtt)
#   burst PORT N          N connections, then one request on each at once
#   pipe PORT N           N requests in one write on one connection, then
#                         one more once all are answered
#   close PORT            one request with "Connection: close"; eof: the
#                         server closed the connection after its reply
#   poisson PORT RATE N SEED   N requests, Poisson arrivals at RATE/s
import asyncio, json, random, sys, time

LIMIT = 30.0  # seconds: no run may take longer


async def connect(port):
    return await asyncio.open_connection("127.0.0.1", port)


async def request(conn, method="GET", path="/work"):
    """one exchange; method READ: only read a reply to what was sent"""
    r, w = conn
    if method != "READ":
        w.write(("%s %s HTTP/1.1\r\nHost: sut\r\nContent-Length: 0\r\n\r\n"
                 % (method, path)).encode())
    line = await r.readline()
    if not line:
        raise ConnectionError("closed")
    status = int(line.split()[1])
    length = 0
    while True:
        h = await r.readline()
        if h in (b"\r\n", b""):
            break
        k, _, v = h.decode().partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
    body = await r.readexactly(length) if method != "HEAD" else b""
    return status, body


def count(out, key):
    out[key] = out.get(key, 0) + 1


async def one(pool, port, out, timeout):
    conn = pool.pop() if pool else await connect(port)
    try:
        status, _ = await asyncio.wait_for(request(conn), timeout)
        pool.append(conn)
        count(out, str(status))
    except (ConnectionError, OSError, asyncio.IncompleteReadError,
            asyncio.TimeoutError, IndexError, ValueError):
        conn[1].close()
        count(out, "error")


async def main(argv):
    mode, port = argv[0], int(argv[1])
    out = {"sent": 0}
    t0 = time.monotonic()
    if mode == "seq":
        conn = await connect(port)
        for _ in range(int(argv[2])):
            out["sent"] += 1
            t = time.monotonic()
            status, _ = await request(conn)
            rtt = time.monotonic() - t
            out["min_rtt"] = min(out.get("min_rtt", rtt), rtt)
            count(out, str(status))
    elif mode == "pipe":
        n = int(argv[2])
        conn = await connect(port)
        conn[1].write(b"GET /p HTTP/1.1\r\nHost: sut\r\n\r\n" * n)
        out["sent"] = n + 1
        for _ in range(n):
            status, body = await request(conn, "READ")
            count(out, str(status))
            out["bodies_ok"] = out.get("bodies_ok", 0) + (body == b"ok\n")
        status, _ = await request(conn)
        count(out, str(status))
    elif mode == "close":
        r, w = await connect(port)
        w.write(b"GET /c HTTP/1.1\r\nHost: sut\r\nConnection: close\r\n\r\n")
        out["sent"] = 1
        status, _ = await request((r, w), "READ")
        count(out, str(status))
        out["eof"] = await r.read(1) == b""
    elif mode == "burst":
        n = int(argv[2])
        conns = [await connect(port) for _ in range(n)]
        t0 = time.monotonic()
        tasks = [asyncio.ensure_future(request(c)) for c in conns]
        out["sent"] = n
        for status, _ in await asyncio.gather(*tasks):
            count(out, str(status))
    elif mode == "poisson":
        rate, n, rng = float(argv[2]), int(argv[3]), random.Random(int(argv[4]))
        timeout = float(argv[5]) if len(argv) > 5 else 5.0
        pool, tasks, due = [], [], time.monotonic()
        t0 = due
        for _ in range(n):
            due += rng.expovariate(rate)
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            out["sent"] += 1
            tasks.append(asyncio.ensure_future(one(pool, port, out, timeout)))
        await asyncio.gather(*tasks)
    out["elapsed"] = time.monotonic() - t0
    print(json.dumps(out))

asyncio.run(asyncio.wait_for(main(sys.argv[1:]), LIMIT))
EOF

load() { "$PY" "$T/load.py" "$@" >"$T/run.json"; }
status() { curl -s -o /dev/null -w '%{http_code}' -X "$2" "http://127.0.0.1:$1$3"; }
stats() { curl -s -o "$T/stats.json" "http://127.0.0.1:$1/_stats"; }

# verify [LOG]: one "DESCRIPTION :: EXPRESSION" per line on stdin, each
# evaluated over j (the last /_stats), r (the last load run) and rows
# (the -L log, as (arrival_ns, departure_ns)); one python run per batch
cat >"$T/verify.py" <<'EOF'
import json, math, os, sys
T = os.environ["T"]
def load(name):
    try:
        return json.load(open(os.path.join(T, name)))
    except (OSError, ValueError):
        return {}
j, r = load("stats.json"), load("run.json")
rows = []
if len(sys.argv) > 1:
    rows = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
for line in sys.stdin:
    if "::" not in line:
        continue
    desc, expr = (x.strip() for x in line.split("::", 1))
    try:
        if desc == "exec":
            exec(open(expr).read())
            continue
        good, why = bool(eval(expr)), ""
    except Exception as e:
        good, why = False, " (%s: %s)" % (type(e).__name__, e)
    print("%d %s%s" % (0 if good else 1, desc, why))
EOF
verify() {
	T="$T" "$PY" "$T/verify.py" "$@" >"$T/verify.out"
	grep '^#' "$T/verify.out"
	grep -v '^#' "$T/verify.out" >"$T/verify.rc"
	while read -r rc desc; do ok "$rc" "$desc"; done <"$T/verify.rc"
}

# start PORT ARGS...: run arrival-sut in the background, wait for its port
start() {
	port=$1; shift
	"$ARRIVAL_SUT" -l "127.0.0.1:$port" "$@" 2>>"$T/sut.err" &
	sut_pid=$!
	bg_pids="$bg_pids $sut_pid"
	wait_for 5 port_open "$port"
}
# stop: SIGTERM, and its exit status in $sut_rc
stop() {
	kill -TERM "$sut_pid"
	wait "$sut_pid"
	sut_rc=$?
}

# --- command line -------------------------------------------------------
"$ARRIVAL_SUT" -V >"$T/out" 2>&1
check "-V prints the version" grep -q "^arrival-sut [0-9]" "$T/out"
"$ARRIVAL_SUT" -h >"$T/out" 2>&1
ok $? "-h exits 0"
check "-h prints usage" grep -q "usage: arrival-sut" "$T/out"

bad_args() { # bad_args WORD ARGS...: exit 2 and WORD in the message
	word=$1; shift
	"$ARRIVAL_SUT" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q -e "$word" "$T/err"; then
		ok 0 "bad command line [$*] exits 2 naming $word"
	else
		ok 1 "bad command line [$*] exits 2 naming $word (rc $rc: $(cat "$T/err"))"
	fi
}
bad_args "-d" -l 0
bad_args "abc" -d abc
bad_args "-2" -d 0.001,-2
bad_args "1,,2" -d 1,,2
bad_args "foo" -d 1 -e foo
bad_args "5xx=2" -d 1 -x 5xx=2
bad_args "bogus" -d 1 -x bogus=0.1
bad_args "more than 1" -d 1 -x 5xx=0.6,hang=0.6
bad_args "99999" -d 1 -l 127.0.0.1:99999
bad_args "seed" -d 1 -s -1
bad_args "extra" -d 1 extra
bad_args "-q" -d 1 -q
bad_args "-l needs an argument" -d 1 -l

# --- deterministic service, one request at a time: R = sum D exactly ------
P=$(free_port)
start "$P" -d 1ms,2ms,3ms -e det -s 7
ok $? "arrival-sut listens on $P"
load seq "$P" 50
stats "$P"
verify <<'EOF'
50 sequential requests all answered 200 :: r.get("200") == 50
arrivals = completions = 50, none in system :: j["arrivals"] == 50 and j["completions"] == 50 and j["in_system"] == 0
no queueing when requests come one at a time: R = 6 ms exactly :: abs(j["R"] - 0.006) < 1e-9
no reply before its departure: every round trip >= 6 ms :: r["min_rtt"] >= 0.006
utilisation law: U_k elapsed = completions D_k (det service) :: all(abs(u * j["elapsed"] - 50 * d) < 1e-6 for u, d in zip(j["U"], j["demands"]))
station queues add up to the system queue :: abs(sum(j["Qk"]) - j["Q"]) < 1e-9 * max(1, j["Q"])
Little's law exactly once all have left: Q = X R :: abs(j["Q"] - j["X"] * j["R"]) < 1e-6 * j["Q"]
/_stats names the service, demands and seed :: j["service"] == "det" and j["demands"] == [0.001, 0.002, 0.003] and j["seed"] == 7
timing error: 0 <= p50 <= p99 <= max < 0.5 s :: 0 <= j["timing_error"]["p50"] <= j["timing_error"]["p99"] <= j["timing_error"]["max"] < 0.5
each reply's write returns after it began: written p50, p99, max >= timing error's :: all(j["timing_error_written"][k] >= j["timing_error"][k] for k in ("p50", "p99", "max"))
EOF

# --- control paths ------------------------------------------------------
check "unknown control path is 404" test "$(status "$P" GET /_nope)" = 404
check "POST /_stats is 405" test "$(status "$P" POST /_stats)" = 405
check "GET /_reset is 405" test "$(status "$P" GET /_reset)" = 405
check "any other path, GET or POST, is workload" test "$(status "$P" POST /a/b?c=d)" = 200
stats "$P"
check "404 and 405 are not arrivals" grep -q '"arrivals": 51,' "$T/stats.json"
check "POST /_reset is 200" test "$(status "$P" POST /_reset)" = 200
stats "$P"
verify <<'EOF'
/_reset zeroes the counters and the clock :: j["arrivals"] == 0 and j["completions"] == 0 and j["Q"] == 0 and j["elapsed"] < 5
EOF

# --- replies are written at the departure: the connection goes on as HTTP says
load pipe "$P" 5
verify <<'EOF'
5 pipelined requests answered in turn, then one more on the same connection :: r.get("200") == 6 and r.get("bodies_ok") == 5
EOF
load close "$P"
verify <<'EOF'
"Connection: close": answered, then the server closes :: r.get("200") == 1 and r.get("eof") is True
EOF
stats "$P"
verify <<'EOF'
all 7 counted, none left in the system :: j["arrivals"] == 7 and j["completions"] == 7 and j["in_system"] == 0
EOF
stop
ok $sut_rc "SIGTERM: exit 0"

# --- a burst into one deterministic station: exact FCFS departures --------
P=$(free_port)
start "$P" -d 0.005 -e det -L "$T/burst.log"
load burst "$P" 20
status "$P" POST /_reset >/dev/null
check "the log is flushed at /_reset" test "$(wc -l <"$T/burst.log")" -eq 20
stop
verify "$T/burst.log" <<'EOF'
burst of 20 all answered :: r.get("200") == 20
the burst takes at least 20 x 5 ms: queued, not served in parallel :: r["elapsed"] >= 0.1
the log has one line per request, in arrival order :: len(rows) == 20 and rows == sorted(rows)
each departure is max(arrival, previous departure) + D, to the ns :: all(d == max(a, p) + 5000000 for (a, d), p in zip(rows, [0] + [d for _, d in rows]))
EOF

# --- a stalled target: requests arrive when the kernel has them ---------
# arrival-sut is stopped (SIGSTOP) for 300 ms, the stall under test,
# while a request goes out on a connection it already serves and another
# on a connection it has not yet accepted.  Both arrive, in its log and
# its model, when they were sent (the kernel's receive stamps), not when
# it came round to reading them; so each departs 1 ms after it was sent,
# and the replies, sent on waking, are reported late by the stall.
cat >"$T/stall.py" <<'EOF'
import json, os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
REQ = b"GET /s HTTP/1.1\r\nHost: sut\r\n\r\n"
def reply(s):
    buf = b""
    while not (b"\r\n\r\n" in buf and buf.endswith(b"ok\n")):
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return int(buf.split()[1])
old = socket.create_connection(("127.0.0.1", port), 5)
old.settimeout(5)
old.sendall(REQ)
out = {"first": reply(old)}
os.kill(pid, signal.SIGSTOP)
try:
    new = socket.create_connection(("127.0.0.1", port), 5)
    new.settimeout(5)
    out["sent_old"] = time.monotonic_ns()
    old.sendall(REQ)
    out["sent_new"] = time.monotonic_ns()
    new.sendall(REQ)
    time.sleep(0.3)     # the stall itself
finally:
    os.kill(pid, signal.SIGCONT)
out["resumed"] = time.monotonic_ns()
out["old"], out["new"] = reply(old), reply(new)
print(json.dumps(out))
EOF
P=$(free_port)
start "$P" -d 1ms -e det -L "$T/stall.log"
"$PY" "$T/stall.py" "$P" "$sut_pid" >"$T/run.json"
ok $? "requests sent while arrival-sut is stopped are answered once it resumes"
stats "$P"
stop
verify "$T/stall.log" <<'EOF'
both answered after the stall :: r["old"] == 200 and r["new"] == 200 and r["resumed"] - r["sent_new"] >= 300000000
a kept-alive connection's request arrives when sent, not 300 ms later :: len(rows) == 3 and 0 <= rows[1][0] - r["sent_old"] < 20000000
a request on a connection not yet accepted, likewise :: 0 <= rows[2][0] - r["sent_new"] < 20000000
each departs 1 ms after it arrived, FCFS behind the other :: rows[1][1] == rows[1][0] + 1000000 and rows[2][1] == max(rows[2][0], rows[1][1]) + 1000000
and its reply, sent on waking, is reported late by the stall :: j["timing_error"]["max"] >= 0.25
EOF

# --- pipelined requests arrive together ----------------------------------
# Five requests in one write come in one segment and one read: they
# arrive with the first, at its receive stamp, not one by one as they
# are parsed; the sixth, sent once all five are answered, arrives later.
P=$(free_port)
start "$P" -d 1ms -e det -L "$T/pipe.log"
load pipe "$P" 5
stop
verify "$T/pipe.log" <<'EOF'
6 answered :: r.get("200") == 6 and len(rows) == 6
the five of one write share one arrival instant :: len({a for a, _ in rows[:5]}) == 1
the sixth arrives after the five have left :: rows[5][0] >= rows[4][1]
EOF

# --- Poisson arrivals into one exponential station -----------------------
# rho = 200/s x 2 ms = 0.4.  The service times are the fixed seed's, so
# the checks on them are deterministic; recovered from the log as
# S_i = d_i - max(a_i, d_{i-1}), they must be Exp(D) (KS at 0.1%: 1.95 /
# sqrt(n)), average D within 4 sd (D / sqrt(n)), and add up to the busy
# time.  R depends on how evenly the generator spaced its arrivals, so it
# is held to the same FCFS queue fed those very arrivals and fresh Exp(D)
# service times: within 5 sd of the mean of 200 replications.  M/M/1's
# D / (1 - lambda D) is printed beside it.
P=$(free_port)
start "$P" -d 0.002 -s 42 -L "$T/mm1.log"
load poisson "$P" 200 600 1
stats "$P"
stop
cat >"$T/mm1.py" <<'EOF'
import random
D = 0.002
n = len(rows)
s, prev = [], 0
for a, d in rows:
    s.append((d - max(a, prev)) / 1e9)
    prev = d
srt = sorted(s)
ks = max(max(abs((i + 1) / n - (1 - math.exp(-x / D))),
             abs(i / n - (1 - math.exp(-x / D)))) for i, x in enumerate(srt))
resp = sum(d - a for a, d in rows) / n / 1e9
arr = [a / 1e9 for a, _ in rows]
rng, sims = random.Random(5), []
for _ in range(200):
    free, tot = 0.0, 0.0
    for a in arr:
        free = max(a, free) + rng.expovariate(1 / D)
        tot += free - a
    sims.append(tot / n)
sim_mean = sum(sims) / len(sims)
sim_sd = math.sqrt(sum((x - sim_mean) ** 2 for x in sims) / (len(sims) - 1))
lam = (n - 1) / (arr[-1] - arr[0])
print("# KS %.4f (crit %.4f), mean S %.6f, lambda %.1f, R %.6f, "
      "same arrivals %.6f sd %.6f, M/M/1 %.6f" % (ks, 1.95 / math.sqrt(n),
      sum(s) / n, lam, resp, sim_mean, sim_sd, D / (1 - lam * D)))
globals().update(locals())
EOF
verify "$T/mm1.log" <<EOF
600 Poisson requests all answered 200 :: r.get("200") == 600
arrivals = completions = 600 :: j["arrivals"] == 600 and j["completions"] == 600
Little's law: Q = X R :: abs(j["Q"] - j["X"] * j["R"]) < 1e-6 * j["Q"]
the log has one line per request :: len(rows) == 600
exec :: $T/mm1.py
service times recovered from the log are Exp(D) (KS) :: ks < 1.95 / math.sqrt(n)
mean service time is D within 4 sd :: abs(sum(s) / n - D) < 4 * D / math.sqrt(n)
utilisation law: busy time = sum of service times :: abs(j["U"][0] * j["elapsed"] - sum(s)) < 1e-6
R in /_stats is the mean of the logged responses :: abs(resp - j["R"]) < 1e-9
R is that of an FCFS Exp(D) queue fed the same arrivals :: abs(resp - sim_mean) < 5 * sim_sd
EOF

# --- faults -------------------------------------------------------------
P=$(free_port)
start "$P" -d 0.001 -x 5xx=1
load poisson "$P" 500 10 3
stats "$P"
stop
verify <<'EOF'
-x 5xx=1: every request gets 503 :: r.get("503") == 10
5xx faults counted, and they went through the network :: j["faults"] == 10 and j["faults_5xx"] == 10 and j["completions"] == 10
EOF

P=$(free_port)
start "$P" -d 0.001 -x reset=1
load poisson "$P" 500 10 3
stats "$P"
stop
verify <<'EOF'
-x reset=1: every request fails at the client :: r.get("error") == 10
reset faults counted :: j["faults_reset"] == 10 and j["arrivals"] == 10
EOF

P=$(free_port)
start "$P" -d 0.001 -x hang=1
load poisson "$P" 500 10 3 0.3
stats "$P"
stop
ok $sut_rc "held requests do not stop a clean exit"
verify <<'EOF'
-x hang=1: no request is answered :: r.get("error") == 10
hang faults counted, none in the network :: j["faults_hang"] == 10 and j["completions"] == 0 and j["in_system"] == 0
EOF

# Mixed faults: the client sees exactly what /_stats counts, and the
# counts are Binomial(300, p) (4 sd bounds; the fault stream is seeded).
P=$(free_port)
start "$P" -d 0.0005 -x 5xx=0.3,reset=0.2 -s 11
load poisson "$P" 1000 300 4
stats "$P"
stop
verify <<'EOF'
mixed faults: 503s seen = faults_5xx :: r.get("503", 0) == j["faults_5xx"]
mixed faults: failures seen = faults_reset :: r.get("error", 0) == j["faults_reset"]
mixed faults: the rest answered 200 :: r.get("200", 0) == 300 - j["faults"] and j["arrivals"] == 300
mixed faults: 5xx share is 0.3 within 4 sd :: abs(j["faults_5xx"] - 90) < 4 * math.sqrt(300 * 0.3 * 0.7)
mixed faults: reset share is 0.2 within 4 sd :: abs(j["faults_reset"] - 60) < 4 * math.sqrt(300 * 0.2 * 0.8)
EOF

# --- the port is taken ----------------------------------------------------
P=$(free_port)
start "$P" -d 0.001
"$ARRIVAL_SUT" -l "127.0.0.1:$P" -d 0.001 2>"$T/err"
rc=$?
check "a taken port: exit 1 naming the address" sh -c "[ $rc -eq 1 ] && grep -q '127.0.0.1:$P' '$T/err'"
stop
check "no error messages from the runs" sh -c "! grep -qi -e 'error' -e 'warning' '$T/sut.err'"

done_testing
