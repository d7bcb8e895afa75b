# doc/code.md, the newcomer's map, names every source file and script, and
# every file it names exists; every source file opens with a comment
# saying what it owns.
. "$TOP/tests/lib.sh"

w=$PWD
cd "$TOP" || exit 1
for f in lib/*.c lib/provider/*.c cmd/*.c; do
	check "doc/code.md names $f" grep -q "$f\|$(basename "$f")" doc/code.md
	check "$f opens with a comment" sh -c "head -c 2 '$f' | grep -q '/\*'"
done
for f in scripts/*; do
	case $f in *.1) continue;; esac
	check "doc/code.md names $f" grep -q "$(basename "$f")" doc/code.md
done
grep -o '`\(lib\|cmd\|scripts\|tests\)/[A-Za-z0-9_./-]*`' doc/code.md |
    tr -d '`' | sort -u >"$w/named"
while read -r f; do
	check "doc/code.md: $f exists" test -e "$f"
done <"$w/named"
done_testing
