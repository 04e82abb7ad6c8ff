#!/bin/sh
# resident.sh: the daemon's fixed statistics (the slice ring and the
# running totals, the static struct D of daemon.c) are resident once it
# runs, so its RSS does not creep up later as latencies first reach new
# ranges.  Read from /proc/PID/pagemap's present bit for every page of D,
# found with nm in the binary and placed by /proc/PID/maps.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
command -v nm >/dev/null 2>&1 || skip_all "nm not installed"
nm -S "$ARRIVALD" 2>/dev/null | grep -q ' [bBdD] D$' || skip_all "no symbol D in $ARRIVALD"
[ -r /proc/self/pagemap ] || skip_all "no /proc/PID/pagemap"

port=$(free_port)	# nothing listens: the requests fail as refused
cat >"$T/r.conf" <<CONF
workload = { rate = 10.0; seed = 5; workers = 1; };
targets = ( { name = "none"; url = "http://127.0.0.1:$port/"; } );
control = { socket = "$T/ctl.sock"; };
results = { dir = "$T/results"; };
CONF
bg "$ARRIVALD" -c "$T/r.conf" -d 60 2>"$T/err"
pid=$!
check "the daemon runs" wait_for 10 grep -q 'running:' "$T/err"

python3 - "$ARRIVALD" "$pid" >"$T/res" <<'PY'
import os, struct, subprocess, sys
exe, pid = sys.argv[1], sys.argv[2]
val = size = None
for line in subprocess.check_output(["nm", "-S", exe]).decode().splitlines():
    f = line.split()
    if len(f) == 4 and f[2] in "bBdD" and f[3] == "D":
        val, size = int(f[0], 16), int(f[1], 16)
real = os.path.realpath(exe)
base = None
for line in open("/proc/%s/maps" % pid):
    f = line.split()
    if len(f) >= 6 and f[5] == real and int(f[2], 16) == 0:
        base = int(f[0].split("-")[0], 16)
        break
page = os.sysconf("SC_PAGE_SIZE")
lo = base + val if val < base else val     # PIE: relative to the load base
first, last = lo // page, (lo + size - 1) // page
with open("/proc/%s/pagemap" % pid, "rb") as pm:
    pm.seek(first * 8)
    entries = struct.unpack("<%dQ" % (last - first + 1), pm.read(8 * (last - first + 1)))
absent = sum(1 for e in entries if not e >> 63 & 1)
print(size, len(entries), absent)
PY
read -r size pages absent <"$T/res"
diag "D: $size bytes, $pages pages, $absent not resident"
# Without the prefault most of them are absent (1,196 of 1,382); a
# sanitizer's redzone after the symbol, never written, is a few percent.
check "the fixed statistics are resident at start: $absent of $pages pages are not" \
	test "${pages:-0}" -gt 1000 -a "${absent:-$pages}" -le $((${pages:-0} / 8))
done_testing
