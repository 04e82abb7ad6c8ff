#!/bin/sh
# run-fuzz.sh BUILD_DIR SECONDS: build the libFuzzer targets in BUILD_DIR
# and run each for SECONDS from its seed corpus.  Fails on any crash,
# leak, timeout or sanitizer report; the input that caused it is left in
# BUILD_DIR/fuzz-out/ as crash-*, leak-* or timeout-*.  The seed corpora
# in the source tree are read, never written: new inputs go to the
# work corpus under BUILD_DIR/fuzz-out/.
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$1
secs=$2
src=$(cd "$(dirname "$0")/../.." && pwd)

make -C "$build" fuzz || { echo "run-fuzz: building the targets failed" >&2; exit 1; }

status=0
for t in ctl-proto:corpus-ctl conf:corpus-conf; do
	name=${t%%:*}
	seeds=$src/tests/fuzz/${t#*:}
	work=$build/fuzz-out/$name
	mkdir -p "$work/corpus"
	echo "run-fuzz: fuzz-$name for $secs s"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=detect_leaks=1 \
	LSAN_OPTIONS=suppressions=$src/tests/fuzz/lsan.supp:print_suppressions=0 \
	"$build/fuzz-$name" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
	    -artifact_prefix="$work/" "$work/corpus" "$seeds" \
	    >"$work/log" 2>&1
	rc=$?
	tail -n 12 "$work/log"
	if [ $rc -ne 0 ] || grep -q 'ERROR: \(AddressSanitizer\|LeakSanitizer\|libFuzzer\)\|runtime error:' "$work/log"; then
		echo "run-fuzz: fuzz-$name FAILED (exit $rc); see $work/log" >&2
		status=1
	else
		echo "run-fuzz: fuzz-$name ok"
	fi
done
exit $status
