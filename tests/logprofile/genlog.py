#!/usr/bin/env python3
"""genlog.py: a synthetic access log of a known shape, for logprofile.sh.

A six-hour morning in a -0700 zone whose rate lambda(t) climbs 2/s -> 20/s
over two hours, holds 20/s for an hour (so the busiest hour is 08:00-09:00
local) and falls to 5/s over three.  Arrivals are a Poisson process drawn
by thinning with a fixed seed, written in whole seconds, shuffled across
two files (one gzip'd), a few of them in other UTC offsets, with known
malformed lines mixed in.  truth.json holds what a correct reader must
find: every well-formed arrival's UTC second, the shape, and the counts.
"""
import argparse
import datetime
import gzip
import json
import os
import random

# 2010-05-15T06:00:00-0700 = 13:00:00Z
START = 1273928400
ZONE = -7 * 60
# (hours since START, rate) points; lambda is linear between them
SHAPE = [(0.0, 2.0), (2.0, 20.0), (3.0, 20.0), (6.0, 5.0)]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def lam(t):
    """lambda at t seconds since START"""
    h = t / 3600.0
    for (h0, r0), (h1, r1) in zip(SHAPE, SHAPE[1:]):
        if h0 <= h <= h1:
            return r0 + (r1 - r0) * (h - h0) / (h1 - h0)
    return 0.0


_stamps = {}


def stamp(epoch, off_min):
    """[dd/Mon/yyyy:HH:MM:SS +hhmm] for a UTC second shown in an offset"""
    if (epoch, off_min) in _stamps:
        return _stamps[epoch, off_min]
    t = datetime.datetime.fromtimestamp(epoch + off_min * 60,
                                        datetime.timezone.utc)
    sign = "-" if off_min < 0 else "+"
    a = abs(off_min)
    s = "[%02d/%s/%04d:%02d:%02d:%02d %s%02d%02d]" % (
        t.day, MONTHS[t.month - 1], t.year, t.hour, t.minute, t.second,
        sign, a // 60, a % 60)
    _stamps[epoch, off_min] = s
    return s


PREFIX = ['10.0.%d.%d - - ' % (i * 37 % 256, i * 91 % 256) for i in range(7)]
SUFFIX = [' "GET /item/%d HTTP/1.1" %s "-" %s' % (i * 7919 % 10000, st, ag)
          for i, (st, ag) in enumerate(zip(
              ["200 512", "200 -", "304 -", "404 153", "500 0"],
              ['"Mozilla/5.0 (X11; Linux x86_64)"', '"curl/7.68.0"',
               '"agent with \\"quotes\\""', '"-"', '"Wget/1.20"']))]


def line(i, epoch, off_min):
    return PREFIX[i % 7] + stamp(epoch, off_min) + SUFFIX[i % 5]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20100515)
    ap.add_argument("dir")
    a = ap.parse_args()
    rng = random.Random(a.seed)

    # a Poisson process seen at one-second resolution: the count in each
    # second is Poisson with mean the integral of lambda over it (lambda is
    # linear within every second, so that is lambda at the midpoint), drawn
    # by counting unit exponential gaps
    arrivals = []
    for sec in range(int(SHAPE[-1][0] * 3600)):
        mean, mass = lam(sec + 0.5), rng.expovariate(1.0)
        while mass < mean:
            arrivals.append(START + sec)
            mass += rng.expovariate(1.0)

    good = []
    for i, e in enumerate(arrivals):
        # every 997th in +0200, and a few more exotic offsets
        off = ZONE
        if i % 997 == 0:
            off = 120
        elif i % 4999 == 0:
            off = rng.choice([330, 345, -570, 840, -720])
        good.append(line(i, e, off).encode())

    bad = [
        b"",
        b"garbage",
        b"10.0.0.1 - - [15/Foo/2010:06:30:00 -0700] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
        b"10.0.0.1 - - [15/May/2010:06:30:00] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
        b"10.0.0.1 - - [15/May/2010:25:30:00 -0700] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
        b"10.0.0.1 - - [31/Apr/2010:06:30:00 -0700] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
        b"10.0.0.1 - - 15/May/2010:06:30:00 -0700 \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
        b"10.0.0.1 - - [15/May/2010:06:30:00 -0700] \"GET / HTTP/1.1 200 1",
        b"10.0.0.1 - - [15/May/2010:06:30:00 -0700] \"GET / HTTP/1.1\" 200 1",
        b"10.0.0.1 - - [15/May/2010:06:30:00 -0700] \"GET / HTTP/1.1\" abc 1 \"-\" \"-\"",
        b"10.0.0.1 - - [15/May/2010:06:30:00 -0700] \"GET \x00/ HTTP/1.1\" 200 1 \"-\" \"-\"",
        b"\xff\xfe\xfd binary \x01\x02",
        b"10.0.0.1 - - [15/May/2010:06:30:00 -0700] \"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\" 200 1 \"-\" \"-\"",
    ]
    # out of order: blocks of lines in random order, each block reversed,
    # dealt between a plain and a gzip'd file
    lines = good
    for x in bad:  # the malformed lines somewhere among the good
        lines.insert(rng.randrange(len(lines) + 1), x)
    blocks = [lines[i:i + 500][::-1] for i in range(0, len(lines), 500)]
    rng.shuffle(blocks)
    os.makedirs(a.dir, exist_ok=True)
    files = [[], []]
    for blk in blocks:
        files[rng.random() < 0.5].extend(blk)
    with open(os.path.join(a.dir, "access.log"), "wb") as f:
        f.write(b"\n".join(files[0]) + b"\n")
    with gzip.open(os.path.join(a.dir, "access.log.1.gz"), "wb", 1) as f:
        f.write(b"\n".join(files[1]) + b"\n")
    per_second = {}
    for e in arrivals:
        per_second[e] = per_second.get(e, 0) + 1
    json.dump({"start": START, "zone": ZONE, "shape": SHAPE,
               "per_second": per_second, "lines": len(lines),
               "malformed": len(bad)},
              open(os.path.join(a.dir, "truth.json"), "w"))


if __name__ == "__main__":
    main()
