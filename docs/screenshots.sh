#!/usr/bin/env bash
# Takes docs/screenshots/: every panel of the real window under Xvfb, at
# each size, in each theme and language, with a little real traffic from
# mosquitto_pub in it. Look at them before committing (issue 14 asks for
# every one to be checked by eye).
#   docs/screenshots.sh                      # 1100x720 and 1400x900, dark and light, English
#   LANGS="ru_RU.UTF-8 zh_CN.UTF-8" SIZES=1100x720 THEMES=dark docs/screenshots.sh
#   SCENE=bridges docs/screenshots.sh        # the README's Bridges picture, staged (below);
#   SCENE=connections docs/screenshots.sh    # its Connections picture; also subscribe, capture, broker, devices, two-sources, first-screen
# Needs: xvfb xauth x11-apps imagemagick xdotool mosquitto-clients (Debian),
# and mosquitto for a scene. A scene's window shows its HOME in paths:
# SCENE_HOME=/home/alex gives the README's; it must not exist (the scene
# creates it and removes it at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-docs/screenshots}
SIZES=${SIZES:-"1100x720 1400x900"}
THEMES=${THEMES:-"dark light"}
LANGS=${LANGS:-"en_US.UTF-8"}
# The side tabs' names, in the order of their Ctrl+1…9 keys; PANELS picks some.
ALL_PANELS="explorer publish subscribe connections broker capture devices journal bridges"
PANELS=${PANELS:-$ALL_PANELS}
for tool in xvfb-run xwd convert xdotool mosquitto_pub; do
  command -v "$tool" >/dev/null || { echo "screenshots: $tool is missing (apt-get install xvfb xauth x11-apps imagemagick xdotool mosquitto-clients)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -tags no_emoji -buildvcs=auto -o "$work/iotstudio" .
mkdir -p "$out"

bg=() # background processes of a scene

# scene_home DIR: a home whose window opens at the README's 1100x720.
scene_home() {
  mkdir -p "$1/.config/fyne/io.iotstudio.app" "$1/.config/iotstudio"
  printf '{"window.width":1100,"window.height":720}' > "$1/.config/fyne/io.iotstudio.app/preferences.json"
}

# In a scene's X session: wait_broker PORT returns once the app's broker
# takes a subscribe (a probe message would show in the pictures);
# the_window waits for the window, focuses it and prints its id.
wait_broker() {
  for _ in $(seq 1 100); do mosquitto_sub -p "$1" -t probe -E 2>/dev/null && return; sleep 0.2; done
}
the_window() {
  local win
  win=$(xdotool search --sync --onlyvisible --name "IoT Studio" | head -1)
  xdotool windowactivate --sync "$win" 2>/dev/null || true
  echo "$win"
}
# start_app LOG CMD…: the app in the background, its output in LOG, killed
# if a later step of the scene fails; shot FILE: the screen as a PNG;
# quit_app: a clean quit, waited for.
start_app() {
  local log=$1
  shift
  "$@" > "$log" 2>&1 &
  app=$!
  trap "kill $app 2>/dev/null || true" EXIT
}
shot() { xwd -root -silent | convert xwd:- "$1"; }
quit_app() { kill -TERM "$app"; wait "$app"; }
# The scenes' inner shells get them through the environment (xvfb-run is
# a POSIX sh script, which drops exported bash functions).
SCENE_HELPERS=$(declare -f wait_broker the_window start_app shot quit_app)
export SCENE_HELPERS

# in_x HOME LANG SCRIPT ARGS…: SCRIPT in a 1100x720 X session of its own,
# with the helpers above and ARGS as $1…, stopping at the first failure.
in_x() {
  local home=$1 lang=$2 script=$3
  shift 3
  HOME="$home" LANG="$lang" xvfb-run -a -s "-screen 0 1100x720x24" bash -c "set -e; eval \"\$SCENE_HELPERS\"; $script" scene "$@"
}

# scene_bridges stages the README's Bridges picture: a real mosquitto as
# the remote of bridge site1 (two rules; five messages go out, one comes
# in), a site2 whose broker does not answer, and site1 selected so that
# both its rules show below the table.
scene_bridges() {
  command -v mosquitto >/dev/null || { echo "screenshots: mosquitto is missing (apt-get install mosquitto)" >&2; exit 1; }
  local home=${SCENE_HOME:-$work/home-bridges} remote local down
  remote=$(shuf -i 20000-24999 -n 1) local=$(shuf -i 25000-29999 -n 1) down=$(shuf -i 30000-32767 -n 1)
  scene_home "$home"
  mosquitto -p "$remote" > "$work/mosquitto.log" 2>&1 &
  bg+=($!)
  HOME="$home" "$work/iotstudio" connections add --preset custom --name "Plant mosquitto" --url "mqtt://127.0.0.1:$remote" --subscribe "" >/dev/null
  HOME="$home" "$work/iotstudio" connections add --preset custom --name "Site 2 broker" --url "mqtts://127.0.0.1:$down" --subscribe "" >/dev/null
  cat > "$home/.config/iotstudio/bridges.yaml" <<YAML
bridges:
  - name: site1
    connection: Plant mosquitto
    rules:
      - name: telemetry up
        direction: out
        local: plant/#
        remote: site1/plant/#
        qos: 1
      - name: commands down
        direction: in
        local: plant/cmd/#
        remote: site1/cmd/#
        qos: 1
  - name: site2
    connection: Site 2 broker
    rules:
      - name: alarms up
        direction: out
        local: plant/alarms/#
        remote: site2/alarms/#
        qos: 1
YAML
  in_x "$home" en_US.UTF-8 '
    start_app "$4/app.log" "$1" --mqtt "127.0.0.1:$2" --ws off
    wait_broker "$2"
    sleep 5 # the bridges connect and subscribe
    for i in 1 2 3 4 5; do mosquitto_pub -p "$2" -q 1 -t plant/line1/temp -m "2$i.5"; done
    mosquitto_pub -p "$3" -q 1 -t site1/cmd/line1/stop -m now
    sleep 2
    win=$(the_window)
    xdotool key --window "$win" ctrl+9
    sleep 1.5
    xdotool mousemove 500 120 click 1 # site1'"'"'s Rules cell
    sleep 1.5
    shot "$5"
    quit_app
  ' "$work/iotstudio" "$local" "$remote" "$work" docs/screenshot-bridges.png
  echo "screenshots: docs/screenshot-bridges.png"
}

# scene_connections stages the README's Connections picture: the local
# broker, a real mosquitto over MQTT 5 and over 3.1.1 with 30 messages
# each, and a saved connection whose broker is down, retrying. The local
# broker listens on 127.0.0.1:1883, as the README says it does.
scene_connections() {
  command -v mosquitto >/dev/null || { echo "screenshots: mosquitto is missing (apt-get install mosquitto)" >&2; exit 1; }
  local home=${SCENE_HOME:-$work/home-connections} remote down
  remote=$(shuf -i 20000-24999 -n 1) down=$(shuf -i 30000-32767 -n 1)
  scene_home "$home"
  mosquitto -p "$remote" > "$work/mosquitto.log" 2>&1 &
  bg+=($!)
  HOME="$home" "$work/iotstudio" connections add --preset custom --name "Mosquitto (MQTT 5)" --url "mqtt://127.0.0.1:$remote" --protocol 5 >/dev/null
  HOME="$home" "$work/iotstudio" connections add --preset custom --name "Mosquitto (3.1.1)" --url "mqtt://127.0.0.1:$remote" --protocol 3.1.1 >/dev/null
  HOME="$home" "$work/iotstudio" connections add --preset custom --name "Plant gateway" --url "mqtt://127.0.0.1:$down" --protocol 5 >/dev/null
  in_x "$home" en_US.UTF-8 '
    start_app "$3/app.log" "$1"
    wait_broker 1883
    sleep 1
    win=$(the_window)
    xdotool key --window "$win" ctrl+4
    sleep 1
    for y in 231 373 515; do xdotool mousemove 740 $y click 1; sleep 0.5; done # Connect
    sleep 2
    for i in $(seq 1 30); do mosquitto_pub -p "$2" -t "plant/line1/sensor$((i % 5))" -m "$i"; done
    sleep 12 # the dead gateway fails a few attempts
    shot "$4"
    quit_app
  ' "$work/iotstudio" "$remote" "$work" docs/screenshot-connections.png
  echo "screenshots: docs/screenshot-connections.png"
}

# scene_subscribe stages the README's Subscribe picture: two overlapping
# subscriptions on the local broker, six rounds of a small plant's
# traffic, and a temperature inspected.
scene_subscribe() {
  local home=${SCENE_HOME:-$work/home-subscribe} port
  port=$(shuf -i 20000-29999 -n 1)
  scene_home "$home"
  in_x "$home" en_US.UTF-8 '
    start_app "$3/app.log" "$1" --mqtt "127.0.0.1:$2" --ws off
    wait_broker "$2"
    sleep 1
    win=$(the_window)
    xdotool key --window "$win" ctrl+3
    sleep 1
    for filter in "plant/#" "plant/+/temperature"; do
      xdotool mousemove 480 88 click 1 key ctrl+a type "$filter"
      xdotool mousemove 1040 88 click 1 # Subscribe (QoS 1 is the default)
      sleep 0.5
    done
    for round in 1 2 3 4 5 6; do
      for line in 1 2 3; do
        mosquitto_pub -p "$2" -q 1 -t "plant/line$line/temperature" -m "{\"celsius\": 2$((line + 4)).$round, \"sensor\": \"pt100-$line\"}"
        mosquitto_pub -p "$2" -q 1 -t "plant/line$line/status" -m running
      done
      mosquitto_pub -p "$2" -q 1 -t plant/press-7/vibration -m "{\"rms\": 0.8$round, \"peak\": 2.$round, \"unit\": \"g\"}"
    done
    sleep 1.5
    xdotool mousemove 400 572 click 1 # the newest plant/line2/temperature
    sleep 1.5
    shot "$4"
    quit_app
  ' "$work/iotstudio" "$port" "$work" docs/screenshot-subscribe.png
  echo "screenshots: docs/screenshot-subscribe.png"
}

# scene_capture stages the README's Capture picture: three MQTT 5 power
# meters with a content type and a user property, searched by a topic
# filter and a JSON condition, the newest match inspected.
scene_capture() {
  local home=${SCENE_HOME:-$work/home-capture} port
  port=$(shuf -i 20000-29999 -n 1)
  scene_home "$home"
  in_x "$home" en_US.UTF-8 '
    start_app "$3/app.log" "$1" --mqtt "127.0.0.1:$2" --ws off
    wait_broker "$2"
    for k in $(seq 0 55); do
      line=$((k % 3))
      mosquitto_pub -p "$2" -V mqttv5 -q 1 -i "meter-line$line" -t "plant/line$line/power" \
        -D publish content-type application/json -D publish user-property unit W \
        -m "{\"watts\": $((900 + 3 * k)), \"voltage\": 230.$((k % 10)), \"status\": \"ok\"}"
    done
    sleep 2
    win=$(the_window)
    xdotool key --window "$win" ctrl+6
    sleep 1
    xdotool mousemove 520 133 click 1 type "plant/+/power"
    xdotool mousemove 975 173 click 1 type "watts > 1000"
    xdotool mousemove 1052 133 click 1 # Search
    sleep 1.5
    xdotool mousemove 370 252 click 1 # the newest match
    sleep 1.5
    shot "$4"
    quit_app
  ' "$work/iotstudio" "$port" "$work" docs/screenshot-capture.png
  echo "screenshots: docs/screenshot-capture.png"
}

# scene_broker stages the README's Broker picture: the embedded broker on
# its default listeners (127.0.0.1:1883 and :8083) with three dashboards,
# an alarm service and an MQTT 5 historian subscribed, and a little
# traffic, one message retained.
scene_broker() {
  local home=${SCENE_HOME:-$work/home-broker}
  scene_home "$home"
  in_x "$home" en_US.UTF-8 '
    start_app "$2/app.log" "$1"
    wait_broker 1883
    subs=()
    for n in 1 2 3; do mosquitto_sub -p 1883 -i "dashboard-$n" -t "plant/#" > /dev/null & subs+=($!); done
    mosquitto_sub -p 1883 -i alarm-service -t "plant/+/alarm" -t "plant/+/alarms/#" > /dev/null & subs+=($!)
    mosquitto_sub -p 1883 -V mqttv5 -i historian -t "plant/+/temperature" > /dev/null & subs+=($!)
    sleep 1
    mosquitto_pub -p 1883 -r -q 1 -t plant/line1/status -m running
    for i in $(seq 1 19); do
      for line in 1 2 3 4; do mosquitto_pub -p 1883 -t "plant/line$line/temperature" -m "2$line.$i"; done
    done
    mosquitto_pub -p 1883 -q 1 -t plant/line2/alarm -m "overheat"
    sleep 1
    win=$(the_window)
    xdotool key --window "$win" ctrl+5
    sleep 3 # a rate of 0.0 once the traffic has stopped
    shot "$3"
    kill "${subs[@]}"
    quit_app
  ' "$work/iotstudio" "$work" docs/screenshot-broker.png
  echo "screenshots: docs/screenshot-broker.png"
}

# scene_devices stages the README's Devices picture: 200 built-in smart
# plugs started from the panel against the local broker, smart-plug-1
# selected (the profile list is wheeled to show the plug); and then its
# Explorer full of plugs, one plug's power inspected.
scene_devices() {
  local home=${SCENE_HOME:-$work/home-devices} port
  port=$(shuf -i 20000-29999 -n 1)
  scene_home "$home"
  in_x "$home" en_US.UTF-8 '
    start_app "$3/app.log" "$1" --mqtt "127.0.0.1:$2" --ws off
    wait_broker "$2"
    sleep 1
    win=$(the_window)
    xdotool key --window "$win" ctrl+7
    sleep 1.5
    xdotool mousemove 200 160 click 5 click 5 click 5
    sleep 0.5
    xdotool mousemove 200 235 click 1 # smart-plug
    xdotool mousemove 200 160 click 5 click 5
    xdotool mousemove 210 287 click 1 type 200 # devices
    xdotool mousemove 533 287 click 1 # Start
    sleep 10
    xdotool mousemove 260 550 click 1 # smart-plug-1
    sleep 2
    shot "$4"
    sleep 4
    xdotool key --window "$win" ctrl+1
    sleep 1
    xdotool mousemove 160 88 click 1 # Expand all
    sleep 1
    xdotool mousemove 400 245 click 1 # plugs/smart-plug-0/power
    sleep 2
    shot "$5"
    quit_app
  ' "$work/iotstudio" "$port" "$work" docs/screenshot-devices.png docs/screenshot-devices-explorer.png
  echo "screenshots: docs/screenshot-devices.png docs/screenshot-devices-explorer.png"
}

# scene_two_sources stages the README's two-sources picture: the
# Explorer with the embedded broker's tree and a real mosquitto's, opened
# from the Connections panel, one of mosquitto's topics inspected.
scene_two_sources() {
  command -v mosquitto >/dev/null || { echo "screenshots: mosquitto is missing (apt-get install mosquitto)" >&2; exit 1; }
  local home=${SCENE_HOME:-$work/home-two-sources} port remote
  port=$(shuf -i 20000-24999 -n 1) remote=$(shuf -i 25000-29999 -n 1)
  scene_home "$home"
  mosquitto -p "$remote" > "$work/mosquitto.log" 2>&1 &
  bg+=($!)
  HOME="$home" "$work/iotstudio" connections add --preset custom --name Mosquitto --url "mqtt://127.0.0.1:$remote" --protocol 5 >/dev/null
  in_x "$home" en_US.UTF-8 '
    start_app "$4/app.log" "$1" --mqtt "127.0.0.1:$2" --ws off
    wait_broker "$2"
    sleep 1
    win=$(the_window)
    xdotool key --window "$win" ctrl+4
    sleep 1
    xdotool mousemove 740 231 click 1 # Connect Mosquitto
    sleep 2
    for i in $(seq 1 8); do
      for room in bedroom kitchen; do
        mosquitto_pub -p "$2" -t "home/$room/climate" -m "{\"temperature\": 2$((i % 10)).5, \"humidity\": 4$i}"
      done
      mosquitto_pub -p "$3" -t factory/line-2/speed -m "{\"rpm\": 1280}"
      mosquitto_pub -p "$3" -t factory/press-7/pressure -m "$((900 + 3 * i))"
      mosquitto_pub -p "$3" -t factory/press-7/state -m running
      sleep 0.3
    done
    xdotool key --window "$win" ctrl+1
    sleep 1
    xdotool mousemove 160 88 click 1 # Expand all
    sleep 1
    xdotool mousemove 300 597 click 1 # factory/press-7/state
    sleep 2
    shot "$5"
    quit_app
  ' "$work/iotstudio" "$port" "$remote" "$work" docs/screenshot-two-sources.png
  echo "screenshots: docs/screenshot-two-sources.png"
}

# scene_first_screen takes the README's first-screen pictures: a first
# start on the default listeners, nothing published, in English, Russian
# and Chinese.
scene_first_screen() {
  local lang suffix home
  for lang in en_US.UTF-8 ru_RU.UTF-8 zh_CN.UTF-8; do
    home=${SCENE_HOME:-$work/home-first}
    rm -rf "$home" # a first start each time
    scene_home "$home"
    suffix=""
    [ "$lang" = en_US.UTF-8 ] || suffix="${lang%%_*}-"
    in_x "$home" "$lang" '
      start_app "$2/app.log" "$1"
      wait_broker 1883
      the_window >/dev/null # a first start shows the window seconds later
      sleep 2
      shot "$3"
      quit_app
    ' "$work/iotstudio" "$work" "docs/screenshot-${suffix}first-screen.png"
    echo "screenshots: docs/screenshot-${suffix}first-screen.png"
  done
}

if [ -n "${SCENE:-}" ]; then
  if [ -n "${SCENE_HOME:-}" ]; then
    if [ -e "$SCENE_HOME" ]; then
      echo "screenshots: SCENE_HOME $SCENE_HOME exists; name one that does not (a scene fills it, then removes it)" >&2
      exit 1
    fi
  fi
  # The scenes' mosquittos (bg) and the work dir go whatever happens.
  trap 'kill "${bg[@]}" 2>/dev/null || true; rm -rf "$work" ${SCENE_HOME:+"$SCENE_HOME"}' EXIT
  case $SCENE in
  bridges) scene_bridges ;;
  connections) scene_connections ;;
  subscribe) scene_subscribe ;;
  capture) scene_capture ;;
  broker) scene_broker ;;
  devices) scene_devices ;;
  two-sources) scene_two_sources ;;
  first-screen) scene_first_screen ;;
  *) echo "screenshots: no scene $SCENE (scenes: bridges, connections, subscribe, capture, broker, devices, two-sources, first-screen)" >&2; exit 1 ;;
  esac
  exit 0
fi

# shoot LANG SIZE THEME: one run of the app, a screenshot per panel.
shoot() {
  local lang=$1 size=$2 theme=$3 w=${2%x*} h=${2#*x}
  local home="$work/home-$1-$2-$3" data="$work/data-$1-$2-$3"
  mkdir -p "$home/.config/fyne/io.iotstudio.app" "$data"
  # The window opens at the size it was closed at.
  printf '{"window.width":%d,"window.height":%d}' "$w" "$h" > "$home/.config/fyne/io.iotstudio.app/preferences.json"
  local port
  port=$(shuf -i 20000-32767 -n 1)
  local suffix=""
  [ "$lang" = en_US.UTF-8 ] || suffix="-${lang%%.*}"
  ALL_PANELS=$ALL_PANELS HOME="$home" LANG="$lang" FYNE_THEME="$theme" xvfb-run -a -s "-screen 0 ${w}x${h}x24" bash -c '
    set -e
    eval "$SCENE_HELPERS"
    "$1" --data "$2" --mqtt "127.0.0.1:$3" --ws off > "$2/app.log" 2>&1 &
    app=$!
    for i in $(seq 1 100); do mosquitto_pub -p "$3" -t probe -n 2>/dev/null && break; sleep 0.2; done
    port=$3
    pub() { mosquitto_pub -p "$port" -q 1 "$@"; }
    for room in kitchen livingroom bedroom; do
      pub -r -t "home/$room/status" -m online
      pub -r -t "home/$room/light/state" -m "{\"on\":true,\"brightness\":180}"
    done
    for i in $(seq 1 12); do
      for room in kitchen livingroom bedroom; do
        pub -t "home/$room/climate" -m "{\"temperature\":$((20 + i % 4)).$((i * 7 % 10)),\"humidity\":$((40 + i)),\"battery\":$((100 - i))}"
      done
      pub -t "factory/line1/press/pressure" -m "$((900 + i * 3))"
      sleep 0.1
    done
    sleep 2
    win=$(xdotool search --sync --onlyvisible --name "IoT Studio" | head -1)
    n=0
    for panel in $ALL_PANELS; do
      n=$((n + 1))
      case " $5 " in *" $panel "*) ;; *) continue ;; esac
      xdotool windowactivate --sync "$win" 2>/dev/null || true
      xdotool key --window "$win" "ctrl+$n"
      if [ "$panel" = explorer ]; then
        # Find climate topics (the filter opens their branches) and
        # inspect the first: the fourth row of the tree.
        xdotool key --window "$win" ctrl+f
        xdotool type --window "$win" climate
        sleep 1
        xdotool mousemove 240 244 click 1
      fi
      sleep 1.5
      xwd -root -silent | convert xwd:- -crop "$6+0+0" "$4/$panel-$6-$7$8.png"
    done
    quit_app
  ' shoot "$work/iotstudio" "$data" "$port" "$out" "$PANELS" "$size" "$theme" "$suffix"
}

for lang in $LANGS; do
  for size in $SIZES; do
    for theme in $THEMES; do
      shoot "$lang" "$size" "$theme"
      echo "screenshots: $lang $size $theme done"
    done
  done
done
ls "$out"
