#!/bin/sh
# report.html renders in a real browser (issue 6): a sample report (two
# pairs, built in code by render_report) is opened in headless Chromium,
# once for a screenshot and once for the DOM as the browser parsed it.
# The screenshot must be a real page (png_check: many colours, not all
# background) and the DOM must keep the verdict, one section per pair, the
# SVG charts with their drawn series, the definitions and the escaped
# names as text.
#
#   test_html_chromium.sh RENDER_REPORT PNG_CHECK
#
# Exit 0 when it passes, 1 when it fails, 77 (skipped) when
# /usr/bin/chromium is not installed. With SC_HTML_OUT=DIR the report, the
# screenshot and the DOM are kept in DIR.
set -u

chromium=/usr/bin/chromium
render=${1:?usage: test_html_chromium.sh RENDER_REPORT PNG_CHECK}
png_check=${2:?usage: test_html_chromium.sh RENDER_REPORT PNG_CHECK}

if [ ! -x "$chromium" ]; then
  echo "skipped: chromium not installed ($chromium)"
  exit 77
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
out=${SC_HTML_OUT:-$tmp/out}
mkdir -p "$out" || exit 1
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# Runs Chromium headless on the report with a fresh profile; extra
# arguments select the output. stderr goes to $tmp/chromium.log.
browse() {
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu \
    --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$tmp/profile.XXXXXX")" \
    "$@" "file://$out/report.html" 2>>"$tmp/chromium.log"
}

show_log() {
  echo "--- chromium stderr (last lines) ---"
  tail -n 20 "$tmp/chromium.log"
}

# count PATTERN FILE: how many times a fixed string occurs.
count() {
  grep -o -F -e "$1" "$2" | wc -l | tr -d ' '
}

if ! "$render" "$out/report.html"; then
  echo "FAIL: render_report could not write the report"
  exit 1
fi

# 1. the screenshot
browse --screenshot="$out/report.png" --window-size=1280,2000 >/dev/null
status=$?
if [ "$status" -ne 0 ]; then
  fail "chromium --screenshot exited with $status (124: timed out)"
  show_log
elif [ ! -f "$out/report.png" ]; then
  fail "chromium wrote no screenshot"
  show_log
else
  size=$(wc -c <"$out/report.png" | tr -d ' ')
  if [ "$size" -lt 20000 ]; then
    fail "screenshot is only $size bytes: a blank or broken page"
  fi
  "$png_check" "$out/report.png" 200 || fail "screenshot is not a rendered page"
fi

# 2. the DOM as Chromium parsed it
browse --dump-dom >"$out/dom.html"
status=$?
if [ "$status" -ne 0 ] || [ ! -s "$out/dom.html" ]; then
  fail "chromium --dump-dom exited with $status or wrote nothing"
  show_log
else
  dom=$out/dom.html
  # expect WHAT PATTERN MIN: PATTERN occurs at least MIN times in the DOM
  expect() {
    n=$(count "$2" "$dom")
    if [ "$n" -lt "$3" ]; then
      fail "DOM has $n of $1 ($2), expected at least $3"
    fi
  }
  # exactly WHAT PATTERN N
  exactly() {
    n=$(count "$2" "$dom")
    if [ "$n" -ne "$3" ]; then
      fail "DOM has $n of $1 ($2), expected $3"
    fi
  }
  exactly "verdict element" '<div id="verdict" class="fail">' 1
  exactly "pair sections" '<section class="pair"' 2
  exactly "pair section float -> optimized" \
    'data-reference="float" data-target="optimized"' 1
  exactly "pair section optimized -> quantized" \
    'data-reference="optimized" data-target="quantized"' 1
  exactly "cosine charts" '<svg class="chart cosine"' 2
  exactly "SQNR charts" '<svg class="chart sqnr"' 2
  exactly "ranked-loss charts" '<svg class="chart ranked"' 2
  expect "per-channel charts" '<svg class="chart channels"' 1
  exactly "closed SVG elements" '</svg>' \
    "$(count '<svg' "$dom")"
  expect "accumulated series" '<path class="line acc" d="M' 4
  expect "isolated series" '<path class="line iso" d="M' 4
  expect "threshold lines" '<path class="thr" d="M' 3
  expect "first-divergence marker" '<line class="div"' 2
  expect "bars" '<rect class="bar fail"' 1
  exactly "definitions" '<section id="definitions">' 1
  expect "row table rows" '<tr id="p1-r' 48
  # the hostile tensor name stayed text: escaped, no element made of it
  expect "escaped tensor name" 'block&lt;1&gt;/conv "a&amp;b"_output_0' 1
  exactly "elements made from names" '<1>' 0
  exactly "elements made from names" '<inline>' 0
fi

if [ "$failures" -ne 0 ]; then
  if [ -n "${SC_HTML_OUT:-}" ]; then
    echo "test_html_chromium: $failures check(s) failed (artefacts in $out)"
  else
    echo "test_html_chromium: $failures check(s) failed (rerun with" \
      "SC_HTML_OUT=DIR to keep the report, screenshot and DOM)"
  fi
  exit 1
fi
echo "test_html_chromium: ok (report, screenshot and DOM checked)"
exit 0
