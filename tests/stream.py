#!/usr/bin/env python3
"""stream.py LOG [options]: statistics of an arrival stream seen by
arrival-sut (-L: "arrival_ns departure_ns" per request).  Prints one JSON
object: n, span, rate, ks (KS distance of the gaps against Exp(rate)),
dispersion (variance/mean of counts in bins), cv (coefficient of
variation of the gaps), near (the share of gaps within 40% of the mean:
0.30 for Poisson, 1 for even spacing), grid (the share of arrivals
within a fifth of a gap of an even grid fitted to the stream: under 0.1
for Poisson at 600 arrivals, near 1 for even spacing, and a late arrival
moves only itself off the grid, not its neighbours' gaps), and the
counts per bin.  Options:
  --skip S   ignore the first S seconds (start-up)
  --until S  ignore after S seconds from the first arrival
  --bin S    bin width for the dispersion index (default 0.1)
  --rate R   the rate to test the gaps against (default: measured)
  --floor S  KS over the gaps above S seconds, less S (memorylessness)
"""
import json, math, sys

def main():
    args = sys.argv[1:]
    path = args.pop(0)
    opt = {"--skip": 0.0, "--until": 1e18, "--bin": 0.1, "--rate": 0.0,
           "--floor": 0.0}
    while args:
        k = args.pop(0)
        opt[k] = float(args.pop(0))
    t = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                t.append(int(parts[0]) / 1e9)
    t.sort()
    if len(t) < 3:
        print(json.dumps({"n": len(t)}))
        return
    t0 = t[0]
    t = [x for x in t if t0 + opt["--skip"] <= x < t0 + opt["--until"]]
    span = t[-1] - t[0]
    gaps = [b - a for a, b in zip(t, t[1:])]
    rate = opt["--rate"] or (len(gaps) / span)
    # Exp is memoryless: the gaps above a floor, less the floor, are Exp
    # at the same rate.  A floor above the target's timestamp resolution
    # (its event loop's time per request) keeps that out of the distance.
    fl = opt["--floor"]
    gs = sorted(g - fl for g in gaps if g > fl)
    n = len(gs)
    d = 0.0
    for i, g in enumerate(gs):
        f = 1 - math.exp(-rate * g)
        d = max(d, f - i / n, (i + 1) / n - f)
    mean = sum(gaps) / len(gaps)
    var = sum((g - mean) ** 2 for g in gaps) / len(gaps)
    w = opt["--bin"]
    nb = int(span / w)
    counts = [0] * nb
    for x in t:
        k = int((x - t[0]) / w)
        if k < nb:
            counts[k] += 1
    cm = sum(counts) / nb if nb else 0
    cv = sum((c - cm) ** 2 for c in counts) / (nb - 1) if nb > 1 else 0
    near = sum(1 for g in gaps if abs(g - mean) <= 0.4 * mean) / len(gaps)
    # The grid's spacing is the median of (t[k + h] - t[k]) / h, h half
    # the stream: a late arrival moves one of those pairs, where the
    # mean gap, (t[-1] - t[0]) / n, moves with the first and the last
    # arrival and tilts the whole grid.  Its phase is the median residual.
    h = len(t) // 2
    step = sorted((t[k + h] - t[k]) / h for k in range(len(t) - h))[(len(t) - h) // 2]
    res = sorted(x - k * step for k, x in enumerate(t))
    mid = res[len(res) // 2]
    grid = sum(1 for r in res if abs(r - mid) <= 0.2 * step) / len(t)
    print(json.dumps({"n": len(t), "span": span, "rate": len(gaps) / span,
                      "near": near, "grid": grid,
                      "ks": d, "dispersion": cv / cm if cm else 0,
                      "cv": math.sqrt(var) / mean if mean else 0,
                      "counts": counts}))

main()
