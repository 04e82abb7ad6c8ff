#!/bin/sh
# transactions.sh: scripted transactions end to end.  The daemon runs a
# forum's comment journey (login form, login, thread, post) against
# tests/site.py, which needs a real login: a csrf from the form, a session
# cookie, and a per-session token on the thread page.  The site counts what
# it saw, so the test checks the server's side (every post carried the
# right token and cookie, logins came from the feed) as well as the
# daemon's summary.json (per-step timers, failures by reason).
. "$top_srcdir/tests/lib.sh"

[ -x "$ARRIVALD" ] || skip_all "arrivald is not built"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is needed for the test site"

D=$top_srcdir/tests/transactions
TAB=$(printf '\t')

# expect NAME DESCRIPTION PYTHON-EXPRESSION: queue a check for run NAME.
# The expression sees the site's counts s, the summary j, and timer(step),
# failures(reason), total_failures(), hits("METHOD /path").
expect() {
	mkdir -p "$T/$1"
	printf '%s\t%s\n' "$1: $2" "$3" >>"$T/$1/checks"
}

# run NAME SECONDS: NAME.conf for that long against a fresh site, then the
# checks queued for it, all in one python (its start-up is not free).
run() {
	dir=$T/$1
	mkdir -p "$dir"
	cp "$D/users.csv" "$D/users-mixed.csv" "$D/accounts.csv" "$dir/"
	# port 0: the site binds a free port itself and reports it once it
	# listens, so there is no window for another process to take it
	bg python3 "$top_srcdir/tests/site.py" 0 "$D/accounts.csv" 60 "$dir/port"
	site=$!
	wait_for 10 test -s "$dir/port" || diag "the test site did not start"
	port=$(cat "$dir/port" 2>/dev/null)
	sed "s/@PORT@/${port:-9}/g" "$D/$1.conf" >"$dir/$1.conf"
	# -d bounds the run; timeout only guards against a daemon that hangs
	timeout 30 "$ARRIVALD" -c "$dir/$1.conf" -d "$2" -o "$dir/results" \
	    -s "$dir/ctl.sock" 2>"$dir/log"
	rc=$?
	ok "$rc" "$1: arrivald -d $2 exits 0"
	if [ "$rc" -ne 0 ]; then
		diag "arrivald exited $rc; its log:"
		sed 's/^/#   /' "$dir/log"
	fi
	check "$1: summary.json written" test -s "$dir/results/latest/summary.json"
	python3 - "$port" "$dir/results/latest/summary.json" "$dir/checks" \
	    >"$dir/verdicts" <<'PY'
import json, re, sys, urllib.request

try:
    s = json.loads(urllib.request.urlopen(
        "http://127.0.0.1:%s/_stats" % sys.argv[1], timeout=5).read())
except Exception as e:
    print("# the site's /_stats: %s" % e)
    s = {}
try:
    j = json.load(open(sys.argv[2]))
except Exception as e:
    print("# summary.json: %s" % e)
    j = {}

def timer(step):
    """summary.json's timer for a step, named "step" or "txn/step"."""
    for t in j.get("timers") or []:
        if t.get("name") == step or re.split(r"[/.:]", t.get("name", ""))[-1] == step:
            return t
    return {}

def failures(reason):
    return (j.get("totals", {}).get("failures") or {}).get(reason, 0)

def total_failures():
    return sum((j.get("totals", {}).get("failures") or {}).values())

def hits(req):
    return s.get("requests", {}).get(req, 0)

for line in open(sys.argv[3]):
    desc, expr = line.rstrip("\n").split("\t", 1)
    try:
        good = bool(eval(expr))
    except Exception as e:
        good = False
        print("# %s: %s" % (type(e).__name__, e))
    print("%d\t%s" % (0 if good else 1, desc))
    if not good:
        print("#   %s" % expr)
        print("#   site: %s" % json.dumps(s))
        print("#   timers: %s" % json.dumps(j.get("timers")))
        print("#   failures: %s" % json.dumps(j.get("totals", {}).get("failures")))
PY
	kill "$site" 2>/dev/null
	while IFS=$TAB read -r verdict desc; do
		case $verdict in
		0|1) ok "$verdict" "$desc" ;;
		*) echo "$verdict${desc:+$TAB$desc}" ;;
		esac
	done <"$dir/verdicts"
}

# --- every user logs in and posts ----------------------------------

# 20/s for 3 s is Poisson(60): fewer than 30 journeys has P < 1e-4
expect ok "the site accepted at least 30 posts" \
    's["posts_accepted"] >= 30'
expect ok "no post was rejected (token and session cookie always right)" \
    'not s["posts_rejected"]'
expect ok "no login failed (csrf extracted, passwords urlencoded)" \
    'not s["login_failures"]'
expect ok "no journey reached the login form with an old session cookie" \
    's["stale_cookie"] == 0'
expect ok "logins came from the feed's users, all four of them" \
    'set(s["logins"]) == {"alice", "bob", "carol", "dave"}'
# rows are taken in order: counts differ by one, or two when the stop cut
# a journey between taking its row and logging in
expect ok "the sequential feed spread the logins evenly" \
    'max(s["logins"].values()) - min(s["logins"].values()) <= 2'
expect ok "every login went on to a post (but journeys cut by the stop)" \
    '0 <= sum(s["logins"].values()) - s["posts_accepted"] <= 2'
for st in login-form login thread post; do
	expect ok "step $st has a timer with requests sent and completed" \
	    "timer('$st').get('sent', 0) >= 30 and timer('$st').get('completed', 0) >= 30"
done
expect ok "the post timer counts what the site accepted" \
    'timer("post")["completed"] == s["posts_accepted"] and timer("post").get("failed", 0) == 0'
expect ok "the login timer counts what the site saw" \
    'timer("login")["completed"] == hits("POST /login")'
expect ok "no failures of any reason" 'total_failures() == 0'
run ok 3

# --- wrong passwords and a page without the token -------------------

expect failures "bad logins counted as \"expect\", one for each 403 the site gave" \
    'failures("expect") >= 1 and failures("expect") == sum(s["login_failures"].values())'
expect failures "the feed's bad rows were the ones refused" \
    'set(s["login_failures"]) <= {"bad password", "unknown user"} and s["login_failures"].get("bad password", 0) >= 1 and s["login_failures"].get("unknown user", 0) >= 1'
expect failures "the locked thread counted as \"extract\", once per visit" \
    'failures("extract") >= 1 and failures("extract") == hits("GET /t/locked")'
expect failures "the good users' journeys went on to post" \
    's["posts_accepted"] >= 5 and set(s["posts_by_user"]) <= {"alice", "bob"}'
expect failures "a failed login ends its journey (no post without a session)" \
    'not s["posts_rejected"] and 0 <= sum(s["logins"].values()) - hits("GET /t/1") <= 2'
expect failures "the login timer shows the failures" \
    'timer("login").get("failed", 0) == failures("expect")'
expect failures "nothing failed for another reason" \
    'total_failures() == failures("expect") + failures("extract")'
run failures 3

# --- the closed model: a user is one session for its whole life -----

expect closed "no failures of any reason" 'total_failures() == 0'
expect closed "each user kept its row: the first four accounts logged in, never the fifth" \
    'set(s["logins"]) == {"alice", "bob", "eve", "carol"}'
expect closed "each user logged in and posted more than once" \
    'min(s["posts_by_user"].values()) >= 2 and not s["posts_rejected"]'
# a user's first journey comes without a cookie, every later one with the
# live session cookie it was given (the site counts those at GET /login)
expect closed "a user's cookies lasted across its journeys" \
    's["stale_cookie"] == hits("GET /login") - 4'
run closed 2

done_testing
