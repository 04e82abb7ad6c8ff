#!/bin/sh
# conf-keys.sh: every key the config parser accepts (conf_keys[], printed
# by the conf-keys helper) has its own entry in arrivald.conf(5), and every
# key the page documents is one the parser accepts.
. "$top_srcdir/tests/lib.sh"

man="$top_srcdir/man/arrivald.conf.5"
keys="$top_builddir/conf-keys"
[ -x "$keys" ] || skip_all "conf-keys helper not built"

"$keys" > "$T/keys"
check "conf_keys lists the keys" test "$(wc -l < "$T/keys")" -gt 50

# each key is documented as an item ".It Cm section.key"
sed -n 's/^\.It Cm \([a-z_]*\.[a-z_.]*\).*/\1/p' "$man" | sort -u > "$T/documented"
check "the page documents keys" test -s "$T/documented"
while read -r k; do
	check "$k is documented" grep -qx "$k" "$T/documented"
done < "$T/keys"
while read -r k; do
	check "documented $k is a key the parser accepts" grep -qx "$k" "$T/keys"
done < "$T/documented"

if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tlint -W warning "$man" > "$T/lint" 2>&1
	ok $? "mandoc -Tlint is clean"
	[ -s "$T/lint" ] && diag "$(cat "$T/lint")"
fi
done_testing
