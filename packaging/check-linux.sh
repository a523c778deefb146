#!/usr/bin/env bash
# Checks the Linux packages the way a user meets them (run by `make test`):
# builds the tar.xz and the .deb, installs each (the tar.xz with
# `make install` into a temporary prefix and into a temporary ~/.local; the
# .deb with dpkg -i as root, or unpacked with dpkg-deb -x otherwise), runs
# the INSTALLED program: `version`, then `serve` on a free port, a publish
# from mosquitto_pub, and `capture query` that must show it; uninstalls and
# checks nothing is left. Also lintian (no errors), appstreamcli and
# desktop-file-validate, and that assets/NOTICE matches go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { # need COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null || { echo "check-linux: $1 not found; install the Debian package $2" >&2; exit 1; }
}
need lintian lintian
need appstreamcli appstream
need desktop-file-validate desktop-file-utils
need mosquitto_pub mosquitto-clients
need dpkg-deb dpkg
need make make
need xz xz-utils
need python3 python3

ID=io.iotstudio.app
version=$(sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' FyneApp.toml)
tarball=dist/iotstudio-$version-linux-amd64.tar.xz
deb=dist/iotstudio_${version}_amd64.deb
tmp=$(mktemp -d)
serve_pid=
deb_installed=
cleanup() {
  [ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true
  [ -z "$deb_installed" ] || dpkg --purge iotstudio >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
step() { echo "== check-linux: $*"; }
fail() { echo "check-linux: $*" >&2; exit 1; }

step "metadata"
go run ./packaging/notice -check
desktop-file-validate packaging/linux/$ID.desktop
appstreamcli validate --no-net packaging/linux/$ID.metainfo.xml
grep -q "iotstudio-$version-src.tar.xz" packaging/flatpak/$ID.yml ||
  fail "packaging/flatpak/$ID.yml does not build iotstudio-$version-src.tar.xz (FyneApp.toml's version)"

step "a missing tool: one line naming the Debian package, nothing in dist/"
mkdir -p "$tmp/noxz" dist
for f in /usr/bin/* /bin/*; do
  case "${f##*/}" in xz) ;; *) ln -sf "$f" "$tmp/noxz/" ;; esac
done
ls -A dist >"$tmp/dist-before"
if PATH=$tmp/noxz:$(dirname "$(command -v go)") packaging/linux/build.sh linux 2>"$tmp/noxz.err"; then
  fail "build.sh linux without xz succeeded"
fi
[ "$(wc -l <"$tmp/noxz.err")" = 1 ] && grep -q "install the Debian package xz-utils" "$tmp/noxz.err" ||
  fail "without xz, build.sh said: $(cat "$tmp/noxz.err")"
ls -A dist | diff "$tmp/dist-before" - || fail "a failed build changed dist/"
cat "$tmp/noxz.err"

step "build"
packaging/linux/build.sh linux deb >/dev/null
ls -l "$tarball" "$deb"

# run_installed BIN DATA: the installed program answers `version`, serves
# on a free port, and its capture holds a message published to it.
run_installed() {
  local bin=$1 data=$2 log=$tmp/serve.log port= msg="check-linux $RANDOM$RANDOM" i
  # fyne build bundled the icon, or the window would show Fyne's own.
  python3 -c 'import sys; sys.exit(open(sys.argv[2], "rb").read() not in open(sys.argv[1], "rb").read())' "$bin" assets/icon.png ||
    fail "$bin does not carry assets/icon.png for its window"
  # Without no_emoji Fyne parses its emoji font again per text style (Makefile TAGS).
  go version -m "$bin" | grep -Eq -- '-tags=([^[:space:]]*,)?no_emoji(,|$|[[:space:]])' ||
    fail "$bin was built without -tags no_emoji"
  "$bin" version | tee "$tmp/version"
  grep -Eq "(^| )$version( |$)" "$tmp/version" || fail "$bin version does not say $version"
  "$bin" serve --mqtt 127.0.0.1:0 --ws off --data "$data" >"$log" 2>&1 &
  serve_pid=$!
  for i in $(seq 150); do # up to 30 s for the broker to open its port
    port=$(sed -n 's/.*mqtt listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$log" >&2; fail "$bin serve exited"; }
    sleep 0.2
  done
  [ -n "$port" ] || { cat "$log" >&2; fail "$bin serve printed no port in 30 s"; }
  mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t check/linux -m "$msg"
  for i in $(seq 50); do # the capture writes in batches: up to 10 s
    "$bin" capture query --data "$data" --topic check/linux --format jsonl >"$tmp/query" 2>&1 || true
    grep -q "$msg" "$tmp/query" && break
    sleep 0.2
  done
  grep -q "$msg" "$tmp/query" || { cat "$tmp/query" "$log" >&2; fail "$bin capture query does not show the published message"; }
  kill "$serve_pid"
  wait "$serve_pid" || true
  serve_pid=
  echo "serve on port $port took a publish; capture query shows it"
}

# installed_ok ROOT DESKTOP-EXEC: what the menu needs is in ROOT/share.
installed_ok() {
  local root=$1 s
  desktop-file-validate "$root/share/applications/$ID.desktop"
  grep -qx "Exec=$2" "$root/share/applications/$ID.desktop" || fail "$root: .desktop does not run $2"
  for s in 16 32 48 64 128 256 512; do
    [ -s "$root/share/icons/hicolor/${s}x${s}/apps/$ID.png" ] || fail "$root: no ${s}px icon"
  done
  [ -s "$root/share/metainfo/$ID.metainfo.xml" ] || fail "$root: no metainfo"
}

# gone ROOT: uninstall left no file.
gone() {
  local left
  left=$(find "$1" -type f 2>/dev/null || true)
  [ -z "$left" ] || fail "uninstall left: $left"
}

step "tar.xz: make install PREFIX=..."
mkdir -p "$tmp/unpack"
tar -C "$tmp/unpack" -xJf "$tarball"
src=$tmp/unpack/iotstudio-$version-linux-amd64
prefix=$tmp/prefix
make -s -C "$src" install PREFIX="$prefix"
installed_ok "$prefix" "$prefix/bin/iotstudio"
run_installed "$prefix/bin/iotstudio" "$tmp/data-tar"
make -s -C "$src" uninstall PREFIX="$prefix"
gone "$prefix"

step "tar.xz: make user-install (~/.local)"
HOME=$tmp/home make -s -C "$src" user-install
installed_ok "$tmp/home/.local" "$tmp/home/.local/bin/iotstudio"
"$tmp/home/.local/bin/iotstudio" version >/dev/null
HOME=$tmp/home make -s -C "$src" user-uninstall
gone "$tmp/home/.local"

step "deb: lintian"
lintian --fail-on error "$deb"

if [ "$(id -u)" = 0 ] && ! dpkg -s iotstudio >/dev/null 2>&1; then
  step "deb: dpkg -i, run, dpkg --purge"
  deb_installed=1
  dpkg -i "$deb" >/dev/null
  files=$(dpkg -L iotstudio)
  installed_ok /usr iotstudio
  run_installed /usr/bin/iotstudio "$tmp/data-deb"
  dpkg --purge iotstudio >/dev/null
  deb_installed=
  for f in $files; do
    [ -d "$f" ] || [ ! -e "$f" ] || fail "dpkg --purge left $f"
  done
else
  # Not root, or a real installation to leave alone: unpack instead.
  step "deb: dpkg-deb -x, run"
  dpkg-deb -x "$deb" "$tmp/debroot"
  installed_ok "$tmp/debroot/usr" iotstudio
  run_installed "$tmp/debroot/usr/bin/iotstudio" "$tmp/data-deb"
fi
step "ok"
