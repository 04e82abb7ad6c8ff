#!/bin/sh
# report.sh: report.html from generated run directories, a 10-second open
# run and a 24-hour closed one: self-contained, every chart drawn with
# data, bounded in points and bytes, names escaped, spikes kept through
# downsampling, optional files missing or broken degrade to "no data",
# required ones missing or broken fail with the file named and leave the
# previous report alone; then the page in a real browser.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
R=$top_srcdir/tests/report
WRITE=$top_builddir/report-write
[ -x "$WRITE" ] || skip_all "report-write not built"
# the interpreter itself, not a version manager's shim in front of it
PY=$(python3 -c 'import sys; print(sys.executable)')
CHECK="$PY $R/check-html.py"

checks() { # checks REPORT: DESC|CHECK|ARG... lines on stdin, one TAP line each
	$CHECK --batch "$1" >"$T/checks.out"
	while IFS= read -r line; do
		case $line in
		"ok "*) ok 0 "${line#ok }" ;;
		"not ok "*) ok 1 "${line#not ok }" ;;
		*) echo "$line" ;;
		esac
	done <"$T/checks.out"
}

OPEN_CHARTS=rates,latency,queue,distribution,failures,timers
CLOSED_CHARTS=rates,latency,queue,users,closedrates,distribution,failures,timers

$PY "$R/gen-run.py" short "$T/short" && $PY "$R/gen-run.py" long "$T/long"
ok $? "fixtures: a 10 s open run and a 24 h closed run ($(wc -l <"$T/long/timeseries.csv") timeseries lines)"

# --- the short open run
check "report-write regenerates the short run's report" "$WRITE" "$T/short"
check "short: report.html written" test -s "$T/short/report.html"
check "short: no temporary file left" test ! -e "$T/short/report.html.tmp"
max_p99=$($PY -c 'import csv,sys
print(max(float(r["p99"]) for r in csv.DictReader(open(sys.argv[1])) if r["p99"]) * 1000)' "$T/short/timeseries.csv")
checks "$T/short/report.html" <<EOF
short: self-contained|selfcontained
short: the open model's six charts, each with data|charts|$OPEN_CHARTS
short: series within the viewBox and few points|points|2000
short: a timer named <script> is escaped|escaped
short: the time axis in seconds|axis|rates|time since start (s)
short: the run id in the page|text|20261124T031500Z
short: the seed exactly, all 17 digits|text|12345678901234567
short: failures by reason in the summary|text|http_5xx
short: the distribution on the 1/(1-p) axis|axis|distribution|1/(1
short: a 99.9% tick on the distribution axis|text|99.9%
short: the p99 line reaches the largest p99 in the file ($max_p99 ms)|max|latency|p99|$max_p99
EOF

# --- the long closed run
start=$(date +%s%N)
check "report-write regenerates the 24 h run's report" "$WRITE" "$T/long"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
diag "24 h report written in $ms ms, $(wc -c <"$T/long/report.html") bytes"
checks "$T/long/report.html" <<EOF
long: under 2 MB|size|2000000
long: self-contained|selfcontained
long: the closed model's eight charts, each with data|charts|$CLOSED_CHARTS
long: at most 1000 points per line, 2000 per shaded range (86,400 rows)|points|1000
long: a timer named <script> is escaped|escaped
long: a quoted CSV name with a comma reads back|text|post, with comma
long: the time axis in hours|axis|rates|time since start (h)
long: the single 5 s spike survives downsampling|max|latency|max|5000
long: mean buckets keep the target N/Z = 150|max|rates|target rate|150
long: N reaches the last autoscale step|max|users|N users|6000
long: Z on its own axis reaches 40 s|max|users|Z think time|40
EOF

# --- optional files missing or broken: "no data", not failure
cp -r "$T/short" "$T/bare"
rm -f "$T/bare/timers.csv" "$T/bare/failures.csv" "$T/bare/latency.hgrm"
check "without optional files the report is still written" "$WRITE" "$T/bare"
checks "$T/bare/report.html" <<EOF
their charts say no data|nodata|distribution,failures,timers
and the charts from timeseries.csv are drawn|max|rates|target rate|150
EOF
cp -r "$T/short" "$T/broken"
printf 'Value Percentile\n  garbage here\n' >"$T/broken/latency.hgrm"
printf 't,name\n1,x\n' >"$T/broken/timers.csv"
check "with broken optional files the report is still written" "$WRITE" "$T/broken"
checks "$T/broken/report.html" <<EOF
broken optional files: no data|nodata|distribution,timers
the reason names latency.hgrm and its line|text|latency.hgrm: line 2
the reason names timers.csv|text|timers.csv: line 1
EOF

# a run stopped before its first interval: a header and nothing else
cp -r "$T/short" "$T/empty"
head -1 "$T/short/timeseries.csv" >"$T/empty/timeseries.csv"
printf 't,name,sent,completed,failed,R,p50,p90,p99,max\n' >"$T/empty/timers.csv"
printf 't,reason,count\n' >"$T/empty/failures.csv"
printf '%12s %14s %10s %14s\n\n#[Mean    = %12.3f, StdDeviation   = %12.3f]\n' \
	Value Percentile TotalCount '1/(1-Percentile)' 0 0 >"$T/empty/latency.hgrm"
check "a run with no intervals still gets a report" "$WRITE" "$T/empty"
checks "$T/empty/report.html" <<EOF
every chart of an empty run says no data|nodata|$OPEN_CHARTS
EOF

# the daemon writes names as they are: an unquoted comma stays in the name
cp -r "$T/short" "$T/comma"
sed -i 's/^\([0-9.]*\),api\/search,/\1,api, search,/' "$T/comma/timers.csv"
check "a timer name with an unquoted comma" "$WRITE" "$T/comma"
checks "$T/comma/report.html" <<EOF
the unquoted name reads back whole|max|timers|api, search|$($PY -c 'import csv,sys
print(max(float(r["p99"]) for r in csv.DictReader(open(sys.argv[1])) if r["name"] == "api/search" and r["p99"]) * 1000)' "$T/short/timers.csv")
EOF

# --- required files missing or broken: -1, the file named, old report kept
fails_with() { # fails_with DESC PATTERN SETUP...: SETUP breaks $T/bad
	desc=$1 pat=$2; shift 2
	rm -rf "$T/bad"; cp -r "$T/short" "$T/bad"
	"$@"
	if "$WRITE" "$T/bad" 2>"$T/err"; then
		ok 1 "$desc: succeeded"
		return
	fi
	grep -q -- "$pat" "$T/err" && cmp -s "$T/short/report.html" "$T/bad/report.html" &&
		test ! -e "$T/bad/report.html.tmp"
	ok $? "$desc ($(sed "s|$T/||" "$T/err"))"
}
fails_with "no summary.json" "summary.json: No such file" rm "$T/bad/summary.json"
fails_with "truncated summary.json" "summary.json: line" \
	sh -c 'head -c 100 "$0/summary.json" >"$0/s" && mv "$0/s" "$0/summary.json"' "$T/bad"
fails_with "summary.json not an object" "summary.json: not a JSON object" \
	sh -c 'echo "[1, 2]" >"$0/summary.json"' "$T/bad"
fails_with "no timeseries.csv" "timeseries.csv: No such file" rm "$T/bad/timeseries.csv"
fails_with "empty timeseries.csv" "timeseries.csv: empty" \
	sh -c ': >"$0/timeseries.csv"' "$T/bad"
fails_with "wrong timeseries.csv header" "timeseries.csv: line 1: header column 4" \
	sed -i '1s/,X,/,Y,/' "$T/bad/timeseries.csv"
fails_with "a non-number in timeseries.csv" 'timeseries.csv: line 3: lambda: not a number' \
	sed -i '3s/^\([^,]*\),\([^,]*\),[^,]*,/\1,\2,abc,/' "$T/bad/timeseries.csv"
fails_with "a short row in timeseries.csv" "timeseries.csv: line 5: 3 fields, expected 17" \
	sed -i '5s/.*/1,2,3/' "$T/bad/timeseries.csv"

# --- damaged files of every kind: a report or a named error, never a crash
check "100 damaged run directories: exit 0 or a named error, nothing worse" \
	$PY "$R/fuzz-run.py" "$WRITE" "$T/short" 100 7

# --- the client's report command, once it has one
if [ -x "$ARRIVALCTL" ] && "$ARRIVALCTL" -h 2>&1 | grep -q report; then
	cp -r "$T/short" "$T/ctl"
	rm -f "$T/ctl/report.html"
	"$ARRIVALCTL" report "$T/ctl" >/dev/null 2>&1
	check "arrivalctl report DIR writes report.html" $CHECK charts "$T/ctl/report.html" "$OPEN_CHARTS"
else
	diag "arrivalctl has no report command yet; report-write stands in"
fi

# --- the daemon's own files, when the daemon is built: the formats agree,
# and the page depends on the files alone
if [ -x "$ARRIVALD" ] && timeout 30 "$ARRIVALD" --demo -d 2 -o "$T/demo" \
	-s "$T/demo.sock" >"$T/demo.out" 2>&1 && [ -d "$T/demo/latest" ]; then
	d=$T/demo/latest
	checks "$d/report.html" <<EOF
the daemon's report draws its run|drawn|rates,latency,queue,distribution,timers
the daemon's report is self-contained|selfcontained
EOF
	cp "$d/report.html" "$T/daemon.html"
	check "report-write on the daemon's files" "$WRITE" "$d"
	check "gives the daemon's page byte for byte" cmp -s "$T/daemon.html" "$d/report.html"
else
	diag "arrivald --demo gave no run directory; the daemon's files are not checked"
fi

# --- a real browser
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # SKIP chromium not installed"
else
	chrome() { # chrome PROFILE ARG...: headless, offline, bounded in time
		dir=$1; shift
		timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic \
			--no-first-run --disable-background-networking --disable-component-update \
			--disable-sync --disable-extensions --user-data-dir="$T/$dir" \
			--enable-logging=stderr --v=0 "$@"
	}
	# half scale: the same 1280-pixel layout in a quarter of the pixels,
	# which is all that counting ink needs; screenshot and DOM at once
	chrome chrome1 --screenshot="$T/shot.png" --window-size=1280,4000 \
		--force-device-scale-factor=0.5 "file://$T/long/report.html" \
		>"$T/shot.out" 2>"$T/shot.err" &
	shot=$!
	chrome chrome2 --dump-dom "file://$T/long/report.html" >"$T/dom.html" 2>"$T/dom.err"
	wait $shot
	check "chromium renders a screenshot of the 24 h report" test -s "$T/shot.png"
	check "the screenshot shows the page: ink and coloured series" \
		$PY "$R/check-png.py" "$T/shot.png" 0.02 0.005
	checks "$T/dom.html" <<EOF
after load the DOM holds every chart with its series|charts|$CLOSED_CHARTS
the DOM keeps the timer's name as text, not an element|escaped
EOF
	! grep -E -i "Uncaught|CONSOLE\([0-9]+\).*(error|fail)|Failed to load resource|net::ERR_" \
		"$T/shot.err" "$T/dom.err"
	ok $? "the page logs no errors and loads nothing"
fi

done_testing
