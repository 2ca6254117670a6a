#!/bin/sh
# fuzz.sh: run every fuzz target of the module for FUZZTIME each (default 60s). Run by
# `make fuzz`. The targets are listed by `go test -list '^Fuzz' ./...`, so a new Fuzz function
# is fuzzed without editing this script or the Makefile. Stops at the first target that fails
# (its failing input is saved under the package's testdata/fuzz/).
set -eu
cd "$(dirname "$0")/.."
go=${GO:-go}
fuzztime=${FUZZTIME:-60s}
minimize=${FUZZMINIMIZETIME:-5s}

# `go test -list` prints a package's matching test names, then its "ok  <import path>" line.
targets=$("$go" test -list '^Fuzz' ./... | awk '
	/^Fuzz/ { names = names " " $1; next }
	/^ok[ \t]/ { n = split(names, a, " "); for (i = 1; i <= n; i++) print $2, a[i]; names = ""; next }
	/^(FAIL|---)/ { print "fuzz.sh: go test -list failed: " $0 > "/dev/stderr"; exit 1 }
')
if [ -z "$targets" ]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi
count=$(echo "$targets" | wc -l)
echo "fuzz.sh: $count targets, $fuzztime each"
echo "$targets" | while read -r pkg name; do
	echo "== $pkg $name"
	"$go" test "$pkg" -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize"
done
