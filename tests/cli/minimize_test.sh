#!/usr/bin/env bash
# Drives `adakit minimize` as a user would: help, exit codes, --json, --trace, conventions.
set -uo pipefail
bin=$1
source "$(dirname "$0")/harness.sh"

# --help lists every flag with its default.
expect_code "help exits 0" 0 "$bin" minimize --help
grep -q -- "--lr" "$work/out" && grep -q "adagrad 0.01" "$work/out" && grep -q "adam 0.001" "$work/out"
check "help lists --lr with per-optimizer defaults" $?
for flag in --function --steps --x0 --trace --json --threads --convention --lr-decay --schedule --clip-norm; do
  grep -q -- "$flag" "$work/out"; check "help lists $flag" $?
done

# Usage errors: exit 2 with a message naming the problem, never a crash.
expect_code "unknown flag" 2 "$bin" minimize --no-such-flag
expect_code "negative lr" 2 "$bin" minimize --lr -1
grep -q "lr" "$work/err"; check "negative lr names the field" $?
expect_code "lr not a number" 2 "$bin" minimize --lr abc
expect_code "unknown optimizer" 2 "$bin" minimize --optimizer nope
grep -q "adagrad" "$work/err"; check "unknown optimizer lists the names" $?
expect_code "option of another optimizer" 2 "$bin" minimize --optimizer adagrad --rho 0.9
expect_code "unknown function" 2 "$bin" minimize --function nope
expect_code "unknown convention" 2 "$bin" minimize --convention nope
expect_code "bad x0" 2 "$bin" minimize --function quadratic --x0 1,2,3
expect_code "bad schedule" 2 "$bin" minimize --schedule cosine:total=0
expect_code "no subcommand" 2 "$bin"

# AdaGrad on x² from x0 = 5, lr 1, 100 steps, state kept across steps: compare with the formula in awk.
expect_code "json run" 0 "$bin" minimize --function quadratic --dim 1 --x0 5 --optimizer adagrad --lr 1 --steps 100 --json --threads 1
got=$(sed -E 's/.*"x":\[([^]]*)\].*/\1/' "$work/out")
want=$(awk 'BEGIN{x=5; s=0; for(t=1;t<=100;t++){g=2*x; s+=g*g; x-=1*g/(sqrt(s)+1e-10)}; printf "%.9g", x}')
awk -v a="$got" -v b="$want" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d <= 1e-5*(b<0?-b:b) + 1e-7)}'
check "adagrad trajectory matches the closed-form recurrence (got $got, want $want)" $?
grep -q '"steps":100' "$work/out"; check "json has steps" $?
grep -q '"loss":' "$work/out"; check "json has loss" $?

# Keras convention: eps inside the root, s0 = 0.1.
expect_code "keras run" 0 "$bin" minimize --function quadratic --dim 1 --x0 5 --convention keras --lr 1 --steps 50 --json
got=$(sed -E 's/.*"x":\[([^]]*)\].*/\1/' "$work/out")
want=$(awk 'BEGIN{x=5; s=0.1; for(t=1;t<=50;t++){g=2*x; s+=g*g; x-=1*g/sqrt(s+1e-7)}; printf "%.9g", x}')
awk -v a="$got" -v b="$want" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d <= 1e-5*(b<0?-b:b) + 1e-7)}'
check "keras convention matches its formula (got $got, want $want)" $?

# The family beyond the diagonal. AdaGrad-Norm on x² from 5: b² = b0² + Σ g², x -= lr g / b.
expect_code "adagrad-norm run" 0 "$bin" minimize --function quadratic --dim 1 --x0 5 --optimizer adagrad-norm --lr 1 --b0 0.5 --steps 40 --json
got=$(sed -E 's/.*"x":\[([^]]*)\].*/\1/' "$work/out")
want=$(awk 'BEGIN{x=5; b2=0.25; for(t=1;t<=40;t++){g=2*x; b2+=g*g; x-=g/sqrt(b2)}; printf "%.9g", x}')
awk -v a="$got" -v b="$want" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d <= 1e-5*(b<0?-b:b) + 1e-7)}'
check "adagrad-norm matches its recurrence (got $got, want $want)" $?
expect_code "adagrad-full with blocks" 0 "$bin" minimize --function ill-conditioned --dim 6 --optimizer adagrad-full --block-size 4 --precondition-every 2 --lr 0.5 --steps 200 --json
loss=$(sed -E 's/.*"loss":([-0-9.eE+]+).*/\1/' "$work/out")
awk -v l="$loss" 'BEGIN{exit !(l < 1e-3)}'; check "adagrad-full converges (loss $loss)" $?
expect_code "shampoo, sm3, adafactor run" 0 "$bin" minimize --function rosenbrock --optimizer shampoo,sm3,adafactor --steps 20
expect_code "block size for sm3" 2 "$bin" minimize --optimizer sm3 --block-size 4
grep -q "block-size" "$work/err"; check "the flag that does not apply is named" $?
expect_code "block size 0" 2 "$bin" minimize --optimizer adagrad-full --block-size 0
expect_code "precondition-every not an integer" 2 "$bin" minimize --optimizer shampoo --precondition-every 1.5
grep -q "precondition_every" "$work/err"; check "non-integer names the field" $?

# --trace writes a header and one row per step.
expect_code "trace run" 0 "$bin" minimize --function rosenbrock --optimizer adam --lr 0.01 --steps 30 --trace "$work/t.csv"
head -1 "$work/t.csv" | grep -q "^step,loss,x0,x1,g0,g1,lr0,lr1$"; check "trace header" $?
[ "$(wc -l < "$work/t.csv")" -eq 31 ]; check "trace has 30 rows" $?

# Several functions and optimizers: a table, and --out files.
expect_code "all x all" 0 "$bin" minimize --function all --optimizer all --steps 50 --out "$work/o" --threads 2
[ -f "$work/o/summary.csv" ] && [ -f "$work/o/summary.json" ] && [ -f "$work/o/beale_adagrad.csv" ]
check "--out writes summary and traces" $?
[ "$(grep -c . "$work/o/summary.csv")" -eq 56 ]; check "summary has 5 x 11 runs" $?
expect_code "trace with several runs is a usage error" 2 "$bin" minimize --function all --trace "$work/x.csv"

finish
