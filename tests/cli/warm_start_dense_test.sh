#!/usr/bin/env bash
# Warm start of dense models: `adakit train --save m --save-state` on A, then `--init-model m` on B, must
# end bit-identical (weights and every optimizer buffer and counter) to one run on A's rows then B's,
# when one epoch visits the rows in file order (--no-shuffle) and the batch size divides |A|; plus the
# usage errors of --init-model and --save-state (exit 2, with the message).
set -uo pipefail
bin=$1
source "$(dirname "$0")/harness.sh"

# Small 3-class data with named columns: A (24 rows), B (19 rows), AB (A's rows then B's), a test file.
awk 'BEGIN { srand(5); print "x1,x2,x3,x4,kind"
  for (i = 0; i < 62; i++) { c = i % 3; printf "%.3f,%.3f,%.3f,%.3f,%s\n", rand() + c, rand() - c / 2, rand() * c, rand(),
                             (c == 0 ? "setosa" : c == 1 ? "versicolor" : "virginica") } }' > "$work/all.csv"
{ head -1 "$work/all.csv"; sed -n 2,25p "$work/all.csv"; } > "$work/A.csv"
{ head -1 "$work/all.csv"; sed -n 26,44p "$work/all.csv"; } > "$work/B.csv"
{ head -1 "$work/all.csv"; sed -n 2,44p "$work/all.csv"; } > "$work/AB.csv"
{ head -1 "$work/all.csv"; sed -n 45,63p "$work/all.csv"; } > "$work/T.csv"

# same_state A B: every tensor of the two safetensors files byte for byte, and every metadata entry
# but the checksums and the training data's name; prints the first difference.
same_state() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, struct, sys
def read(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    body = raw[8 + n:]
    tensors = {k: (v["dtype"], v["shape"], body[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}
    for k in ("adakit.payload_fnv1a64", "adakit.header_fnv1a64"):
        meta.pop(k, None)
    if "adakit.task" in meta:
        task = json.loads(meta["adakit.task"]); task.pop("dataset"); meta["adakit.task"] = task
    return tensors, meta
(ta, ma), (tb, mb) = read(sys.argv[1]), read(sys.argv[2])
if sorted(ta) != sorted(tb):
    sys.exit("tensors differ: %s vs %s" % (sorted(set(ta) - set(tb)), sorted(set(tb) - set(ta))))
for k in sorted(ta):
    if ta[k] != tb[k]:
        sys.exit("tensor %s differs" % k)
for k in sorted(set(ma) | set(mb)):
    if ma.get(k) != mb.get(k):
        sys.exit("metadata %s differs: %r vs %r" % (k, ma.get(k), mb.get(k)))
if not any(k.startswith("optim.") for k in ta):
    sys.exit("no optimizer state in the files")
print("%d tensors, %d metadata entries identical" % (len(ta), len(ma)))
EOF
}

common=(--no-shuffle --epochs 1 --test-data "$work/T.csv" --quiet)
# exact NAME BATCH FLAGS...: A then --init-model on B against one run on AB.
exact() {
  local name=$1 batch=$2; shift 2
  local m="$work/$name"
  "$bin" train --data "$work/A.csv" "$@" --scale off --batch-size "$batch" "${common[@]}" --save "$m.a.safetensors" --save-state
  check "$name: train on A with --save-state" $?
  "$bin" train --init-model "$m.a.safetensors" --data "$work/B.csv" --batch-size "$batch" "${common[@]}" \
    --save "$m.warm.safetensors" --save-state 2> "$work/warm.err"
  check "$name: --init-model on B" $?
  "$bin" train --data "$work/AB.csv" "$@" --scale off --batch-size "$batch" "${common[@]}" --save "$m.ab.safetensors" --save-state
  check "$name: one run on AB" $?
  local diff; diff=$(same_state "$m.warm.safetensors" "$m.ab.safetensors" 2>&1); local st=$?
  check "$name: A then B bit-identical to AB, weights and optimizer state ($diff)" $st
  # Not trivially so: the first file's state is another.
  same_state "$m.a.safetensors" "$m.ab.safetensors" > /dev/null 2>&1; [ $? -ne 0 ]; check "$name: A alone differs" $?
}
exact adagrad 8 --model mlp:6 --optimizer adagrad --lr 0.1
exact adagrad-batch1 1 --model mlp:5,4 --optimizer adagrad --lr 0.05 --lr-decay 0.01
exact adam 4 --model mlp:6 --optimizer adam --lr 0.01
# Adam's bias correction and the schedule continue from the saved step count; clipping is kept.
exact adam-schedule 6 --model mlp:6 --optimizer adam --lr 0.02 --schedule cosine:total=20,final=0.1,warmup=3 --clip-norm 0.5
exact rmsprop 8 --model softmax --optimizer rmsprop --lr 0.01
# Dropout: the file keeps the dropout layers' random streams with the optimizer.
exact adagrad-dropout 8 --model mlp:8 --dropout 0.3 --optimizer adagrad --lr 0.1

m="$work/adagrad.a.safetensors"
# The saved file is a model file: predict reads it.
expect_code "predict with a --save-state file" 0 "$bin" predict --model "$work/adam.warm.safetensors" --data "$work/T.csv" --json
grep -q '"accuracy"' "$work/out"; check "predict reports an accuracy" $?
# Without --quiet: one line saying the optimizer goes on.
expect_code "init-model talks" 0 "$bin" train --init-model "$m" --data "$work/B.csv" --epochs 1 --test-data "$work/T.csv"
grep -q "continuing its weights and adagrad state (3 optimizer steps done)" "$work/err"
st=$?; check "init-model: says the optimizer continues ($(grep init-model "$work/err"))" $st
# --json reports it.
expect_code "init-model --json" 0 "$bin" train --init-model "$m" --data "$work/B.csv" --epochs 1 --test-data "$work/T.csv" --json
grep -q '"init_model":{"file":"[^"]*","optimizer_state":"continued"}' "$work/out"; check "json: init_model, continued" $?
# Flags that match the saved ones are accepted: --model (any --seed), --optimizer, --lr.
expect_code "same --model, --optimizer and --lr" 0 "$bin" train --init-model "$m" --data "$work/B.csv" --model mlp:6 \
  --seed 9 --optimizer adagrad --lr 0.1 --epochs 1 --test-data "$work/T.csv" --quiet
# A model file saved without the state: a fresh optimizer, one line on stderr.
"$bin" train --data "$work/A.csv" --model mlp:6 --epochs 2 --save "$work/plain.safetensors" --quiet; check "save without state" $?
expect_code "init-model without state" 0 "$bin" train --init-model "$work/plain.safetensors" --data "$work/B.csv" \
  --optimizer adam --epochs 1 --test-data "$work/T.csv"
grep -q "no optimizer state in it (saved without --save-state); adam starts fresh from its weights" "$work/err"
st=$?; check "init-model without state: says the optimizer starts fresh ($(grep init-model "$work/err"))" $st
expect_code "init-model without state, --quiet: nothing" 0 "$bin" train --init-model "$work/plain.safetensors" \
  --data "$work/B.csv" --epochs 1 --test-data "$work/T.csv" --quiet
[ ! -s "$work/err" ]; check "--quiet prints nothing" $?
# The saved scaler goes on (plain.safetensors was scaled: the default --scale auto on a CSV).
expect_code "init-model keeps the scaler" 0 "$bin" train --init-model "$work/plain.safetensors" --data "$work/B.csv" \
  --epochs 1 --test-data "$work/T.csv" --quiet --save "$work/plain2.safetensors"
/usr/bin/python3 - "$work/plain.safetensors" "$work/plain2.safetensors" <<'EOF'
import json, struct, sys
def task(p):
    raw = open(p, "rb").read(); n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(json.loads(raw[8:8 + n])["__metadata__"]["adakit.task"])
a, b = task(sys.argv[1]), task(sys.argv[2])
sys.exit(not (a["scaler_mean"] and a["scaler_mean"] == b["scaler_mean"] and a["scaler_scale"] == b["scaler_scale"]))
EOF
check "the warm-started model keeps the saved scaler" $?
# A checkpoint is a model with its optimizer: --init-model takes it.
"$bin" train --data "$work/A.csv" --model mlp:6 --optimizer adam --epochs 1 --checkpoint "$work/ck" --quiet
check "checkpoint run" $?
expect_code "init-model from a checkpoint" 0 "$bin" train --init-model "$work/ck/checkpoint.safetensors" \
  --data "$work/B.csv" --epochs 1 --test-data "$work/T.csv"
grep -q "continuing its weights and adam state" "$work/err"; check "init-model from a checkpoint continues adam" $?

# Usage errors: exit 2, naming the flag.
expect_error() { # name, text the message must hold, flags...
  local name=$1 text=$2; shift 2
  expect_code "$name" 2 "$bin" train "$@"
  grep -qF -- "$text" "$work/err"; local st=$?
  check "$name: message has '$text' ($(head -c 300 "$work/err"))" $st
}
wb=(--data "$work/B.csv" --test-data "$work/T.csv" --epochs 1)
expect_error "another --model" "field 'model': --model (with --activation, --dropout) describes another model" \
  --init-model "$m" "${wb[@]}" --model mlp:7
expect_error "--dropout without --model" "field 'dropout': --dropout with --init-model" --init-model "$m" "${wb[@]}" --dropout 0.2
mkdir -p "$work/rdir"
expect_error "--resume with --init-model" "field 'resume': --resume and --init-model exclude each other" \
  --init-model "$m" "${wb[@]}" --resume "$work/rdir"
expect_error "--checkpoint with --init-model" "field 'checkpoint': --checkpoint with --init-model" \
  --init-model "$m" "${wb[@]}" --checkpoint "$work/rdir"
{ head -1 "$work/all.csv"; sed -n 26,30p "$work/all.csv"; echo "1,2,3,4,unknown"; } > "$work/C.csv"
expect_error "a label the model does not know" \
  "C.csv: field 'label': class 'unknown' is not one of the classes of the model in $m (setosa, versicolor, virginica)" \
  --init-model "$m" --data "$work/C.csv" --test-data "$work/T.csv"
expect_error "a missing file" "$work/nope.safetensors: field 'init-model': no such file" \
  --init-model "$work/nope.safetensors" "${wb[@]}"
expect_error "another --optimizer than the saved one" \
  "field 'init-model': the file keeps the state of optimizer 'adagrad', this run asks for 'sgd'" \
  --init-model "$m" "${wb[@]}" --optimizer sgd
expect_error "another --lr than the saved one" "--lr: saved 0.1, this run 0.5" --init-model "$m" "${wb[@]}" --lr 0.5
expect_error "another --schedule than the saved one" "--schedule: saved constant, this run step" \
  --init-model "$m" "${wb[@]}" --schedule step:size=10
expect_error "--scale on for a model saved without scaling" "field 'scale': --scale on: the model in" \
  --init-model "$m" "${wb[@]}" --scale on
awk -F, 'NR == 1 { print "x1,x2,x3,kind"; next } { print $1 "," $2 "," $3 "," $5 }' "$work/B.csv" > "$work/B3.csv"
expect_error "fewer features" "field 'features': the data has samples of shape [3], the model takes [4]" \
  --init-model "$m" --data "$work/B3.csv" --test-split 0.3
awk -F, 'NR == 1 { print "x2,x1,x3,x4,kind"; next } { print }' "$work/B.csv" > "$work/Bswap.csv"
expect_error "other column names" "field 'features': column 1 is 'x2', the model in" \
  --init-model "$m" --data "$work/Bswap.csv" --test-data "$work/T.csv"
# Another objective: a regression model on a classification dataset.
awk -F, 'NR == 1 { print "a,b,c,d,y"; next } { print $1 "," $2 "," $3 "," $4 "," $1 * 0.37 + $2 }' "$work/A.csv" > "$work/R.csv"
"$bin" train --data "$work/R.csv" --model linreg --epochs 1 --save "$work/reg.safetensors" --save-state --quiet
check "regression model" $?
expect_error "another objective" "field 'init-model': the model was trained for mse (regression), but iris is a classification" \
  --init-model "$work/reg.safetensors" --data iris --epochs 1
expect_error "--save-state without --save" "field 'save-state': --save-state keeps the optimizer's state in the --save file" \
  --data "$work/A.csv" --epochs 1 --save-state
expect_error "--classes on dense data" "field 'classes': --classes applies to sparse data" \
  --data "$work/A.csv" --epochs 1 --classes a,b
expect_error "--progress-every on dense data" "field 'progress-every'" --data "$work/A.csv" --epochs 1 --progress-every 5
expect_error "--freeze-vocabulary on dense data" "field 'freeze-vocabulary'" --data "$work/A.csv" --epochs 1 --freeze-vocabulary
finish
