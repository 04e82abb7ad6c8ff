#!/bin/sh
# run-one.sh TEST: how the harness runs every test (LOG_COMPILER).
# The tests named in tests/timing.list measure time: rates, gaps,
# response times against queueing theory.  On two cores a neighbour
# test's daemons take the CPU they are measuring, so each of them takes
# the suite's lock exclusively, and every other test takes it shared:
# under make -j a timing test runs alone, the rest side by side.  The
# lock is held by flock itself (-o), not by the test's processes.
lock=${top_builddir:-.}/tests/.suite.lock
mkdir -p "${lock%/*}"
mode=-s
if grep -qx "$(basename "$1")" "${top_srcdir:-.}/tests/timing.list"; then
	mode=-x
fi
flock -o $mode "$lock" "$@"
