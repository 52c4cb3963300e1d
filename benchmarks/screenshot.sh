#!/usr/bin/env bash
# Screenshots of the asv HTML report (run `asv publish` first): the main page
# and one graph, as PNG files in .asv/screenshots/, with headless Chromium
# (Debian's `chromium` package: apt-get install chromium).  The report's
# scripts are first made local (offline_report.sh), since asv loads them from CDNs.
set -euo pipefail
cd "$(dirname "$0")/.."
html=.asv/html
out=.asv/screenshots
[ -f "$html/index.html" ] || { echo "no $html/index.html: run 'asv publish' first" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "no Chromium found: apt-get install chromium" >&2; exit 1; }
bash benchmarks/offline_report.sh
mkdir -p "$out"
port=${PORT:-8765}
python -m http.server "$port" --bind 127.0.0.1 --directory "$html" >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
sleep 1
shoot() {  # url, file
  "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --window-size=1400,1000 --virtual-time-budget=10000 \
    --screenshot="$out/$2" "$1" >/dev/null 2>&1
  echo "$out/$2"
}
shoot "http://127.0.0.1:$port/index.html" main.png
graph=${GRAPH:-bench_layers.OutputLayer.time_forward_backward}
shoot "http://127.0.0.1:$port/index.html#$graph" graph.png
