#!/usr/bin/env bash
# Memory of a stream: adakit train --data - over a stream of GB bytes (a generated LIBSVM chunk, and
# a text chunk, sent again and again) keeps its resident memory at the model plus one chunk.
# Usage: bench/stream_memory.sh ADAKIT [LIBSVM_GB] [TEXT_GB]
# Prints, per stream: bytes, examples, seconds, MB/s, peak RSS (from the process and from GNU time),
# the model's size (weights and optimizer state in memory) and the RSS above it.
set -euo pipefail
bin=$(realpath "${1:?usage: stream_memory.sh path/to/adakit [LIBSVM_GB] [TEXT_GB]}")
svm_gb=${2:-5}
text_gb=${3:-1}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
# 64 MB of LIBSVM rows over 2^20 features (10 to 40 per row); 64 MB of text over a 200,000-word vocabulary.
awk 'BEGIN { srand(3); while (bytes < 64 * 1024 * 1024) { k = 10 + int(rand() * 30); s = ""; last = 0;
       for (j = 0; j < k; j++) { last += 1 + int(rand() * 1048576 / k); s = s " " last ":1" }
       line = ((last % 3) ? "+1" : "-1") s; print line; bytes += length(line) + 1 } }' > chunk.svm
awk 'BEGIN { srand(5); while (bytes < 64 * 1024 * 1024) { n = 5 + int(rand() * 40); s = "";
       for (j = 0; j < n; j++) s = s (j ? " " : "") "t" int(200000 * rand() * rand());
       line = (rand() < 0.5 ? "pos" : "neg") "\t" s; print line; bytes += length(line) + 1 } }' > chunk.tsv
run() { # name, chunk, GB, adakit flags...
  local name=$1 chunk=$2 gb=$3; shift 3
  local times=$(( gb * 1024 / 64 ))
  /usr/bin/time -v -o time.txt bash -c "for i in \$(seq $times); do cat $chunk; done | '$bin' train --data - $* --json" > out.json
  /usr/bin/python3 - "$name" "$times" <<'PY'
import json, re, sys
name, times = sys.argv[1], int(sys.argv[2])
j = json.load(open("out.json"))
t = open("time.txt").read()
rss_time = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
import os
chunk = os.path.getsize("chunk.svm" if name.startswith("libsvm") else "chunk.tsv")
gb = chunk * times / 2**30
# Weights and optimizer state in memory: features x row stride floats (the model table; adagrad: 2 floats
# per output with its accumulator, padded to a power of two).
outputs = 1
stride = 2
model_mb = j["features"] * stride * 4 / 2**20
print(f"{name}: {gb:.2f} GiB, {j['examples']} examples in {j['seconds']:.1f} s ({gb * 1024 / j['seconds']:.0f} MiB/s), "
      f"{j['features']} features; peak RSS {j['peak_rss_mb']:.0f} MiB (GNU time: {rss_time:.0f} MiB); "
      f"model table {model_mb:.0f} MiB; RSS above the model {j['peak_rss_mb'] - model_mb:.0f} MiB; "
      f"progressive loss {j['progressive']['loss']:.4f}")
PY
}
run "libsvm" chunk.svm "$svm_gb" --format libsvm --classes=-1,+1 --batch-size 1
run "text (vocabulary)" chunk.tsv "$text_gb" --format text-tsv --classes neg,pos --batch-size 1
