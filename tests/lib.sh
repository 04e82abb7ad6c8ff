# lib.sh: TAP helpers for the shell tests.  Source it first; it makes a
# private directory ($T), kills every process started with bg on exit,
# and gives conditions to wait on instead of sleeps.
set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/arrivald-test.XXXXXX")
tap_n=0
tap_failed=0
bg_pids=""

cleanup() {
	for p in $bg_pids; do kill "$p" 2>/dev/null; done
	for p in $bg_pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

ok() { # ok STATUS DESCRIPTION: STATUS 0 passes
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $2"
	fi
}

check() { # check DESCRIPTION COMMAND...: passes when COMMAND exits 0
	desc=$1; shift
	if "$@"; then ok 0 "$desc"; else ok 1 "$desc"; fi
}

skip_all() { echo "1..0 # SKIP $*"; trap - EXIT; rm -rf "$T"; exit 0; }
diag() { echo "# $*"; }
done_testing() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

bg() { # bg COMMAND...: run in the background, killed at exit; pid in $!
	"$@" &
	bg_pids="$bg_pids $!"
}

wait_for() { # wait_for SECONDS COMMAND...: poll until COMMAND succeeds
	limit=$1; shift
	end=$(( $(date +%s%N) + ${limit%.*} * 1000000000 ))
	while ! "$@" 2>/dev/null; do
		[ "$(date +%s%N)" -ge "$end" ] && return 1
		sleep 0.02
	done
	return 0
}

free_port() { # a TCP port on 127.0.0.1 free right now
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

port_open() { # port_open PORT: something listens on 127.0.0.1:PORT
	python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' "$1"
}

json_get() { # json_get FILE-OR-- EXPR: python expression over the object j
	python3 -c 'import json,sys
src=sys.argv[1]
j=json.load(sys.stdin if src=="-" else open(src))
print(eval(sys.argv[2]))' "$1" "$2"
}

sut_stat() { # sut_stat PORT FIELD: one field of arrival-sut's /_stats
	python3 -c 'import json,sys,urllib.request
j = json.load(urllib.request.urlopen("http://127.0.0.1:%s/_stats" % sys.argv[1]))
print(j[sys.argv[2]])' "$1" "$2"
}

sut_reset() { # sut_reset PORT: zero arrival-sut's counters
	python3 -c 'import sys,urllib.request
urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%s/_reset" % sys.argv[1], method="POST"))' "$1"
}
