#!/usr/bin/env bash
# Importance and class weights through adakit train: the three ways to give per-row weights (LIBSVM
# label:weight, a TSV weight column, a --weights file) train the same model, byte for byte; a
# --class-weight run is the run of the per-row weights it stands for; --class-weight balanced reports
# scikit-learn's n / (classes · count) in --json; all-ones weights are no weights (dense models too);
# bad values exit 2
# naming the flag (1 naming the file and line for a bad weight in a data or weights file).
bin=$(realpath "${1:?usage: weights_test.sh path/to/adakit}")
. "$(dirname "$0")/harness.sh"
cd "$work"

train() { "$bin" train --epochs 5 --batch-size 2 --lr 0.3 --seed 4 -q "$@"; }
same() { cmp -s "$1" "$2"; }

# ---- data: a LIBSVM file and a three-topic text file, each with a weight per row
awk 'BEGIN { srand(7); for (i = 0; i < 60; i++) { y = i % 3 == 0; w = (i % 5) * 0.5;
       s = y; for (k = 1; k <= 6; k++) if (rand() < 0.5) s = s " " k ":" (y ? 1 : -1) * rand() + rand() * 0.3;
       print s > "plain.svm"; print w > "w.txt";
       sub(/^[01]/, y ":" w, s); print s > "weighted.svm" } }'
awk 'BEGIN { srand(3); split("cat dog fish|car bus train|red blue green", g, "|");
       for (i = 0; i < 90; i++) { t = i % 3; split(g[t + 1], w, " "); s = "";
         for (k = 0; k < 4; k++) s = s (k ? " " : "") (rand() < 0.7 ? w[1 + int(rand() * 3)] : "word" int(rand() * 9));
         name = t == 0 ? "animal" : t == 1 ? "vehicle" : "colour"; wt = 1 + (i % 4);
         print name "\t" s > "topics.tsv"; print name "\t" wt "\t" s > "topics_w.tsv"; print wt > "tw.txt";
         print (t == 0 ? 3 : t == 1 ? 0.5 : 1) > "cw.txt"; print 1 > "ones.txt" } }'

# ---- three spellings of the same weights, one model
train --data weighted.svm --test-data plain.svm --save a.json; check "LIBSVM label:weight trains" $?
train --data plain.svm --test-data plain.svm --weights w.txt --save b.json; check "--weights trains" $?
same a.json b.json; check "label:weight and --weights give the same model file" $?
train --data plain.svm --test-data plain.svm --save c.json
same a.json c.json; [ $? -ne 0 ]; check "the weights change the model" $?

train --data topics_w.tsv --weight-column --test-data topics_w.tsv --model softmax --save t1.json
check "--weight-column trains" $?
train --data topics.tsv --test-data topics.tsv --weights tw.txt --model softmax --save t2.json
same t1.json t2.json; check "--weight-column and --weights give the same text model" $?

# ---- class weights are the per-row weights they stand for; all-ones weights are none
train --data topics.tsv --test-data topics.tsv --model softmax --class-weight animal:3,vehicle:0.5 --save k1.json
check "--class-weight NAME:W trains (an unnamed class weighs 1)" $?
train --data topics.tsv --test-data topics.tsv --model softmax --weights cw.txt --save k2.json
same k1.json k2.json; check "--class-weight is the run of the per-row weights it stands for" $?
train --data topics.tsv --test-data topics.tsv --model softmax --save n1.json
train --data topics.tsv --test-data topics.tsv --model softmax --weights ones.txt --save n2.json
same n1.json n2.json; check "weights of 1 are no weights" $?

# ---- balanced: n / (classes · count_c); plain.svm has 20 rows of class 1 and 40 of class 0
train --data plain.svm --test-data plain.svm --class-weight balanced --json > j.json
check "--class-weight balanced --json" $?
grep -q '"class_weights":{"0":0.75,"1":1.5}' j.json; check "balanced weights 60/(2·40) and 60/(2·20) in --json" $?
train --data weighted.svm --test-data plain.svm --json > jw.json
grep -q '"train_weight_sum":' jw.json; check "--json reports the training weight sum" $?

# ---- dense models: the class-weighted mean of torch.nn.CrossEntropyLoss(weight=...); weights of 1 are none
dense() { "$bin" train --data iris --epochs 3 --seed 2 -q "$@"; }
dense --save d0.safetensors; dense --class-weight setosa:1,versicolor:1,virginica:1 --save d1.safetensors
cmp -s d0.safetensors d1.safetensors; check "dense: class weights of 1 give the model of none" $?
dense --class-weight virginica:4 --save d2.safetensors
cmp -s d0.safetensors d2.safetensors; [ $? -ne 0 ]; check "dense: a class weight changes the model" $?
dense --class-weight balanced --json > dj.json; check "dense: --class-weight balanced" $?
grep -q '"class_weights":{"setosa":' dj.json; check "dense: --json reports the class weights" $?
expect_code "dense: unknown class" 2 dense --class-weight rose:2
grep -q "field 'class-weight': no class 'rose'" err; check "dense: an unknown class names the flag" $?
expect_code "dense: --weights" 2 dense --weights w.txt
grep -q "field 'weights'" err; check "dense: --weights (sparse only) names the flag" $?

# ---- bad values: the flag (exit 2) or the file and line (exit 1) named
printf 'pos\tx\tgood film\n' > badw.tsv
printf '1\n1\n' > short.txt
expect_code "--class-weight unknown class" 2 train --data plain.svm --class-weight 7:1
grep -q "field 'class-weight'.*no class '7'" err; check "an unknown class names the flag" $?
expect_code "--class-weight negative" 2 train --data plain.svm --class-weight 1:-1
grep -q "field 'class-weight'" err; check "a negative class weight names the flag" $?
expect_code "--class-weight without a weight" 2 train --data plain.svm --class-weight 1
expect_code "--class-weight twice" 2 train --data plain.svm --class-weight 1:1,1:2
expect_code "--class-weight on a regression" 2 train --data plain.svm --model linreg --class-weight 1:2
expect_code "--weight-column on LIBSVM" 2 train --data plain.svm --weight-column
grep -q "field 'weight-column'" err; check "--weight-column on LIBSVM names the flag" $?
expect_code "--weights with too few lines" 1 train --data plain.svm --weights short.txt
grep -q "short.txt: field 'weight': 2 weights for the 60 rows" err; check "a short weights file names the file" $?
expect_code "--weights missing file" 1 train --data plain.svm --weights nofile.txt
expect_code "a bad TSV weight" 1 train --data badw.tsv --weight-column
grep -q "badw.tsv:1: field 'weight'" err; check "a bad TSV weight names file, line and field" $?
printf '1:2 1:1\n0 2:1\n' > both.svm; printf '1\n1\n' > two.txt
expect_code "label:weight and --weights together" 2 train --data both.svm --weights two.txt
finish
