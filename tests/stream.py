#!/usr/bin/env python3
"""stream.py LOG [options]: statistics of an arrival stream seen by
arrival-sut (-L: "arrival_ns departure_ns" per request).  Prints one JSON
object: n, span, rate, ks (KS distance of the gaps against Exp(rate)),
dispersion (variance/mean of counts in bins), cv (coefficient of
variation of the gaps), and the counts per bin.  Options:
  --skip S   ignore the first S seconds (start-up)
  --until S  ignore after S seconds from the first arrival
  --bin S    bin width for the dispersion index (default 0.1)
  --rate R   the rate to test the gaps against (default: measured)
"""
import json, math, sys

def main():
    args = sys.argv[1:]
    path = args.pop(0)
    opt = {"--skip": 0.0, "--until": 1e18, "--bin": 0.1, "--rate": 0.0}
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
    gs = sorted(gaps)
    n = len(gs)
    d = 0.0
    for i, g in enumerate(gs):
        f = 1 - math.exp(-rate * g)
        d = max(d, f - i / n, (i + 1) / n - f)
    mean = sum(gaps) / n
    var = sum((g - mean) ** 2 for g in gaps) / n
    w = opt["--bin"]
    nb = int(span / w)
    counts = [0] * nb
    for x in t:
        k = int((x - t[0]) / w)
        if k < nb:
            counts[k] += 1
    cm = sum(counts) / nb if nb else 0
    cv = sum((c - cm) ** 2 for c in counts) / (nb - 1) if nb > 1 else 0
    print(json.dumps({"n": len(t), "span": span, "rate": len(gaps) / span,
                      "ks": d, "dispersion": cv / cm if cm else 0,
                      "cv": math.sqrt(var) / mean if mean else 0,
                      "counts": counts}))

main()
