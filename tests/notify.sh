#!/bin/sh
# notify.sh: the real daemon under a service manager of our own making: a
# NOTIFY_SOCKET that records every datagram, a watchdog, SIGHUP with a
# good and a broken config, SIGTERM; then socket activation through
# systemd-socket-activate.  What systemd would see is what is checked.
. "$top_srcdir/tests/lib.sh"

[ -x "$ARRIVALD" ] || skip_all "no arrivald built"
[ -x "$ARRIVALCTL" ] || skip_all "no arrivalctl built"
grep -q '^#define HAVE_SYSTEMD 1' "$top_builddir/config.h" 2>/dev/null ||
	skip_all "built without libsystemd"

# A target: the reference one if built, else a port nobody listens on
# (every request is refused, which the daemon counts and survives).
port=$(free_port)
if [ -x "$ARRIVAL_SUT" ]; then
	bg "$ARRIVAL_SUT" -l "127.0.0.1:$port" -d 0.001
	wait_for 5 port_open "$port" || diag "arrival-sut did not come up; requests will be refused"
fi

conf=$T/arrivald.conf
write_conf() { # write_conf RATE [SOCKET]
	cat >"$conf" <<EOC
workload = {
  model = "open";
  arrivals = "poisson";
  rate = $1;
  seed = 7;
  workers = 1;
};
targets = ( { name = "home"; url = "http://127.0.0.1:$port/"; weight = 1.0; } );
control = { socket = "${2:-$T/ctl.sock}"; mode = "0600"; };
results = { dir = "$T/results"; interval = 1.0; };
EOC
}
write_conf 20.0

# The service manager's end: one line per datagram, newlines shown as |,
# each stamped with CLOCK_MONOTONIC in microseconds.
cat >"$T/recv.py" <<'EOP'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        d = s.recv(4096).decode("utf-8", "replace").replace("\n", "|")
        log.write("%d %s\n" % (time.monotonic_ns() // 1000, d))
EOP
: >"$T/notify.log"
bg python3 "$T/recv.py" "$T/notify" "$T/notify.log"
wait_for 5 test -S "$T/notify" || skip_all "could not start the notify receiver"

count() { grep -c -- "$1" "$T/notify.log"; }
has_line() { grep -q -- "$1" "$T/notify.log"; }
# a line matching $2 comes after the last line matching $1
after_last() {
	awk -v a="$1" -v b="$2" '$2 ~ a { seen = 1; ok = 0; next } seen && $2 ~ b { ok = 1 } END { exit !ok }' "$T/notify.log"
}
ctl_ok() { # ctl_ok SOCKET COMMAND...: the reply is {"ok": true, ...}
	s=$1; shift
	"$ARRIVALCTL" -j -s "$s" "$@" 2>/dev/null | python3 -c '
import json, sys
j = json.loads(sys.stdin.readline())
sys.exit(0 if j.get("ok") is True else 1)'
}
# a child that exited stays a zombie until waited for: that counts as dead
state() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1; }
dead() { st=$(state "$1"); [ -z "$st" ] || [ "$st" = Z ]; }
alive() { ! dead "$1"; }

NOTIFY_SOCKET=$T/notify WATCHDOG_USEC=1000000 \
	bg sh -c 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"' sh \
	"$ARRIVALD" -c "$conf" -o "$T/results" 2>"$T/arrivald.err"
pid=$!
ready_or_dead() { has_line 'READY=1' || dead "$pid"; }
wait_for 15 ready_or_dead
if dead "$pid"; then
	diag "$(tail -5 "$T/arrivald.err")"
	skip_all "arrivald did not start"
fi

check "READY=1 once config and sockets are up" has_line ' READY=1$'
check "the control socket answers after READY=1" ctl_ok "$T/ctl.sock" stats
check "STATUS= lines come by themselves" wait_for 10 has_line ' STATUS=.'
check "STATUS= is one line" sh -c "! grep -q ' STATUS=.*|' '$T/notify.log'"
watchdog3() { [ "$(count ' WATCHDOG=1$')" -ge 3 ]; }
check "WATCHDOG_USEC=1000000: pings keep coming" wait_for 10 watchdog3

# a good reload: RELOADING=1 with our clock, then READY=1, new rate live
write_conf 30.0
kill -HUP "$pid"
reloaded() { after_last '^RELOADING=1' '^READY=1$'; }
check "SIGHUP: RELOADING=1 then READY=1" wait_for 10 reloaded
line=$(grep ' RELOADING=1' "$T/notify.log" | tail -1)
check "RELOADING=1 carries MONOTONIC_USEC= near the manager's clock" \
	awk -v l="$line" 'BEGIN { split(l, f, " "); n = split(f[2], kv, "|");
	    for (i = 1; i <= n; i++) if (kv[i] ~ /^MONOTONIC_USEC=[0-9]+$/) { v = substr(kv[i], 16) + 0 }
	    d = f[1] - v; exit !(v > 0 && d >= 0 && d < 2000000) }'
rate30() {
	"$ARRIVALCTL" -j -s "$T/ctl.sock" stats 2>/dev/null | json_get - 'j["rate_target"]' | grep -Eqx '30(\.0*)?'
}
check "the reloaded config is the one running (rate_target 30)" wait_for 5 rate30

# a broken reload: FILE:LINE logged, the old config keeps running
nreload=$(count ' RELOADING=1')
printf 'workload = {\n  model = "open";\n  rate = -5.0;\n  bogus = ;\n};\n' >"$conf"
kill -HUP "$pid"
more_reloads() { [ "$(count ' RELOADING=1')" -gt "$nreload" ]; }
wait_for 10 more_reloads
logged() { grep -q "$conf:[0-9][0-9]*:" "$T/arrivald.err"; }
check "SIGHUP with a broken config logs FILE:LINE" wait_for 10 logged
check "... and the daemon keeps running" alive "$pid"
check "... READY=1 follows its RELOADING=1, or systemd would wait" wait_for 5 reloaded
check "... the control socket still answers stats" ctl_ok "$T/ctl.sock" stats
check "... with the old rate (30)" rate30

# stop: STOPPING=1, exit 0, results written
kill -TERM "$pid"
check "SIGTERM: STOPPING=1" wait_for 10 has_line ' STOPPING=1$'
check "SIGTERM: the daemon exits within the drain bound" wait_for 30 dead "$pid"
wait "$pid"
rc=$?
ok $rc "SIGTERM: exit status 0 (got $rc)"
check "SIGTERM: results written" test -e "$T/results/latest/summary.json"
check "nothing but sd_notify states was sent" \
	sh -c "! grep -Ev ' (READY=1|STOPPING=1|WATCHDOG=1|STATUS=.*|RELOADING=1\\|MONOTONIC_USEC=[0-9]+)$' '$T/notify.log'"

# socket activation: the daemon serves the socket it was handed, and does
# not make its own at the configured path
write_conf 10.0 "$T/unused.sock"
if command -v systemd-socket-activate >/dev/null 2>&1; then
	bg systemd-socket-activate -l "$T/act.sock" \
	    "$ARRIVALD" -c "$conf" -o "$T/results" 2>"$T/activated.err"
	apid=$!
	wait_for 10 test -S "$T/act.sock"
	check "socket-activated: stats over the passed socket" wait_for 15 ctl_ok "$T/act.sock" stats
	check "socket-activated: no socket made at control.socket" test ! -e "$T/unused.sock"
	kill -TERM "$apid"
	check "socket-activated: stops on SIGTERM" wait_for 30 dead "$apid"
else
	diag "systemd-socket-activate not installed: activation not tried"
fi

done_testing
