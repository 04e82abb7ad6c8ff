#!/usr/bin/env python3
"""mva.py: mean value analysis of the closed model that arrivald drives.

The network is N users at a delay (think) station of mean Z and K
single-server FCFS queueing stations with service demands D_1..D_K, the
model of Gunther's "scaled think time" post (the PDQ-R listing in
/work/shared/seeds is the source of the defaults and of --seed-tables).

Two solvers:
  --exact   exact MVA (Reiser and Lavenberg 1980): for n = 1..N,
              R_k(n) = D_k (1 + Q_k(n-1)),  X(n) = n / (Z + sum R_k(n)),
              Q_k(n) = X(n) R_k(n).
            O(N K); the truth for exponential FCFS stations, which is what
            arrival-sut serves, so figure 8 of bench/run compares with it.
  --approx  Schweitzer's approximate MVA, as PDQ's Solve(APPROX): the
            fixed point of R_k = D_k (1 + (N-1)/N Q_k), iterated from
            Q_k = N/K until no Q_k moves by more than --tol (PDQ's TOL,
            0.001).  This is the solver that reproduces the seed's Tables 1
            and 2 digit for digit; exact MVA differs from them just past
            saturation (N = 3000, Z = 10: exact X = 200.00, the tables
            print Schweitzer's 199.87).

Every row prints N, Z, N/Z, X and Q/Z, where Q = sum Q_k is the number of
requests in the system under test; by Little's law at the delay station
Q = N - X Z, so Q/Z = N/Z - X, the gap between the arrival rate a closed
model promises and the one it delivers (lambda_N = (N - Q)/Z, Gunther).

--time-scale F divides the demands and every Z by F: the same network run
F times faster (X multiplied by F, Q unchanged).
"""

import argparse
import json
import sys

SEED_DEMANDS = [0.005, 0.004, 0.003]
# The seed's loops: Table 1 scales N at Z = 10, Table 2 scales N and Z.
SEED_TABLE1 = [(1500 * u, 10.0) for u in (1, 2, 3, 5, 6, 7, 8, 9, 10)]
SEED_TABLE2 = [(1500 * s, 10.0 * s) for s in (1, 10, 20, 30, 50, 100, 200)]
PDQ_TOL = 0.001


def exact(demands, n_users, think):
    """Exact MVA; returns (X, [Q_k], [R_k])."""
    q = [0.0] * len(demands)
    x = 0.0
    r = [0.0] * len(demands)
    for n in range(1, n_users + 1):
        r = [d + d * qk for d, qk in zip(demands, q)]
        x = n / (think + sum(r))
        q = [x * rk for rk in r]
    return x, q, r


def approx(demands, n_users, think, tol=PDQ_TOL, max_iter=1000000):
    """Schweitzer's approximate MVA as PDQ does it; returns (X, [Q_k], [R_k])."""
    k = len(demands)
    q = [n_users / k] * k
    shrink = (n_users - 1) / n_users
    for _ in range(max_iter):
        r = [d * (1.0 + shrink * qk) for d, qk in zip(demands, q)]
        x = n_users / (think + sum(r))
        new = [x * rk for rk in r]
        delta = max(abs(a - b) for a, b in zip(new, q))
        q = new
        if delta <= tol:
            return x, q, r
    raise RuntimeError("approximate MVA did not converge")


def solve(method, demands, n_users, think, tol=PDQ_TOL):
    if n_users == 0:
        return {"N": 0, "Z": think, "N_over_Z": 0.0, "X": 0.0, "Q": 0.0,
                "Q_over_Z": 0.0, "R": 0.0, "U": [0.0] * len(demands)}
    if method == "exact":
        x, q, r = exact(demands, n_users, think)
    else:
        x, q, r = approx(demands, n_users, think, tol)
    qsum = sum(q)
    return {
        "N": n_users,
        "Z": think,
        "N_over_Z": n_users / think if think > 0 else None,
        "X": x,
        "Q": qsum,
        "Q_over_Z": qsum / think if think > 0 else None,
        "R": sum(r),
        "U": [x * d for d in demands],
    }


def fmt_num(v):
    """Z and N/Z as the seed prints them: no decimals when integral."""
    if v is None:
        return "-"
    if abs(v - round(v)) < 1e-9:
        return "%d" % round(v)
    return "%g" % v


def print_rows(rows, out):
    out.write("%8s\t%4s\t%4s\t%6s\t%4s\n" % ("N", "Z", "N/Z", "X", "Q/Z"))
    for row in rows:
        qz = "-" if row["Q_over_Z"] is None else "%.2f" % row["Q_over_Z"]
        out.write("%8d\t%4s\t%4s\t%6.2f\t%4s\n" % (
            row["N"], fmt_num(row["Z"]), fmt_num(row["N_over_Z"]),
            row["X"], qz))


def parse_demands(text):
    try:
        demands = [float(f) for f in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "--demands wants seconds separated by commas, got '%s'" % text)
    if not demands or any(d <= 0 for d in demands):
        raise argparse.ArgumentTypeError(
            "--demands must all be positive, got '%s'" % text)
    return demands


def parse_rows(text):
    rows = []
    for item in text.split(","):
        parts = item.split(":")
        try:
            if len(parts) != 2:
                raise ValueError
            n, z = int(parts[0]), float(parts[1])
        except ValueError:
            raise argparse.ArgumentTypeError(
                "--rows wants N:Z pairs separated by commas, got '%s'" % item)
        if n < 0 or z < 0:
            raise argparse.ArgumentTypeError(
                "--rows: N and Z must not be negative, got '%s'" % item)
        rows.append((n, z))
    return rows


def positive(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: '%s'" % text)
    if v <= 0:
        raise argparse.ArgumentTypeError("must be positive: '%s'" % text)
    return v


def main(argv):
    ap = argparse.ArgumentParser(
        description="Mean value analysis of a closed network: K FCFS "
        "stations and a think-time delay station.")
    ap.add_argument("--demands", type=parse_demands, default=SEED_DEMANDS,
                    help="service demands in seconds, D1,D2,... "
                    "(default: the seed's 0.005,0.004,0.003)")
    ap.add_argument("--rows", type=parse_rows,
                    help="N:Z pairs, e.g. 1500:10,15000:100")
    ap.add_argument("--seed-tables", action="store_true",
                    help="print the seed's Tables 1 and 2 (Schweitzer "
                    "unless --exact)")
    solver = ap.add_mutually_exclusive_group()
    solver.add_argument("--exact", dest="method", action="store_const",
                        const="exact", help="exact MVA (default for --rows)")
    solver.add_argument("--approx", dest="method", action="store_const",
                        const="approx", help="Schweitzer's approximate MVA, "
                        "as PDQ's Solve(APPROX) (default for --seed-tables)")
    ap.add_argument("--tol", type=positive, default=PDQ_TOL,
                    help="--approx convergence: largest change of any Q_k "
                    "(default %g, PDQ's)" % PDQ_TOL)
    ap.add_argument("--time-scale", type=positive, default=1.0,
                    help="divide demands and Z by this factor")
    ap.add_argument("--json", action="store_true",
                    help="one JSON object per row instead of the table")
    args = ap.parse_args(argv)

    if args.rows is None and not args.seed_tables:
        ap.error("give --rows N:Z,... or --seed-tables")

    scale = args.time_scale
    demands = [d / scale for d in args.demands]
    tables = []
    if args.seed_tables:
        method = args.method or "approx"
        tables.append(("Table 1: standard load test (fixed Z)", SEED_TABLE1))
        tables.append(("Table 2: Internet load test (scaled Z)", SEED_TABLE2))
    else:
        method = args.method or "exact"
    if args.rows is not None:
        tables.append((None, args.rows))

    out = sys.stdout
    for i, (title, rows) in enumerate(tables):
        solved = [solve(method, demands, n, z / scale, args.tol)
                  for n, z in rows]
        if args.json:
            for row in solved:
                row["method"] = method
                out.write(json.dumps(row) + "\n")
            continue
        if i > 0:
            out.write("\n")
        if title is not None:
            out.write("# %s, %s MVA\n" % (title, method))
        print_rows(solved, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
