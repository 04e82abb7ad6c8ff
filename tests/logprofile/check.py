#!/usr/bin/env python3
"""check.py: checks of a profile made from genlog.py's log, for logprofile.sh.

    check.py WHAT TRUTH.json PROFILE.csv SUMMARY.txt INTERVAL
    check.py integrals PROFILE.csv INTERVAL

WHAT is one of:
  format   header, times strictly rising from 0, rates >= 0, two points per
           interval and one more
  exact    the integral of the piecewise-linear profile over every interval
           is the number of well-formed lines in it, and they sum to all
  poisson  every interval's count lies in its Poisson interval around the
           integral of the true lambda (Bonferroni over the intervals, 1e-4
           in all), and the chi-square over all intervals lies in its bounds
  summary  the stderr summary counts lines, arrivals and malformed lines
  peak     the peak hour is the busiest 60-interval window of the true
           counts (earliest on a tie), in the log's -0700 and in UTC; it
           lies where the shape puts it (08:00-09:00 local, within 30 min)
           and its mean is within Poisson bounds of the shape's; the
           profile names it in a comment
shown checks that every FILE:LINE the summary shows as malformed is one of
genlog.py's malformed lines.
integrals prints the profile's integral over each interval, rounded, to
check small hand-made logs against.
Exits 0 when the check passes; says why on stdout as TAP comments.
"""
import datetime
import json
import math
import re
import sys


def fail(msg):
    print("# " + msg)
    sys.exit(1)


def load(truth, profile):
    t = json.load(open(truth))
    per_second = {int(k): v for k, v in t["per_second"].items()}
    rows = open(profile).read().split("\n")
    pts = []
    for row in rows[1:]:
        if row == "" or row.startswith("#"):
            continue
        ts, rs = row.split(",")
        pts.append((float(ts), float(rs)))
    return t, per_second, rows[0], pts


def integral(pts, a, b):
    """exact integral of the linear interpolation of pts over [a, b]"""
    s = 0.0
    for (t0, r0), (t1, r1) in zip(pts, pts[1:]):
        lo, hi = max(a, t0), min(b, t1)
        if hi <= lo:
            continue
        ra = r0 + (r1 - r0) * (lo - t0) / (t1 - t0)
        rb = r0 + (r1 - r0) * (hi - t0) / (t1 - t0)
        s += (ra + rb) / 2 * (hi - lo)
    return s


def counts(per_second, interval):
    """the true counts per interval from the first arrival's interval"""
    first = min(per_second)
    base = math.floor(first / interval)
    last = math.floor(max(per_second) / interval)
    c = [0] * (last - base + 1)
    for sec, n in per_second.items():
        c[math.floor(sec / interval) - base] += n
    return base * interval, c


def lam_integral(t, a, b):
    """integral of the true lambda over [a, b] in epoch seconds"""
    pts = [(t["start"] + h * 3600, r) for h, r in t["shape"]]
    return integral(pts, a, b)


def log_pmf(k, mu):
    return k * math.log(mu) - mu - math.lgamma(k + 1)


def poisson_bounds(mu, tail):
    """smallest lo and largest hi with P(X < lo) <= tail, P(X > hi) <= tail"""
    lo, cdf, k = 0, 0.0, 0
    while True:
        cdf += math.exp(log_pmf(k, mu))
        if cdf > tail:
            lo = k
            break
        k += 1
    hi, sf, k = 0, 0.0, int(mu + 40 * math.sqrt(mu) + 40)
    while k >= 0:
        sf += math.exp(log_pmf(k, mu))
        if sf > tail:
            hi = k
            break
        k -= 1
    return lo, hi


def chi2_quantile(n, z):
    """Wilson-Hilferty approximation"""
    return n * (1 - 2 / (9 * n) + z * math.sqrt(2 / (9 * n))) ** 3


def main():
    if sys.argv[1] == "integrals":
        rows = open(sys.argv[2]).read().split("\n")[1:]
        pts = [tuple(float(x) for x in r.split(",")) for r in rows
               if r and not r.startswith("#")]
        s = float(sys.argv[3])
        n = round(pts[-1][0] / s)
        print(" ".join("%.6g" % round(integral(pts, i * s, (i + 1) * s), 6)
                       for i in range(n)))
        return
    if sys.argv[1] == "shown":
        import gzip
        text = open(sys.argv[2]).read()
        shown = re.findall(r"(\S+):(\d+): malformed line skipped", text)
        if not shown:
            fail("no malformed line shown")
        for name, n in shown:
            f = gzip.open(name) if name.endswith(".gz") else open(name, "rb")
            lines = f.read().split(b"\n")
            x = lines[int(n) - 1]
            if not (x == b"" or x.startswith((b"10.0.0.1 ", b"garbage",
                                               b"\xff"))):
                fail("%s:%s is not a malformed line: %r" % (name, n, x[:80]))
        return
    what, truth, profile, summary, interval = sys.argv[1:6]
    interval = float(interval)
    t, per_second, header, pts = load(truth, profile)
    t0, c = counts(per_second, interval)
    text = open(summary).read()

    if what == "format":
        if header != "t_seconds,rate":
            fail("header is %r" % header)
        if pts[0][0] != 0:
            fail("first time is %g" % pts[0][0])
        for (a, _), (b, _) in zip(pts, pts[1:]):
            if b <= a:
                fail("time %g after %g" % (b, a))
        if min(r for _, r in pts) < 0:
            fail("a negative rate")
        if len(pts) != 2 * len(c) + 1:
            fail("%d points for %d intervals" % (len(pts), len(c)))
        if abs(pts[-1][0] - len(c) * interval) > 1e-6:
            fail("last point at %g, not %g" % (pts[-1][0], len(c) * interval))

    elif what == "exact":
        worst = 0.0
        for i, n in enumerate(c):
            got = integral(pts, i * interval, (i + 1) * interval)
            if abs(got - n) > 1e-6 * max(1, n):
                fail("interval %d: integral %.6f, %d arrivals" % (i, got, n))
            worst = max(worst, abs(got - n))
        total = integral(pts, 0, pts[-1][0])
        if abs(total - sum(c)) > 1e-6 * sum(c):
            fail("profile integrates to %.3f, log has %d" % (total, sum(c)))
        print("# %d intervals, worst error %.2g arrivals" % (len(c), worst))

    elif what == "poisson":
        tail = 1e-4 / (2 * len(c))
        x2 = 0.0
        for i, n in enumerate(c):
            a = t0 + i * interval
            mu = lam_integral(t, a, a + interval)
            lo, hi = poisson_bounds(mu, tail)
            if not lo <= n <= hi:
                fail("interval %d: %d arrivals, lambda gives %.1f [%d, %d]"
                     % (i, n, mu, lo, hi))
            x2 += (n - mu) ** 2 / mu
        lo, hi = chi2_quantile(len(c), -4.75), chi2_quantile(len(c), 4.75)
        print("# chi-square %.1f over %d intervals, bounds [%.1f, %.1f]"
              % (x2, len(c), lo, hi))
        if not lo <= x2 <= hi:
            fail("chi-square out of bounds")

    elif what == "summary":
        m = re.search(r"(\d+) lines read, (\d+) arrivals counted, (\d+) "
                      r"malformed lines skipped", text)
        if not m:
            fail("no counts in the summary")
        got = tuple(int(x) for x in m.groups())
        want = (t["lines"], sum(per_second.values()), t["malformed"])
        if got != want:
            fail("summary says %s, want %s" % (got, want))
        shown = len(re.findall(r"malformed line skipped", text))
        if shown != min(5, t["malformed"]):
            fail("%d malformed lines shown" % shown)

    elif what == "peak":
        w = round(3600 / interval)
        best, at = -1, 0
        for i in range(len(c) - w + 1):
            s = sum(c[i:i + w])
            if s > best:
                best, at = s, i
        start = t0 + at * interval
        m = re.search(r"peak hour: ([0-9.e+]+) req/s from (\S+) \((\S+)\), "
                      r"(\d+) arrivals", text)
        if not m:
            fail("no peak hour in the summary")
        rate, local, utc, n = m.groups()
        zone = datetime.timezone(datetime.timedelta(minutes=t["zone"]))
        want_local = datetime.datetime.fromtimestamp(start, zone) \
            .strftime("%Y-%m-%dT%H:%M:%S%z")
        want_utc = datetime.datetime.fromtimestamp(
            start, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        print("# peak %s req/s from %s (%s), %s arrivals" % m.groups())
        if "\n# " + m.group(0) + "\n" not in open(profile).read():
            fail("the profile's comment does not name the peak hour")
        if (local, utc, int(n)) != (want_local, want_utc, best):
            fail("want %s (%s), %d arrivals" % (want_local, want_utc, best))
        if abs(float(rate) - best / 3600) > 0.001 * best / 3600:
            fail("rate %s, want %.4g" % (rate, best / 3600))
        # the shape's busiest hour starts 2 h in (08:00 local)
        if abs(start - (t["start"] + 7200)) > 1800:
            fail("peak hour %d s from where the shape puts it"
                 % (start - t["start"] - 7200))
        mu = lam_integral(t, start, start + 3600)
        lo, hi = poisson_bounds(mu, 1e-5)
        if not lo <= best <= hi:
            fail("peak hour count %d, lambda gives %.0f [%d, %d]"
                 % (best, mu, lo, hi))
    else:
        fail("no check " + what)


if __name__ == "__main__":
    main()
