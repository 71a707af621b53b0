#!/usr/bin/env bash
# adakit train --workers N (parameter mixing, linear::FitOptions::workers): the model file does not
# depend on --threads, a second worker still learns the task, --json reports the worker count, and the
# combinations it cannot serve exit 2 naming the flag.
bin=$(realpath "${1:?usage: workers_test.sh path/to/adakit}")
. "$(dirname "$0")/harness.sh"
cd "$work"

awk 'BEGIN { srand(3); split("cat dog fish|car bus train|red blue green", g, "|");
       for (i = 0; i < 300; i++) { t = i % 3; split(g[t + 1], w, " "); s = "";
         for (k = 0; k < 4; k++) s = s (k ? " " : "") (rand() < 0.7 ? w[1 + int(rand() * 3)] : "word" int(rand() * 9));
         print (t == 0 ? "animal" : t == 1 ? "vehicle" : "colour") "\t" s } }' > topics.tsv
train() { "$bin" "$@" --epochs 4 --batch-size 1 --lr 0.5 --seed 2 -q; }

train --threads 1 train --data topics.tsv --model softmax --workers 2 --save t1.bin; check "--workers 2 on one thread" $?
train --threads 2 train --data topics.tsv --model softmax --workers 2 --save t2.bin; check "--workers 2 on two threads" $?
cmp -s t1.bin t2.bin; check "--workers 2: the same model file on 1 and 2 threads" $?
train --threads 2 train --data topics.tsv --model softmax --workers 3 --save t3.bin
cmp -s t2.bin t3.bin; [ $? -ne 0 ]; check "the worker count changes the model" $?
train --threads 2 train --data topics.tsv --model softmax --workers 2 --json > j.json
grep -q '"workers":2' j.json; check "--json reports the workers" $?
acc=$(sed 's/.*"test_accuracy":\([0-9.e+-]*\).*/\1/' j.json)
awk -v a="$acc" 'BEGIN { exit !(a >= 0.9) }'; check "two workers learn the three topics (test accuracy $acc)" $?

expect_code "--workers 0" 2 train train --data topics.tsv --workers 0
expect_code "--workers 17" 2 train train --data topics.tsv --workers 17
expect_code "--workers with ftrl" 2 "$bin" train --data topics.tsv --workers 2 --optimizer ftrl -q
grep -q "field 'workers'" err; check "--workers with ftrl names the flag" $?
expect_code "--workers with --checkpoint" 2 train train --data topics.tsv --workers 2 --checkpoint ck
grep -q "field 'workers'" err; check "--workers with --checkpoint names the flag" $?
expect_code "--workers with --progress-every" 2 train train --data topics.tsv --workers 2 --progress-every 10
expect_code "--workers on a stream" 2 sh -c "cat topics.tsv | '$bin' train --data - --format text-tsv --classes animal,colour,vehicle --workers 2"
expect_code "--workers on dense data" 2 train train --data iris --workers 2
grep -q "field 'workers'" err; check "--workers on dense data names the flag" $?
finish
