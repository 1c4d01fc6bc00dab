#!/bin/sh
# Installs what is missing (Debian packages), builds stagecheck, and runs the
# main job on a bundled example: a model directory with all four stages
# (float, optimized, quantized, compiled + device dump) and a known fault.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"

example=fixtures/models/tiny_cls_weight_per_tensor
echo
echo "== stagecheck verify $example"
set +e
build/stagecheck verify "$example" --report-dir build/example-report \
  --format text,json,html,junit,csv
code=$?
set -e
case $code in
  0) echo "verify passed (exit 0)" ;;
  1) echo "verify found the example's known fault and exited 1, as a CI gate" \
          "would; reports are in build/example-report/" ;;
  *) exit "$code" ;;
esac
