#!/usr/bin/env python3
"""fit.py: does an arrival-sut -L log follow a rate profile?

  fit.py LOG PROFILE.csv SPEED SCALE END BIN FROM UNTIL [--offset-from S]

Counts arrivals per BIN seconds over [FROM, UNTIL) of the replay and
tests them against the integral of lambda(t) over each bin (Pearson
chi-square; counts of a non-homogeneous Poisson process in disjoint
bins are independent Poisson with those means).  The replay's origin is
not visible in the log, so it is fitted: the offset from the first
arrival (within --offset-from S before it, 1 ms steps) with the smallest
chi-square; one degree of freedom is taken for it.  Prints JSON: n,
expected, chi2, df, p (the upper tail), offset, counts, means.
"""
import json, math, sys


def load_profile(path, speed, scale):
    pts = []
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        a, b = line.split(",")
        try:
            pts.append((float(a), float(b)))
        except ValueError:
            continue  # the header
    t0 = pts[0][0]
    return [((t - t0) / speed, r * scale) for t, r in pts]


def rate(pts, end, t):
    last = pts[-1][0]
    if t >= last:
        if end == "stop":
            return 0.0
        if end == "hold" or last <= 0:
            return pts[-1][1]
        t = math.fmod(t, last)
    if t <= pts[0][0]:
        return pts[0][1]
    for (ta, ra), (tb, rb) in zip(pts, pts[1:]):
        if ta <= t < tb:
            return ra + (rb - ra) * (t - ta) / (tb - ta)
    return pts[-1][1]


def integral(pts, end, a, b, steps=200):
    h = (b - a) / steps
    return sum(rate(pts, end, a + (i + 0.5) * h) for i in range(steps)) * h


def upper_gamma_q(s, x):
    """regularized upper incomplete gamma Q(s, x), by series or fraction"""
    if x <= 0:
        return 1.0
    lg = math.lgamma(s)
    if x < s + 1:
        term = total = 1.0 / s
        n = s
        for _ in range(1000):
            n += 1
            term *= x / n
            total += term
            if term < total * 1e-15:
                break
        return 1.0 - total * math.exp(-x + s * math.log(x) - lg)
    b, c, d = x + 1 - s, 1e300, 1 / (x + 1 - s)
    h = d
    for i in range(1, 1000):
        an = -i * (i - s)
        b += 2
        d = an * d + b
        d = 1 / (d if abs(d) > 1e-300 else 1e-300)
        c = b + an / c
        c = c if abs(c) > 1e-300 else 1e-300
        h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return math.exp(-x + s * math.log(x) - lg) * h


def main():
    a = sys.argv[1:]
    back = 0.3
    if "--offset-from" in a:
        i = a.index("--offset-from")
        back = float(a[i + 1])
        del a[i:i + 2]
    log, prof, speed, scale, end, w, lo, hi = a
    speed, scale, w, lo, hi = map(float, (speed, scale, w, lo, hi))
    pts = load_profile(prof, speed, scale)
    t = sorted(int(l.split()[0]) / 1e9 for l in open(log) if l.strip())
    nb = int(round((hi - lo) / w))
    means = [integral(pts, end, lo + k * w, lo + (k + 1) * w) for k in range(nb)]
    best = None
    for ms in range(0, int(back * 1000) + 1):
        origin = t[0] - ms / 1000.0
        counts = [0] * nb
        for x in t:
            k = math.floor((x - origin - lo) / w)
            if 0 <= k < nb:
                counts[k] += 1
        chi2 = sum((c - m) ** 2 / m for c, m in zip(counts, means) if m > 0)
        if best is None or chi2 < best[0]:
            best = (chi2, ms / 1000.0, counts)
    chi2, off, counts = best
    df = sum(1 for m in means if m > 0) - 1
    print(json.dumps({"n": sum(counts), "expected": sum(means), "chi2": chi2,
                      "df": df, "p": upper_gamma_q(df / 2.0, chi2 / 2.0),
                      "offset": off, "counts": counts,
                      "means": [round(m, 1) for m in means]}))


main()
