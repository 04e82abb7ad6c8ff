#!/bin/sh
# systemd-units.sh: the unit files in contrib/systemd load cleanly
# (systemd-analyze verify, with ExecStart pointing at a real binary) and
# keep their sandbox tight (systemd-analyze security: overall exposure at
# most 2.0), and they say what the daemon's documentation promises.
. "$top_srcdir/tests/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 || skip_all "systemd-analyze not installed"
src=$top_srcdir/contrib/systemd

# ExecStart must name an executable for verify: the built daemon if there
# is one, otherwise a stand-in, since only the unit files are under test.
if [ -x "$ARRIVALD" ]; then
	sbin=$(dirname "$ARRIVALD")
else
	sbin=$T/sbin
	mkdir -p "$sbin"
	cp /bin/true "$sbin/arrivald"
	diag "no built arrivald; ExecStart uses a stand-in"
fi
u=$T/units
mkdir -p "$u"
for f in arrivald.service arrivald@.service; do
	sed -e "s|@sbindir[@]|$sbin|g" "$src/$f.in" >"$u/$f"
done
cp "$src/arrivald.socket" "$u/"

check "generated units keep no @substitution@" \
	sh -c "! grep -n '@[a-z_]*@' '$u/arrivald.service' '$u/arrivald@.service'"

# verify prints parse warnings without failing: clean means silent too.
verify() {
	out=$(cd "$u" && systemd-analyze verify --man=no "$@" 2>&1)
	rc=$?
	[ -n "$out" ] && diag "$out"
	[ $rc -eq 0 ] && [ -z "$out" ]
}
check "verify arrivald.service and arrivald.socket" verify ./arrivald.service ./arrivald.socket
check "verify an instance of arrivald@.service" verify ./arrivald@shard0.service

# and verify does catch what it should, so that the two above mean something
sed -e 's/^ProtectHome=yes/ProtectHome=sometimes/' "$u/arrivald.service" >"$u/broken.service"
if verify ./broken.service >/dev/null; then ok 1 "verify flags a bad setting (self-check)"; else ok 0 "verify flags a bad setting (self-check)"; fi
rm -f "$u/broken.service"

exposure() { # exposure UNIT: the overall exposure level, a number
	(cd "$u" && systemd-analyze security --offline=true --no-pager "$1" 2>/dev/null) |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
for f in arrivald.service arrivald@.service; do
	e=$(exposure "$f")
	diag "$f: overall exposure $e"
	check "$f: overall exposure ${e:-?} <= 2.0" \
	    awk -v e="${e:-99}" 'BEGIN { exit !(e != "" && e + 0 <= 2.0) }'
done

# what the man page and the daemon rely on
has() { grep -qx -- "$2" "$1"; }
for f in arrivald.service arrivald@.service; do
	check "$f: Type=notify" has "$u/$f" "Type=notify"
	check "$f: WatchdogSec=30" has "$u/$f" "WatchdogSec=30"
	check "$f: reload is SIGHUP" has "$u/$f" 'ExecReload=/bin/kill -HUP $MAINPID'
	check "$f: Restart=on-failure" has "$u/$f" "Restart=on-failure"
	check "$f: DynamicUser" has "$u/$f" "DynamicUser=yes"
	check "$f: no capabilities" has "$u/$f" "CapabilityBoundingSet="
	check "$f: LimitNOFILE" has "$u/$f" "LimitNOFILE=1048576"
	check "$f: IP egress stays open" sh -c "! grep -Eq '^(IPAddressDeny|PrivateNetwork)=' '$u/$f'"
done
check "arrivald.service: config and results paths" \
	has "$u/arrivald.service" "ExecStart=$sbin/arrivald -c /etc/arrivald/arrivald.conf -s /run/arrivald/control.sock -o /var/lib/arrivald"
check "arrivald.service: StateDirectory" has "$u/arrivald.service" "StateDirectory=arrivald"
check "arrivald@.service: per-instance config, socket and results" \
	has "$u/arrivald@.service" "ExecStart=$sbin/arrivald -c /etc/arrivald/%i.conf -s /run/arrivald/%i.sock -o /var/lib/arrivald/%i"
check "arrivald@.service: per-instance StateDirectory" has "$u/arrivald@.service" "StateDirectory=arrivald/%i"
check "arrivald.socket: the control socket path" has "$u/arrivald.socket" "ListenStream=/run/arrivald/control.sock"
check "arrivald.socket: SocketMode=0660" has "$u/arrivald.socket" "SocketMode=0660"

# the units make installs: substituted with the configured sbindir
for f in arrivald.service arrivald@.service; do
	if [ -f "$top_builddir/contrib/systemd/$f" ]; then
		check "built $f has ExecStart under sbindir" \
		    sh -c "grep -q '^ExecStart=/.*/arrivald ' '$top_builddir/contrib/systemd/$f' && ! grep -q '@sbindir' '$top_builddir/contrib/systemd/$f'"
	fi
done

done_testing
