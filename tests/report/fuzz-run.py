#!/usr/bin/env python3
"""fuzz-run.py WRITER RUNDIR COUNT SEED: damage copies of a run directory
and feed them to WRITER (report-write).  Each case must end in exit 0 with
a report.html, or exit 1 with an error naming summary.json or
timeseries.csv; never a signal, a sanitizer report or a hang.  Prints one
'# ' line per bad case; exit 0 when there were none.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

FILES = ["summary.json", "timeseries.csv", "timers.csv", "failures.csv",
         "latency.hgrm"]
WEIRD = [b"", b",", b'"', b"nan", b"inf", b"-inf", b"1e308", b"-1e308",
         b"1e-320", b"-5", b"0", b"\x00", b"\xff\xfe", b"<b>", b'""',
         b'"a,b"', b"\n", b"\r\n", b"null", b"{}", b"[]", b"9" * 400,
         b"1e999", b"0x10"]


def damage(rng, path):
    data = bytearray(open(path, "rb").read())
    op = rng.random()
    if op < 0.35 and data:
        i = rng.randrange(len(data))
        data[i:i + rng.randint(1, 5)] = rng.choice(WEIRD)
    elif op < 0.6:
        parts = data.split(b",")
        if len(parts) > 2:
            parts[rng.randrange(len(parts))] = rng.choice(WEIRD)
        data = bytearray(b",".join(parts))
    elif op < 0.8 and data:
        data = data[:rng.randrange(len(data))]
    elif op < 0.9:
        lines = data.split(b"\n")
        rng.shuffle(lines)
        data = bytearray(b"\n".join(lines))
    else:
        data = bytearray(rng.randbytes(rng.randint(0, 200)))
    open(path, "wb").write(data)


def main():
    writer, src, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "run")
        for case in range(count):
            shutil.rmtree(d, ignore_errors=True)
            shutil.copytree(src, d)
            if os.path.exists(os.path.join(d, "report.html")):
                os.unlink(os.path.join(d, "report.html"))
            for _ in range(rng.randint(1, 4)):
                damage(rng, os.path.join(d, rng.choice(FILES)))
            try:
                p = subprocess.run([writer, d], capture_output=True, timeout=30)
            except subprocess.TimeoutExpired:
                print("# case %d: hung" % case)
                bad += 1
                continue
            err = p.stderr.decode("utf-8", "replace")
            why = None
            if "Sanitizer" in err or "runtime error" in err:
                why = "sanitizer: " + err[-300:]
            elif p.returncode == 0 and not os.path.exists(os.path.join(d, "report.html")):
                why = "exit 0 without report.html"
            elif p.returncode == 1 and "summary.json" not in err and \
                    "timeseries.csv" not in err:
                why = "error names no file: " + err.strip()
            elif p.returncode not in (0, 1):
                why = "exit %d: %s" % (p.returncode, err[-300:])
            if why:
                print("# case %d: %s" % (case, why.replace("\n", "\n# ")))
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
