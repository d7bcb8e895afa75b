# Every program's --help lists the options of its table (lib/opts.h), and
# the man page's OPTIONS list the same ones with the same letters; a
# letter means the same long option in every program.
. "$TOP/tests/lib.sh"

# "c catalog" per option ("- name" when long only) from --help
from_help() {
	"$1" --help | sed -n '/^options:$/,$p' | sed -n \
	    -e 's/^  -\(.\), --\([a-z0-9-]*\).*/\1 \2/p' \
	    -e 's/^      --\([a-z0-9-]*\).*/- \1/p' | sort
}

# the same from the .It lines of the man page's OPTIONS section
from_man() {
	awk '/^\.Sh OPTIONS/ { on = 1; next } /^\.Sh/ { on = 0 }
	    on && /^\.It Fl/ {
		s = "-"; n = 0
		for (i = 2; i < NF; i++)
			if ($i == "Fl" && $(i + 1) ~ /^-/)
				l[n++] = substr($(i + 1), 2)
			else if ($i == "Fl" && length($(i + 1)) == 1)
				s = $(i + 1)
		for (k = 0; k < n; k++)
			print (n == 1 ? s : "-") " " l[k]
	    }' "$1" | sort
}

for p in bg-candidates bg-plan bg-generate bg-file bg-report bg-export; do
	from_help $p >$p.help
	from_man "$TOP/cmd/$p.1" >$p.man
	check "$p --help lists options" test -s $p.help
	is "$p: --help and the man page list the same options" \
	    "$(diff $p.help $p.man)" ""
	cat $p.help >>all
	"$p" --help >/dev/null 2>&1; is "$p --help: exit 0" $? 0
	"$p" --no-such-option >/dev/null 2>usage.err; is "$p: bad option: exit 2" $? 2
	check "$p: bad option prints the usage" grep -q "^usage: $p" usage.err
	"$p" -V >/dev/null; is "$p -V: exit 0" $? 0
done
is "a letter means one thing in every program" \
    "$(grep -v '^-' all | sort -u | cut -d' ' -f1 | uniq -d)" ""
done_testing
