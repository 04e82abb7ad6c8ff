#!/bin/sh
# mva.sh: bench/mva.py reproduces the seed's Tables 1 and 2 (Gunther, "scaled
# think time", PDQ Solve(APPROX)) and its exact solver meets the open-network
# limit that the closed model's N/Z autoscaling relies on.
. "$top_srcdir/tests/lib.sh"
MVA="python3 $top_srcdir/bench/mva.py"
command -v python3 >/dev/null || skip_all "python3 not found"

# The seed's tables as printed there: N Z N/Z X Q/Z.
cat >"$T/table1" <<'TAB'
1500 10 150 149.47 0.53
3000 10 300 199.87 100.13
4500 10 450 199.96 250.04
7500 10 750 199.99 550.01
9000 10 900 199.99 700.01
10500 10 1050 200.00 850.00
12000 10 1200 200.00 1000.00
13500 10 1350 200.00 1150.00
15000 10 1500 200.00 1300.00
TAB
cat >"$T/table2" <<'TAB'
1500 10 150 149.47 0.53
15000 100 150 149.95 0.05
30000 200 150 149.97 0.03
45000 300 150 149.98 0.02
75000 500 150 149.99 0.01
150000 1000 150 149.99 0.01
300000 2000 150 150.00 0.00
TAB

# match EXPECTED GOT: same N, Z, N/Z rows; X and Q/Z within one unit of the
# last printed digit (0.01).
match() {
	python3 - "$1" "$2" <<'PY'
import sys
want = [l.split() for l in open(sys.argv[1]) if l.strip()]
got = [l.split() for l in open(sys.argv[2])
       if l.strip() and not l.startswith("#") and not l.split()[0] == "N"]
if len(want) != len(got):
    sys.exit("rows: want %d, got %d" % (len(want), len(got)))
for w, g in zip(want, got):
    if w[:3] != g[:3]:
        sys.exit("row %s: got N Z N/Z %s" % (w[:3], g[:3]))
    for name, a, b in (("X", w[3], g[3]), ("Q/Z", w[4], g[4])):
        if abs(float(a) - float(b)) > 0.0100001:
            sys.exit("N=%s: %s want %s, got %s" % (w[0], name, a, b))
PY
}

$MVA --seed-tables >"$T/seed.out"
ok $? "--seed-tables runs"
sed -n '/^# Table 1/,/^$/p' "$T/seed.out" >"$T/got1"
sed -n '/^# Table 2/,$p' "$T/seed.out" >"$T/got2"
check "Table 1 (fixed Z) as the seed prints it" match "$T/table1" "$T/got1"
check "Table 2 (scaled Z) as the seed prints it" match "$T/table2" "$T/got2"

# The same rows through --rows --approx: the table is the solver, not a copy.
rows1=$(awk '{printf "%s%s:%s", s, $1, $2; s=","}' "$T/table1")
$MVA --approx --rows "$rows1" >"$T/rows1"
check "--rows --approx gives Table 1" match "$T/table1" "$T/rows1"

# Exact MVA differs from Schweitzer's just past saturation: at N = 3000 the
# bottleneck (1/0.005 = 200/s) is saturated and exact X rounds to 200.00,
# which is how we know the seed used the approximation.
$MVA --exact --rows 3000:10 --json >"$T/sat.json"
check "exact MVA at N=3000, Z=10 is saturated at 1/Dmax" \
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(abs(j["X"]-200)>0.005)' "$T/sat.json"
$MVA --approx --rows 3000:10 --json >"$T/sat-approx.json"
check "Schweitzer's error there is the seed's 199.87" python3 - "$T/sat.json" "$T/sat-approx.json" <<'PY'
import json, sys
e, a = (json.load(open(f)) for f in sys.argv[1:3])
print("# N=3000 Z=10: exact X=%.4f, approx X=%.4f" % (e["X"], a["X"]))
sys.exit(not (abs(a["X"] - 199.87) < 0.005 and e["X"] - a["X"] > 0.1))
PY

# Open-network limit: with N/Z = 150 held, as Z grows X -> N/Z and Q ->
# sum U/(1-U) with U_k = 150 D_k (M/M/1 stations in tandem, Jackson), and
# the error shrinks at every step.
$MVA --exact --json --rows 1500:10,15000:100,150000:1000,300000:2000 >"$T/open.json"
ok $? "exact MVA runs up to N = 300000"
check "exact MVA tends to the open network as Z grows" python3 - "$T/open.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
lam, d = 150.0, [0.005, 0.004, 0.003]
q_open = sum(lam * dk / (1 - lam * dk) for dk in d)
errs = []
for r in rows:
    ex, eq = abs(r["X"] - lam) / lam, abs(r["Q"] - q_open) / q_open
    # Little's law at the delay station: Q = N - X Z.
    if abs(r["Q"] - (r["N"] - r["X"] * r["Z"])) > 1e-6 * r["N"]:
        sys.exit("Little's law fails at N=%d" % r["N"])
    errs.append((ex, eq))
    print("# N=%d X=%.4f Q=%.4f (open: %.4f)" % (r["N"], r["X"], r["Q"], q_open))
for a, b in zip(errs, errs[1:]):
    if not (b[0] < a[0] and b[1] < a[1]):
        sys.exit("error does not shrink: %s then %s" % (a, b))
last = errs[-1]
if last[0] > 1e-4 or last[1] > 0.01:
    sys.exit("N=300000 still far from the open limit: %s" % (last,))
PY

# One user never queues: X = 1 / (Z + sum D), for both solvers.
for m in exact approx; do
	$MVA --$m --json --rows 1:2 >"$T/one.json"
	check "$m: one user, X = 1/(Z + sum D)" \
		python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(abs(j["X"]-1/2.012)>1e-9)' "$T/one.json"
done

# --time-scale 10: demands and Z divided by 10, so X is 10 times as large
# and Q is unchanged.
$MVA --exact --json --rows 1500:10 >"$T/ts1"
$MVA --exact --json --rows 1500:10 --time-scale 10 >"$T/ts10"
check "--time-scale 10: X x10, Q unchanged, Z / 10" python3 - "$T/ts1" "$T/ts10" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(not (abs(b["X"] - 10 * a["X"]) < 1e-6 * b["X"]
              and abs(b["Q"] - a["Q"]) < 1e-9 and b["Z"] == 1.0))
PY

# Bad input gets a message naming what was wrong, and a failing status.
$MVA --rows 1500:ten 2>"$T/err" >/dev/null
ok $(( $? == 0 )) "bad --rows fails"
check "and says which pair" grep -q "1500:ten" "$T/err"
$MVA --demands 0.005,-1 --rows 1:1 2>"$T/err" >/dev/null
ok $(( $? == 0 )) "a negative demand fails"
check "and says so" grep -q "positive" "$T/err"

done_testing
