#!/bin/sh
# valgrind.sh: arrivald --demo under valgrind's memcheck: no invalid read
# or write, no use of uninitialised memory, no definite leak.  libcurl,
# libevent and OpenSSL keep some memory "still reachable" at exit, which
# is not counted.  Skipped without valgrind and in a sanitizer build
# (the two do not run together).
. "$top_srcdir/tests/lib.sh"

command -v valgrind >/dev/null || skip_all "valgrind not installed"
if grep -q __asan_init "$ARRIVALD" 2>/dev/null; then
	skip_all "a sanitizer build: valgrind cannot run it"
fi

cd "$T" || exit 1
XDG_RUNTIME_DIR=$T timeout 120 valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--log-file="$T/vg.log" "$ARRIVALD" --demo -d 3 >"$T/out" 2>"$T/err"
rc=$?
ok $rc "arrivald --demo -d 3 under memcheck: no errors, no definite leak (exit $rc)"
[ $rc -eq 0 ] || sed "s/^/# /" "$T/vg.log" | head -60
check "the demo ran and reported" grep -q "arrivald --demo" "$T/out"
check "its results were written: load ran and completed" \
	json_get "$T/arrivald-results/latest/summary.json" 'exit(not (j["totals"]["sent"] > 150 and j["totals"]["completed"] == j["totals"]["sent"]))'
check "memcheck's log holds no error" sh -c '! grep -q "ERROR SUMMARY: [1-9]\|definitely lost: [1-9]\|Invalid \(read\|write\)\|uninitialised" "$1"' sh "$T/vg.log"
done_testing
