#!/usr/bin/env bash
# Benchmarks for `make bench` (run after `make build`). Each section is a function section_<name>
# listed in SECTIONS; it runs its benchmarks, keeps the raw `go test -bench` output in $OUT and
# prints a table. To add one (e.g. end-to-end pipeline numbers): define section_<name> below the
# others and append <name> to SECTIONS. BENCH_SECTIONS="tokenizer" runs a subset.
#
# Environment: GO (go), CORPUS (testdata/bench/corpus.jsonl), CORPUS_MB (40),
# ML_CORPUS (testdata/bench/multilingual.jsonl), ML_BENCHTIME (1x), ML_ROUNDS (3), ML_PAIRS (7), OUT (out/bench),
# BENCHTIME (3x), BENCH_SECTIONS (all of SECTIONS), BIN (bin/tokenmill), PIPELINE_PARTS (8),
# PIPELINE_WORKERS ("1 2"), PIPELINE_REPEAT (2), CLUSTER_BENCHTIME (1x), LOAD_BENCHTIME (5x),
# TOKENIZE_BENCHTIME (3x).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
CORPUS=${CORPUS:-testdata/bench/corpus.jsonl}
ML_CORPUS=${ML_CORPUS:-testdata/bench/multilingual.jsonl}
CORPUS_MB=${CORPUS_MB:-40}
OUT=${OUT:-out/bench}
BENCHTIME=${BENCHTIME:-3x}
SECTIONS=(corpus tokenizer load tokenize pipeline cluster failover)

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

# ml_corpus: the multilingual corpus (real prose in twelve languages, a "lang" on every line),
# built once by ../shared/testdata/make-multilingual-corpus.sh, which installs Debian packages
# (root). Without the script the multilingual tables are skipped.
ml_corpus() {
	if [ -s "$ML_CORPUS" ]; then
		echo "$ML_CORPUS: $(wc -c <"$ML_CORPUS") bytes (delete it to rebuild)"
		return
	fi
	if [ ! -f ../shared/testdata/make-multilingual-corpus.sh ]; then
		echo "$ML_CORPUS: not built (no ../shared/testdata/make-multilingual-corpus.sh)"
		return
	fi
	mkdir -p "$(dirname "$ML_CORPUS")"
	bash ../shared/testdata/make-multilingual-corpus.sh "$ML_CORPUS.tmp"
	mv "$ML_CORPUS.tmp" "$ML_CORPUS"
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
	header "tokenizer: go test -bench 'Compare|Class|EncodeCorpusCold' -benchtime $BENCHTIME -cpu 1"
	local raw=$OUT/tokenizer.txt batch=$OUT/tokenizer-batch.txt
	TOKENMILL_BENCH_CORPUS=$PWD/$CORPUS "$GO" test ./tokenizer -run '^$' \
		-bench 'Compare|Class|EncodeCorpusCold' -benchtime "$BENCHTIME" -cpu 1 -timeout 60m | tee "$raw"
	header "tokenizer: go test -bench EncodeBatch -benchtime $BENCHTIME -cpu 1,2"
	TOKENMILL_BENCH_CORPUS=$PWD/$CORPUS "$GO" test ./tokenizer -run '^$' \
		-bench 'EncodeBatch' -benchtime "$BENCHTIME" -cpu 1,2 -timeout 60m | tee "$batch"

	header "corpus, one core (warm = tokenmill over the corpus BENCHTIME times; cold = a freshly loaded tokenizer, one pass, CPU MB/s; ratio = tokenmill warm / pkoukk, MB/s)"
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
	awk '
		function metric(unit,   i) { for (i = 2; i < NF; i++) if ($(i + 1) == unit) return $i; return "" }
		$1 ~ /^BenchmarkEncodeCorpusCold\// {
			split($1, p, "/"); enc = p[2]; sub(/-[0-9]+$/, "", enc)
			printf "%-12s cold: %s MB/s, %s CPU-MB/s\n", enc, metric("MB/s"), metric("cpu-MB/s")
		}' "$raw"

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

	section_tokenizer_multilingual

	header "EncodeBatch on the corpus, by cores"
	bench_table "$batch" | awk '
		BEGIN { printf "%-12s %6s %10s %14s\n", "encoding", "cores", "MB/s", "tokens/s" }
		$1 ~ /^BenchmarkEncodeBatch\// {
			split($1, p, "/"); enc = p[2]; cpu = 1
			if (match(enc, /-[0-9]+$/)) { cpu = substr(enc, RSTART + 1); enc = substr(enc, 1, RSTART - 1) }
			printf "%-12s %6s %10s %14s\n", enc, cpu, $2, $3
		}'
}

# section_tokenizer_multilingual: tokenmill (cold: a freshly loaded tokenizer per pass, at least 5
# passes and 4 MB, cpu = the passes' median (tokenizer/multilingual_test.go benchColdWith); warm:
# after a pass that filled its caches) and pkoukk, per corpus (the multilingual corpus whole,
# "all", and per lang slice; the Go corpus, "go"), one core, ML_BENCHTIME passes; cl100k_base and
# o200k_base, and the tokenizer.json files that split like them (llama3, gpt-oss: testdata). MB/s
# are wall figures, cpu = MB per second of the process's CPU time (what other processes on a
# shared machine move least); the ratios are tokenmill cold / pkoukk, by wall and by CPU time,
# both measured in this run; "vs built-in" is a tokenizer.json's cold CPU figure over that of the
# built-in it splits like.
section_tokenizer_multilingual() {
	header "multilingual corpus"
	ml_corpus
	[ -s "$ML_CORPUS" ] || return 0
	[ -s "$CORPUS" ] || section_corpus
	local raw=$OUT/tokenizer-multilingual.txt bt=${ML_BENCHTIME:-1x}
	header "tokenizer: go test -bench Multilingual -benchtime $bt -cpu 1"
	# BenchmarkMultilingualSP runs the SentencePiece-style tokenizer.json files of tokenizer/testdata
	# (mistral-v0.3, openllama) and mistral-v0.3.model (beside the library, sp_library below);
	# TOKENMILL_SP_TOKENIZERS may name more (comma-separated paths).
	# Each tokenizer in a process of its own, as a run loads one: in a process that ran others
	# before, the memory a fresh tokenizer's tables and caches get is the heap's reused pages,
	# and its cold passes were up to a fifth slower (Llama 3's 62-66 CPU MB/s alone, 44-55 after
	# cl100k_base and o200k_base). ML_ROUNDS rounds (3) of the four, one after the other, so that a
	# tokenizer.json and its built-in are measured minutes apart at most; pkoukk in every round,
	# so that its median and tokenmill's come from the same phases of a shared machine. The table
	# gives each figure's median over the rounds.
	local bin ml go first second rounds=${ML_ROUNDS:-3}
	bin=$(abspath "$OUT")/tokenizer.test ml=$(abspath "$ML_CORPUS") go=$(abspath "$CORPUS")
	"$GO" test -c -o "$bin" ./tokenizer
	: >"$raw"
	# run_ml PATTERN BENCHTIME: the test binary's benchmarks matching PATTERN, one core, on both
	# corpora.
	run_ml() {
		(cd tokenizer && TOKENMILL_BENCH_ML_CORPUS=$ml TOKENMILL_BENCH_CORPUS=$go \
			"$bin" -test.run '^$' -test.bench "$1" -test.benchtime "$2" -test.cpu 1 -test.timeout 120m)
	}
	for round in $(seq "$rounds"); do
		for enc in cl100k_base llama3 o200k_base gpt-oss; do
			run_ml "^BenchmarkMultilingual\$/^$enc\$" "$bt" | tee -a "$raw"
		done
	done
	# The pairs: a tokenizer.json and its built-in, cold, on the whole multilingual corpus and on
	# the Go corpus, in processes run back to back (seconds apart, the built-in first in odd
	# rounds and second in even ones, so that a steady drift of the machine's speed falls on
	# both alike), ML_PAIRS rounds (7). "vs built-in" for those two corpora is the median of the
	# pairs' ratios: on a VM whose speed swings by a third within a minute, the rounds above,
	# where the two run minutes apart, moved it by ten points and more from run to run.
	echo "pairs: tokenizer.json and its built-in back to back, cold, ${ML_PAIRS:-7} rounds" >&2
	for round in $(seq "${ML_PAIRS:-7}"); do
		for pair in "cl100k_base llama3" "o200k_base gpt-oss"; do
			read -r first second <<<"$pair"
			[ $((round % 2)) = 1 ] || read -r second first <<<"$pair"
			for enc in "$first" "$second"; do
				run_ml "^BenchmarkMultilingual\$/^$enc\$/^(all|go)\$/^tokenmill-cold\$" 1x |
					sed -n "s|^BenchmarkMultilingual/|BenchmarkPair/$round/|p" | tee -a "$raw"
			done
		done
	done
	run_ml '^BenchmarkMultilingualSP$' "$bt" | tee -a "$raw"
	header "per corpus and lang slice, one core, medians of $rounds rounds (ratio = tokenmill cold / pkoukk; vs built-in = tokenizer.json cold cpu / its built-in's, the median over the rounds of the ratio in a round, or, marked p, over the pairs run back to back)"
	awk '
		function metric(unit,   i) { for (i = 2; i < NF; i++) if ($(i + 1) == unit) return $i; return "" }
		# add appends v to the list kept in all[key] (space-separated); med returns its median.
		function add(key, v) { if (v != "") all[key] = all[key] " " v }
		function med(key,   a, m, i, j, t) {
			m = split(all[key], a, " ")
			if (m == 0) return ""
			for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return a[int((m + 1) / 2)]
		}
		# A pair run (round, tokenizer, corpus): its cold CPU figure, for "vs built-in".
		$1 ~ /^BenchmarkPair\// {
			split($1, p, "/"); pair[p[2], p[3], p[4]] = metric("cpu-MB/s"); if (p[2] + 0 > pairRounds) pairRounds = p[2] + 0
			next
		}
		$1 ~ /^BenchmarkMultilingual\// {
			split($1, p, "/"); enc = p[2]; lang = p[3]; impl = p[4]; sub(/-[0-9]+$/, "", impl)
			k = enc SUBSEP lang
			add("m" SUBSEP k SUBSEP impl, metric("MB/s")); add("c" SUBSEP k SUBSEP impl, metric("cpu-MB/s"))
			add("t" SUBSEP k SUBSEP impl, metric("tokens/s"))
			if (!(k in seen)) { seen[k] = 1; order[++n] = k }
		}
		END {
			for (key in all) {
				split(key, q, SUBSEP)
				if (q[1] == "m") mbs[q[2], q[3], q[4]] = med(key)
				if (q[1] == "c") cpu[q[2], q[3], q[4]] = med(key)
				if (q[1] == "t") toks[q[2], q[3], q[4]] = med(key)
			}
			base["llama3"] = "cl100k_base"; base["gpt-oss"] = "o200k_base"
			printf "%-12s %-6s %9s %9s %9s %9s %9s %9s %7s %7s %14s %14s %11s\n", "tokenizer", "corpus", "cold MB/s", "cold cpu", \
				"warm MB/s", "warm cpu", "pk MB/s", "pk cpu", "ratio", "cpu ratio", "cold tok/s", "pk tok/s", "vs built-in"
			for (i = 1; i <= n; i++) {
				k = order[i]; split(k, e, SUBSEP)
				c = mbs[k, "tokenmill-cold"]; pk = mbs[k, "pkoukk"]; cc = cpu[k, "tokenmill-cold"]; pc = cpu[k, "pkoukk"]
				r = (c != "" && pk + 0 > 0) ? sprintf("%.1fx", c / pk) : "-"
				rc = (cc != "" && pc + 0 > 0) ? sprintf("%.1fx", cc / pc) : "-"
				vb = "-"
				if (e[1] in base) {
					# The median of the ratios of the pairs (marked p) where the corpus was paired;
					# else the median over the rounds of the ratio within a round, where the
					# built-in ran minutes before.
					delete all["vb"]
					for (j = 1; j <= pairRounds; j++)
						if (pair[j, base[e[1]], e[2]] + 0 > 0 && pair[j, e[1], e[2]] != "")
							add("vb", pair[j, e[1], e[2]] / pair[j, base[e[1]], e[2]])
					mark = (all["vb"] != "") ? " p" : ""
					if (all["vb"] == "") {
						nj = split(all["c" SUBSEP k SUBSEP "tokenmill-cold"], fj, " ")
						nb = split(all["c" SUBSEP base[e[1]] SUBSEP e[2] SUBSEP "tokenmill-cold"], fb, " ")
						for (j = 1; j <= nj && j <= nb; j++) if (fb[j] + 0 > 0) add("vb", fj[j] / fb[j])
					}
					if (all["vb"] != "") vb = sprintf("%.0f%%%s", 100 * med("vb"), mark)
				}
				printf "%-12s %-6s %9s %9s %9s %9s %9s %9s %7s %7s %14s %14s %11s\n", e[1], e[2], c, cc, mbs[k, "tokenmill-warm"], \
					cpu[k, "tokenmill-warm"], (pk == "" ? "-" : pk), (pc == "" ? "-" : pc), r, rc, toks[k, "tokenmill-cold"], \
					(toks[k, "pkoukk"] == "" ? "-" : toks[k, "pkoukk"]), vb
			}
		}' "$raw" | tee "$OUT/tokenizer-multilingual-table.txt"
	header "multilingual corpus, SentencePiece-style tokenizer.json and mistral-v0.3.model, one core (MB/s; cpu = per CPU second)"
	awk '
		function metric(unit,   i) { for (i = 2; i < NF; i++) if ($(i + 1) == unit) return $i; return "" }
		BEGIN { printf "%-28s %-6s %-16s %9s %9s %14s\n", "tokenizer", "lang", "run", "MB/s", "cpu MB/s", "tokens/s" }
		$1 ~ /^BenchmarkMultilingualSP\// {
			split($1, p, "/"); impl = p[4]; sub(/-[0-9]+$/, "", impl)
			printf "%-28s %-6s %-16s %9s %9s %14s\n", p[2], p[3], impl, metric("MB/s"), metric("cpu-MB/s"), metric("tokens/s")
		}' "$raw" | tee "$OUT/tokenizer-multilingual-sp.txt"
	sp_library
}

# sp_library: Google's SentencePiece library (Debian's python3-sentencepiece) on the same texts
# with mistral-v0.3.model, next to the SentencePiece-style tokenizer.json figures above: the CPU
# time of one python3 process encoding every document once (scripts/sp_library_bench.py; the
# library encodes on one core). Skipped, with a message, without the library or the model.
sp_library() {
	local model=../shared/testdata/tokenizer/vocab/mistral-v0.3.model py=""
	header "multilingual corpus, Google's SentencePiece library (python3-sentencepiece), one core"
	for p in /usr/bin/python3 python3; do
		if command -v "$p" >/dev/null && "$p" -c 'import sentencepiece' 2>/dev/null; then
			py=$p
			break
		fi
	done
	if [ -z "$py" ] || [ ! -f "$model" ]; then
		echo "skipped: needs python3-sentencepiece (apt-get install python3-sentencepiece) and $model"
		return 0
	fi
	"$py" scripts/sp_library_bench.py "$model" "$ML_CORPUS" | tee "$OUT/tokenizer-multilingual-splib.txt"
}

# ---------------------------------------------------------------------------------------------
# load: the time to load each tokenizer, one load per iteration, LOAD_BENCHTIME iterations. The
# built-ins are embedded pre-parsed. A tokenizer.json (testdata's Llama 3, GPT-OSS and
# mistral-v0.3 files) is loaded first with an empty load cache ("first": the model is built from
# the JSON and the cache file written, what the first load of a file on a machine costs), then
# with the cache file ("cached": every later load by the CLI or a worker). cpu ms = the process's
# user + sys CPU per load (the garbage collector's work on other cores included); wall ms is
# what a shared machine also adds. Target: a tokenizer.json in <= 150 ms.

section_load() {
	local bt=${LOAD_BENCHTIME:-5x} raw=$OUT/load.txt
	header "load: go test ./tokenizer -bench 'BenchmarkLoad\$|LoadFile' -benchtime $bt"
	"$GO" test ./tokenizer -run '^$' -bench 'BenchmarkLoad$|LoadFile' -benchtime "$bt" -timeout 30m | tee "$raw"
	header "tokenizer load times (ms per load)"
	awk '
		function metric(unit,   i) { for (i = 2; i < NF; i++) if ($(i + 1) == unit) return $i; return "" }
		BEGIN { printf "%-16s %-8s %10s %10s %s\n", "tokenizer", "load", "cpu ms", "wall ms", "target <= 150 ms (cached)" }
		$1 ~ /^BenchmarkLoad(File)?\// {
			n = split($1, p, "/"); name = p[2]; mode = (n > 2) ? p[3] : "built-in"; sub(/-[0-9]+$/, "", name); sub(/-[0-9]+$/, "", mode)
			cpu = metric("cpu-ms/op"); wall = metric("ns/op") / 1e6
			verdict = (mode == "cached") ? ((cpu + 0 <= 150) ? "ok" : "MISSED") : ""
			printf "%-16s %-8s %10.1f %10.1f %s\n", name, mode, cpu, wall, verdict
		}' "$raw" | tee "$OUT/load-table.txt"
}

# ---------------------------------------------------------------------------------------------
# tokenize: `tokenmill tokenize`'s path (JSONL chunks in, {"ids":[...]} lines out, one encoding
# goroutine) against the tokenizer alone on the same texts, on the Go corpus and the multilingual
# corpus, cold (a fresh tokenizer per pass), in MB of text per CPU second; the two passes
# alternate within each iteration, and "of core" is the median of the iterations' ratios.
# Target: >= 85% of the tokenizer's figure.

section_tokenize() {
	[ -s "$CORPUS" ] || section_corpus
	ml_corpus
	local bt=${TOKENIZE_BENCHTIME:-5x} raw=$OUT/tokenize.txt
	header "tokenize: go test ./cmd/tokenmill -bench TokenizeStream -benchtime $bt -cpu 1"
	TOKENMILL_BENCH_CORPUS=$PWD/$CORPUS TOKENMILL_BENCH_ML_CORPUS=$PWD/$ML_CORPUS "$GO" test ./cmd/tokenmill -run '^$' \
		-bench TokenizeStream -benchtime "$bt" -cpu 1 -timeout 60m | tee "$raw"
	header "tokenize command vs the tokenizer alone, one core, cold (MB of text per CPU second)"
	awk '
		function metric(unit,   i) { for (i = 2; i < NF; i++) if ($(i + 1) == unit) return $i; return "" }
		BEGIN { printf "%-14s %-12s %14s %16s %10s %s\n", "corpus", "encoding", "core cpu MB/s", "tokenize cpu MB/s", "of core", "target >= 85%" }
		$1 ~ /^BenchmarkTokenizeStream\// {
			split($1, p, "/"); enc = p[3]; sub(/-[0-9]+$/, "", enc); r = metric("%-of-core")
			printf "%-14s %-12s %14s %16s %9.1f%% %s\n", p[2], enc, metric("core-cpu-MB/s"), metric("stream-cpu-MB/s"), r, (r + 0 >= 85) ? "ok" : "MISSED"
		}' "$raw" | tee "$OUT/tokenize-table.txt"
}

# ---------------------------------------------------------------------------------------------
# pipeline: `tokenmill run` end to end on the corpus compressed with zstd, next to the
# tokenizer-only figure. A compressed file is one shard, so the corpus is split by lines into
# PIPELINE_PARTS .zst files (testdata/bench/zst/) to let the workers share it. Two settings:
#   a: one sequence length, .npy only, uint32 (target: >= 85% of the tokenizer-only MB/s per core)
#   b: three lengths, HF + .npy, int64 (12-18 output bytes per input byte: where the time goes,
#      and the bytes written per second against the disk's sequential write speed, dd oflag=direct)
#   c: a on the corpus as one .zst file: one shard, which idle workers help tokenize
#   d: a on the corpus as one text file per document, planned in runs of small files
#   e: a on the corpus as one Parquet file (Snappy, one row group)
#   f: a on the corpus as a Hugging Face save_to_disk dataset
# Each run is timed by /usr/bin/time -v (wall, user+sys CPU, peak RSS), PIPELINE_REPEAT times
# (the machine may be shared: MB/s per CPU-second is the per-core figure that noise hurts least).
# Raw MB = the bytes of the documents' text (UTF-8), not of the compressed files.

pipeline_inputs() {
	local zst=$CORPUS.zst parts=${PIPELINE_PARTS:-8} dir
	dir=$(dirname "$CORPUS")/zst
	[ -s "$zst" ] || zstd_file "$CORPUS" "$zst"
	if [ "$(ls "$dir"/part-*.jsonl.zst 2>/dev/null | wc -l)" != "$parts" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		split -n "l/$parts" -d -a 2 --additional-suffix=.jsonl "$CORPUS" "$dir/part-"
		for f in "$dir"/part-*.jsonl; do
			zstd_file "$f" "$f.zst"
			rm "$f"
		done
	fi
	# One text file per document (setting d), written once per corpus.
	local docs
	docs=$(dirname "$CORPUS")/docs
	if [ ! -d "$docs" ] || [ "$docs" -ot "$CORPUS" ]; then
		rm -rf "$docs" "$docs.tmp"
		mkdir -p "$docs.tmp"
		python3 -c '
import json, os, sys
for i, l in enumerate(open(sys.argv[1], "rb")):
    if l.strip():
        open(os.path.join(sys.argv[2], "doc%06d.txt" % i), "wb").write(json.loads(l)["text"].encode())' "$CORPUS" "$docs.tmp"
		mv "$docs.tmp" "$docs"
	fi
	# The corpus as one Parquet file (setting e), written once per corpus by tokenmill convert.
	local pq
	pq=$(dirname "$CORPUS")/corpus.parquet
	if [ ! -s "$pq" ] || [ "$pq" -ot "$CORPUS" ]; then
		"${BIN:-bin/tokenmill}" convert "$CORPUS" --to parquet --overwrite "$pq" >/dev/null
	fi
	# And as an HF save_to_disk dataset (setting f).
	local hf
	hf=$(dirname "$CORPUS")/corpus.hf
	if [ ! -s "$hf/state.json" ] || [ "$hf/state.json" -ot "$CORPUS" ]; then
		"${BIN:-bin/tokenmill}" convert "$CORPUS" --to hf --overwrite "$hf" >/dev/null
	fi
	# The raw text bytes, computed once per corpus.
	if [ ! -s "$CORPUS.textbytes" ] || [ "$CORPUS.textbytes" -ot "$CORPUS" ]; then
		python3 -c '
import json, sys
print(sum(len(json.loads(l)["text"].encode()) for l in open(sys.argv[1], "rb") if l.strip()))' "$CORPUS" >"$CORPUS.textbytes"
	fi
}

# zstd_file IN OUT: the zstd command when there is one, else internal/cmd/benchzstd.
zstd_file() {
	if command -v zstd >/dev/null; then
		zstd -q -f -3 "$1" -o "$2"
	else
		"$GO" run ./internal/cmd/benchzstd "$1" "$2"
	fi
}

# abspath PATH: PATH made absolute against the current directory (a job file's relative paths
# are relative to the file's own directory).
abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$PWD/$1" ;;
	esac
}

# pipeline_job NAME LENGTHS FORMATS DTYPE [INPUTS]: writes $OUT/pipeline-NAME.yaml; INPUTS
# defaults to the PIPELINE_PARTS .zst files.
pipeline_job() {
	cat >"$OUT/pipeline-$1.yaml" <<EOF
name: bench-$1
inputs:
  - path: $(abspath "${5:-$(dirname "$CORPUS")/zst/part-*.jsonl.zst}")
    format: auto
    text_field: text
tokenizer: cl100k_base
sequence_lengths: $2
val_fraction: 0.01
seed: 0
eos: true
remainder: drop
output:
  dir: $(abspath "$OUT/pipeline-$1")
  formats: $3
  dtype: $4
EOF
}

# tokenizer_mbs FILE: the MB/s of BenchmarkCompare/tokenmill/cl100k_base in a go test output.
tokenizer_mbs() {
	[ -s "$1" ] && bench_table "$1" | awk '$1 ~ /^BenchmarkCompare\/tokenmill\/cl100k_base(-[0-9]+)?$/ { print $2; exit }'
}

section_pipeline() {
	[ -s "$CORPUS" ] || section_corpus
	local bin=${BIN:-bin/tokenmill} reps=${PIPELINE_REPEAT:-2} raw s w r t
	[ -x "$bin" ] || "$GO" build -trimpath -o "$bin" ./cmd/tokenmill
	if [ ! -x /usr/bin/time ]; then
		echo "installing GNU time (for /usr/bin/time -v)"
		if [ "$(id -u)" = 0 ]; then apt-get install -y -qq time >/dev/null; else sudo apt-get install -y -qq time >/dev/null; fi
	fi
	header "pipeline: inputs"
	pipeline_inputs
	raw=$(cat "$CORPUS.textbytes")
	echo "$(dirname "$CORPUS")/zst: $(ls "$(dirname "$CORPUS")"/zst/*.zst | wc -l) files, $(cat "$(dirname "$CORPUS")"/zst/*.zst | wc -c) bytes compressed, $raw bytes of text"

	# Tokenizer-only references, same encoding, one core: warm (the tokenizer section's figure:
	# the same texts encoded BENCHTIME times) and cold (one pass over the corpus in a fresh
	# process, as the pipeline sees it).
	local warm cold dd src="$OUT/tokenizer.txt"
	warm=$(tokenizer_mbs "$OUT/tokenizer.txt" || true)
	if [ -z "$warm" ]; then
		src="$OUT/pipeline-tokenizer.txt, -benchtime $BENCHTIME"
		TOKENMILL_BENCH_CORPUS=$PWD/$CORPUS "$GO" test ./tokenizer -run '^$' -bench 'Compare/tokenmill/cl100k_base$' \
			-benchtime "$BENCHTIME" -cpu 1 -timeout 60m >"$OUT/pipeline-tokenizer.txt"
		warm=$(tokenizer_mbs "$OUT/pipeline-tokenizer.txt")
	fi
	TOKENMILL_BENCH_CORPUS=$PWD/$CORPUS "$GO" test ./tokenizer -run '^$' -bench 'Compare/tokenmill/cl100k_base$' \
		-benchtime 1x -cpu 1 -timeout 60m >"$OUT/pipeline-tokenizer-cold.txt"
	cold=$(tokenizer_mbs "$OUT/pipeline-tokenizer-cold.txt")
	# The read side alone (decompress, split lines, validate, extract the text), one core: with
	# the cold tokenizer figure it bounds what a one-core pipeline can reach, before writing.
	local readonly
	TOKENMILL_BENCH_ZST_DIR=$PWD/$(dirname "$CORPUS")/zst "$GO" test ./formats -run '^$' -bench 'ReadCorpusZstd' \
		-benchtime 5x -cpu 1 -timeout 60m >"$OUT/pipeline-read.txt"
	readonly=$(bench_table "$OUT/pipeline-read.txt" | awk '$1 ~ /^BenchmarkReadCorpusZstd/ { print $2; exit }')
	# The zstd command's own decompression time of the same files, for comparison.
	local zstdcli=0
	if command -v zstd >/dev/null; then
		zstdcli=$( { /usr/bin/time -f "%U %S" zstd -q -d -c "$(dirname "$CORPUS")"/zst/*.zst >/dev/null; } 2>&1 | awk '{ print $1 + $2 }')
	fi

	pipeline_job a '[2048]' '[npy]' uint32
	pipeline_job b '[512, 1024, 2048]' '[hf, npy]' int64
	# c: setting a on the corpus as one .zst file, which is one shard: its documents are
	# tokenized by every worker (shard.TokenizePool), not by one.
	pipeline_job c '[2048]' '[npy]' uint32 "$CORPUS.zst"
	# d: setting a on the corpus as one text file per document (3,530 files of 11 KB on average),
	# which the planner reads in runs of small files, a shard each.
	pipeline_job d '[2048]' '[npy]' uint32 "$(dirname "$CORPUS")/docs"
	# e: setting a on the corpus as one Parquet file (Snappy, as `tokenmill convert` and pyarrow
	# write it), the format of most corpora published as datasets.
	pipeline_job e '[2048]' '[npy]' uint32 "$(dirname "$CORPUS")/corpus.parquet"
	# f: setting a on the corpus as a Hugging Face save_to_disk dataset (batches of 1000 rows).
	pipeline_job f '[2048]' '[npy]' uint32 "$(dirname "$CORPUS")/corpus.hf"
	# The disk's sequential write speed, measured in this run, next to the pipeline's writes.
	dd=$(dd if=/dev/zero of="$OUT/ddtest" bs=1M count=512 oflag=direct conv=fsync 2>&1 | tail -1)
	rm -f "$OUT/ddtest"
	# The fixed cost of a run: setting a on one short document (process start, tokenizer load,
	# creating and publishing the outputs), the least CPU time of three runs. It does not grow
	# with the corpus, so on a large one the per-core figures approach those without it.
	local fixed=0
	mkdir -p "$OUT/fixed"
	echo '{"text":"hello world"}' >"$OUT/fixed/one.jsonl"
	# (remainder: pad, or the one short document fills no row and the job fails for want of rows.)
	sed -e "s#^  - path: .*#  - path: $(abspath "$OUT/fixed/one.jsonl")#" -e "s#^  dir: .*#  dir: $(abspath "$OUT/fixed/out")#" \
		-e "s#^remainder: drop#remainder: pad#" "$OUT/pipeline-a.yaml" >"$OUT/pipeline-fixed.yaml"
	for r in 1 2 3; do
		rm -rf "$OUT/fixed/out"
		/usr/bin/time -f "%U %S" -o "$OUT/fixed/time" "$bin" run "$OUT/pipeline-fixed.yaml" --workers 1 --progress none >/dev/null
		fixed=$(awk -v f="$fixed" '{ c = $1 + $2; print (f == 0 || c < f) ? c : f }' "$OUT/fixed/time")
	done
	# The cold tokenizer again right before each run, from a test binary built once: the
	# machine's speed drifts between minutes, so each run's /cold compares it with a pass of
	# the tokenizer alone made moments before, not with one made at another speed.
	(cd tokenizer && "$GO" test -c -o "../$OUT/tokenizer.test" .)
	cold_now() {
		(cd tokenizer && TOKENMILL_BENCH_CORPUS=$PWD/../$CORPUS "../$OUT/tokenizer.test" -test.run '^$' \
			-test.bench 'Compare/tokenmill/cl100k_base$' -test.benchtime 1x -test.cpu 1) >"$OUT/pipeline-tokenizer-cold-now.txt"
		tokenizer_mbs "$OUT/pipeline-tokenizer-cold-now.txt"
	}
	: >"$OUT/pipeline-runs.txt"
	local use_perf=0
	command -v perf >/dev/null && perf record -q -o "$OUT/perf-check.data" -g -- true >/dev/null 2>&1 && use_perf=1
	rm -f "$OUT/perf-check.data"
	for s in a b c d e f; do
		for w in ${PIPELINE_WORKERS:-1 2}; do
			for r in $(seq "$reps"); do
				t=$OUT/pipeline-$s-w$w-r$r
				# The previous output is removed outside the timing: a run into a fresh
				# directory is what is measured, not the deletion of the old one.
				rm -rf "$OUT/pipeline-$s"
				c=$(cold_now)
				header "pipeline $s: $bin run $OUT/pipeline-$s.yaml --workers $w ($r/$reps)"
				# Setting a runs sampled (perf where it works, else the run's own CPU
				# profile), for the share of its CPU outside the tokenizer and the
				# decompressor (see below).
				local prof=() perf=()
				if [ "$s" = a ]; then
					if [ "$use_perf" = 1 ]; then
						perf=(perf record -q -F 999 -g -o "$t.perf" --)
					else
						prof=(--cpuprofile "$t.prof")
					fi
				fi
				"${perf[@]}" /usr/bin/time -v -o "$t.time" "$bin" run "$OUT/pipeline-$s.yaml" --workers "$w" \
					--progress none "${prof[@]}" >"$t.out" 2>"$t.err" || { cat "$t.err"; return 1; }
				sed -n '/^throughput/p; /^time/p' "$t.out"
				cp "$OUT/pipeline-$s/run.json" "$t.run.json"
				echo "$s $w $r $t $(du -sb --exclude=run.json "$OUT/pipeline-$s" | cut -f1) ${c:-0}" >>"$OUT/pipeline-runs.txt"
			done
		done
	done
	header "pipeline: tokenmill run, end to end"
	python3 - "$OUT/pipeline-runs.txt" "$(cat "$CORPUS.textbytes")" "${warm:-0}" "${cold:-0}" "$dd" "$src" \
		"${readonly:-0}" "$zstdcli" "$OUT/tokenizer-batch.txt" "$fixed" <<'PY' | tee "$OUT/pipeline.txt"
import json, re, sys
runs, raw, warm, cold, dd, src = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
readonly, zstdcli, batchfile, fixed = float(sys.argv[7]), float(sys.argv[8]), sys.argv[9], float(sys.argv[10])
mb = raw / 1e6

def gnutime(path):
    t = {}
    for line in open(path):
        k, _, v = line.strip().rpartition(": ")
        t[k] = v
    h, m, sec = ([0] + t["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"))[-3:]
    wall = int(h) * 3600 + int(m) * 60 + float(sec)
    cpu = float(t["User time (seconds)"]) + float(t["System time (seconds)"])
    return wall, cpu, int(t["Maximum resident set size (kbytes)"]) / 1024, int(t["Minor (reclaiming a frame) page faults"])

rows = []
for line in open(runs):
    s, w, r, base, outbytes, coldnow = line.split()
    wall, cpu, rss, faults = gnutime(base + ".time")
    rows.append(dict(s=s, w=int(w), r=int(r), base=base, wall=wall, cpu=cpu, rss=rss, faults=faults, out=int(outbytes),
                     cold=float(coldnow) or cold, info=json.load(open(base + ".run.json"))))

print(f"raw text {mb:.1f} MB; tokenizer-only, cl100k_base, one core: {warm:.1f} MB/s warm ({src}), "
      f"{cold:.1f} MB/s cold (one pass, -benchtime 1x)")
if readonly and cold:
    bound = 1 / (1 / cold + 1 / readonly)
    print(f"read side alone (zstd, lines, validate, extract; BenchmarkReadCorpusZstd, one core): {readonly:.1f} MB/s "
          f"= {mb / readonly:.2f} s; zstd command: {zstdcli:.2f} cpu-s to decompress the same files")
    print(f"one-core bound of read + tokenize (cold), nothing written: {bound:.1f} MB/s = {bound / cold:.0%} of the cold "
          f"tokenizer, {bound / warm if warm else 0:.0%} of the warm")
if zstdcli and cold:
    # What setting a's target of 85% leaves once the tokenizer and the zstd command's own
    # decompression are paid: the budget for everything else of a run, per MB of text.
    tok_s = mb / cold
    spare = tok_s / 0.85 - tok_s - zstdcli
    print(f"at 85% of the cold tokenizer a run may spend {tok_s / 0.85 - tok_s:.3f} cpu-s besides tokenizing; decompressing "
          f"alone (zstd command) takes {zstdcli:.3f}, leaving {spare:.3f} cpu-s "
          + (f"= {mb / spare:.0f} MB/s for JSON decoding, lines, validation, packing, writing and the process's start"
             if spare > 0 else "(nothing) for JSON decoding, lines, validation, packing, writing and the process's start"))
print("a: [2048], npy, uint32; b: [512, 1024, 2048], hf + npy, int64; c: a on the corpus as one .zst file (one shard); d: a on the corpus as one text file per document; e: a on the corpus as one Parquet file (Snappy); f: a on the corpus as an HF dataset. MB/s/core = raw MB / (wall x workers); "
      "MB/s/cpu-s = raw MB / (user + sys); tok/cpu = the run's own tokenize time / its CPU time: the share of the "
      "run spent in the tokenizer, which the machine's speed swings (2x within minutes here) do not move; "
      "cold now = the tokenizer's cold pass, MB/s, measured right before the run, and /cold the run's MB/s/cpu-s "
      "against it; faults = minor page faults, thousands (memory touched for the first time: about 12 us each on this VM); "
      "helped = the share of the tokenizing done by idle workers for another worker's shard")
print(f"{'set':3} {'workers':>7} {'run':>3} {'wall s':>7} {'cpu s':>6} {'MB/s':>6} {'MB/s/core':>9} {'MB/s/cpu-s':>10} "
      f"{'/warm':>6} {'cold now':>8} {'/cold':>6} {'tok/cpu':>7} {'peak RSS MB':>11} {'faults k':>8} {'helped':>6}")
for x in rows:
    per_cpu = mb / x["cpu"]
    ex = x["info"]["stages"]["execute"]
    tok = ex["tokenize"] / x["cpu"]
    helped = ex.get("helped", 0) / ex["tokenize"] if ex["tokenize"] else 0
    print(f"{x['s']:3} {x['w']:7d} {x['r']:3d} {x['wall']:7.2f} {x['cpu']:6.2f} {mb / x['wall']:6.1f} "
          f"{mb / (x['wall'] * x['w']):9.1f} {per_cpu:10.1f} {per_cpu / warm if warm else 0:6.0%} "
          f"{x['cold']:8.1f} {per_cpu / x['cold'] if x['cold'] else 0:6.0%} {tok:7.0%} {x['rss']:11.0f} {x['faults'] / 1000:8.1f} {helped:6.0%}")

if fixed:
    a1 = [x for x in rows if x["s"] == "a" and x["w"] == 1]
    if a1:
        x = min(a1, key=lambda x: x["cpu"])
        tok = x["info"]["stages"]["execute"]["tokenize"]
        print(f"fixed cost of a run (setting a on one document: start, tokenizer load, outputs created and published): "
              f"{fixed:.2f} cpu-s. Without it, a on one worker (best run) spends {tok / (x['cpu'] - fixed):.0%} of its CPU "
              f"time in the tokenizer (with it, {tok / x['cpu']:.0%}): the share a corpus large enough to make the fixed "
              f"cost negligible approaches, at the same warmth of the tokenizer")

# a: the CPU a run spends outside the tokenizer and the zstd decompressor (target: <= 10% of the
# run). Where perf works, the run is sampled by perf record -g (1 kHz, every thread of the
# process from exec to exit, kernel time included, nothing added to the process): a sample with
# a function of the tokenizer package on its stack is the tokenizer's, one with klauspost's
# zstd the decompressor's, any other is other. Without perf, the run's own CPU profile
# (--cpuprofile) gives the tokenizer's and zstd's seconds the same way (go tool pprof -focus), and
# other is GNU time's user + sys minus both: that counts the process's start and exit and the
# profile's own encoding as other, so it reads high. The tokenizer is loaded once per run and
# its states are reused from shard to shard: it is warm across a worker's shards.
import os, subprocess
def perf_shares(path):
    try:
        out = subprocess.run(["perf", "script", "-i", path], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    n = {"tok": 0, "zstd": 0, "other": 0}
    start = 0
    for sample in out.split("\n\n"):
        lines = sample.strip().split("\n")
        if not lines or not lines[0].strip() or not lines[0].split()[0].startswith("tokenmill"):
            continue
        stack = "\n".join(lines[1:])
        if "tokenmill/tokenizer." in stack:
            n["tok"] += 1
        elif "klauspost/compress/zstd" in stack:
            n["zstd"] += 1
        else:
            n["other"] += 1
            # The process's start, which a run pays once whatever its input: the runtime's
            # own start (schedinit, from rt0_go) and the packages' init functions.
            if "runtime.doInit" in stack or "runtime.schedinit" in stack or "runtime.rt0_go" in stack:
                start += 1
    total = sum(n.values())
    if not total:
        return None
    sh = {k: v / total for k, v in n.items()}
    sh["start"] = start / total
    return sh
def focus_seconds(prof, regex):
    try:
        out = subprocess.run([os.environ.get("GO", "go"), "tool", "pprof", "-top", "-focus", regex, prof],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.search(r"Showing nodes accounting for ([\d.]+)(ms|s|us|µs|min)", out)
    if not m:
        return 0.0
    return float(m.group(1)) * {"ms": 1e-3, "s": 1, "us": 1e-6, "µs": 1e-6, "min": 60}[m.group(2)]
share_rows = []
for x in rows:
    if x["s"] != "a":
        continue
    base = x.get("base", "")
    if os.path.exists(base + ".perf"):
        sh = perf_shares(base + ".perf")
        if sh:
            share_rows.append((x, "perf", sh["tok"], sh["zstd"], sh["other"], sh["start"]))
    elif os.path.exists(base + ".prof") and x["cpu"]:
        tok = focus_seconds(base + ".prof", r"tokenmill/tokenizer\.")
        dec = focus_seconds(base + ".prof", r"klauspost/compress/zstd")
        if tok is not None and dec is not None:
            share_rows.append((x, "pprof", tok / x["cpu"], dec / x["cpu"], max(0.0, x["cpu"] - tok - dec) / x["cpu"], None))
if share_rows:
    print("\na: the share of the run's CPU in the tokenizer, in the zstd decompressor and outside both (target: other "
          "<= 10%; perf = samples of perf record -g over the whole process, kernel included; pprof = the run's CPU "
          "profile against GNU time's user + sys, which counts start, exit and profiling as other; start = the part "
          "of other in the process's start, the runtime's and the packages' initialization, perf only)")
    print(f"{'workers':>7} {'run':>3} {'cpu s':>6} {'by':>5} {'tokenizer':>9} {'zstd':>6} {'other':>6} {'target':>6} {'start':>6}")
    for x, by, tok, dec, other, start in share_rows:
        print(f"{x['w']:7d} {x['r']:3d} {x['cpu']:6.2f} {by:>5} {tok:9.1%} {dec:6.1%} {other:6.1%} "
              f"{'ok' if other <= 0.10 else 'MISSED':>6} {'-' if start is None else format(start, '.1%'):>6}")

m = re.search(r"([\d.]+) ([kMG]?B)/s", dd)
ddmb = float(m.group(1)) * {"B": 1e-6, "kB": 1e-3, "MB": 1, "GB": 1e3}[m.group(2)] if m else 0
print(f"\nb: where the time goes (seconds; load = tokenizer load, within plan; exec and final are wall times, "
      f"their parts are summed over workers); disk: dd 512 MiB oflag=direct {ddmb:.0f} MB/s")
print(f"{'workers':>7} {'run':>3} {'wall':>6} {'load':>5} {'exec':>5} {'read':>5} {'tokenize':>8} {'write stg':>9} "
      f"{'final':>5} {'read stg':>8} {'write out':>9} {'MB out':>6} {'B/B in':>6} {'MB stg':>6} {'MB/s out':>8} {'/dd':>5}")
for x in rows:
    if x["s"] != "b":
        continue
    i = x["info"]; ex = i["stages"]["execute"]; fi = i["stages"]["finalize"]
    written = x["out"]
    wmb = written / 1e6
    print(f"{x['w']:7d} {x['r']:3d} {x['wall']:6.2f} {i['tokenizer_load_seconds']:5.2f} {i['execute_seconds']:5.2f} "
          f"{ex['read']:5.2f} {ex['tokenize']:8.2f} {ex['write']:9.2f} {i['finalize_seconds']:5.2f} "
          f"{fi['read_staging']:8.2f} {fi['write_outputs']:9.2f} {wmb:6.0f} {written / raw:6.1f} "
          f"{i['staging_bytes'] / 1e6:6.0f} {wmb / x['wall']:8.0f} {wmb / x['wall'] / ddmb if ddmb else 0:5.0%}")
print("MB out = the outputs (du -sb, run.json excluded), synced to disk; MB stg = staged token streams (one per split, whatever the lengths) and rejects (page cache, "
      "deleted once assembled); MB/s out = MB out / wall time of the whole run")

# Scaling: the pipeline's speedup from 1 to the most workers, next to what the tokenizer alone
# gets from as many cores on this machine (EncodeBatch, the tokenizer section's run).
best = {}
for x in rows:
    k = (x["s"], x["w"])
    best[k] = min(best.get(k, 1e9), x["wall"])
ws = sorted({x["w"] for x in rows})
batch = {}
try:
    for line in open(batchfile):
        f = line.split()
        if not f or not f[0].startswith("BenchmarkEncodeBatch/cl100k_base"):
            continue
        m = re.search(r"-(\d+)$", f[0])
        batch[int(m.group(1)) if m else 1] = float(f[f.index("MB/s") - 1])
except (OSError, ValueError):
    pass
if len(ws) > 1:
    lo, hi = ws[0], ws[-1]
    print(f"\nscaling, best wall times, {lo} -> {hi} workers:")
    for s in ("a", "b", "c", "d", "e", "f"):
        if (s, lo) in best and (s, hi) in best:
            print(f"  {s}: {best[s, lo]:.2f} s -> {best[s, hi]:.2f} s = {best[s, lo] / best[s, hi]:.2f}x")
    if lo in batch and hi in batch:
        print(f"  tokenizer alone (EncodeBatch cl100k_base, {lo} -> {hi} cores): {batch[lo]:.0f} -> {batch[hi]:.0f} MB/s "
              f"= {batch[hi] / batch[lo]:.2f}x")
PY
}

# ---------------------------------------------------------------------------------------------
# cluster: the coordinator's figures next to the targets of the cluster issue: shard transitions
# committed per second through raft on disk (the leader's scheduler and FSM driven by 1,000
# in-process workers over 100,000 shards; one coordinator, and three on loopback in this one
# process), FSM bytes per shard, and the time to plan 1,000,000 files (and to list 100,000).

section_cluster() {
	local bt=${CLUSTER_BENCHTIME:-1x}
	header "cluster: go test ./coordinator -bench Cluster_Transitions -benchtime $bt"
	"$GO" test ./coordinator -run '^$' -bench 'Cluster_Transitions' -benchtime "$bt" -timeout 30m | tee "$OUT/cluster.txt"
	header "cluster: go test ./planner -bench 'Plan_MillionFiles|List_100kFiles' -benchtime $bt"
	"$GO" test ./planner -run '^$' -bench 'Plan_MillionFiles|List_100kFiles' -benchtime "$bt" -timeout 30m | tee "$OUT/cluster-plan.txt"
	header "cluster: figures and targets"
	awk '
	function metric(unit,   i) { for (i = 2; i < NF; i++) if ($(i + 1) == unit) return $i; return "" }
	function check(ok) { return ok ? "ok" : "MISSED" }
	/^BenchmarkCluster_Transitions\/nodes=/ {
		name = $1; sub(/^BenchmarkCluster_Transitions\//, "", name); sub(/-[0-9]+$/, "", name)
		t = metric("transitions/s"); c = metric("transitions/cpu-s"); f = metric("fsm-B/shard")
		printf "%-34s %12.0f transitions/s   target >= 20000   %s   (%.0f per CPU second, %s shard items per raft entry)\n", \
			"transitions through raft, " name, t, check(t >= 20000), c, metric("items/entry")
		printf "%-34s %12.0f bytes/shard     target <= 1024    %s   (raft log: %.0f bytes/shard)\n", \
			"FSM snapshot, " name, f, check(f <= 1024), metric("raft-log-B/shard")
	}
	/^BenchmarkPlan_MillionFiles/ {
		s = metric("s/plan")
		printf "%-34s %12.2f s               target < 10       %s   (%d shards)\n", "plan 1,000,000 files", s, check(s < 10), metric("shards")
	}
	/^BenchmarkList_100kFiles/ {
		printf "%-34s %12.2f s               (no target)\n", "list 100,000 files on disk", metric("s/list")
	}' "$OUT/cluster.txt" "$OUT/cluster-plan.txt" | tee "$OUT/cluster-summary.txt"
}

# ---------------------------------------------------------------------------------------------
# failover: on loopback, a cluster of 3 coordinators and 3 workers with the default gossip, lease
# and heartbeat settings; a worker holding shard leases is killed, and the time until every one
# of its shards runs on another worker is measured (BenchmarkClusterFailover, one cluster per
# iteration). Target: < 5 s.

section_failover() {
	header "failover (worker killed -> its shards running elsewhere; default gossip settings)"
	"$GO" test -run '^$' -bench ClusterFailover -benchtime "$BENCHTIME" ./worker | tee "$OUT/failover.txt"
	awk '/^BenchmarkClusterFailover/ {
		for (i = 2; i <= NF; i++) {
			if ($i == "failover-s") mean = $(i - 1)
			if ($i == "max-failover-s") worst = $(i - 1)
		}
		printf "failover: mean %.2f s, slowest %.2f s (target < 5 s: %s)\n", mean, worst, (worst < 5 ? "met" : "NOT met")
	}' "$OUT/failover.txt"
}

# ---------------------------------------------------------------------------------------------

for s in ${BENCH_SECTIONS:-${SECTIONS[*]}}; do
	"section_$s"
done
