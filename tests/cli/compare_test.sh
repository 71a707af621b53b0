#!/usr/bin/env bash
# Drives `adakit compare` as a user would: several optimizers and seeds over train, minimize and rl.
set -uo pipefail
bin=$1
source "$(dirname "$0")/harness.sh"

expect_code "help" 0 "$bin" compare --help
for flag in --optimizers --seeds --seed --out --json; do
  grep -q -- "$flag" "$work/out"; check "compare --help lists $flag" $?
done

# minimize is deterministic: each optimizer's loss equals the single run's, std 0.
expect_code "minimize" 0 "$bin" compare --optimizers adagrad:lr=0.5,sgd:lr=0.01,adam:lr=0.1 --seeds 3 --out "$work/min" \
  minimize --function rosenbrock --steps 300
grep -q "sgd:lr=0.01: 3 of 3 runs diverged" "$work/out"; check "minimize: sgd lr 0.01 diverges in 3 of 3 runs" $?
expect_code "single run" 0 "$bin" minimize --function rosenbrock --steps 300 --optimizer adam:lr=0.1 --json
single=$(sed -E 's/.*"loss":([-0-9.eE+]+).*/\1/' "$work/out")
grep -Eq "^\"adam:lr=0.1\",loss,$single,0(\.0)?,3\$" "$work/min/summary.csv"
st=$?; check "minimize: adam's mean loss over 3 seeds = the single run ($single), std 0 ($(grep adam "$work/min/summary.csv" | head -1))" $st
[ "$(wc -l < "$work/min/compare_loss.adagrad_lr_0_5.csv")" -eq 302 ]
check "minimize: the loss curve has the start point and 300 steps" $?
for s in 0 1 2; do grep -Eq "\"seed\": *$s," "$work/min/summary.json"; check "minimize: summary.json has seed $s" $?; done

# train with an output directory: mean ± std table, summary files and one plot per curve.
expect_code "train --out" 0 "$bin" compare --optimizers adagrad:lr=0.05,sgd:lr=0.05 --seeds 2 --out "$work/cmp" \
  train --data iris-binary --model mlp:5 --activation tanh --epochs 20 --test-split 0.5
grep -q "±" "$work/out" && grep -q "test_accuracy" "$work/out"; check "train: a mean ± std table" $?
for f in summary.json summary.csv compare_train_loss.adagrad_lr_0_05.csv compare_train_accuracy.sgd_lr_0_05.csv; do
  [ -s "$work/cmp/$f" ]; check "train: wrote $f" $?
done
if command -v gnuplot > /dev/null; then
  [ -s "$work/cmp/compare_train_loss.png" ] && [ -s "$work/cmp/compare_train_loss.svg" ]; check "train: loss plot as PNG and SVG" $?
fi
# The mean and sample std of test_loss agree with two single runs.
for s in 0 1; do
  "$bin" train --data iris-binary --model mlp:5 --activation tanh --epochs 20 --test-split 0.5 --optimizer adagrad:lr=0.05 \
    --seed $s --json | sed -E 's/.*"test_loss":([-0-9.eE+]+).*/\1/' >> "$work/losses"
done
row=$(grep '^"adagrad:lr=0.05",test_loss,' "$work/cmp/summary.csv")
awk -F, -v row="$row" '{ v[NR] = $1 } END { m = (v[1] + v[2]) / 2; sd = sqrt(((v[1]-m)^2 + (v[2]-m)^2) / 1);
  split(row, r, ","); exit !(r[5] == 2 && (r[3] - m)^2 <= 1e-20 * (1 + m^2) && (r[4] - sd)^2 <= 1e-18 * (1 + sd^2)) }' "$work/losses"
st=$?; check "train: mean and std of test_loss agree with the single runs ($row vs $(tr '\n' ' ' < "$work/losses"))" $st

# sparse train and rl go through the same path.
expect_code "sparse train" 0 "$bin" compare --optimizers adagrad:lr=0.5,ftrl:alpha=0.5 --seeds 2 --json \
  train --data sentiment-tiny --epochs 5 --batch-size 1 --test-split 0.34
expect_code "rl" 0 "$bin" compare --optimizers adagrad:lr=3 --seeds 2 --json rl cartpole --episodes 30 --eval 2

# Usage errors exit 2 and say why; a failing run's own message is passed on.
expect_code "no task" 2 "$bin" compare --optimizers adagrad
expect_code "unknown task" 2 "$bin" compare fit --data iris
expect_code "--seed inside the task" 2 "$bin" compare train --data iris --seed 3
grep -q "set by compare" "$work/err"; check "--seed inside the task: says compare sets it" $?
expect_code "bad data" 2 "$bin" compare --seeds 1 train --data no-such-data
grep -q "no-such-data" "$work/err"; st=$?; check "a failing run's message is shown ($(cat "$work/err"))" $st
expect_code "zero seeds" 2 "$bin" compare --seeds 0 minimize
finish
