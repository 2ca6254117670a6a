#!/bin/sh
# demo.sh: run the demo job (examples/demo.yaml) on the bundled sample corpus
# testdata/corpus/jargon.jsonl.zst and say where the output is. Run by `make demo` after
# `make build`; reruns replace the previous output (--overwrite).
set -eu
cd "$(dirname "$0")/.."
bin=${BIN:-bin/tokenmill}
if [ ! -x "$bin" ]; then
	echo "demo: $bin not found; run make build first" >&2
	exit 1
fi
"$bin" run examples/demo.yaml --overwrite "$@"
echo
echo "demo: output in $(pwd)/out/demo (train_*/ and val_*/ HF datasets, *.npy, manifest.json, rejects.jsonl)"
echo "demo: look at it with: $bin inspect out/demo (or $bin inspect out/demo/train_512.npy)"
