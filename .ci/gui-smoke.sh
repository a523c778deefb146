#!/usr/bin/env bash
# GUI smoke test: the real window under Xvfb, the embedded broker accepting a
# publish from Debian's mosquitto_pub, and a screenshot that is not blank.
# The screenshot is left in $SMOKE_OUT (default: a temp dir) for a person to look at.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${SMOKE_OUT:-$(mktemp -d)}
mkdir -p "$out"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
go build -o "$data/iotstudio" .
# A fresh HOME gives the app fresh Fyne preferences (set after the build, so
# Go's module cache under the real HOME is used).
export HOME="$data/home" LANG=en_US.UTF-8
mkdir -p "$HOME"
# a free port: nothing answers on it
for _ in $(seq 1 50); do
  port=$(shuf -i 20000-60000 -n 1)
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done

xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$1" --data "$2" --mqtt "127.0.0.1:$3" --ws off > "$2/app.log" 2>&1 &
  app=$!
  for i in $(seq 1 100); do
    if mosquitto_pub -h 127.0.0.1 -p "$3" -t smoke/hello -m "hi from CI" -q 1 2>/dev/null; then break; fi
    sleep 0.2
  done
  mosquitto_pub -h 127.0.0.1 -p "$3" -t smoke/hello -m "hi from CI" -q 1 || { echo "broker never accepted a connection"; cat "$2/app.log"; exit 1; }
  sleep 2   # let the panel refresh its counters
  # The first frame can come late (GL set-up under Xvfb on a busy machine):
  # look again for up to 20 s before calling the window blank.
  for i in $(seq 1 40); do
    xwd -root -silent > "$2/screen.xwd"
    [ "$(convert "$2/screen.xwd" png:- | identify -format "%k" -)" -gt 1 ] && break
    sleep 0.5
  done
  kill -TERM $app
  wait $app || { echo "the app did not exit cleanly on SIGTERM"; cat "$2/app.log"; exit 1; }
' smoke "$data/iotstudio" "$data" "$port"

# The app captured what mosquitto_pub sent.
"$data/iotstudio" capture query --data "$data" --topic smoke/hello --format jsonl > "$data/captured.jsonl"
grep -q '"payload":"hi from CI"' "$data/captured.jsonl" || { echo "gui smoke: the publish is not in the capture"; cat "$data/captured.jsonl"; exit 1; }

convert "$data/screen.xwd" "$out/gui-smoke.png"
colours=$(identify -format '%k' "$out/gui-smoke.png")
echo "gui smoke: screenshot $out/gui-smoke.png has $colours colours"
if [ "$colours" -le 1 ]; then
  echo "gui smoke: the window is blank" >&2
  exit 1
fi
