#!/bin/sh
# bench-fidelity.sh: bench/fidelity.py tells Poisson arrivals from evenly
# spaced ones and from 1 ms timer ticks, and measures the number in an
# M/M/1 station, on logs synthesised with fixed seeds (so the verdicts are
# deterministic, and each one is a statistical claim with margin).
. "$top_srcdir/tests/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not found"
FID="python3 $top_srcdir/bench/fidelity.py"

# synth KIND FILE: 20000 arrivals at 1000/s through one FCFS station with
# exponential 0.5 ms service (M/M/1 at U = 0.5 for the Poisson stream).
synth() {
	python3 - "$1" "$2" <<'PY'
import random, sys
kind, path = sys.argv[1], sys.argv[2]
r = random.Random(20100515)
t = free = 0.0
with open(path, "w") as f:
    for i in range(20000):
        if kind == "const":
            t += 0.001
            a = t
        else:
            t += r.expovariate(1000.0)
            a = int(t * 1000) / 1000.0 if kind == "tick" else t
        free = max(free, a) + r.expovariate(2000.0)
        f.write("%d %d\n" % (a * 1e9, free * 1e9))
PY
}

for k in poisson const tick; do
	synth $k "$T/$k.log"
	$FID "$T/$k.log" >"$T/$k.json"
	ok $? "fidelity.py reads a $k log"
done

g() { json_get "$T/$1.json" "$2"; }
t() { python3 -c "import sys; sys.exit(not ($1))"; }

check "Poisson: rate within 3% of 1000/s" t "abs($(g poisson 'j["rate"]') - 1000) < 30"
check "Poisson: KS distance under its 95% bound" t "$(g poisson 'j["ks"] < j["ks_crit"]')"
check "Poisson: dispersion inside the 99.9% band" \
	t "$(g poisson 'j["disp_lo"] <= j["dispersion"] <= j["disp_hi"]')"
check "Poisson: gap CV within 5% of 1" t "abs($(g poisson 'j["cv"]') - 1) < 0.05"
check "Poisson: M/M/1 at U = 0.5 holds Q within 15% of 1.0" t "abs($(g poisson 'j["Q"]') - 1) < 0.15"

check "constant: dispersion far below 1" t "$(g const 'j["dispersion"]') < 0.1"
check "constant: KS distance far above the bound" t "$(g const 'j["ks"] > 10 * j["ks_crit"]')"
check "constant: D/M/1 at U = 0.5 holds Q near theory's 0.627" t "abs($(g const 'j["Q"]') - 0.627) < 0.05"

check "1 ms ticks: KS distance shows them" t "$(g tick 'j["ks"]') > 0.2"
check "1 ms ticks: a third of the gaps near zero" t "$(g tick 'j["near_zero"]') > 0.3"

# Bad input: a clear message naming the file and line, no traceback.
printf '1000 2000\nnot a number\n' >"$T/bad.log"
$FID "$T/bad.log" >/dev/null 2>"$T/err"
ok $(( $? == 0 )) "a malformed log fails"
check "naming the line" grep -q "bad.log:2:" "$T/err"
check "without a traceback" sh -c "! grep -q Traceback '$T/err'"
head -50 "$T/poisson.log" >"$T/short.log"
$FID "$T/short.log" >/dev/null 2>"$T/err"
ok $(( $? == 0 )) "a log too short to judge fails"
check "and says why" grep -q "need 100" "$T/err"

done_testing
