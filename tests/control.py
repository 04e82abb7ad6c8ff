#!/usr/bin/env python3
"""control.py SOCK CONF SUTLOG SUTPORT SRCDIR OUT: the driver of
control.sh.  Runs every control command against a running arrivald (open
model, Poisson, 200/s, window 1 s) and checks its effect in `stats` and,
through arrival-sut's request log, at the target.  Writes one line per
check to OUT, "0 description" (pass) or "1 description" (fail), for
control.sh to report as TAP; details go to stdout as "# " lines.

Times: arrival-sut logs CLOCK_MONOTONIC nanoseconds, which is
time.monotonic_ns() here, so a command's reply time marks where a phase
starts in the log.  Log checks are made at the end, once the log is
flushed (POST /_reset flushes it).

Bounds: a Poisson count with mean m has sd sqrt(m); every count check
allows 5 sd plus 3% of m for the edges of the span (the command takes
effect somewhere between send and reply, and requests reach the target
a little after their intended start).
"""
import json, math, os, re, socket, subprocess, sys, threading, time
import urllib.request

SOCK, CONF, SUTLOG, SUTPORT, SRCDIR, OUT = sys.argv[1:7]
ARRIVALCTL = os.environ["ARRIVALCTL"]
ARRIVALD = os.environ["ARRIVALD"]
results = []
later = []          # log checks, run once the log is complete


def check(cond, desc, detail=""):
    results.append("%d %s" % (0 if cond else 1, desc))
    if detail or not cond:
        print("# %s: %s" % ("ok" if cond else "FAILED", detail or desc))
    sys.stdout.flush()


def now():
    return time.monotonic_ns() / 1e9


def ctl(*words, j=True):
    """arrivalctl [-j] WORDS: (exit status, parsed reply or text, stderr)"""
    cmd = [ARRIVALCTL, "-s", SOCK] + (["-j"] if j else []) + list(words)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    out = p.stdout
    if j and p.returncode == 0:
        out = json.loads(p.stdout)
    return p.returncode, out, p.stderr


def stats():
    rc, s, err = ctl("stats")
    if rc != 0:
        raise SystemExit("stats failed: %s" % err)
    return s


def wait_until(t):
    d = t - now()
    if d > 0:
        time.sleep(d)


def wait_for(cond, limit):
    end = now() + limit
    while now() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


class Conn:
    """One connection, several request lines, one reply line each."""

    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(SOCK)
        self.f = self.s.makefile("rb")

    def send(self, raw):
        self.s.sendall(raw)

    def reply(self):
        line = self.f.readline()
        return json.loads(line) if line else None

    def close(self):
        self.f.close()
        self.s.close()


def poisson_ok(n, m):
    return abs(n - m) <= 5 * math.sqrt(m) + 0.03 * m


arrivals = None


def log_times():
    global arrivals
    if arrivals is None:
        with open(SUTLOG) as f:
            arrivals = sorted(int(l.split()[0]) / 1e9 for l in f if l.strip())
    return arrivals


def count(a, b):
    import bisect
    t = log_times()
    return bisect.bisect_left(t, b) - bisect.bisect_left(t, a)


def gaps_cv(a, b):
    t = [x for x in log_times() if a <= x < b]
    g = [y - x for x, y in zip(t, t[1:])]
    m = sum(g) / len(g)
    return math.sqrt(sum((x - m) ** 2 for x in g) / len(g)) / m, len(g)


def later_count(a, b, m, desc):
    def f():
        n = count(a, b)
        check(poisson_ok(n, m), "%s: %d at the target, expect %.0f" % (desc, n, m))
    later.append(f)


# --- stats: the full list of fields, SPEC's and the emitter's ---
SPEC_FIELDS = ["model", "arrivals", "state", "rate_target", "lambda", "X", "Q",
               "R", "N", "Z", "Q_over_Z", "lambda_N", "scale", "sent",
               "completed", "failed", "dropped", "in_flight", "p50", "p90",
               "p99", "p999", "max", "window", "uptime"]
SPEC_COMMANDS = ["stats", "set rate", "set arrivals", "set model", "set users",
                 "set autoscale", "pause", "resume", "set profile", "reload",
                 "watch", "stop", "version", "help"]

src = open(os.path.join(SRCDIR, "src/stats.c")).read()
body = re.search(r"stats_fields\[\]\s*=\s*\{(.*?)\};", src, re.S).group(1)
emitter = re.findall(r'"([^"]+)"', body)
wait_for(lambda: stats()["uptime"] >= 1.2, 5)
s = stats()
missing = [f for f in SPEC_FIELDS if f not in s]
check(not missing, "stats has every SPEC field", "missing %s" % missing if missing else "")
notlisted = [f for f in SPEC_FIELDS if f not in emitter]
check(not notlisted, "stats_fields[] lists every SPEC field",
      "not listed: %s" % notlisted if notlisted else "")
extra = set(k for k in s if k not in ("ok", "failures", "profile", "timers"))
check(extra == set(emitter), "stats gives exactly the fields of stats_fields[]",
      "stats %s, stats_fields %s" % (sorted(extra - set(emitter)), sorted(set(emitter) - extra)))
check(s["ok"] is True and s["model"] == "open" and s["arrivals"] == "poisson"
      and s["state"] == "running", "stats: model, arrivals and state as configured")
check(all(s[f] is None for f in ("N", "Z", "Q_over_Z", "lambda_N", "scale")),
      "stats: closed-model fields are null in the open model")
check(all(isinstance(s[f], int) for f in ("sent", "completed", "failed", "dropped", "in_flight"))
      and s["sent"] == s["completed"] + s["failed"] + s["in_flight"],
      "stats: counters are integers and sent = completed + failed + in_flight")
check(all(isinstance(s[f], float) for f in ("rate_target", "lambda", "X", "Q", "R", "p50",
                                             "p99", "max", "window", "uptime"))
      and s["p50"] <= s["p90"] <= s["p99"] <= s["p999"] <= s["max"],
      "stats: estimates are numbers, percentiles in order")
check(s["window"] == 1.0 and s["rate_target"] == 200.0, "stats: window and rate_target from the config")
rc, txt, _ = ctl("stats", j=False)
rows = [l.split()[0] for l in txt.splitlines() if l.strip()]
check(rc == 0 and all(f in rows for f in SPEC_FIELDS), "arrivalctl stats shows every SPEC field")

# --- set rate R ---
rc, r, _ = ctl("set", "rate", "400")
t1 = now()
check(rc == 0 and r["ok"], "set rate 400 replies ok", str(r))
check(stats()["rate_target"] == 400.0, "set rate 400: rate_target 400")
later_count(t1 + 0.3, t1 + 2.3, 800, "set rate 400: arrivals in 2 s")
wait_until(t1 + 2.3)
lam = stats()["lambda"]
# one window of 1 s at 400/s: 400 +- 20
check(abs(lam - 400) < 5 * 20 + 12, "set rate 400: measured lambda %.1f" % lam)

# --- set rate R over T: a ramp, 400 -> 800 over 4 s ---
rc, txt, _ = ctl("set", "rate", "800", "over", "4", j=False)
t2 = now()
check(rc == 0 and "800" in txt, "set rate 800 over 4 (human reply: %s)" % txt.strip())
wait_until(t2 + 2)
s = stats()
want = 400 + 100 * (now() - t2)
check(abs(s["rate_target"] - want) < 25, "ramp: rate_target %.1f midway, expect %.1f" % (s["rate_target"], want))
wait_until(t2 + 4.1)
check(stats()["rate_target"] == 800.0, "ramp: rate_target 800 at its end")


def ramp_chisq():
    # bins of 0.5 s; expected = integral of 400 + 100 t over the bin
    chi, obs, exp = 0.0, [], []
    for k in range(8):
        a, b = 0.5 * k, 0.5 * (k + 1)
        e = 400 * (b - a) + 50 * (b * b - a * a)
        o = count(t2 + a, t2 + b)
        chi += (o - e) ** 2 / e
        obs.append(o)
        exp.append(round(e))
    # 8 degrees of freedom: P(chi2 > 40) = 3e-6; a step to 800 gives > 300
    check(chi < 40, "ramp: counts per 0.5 s follow the line, chi-square %.1f (8 df)" % chi,
          "observed %s expected %s" % (obs, exp))
later.append(ramp_chisq)

# --- set arrivals constant | poisson (at 200/s) ---
ctl("set", "rate", "200")
rc, r, _ = ctl("set", "arrivals", "constant")
t3 = now()
check(rc == 0 and stats()["arrivals"] == "constant", "set arrivals constant: stats says constant")
wait_until(t3 + 2.7)
rc, r, _ = ctl("set", "arrivals", "poisson")
t4 = now()
check(rc == 0 and stats()["arrivals"] == "poisson", "set arrivals poisson: stats says poisson")


def arrivals_cv():
    # counts in 100 ms bins: even spacing at 200/s puts 20 +- 1 in every
    # bin, where Poisson(20) is within 2 of 20 in only 43% of them
    # (18 of 24 bins: P < 1e-4).  A loaded machine that stalls a worker
    # for some ms moves arrivals into the next bin, spoiling two bins, so
    # the check is the share of good bins, not the gaps' cv or the
    # variance, which one stall ruins.
    c = [count(t3 + 0.3 + 0.1 * k, t3 + 0.4 + 0.1 * k) for k in range(24)]
    good = sum(abs(x - 20) <= 2 for x in c)
    cv, n = gaps_cv(t3 + 0.3, t3 + 2.7)
    check(good >= 18, "constant: even at the target, %d of 24 bins of 100 ms hold 20 +- 2" % good,
          "counts %s; gaps cv %.3f over %d" % (c, cv, n))
    cv, n = gaps_cv(t4 + 0.3, t4 + 1.8)
    # exponential gaps: cv 1, sd about 1/sqrt(n) = 0.06
    check(0.7 < cv < 1.3, "poisson: gaps at the target are exponential, cv %.3f over %d" % (cv, n))
later.append(arrivals_cv)
wait_until(t4 + 1.8)

# --- set model closed, users, autoscale, model open ---
rate_before = stats()["rate_target"]
rc, r, _ = ctl("set", "model", "closed")
t5 = now()
s = stats()
check(rc == 0 and s["model"] == "closed", "set model closed: stats says closed")
check(s["N"] is not None and s["Z"] > 0 and abs(s["N"] / s["Z"] - rate_before) < 1e-6 * rate_before
      and s["rate_target"] == rate_before,
      "set model closed keeps the rate: N/Z = %s/%s = rate before %.1f" % (s["N"], s["Z"], rate_before))
check(s["scale"] == 1.0 and s["lambda_N"] is not None and s["Q_over_Z"] is not None,
      "closed: scale, lambda_N and Q_over_Z given")
later_count(t5 + 0.5, t5 + 2.5, 2 * rate_before, "closed after the switch: arrivals in 2 s")
rc, r, _ = ctl("set", "users", "300", "think", "0.5")
s = stats()
check(rc == 0 and s["N"] == 300 and s["Z"] == 0.5 and s["rate_target"] == 600.0,
      "set users 300 think 0.5: N %s, Z %s, rate_target %s = N/Z" % (s["N"], s["Z"], s["rate_target"]))
rc, r, _ = ctl("set", "users", "100")
t6 = now()
s = stats()
check(rc == 0 and s["N"] == 100 and s["Z"] == 0.5 and s["rate_target"] == 200.0,
      "set users 100: Z kept at %s, rate_target %s = N/Z" % (s["Z"], s["rate_target"]))
later_count(t6 + 1.0, t6 + 2.5, 300, "closed N=100 Z=0.5: arrivals in 1.5 s")
rc, r, _ = ctl("set", "autoscale", "on")
check(rc == 0 and stats()["autoscale"] is True, "set autoscale on: stats says so")
rc, r, _ = ctl("set", "autoscale", "off")
check(rc == 0 and stats()["autoscale"] is False, "set autoscale off: stats says so")
wait_until(t6 + 2.5)
rc, r, _ = ctl("set", "model", "open")
t7 = now()
s = stats()
check(rc == 0 and s["model"] == "open" and s["rate_target"] == 200.0 and s["N"] is None,
      "set model open keeps the rate: rate_target %s, N null" % s["rate_target"])
later_count(t7 + 0.3, t7 + 2.3, 400, "open after the switch back: arrivals in 2 s")
wait_until(t7 + 2.3)

# --- pause / resume ---
rc, r, _ = ctl("pause")
tp = now()
check(rc == 0 and stats()["state"] == "paused", "pause: state paused")
check(wait_for(lambda: stats()["in_flight"] == 0, 5), "pause: in-flight requests finish")
wait_until(tp + 1.3)
s = stats()
check(s["lambda"] == 0 and s["state"] == "paused", "pause: measured lambda %s after a window" % s["lambda"])
tr0 = now()
rc, r, _ = ctl("resume")
tr = now()
check(rc == 0 and stats()["state"] == "running", "resume: state running")


def pause_log():
    n = count(tp + 0.25, tr0)
    late = ["%.3f" % (x - tp) for x in log_times() if tp - 0.05 <= x < tr0]
    check(n == 0, "pause: no arrivals at the target from 0.25 s after pause to resume (%d)" % n,
          "arrivals from 50 ms before the pause, s after it: %s" % late[-20:])
    n = count(tr0, tr0 + 0.3)
    check(n < 60 + 5 * math.sqrt(60), "resume: no burst making up for the pause (%d in 0.3 s)" % n)
later.append(pause_log)
later_count(tr + 0.3, tr + 1.3, 200, "resume: arrivals in 1 s")
wait_until(tr + 1.3)

# --- set profile FILE speed S scale F / set profile off ---
prof = os.path.join(os.path.dirname(CONF), "ramp.csv")
with open(prof, "w") as f:
    f.write("t_seconds,rate\n0,100\n20,300\n")
# speed 2, scale 1.5: 150/s rising 30/s a second, for 10 s
rc, r, _ = ctl("set", "profile", prof, "speed", "2", "scale", "1.5")
tq = now()
check(rc == 0 and r["ok"], "set profile FILE speed 2 scale 1.5 replies ok", str(r))
wait_until(tq + 1.0)
s = stats()
p = s["profile"]
pos = now() - tq
check(p is not None and p["file"] == prof and abs(p["position"] - pos) < 0.2,
      "stats.profile names the file and its position (%s)" % json.dumps(p))
check(p is not None and abs(p["rate"] - (150 + 30 * p["position"])) < 1e-3
      and abs(s["rate_target"] - p["rate"]) < 1,
      "rate_target follows the profile: %.1f at %.2f s" % (s["rate_target"], p["position"] if p else -1))
later_count(tq + 0.5, tq + 2.5, 150 * 2 + 15 * (2.5 ** 2 - 0.5 ** 2), "profile: arrivals in 2 s")
wait_until(tq + 2.5)
rc, r, _ = ctl("set", "profile", "off")
toff = now() - tq
s = stats()
check(rc == 0 and s["profile"] is None and abs(s["rate_target"] - (150 + 30 * toff)) < 15,
      "set profile off: no profile, rate held at %.1f" % s["rate_target"])
held = s["rate_target"]
time.sleep(0.3)
check(stats()["rate_target"] == held, "set profile off: the rate stays where it was")
bad = os.path.join(os.path.dirname(CONF), "bad.csv")
with open(bad, "w") as f:
    f.write("t,rate\n0,100\n1,-5\n")
rc, out, err = ctl("set", "profile", bad)
check(rc == 1 and ("%s:3" % bad) in err and stats()["profile"] is None,
      "set profile with a bad file: error names FILE:LINE (%s)" % err.strip())
rc, out, err = ctl("set", "profile", prof + ".missing")
check(rc == 1 and prof + ".missing" in err, "set profile with a missing file: error names it")

# --- reload ---
conf = open(CONF).read()
open(CONF, "w").write(conf.replace("rate = 200.0", "rate = 250.0"))
rc, r, _ = ctl("reload")
check(rc == 0 and stats()["rate_target"] == 250.0, "reload: the file's new rate is in force")
open(CONF, "w").write(conf.replace("rate = 200.0", "rate = 300.0").replace("workers = 2;", "workers = 2; nonsense = ;"))
rc, out, err = ctl("reload")
check(rc == 1 and re.search(re.escape(CONF) + r":\d+", err) is not None,
      "reload of a broken file: error names FILE:LINE (%s)" % err.strip())
check(stats()["rate_target"] == 250.0, "reload of a broken file: the old config stays")
open(CONF, "w").write(conf.replace("rate = 200.0", "rate = 250.0"))

# --- watch ---
c = Conn()
t = now()
c.send(b"watch 0.2\n")
lines = [c.reply() for _ in range(5)]
el = now() - t
c.close()
ups = [l["uptime"] for l in lines if l and l.get("ok")]
steps = [b - a for a, b in zip(ups, ups[1:])]
check(len(ups) == 5 and all(0.1 < d < 0.6 for d in steps),
      "watch 0.2: five stats lines, %s s apart" % ["%.2f" % d for d in steps])
check(0.6 < el < 3, "watch 0.2: five lines in %.2f s" % el)
p = subprocess.Popen([ARRIVALCTL, "-s", SOCK, "watch", "0.2"], stdout=subprocess.PIPE, text=True)
got = [json.loads(p.stdout.readline()) for _ in range(3)]
p.terminate()
p.wait(5)
p.stdout.close()
check(all(g["ok"] and "lambda" in g for g in got), "arrivalctl watch (not a terminal): JSON lines")
check(stats()["ok"], "the daemon answers after the watchers went")

# --- version, help ---
rc, r, _ = ctl("version")
vd = subprocess.run([ARRIVALD, "-V"], capture_output=True, text=True).stdout.split()
check(rc == 0 and r["version"] in vd, "version: %s, as arrivald -V says" % r.get("version"))
rc, txt, _ = ctl("version", j=False)
check(rc == 0 and txt.strip() == "arrivald " + r["version"], "arrivalctl version: %s" % txt.strip())
rc, r, _ = ctl("help")
syn = [cmd["syntax"] for cmd in r.get("commands", [])]
miss = [x for x in SPEC_COMMANDS if not any(y.startswith(x) for y in syn)]
check(rc == 0 and not miss and all(cmd["description"] for cmd in r["commands"]),
      "help lists every SPEC command with a description", "missing %s" % miss if miss else "")
rc, txt, _ = ctl("help", j=False)
check(rc == 0 and "set profile FILE" in txt, "arrivalctl help prints the list")

# --- error replies: one connection, pipelined, each answered in order ---
errors = [
    (b"set rate abc", "not a number"),
    (b"set rate -5", "out of range"),
    (b"set rate 0", "out of range"),
    (b"set rate 1e999", "out of range"),
    (b"set rate 100 over x", "not a number"),
    (b"set users 10", "model is open"),
    (b"set users 1.5", "whole number"),
    (b"frobnicate", "unknown command"),
    (b"set colour red", "unknown setting"),
    (b"set arrivals uniform", "expected"),
    (b"set autoscale maybe", "expected"),
    (b"set model", "missing"),
    (b"stats now", "too many"),
    (b"watch abc", "not a number"),
    (b"set profile /nonexistent/p.csv", "/nonexistent/p.csv"),
    (b"", "empty"),
    (b"stats\x01", "control byte"),
    (b"set rate \xff", "UTF-8"),
]
c = Conn()
c.send(b"".join(e[0] + b"\n" for e in errors) + b"version\nstats\n")
for line, want in errors:
    r = c.reply()
    check(r is not None and r["ok"] is False and want in r.get("error", ""),
          "error reply to %r: %s" % (line, r and r.get("error")))
r1, r2 = c.reply(), c.reply()
check(r1 and r1["ok"] and "version" in r1 and r2 and r2["ok"] and "lambda" in r2,
      "after the errors the same connection still answers version and stats")
c.close()
check(stats()["rate_target"] == 250.0 and stats()["model"] == "open",
      "no error changed the settings")
c = Conn()
c.send(b"x" * 5000 + b"\n")
r = c.reply()
check(r is not None and r["ok"] is False and "longer" in r["error"] and c.reply() is None,
      "a line over 4096 bytes: an error, then the connection closes")
c.close()
rc, out, err = ctl("set", "users", "10")
check(rc == 1 and "model is open" in err, "arrivalctl: an error reply exits 1 and is printed")
rc, out, err = ctl("set", "rate", "abc")
check(rc == 2 and "not a number" in err, "arrivalctl: a bad number is refused before sending (exit 2)")

# --- 200 clients hammer stats; the rate at the target holds ---
# Each client asks until HOLD seconds have passed (at most NREQ times), so
# that the rate is measured over a span that does not depend on how fast
# the daemon answers: on a quiet machine 25 requests a client took 0.44 s.
NCLIENTS, NREQ, HOLD = 200, 2000, 1.5
good = [0] * NCLIENTS
bad = []


def hammer(i):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(SOCK)
        f = s.makefile("rb")
        for _ in range(NREQ):
            s.sendall(b"stats\n")
            r = json.loads(f.readline())
            if r.get("ok"):
                good[i] += 1
            if now() > h0 + HOLD:
                break
        f.close()
        s.close()
    except Exception as e:
        bad.append(repr(e))


rate = stats()["rate_target"]
h0 = now()
th = [threading.Thread(target=hammer, args=(i,)) for i in range(NCLIENTS)]
for x in th:
    x.start()
for x in th:
    x.join()
h1 = now()
check(not bad and sum(good) >= NCLIENTS * 5,
      "200 clients: %d stats replies in %.2f s, %d errors" % (sum(good), h1 - h0, len(bad)),
      "; ".join(bad[:3]))
if h1 - h0 > 0.5:
    later_count(h0 + 0.2, h1, rate * (h1 - h0 - 0.2), "while 200 clients hammer stats (%.1f s)" % (h1 - h0))
else:
    check(False, "the hammering lasted %.2f s, too short to measure the rate" % (h1 - h0))

# --- the target's log: flush it, then the checks that need it ---
time.sleep(0.2)
urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/_reset" % SUTPORT,
                                              data=b"", method="POST"), timeout=10).read()
for f in later:
    f()
open(OUT, "w").write("\n".join(results) + "\n")
