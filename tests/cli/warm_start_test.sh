#!/usr/bin/env bash
# adakit train --init-model (sparse models) and --data - (stdin): the model after a warm start or a
# stream is byte-identical to one run over the same examples in the same order (cmp of the files);
# flags that change a saved model's meaning are refused; tf-idf keeps its idf; progressive validation.
bin=$(realpath "${1:?usage: warm_start_test.sh path/to/adakit}")
. "$(dirname "$0")/harness.sh"
cd "$work"

# A toy sentiment task: 1200 lines over 300 words, B bringing 40 words A never had; LIBSVM alike.
awk 'BEGIN { srand(7); for (i = 0; i < 1300; i++) { n = 3 + int(rand() * 10); s = ""; score = 0;
       for (k = 0; k < n; k++) { w = int(rand() * 300); score += (w < 50) - (w >= 50 && w < 100);
         s = s (k ? " " : "") "w" w }
       if (i >= 600 && i < 1200) s = s " new" int(rand() * 40);
       lab = (score > 0 || (score == 0 && rand() < 0.5)) ? "pos" : "neg";
       line = lab "\t" s
       if (i < 600) print line > "A.tsv"; else if (i < 1200) print line > "B.tsv"; else print line > "T.tsv";
       if (i < 1200) print line > "AB.tsv" } }'
awk 'BEGIN { srand(11); for (i = 0; i < 1300; i++) { k = 2 + int(rand() * 8); top = (i < 600 || i >= 1200) ? 400 : 700;
       s = ""; last = 0; sum = 0; for (j = 0; j < k; j++) { last += 1 + int(rand() * top / k); sum += last;
         s = s " " last ":" int(rand() * 1000) / 1000 }
       line = ((sum % 3) ? "+1" : "-1") s
       if (i < 600) print line > "A.svm"; else if (i < 1200) print line > "B.svm"; else print line > "T.svm";
       if (i < 1200) print line > "AB.svm" } }'

train() { "$bin" train --epochs 1 --no-shuffle -q "$@"; }

# ---- warm start: A, then B from A's file == one pass over A then B
for ext in tsv svm; do
  for opt in "adagrad --initial-accumulator-value 0.1" "adagrad-l1 --l1 0.01 --l2 0.1" "sgd --l1 0.001 --l2 0.01" \
             "ftrl --l1 0.5" "adagrad-rda --l1 0.01"; do
    for bs in 1 8; do
      name="$ext ${opt%% *} batch $bs"
      train --data A.$ext --test-data T.$ext --batch-size $bs --optimizer $opt --save a.bin --save-state &&
        train --init-model a.bin --data B.$ext --test-data T.$ext --batch-size $bs --save ab.bin --save-state &&
        train --data AB.$ext --test-data T.$ext --batch-size $bs --optimizer $opt --save one.bin --save-state
      st=$?; check "$name: all three runs" $st
      cmp -s ab.bin one.bin; check "$name: A then B is byte-identical to one pass over A and B" $?
    done
  done
done

train --data A.tsv --test-data T.tsv --hash-bits 12 --binary --batch-size 1 --save a.bin --save-state &&
  train --init-model a.bin --data B.tsv --test-data T.tsv --batch-size 1 --save ab.bin --save-state &&
  train --data AB.tsv --test-data T.tsv --hash-bits 12 --binary --batch-size 1 --save one.bin --save-state
cmp -s ab.bin one.bin; check "hashed binary text: A then B is byte-identical to one pass" $?

# The warm start's report: B's new words, the state kept; the weights are the one pass's.
train --data A.tsv --test-data T.tsv --save a.bin --save-state
"$bin" train --init-model a.bin --data B.tsv --test-data T.tsv --epochs 1 --no-shuffle --json > out.json
grep -q '"init_model":{"features_added":40,"features_before":300,"optimizer_state":true,"path":"a.bin","vocabulary":"grown"}' out.json
check "--json reports the warm start (40 new words, the state kept)" $?

# A stream: stdin in one pass equals the file in one pass, text and LIBSVM, fresh and warm.
train --data AB.tsv --test-data T.tsv --batch-size 4 --optimizer adagrad-l1 --l1 0.01 --save one.bin --save-state
"$bin" train --data - --format text-tsv --classes pos,neg --batch-size 4 --optimizer adagrad-l1 --l1 0.01 \
  --save st.bin --save-state -q --progress-every 250 < AB.tsv
st=$?; check "stdin text trains" $st
cmp -s st.bin one.bin; check "stdin text == the file in one pass" $?
train --data A.svm --test-data T.svm --optimizer ftrl --batch-size 1 --save a.bin --save-state
train --data AB.svm --test-data T.svm --optimizer ftrl --batch-size 1 --save one.bin --save-state
"$bin" train --init-model a.bin --data - --batch-size 1 --save st.bin --save-state -q < B.svm
cmp -s st.bin one.bin; check "stdin LIBSVM after --init-model == the file in one pass" $?
train --data AB.tsv --test-data T.tsv --hash-bits 12 --batch-size 2 --save one.bin --save-state
"$bin" train --data - --format text-tsv --classes neg,pos --hash-bits 12 --batch-size 2 --save st.bin --save-state -q < AB.tsv
cmp -s st.bin one.bin; check "stdin hashed text == the file in one pass" $?
"$bin" train --data - --format libsvm --classes=-1,+1 --save fresh.bin -q < AB.svm
"$bin" predict --model fresh.bin --data T.svm > /dev/null; check "a streamed model predicts" $?

# Progressive validation: every N examples, on stderr and in --json.
"$bin" train --data - --format text-tsv --classes neg,pos --progress-every 500 --batch-size 4 < AB.tsv 2> err > out
[ "$(grep -c '^progressive examples' err)" -eq 3 ] && grep -q 'progressive examples 1000 ' err
check "--progress-every 500 reports at 500, 1000 and the end (1200)" $?
"$bin" train --data - --format text-tsv --classes neg,pos --progress-every 500 --json < AB.tsv > out.json
grep -q '"progressive":{"accuracy":[0-9.]*,"examples":1200,"loss":[0-9.]*,"reports":\[{' out.json
check "--json carries the progressive reports" $?
"$bin" train --data AB.tsv --test-data T.tsv --progress-every 400 --batch-size 8 --epochs 2 2> err > /dev/null
[ "$(grep -c '^progressive examples' err)" -eq 6 ]; check "--progress-every on a file counts over epochs" $?
if command -v script > /dev/null; then
  script -qec "$bin train --data - --format text-tsv --classes neg,pos --progress-every 500 < AB.tsv" /dev/null > tty.txt
  grep -q $'\r' tty.txt; check "on a terminal the progress lines redraw (\\r)" $?
fi
grep -q $'\r' err; [ $? -ne 0 ]; check "piped, progress is plain lines" $?

# tf-idf: the vocabulary and idf stay as first fitted (the model's meaning); B's new words are ignored.
train --data A.tsv --test-data T.tsv --tfidf --save a.bin --save-state
"$bin" train --init-model a.bin --data B.tsv --test-data T.tsv --epochs 1 --save ab.bin --save-state --json > out.json
grep -q '"features_added":0' out.json && grep -q '"vocabulary":"frozen"' out.json
check "tf-idf: frozen vocabulary" $?
"$bin" predict --model ab.bin --text "w1 w2 new3" > /dev/null; check "the continued tf-idf model predicts" $?
# The idf and the terms are A's, byte for byte (the tensors of both safetensors files).
tensor() { /usr/bin/python3 -c '
import json, struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]; t = json.loads(b[8:8 + n])[sys.argv[2]]
sys.stdout.write(b[8 + n + t["data_offsets"][0]:8 + n + t["data_offsets"][1]].hex())' "$@"; }
[ "$(tensor a.bin vectorizer.idf)" = "$(tensor ab.bin vectorizer.idf)" ] &&
  [ "$(tensor a.bin vectorizer.terms)" = "$(tensor ab.bin vectorizer.terms)" ] &&
  [ "$(tensor a.bin weight.values)" != "$(tensor ab.bin weight.values)" ]
check "tf-idf: idf and terms unchanged by the warm start (the weights did change)" $?
train --data A.tsv --test-data T.tsv --save a2.bin --save-state
"$bin" train --init-model a2.bin --data B.tsv --test-data T.tsv --freeze-vocabulary --json -q --epochs 1 > out.json
grep -q '"features_added":0' out.json; check "--freeze-vocabulary keeps a count vocabulary" $?

# ---- refusals: exit 2, the flag named
train --data A.tsv --test-data T.tsv --save a.bin --save-state
train --data A.tsv --test-data T.tsv --save nostate.bin
train --data A.tsv --test-data T.tsv --optimizer ftrl --save ftrl.bin
expect_code "another --model" 2 "$bin" train --init-model a.bin --data B.tsv --model softmax
grep -q -- "--model would change what the model means" "$work/err"; check "  names --model" $?
expect_code "other n-grams" 2 "$bin" train --init-model a.bin --data B.tsv --ngram 1,2
grep -q -- "--ngram" "$work/err"; check "  names --ngram" $?
expect_code "hashing" 2 "$bin" train --init-model a.bin --data B.tsv --hash-bits 10
expect_code "tf-idf" 2 "$bin" train --init-model a.bin --data B.tsv --tfidf
expect_code "LIBSVM data for a text model" 2 "$bin" train --init-model a.bin --data B.svm
expect_code "another optimizer than the saved state's" 2 "$bin" train --init-model a.bin --data B.tsv --optimizer ftrl
grep -q "keeps the state of adagrad" "$work/err"; check "  says which state" $?
expect_code "--resume with --init-model" 2 "$bin" train --init-model a.bin --data B.tsv --resume d
expect_code "ftrl without its state" 2 "$bin" train --init-model ftrl.bin --data B.tsv --optimizer ftrl
expect_code "a dense model file" 2 "$bin" train --init-model T.tsv --data B.tsv
printf 'maybe\tw1 w2\n' > C.tsv
expect_code "a class the model lacks" 1 "$bin" train --init-model a.bin --data C.tsv --test-data T.tsv
grep -q "'maybe' is not one of the model's classes" "$work/err"; check "  names the class" $?
"$bin" train --init-model nostate.bin --data B.tsv --test-data T.tsv -q 2> err; st=$?
check "no state: continues with a fresh optimizer" $st
expect_code "stdin without --format" 2 "$bin" train --data - < A.tsv
expect_code "stdin without --classes" 2 "$bin" train --data - --format text-tsv < A.tsv
expect_code "stdin with --epochs 3" 2 "$bin" train --data - --format text-tsv --classes neg,pos --epochs 3 < A.tsv
expect_code "stdin with --tfidf" 2 "$bin" train --data - --format text-tsv --classes neg,pos --tfidf < A.tsv
expect_code "--classes with a file" 2 "$bin" train --data A.tsv --classes neg,pos
{ head -5 A.tsv; echo "no tab here"; } > bad.tsv
expect_code "a malformed stdin line" 1 "$bin" train --data - --format text-tsv --classes neg,pos < bad.tsv
grep -q "stdin:6" "$work/err"; check "  names stdin and its line" $?
finish
