#!/usr/bin/env bash
# Drives `adakit embed` as a user would: the pipeline step by step and in one go, the files it writes,
# queries, and the errors (exit 1 for bad files, naming file/line/offset; exit 2 for usage).
set -uo pipefail
bin=$1
source "$(dirname "$0")/harness.sh"
json_val() { sed -E "s/.*\"$1\":(\"[^\"]*\"|[-0-9.eE+]+|null|true|false).*/\1/" "$work/out"; }

expect_code "help" 0 "$bin" embed --help
for sub in vocab cooccur shuffle train nearest analogy all; do
  grep -q "$sub" "$work/out"; check "embed --help lists $sub" $?
done
expect_code "root help lists embed" 0 "$bin" --help
grep -q "embed" "$work/out"; check "adakit --help lists embed" $?
expect_code "train help" 0 "$bin" embed train --help
for flag in --cooccur --vocab --vector-size --iter --eta --x-max --alpha --grad-clip --convention --eps \
            --initial-accumulator --shuffle --seed --threads --init --text-out --binary-out --cost-csv --model \
            --header --no-unk --json --quiet; do
  grep -q -- "$flag" "$work/out"; check "train --help lists $flag" $?
done
expect_code "cooccur help" 0 "$bin" embed cooccur --help
for flag in --window --symmetric --distance-weighting --memory --max-product --overflow-length --temp-dir --tokenizer; do
  grep -q -- "$flag" "$work/out"; check "cooccur --help lists $flag" $?
done

# A small corpus: two topics of four words each, 60 lines.
corpus=$work/corpus.txt
for i in $(seq 1 15); do
  echo "king queen crown palace king crown"
  echo "queen palace king crown queen palace"
  echo "man woman street walks man street"
  echo "woman walks man street woman walks"
done > "$corpus"

expect_code "vocab" 0 "$bin" embed vocab --corpus "$corpus" --out "$work/vocab.txt"
[ "$(wc -l < "$work/vocab.txt")" -eq 8 ]; check "8 words in vocab.txt" $?
# Every word occurs 45 times: ties in byte order.
[ "$(cut -d' ' -f1 "$work/vocab.txt" | tr '\n' ' ')" = "crown king man palace queen street walks woman " ]
check "vocab.txt in count order, ties by bytes" $?
head -1 "$work/vocab.txt" | grep -qx "crown 45"; check "vocab.txt lines are 'word count'" $?
expect_code "vocab max-vocab" 0 "$bin" embed vocab --corpus "$corpus" --out "$work/vocab3.txt" --max-vocab 6 --json
[ "$(json_val vocab_size)" = "6" ]; st=$?; check "max-vocab 6 keeps 6 words (got $(json_val vocab_size))" $st
[ "$(json_val tokens)" = "360" ]; st=$?; check "360 tokens (got $(json_val tokens))" $st
expect_code "vocab min-count above every count" 1 "$bin" embed vocab --corpus "$corpus" --out "$work/vocab2.txt" --min-count 46
grep -q "no word reaches --min-count 46" "$work/err"; check "empty vocabulary message" $?

expect_code "cooccur" 0 "$bin" embed cooccur --corpus "$corpus" --vocab "$work/vocab.txt" --out "$work/cooc.bin" --window 3 --json
records=$(json_val records)
[ "$(stat -c %s "$work/cooc.bin")" -eq $((records * 16)) ]; check "cooc.bin holds 16-byte records ($records)" $?
# Spilling to disk gives the same file (flat weights: the sums are exact integers).
"$bin" embed cooccur --corpus "$corpus" --vocab "$work/vocab.txt" --out "$work/flat.bin" --window 3 --distance-weighting 0 -q
mkdir -p "$work/tmp"
expect_code "cooccur spilled" 0 "$bin" embed cooccur --corpus "$corpus" --vocab "$work/vocab.txt" --out "$work/flat2.bin" \
  --window 3 --distance-weighting 0 --max-product 1 --overflow-length 40 --temp-dir "$work/tmp" --json
[ "$(json_val runs)" -gt 5 ]; st=$?; check "runs spilled (got $(json_val runs))" $st
cmp -s "$work/flat.bin" "$work/flat2.bin"; check "spill and merge equals the in-memory table" $?
[ -z "$(ls -A "$work/tmp")" ]; check "run files removed" $?

expect_code "shuffle" 0 "$bin" embed shuffle --in "$work/cooc.bin" --out "$work/shuf.bin" --seed 3
"$bin" embed shuffle --in "$work/cooc.bin" --out "$work/shuf2.bin" --seed 3 -q
cmp -s "$work/shuf.bin" "$work/shuf2.bin"; check "seeded shuffle repeats" $?
! cmp -s "$work/shuf.bin" "$work/cooc.bin"; check "shuffle changes the order" $?
[ "$(stat -c %s "$work/shuf.bin")" -eq "$(stat -c %s "$work/cooc.bin")" ]; check "shuffle keeps every record" $?

expect_code "train" 0 "$bin" embed train --cooccur "$work/shuf.bin" --vocab "$work/vocab.txt" --vector-size 6 --iter 8 \
  --x-max 10 --threads 1 --text-out "$work/vec.txt" --binary-out "$work/vec.bin" --cost-csv "$work/cost.csv" --json
for key in records vector_size threads iterations costs iteration_seconds train_seconds epochs_per_second final_cost \
           vocab_size convention seconds; do
  grep -q "\"$key\":" "$work/out"; check "train json has $key" $?
done
[ "$(wc -l < "$work/out")" -eq 1 ]; check "--json prints one line" $?
[ "$(wc -l < "$work/cost.csv")" -eq 9 ]; check "cost.csv: header and 8 iterations" $?
[ "$(wc -l < "$work/vec.txt")" -eq 9 ]; check "vectors.txt: 8 words and <unk>" $?
tail -1 "$work/vec.txt" | grep -q "^<unk> "; check "<unk> line last" $?
[ "$(head -1 "$work/vec.txt" | wc -w)" -eq 7 ]; check "a word and 6 values per line" $?
[ "$(stat -c %s "$work/vec.bin")" -eq $((2 * 8 * 7 * 8)) ]; check "vectors.bin: 2 V (d + 1) doubles" $?
awk -F, 'NR > 2 && $2 >= prev { bad = 1 } NR > 1 { prev = $2 } END { exit bad }' "$work/cost.csv"
check "the cost falls every iteration" $?
expect_code "train text" 0 "$bin" embed train --cooccur "$work/shuf.bin" --vocab "$work/vocab.txt" -d 4 --iter 3 --x-max 10
grep -q "epoch 3/3 loss" "$work/err"; check "progress lines per iteration" $?
grep -q "final cost" "$work/out"; check "text summary" $?
expect_code "train standard model 0 header" 0 "$bin" embed train --cooccur "$work/shuf.bin" --vocab "$work/vocab.txt" -d 4 \
  --iter 3 --convention standard --model 0 --header --no-unk --text-out "$work/all.txt" -q
[ ! -s "$work/out" ] && [ ! -s "$work/err" ]; check "--quiet prints nothing" $?
head -1 "$work/all.txt" | grep -qx "8 10"; check "header 'V n' with model 0 (2d + 2 values)" $?

# Same initial vectors and order, one thread: identical results.
"$bin" embed train --cooccur "$work/shuf.bin" --vocab "$work/vocab.txt" -d 6 --iter 0 --binary-out "$work/init.bin" -q
for r in a b; do
  "$bin" embed train --cooccur "$work/shuf.bin" --vocab "$work/vocab.txt" --init "$work/init.bin" --shuffle none --iter 4 \
    --threads 1 --binary-out "$work/run_$r.bin" -q
done
cmp -s "$work/run_a.bin" "$work/run_b.bin"; check "--init + --shuffle none repeats bit for bit" $?

expect_code "nearest text" 0 "$bin" embed nearest --vectors "$work/vec.txt" king man -k 3
grep -q "^king:" "$work/out" && grep -q "^man:" "$work/out"; check "nearest lists each word" $?
expect_code "nearest binary json" 0 "$bin" embed nearest --vectors "$work/vec.bin" --vocab "$work/vocab.txt" king --json
grep -q '"king":\[{"similarity":' "$work/out"; check "nearest json" $?
expect_code "analogy" 0 "$bin" embed analogy --vectors "$work/vec.txt" man woman king -k 2
grep -q "man : woman :: king : ?" "$work/out"; check "analogy prints its question" $?

expect_code "all" 0 "$bin" embed all --corpus "$corpus" --out "$work/all" -d 6 --iter 5 --window 3 --x-max 10 --show king --json
for f in vocab.txt cooccurrence.bin vectors.txt vectors.bin cost.csv summary.json; do
  [ -s "$work/all/$f" ]; check "all wrote $f" $?
done
grep -q '"nearest":{"king":' "$work/out"; check "all --show in the json" $?
expect_code "all text" 0 "$bin" embed all --corpus "$corpus" --out "$work/all2" -d 4 --iter 2 --window 3 --show king,man
grep -q "\[3/4\] training" "$work/err" && grep -q "epoch 2/2" "$work/err"; check "all reports its stages" $?
grep -q "^king:" "$work/out"; check "all prints the neighbours" $?

# Bad files: exit 1 with the file and where.
head -c 40 "$work/cooc.bin" > "$work/trunc.bin"
expect_code "truncated cooccur" 1 "$bin" embed train --cooccur "$work/trunc.bin" --vocab "$work/vocab.txt" --iter 1
grep -q "trunc.bin" "$work/err" && grep -q "truncated" "$work/err" && grep -q "byte offset 32" "$work/err"
check "truncation message names the file and offset" $?
printf 'king 45\nqueen\n' > "$work/badvocab.txt"
expect_code "bad vocab line" 1 "$bin" embed train --cooccur "$work/cooc.bin" --vocab "$work/badvocab.txt" --iter 1
grep -q "badvocab.txt:2" "$work/err"; check "bad vocab names file:line" $?
printf 'king 45\nqueen 30\nman 20\n' > "$work/smallvocab.txt"
expect_code "ids beyond the vocabulary" 1 "$bin" embed train --cooccur "$work/cooc.bin" --vocab "$work/smallvocab.txt" --iter 1
grep -q "byte offset" "$work/err"; check "id error names the record's offset" $?
printf 'a 1 2 3\nb 1 2\n' > "$work/baddim.txt"
expect_code "vectors dimension mismatch" 1 "$bin" embed nearest --vectors "$work/baddim.txt" a
grep -q "baddim.txt:2" "$work/err" && grep -q "dimension mismatch" "$work/err"; check "dimension mismatch names file:line" $?
expect_code "binary vectors of another vocabulary" 1 "$bin" embed nearest --vectors "$work/vec.bin" --vocab "$work/smallvocab.txt" king
printf 'a b\nc <unk> d\n' > "$work/unk.txt"
expect_code "<unk> in the corpus" 1 "$bin" embed vocab --corpus "$work/unk.txt" --out "$work/v.txt"
grep -q "unk.txt:2" "$work/err"; check "<unk> error names the line" $?
[ ! -e "$work/v.txt" ]; check "no half-written output" $?

# Usage: exit 2.
expect_code "no subcommand" 2 "$bin" embed
expect_code "missing corpus" 2 "$bin" embed vocab --corpus "$work/nope.txt" --out "$work/v.txt"
expect_code "unknown word" 2 "$bin" embed nearest --vectors "$work/vec.txt" emperor
expect_code "binary without vocab" 2 "$bin" embed nearest --vectors "$work/vec.bin" king
expect_code "bad convention" 2 "$bin" embed train --cooccur "$work/cooc.bin" --vocab "$work/vocab.txt" --convention keras
expect_code "bad window" 2 "$bin" embed cooccur --corpus "$corpus" --vocab "$work/vocab.txt" --out "$work/c.bin" --window 0
expect_code "overflow too small" 2 "$bin" embed cooccur --corpus "$corpus" --vocab "$work/vocab.txt" --out "$work/c.bin" \
  --window 10 --overflow-length 5
expect_code "init of another dimension" 2 "$bin" embed train --cooccur "$work/cooc.bin" --vocab "$work/vocab.txt" \
  --init "$work/init.bin" --vector-size 9
expect_code "analogy needs three words" 2 "$bin" embed analogy --vectors "$work/vec.txt" man woman

finish
