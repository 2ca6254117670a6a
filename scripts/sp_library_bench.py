"""Times Google's SentencePiece library encoding the texts of a JSONL corpus, on one core.

Usage: python3 sp_library_bench.py MODEL CORPUS.jsonl
Prints the library's version, its load time, and the CPU time (time.process_time of this
process) of encoding every document's "text" once, with the MB per CPU-second and tokens.
The corpus is read before the timing starts.
"""
import json
import sys
import time

import sentencepiece as spm


def main():
    model, corpus = sys.argv[1], sys.argv[2]
    with open(corpus, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f if line.strip()]
    n = sum(len(t.encode("utf-8")) for t in texts)
    t0 = time.process_time()
    sp = spm.SentencePieceProcessor(model_file=model)
    t1 = time.process_time()
    toks = 0
    for t in texts:
        toks += len(sp.encode(t))
    t2 = time.process_time()
    enc = t2 - t1
    print(f"sentencepiece {spm.__version__} ({model.rsplit('/', 1)[-1]}): load {t1 - t0:.2f} cpu-s; "
          f"encode {n / 1e6:.1f} MB in {enc:.2f} cpu-s = {n / 1e6 / enc:.2f} MB/s per CPU-second, "
          f"{toks} tokens = {toks / enc:.0f} tokens per CPU-second")


if __name__ == "__main__":
    main()
