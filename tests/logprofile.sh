#!/bin/sh
# logprofile.sh: arrivalctl profile-from-log end to end.  A synthetic
# six-hour log of known shape (tests/logprofile/genlog.py: Poisson arrivals,
# out of order, split over a plain and a gzip'd file, some lines in other
# UTC offsets, some malformed) must come back as a profile that replays the
# counts per interval exactly and lies within Poisson bounds of the shape,
# with the peak hour where the shape puts it; then the edge cases.
. "$top_srcdir/tests/lib.sh"
D=$top_srcdir/tests/logprofile

# the client's subcommand when it is there and working, else the same
# function on its own
prog=$top_builddir/logprofile-main
if [ -x "$ARRIVALCTL" ] &&
    "$ARRIVALCTL" profile-from-log --help 2>/dev/null | grep -q -- --interval; then
	prog=$ARRIVALCTL
fi
diag "using $prog"
lp() { "$prog" profile-from-log "$@"; }
chk() { # chk WHAT PROFILE SUMMARY INTERVAL
	python3 "$D/check.py" "$1" "$T/log/truth.json" "$2" "$3" "$4"
}
integrals() { python3 "$D/check.py" integrals "$@"; }

python3 "$D/genlog.py" --seed 20100515 "$T/log"
ok $? "synthetic log generated"

lp -o "$T/p60.csv" "$T/log/access.log" "$T/log/access.log.1.gz" 2>"$T/p60.err"
ok $? "profile from a plain and a gzip'd log"
check "60 s profile: header, rising times from 0, rates >= 0" chk format "$T/p60.csv" "$T/p60.err" 60
check "60 s profile integrates to each interval's count" chk exact "$T/p60.csv" "$T/p60.err" 60
check "60 s counts within Poisson bounds of lambda(t), chi-square in bounds" chk poisson "$T/p60.csv" "$T/p60.err" 60
check "summary counts lines, arrivals and malformed lines" chk summary "$T/p60.csv" "$T/p60.err" 60
check "peak hour is the busiest hour, in -0700 and UTC, where the shape puts it" chk peak "$T/p60.csv" "$T/p60.err" 60
check "malformed lines are shown by file and line" python3 "$D/check.py" shown "$T/p60.err"

lp --interval 45 "$T/log/access.log.1.gz" "$T/log/access.log" >"$T/p45.csv" 2>"$T/p45.err"
ok $? "--interval 45, files the other way round, profile on stdout"
check "45 s profile format" chk format "$T/p45.csv" "$T/p45.err" 45
check "45 s profile integrates to each interval's count" chk exact "$T/p45.csv" "$T/p45.err" 45
check "45 s peak hour (80 intervals)" chk peak "$T/p45.csv" "$T/p45.err" 45

lp -o "$T/stdin.csv" "$T/log/access.log" - <"$T/log/access.log.1.gz" 2>/dev/null
ok $? "gzip on standard input"
check "same profile whatever the order and source" cmp -s "$T/p60.csv" "$T/stdin.csv"

# zones: 13:30 and 15:30 at -0700 are 20:30Z and 22:30Z; 23:45 at +0200 is
# 21:45Z, the hour between (read as local time it would fall hours later)
cat >"$T/zone.log" <<'LOG'
a - - [10/Oct/2000:13:30:00 -0700] "GET / HTTP/1.0" 200 1 "-" "x"
b - - [10/Oct/2000:15:30:00 -0700] "GET / HTTP/1.0" 200 1 "-" "x"
c - - [10/Oct/2000:23:45:00 +0200] "GET / HTTP/1.0" 200 1 "-" "x"
LOG
lp -i 1h -o "$T/zone.csv" "$T/zone.log" 2>"$T/zone.err"
check "a +0200 line lands in its UTC hour" test "$(integrals "$T/zone.csv" 3600)" = "1 1 1"
grep -q 'span: 2000-10-10T13:30:00-0700 to 2000-10-10T15:30:00-0700' "$T/zone.err"
ok $? "span shown in the log's own offset"

# New Year in three zones: 23:30Z, 23:10Z and 23:50Z, one UTC hour
cat >"$T/newyear.log" <<'LOG'
a - - [01/Jan/2011:00:30:00 +0100] "GET / HTTP/1.0" 200 1 "-" "x"
b - - [31/Dec/2010:23:10:00 +0000] "GET / HTTP/1.0" 200 1 "-" "x"
c - - [31/Dec/2010:18:50:00 -0500] "GET / HTTP/1.0" 200 1 "-" "x"
LOG
lp -i 1h -o "$T/newyear.csv" "$T/newyear.log" 2>/dev/null
check "offsets across a year boundary land in one UTC hour" test "$(integrals "$T/newyear.csv" 3600)" = "3"

# common format: 2 arrivals in the first minute, none in the second, 3 in the third
cat >"$T/common.log" <<'LOG'
h - - [15/May/2010:11:00:05 -0700] "GET / HTTP/1.1" 200 10
h - - [15/May/2010:11:02:59 -0700] "GET / HTTP/1.1" 200 10
h - - [15/May/2010:11:00:59 -0700] "GET / HTTP/1.1" 404 -
h - - [15/May/2010:11:02:00 -0700] "GET / HTTP/1.1" 200 10
h - - [15/May/2010:11:02:30 -0700] "POST /x HTTP/1.1" 302 0
LOG
lp --format common -o "$T/common.csv" "$T/common.log" 2>"$T/common.err"
ok $? "--format common"
check "common-format counts per minute" test "$(integrals "$T/common.csv" 60)" = "2 0 3"
grep -q 'span is shorter than an hour: mean 0.02778 req/s over 180 s' "$T/common.err"
ok $? "a span under an hour gives the overall mean"
# a gzip'd log through a FIFO (never tried before it is read: that could
# cost the writer a SIGPIPE)
mkfifo "$T/fifo"
bg sh -c 'gzip -c "$1" >"$2"' sh "$T/common.log" "$T/fifo"
timeout 20 "$prog" profile-from-log --format common -o "$T/fifo.csv" "$T/fifo" 2>/dev/null
ok $? "a gzip'd log through a FIFO"
check "... counted whole" test "$(integrals "$T/fifo.csv" 60)" = "2 0 3"
lp -o "$T/nope.csv" "$T/common.log" 2>"$T/common2.err"
ok $(( $? != 1 )) "a common log read as combined: exit 1"
grep -q 'try --format common' "$T/common2.err"
ok $? "... with a hint"
check "... and no profile" test ! -e "$T/nope.csv"

# edge cases
: >"$T/empty.log"
lp -o "$T/empty.csv" "$T/empty.log" 2>"$T/empty.err"
ok $(( $? != 1 )) "empty log: exit 1"
grep -q '0 lines read' "$T/empty.err" && test ! -e "$T/empty.csv"
ok $? "empty log: summary, no profile"

printf 'junk\n\nmore junk\n' >"$T/junk.log"
lp "$T/junk.log" >"$T/junk.csv" 2>"$T/junk.err"
ok $(( $? != 1 )) "all lines malformed: exit 1"
grep -q '3 lines read, 0 arrivals counted, 3 malformed lines skipped' "$T/junk.err"
ok $? "all lines malformed: counted in the summary"
check "all lines malformed: nothing on stdout" test ! -s "$T/junk.csv"

lp -o "$T/missing.csv" "$T/common.log" "$T/no-such.log" 2>"$T/missing.err"
ok $(( $? != 2 )) "unreadable file: exit 2"
grep -q "no-such.log: No such file or directory" "$T/missing.err" && test ! -e "$T/missing.csv"
ok $? "unreadable file: named, no profile"
lp "$T" >/dev/null 2>"$T/dir.err"
ok $(( $? != 2 )) "a directory: exit 2"
grep -q "is a directory" "$T/dir.err"
ok $? "a directory: said so"

head -c 20000 "$T/log/access.log.1.gz" >"$T/truncated.gz"
lp "$T/truncated.gz" >/dev/null 2>"$T/truncated.err"
ok $(( $? != 2 )) "truncated gzip: exit 2"
grep -q "truncated.gz: read error" "$T/truncated.err"
ok $? "truncated gzip: named"

lp -o "$T/no-such-dir/out.csv" "$T/common.log" --format common 2>"$T/out.err"
ok $(( $? != 2 )) "unwritable output: exit 2"
grep -q "no-such-dir/out.csv" "$T/out.err"
ok $? "unwritable output: named"

for bad in 0 -1 abc 5x nan 1e300 ''; do
	lp --interval "$bad" "$T/common.log" >/dev/null 2>"$T/bad.err"
	rc=$?
	grep -q "bad --interval" "$T/bad.err"
	ok $(( rc != 2 || $? != 0 )) "--interval '$bad': exit 2 with a message"
done
lp --format xml "$T/common.log" >/dev/null 2>&1
ok $(( $? != 2 )) "bad --format: exit 2"
lp >/dev/null 2>&1
ok $(( $? != 2 )) "no log given: exit 2"
lp --frobnicate "$T/common.log" >/dev/null 2>&1
ok $(( $? != 2 )) "unknown option: exit 2"

# a span past 400 days is refused rather than eating memory
cat >"$T/span.log" <<'LOG'
a - - [01/Jan/2010:00:00:00 +0000] "GET / HTTP/1.0" 200 1 "-" "x"
a - - [01/Jun/2011:00:00:00 +0000] "GET / HTTP/1.0" 200 1 "-" "x"
LOG
lp "$T/span.log" >/dev/null 2>"$T/span.err"
ok $(( $? != 1 )) "a span past 400 days: exit 1"
grep -q "span.log:2: .*400-day limit" "$T/span.err"
ok $? "a span past 400 days: the line named"

done_testing
