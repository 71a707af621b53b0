#!/usr/bin/env bash
# Drives `adakit train` and `adakit predict` as a user would.
set -uo pipefail
bin=$1
source "$(dirname "$0")/harness.sh"
json_num() { sed -E "s/.*\"$1\":([-0-9.eE+]+|null).*/\1/" "$work/out"; }

expect_code "help" 0 "$bin" train --help
for flag in --data --model --epochs --batch-size --seed --threads --save --json --quiet --test-data --test-split --lr --convention --patience; do
  grep -q -- "$flag" "$work/out"; check "train --help lists $flag" $?
done

# The tutorial's iris MLP (4-5-1 tanh/sigmoid, AdaGrad lr 0.01, test_size 0.2): test accuracy 1.0.
expect_code "iris-binary" 0 "$bin" train --data iris-binary --model mlp:5 --activation tanh --optimizer adagrad --lr 0.01 \
  --epochs 100 --batch-size 16 --seed 1 --json --save "$work/iris.safetensors"
[ "$(json_num test_accuracy)" = "1.0" ] || [ "$(json_num test_accuracy)" = "1" ]; st=$?; check "iris-binary test accuracy 1.0 (got $(json_num test_accuracy))" $st
for key in train_accuracy test_accuracy train_loss test_loss epochs seconds optimizer_state_bytes; do
  grep -q "\"$key\":" "$work/out"; check "json has $key" $?
done
[ -f "$work/iris.safetensors" ]; check "--save wrote the model" $?
# AdaGrad's state is one float per weight: mlp:5 on 4 features and 1 output has 4*5+5+5*1+1 = 31.
[ "$(json_num optimizer_state_bytes)" = "124" ]; st=$?; check "adagrad state is 124 bytes (got $(json_num optimizer_state_bytes))" $st
expect_code "iris-binary with sm3" 0 "$bin" train --data iris-binary --model mlp:5 --activation tanh --optimizer sm3 \
  --lr 0.1 --epochs 50 --batch-size 16 --seed 1 --json
# SM3 keeps one accumulator per axis: 5+4 + 5 + 1+5 + 1 = 21 floats.
[ "$(json_num optimizer_state_bytes)" = "84" ]; st=$?; check "sm3 state is 84 bytes (got $(json_num optimizer_state_bytes))" $st
expect_code "predict" 0 "$bin" predict --model "$work/iris.safetensors" --data iris-binary --json
awk 'BEGIN{}{ if (match($0, /"accuracy":[0-9.]+/)) { v=substr($0, RSTART+11, RLENGTH-11); exit !(v >= 0.95) } else exit 1 }' "$work/out"
check "predict on iris-binary with the saved model: accuracy >= 0.95" $?

# A CSV with text labels, then one with a bad cell: exit 1 naming file, line and column.
printf 'a,b,label\n1,2,yes\n2,1,no\n3,3,yes\n0,1,no\n4,4,yes\n1,0,no\n5,5,yes\n0,0,no\n6,5,yes\n1,1,no\n' > "$work/ok.csv"
expect_code "csv" 0 "$bin" train --data "$work/ok.csv" --model logreg --epochs 50 --lr 0.5 --test-split 0.3 --json --seed 2
printf 'a,b,label\n1,2,yes\n2,x,no\n' > "$work/bad.csv"
expect_code "bad csv cell" 1 "$bin" train --data "$work/bad.csv" --model logreg
grep -q "bad.csv" "$work/err" && grep -q ":3" "$work/err" && grep -q "'b'" "$work/err"
st=$?; check "bad cell error names file, line 3 and column b ($(cat "$work/err"))" $st

# Usage errors: exit 2.
expect_code "missing --data" 2 "$bin" train
expect_code "unknown model" 2 "$bin" train --data iris --model transformer
expect_code "cnn on tabular data" 2 "$bin" train --data iris --model cnn
expect_code "bad epochs" 2 "$bin" train --data iris --epochs -1
expect_code "option of another optimizer" 2 "$bin" train --data iris --optimizer sgd --lr-decay 0.1
expect_code "unknown dataset" 2 "$bin" train --data no-such-data
# A built-in whose files are absent: a clear message on how to get them, exit 1.
ADAKIT_DATA="$work" expect_code "cifar10 missing" 1 "$bin" train --data cifar10 --data-dir "$work"
grep -qi "cifar" "$work/err"; check "missing cifar10 says how to get it" $?

finish
