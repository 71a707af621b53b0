#!/usr/bin/env bash
# Installs the built tree into a temporary prefix, then builds and runs tests/install/consumer
# against it with find_package(adakit); given a Python interpreter (5th argument), also imports and
# steps the installed Python package.
set -euo pipefail
build_dir=$1; consumer_src=$2; cmake_bin=$3; generator=$4; python=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cmake_bin" --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/adakit/adakit.hpp"
test -f "$work/prefix/lib/cmake/adakit/adakitConfig.cmake" || test -f "$work/prefix/lib64/cmake/adakit/adakitConfig.cmake"
test -x "$work/prefix/bin/adakit"
"$cmake_bin" -S "$consumer_src" -B "$work/build" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
"$cmake_bin" --build "$work/build" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
"$work/build/consumer"
if [ -n "$python" ]; then  # the Python package: installed under lib/python3.X/dist-packages, importable
  pkg=$(echo "$work"/prefix/lib/python3*/dist-packages)
  test -f "$pkg/adakit/__init__.py"
  PYTHONPATH="$pkg" "$python" -c "import adakit, numpy as np
w = np.ones(2, np.float32); adakit.SGD([w], lr=0.5).step([np.ones(2, np.float32)])
assert adakit.__file__.startswith('$pkg') and w.tolist() == [0.5, 0.5]"
  echo "install test: the installed Python package imports and steps"
fi
echo "install test: OK (installed to a temporary prefix, consumer built and ran)"
