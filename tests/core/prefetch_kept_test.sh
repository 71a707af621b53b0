#!/usr/bin/env bash
# The sparse loops' prefetch hints reach the machine code. A hint changes no value, so no numeric test
# can miss one; GCC 12 once deleted every call to the linear path's prefetching helpers as "pure"
# (include/adakit/core/prefetch.hpp). This reads the built library's disassembly and asks for a
# prefetch instruction in each function that should issue them.
lib=${1:?usage: prefetch_kept_test.sh path/to/libadakit.a}
command -v objdump > /dev/null || { echo "objdump not found: skipped"; exit 0; }
case "$(uname -m)" in
  x86_64|i?86) insn='prefetch' ;;
  aarch64|arm*) insn='prfm' ;;
  *) echo "no prefetch instruction known for $(uname -m): skipped"; exit 0 ;;
esac
counts=$(mktemp); trap 'rm -f "$counts"' EXIT
# "function name<TAB>count of prefetch instructions in it", demangled.
objdump -d --no-show-raw-insn -C "$lib" 2>/dev/null |
  awk -v insn="$insn" '/^[0-9a-f]+ <.*>:$/ { fn = $0; next } index($0, "\t" insn) > 0 { n[fn]++ } END { for (f in n) print f "\t" n[f] }' > "$counts"
fails=0
for want in 'linear::detail::FitThreads::run' 'linear::detail::prefetch_model_rows' 'optim::(anonymous namespace)::update_sorted_rows' \
            'embed::(anonymous namespace)::run_slice'; do
  if grep -qF "$want" "$counts"; then echo "ok: $want"
  else echo "FAIL: no $insn instruction in $want"; fails=$((fails + 1)); fi
done
[ "$fails" -eq 0 ]
