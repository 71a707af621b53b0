#!/usr/bin/env bash
# adakit export: the compact model is smaller, adakit predict / serve read it (text and LIBSVM, --text,
# --probabilities, --json), --quantize none --prune 0 predicts exactly as the model, the size / accuracy
# report matches the files and predict; Python (numpy + zlib, when Debian's /usr/bin/python3 has numpy)
# decodes the file from its documented layout and reproduces the reported accuracy; the compact model
# cannot be trained on or learn; --retrain-data at prune 0 is a warm start exactly, keeps only the pruning's
# terms and is deterministic; bad flag values name their flag, exit 2 and write nothing.
bin=$(realpath "${1:?usage: export_test.sh path/to/adakit}")
. "$(dirname "$0")/harness.sh"
cd "$work"

# A toy sentiment task (words w0..w49 positive, w50..w99 negative, the rest noise) and a 3-class LIBSVM one.
awk 'BEGIN { srand(5); for (i = 0; i < 1500; i++) { n = 4 + int(rand() * 10); s = ""; score = 0;
       for (k = 0; k < n; k++) { w = int(rand() * 400); score += (w < 50) - (w >= 50 && w < 100);
         s = s (k ? " " : "") "w" w }
       lab = (score > 0 || (score == 0 && rand() < 0.5)) ? "pos" : "neg";
       print lab "\t" s > (i < 1200 ? "train.tsv" : "test.tsv") } }'
awk 'BEGIN { srand(9); for (i = 0; i < 1500; i++) { k = 3 + int(rand() * 8); s = ""; last = 0; z0 = 0; z1 = 0; z2 = 0;
       for (j = 0; j < k; j++) { last += 1 + int(rand() * 60); v = int(rand() * 1000) / 1000 + 0.1;
         if (last % 7 == 0) z0 += v; if (last % 7 == 1) z1 += v; if (last % 7 == 2) z2 += v; s = s " " last ":" v }
       lab = (z0 >= z1 && z0 >= z2) ? 0 : (z1 >= z2 ? 1 : 2);
       print lab s > (i < 1200 ? "train.svm" : "test.svm") } }'

q() { "$bin" "$@" 2> /dev/null; }
size() { stat -c %s "$1"; }
field() { /usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(eval('j' + sys.argv[2]))" "$@"; }
has_python=0; /usr/bin/python3 -c 'import numpy' 2> /dev/null && has_python=1

"$bin" train --data train.tsv --test-data test.tsv --ngram 1,2 --tfidf --epochs 5 --batch-size 1 --save text.bin -q &&
  "$bin" train --data train.tsv --test-data test.tsv --hash-bits 12 --tfidf --epochs 5 --batch-size 1 --save hashed.bin -q &&
  "$bin" train --data train.svm --test-data test.svm --model softmax --epochs 5 --batch-size 4 --save svm.bin -q &&
  "$bin" train --data train.tsv --test-data test.tsv --optimizer adagrad-l1 --l1 0.001 --epochs 5 --batch-size 1 --save l1.bin -q
check "four models train" $?

# ---- default export (int8, prune 0): smaller, readable by predict, close to the model
for m in text:test.tsv hashed:test.tsv svm:test.svm; do
  name=${m%%:*} data=${m#*:}
  expect_code "$name: export" 0 "$bin" export --model $name.bin --out $name.small --data $data --json
  cp out $name.json
  [ -f $name.small ] && [ "$(size $name.small)" -lt "$(size $name.bin)" ]; check "$name: the export is smaller than the model" $?
  [ "$(field $name.json "['out_bytes']")" = "$(size $name.small)" ]; check "$name: --json out_bytes is the file's size" $?
  [ "$(field $name.json "['model_bytes']")" = "$(size $name.bin)" ]; check "$name: --json model_bytes is the model's size" $?
  q predict --model $name.bin --data $data --json > full.json && q predict --model $name.small --data $data --json > small.json
  check "$name: predict reads the export" $?
  [ "$(field full.json "['accuracy']")" = "$(field $name.json "['test']['model_accuracy']")" ] &&
    [ "$(field small.json "['accuracy']")" = "$(field $name.json "['test']['export_accuracy']")" ]
  check "$name: export's accuracies are predict's" $?
  /usr/bin/python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(a - b) > 0.02)" \
    "$(field full.json "['accuracy']")" "$(field small.json "['accuracy']")"
  check "$name: int8 accuracy within 2 points of the model's" $?
done
q predict --model text.small --text "w1 w2 w3" --text "w60 w70" --probabilities > p.txt
[ "$(wc -l < p.txt)" = 2 ] && grep -q $'^0\tpos\t\\[' p.txt && grep -q $'^1\tneg\t\\[' p.txt
check "predict --text --probabilities on the export" $?
q predict --model text.small --text "w1 w2 w3" --json | grep -q '"label":"pos"'; check "predict --text --json on the export" $?

# ---- --quantize none --prune 0: exactly the model's predictions (probabilities to the last digit)
for m in text:test.tsv hashed:test.tsv svm:test.svm; do
  name=${m%%:*} data=${m#*:}
  q export --model $name.bin --out exact.small --quantize none --prune 0 -q &&
    q predict --model $name.bin --data $data --probabilities --json > full.json &&
    q predict --model exact.small --data $data --probabilities --json > small.json
  st=$?; check "$name: export --quantize none" $st
  cmp -s full.json small.json; check "$name: --quantize none --prune 0 predicts exactly as the model" $?
done
# An L1 model: its zero-weight terms leave the vocabulary (count weighting: still exact).
expect_code "l1: export --quantize none" 0 "$bin" export --model l1.bin --out l1.small --quantize none --json
cp out l1.json
[ "$(field l1.json "['terms']['after']")" -lt "$(field l1.json "['terms']['before']")" ]
check "l1: the vocabulary keeps only the terms with a weight" $?
q predict --model l1.bin --data test.tsv --probabilities --json > full.json && q predict --model l1.small --data test.tsv --probabilities --json > small.json
cmp -s full.json small.json; check "l1: the cut vocabulary predicts exactly (count weighting)" $?

# ---- prune: more pruning, fewer features and bytes; the text report
prev_bytes=$(size text.small) prev_kept=$(field text.json "['features']['kept']")
for eps in 0.02 0.05 0.1; do
  q export --model text.bin --out p.small --prune $eps --json > p.json
  kept=$(field p.json "['features']['kept']") bytes=$(size p.small)
  [ "$kept" -lt "$prev_kept" ] && [ "$bytes" -lt "$prev_bytes" ]; check "prune $eps: fewer features ($kept) and bytes ($bytes)" $?
  prev_kept=$kept prev_bytes=$bytes
done
"$bin" export --model text.bin --out p.small --prune 0.05 --data test.tsv > report.txt 2>&1
grep -q "^model  text.bin: [0-9,]* bytes, [0-9,]* features with a weight x 1 outputs" report.txt &&
  grep -q "^export p.small: [0-9,]* bytes (" report.txt && grep -q "^accuracy on test.tsv (300 rows): model 0\.[0-9]*, export 0\.[0-9]*" report.txt
check "the text report: sizes and accuracies" $?

# ---- independent decoding (Python: the layout of io/compact_model.hpp) reproduces the export's accuracy
if [ $has_python = 1 ]; then
  cat > decode.py << 'EOF'
import json, struct, sys, zlib
import numpy as np
blob = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", blob[:8])[0]
header = json.loads(blob[8:8 + n]); payload = blob[8 + n:]
meta = header.pop("__metadata__")
assert meta["format"] == "adakit.linear.compact.v1"
def table(name):
    a, b = header[name]["data_offsets"]; t = payload[a:b]
    raw = zlib.decompress(t[8:]); assert len(raw) == struct.unpack("<Q", t[:8])[0]
    return raw
def varints(raw):
    out, v, shift = [], 0, 0
    for byte in raw:
        v |= (byte & 127) << shift; shift += 7
        if byte < 128: out.append(v); v, shift = 0, 0
    return out
arch, exp = json.loads(meta["adakit.architecture"]), json.loads(meta["adakit.export"])
rows = np.cumsum(np.array(varints(table("weight.rows"))) + 1) - 1
C = arch["classes"] if arch["task"] == "softmax" else 1
q = np.frombuffer(table("weight.values"), np.int8).reshape(len(rows), C).astype(np.float32)
s = np.frombuffer(table("weight.scales"), np.float32)
W = np.zeros((arch["dim"], C), np.float32)
W[rows] = q * (s[None, :] if exp["scale_by"] == "output" else s[:, None])
b = np.frombuffer(table("bias"), np.float32)
names = arch["class_names"]; correct = total = 0
for line in open(sys.argv[2]):
    parts = line.split(); x = np.zeros(arch["dim"], np.float32)
    for p in parts[1:]:
        i, v = p.split(":"); x[int(i) - 1] = float(v)  # LIBSVM indices are 1-based, columns 0-based
    z = x @ W + b
    correct += names[int(np.argmax(z))] == parts[0]; total += 1
print(correct / total)
EOF
  acc=$(/usr/bin/python3 decode.py svm.small test.svm)
  /usr/bin/python3 -c "import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 1e-9)" "$acc" \
    "$(field svm.json "['test']['export_accuracy']")"
  check "Python's decoding of svm.small gives the export's accuracy ($acc)" $?
else
  echo "skip: /usr/bin/python3 with numpy not found (independent decoding of the file)"
fi

# ---- --retrain-data: after pruning the kept features train on, then quantize (fastText's quantize -retrain)
"$bin" train --data train.svm --test-data test.svm --model softmax --epochs 5 --batch-size 1 --lr 0.1 --save svm1.bin -q &&
  "$bin" train --init-model svm1.bin --data train.svm --test-data test.svm --epochs 2 --batch-size 1 --lr 0.1 --seed 3 --save warm.bin -q
check "a LIBSVM model, and its warm start for 2 epochs" $?
expect_code "export --retrain-data (prune 0, float32)" 0 "$bin" export --model svm1.bin --out rt0.small --quantize none \
  --retrain-data train.svm --epochs 2 --lr 0.1 --seed 3 --data test.svm --json
cp out rt0.json
q predict --model warm.bin --data test.svm --probabilities > warm.pred && q predict --model rt0.small --data test.svm --probabilities > rt0.pred
cmp -s warm.pred rt0.pred; check "retraining at prune 0 predicts exactly as train --init-model over the same epochs and seed" $?
[ "$(field rt0.json "['retrain']['epochs']")" = 2 ] && [ "$(field rt0.json "['retrain']['optimizer']")" = adagrad ] &&
  [ "$(field rt0.json "['retrain']['options']['lr']")" = 0.1 ]; check "--json: the retraining's epochs and optimizer" $?
"$bin" export --model text.bin --out pq.small --quantize none --prune 0.1 --json > pq.json 2> /dev/null &&
  "$bin" export --model text.bin --out rt.small --quantize none --prune 0.1 --retrain-data train.tsv --lr 0.1 --json > rt.json 2> /dev/null &&
  "$bin" export --model text.bin --out rt2.small --quantize none --prune 0.1 --retrain-data train.tsv --lr 0.1 -q 2> /dev/null
check "a text model pruned, and pruned then retrained (twice)" $?
cmp -s rt.small rt2.small; check "retraining is deterministic (the same file twice)" $?
if [ $has_python = 1 ]; then
  /usr/bin/python3 - pq.small rt.small <<'EOF'
import struct, json, sys, zlib
def terms(path):  # the front-coded vocabulary of a compact file (io/compact_model.hpp)
    b = open(path, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); base = 8 + n
    s, e = h["vectorizer.terms"]["data_offsets"]; raw = b[base + s:base + e]
    data = zlib.decompress(raw[8:]); out, prev, i = [], b"", 0
    def varint():
        nonlocal i
        v = sh = 0
        while True:
            c = data[i]; i += 1; v |= (c & 127) << sh; sh += 7
            if c < 128: return v
    while i < len(data):
        p = varint(); r = varint(); t = prev[:p] + data[i:i + r]; i += r; out.append(t); prev = t
    return out
a, b = terms(sys.argv[1]), terms(sys.argv[2])
assert len(a) > 0 and set(b) <= set(a), (len(a), len(b))
EOF
  check "the retrained export keeps only terms the pruning kept" $?
fi
expect_code "hashed: export --retrain-data" 0 "$bin" export --model hashed.bin --out hrt.small --prune 0.05 --retrain-data train.tsv --data test.tsv
"$bin" train --data train.tsv --test-data test.tsv --epochs 5 --batch-size 1 --calibrate platt --save cal.bin -q
expect_code "retrain a calibrated model" 2 "$bin" export --model cal.bin --out x.small --retrain-data train.tsv
grep -q "field 'retrain-data'.*calibration" "$work/err"; check "retrain a calibrated model: the message" $?
for flag in "--epochs 3|epochs" "--lr 0.5|lr" "--seed 2|seed" "--optimizer sgd|optimizer"; do
  args=${flag%%|*} name=${flag#*|}
  # shellcheck disable=SC2086
  expect_code "export $args without --retrain-data" 2 "$bin" export --model text.bin --out x.small $args
  grep -q "field '$name'.*needs --retrain-data" "$work/err"; check "export $args: the message names $name" $?
done
expect_code "export --retrain-data a missing file" 1 "$bin" export --model text.bin --out x.small --retrain-data nope.tsv
expect_code "export --retrain-data --schedule" 2 "$bin" export --model text.bin --out x.small --retrain-data train.tsv --schedule step:size=1
[ ! -e x.small ]; check "no file written by the refused retrains" $?

# ---- predict-only: serve predicts, but does not learn or snapshot; train --init-model refuses it
printf 'w1 w2 w3\n!stats\n' | q serve --model text.small -q > serve.out
grep -q '"label":"pos"' serve.out && grep -q '"learning":false' serve.out; check "serve predicts with the export" $?
expect_code "serve --learn on the export" 2 "$bin" serve --model text.small --learn < /dev/null
grep -q "field 'learn': a compact model of adakit export predicts only" "$work/err"; check "serve --learn: the message" $?
expect_code "serve --save on the export" 2 "$bin" serve --model text.small --save s.bin < /dev/null
expect_code "train --init-model on the export" 2 "$bin" train --init-model text.small --data train.tsv
grep -q "field 'init-model'.*cannot be trained on" "$work/err"; check "train --init-model: the message" $?

# ---- bad values: exit 2 naming the flag, nothing written (an existing --out is left as it was)
cp text.small keep.small
model_sum=$(md5sum < text.bin)
for case in "--prune -1|field 'prune'" "--prune nan|field 'prune'" "--prune abc|--prune" "--prune inf|field 'prune'" \
            "--prune-weights -0.5|field 'prune-weights'" "--prune-weights nan|field 'prune-weights'" \
            "--quantize foo|--quantize" "--scale-by row|--scale-by" "--prune 1000|leaves no feature"; do
  args=${case%%|*} part=${case#*|}
  # shellcheck disable=SC2086
  expect_code "export $args" 2 "$bin" export --model text.bin --out keep.small $args
  grep -q -- "$part" "$work/err"; check "export $args: the message names $part" $?
  cmp -s keep.small text.small; check "export $args: --out left as it was" $?
done
mkdir -p d && files_before=$(ls | wc -l)
expect_code "export --out into a missing directory" 2 "$bin" export --model text.bin --out nodir/x.small
grep -q "field 'out'.*does not exist" "$work/err"; check "missing directory: the message" $?
expect_code "export --out the model itself" 2 "$bin" export --model text.bin --out ./text.bin
grep -q "field 'out': --out is the --model file" "$work/err"; check "same file: the message" $?
expect_code "export --out the --data file" 2 "$bin" export --model text.bin --out test.tsv --data test.tsv
grep -q "field 'out': --out is the --data file" "$work/err"; check "--out the --data file: the message" $?
expect_code "export --out a directory" 2 "$bin" export --model text.bin --out d
expect_code "export --out *.json" 2 "$bin" export --model text.bin --out x.json
expect_code "export a missing model" 1 "$bin" export --model nope.bin --out x.small
expect_code "export a data file as the model" 2 "$bin" export --model train.tsv --out x.small
[ "$(ls | wc -l)" = "$files_before" ] && [ ! -e x.small ] && [ ! -e x.json ]; check "no file written by the refused exports" $?
[ "$(md5sum < text.bin)" = "$model_sum" ]; check "the model is untouched" $?

finish
