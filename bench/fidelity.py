#!/usr/bin/env python3
"""fidelity.py: how Poisson are the arrivals a target actually saw?

Reads arrival-sut's per-request log (-L LOG: one "arrival_ns departure_ns"
line per request, both on the target's clock) and prints one JSON object:

  rate        achieved arrival rate over the measured span (req/s)
  ks          Kolmogorov-Smirnov distance of the gaps from Exp(rate): the
              largest gap between their empirical CDF and 1 - exp(-rate x).
              A Poisson stream of n gaps stays under ks_crit = 1.36/sqrt(n)
              95% of the time; timer ticks and batches push it far above.
  ks_crit     that 95% bound for this n
  dispersion  variance/mean of the counts in --bin second bins (index of
              dispersion): 1 for Poisson, near 0 for evenly spaced
              arrivals, above 1 for batches
  disp_lo, disp_hi  its 99.9% band for Poisson with this many bins
              (variance/mean of m Poisson counts is chi2(m-1)/(m-1))
  near_zero   share of gaps below 5% of the mean gap, and near_zero_poisson
              what Exp gives there (1 - exp(-0.05) = 4.9%)
  cv          coefficient of variation of the gaps (1 for Exp)
  Q           time-averaged number of requests in the target, from the same
              log (the end-to-end check: M/M/1 gives U/(1-U))
  R           mean time in the target
  ks_floor, ks_floor_crit, floor_gaps  with --floor F: the KS distance
              of the gaps longer than F, less F, from the same Exp(rate),
              its 95% bound and how many gaps that is.  A target that
              stamps an arrival when its event loop gets to it does not
              resolve gaps shorter than its time per request (arrival-sut
              takes the kernel's receive stamps instead); Exp is
              memoryless, so above a floor a Poisson stream's gaps less
              the floor are again Exp(rate), and such a target's
              resolution is kept out of the distance.
  stray       requests dropped for standing more than 1 s apart from the
              rest at either end of the log

The first --skip seconds are dropped, so that connection set-up does not
count as burstiness, and so is everything after the last full bin.
"""

import argparse
import json
import math
import sys


def chi2_quantile(p, k):
    """Wilson-Hilferty: good to a few parts in a thousand for k > 30."""
    # The normal quantile by bisection on erf: called twice per log, so
    # simple beats fast.
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < p:
            lo = mid
        else:
            hi = mid
    z = (lo + hi) / 2
    h = 2.0 / (9.0 * k)
    return k * (1 - h + z * math.sqrt(h)) ** 3


def read_log(path):
    arrivals = []
    departures = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            try:
                a = int(parts[0])
                d = int(parts[1]) if len(parts) > 1 else 0
            except ValueError:
                sys.exit("%s:%d: want 'arrival_ns departure_ns', got %r"
                         % (path, lineno, line.strip()))
            arrivals.append(a)
            departures.append(d)
    return arrivals, departures


def ks_exp(gaps_sorted, rate):
    """KS distance of sorted gaps from Exp(rate), both sides of each step."""
    m = len(gaps_sorted)
    ks = 0.0
    for i, g in enumerate(gaps_sorted):
        cdf = 1.0 - math.exp(-rate * g)
        ks = max(ks, abs((i + 1) / m - cdf), abs(cdf - i / m))
    return ks


def analyse(arrivals, departures, skip, bin_s, floor=0.0):
    order = sorted(range(len(arrivals)), key=arrivals.__getitem__)
    arr = [arrivals[i] / 1e9 for i in order]
    dep = [departures[i] / 1e9 for i in order]
    # A stray request seconds away from the stream (a late retry, a probe)
    # would stretch the span and empty the bins: drop such isolated ends
    # and count them, so the figure says so instead of being skewed.
    stray = 0
    while len(arr) > 1 and arr[1] - arr[0] > 1.0:
        arr.pop(0); dep.pop(0); stray += 1
    while len(arr) > 1 and arr[-1] - arr[-2] > 1.0:
        arr.pop(); dep.pop(); stray += 1
    if len(arr) < 100:
        raise ValueError("only %d requests in the log; need 100 or more"
                         % len(arr))
    start = arr[0] + skip
    nbins = int((arr[-1] - start) / bin_s)
    if nbins < 10:
        raise ValueError("the log covers %.2f s after --skip; need 10 bins "
                         "of %g s" % (arr[-1] - start, bin_s))
    end = start + nbins * bin_s
    window = [t for t in arr if start <= t < end]
    n = len(window)
    gaps = [b - a for a, b in zip(window, window[1:])]
    mean_gap = sum(gaps) / len(gaps)
    rate = 1.0 / mean_gap

    # KS distance against Exp(rate), both sides of each step.
    gaps_sorted = sorted(gaps)
    m = len(gaps_sorted)
    ks = ks_exp(gaps_sorted, rate)
    above = [g - floor for g in gaps_sorted if g > floor]
    ks_floor = ks_exp(above, rate) if above else None

    counts = [0] * nbins
    for t in window:
        counts[min(int((t - start) / bin_s), nbins - 1)] += 1
    cmean = sum(counts) / nbins
    cvar = sum((c - cmean) ** 2 for c in counts) / (nbins - 1)
    dispersion = cvar / cmean if cmean > 0 else float("nan")
    dof = nbins - 1

    gvar = sum((g - mean_gap) ** 2 for g in gaps) / (m - 1)
    near = sum(1 for g in gaps if g < 0.05 * mean_gap) / m

    # Number in the target, time-averaged over [start, end): the overlap
    # of each request's stay with the window.  A request still inside at
    # the end of the log (departure 0) stays to the end.
    busy = 0.0
    stays = []
    for a, d in zip(arr, dep):
        if d <= 0:
            d = end
        if d < a:
            continue
        if start <= a < end and d <= end:
            stays.append(d - a)
        lo, hi = max(a, start), min(d, end)
        if hi > lo:
            busy += hi - lo
    return {
        "requests": n,
        "stray": stray,
        "span": end - start,
        "rate": n / (end - start),
        "ks": ks,
        "ks_crit": 1.36 / math.sqrt(m),
        "floor": floor,
        "floor_gaps": len(above),
        "ks_floor": ks_floor,
        "ks_floor_crit": 1.36 / math.sqrt(len(above)) if above else None,
        "dispersion": dispersion,
        "disp_lo": chi2_quantile(0.0005, dof) / dof,
        "disp_hi": chi2_quantile(0.9995, dof) / dof,
        "bins": nbins,
        "near_zero": near,
        "near_zero_poisson": 1 - math.exp(-0.05),
        "cv": math.sqrt(gvar) / mean_gap,
        "Q": busy / (end - start),
        "R": sum(stays) / len(stays) if stays else None,
    }


def main(argv):
    ap = argparse.ArgumentParser(description="Poisson fidelity of the "
                                 "arrivals in an arrival-sut log.")
    ap.add_argument("log", help="arrival-sut -L file")
    ap.add_argument("--skip", type=float, default=1.0,
                    help="seconds to drop at the start (default 1)")
    ap.add_argument("--bin", type=float, default=0.1,
                    help="bin width for the dispersion index (default 0.1 s)")
    ap.add_argument("--floor", type=float, default=0.0,
                    help="also KS over the gaps above this many seconds, "
                    "less it (default 0: all gaps)")
    args = ap.parse_args(argv)
    if args.skip < 0 or args.bin <= 0:
        ap.error("--skip must be >= 0 and --bin > 0")
    try:
        arrivals, departures = read_log(args.log)
        result = analyse(arrivals, departures, args.skip, args.bin,
                         args.floor)
    except (OSError, ValueError) as e:
        sys.exit("fidelity.py: %s: %s" % (args.log, e))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
