#!/usr/bin/env bash
# Bad input, as users meet it: every reader (CSV, LIBSVM, TSV text, IDX, CIFAR-10, safetensors model
# files, checkpoints, linear model JSON, GloVe's vocabulary, co-occurrence and vector files) and the
# flags refuse malformed input with a message naming the file (and the line, field or byte offset)
# and what was expected, exit 1 (2 for usage errors), and neither crash, hang nor allocate without
# bound (each run is limited to 2 GB of address space; ctest stops a hang after 120 s). With
# ADAKIT_BAD_INPUT_TABLE=FILE the cases and their exact messages are written to FILE as markdown
# table rows (docs/robustness.md is made from them).
set -uo pipefail
bin=$(realpath "$1")
source "$(dirname "$0")/harness.sh"
table=${ADAKIT_BAD_INPUT_TABLE:-}
# 2 GB of address space per run; AddressSanitizer reserves terabytes of it, so ASan builds run unlimited.
vlimit=2000000
# (Not "ldd | grep -q": under pipefail, grep -q leaving early can kill ldd with SIGPIPE and fail the test.)
case "$(ldd "$bin" 2> /dev/null)" in *libasan*) vlimit=unlimited ;; esac
[ -n "$table" ] && : > "$table"

# bad NAME EXIT 'expected part of the message' COMMAND...: runs from $work, so messages name files
# relative to it.
bad() {
  local name=$1 want=$2 part=$3; shift 3
  (cd "$work" && ulimit -v $vlimit && exec "$@" > out 2> err); local got=$?
  local msg; msg=$(head -c 2000 "$work/err" | head -3)
  [ "$got" -eq "$want" ]; check "$name: exit $want (got $got: $msg)" $?
  grep -qF -- "$part" "$work/err"; check "$name: message has '$part' (got: $msg)" $?
  if [ -n "$table" ]; then
    local first; first=$(head -4 "$work/err" | sed 's/|/\\|/g; s/^ *//' | paste -sd ' ' -)
    echo "| $name | $got | \`$first\` |" >> "$table"
  fi
}
w() { printf "$2" > "$work/$1"; }  # w FILE 'printf format'
# Binary fixtures, without anything beyond bash and coreutils.
bytes_be32() { local n; for n in "$@"; do printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) $((n & 255)); done; }
be32() { printf "$(bytes_be32 "$@")"; }
le64() { local n=$1 i out=""; for i in 0 1 2 3 4 5 6 7; do out+=$(printf '\\x%02x' $((n >> (8 * i) & 255))); done; printf "$out"; }
zeros() { head -c "$1" /dev/zero; }
# safetensors FILE HEADER_JSON PAYLOAD_BYTES [HEADER_LENGTH]: the length word, the header, zero bytes.
safetensors() { { le64 "${4:-${#2}}"; printf '%s' "$2"; zeros "$3"; } > "$work/$1"; }

# ---------------------------------------------------------------- CSV
w empty.csv ''
bad "CSV: empty file" 1 "empty.csv: empty file: no rows" "$bin" train --data empty.csv
w short.csv 'a,b,c\n1,2,x\n3,4\n'
bad "CSV: row with a missing cell" 1 "short.csv:3: expected 3 cells, found 2" "$bin" train --data short.csv
w text.csv 'a,b,c\n1,2,x\n1,two,y\n'
bad "CSV: text in a feature column" 1 "text.csv:3: field 'b'" "$bin" train --data text.csv
w nan.csv 'a,b,c\n1,nan,x\n'
bad "CSV: nan feature" 1 "nan.csv:2: field 'b': not a finite number: 'nan'" "$bin" train --data nan.csv
w range.csv 'a,b,c\n1,1e39,x\n'
bad "CSV: value beyond float32" 1 "range.csv:2: field 'b': value 1e39 is out of float32 range" "$bin" train --data range.csv
w quote.csv 'a,b,c\n1,"2,x\n'
bad "CSV: unterminated quote" 1 "quote.csv:2: field 'column 2': unterminated quoted field" "$bin" train --data quote.csv
w nolabel.csv 'a,b,c\n1,2,\n'
bad "CSV: empty label" 1 "nolabel.csv:2: field 'c': missing label" "$bin" train --data nolabel.csv
for ((i = 0; i < 3000; ++i)); do printf '\\x%02x' $(((i * 7919 + 13) % 256)); done | { read -r -d '' fmt; printf "$fmt"; } > "$work/garbage.csv"
bad "CSV: random bytes" 1 "garbage.csv:" "$bin" train --data garbage.csv
for ((i = 0; i < 1000; ++i)); do echo "$i,$((i % 2))"; done | gzip -c | head -c 40 > "$work/cut.csv.gz"
bad "CSV: truncated gzip" 1 "cut.csv.gz: truncated gzip data" "$bin" train --data cut.csv.gz
bad "CSV: no such file" 2 "unknown dataset 'missing.csv'" "$bin" train --data missing.csv

# ---------------------------------------------------------------- LIBSVM
w tok.svm '1 1:0.5 3:1\n0 2:1 abc\n'
bad "LIBSVM: token without ':'" 1 "tok.svm:2: field 'column 7': expected index:value: 'abc'" "$bin" train --data tok.svm
w order.svm '1 3:0.5 2:1\n'
bad "LIBSVM: decreasing index" 1 "order.svm:1: field 'column 9': index 2 is not above the previous index 3" "$bin" train --data order.svm
w zero.svm '1 0:0.5\n'
bad "LIBSVM: index 0" 1 "zero.svm:1: field 'column 3': index is not a positive integer (indices are 1-based)" "$bin" train --data zero.svm
w nanv.svm '1 1:nan\n'
bad "LIBSVM: nan value" 1 "nanv.svm:1: field 'column 3': value is not a finite number" "$bin" train --data nanv.svm
w label.svm 'yes 1:1\n'
bad "LIBSVM: label not a number" 1 "label.svm:1: field 'column 1': label is not a finite number" "$bin" train --data label.svm
w none.svm '# only a comment\n\n'
bad "LIBSVM: no sample" 1 "none.svm: no sample" "$bin" train --data none.svm
w huge.svm '1 2147483647:1\n0 1:1\n'
bad "LIBSVM: index 2^31-1 (an 8 GiB model)" 1 "huge.svm:1: field 'column 3': index above the largest one allowed, 134217728" "$bin" train --data huge.svm
w huger.svm '1 99999999999:1\n'
bad "LIBSVM: index above 2^31-1" 1 "huger.svm:1: field 'column 3': index above" "$bin" train --data huger.svm

# ---------------------------------------------------------------- TSV text
w notab.tsv 'pos\tgood film\nneg bad film\n'
bad "TSV: line without a tab" 1 "notab.tsv:2: field 'column 1': no tab: expected 'label<TAB>text'" "$bin" train --data notab.tsv
w nolab.tsv '\tgood film\n'
bad "TSV: empty label" 1 "nolab.tsv:1: field 'column 1': empty label before the tab" "$bin" train --data nolab.tsv
w empty.tsv ''
bad "TSV: empty file" 1 "empty.tsv: no 'label<TAB>text' line" "$bin" train --data empty.tsv

# ---------------------------------------------------------------- IDX (fashion-mnist from --data-dir)
# idx DIR IMAGES...: the four files, the train images file made by the command IMAGES.
idx() {
  local d=$work/$1; shift
  mkdir -p "$d"
  { be32 0x801 2; printf '\x00\x01'; } > "$d/train-labels-idx1-ubyte"
  { be32 0x803 2 28 28; zeros 1568; } > "$d/t10k-images-idx3-ubyte"
  { be32 0x801 2; printf '\x00\x01'; } > "$d/t10k-labels-idx1-ubyte"
  "$@" > "$d/train-images-idx3-ubyte"
}
idx idx_magic eval 'be32 0x801 2 28 28; zeros 1568'
bad "IDX: wrong magic number" 1 "idx_magic/train-images-idx3-ubyte: bad magic number 0x00000801, expected 0x00000803" "$bin" train --data fashion-mnist --data-dir idx_magic
idx idx_header be32 0x803 2
bad "IDX: truncated header" 1 "idx_header/train-images-idx3-ubyte: truncated header: missing dimension 2 of 3" "$bin" train --data fashion-mnist --data-dir idx_header
idx idx_claim eval 'be32 0x803 1000000 1000 1000; zeros 100'
bad "IDX: header claims 10^12 bytes" 1 "the header announces 1000000000000 bytes of data after its 16 bytes, the file holds 100 (truncated file)" "$bin" train --data fashion-mnist --data-dir idx_claim
idx idx_count eval 'be32 0x803 3 28 28; zeros 2352'
bad "IDX: 3 images, 2 labels" 1 "count mismatch: 2 labels for 3 images" "$bin" train --data fashion-mnist --data-dir idx_count
idx idx_trailing eval 'be32 0x803 2 28 28; zeros 1570'
bad "IDX: trailing bytes" 1 "more data than the header's 1568 bytes (trailing bytes from byte 1584)" "$bin" train --data fashion-mnist --data-dir idx_trailing

# ---------------------------------------------------------------- CIFAR-10 (from --data-dir)
cifar() { # DIR: five good training batches of one record each, and test_batch.bin from stdin
  mkdir -p "$work/$1"
  for i in 1 2 3 4 5; do head -c 3073 /dev/zero > "$work/$1/data_batch_$i.bin"; done
  cat > "$work/$1/test_batch.bin"
}
head -c 3000 /dev/zero | cifar cifar_cut
bad "CIFAR-10: truncated record" 1 "cifar_cut/test_batch.bin: record 0 (0-based, at byte 0) is truncated: it has 3000 of 3073 bytes" "$bin" train --data cifar10 --data-dir cifar_cut
{ printf '\x0c'; head -c 3072 /dev/zero; } | cifar cifar_label
bad "CIFAR-10: label byte 12" 1 "cifar_label/test_batch.bin: record 0 (0-based): label byte 12 at byte 0 is not a CIFAR-10 class (0..9)" "$bin" train --data cifar10 --data-dir cifar_label
head -c 3073 /dev/zero | cifar cifar_meta
printf 'cat\ndog\n' > "$work/cifar_meta/batches.meta.txt"
bad "CIFAR-10: batches.meta.txt with 2 names" 1 "batches.meta.txt: expected 10 class names, one per line, found 2" "$bin" train --data cifar10 --data-dir cifar_meta

# ---------------------------------------------------------------- safetensors model files (predict --model)
arch='{\"kind\": \"sequential\", \"layers\": [{\"kind\": \"linear\", \"in_features\": 1000000, \"out_features\": 1000000, \"seed\": 1}]}'
task='{\"objective\": \"mse\", \"input_shape\": [4], \"class_names\": [], \"feature_names\": [], \"scaler_mean\": [], \"scaler_scale\": [], \"dataset\": \"x\"}'
safetensors claim.safetensors '{"w": {"dtype": "F32", "shape": [1000000, 1000000], "data_offsets": [0, 8]}}' 8
safetensors negative.safetensors '{"w": {"dtype": "F32", "shape": [-2, 4], "data_offsets": [0, 32]}}' 32
safetensors f16.safetensors '{"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}' 4
safetensors offsets.safetensors '{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}' 8
safetensors length.safetensors '{"w": {}}' 0 $((1 << 40))
safetensors arch.safetensors "{\"__metadata__\": {\"format\": \"adakit.model.v1\", \"adakit.architecture\": \"$arch\", \"adakit.task\": \"$task\"}, \"0.weight\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}" 4
safetensors notjson.safetensors '{abc}' 0
printf '\x01\x02\x03' > "$work/short.safetensors"
bad "safetensors: shorter than 8 bytes" 1 "short.safetensors: truncated safetensors file: 3 bytes, expected at least the 8-byte header length" "$bin" predict --model short.safetensors --data iris
bad "safetensors: header length beyond the file" 1 "length.safetensors: truncated or corrupted safetensors file: the header length at byte 0 says 1099511627776 bytes" "$bin" predict --model length.safetensors --data iris
bad "safetensors: header not JSON" 1 "notjson.safetensors: field 'header': corrupted safetensors header (JSON at bytes 8..13)" "$bin" predict --model notjson.safetensors --data iris
bad "safetensors: shape claims 10^12 values" 1 "claim.safetensors: field 'w': data_offsets [0,8] do not match the shape [1000000, 1000000]" "$bin" predict --model claim.safetensors --data iris
bad "safetensors: negative dimension" 1 "negative.safetensors: field 'w': shape holds -2, expected non-negative integers" "$bin" predict --model negative.safetensors --data iris
bad "safetensors: F16 tensor" 1 "f16.safetensors: field 'w': dtype \"F16\" is not supported (F32, F64, I64, I32, U8)" "$bin" predict --model f16.safetensors --data iris
bad "safetensors: offsets past the payload" 1 "offsets.safetensors: field 'w': data_offsets [0,16] lie outside the 8-byte payload" "$bin" predict --model offsets.safetensors --data iris
bad "model file: architecture larger than the file" 1 "arch.safetensors: field 'adakit.architecture.layers': model config declares more than 1 parameter values" "$bin" predict --model arch.safetensors --data iris
bad "model file: no such file" 1 "nothere.safetensors" "$bin" predict --model nothere.safetensors --data iris

# ---------------------------------------------------------------- checkpoints (--resume)
run=(train --data iris --model mlp:4 --epochs 3 --batch-size 16 --seed 1 --quiet)
(cd "$work" && "$bin" "${run[@]}" --checkpoint ck --checkpoint-every 5 --save iris.safetensors) || check "a checkpoint to damage" 1
ck=$work/ck/checkpoint.safetensors
mkdir -p "$work/ck_cut" "$work/ck_flip" "$work/ck_model" "$work/ck_empty"
head -c 1000 "$ck" > "$work/ck_cut/checkpoint.safetensors"
size=$(stat -c %s "$ck")
{ head -c $((size - 10)) "$ck"; printf '\x7f'; tail -c 9 "$ck"; } > "$work/ck_flip/checkpoint.safetensors"
cmp -s "$ck" "$work/ck_flip/checkpoint.safetensors"; [ $? -eq 1 ]; check "the damaged checkpoint differs" $?
cp "$work/iris.safetensors" "$work/ck_model/checkpoint.safetensors"
bad "checkpoint: truncated" 1 "ck_cut/checkpoint.safetensors: truncated or corrupted safetensors file: the header length at byte 0 says" "$bin" "${run[@]}" --resume ck_cut
bad "checkpoint: one flipped bit" 1 "ck_flip/checkpoint.safetensors: field 'adakit.payload_fnv1a64': checksum mismatch: the tensor data is corrupted" "$bin" "${run[@]}" --resume ck_flip
bad "checkpoint: a model file instead" 1 "ck_model/checkpoint.safetensors: field 'format': unsupported format 'adakit.model.v1', expected 'adakit.checkpoint.v1'" "$bin" "${run[@]}" --resume ck_model
bad "checkpoint: none in the directory" 1 "no checkpoint to resume from (expected ck_empty/checkpoint.safetensors)" "$bin" "${run[@]}" --resume ck_empty
bad "checkpoint: other flags than the saved run" 2 "--batch-size: checkpoint '16', this run '8'" "$bin" train --data iris --model mlp:4 --epochs 3 --batch-size 8 --seed 1 --quiet --resume ck
bad "checkpoint: another optimizer" 2 "--optimizer: checkpoint 'adagrad', this run 'adam'" "$bin" "${run[@]}" --optimizer adam --resume ck
# Sparse linear runs write linear checkpoints; each kind of run refuses the other's.
for i in $(seq 1 40); do echo "$((i % 2)) $i:1 $((i + 40)):0.5"; done > "$work/sp.svm"
srun=(train --data sp.svm --epochs 2 --batch-size 4 --seed 1 --quiet)
(cd "$work" && "$bin" "${srun[@]}" --checkpoint spck --save sp.json) || check "a sparse checkpoint" 1
bad "sparse checkpoint: a dense one instead" 1 "ck/checkpoint.safetensors: field 'format': unsupported format 'adakit.checkpoint.v1', expected 'adakit.linear.checkpoint.v1'" "$bin" "${srun[@]}" --resume ck
bad "checkpoint: a sparse one for a dense run" 1 "spck/checkpoint.safetensors: field 'format': unsupported format 'adakit.linear.checkpoint.v1', expected 'adakit.checkpoint.v1'" "$bin" "${run[@]}" --resume spck
bad "sparse checkpoint: another optimizer" 2 "--optimizer: checkpoint 'adagrad', this run 'ftrl'" "$bin" "${srun[@]}" --optimizer ftrl --resume spck
sed -i '1s/1:1/1:2/' "$work/sp.svm"
bad "sparse checkpoint: the data changed" 2 "training data (FNV-1a of the split): checkpoint '" "$bin" "${srun[@]}" --resume spck

# ---------------------------------------------------------------- linear model JSON (predict --model)
w data.svm '1 1:1\n0 2:1\n'
w notjson.json '{"format": "adakit.linear", '
linear() { printf '{"format": "adakit.linear", "task": "logistic", "dim": %s, "classes": 2, "fit_bias": true, "bias": [%s], "rows": [%s], "values": [%s]}' "$@"; }
linear 1000000000000 0 '' '' > "$work/dim.json"
linear 10 1e300 '' '' > "$work/bias.json"
linear 10 0 1.5 1 > "$work/rows.json"
bad "linear model: truncated JSON" 1 "notjson.json: field 'model': not a JSON model" "$bin" predict --model notjson.json --data data.svm
bad "linear model: dim 10^12" 1 "dim.json: field 'dim': linear model: dim 1000000000000 x 1 outputs is more than 2^31 weights" "$bin" predict --model dim.json --data data.svm
bad "linear model: bias beyond float32" 1 "bias.json: field 'bias': linear model: bias: holds 1e+300, expected finite float32 numbers" "$bin" predict --model bias.json --data data.svm
bad "linear model: fractional row index" 1 "rows.json: field 'rows': linear model: rows: holds 1.5, expected integer feature indices" "$bin" predict --model rows.json --data data.svm

# ---------------------------------------------------------------- binary linear model (predict --model)
(cd "$work" && "$bin" "${srun[@]}" --save sp.bin) || check "a binary sparse model" 1
head -c 200 "$work/sp.bin" > "$work/sp_cut.bin"
cp "$work/sp.bin" "$work/sp_flip.bin"
size=$(stat -c %s "$work/sp.bin")
printf '\x55' | dd of="$work/sp_flip.bin" bs=1 seek=$((size - 3)) conv=notrunc status=none
bad "binary linear model: truncated" 1 "sp_cut.bin: truncated or corrupted safetensors file: the header length at byte 0 says" "$bin" predict --model sp_cut.bin --data data.svm
bad "binary linear model: one byte changed" 1 "sp_flip.bin: field 'adakit.payload_fnv1a64': checksum mismatch: the tensor data is corrupted" "$bin" predict --model sp_flip.bin --data data.svm
bad "binary linear model: --save-state to a .json file" 2 "--save-state keeps the optimizer's state in a binary model file" "$bin" "${srun[@]}" --save sp2.json --save-state

# ---------------------------------------------------------------- GloVe files (embed)
# cooccurrence.bin: 16-byte records (int32 word1, int32 word2, float64 value), little-endian.
le32() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }
one='\x00\x00\x00\x00\x00\x00\xf0\x3f'  # 1.0
w corpus.txt 'the cat sat on the mat\nthe dog sat\n'
w vocab.txt 'the 3\nsat 2\ncat 1\n'
w vocab_fields.txt 'the 3\nsat 2 x\n'
w vocab_count.txt 'the 3\nsat -2\n'
w vocab_dup.txt 'the 3\nsat 2\nthe 1\n'
w vocab_empty.txt ''
bad "GloVe vocab: line not 'word count'" 1 "vocab_fields.txt:2: expected 'word count', found 3 fields" "$bin" embed cooccur --corpus corpus.txt --vocab vocab_fields.txt --out c.bin
bad "GloVe vocab: count not a positive integer" 1 "vocab_count.txt:2: field 'count': '-2' is not a positive integer" "$bin" embed cooccur --corpus corpus.txt --vocab vocab_count.txt --out c.bin
bad "GloVe vocab: duplicate word" 1 "vocab_dup.txt:3: field 'word': duplicate word 'the' (first on line 1)" "$bin" embed cooccur --corpus corpus.txt --vocab vocab_dup.txt --out c.bin
bad "GloVe vocab: empty file" 1 "vocab_empty.txt: the vocabulary file holds no words" "$bin" embed cooccur --corpus corpus.txt --vocab vocab_empty.txt --out c.bin
{ le32 1; le32 2; printf "$one"; le32 2; printf '\x01\x02\x03\x04\x05'; } > "$work/cut.bin"
{ le32 1; le32 2; printf "$one"; } > "$work/good.bin"
{ le32 1; le32 2; printf "$one"; le32 2; le32 9; printf "$one"; } > "$work/ids.bin"
{ le32 1; le32 2; printf '\x00\x00\x00\x00\x00\x00\xf8\x7f'; } > "$work/nanv.bin"
{ le32 1; le32 2; printf '\x00\x00\x00\x00\x00\x00\xf0\xbf'; } > "$work/negv.bin"
bad "GloVe cooccurrences: truncated record" 1 "cut.bin: truncated: 25 bytes is not a whole number of 16-byte records (int32 word1, int32 word2, float64 value); the last record, at byte offset 16, has only 9 bytes" "$bin" embed train --cooccur cut.bin --vocab vocab.txt --text-out v.txt
bad "GloVe cooccurrences: id beyond the vocabulary" 1 "ids.bin: field 'word2': record 2 (byte offset 16): word2 = 9 is outside 1..3" "$bin" embed train --cooccur ids.bin --vocab vocab.txt --text-out v.txt
bad "GloVe cooccurrences: nan count" 1 "nanv.bin: field 'value': record 1 (byte offset 0): value nan is not a finite positive count" "$bin" embed train --cooccur nanv.bin --vocab vocab.txt --text-out v.txt
bad "GloVe cooccurrences: negative count" 1 "negv.bin: field 'value': record 1 (byte offset 0): value -1 is not a finite positive count" "$bin" embed train --cooccur negv.bin --vocab vocab.txt --text-out v.txt
w vec_nan.txt 'the 0.5 abc\n'
w vec_range.txt 'the 0.5 1e39\n'
w vec_dim.txt 'the 1 2\nsat 1\n'
w vec_dup.txt 'the 1 2\nsat 3 4\nthe 5 6\n'
w vec_header.txt '3 2\nthe 1 2\nsat 3 4\n'
w vec_word.txt 'the 1 2\nlonely\n'
w vec_empty.txt ''
bad "GloVe text vectors: value not a number" 1 "vec_nan.txt:1: field 'value 2': 'abc' is not a number" "$bin" embed nearest --vectors vec_nan.txt the
bad "GloVe text vectors: value beyond float32" 1 "vec_range.txt:1: field 'value 2': '1e39' is out of float32 range" "$bin" embed nearest --vectors vec_range.txt the
bad "GloVe text vectors: dimension mismatch" 1 "vec_dim.txt:2: dimension mismatch: found 1 values, expected 2 (as on line 1)" "$bin" embed nearest --vectors vec_dim.txt the
bad "GloVe text vectors: duplicate word" 1 "vec_dup.txt:3: field 'word': duplicate word 'the' (first on line 1)" "$bin" embed nearest --vectors vec_dup.txt the
bad "GloVe text vectors: header count differs" 1 "vec_header.txt:1: the header announces 3 words, the file holds 2" "$bin" embed nearest --vectors vec_header.txt the
bad "GloVe text vectors: word without values" 1 "vec_word.txt:2: a word without values" "$bin" embed nearest --vectors vec_word.txt the
bad "GloVe text vectors: empty file" 1 "vec_empty.txt: no vectors in the file" "$bin" embed nearest --vectors vec_empty.txt the
zeros 100 > "$work/vec.bin"
bad "GloVe binary vectors: size not 2 V (d + 1) float64" 1 "vec.bin: 100 bytes is not 2 x 3 rows x (d + 1) float64 values for any d >= 1" "$bin" embed nearest --vectors vec.bin --vocab vocab.txt the
bad "GloVe binary vectors: --init of another vocabulary" 1 "vec.bin: 100 bytes is not 2 x 3 rows" "$bin" embed train --cooccur good.bin --vocab vocab.txt --init vec.bin --text-out v.txt --quiet
bad "GloVe binary vectors: no --vocab" 2 "a binary vectors file needs --vocab (it holds no words)" "$bin" embed nearest --vectors vec.bin the

# ---------------------------------------------------------------- flags
bad "flag: --lr not a number" 2 "field 'lr': 'abc' is not a number" "$bin" train --data iris --lr abc
bad "flag: --lr negative" 2 "adagrad: lr must be finite and >= 0, got -1" "$bin" train --data iris --lr -1
bad "flag: unknown optimizer" 2 "unknown optimizer 'nope'" "$bin" train --data iris --optimizer nope
bad "flag: bad schedule" 2 "unknown schedule 'bogus'" "$bin" train --data iris --schedule bogus
bad "flag: bad model spec" 2 "field 'model': '0' is not a positive integer" "$bin" train --data iris --model mlp:0
bad "flag: --batch-size 0" 2 "--batch-size: Value 0 not in range" "$bin" train --data iris --batch-size 0
bad "flag: --clip-norm negative" 2 "clip: max_norm must be finite and >= 0, got -1" "$bin" train --data iris --clip-norm -1
bad "flag: --on-nonfinite maybe" 2 "--on-nonfinite must be error or skip" "$bin" train --data iris --on-nonfinite maybe
bad "flag: --checkpoint-every without --checkpoint" 2 "--checkpoint-every needs --checkpoint DIR" "$bin" train --data iris --checkpoint-every 5
bad "flag: --resume of a file" 2 "--resume takes the directory given to --checkpoint" "$bin" train --data iris --resume iris.safetensors
bad "flag: unknown function (minimize)" 2 "field 'function': unknown function 'nope'" "$bin" minimize --function nope
bad "flag: compare spec without '='" 2 "optimizer option 'lr' is not key=value (in 'adagrad:lr')" "$bin" compare --optimizers adagrad:lr --seeds 1 --quiet train --data iris --epochs 1
bad "flag: embed --tokenizer nope" 2 "--tokenizer: nope not in {whitespace,words}" "$bin" embed cooccur --corpus corpus.txt --vocab vocab.txt --out c.bin --tokenizer nope
# ---------------------------------------------------------------- warm start, streams, serve
w wa.tsv 'pos\tgood film\nneg\tbad film\npos\tgreat fun\nneg\tdull plot\n'
w wb.tsv 'maybe\tgood plot\n'
(cd "$work" && "$bin" train --data wa.tsv --test-data wa.tsv --save wa.bin --save-state -q)
bad "warm start: another --ngram" 2 "wa.bin uses n-grams 1,1; --ngram would change what the model means" "$bin" train --init-model wa.bin --data wa.tsv --ngram 1,2
bad "warm start: another optimizer" 2 "wa.bin keeps the state of adagrad; continuing it with ftrl is another model" "$bin" train --init-model wa.bin --data wa.tsv --optimizer ftrl
bad "warm start: a class the model lacks" 1 "wb.tsv: field 'label': class 'maybe' is not one of the model's classes (neg, pos)" "$bin" train --init-model wa.bin --data wb.tsv --test-data wa.tsv
bad "warm start: not a model file" 2 "wa.tsv is not a sparse model file" "$bin" train --init-model wa.tsv --data wa.tsv
bad "stream: no --format" 2 "--data - (stdin) needs --format libsvm or --format text-tsv" "$bin" train --data -
bad "stream: no --classes" 2 "a stream without --init-model needs its classes: --classes A,B[,...]" "$bin" train --data - --format libsvm
bad "stream: a malformed line" 1 "stdin:2: field 'column 1': no tab" sh -c "printf 'pos\\tgood\\nno tab\\n' | '$bin' train --data - --format text-tsv --classes neg,pos"
bad "stream: --classes not numbers (LIBSVM)" 2 "field 'classes': 'yes' is not a number" "$bin" train --data - --format libsvm --classes yes,no
bad "stream: a class named twice" 2 "--classes names a class twice" "$bin" train --data - --format text-tsv --classes pos,pos
bad "flag: --progress-every -1" 2 "--progress-every: Value -1 not in range" "$bin" train --data wa.tsv --progress-every -1
bad "flag: --write-features ''" 2 "--write-features needs a directory name" "$bin" train --data wa.tsv --epochs 0 --write-features ''
bad "flag: --write-features on dense data" 2 "--write-features applies to sparse data" "$bin" train --data iris --epochs 0 --write-features wf
bad "flag: --write-features on stdin" 2 "--write-features writes the splits of a --data file" sh -c "printf 'pos\\tgood\\n' | '$bin' train --data - --format text-tsv --classes neg,pos --write-features wf"
w wf_file 'in the way\n'
bad "flag: --write-features DIR is a file" 1 "wf_file: field 'write-features': cannot create the directory" "$bin" train --data wa.tsv --epochs 0 --write-features wf_file
[ ! -e "$work/wf" ] && [ "$(cat "$work/wf_file")" = "in the way" ]; check "--write-features refused: no directory made, the file in the way untouched" $?
bad "serve: --top-k 0" 2 "--top-k: Value 0 not in range" "$bin" serve --model wa.bin --top-k 0
bad "serve: --max-line-bytes 3" 2 "--max-line-bytes: Value 3 not in range" "$bin" serve --model wa.bin --max-line-bytes 3
bad "serve: --port 70000" 2 "expected an IPv4 address and a port in [0, 65535], got 127.0.0.1:70000" "$bin" serve --model wa.bin --port 70000
bad "serve: --host not an address" 2 "expected an IPv4 address and a port in [0, 65535], got localhost:0" "$bin" serve --model wa.bin --port 0 --host localhost
bad "serve: --max-features 0" 2 "--max-features: Value 0 not in range" "$bin" serve --model wa.bin --max-features 0
bad "serve: --socket and --port" 2 "give one of --stdio, --socket PATH and --port N" "$bin" serve --model wa.bin --socket s --port 0
bad "serve: --snapshot-every without --save" 2 "--snapshot-every needs --save FILE" "$bin" serve --model wa.bin --snapshot-every 10
bad "serve: a missing model" 1 "nope.bin: field 'model': cannot open the model file" "$bin" serve --model nope.bin

bad "flag: embed --window 0" 2 "--window: Value 0 not in range 1 to 100000" "$bin" embed cooccur --corpus corpus.txt --vocab vocab.txt --out c.bin --window 0

# ---------------------------------------------------------------- explain (wa.bin: a text model from above)
w ex.svm '+1 1:0.5 3:1\n-1 2:1\n'
(cd "$work" && "$bin" train --data ex.svm --test-data ex.svm --save ex.bin -q)
bad "explain: --top 0" 2 "--top: Value 0 not in range" "$bin" explain --model wa.bin --text "good" --top 0
bad "explain: --top abc" 2 "--top" "$bin" explain --model wa.bin --text "good" --top abc
bad "explain: --top-features 0" 2 "--top-features: Value 0 not in range" "$bin" explain --model wa.bin --top-features 0
bad "explain: --rows 0" 2 "--rows: Value 0 not in range" "$bin" explain --model ex.bin --data ex.svm --rows 0
bad "explain: --rows without --data" 2 "--rows counts the rows of --data FILE" "$bin" explain --model wa.bin --text "good" --rows 1
bad "explain: no input" 2 "give --text \"...\", --data FILE or --top-features K" "$bin" explain --model wa.bin
bad "explain: --text on a LIBSVM model" 2 "--text needs a model trained on text (ex.bin was trained on LIBSVM features" "$bin" explain --model ex.bin --text "good"
bad "explain: an unknown --class" 2 "field 'class': no class 'maybe' (the classes: neg, pos)" "$bin" explain --model wa.bin --text "good" --class maybe
bad "explain: a missing model" 1 "nope.bin: field 'model': cannot open the model file" "$bin" explain --model nope.bin --text "good"
bad "train: --keep-bucket-names without --hash-bits" 2 "--keep-bucket-names names the columns of a hashed text model" "$bin" train --data wa.tsv --keep-bucket-names --save k.bin
bad "train: --keep-bucket-names without --save" 2 "--keep-bucket-names keeps the terms in the model file: give --save FILE" "$bin" train --data wa.tsv --hash-bits 8 --keep-bucket-names

# ---------------------------------------------------------------- importance and class weights
w wt.svm '1:2 1:1\n0 2:1\n1 1:1\n'
w wneg.svm '1 1:1\n0:-1 2:1\n'
w wtsv.tsv 'pos\t1\tgood film\nneg\theavy\tbad film\n'
w wshort.txt '1\n'
w wbad.txt '1\n1\nnan\n'
bad "weights: LIBSVM label:-1" 1 "wneg.svm:2: field 'column 1': the weight after the label (label:weight) is not a finite number >= 0: '0:-1'" "$bin" train --data wneg.svm
bad "weights: TSV weight not a number" 1 "wtsv.tsv:2: field 'weight': weight 'heavy' is not a finite number >= 0" "$bin" train --data wtsv.tsv --weight-column
bad "weights: --weights too short" 1 "wshort.txt: field 'weight': 1 weights for the 2 rows of the training data" "$bin" train --data data.svm --test-data data.svm --weights wshort.txt
bad "weights: --weights nan" 1 "wbad.txt:3: field 'weight': weight 'nan' is not a finite number >= 0" "$bin" train --data data.svm --weights wbad.txt
bad "weights: label:weight and --weights" 2 "field 'weights'" "$bin" train --data wt.svm --weights wbad.txt
bad "weights: --weight-column on LIBSVM" 2 "field 'weight-column': --weight-column is for text-tsv data" "$bin" train --data data.svm --weight-column
bad "weights: --class-weight unknown class" 2 "field 'class-weight': no class '7' (the classes: 0, 1)" "$bin" train --data data.svm --class-weight 7:1
bad "weights: --class-weight 1:-1" 2 "field 'class-weight': class '1': weight -1 is not a finite number >= 0" "$bin" train --data data.svm --class-weight 1:-1
bad "weights: --class-weight 1" 2 "field 'class-weight': '1' is not NAME:WEIGHT (or give 'balanced')" "$bin" train --data data.svm --class-weight 1
bad "weights: --class-weight on a regression" 2 "field 'class-weight': --class-weight applies to classification" "$bin" train --data data.svm --model linreg --class-weight 1:2

# ---------------------------------------------------------------- calibration (train --calibrate; docs/sparse.md)
bad "calibrate: --calibrate foo" 2 "field 'calibrate': 'foo' is not a calibration method: platt or isotonic" "$bin" train --data data.svm --calibrate foo
bad "calibrate: --calibration-split 0" 2 "field 'calibration-split': --calibration-split must be in (0, 1), got 0" "$bin" train --data data.svm --calibrate platt --calibration-split 0
bad "calibrate: --calibration-split 1.5" 2 "field 'calibration-split': --calibration-split must be in (0, 1), got 1.5" "$bin" train --data data.svm --calibrate isotonic --calibration-split 1.5
bad "calibrate: --calibration-split alone" 2 "field 'calibration-split': --calibration-split goes with --calibrate platt|isotonic" "$bin" train --data data.svm --calibration-split 0.2
bad "calibrate: split and file" 2 "field 'calibration-data': give --calibration-split or --calibration-data, not both" "$bin" train --data data.svm --calibrate platt --calibration-split 0.2 --calibration-data data.svm
bad "calibrate: on a regression" 2 "field 'calibrate': --calibrate calibrates class probabilities" "$bin" train --data data.svm --model linreg --calibrate platt
bad "calibrate: a stream from stdin" 2 "field 'calibrate': --calibrate holds rows of a --data file out of training" "$bin" train --data - --format libsvm --classes 0,1 --calibrate platt
bad "calibrate: with --save-state" 2 "field 'calibrate': --save-state keeps a model to train further" "$bin" train --data data.svm --calibrate platt --save-state --save cal.bin
bad "calibrate: dense data" 2 "field 'calibrate': --calibrate applies to sparse data" "$bin" train --data iris --calibrate platt
printf '{"format": "adakit.linear", "task": "logistic", "dim": 2, "classes": 2, "fit_bias": true, "bias": [0], "rows": [], "values": [], "calibration": %s}' \
  '{"method": "platt", "classes": 2, "columns": [{"a": -1, "b": "x"}]}' > "$work/calb.json"
bad "calibrate: a model file's malformed calibrator" 1 "calb.json: field 'calibration.columns[0].b': expected a number" "$bin" predict --model calb.json --data data.svm

# ---------------------------------------------------------------- losses and multilabel data (train --loss, predict --top-k / --threshold; docs/sparse.md)
bad "loss: --loss foo" 2 "field 'loss': 'foo' is not a loss: auto, logistic, softmax, ova, squared_hinge or squared" "$bin" train --data data.svm --loss foo
bad "loss: --loss on dense data" 2 "field 'loss': --loss names the loss of a sparse linear model" "$bin" train --data iris --loss ova
bad "loss: --model and --loss disagree" 2 "field 'loss': --model softmax and --loss ova name different models: give one" "$bin" train --data data.svm --model softmax --loss ova
bad "loss: --calibrate with ova" 2 "field 'calibrate': an ova model's class probabilities stand each on its own" "$bin" train --data data.svm --loss ova --calibrate platt
w ml.tsv 'a,b\tgoal team\nb\tvote law\n'
w ml_bad.tsv 'a,b\tgoal team\na,,b\tvote law\n'
bad "multilabel: an empty name in a TSV label set" 1 "ml_bad.tsv:2: field 'column 1': empty label in 'a,,b'" "$bin" train --data ml_bad.tsv --loss ova
w ml_bad.svm '1,x 1:1\n'
bad "multilabel: a LIBSVM label set with a non-number" 1 "ml_bad.svm:1: field 'column 1': a label of the set is not an integer" "$bin" train --data ml_bad.svm --loss ova
bad "multilabel: --class-weight on label sets" 2 "field 'class-weight': class weights weigh a row by its one class" "$bin" train --data ml.tsv --test-data ml.tsv --loss ova --class-weight balanced
(cd "$work" && "$bin" train --data ml.tsv --test-data ml.tsv --loss ova -q --save ml.bin) || check "an ova model to predict with" 1
bad "multilabel: predict --top-k 0" 2 "--top-k: Value 0 not in range 1 to 16777216" "$bin" predict --model ml.bin --data ml.tsv --top-k 0
bad "multilabel: predict --threshold 2" 2 "--threshold: Value 2 not in range 0.000000 to 1.000000" "$bin" predict --model ml.bin --data ml.tsv --threshold 2
bad "multilabel: serve --threshold 2" 2 "--threshold: Value 2 not in range 0.000000 to 1.000000" "$bin" serve --model ml.bin --threshold 2
(cd "$work" && "$bin" train --data data.svm --test-data data.svm --model linreg -q --save lr.bin) || check "a regression model" 1
bad "multilabel: --top-k on a regression" 2 "field 'top-k': a regression model has no classes to choose from" "$bin" predict --model lr.bin --data data.svm --top-k 2

# ---------------------------------------------------------------- autotune (train --autotune-validation; docs/sparse.md)
bad "autotune: --autotune-duration 0" 2 "field 'autotune-duration': --autotune-duration must be a number of seconds > 0" "$bin" train --data data.svm --autotune-validation data.svm --autotune-duration 0
bad "autotune: --autotune-duration abc" 2 "Could not convert: --autotune-duration = abc" "$bin" train --data data.svm --autotune-validation data.svm --autotune-duration abc
bad "autotune: --autotune-model-size abc" 2 "field 'autotune-model-size': 'abc' is not a size in bytes" "$bin" train --data data.svm --autotune-validation data.svm --autotune-model-size abc
bad "autotune: --autotune-duration alone" 2 "field 'autotune-duration': --autotune-duration needs --autotune-validation FILE" "$bin" train --data data.svm --autotune-duration 5
bad "autotune: dense data" 2 "field 'autotune-validation': --autotune-validation tunes sparse linear models" "$bin" train --data iris --autotune-validation data.svm
bad "autotune: with --resume" 2 "field 'resume': --resume does not go with --autotune-validation" "$bin" train --data data.svm --autotune-validation data.svm --resume ck

bad "workers: --workers 0" 2 "--workers: Value 0 not in range 1 to 16" "$bin" train --data data.svm --workers 0
bad "workers: --workers with ftrl" 2 "field 'workers': fit: workers > 1 mixes the workers' models by their sums of squared gradients; optimizer 'ftrl' keeps none" "$bin" train --data data.svm --workers 2 --optimizer ftrl
bad "workers: --workers with --checkpoint" 2 "field 'workers': --workers > 1 keeps no mid-run state for --checkpoint / --resume yet" "$bin" train --data data.svm --workers 2 --checkpoint ck
bad "fit-threads: --fit-threads 3" 2 "--fit-threads: Value 3 not in range 0 to 2" "$bin" train --data data.svm --fit-threads 3
bad "fit-threads: --fit-threads with --workers" 2 "field 'fit-threads': --fit-threads trains one learner on several threads, --workers trains several learners" "$bin" train --data data.svm --fit-threads 2 --workers 2

# ---------------------------------------------------------------- export (wa.bin: a text model from above)
bad "export: --prune -1" 2 "field 'prune': --prune must be a finite number >= 0" "$bin" export --model wa.bin --out wa.small --prune -1
bad "export: --prune nan" 2 "field 'prune': --prune must be a finite number >= 0" "$bin" export --model wa.bin --out wa.small --prune nan
bad "export: --prune abc" 2 "Could not convert: --prune = abc" "$bin" export --model wa.bin --out wa.small --prune abc
bad "export: --prune above every weight" 2 "field 'prune': --prune 1e+06 leaves no feature" "$bin" export --model wa.bin --out wa.small --prune 1e6
bad "export: --prune-weights -1" 2 "field 'prune-weights': --prune-weights must be a finite number >= 0" "$bin" export --model wa.bin --out wa.small --prune-weights -1
bad "export: --quantize foo" 2 "--quantize: foo not in {none,int8}" "$bin" export --model wa.bin --out wa.small --quantize foo
bad "export: --scale-by row" 2 "--scale-by: row not in {output,feature}" "$bin" export --model wa.bin --out wa.small --scale-by row
bad "export: --out in a missing directory" 2 "field 'out': --out nodir/wa.small: the directory nodir does not exist" "$bin" export --model wa.bin --out nodir/wa.small
bad "export: --out the model" 2 "field 'out': --out is the --model file" "$bin" export --model wa.bin --out ./wa.bin
bad "export: --out *.json" 2 "field 'out': --out wa.json: the exported model is a binary file" "$bin" export --model wa.bin --out wa.json
bad "export: a missing model" 1 "nope.bin: field 'model': cannot open the model file" "$bin" export --model nope.bin --out wa.small
bad "export: a data file as the model" 2 "wa.tsv is not a sparse model file" "$bin" export --model wa.tsv --out wa.small
bad "export: --epochs without --retrain-data" 2 "field 'epochs': --epochs sets how the kept features retrain: it needs --retrain-data FILE" "$bin" export --model wa.bin --out wa.small --epochs 3
bad "export: --retrain-data a missing file" 1 "nope.tsv" "$bin" export --model wa.bin --out wa.small --retrain-data nope.tsv
[ ! -e "$work/wa.small" ] && [ ! -e "$work/wa.json" ]; check "export: the refused runs wrote nothing" $?
(cd "$work" && "$bin" export --model wa.bin --out wa.small -q)
bad "export: train --init-model on a compact model" 2 "field 'init-model': wa.small is a compact model of adakit export" "$bin" train --init-model wa.small --data wa.tsv
bad "export: serve --learn on a compact model" 2 "field 'learn': a compact model of adakit export predicts only" "$bin" serve --model wa.small --learn

finish
