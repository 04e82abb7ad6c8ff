#!/bin/sh
# run-one.sh TEST: how the harness runs every test (LOG_COMPILER).
# The tests named in tests/timing.list measure time: rates, gaps,
# response times against queueing theory.  On two cores a neighbour
# test's daemons take the CPU they are measuring, so each of them takes
# the suite's lock exclusively, and every other test takes it shared:
# under make -j a timing test runs alone, the rest side by side.  The
# lock is held by flock itself (-o), not by the test's processes.
# python3 is the distribution's where there is one: a version manager's
# shim found first on PATH (pyenv's costs 0.5 s a start) turns every
# wait_for poll and every check into half a second, and the timing tests
# then miss their windows.  The tests need only the standard library and
# python3-yaml, which contrib/debian-packages installs for /usr/bin.
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
	pybin=${top_builddir:-.}/tests/.python
	mkdir -p "$pybin"
	[ -e "$pybin/python3" ] || ln -sf /usr/bin/python3 "$pybin/python3" 2>/dev/null
	PATH=$(cd "$pybin" && pwd):$PATH
	export PATH
fi
lock=${top_builddir:-.}/tests/.suite.lock
mkdir -p "${lock%/*}"
mode=-s
if grep -qx "$(basename "$1")" "${top_srcdir:-.}/tests/timing.list"; then
	mode=-x
fi
flock -o $mode "$lock" "$@"
