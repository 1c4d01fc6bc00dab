#!/bin/sh
# Regenerates the README's operator table from the registry.
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build >/dev/null
cmake --build build --target ops_table >/dev/null
build/tests/ops_table --write README.md
