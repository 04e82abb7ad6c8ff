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
CHECK="python3 $R/check-html.py"
[ -x "$WRITE" ] || skip_all "report-write not built"

OPEN_CHARTS=rates,latency,queue,distribution,failures,timers
CLOSED_CHARTS=rates,latency,queue,users,closedrates,distribution,failures,timers

python3 "$R/gen-run.py" short "$T/short"
python3 "$R/gen-run.py" long "$T/long"
ok $? "fixtures: a 10 s open run and a 24 h closed run ($(wc -l <"$T/long/timeseries.csv") timeseries lines)"

# --- the short open run
check "report-write regenerates the short run's report" "$WRITE" "$T/short"
check "short: report.html written" test -s "$T/short/report.html"
check "short: no temporary file left" test ! -e "$T/short/report.html.tmp"
h=$T/short/report.html
check "short: self-contained" $CHECK selfcontained "$h"
check "short: the open model's six charts, each with data" $CHECK charts "$h" "$OPEN_CHARTS"
check "short: series within the viewBox and few points" $CHECK points "$h" 2000
check "short: a timer named <script> is escaped" $CHECK escaped "$h"
check "short: the time axis in seconds" $CHECK axis "$h" rates "time since start (s)"
check "short: the run id in the page" $CHECK text "$h" 20261124T031500Z
check "short: failures by reason in the summary" $CHECK text "$h" http_5xx
check "short: the distribution on the 1/(1-p) axis" $CHECK axis "$h" distribution "1/(1"
check "short: 99.9% tick on the distribution axis" $CHECK text "$h" "99.9%"
max_p99=$(python3 -c 'import csv,sys
print(max(float(r["p99"]) for r in csv.DictReader(open(sys.argv[1])) if r["p99"]) * 1000)' "$T/short/timeseries.csv")
check "short: p99 chart reaches the largest p99 in the file ($max_p99 ms)" \
	$CHECK max "$h" latency p99 "$max_p99"

# --- the long closed run
start=$(date +%s%N)
check "report-write regenerates the 24 h run's report" "$WRITE" "$T/long"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
diag "24 h report written in $ms ms, $(wc -c <"$T/long/report.html") bytes"
h=$T/long/report.html
check "long: under 2 MB" $CHECK size "$h" 2000000
check "long: self-contained" $CHECK selfcontained "$h"
check "long: the closed model's eight charts, each with data" $CHECK charts "$h" "$CLOSED_CHARTS"
check "long: at most 2000 points per series (86,400 rows)" $CHECK points "$h" 2000
check "long: a timer named <script> is escaped" $CHECK escaped "$h"
check "long: a quoted CSV name with a comma reads back" $CHECK text "$h" "post, with comma"
check "long: the time axis in hours" $CHECK axis "$h" rates "time since start (h)"
check "long: the single 5 s spike survives downsampling" $CHECK max "$h" latency max 5000
check "long: mean buckets keep the target N/Z = 150" $CHECK max "$h" rates "target rate" 150
check "long: N reaches the last autoscale step" $CHECK max "$h" users "N users" 6000
check "long: Z on its own axis reaches 40 s" $CHECK max "$h" users "Z think time" 40

# --- optional files missing or broken: "no data", not failure
cp -r "$T/short" "$T/bare"
rm -f "$T/bare/timers.csv" "$T/bare/failures.csv" "$T/bare/latency.hgrm"
check "without optional files the report is still written" "$WRITE" "$T/bare"
check "their charts say no data" $CHECK nodata "$T/bare/report.html" distribution,failures,timers
check "and the charts from timeseries.csv are drawn" $CHECK max "$T/bare/report.html" rates "target rate" 150
cp -r "$T/short" "$T/broken"
printf 'Value Percentile\n  garbage here\n' >"$T/broken/latency.hgrm"
printf 't,name\n1,x\n' >"$T/broken/timers.csv"
check "with broken optional files the report is still written" "$WRITE" "$T/broken"
check "broken optional files: no data" $CHECK nodata "$T/broken/report.html" distribution,timers
check "the reason names latency.hgrm and its line" $CHECK text "$T/broken/report.html" "latency.hgrm: line 2"
check "the reason names timers.csv" $CHECK text "$T/broken/report.html" "timers.csv: line 1"

# --- required files missing or broken: -1, the file named, old report kept
fails_with() { # fails_with DESC PATTERN SETUP...: SETUP breaks $T/bad
	desc=$1 pat=$2; shift 2
	rm -rf "$T/bad"; cp -r "$T/short" "$T/bad"
	cp "$T/short/report.html" "$T/bad/report.html"
	"$@"
	if "$WRITE" "$T/bad" 2>"$T/err"; then
		ok 1 "$desc: succeeded"
		return
	fi
	grep -q -- "$pat" "$T/err" && cmp -s "$T/short/report.html" "$T/bad/report.html" &&
		test ! -e "$T/bad/report.html.tmp"
	ok $? "$desc ($(cat "$T/err"))"
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

# --- the client's report command, once it has one
if [ -x "$ARRIVALCTL" ] && "$ARRIVALCTL" -h 2>&1 | grep -q report; then
	cp -r "$T/short" "$T/ctl"
	rm -f "$T/ctl/report.html"
	"$ARRIVALCTL" report "$T/ctl" >/dev/null 2>&1
	check "arrivalctl report DIR writes report.html" $CHECK charts "$T/ctl/report.html" "$OPEN_CHARTS"
else
	diag "arrivalctl has no report command yet; report-write stands in"
fi

# --- a real browser
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then
	echo "ok $((tap_n + 1)) # SKIP chromium not installed"
	tap_n=$((tap_n + 1))
else
	chrome() {
		timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic \
			--no-first-run --disable-background-networking --disable-component-update \
			--disable-sync --disable-extensions --user-data-dir="$T/chrome" \
			--enable-logging=stderr --v=0 "$@"
	}
	chrome --screenshot="$T/shot.png" --window-size=1280,4000 "file://$T/long/report.html" \
		>"$T/shot.out" 2>"$T/shot.err"
	check "chromium renders a screenshot of the 24 h report" test -s "$T/shot.png"
	check "the screenshot shows the page: ink and coloured series" \
		python3 "$R/check-png.py" "$T/shot.png" 0.02 0.005
	chrome --dump-dom "file://$T/long/report.html" >"$T/dom.html" 2>"$T/dom.err"
	check "after load the DOM holds every chart with its series" \
		$CHECK charts "$T/dom.html" "$CLOSED_CHARTS"
	! grep -E -i "Uncaught|CONSOLE\([0-9]+\).*(error|fail)|Failed to load resource|net::ERR_" \
		"$T/shot.err" "$T/dom.err"
	ok $? "the page logs no errors and loads nothing"
fi

done_testing
