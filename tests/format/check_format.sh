#!/bin/sh
# Fails when a C source or header differs from what clang-format makes of it
# (.clang-format at the repository root).
set -u
root=${1:-$(dirname "$0")/../..}
cd "$root" || exit 1
if ! command -v clang-format >/dev/null 2>&1; then
  echo "clang-format not installed (scripts/install-deps.sh installs it)"
  exit 1
fi
bad=0
for f in $(find runtime loaders transforms compare verifier tests bench \
             -name node_modules -prune -o -name '*.[ch]' -print 2>/dev/null | sort); do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    bad=1
  fi
done
[ "$bad" = 0 ] && echo "format: all sources formatted"
exit "$bad"
