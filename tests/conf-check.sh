#!/bin/sh
# conf-check.sh: `arrivald -t` as a user meets it.  The installed example
# passes; a file with several mistakes fails with exit 1 and one
# FILE:LINE: message per mistake on stderr, nothing else.
. "$top_srcdir/tests/lib.sh"

[ -x "$ARRIVALD" ] || skip_all "arrivald is not built"

"$ARRIVALD" -t -c "$top_srcdir/etc/arrivald.conf" >"$T/out" 2>"$T/err"
ok $? "the example etc/arrivald.conf passes arrivald -t"
[ -s "$T/err" ] && diag "$(cat "$T/err")"

cat >"$T/bad.conf" <<'CONF'
workload = {
  rate = -3;
  ratee = 5;
};
targets = (
  { name = "home"; url = "ftp://127.0.0.1/"; },
  { name = "home"; url = "http://127.0.0.1:8080/${nope}"; }
);
control = { mode = "0666"; };
CONF
"$ARRIVALD" -t -c "$T/bad.conf" >"$T/out" 2>"$T/err"
check "a broken file exits 1" test $? -eq 1
f=$T/bad.conf
for want in "$f:2: workload.rate: must be > 0, got -3" \
    "$f:3: unknown key workload.ratee" \
    "$f:6: targets.home.url: \"ftp://127.0.0.1/\": the scheme must be http" \
    "$f:7: targets.name: \"home\" is already the name of the target at line 6" \
    "$f:7: targets.home: \${nope} is not set by a feed column" \
    "$f:9: control.mode: \"0666\" is world-writable"; do
	check "reported: ${want#"$T/"}" grep -qF "$want" "$T/err"
done
check "every stderr line is FILE:LINE: message" \
	sh -c "! grep -qv '^$f:[0-9][0-9]*: ' '$T/err'"

"$ARRIVALD" -t -c "$T/nonexistent.conf" >/dev/null 2>"$T/err"
check "a missing file exits 1" test $? -eq 1
check "a missing file: FILE: cannot read" \
	grep -qF "$T/nonexistent.conf: cannot read: No such file" "$T/err"

ARRIVALD_SHARD=5/2 "$ARRIVALD" -t -c "$top_srcdir/etc/arrivald.conf" >/dev/null 2>"$T/err"
check "a bad ARRIVALD_SHARD fails the check" test $? -eq 1
check "and names ARRIVALD_SHARD" grep -q "ARRIVALD_SHARD" "$T/err"
done_testing
