#!/bin/sh
# Installs every build, test and fixture dependency of stagecheck from Debian
# packages (the Python ones run the fixture generators, so that the test of
# their reproducibility runs in CI instead of skipping). Idempotent:
# packages already present are not fetched again.
# Usage (as root on Debian 12): scripts/install-deps.sh
set -eu

packages="
  build-essential cmake pkg-config git
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev
  libyaml-dev libpng-dev libjpeg62-turbo-dev libjson-c-dev
  libopenblas-dev libopenblas0-pthread
  libcmocka-dev libonnx-testdata
  clang-format libclang-rt-14-dev
  chromium fonts-dejavu-core
  python3-onnx python3-numpy python3-opencv python3-skimage python3-pil
"

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
