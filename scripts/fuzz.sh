#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan, in build-fuzz/) and runs each for a
# fixed number of inputs, starting from its committed seed corpus (fuzz/corpus/<target>/). A crash, a
# sanitizer report, a leak, an input slower than 10 s or using more than 2 GiB is a finding: the input
# is kept under build-fuzz/findings/ and the script exits 1.
#
#   scripts/fuzz.sh [RUNS] [TARGET...]   RUNS per target (default 20000); all targets by default
#   scripts/fuzz.sh --seeds              rewrite fuzz/corpus/ (fuzz/make_seeds.cpp, plus a gzip seed)
#
# Needs clang-14 and libclang-rt-14-dev (libFuzzer) and libomp-14-dev; CXX overrides the compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ADAKIT_FUZZ_BUILD:-build-fuzz}
targets_all=(csv libsvm text_tsv idx cifar safetensors checkpoint linear_checkpoint linear_model model_json glove serve_request)
cxx=${CXX:-clang++-14}
generator=$(command -v ninja > /dev/null && echo "-G Ninja" || true)

# shellcheck disable=SC2086
cmake -S . -B "$build" $generator -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" \
  -DADAKIT_FUZZ=ON -DADAKIT_NATIVE=OFF -DADAKIT_BUILD_TESTS=OFF -DADAKIT_BUILD_TOOLS=OFF -DADAKIT_BUILD_BENCH=OFF > /dev/null
if [ "${1:-}" = "--seeds" ]; then
  cmake --build "$build" -j "${JOBS:-2}" --target fuzz_make_seeds
  rm -rf fuzz/corpus
  "$build/fuzz/fuzz_make_seeds" fuzz/corpus
  printf 'a,b,label\n1,2,yes\n3,4,no\n' | gzip -9n > fuzz/corpus/csv/gzip
  find fuzz/corpus -type f | sort
  exit 0
fi
runs=${1:-20000}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${targets_all[@]}")
cmake --build "$build" -j "${JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")

mkdir -p "$build/findings"
failed=0
printf '%-12s %10s %8s %s\n' target executions seconds result
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"  # new inputs go here; the committed seeds stay as they are
  mkdir -p "$corpus"
  log="$build/fuzz_$t.log"
  start=$(date +%s)
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/fuzz_$t" -runs="$runs" -seed=1 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/findings/$t-" "$corpus" "fuzz/corpus/$t" > "$log" 2>&1
  code=$?
  set -e
  seconds=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $code -eq 0 ]; then result=clean; else result="FINDING (exit $code, see $log)"; failed=1; fi
  printf '%-12s %10s %8s %s\n' "$t" "${execs:-?}" "$seconds" "$result"
done
exit $failed
