#!/usr/bin/env bash
# Benchmarks for `make bench` (run after `make build`). Each section is a function section_<name>
# listed in SECTIONS; it runs its benchmarks, keeps the raw `go test -bench` output in $OUT and
# prints a table. To add one (e.g. end-to-end pipeline numbers): define section_<name> below the
# others and append <name> to SECTIONS. BENCH_SECTIONS="tokenizer" runs a subset.
#
# Environment: GO (go), CORPUS (testdata/bench/corpus.jsonl), CORPUS_MB (40), OUT (out/bench),
# BENCHTIME (3x), BENCH_SECTIONS (all of SECTIONS).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
CORPUS=${CORPUS:-testdata/bench/corpus.jsonl}
CORPUS_MB=${CORPUS_MB:-40}
OUT=${OUT:-out/bench}
BENCHTIME=${BENCHTIME:-3x}
SECTIONS=(corpus tokenizer)

mkdir -p "$OUT"

header() { printf '\n== %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------
# corpus: the benchmark corpus, real text no one on the project wrote (the Go distribution's own
# sources and docs, one JSONL document per file). Built once; deterministic for a Go version.

section_corpus() {
	header "corpus"
	if [ -s "$CORPUS" ]; then
		echo "$CORPUS: $(wc -c <"$CORPUS") bytes (delete it to rebuild)"
		return
	fi
	mkdir -p "$(dirname "$CORPUS")"
	if [ -f ../shared/testdata/make-corpus.sh ]; then
		bash ../shared/testdata/make-corpus.sh "$CORPUS" "$CORPUS_MB"
	else
		make_corpus_inline "$CORPUS" "$CORPUS_MB"
	fi
}

# make_corpus_inline OUT MB: the same algorithm as shared/testdata/make-corpus.sh (which is not
# there in CI): GOROOT's *.go sources and doc/*.html, shuffled with Python's Random(7), until MB
# megabytes of text. Written to a temporary file first, so a failed run leaves no corpus.
make_corpus_inline() {
	local out=$1 mb=$2 root
	root=$("$GO" env GOROOT)
	python3 - "$root" "$out.tmp" "$mb" <<'PY'
import glob, json, random, sys
root, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
paths = sorted(glob.glob(f'{root}/src/**/*.go', recursive=True)) + sorted(glob.glob(f'{root}/doc/*.html'))
random.Random(7).shuffle(paths)
total = 0
with open(out, 'w', encoding='utf-8') as f:
    for p in paths:
        try:
            s = open(p, encoding='utf-8').read()
        except UnicodeDecodeError:
            continue
        f.write(json.dumps({"text": s, "file": p[len(root) + 1:]}) + "\n")
        total += len(s.encode())
        if total > mb * 1_000_000:
            break
print(f"{out[:-4]}: {total} bytes of text")
PY
	mv "$out.tmp" "$out"
}

# ---------------------------------------------------------------------------------------------
# tokenizer: tokenmill against github.com/pkoukk/tiktoken-go, on one core (the targets are per
# core), on the corpus and per class of input; then EncodeBatch on 1 and 2 cores.

# bench_table FILE: one line per benchmark, "name MB/s tokens/s", the -N CPU suffix kept.
bench_table() {
	awk '/^Benchmark/ {
		mbs = "-"; toks = "-"
		for (i = 2; i <= NF; i++) {
			if ($i == "MB/s") mbs = $(i - 1)
			if ($i == "tokens/s") toks = $(i - 1)
		}
		print $1, mbs, toks
	}' "$1"
}

section_tokenizer() {
	[ -s "$CORPUS" ] || section_corpus
	header "tokenizer: go test -bench 'Compare|Class' -benchtime $BENCHTIME -cpu 1"
	local raw=$OUT/tokenizer.txt batch=$OUT/tokenizer-batch.txt
	TOKENMILL_BENCH_CORPUS=$PWD/$CORPUS "$GO" test ./tokenizer -run '^$' \
		-bench 'Compare|Class' -benchtime "$BENCHTIME" -cpu 1 -timeout 60m | tee "$raw"
	header "tokenizer: go test -bench EncodeBatch -benchtime $BENCHTIME -cpu 1,2"
	TOKENMILL_BENCH_CORPUS=$PWD/$CORPUS "$GO" test ./tokenizer -run '^$' \
		-bench 'EncodeBatch' -benchtime "$BENCHTIME" -cpu 1,2 -timeout 60m | tee "$batch"

	header "corpus, one core (ratio = tokenmill / pkoukk, MB/s)"
	bench_table "$raw" | awk '
		$1 ~ /^BenchmarkCompare\// {
			split($1, p, "/"); impl = p[2]; enc = p[3]; sub(/-[0-9]+$/, "", enc)
			mbs[impl, enc] = $2; toks[impl, enc] = $3
			if (!(enc in seen)) { seen[enc] = 1; order[++n] = enc }
		}
		END {
			printf "%-12s %14s %16s %14s %16s %8s\n", "encoding", "tokenmill MB/s", "tokenmill tok/s", "pkoukk MB/s", "pkoukk tok/s", "ratio"
			for (i = 1; i <= n; i++) {
				e = order[i]; a = mbs["tokenmill", e]; b = mbs["pkoukk", e]
				r = (a != "" && b != "" && b + 0 > 0) ? sprintf("%.1fx", a / b) : "-"
				printf "%-12s %14s %16s %14s %16s %8s\n", e, a, toks["tokenmill", e], b, toks["pkoukk", e], r
			}
		}'

	header "per class of input, cl100k_base, one core (MB/s)"
	bench_table "$raw" | awk '
		$1 ~ /^BenchmarkClass\// {
			split($1, p, "/"); c = p[2]; impl = p[3]; sub(/-[0-9]+$/, "", impl)
			mbs[c, impl] = $2; toks[c, impl] = $3
			if (!(c in seen)) { seen[c] = 1; order[++n] = c }
		}
		END {
			printf "%-12s %14s %16s %14s %16s %8s\n", "class", "tokenmill MB/s", "tokenmill tok/s", "pkoukk MB/s", "pkoukk tok/s", "ratio"
			for (i = 1; i <= n; i++) {
				c = order[i]; a = mbs[c, "tokenmill"]; b = mbs[c, "pkoukk"]
				r = (a != "" && b != "" && b + 0 > 0) ? sprintf("%.1fx", a / b) : "-"
				printf "%-12s %14s %16s %14s %16s %8s\n", c, a, toks[c, "tokenmill"], b, toks[c, "pkoukk"], r
			}
		}'

	header "EncodeBatch on the corpus, by cores"
	bench_table "$batch" | awk '
		BEGIN { printf "%-12s %6s %10s %14s\n", "encoding", "cores", "MB/s", "tokens/s" }
		$1 ~ /^BenchmarkEncodeBatch\// {
			split($1, p, "/"); enc = p[2]; cpu = 1
			if (match(enc, /-[0-9]+$/)) { cpu = substr(enc, RSTART + 1); enc = substr(enc, 1, RSTART - 1) }
			printf "%-12s %6s %10s %14s\n", enc, cpu, $2, $3
		}'
}

# ---------------------------------------------------------------------------------------------

for s in ${BENCH_SECTIONS:-${SECTIONS[*]}}; do
	"section_$s"
done
