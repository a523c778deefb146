#!/usr/bin/env bash
# Topic-model burst in the real window (issue 11): start the app under Xvfb
# with a fresh data dir, publish MESSAGES QoS 0 messages over TOPICS topics
# into its embedded broker as fast as one connection can (.ci/burst), wait
# until the process settles, and print its RSS before and after, the
# capture's record count and a screenshot of the window (the Explorer's
# status line shows what the topic model applied and skipped).
#
#   .ci/topics-rss.sh                      # 1,000,000 messages over 100,000 topics
#   MESSAGES=200000 TOPICS=20000 .ci/topics-rss.sh
#   BIN=/tmp/iotstudio-old .ci/topics-rss.sh   # measure another build
#
# RSS is VmRSS from /proc/PID/status (its mappings, as the burst left them,
# are kept in $RSS_OUT/smaps); "settled" means it changed by less
# than 2 MB in each of two 5-s steps in a row (at most SETTLE_MAX seconds
# after the burst): the window gives a burst's memory back 4-6 s after it
# ends, which one step could miss. SETTLE_ALL=1 reads for all of
# SETTLE_MAX seconds instead (the idle window's heap grows between
# collections).
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES=${MESSAGES:-1000000}
TOPICS=${TOPICS:-100000}
SETTLE_MAX=${SETTLE_MAX:-90}
out=${RSS_OUT:-$(mktemp -d)}
mkdir -p "$out"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
# BIN: an already built app to measure instead (e.g. an older commit's,
# for a before/after comparison in one session).
if [ -n "${BIN:-}" ]; then cp "$BIN" "$data/iotstudio"; else go build -tags no_emoji -o "$data/iotstudio" .; fi
go build -o "$data/burst" .ci/burst/main.go
export HOME="$data/home" LANG=en_US.UTF-8
mkdir -p "$HOME"
for _ in $(seq 1 50); do
  port=$(shuf -i 20000-32767 -n 1)
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done

xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  set -euo pipefail
  bin=$1 data=$2 port=$3 messages=$4 topics=$5 settle_max=$6 out=$7
  rss() { awk "/^VmRSS/ {print int(\$2/1024)}" /proc/$app/status; }
  hwm() { awk "/^VmHWM/ {print int(\$2/1024)}" /proc/$app/status; }
  "$bin" --data "$data" --mqtt "127.0.0.1:$port" --ws off > "$data/app.log" 2>&1 &
  app=$!
  for i in $(seq 1 100); do
    mosquitto_pub -h 127.0.0.1 -p "$port" -t rss/hello -m hi 2>/dev/null && break
    sleep 0.2
  done
  sleep 5
  echo "RSS at start: $(rss) MB"
  "$data/burst" -addr "127.0.0.1:$port" -messages "$messages" -topics "$topics"
  prev=0 steady=0
  for i in $(seq 1 $((settle_max / 5))); do
    sleep 5
    now=$(rss)
    echo "  +$((i * 5)) s: RSS $now MB"
    if [ $((now - prev)) -lt 2 ] && [ $((prev - now)) -lt 2 ]; then steady=$((steady + 1)); else steady=0; fi
    [ $steady -ge 2 ] && [ -z "${SETTLE_ALL:-}" ] && break
    prev=$now
  done
  echo "RSS after the burst: $(rss) MB (peak VmHWM $(hwm) MB)"
  cat /proc/$app/smaps > "$out/smaps" # what is resident, mapping by mapping
  xwd -root -silent | convert xwd:- "$out/topics-rss.png"
  kill -TERM $app
  wait $app || { echo "the app did not exit cleanly"; tail -20 "$data/app.log"; exit 1; }
' rss "$data/iotstudio" "$data" "$port" "$MESSAGES" "$TOPICS" "$SETTLE_MAX" "$out"
grep -i 'topic model' "$data/app.log" | tail -3 || true
"$data/iotstudio" capture stats --data "$data" | grep -E '^(records|dropped)' || true
echo "screenshot: $out/topics-rss.png"
