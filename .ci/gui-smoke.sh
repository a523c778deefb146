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
go build -tags no_emoji -buildvcs=auto -o "$data/iotstudio" .
# A build from a git checkout says which commit it is (bug reports need it).
if git rev-parse --git-dir >/dev/null 2>&1; then
  "$data/iotstudio" version 2>/dev/null | grep -Eq "commit [0-9a-f]{12}" ||
    { echo "gui smoke: 'iotstudio version' does not name the commit: $("$data/iotstudio" version 2>&1)"; exit 1; }
fi
# A fresh HOME gives the app fresh Fyne preferences (set after the build, so
# Go's module cache under the real HOME is used).
export HOME="$data/home" LANG=en_US.UTF-8
mkdir -p "$HOME"
# A free port: nothing answers on it. Below Linux's ephemeral range
# (32768-60999), where the local ends of outgoing connections, which this
# probe cannot see, would make the bind fail; and if it fails anyway
# (another test took the port meanwhile), the app is started again on
# another port (exit 75 below).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(shuf -i 20000-32767 -n 1)
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || break
  done
  echo "$p"
}

for attempt in 1 2 3; do
port=$(free_port)
rc=0
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$1" --data "$2" --mqtt "127.0.0.1:$3" --ws off > "$2/app.log" 2>&1 &
  app=$!
  for i in $(seq 1 100); do
    if mosquitto_pub -h 127.0.0.1 -p "$3" -t smoke/hello -m "hi from CI" -q 1 2>/dev/null; then break; fi
    grep -q "already in use" "$2/app.log" && break
    sleep 0.2
  done
  if ! mosquitto_pub -h 127.0.0.1 -p "$3" -t smoke/hello -m "hi from CI" -q 1; then
    kill -TERM $app; wait $app || true
    if grep -q "already in use" "$2/app.log"; then echo "gui smoke: port $3 was taken meanwhile; trying another"; exit 75; fi
    echo "broker never accepted a connection"; cat "$2/app.log"; exit 1
  fi
  # A second start on the same data dir (the icon clicked twice) brings
  # the running window forward and exits, instead of opening a window
  # whose port and capture the first one holds.
  if ! timeout 30 "$1" --data "$2" --mqtt "127.0.0.1:$3" --ws off > "$2/second.log" 2>&1; then
    echo "gui smoke: a second start failed:"; cat "$2/second.log"; kill -TERM $app; exit 1
  fi
  grep -q "already running" "$2/second.log" || { echo "gui smoke: a second start did not say the app is already running:"; cat "$2/second.log"; kill -TERM $app; exit 1; }
  grep -q "bringing it forward" "$2/app.log" || { echo "gui smoke: the running window was not asked to come forward:"; cat "$2/app.log"; kill -TERM $app; exit 1; }
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
' smoke "$data/iotstudio" "$data" "$port" || rc=$?
[ "$rc" -eq 75 ] || break
done
[ "$rc" -eq 0 ] || exit "$rc"

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
