#!/usr/bin/env bash
# Drives `adakit rl` as a user would: help, a short training run with --json and --curve, usage errors.
set -uo pipefail
bin=$1
source "$(dirname "$0")/harness.sh"
json_val() { sed -E "s/.*\"$1\":(\"[^\"]*\"|[-0-9.eE+]+|null|true|false).*/\1/" "$work/out"; }

expect_code "help" 0 "$bin" rl --help
for flag in cartpole mountaincar --agent q-linear sarsa-linear q-tabular --optimizer --lr --episodes --seed --eval \
            --curve --json --quiet --tilings --tiles --table-size --bins --bounds --gamma --epsilon-start \
            --epsilon-end --epsilon-decay --gradients --threads --progress; do
  grep -q -- "$flag" "$work/out"; check "rl --help lists $flag" $?
done
expect_code "root help lists rl" 0 "$bin" --help
grep -q "rl" "$work/out"; check "adakit --help lists rl" $?

# A short CartPole run: JSON keys, the curve file, exit 0.
expect_code "cartpole json" 0 "$bin" rl cartpole --agent q-linear --optimizer adagrad --episodes 60 --seed 3 --eval 5 \
  --curve "$work/curve.csv" --json
for key in env agent optimizer gradients episodes eval_episodes eval_mean_return episodes_to_solve solve_threshold \
           seconds train_seconds final_mean100 total_steps diverged; do
  grep -q "\"$key\":" "$work/out"; check "json has $key" $?
done
[ "$(json_val episodes)" = "60" ]; st=$?; check "json episodes = 60 (got $(json_val episodes))" $st
[ "$(json_val gradients)" = '"sparse"' ]; st=$?; check "adagrad uses row-sparse gradients (got $(json_val gradients))" $st
[ "$(json_val episodes_to_solve)" = "null" ]; check "not solved in 60 episodes: null" $?
[ "$(wc -l < "$work/curve.csv")" -eq 61 ]; check "curve has a header and 60 rows" $?
head -1 "$work/curve.csv" | grep -q "^episode,return,epsilon,mean100"; check "curve header" $?
[ "$(wc -l < "$work/out")" -eq 1 ]; check "--json prints one line" $?

# Same seed, same JSON numbers (seconds aside).
"$bin" rl cartpole --episodes 30 --seed 4 --eval 3 --json | sed -E 's/"(train_)?seconds":[^,}]*//g' > "$work/a"
"$bin" rl cartpole --episodes 30 --seed 4 --eval 3 --json | sed -E 's/"(train_)?seconds":[^,}]*//g' > "$work/b"
cmp -s "$work/a" "$work/b"; check "seeded runs repeat" $?

# Other agents and optimizers; MountainCar.
expect_code "sarsa" 0 "$bin" rl cartpole --agent sarsa-linear --episodes 20 --eval 2 --json
expect_code "tabular" 0 "$bin" rl cartpole --agent q-tabular --bins 1,1,6,12 --episodes 20 --eval 2 --json
expect_code "sgd dense" 0 "$bin" rl cartpole --optimizer sgd --lr 0.03 --table-size 1024 --episodes 20 --eval 2 --json
[ "$(json_val gradients)" = '"dense"' ]; check "sgd uses dense gradients" $?
expect_code "mountaincar" 0 "$bin" rl mountaincar --episodes 20 --eval 2 --json
[ "$(json_val env)" = '"mountaincar"' ]; check "mountaincar json" $?
expect_code "progress text" 0 "$bin" rl cartpole --episodes 20 --progress 10 --eval 2
grep -q "episode     10" "$work/err" && grep -q "mean100" "$work/err"; check "progress lines every 10 episodes" $?
grep -q "evaluation over 2 greedy episodes" "$work/out"; check "text summary" $?
expect_code "quiet" 0 "$bin" rl cartpole --episodes 5 --eval 1 --quiet
[ ! -s "$work/out" ] && [ ! -s "$work/err" ]; check "--quiet prints nothing" $?

# Usage errors: exit 2.
expect_code "no env" 2 "$bin" rl
expect_code "unknown env" 2 "$bin" rl pong
expect_code "unknown agent" 2 "$bin" rl cartpole --agent dqn
expect_code "unknown flag" 2 "$bin" rl cartpole --no-such-flag
expect_code "negative episodes" 2 "$bin" rl cartpole --episodes -5
expect_code "gamma > 1" 2 "$bin" rl cartpole --gamma 1.5
expect_code "unknown optimizer" 2 "$bin" rl cartpole --optimizer lion
expect_code "option of another optimizer" 2 "$bin" rl cartpole --optimizer sgd --lr-decay 0.1
expect_code "bad lr" 2 "$bin" rl cartpole --lr -1
expect_code "two optimizers" 2 "$bin" rl cartpole --optimizer adagrad,sgd
expect_code "bins on a linear agent" 2 "$bin" rl cartpole --bins 6
expect_code "tilings on the tabular agent" 2 "$bin" rl cartpole --agent q-tabular --tilings 4
expect_code "bad bounds" 2 "$bin" rl cartpole --bounds 0:1,0:1
expect_code "bounds lo >= hi" 2 "$bin" rl mountaincar --bounds 1:0,-0.07:0.07
expect_code "sparse rows with sgd" 2 "$bin" rl cartpole --optimizer sgd --gradients sparse --episodes 1
# A diverging learner: exit 1 with a message.
expect_code "diverged" 1 "$bin" rl cartpole --optimizer sgd --lr 1e30 --table-size 64 --episodes 50 --eval 1 --quiet
grep -q "non-finite" "$work/err"; check "divergence message" $?

finish
