#!/usr/bin/env bash
# Linux packages of IoT Studio (packaging/package.sh and check-linux.sh call
# this); several targets share one build of the program:
#   build.sh linux   -> dist/iotstudio-VERSION-linux-amd64.tar.xz  (make install/uninstall inside)
#   build.sh deb     -> dist/iotstudio_VERSION_amd64.deb
#   build.sh source  -> dist/iotstudio-VERSION-src.tar.xz          (with vendor/, for the Flatpak)
# VERSION is FyneApp.toml's. FYNE names a built Fyne tool (go tool fyne
# otherwise). Everything is built in a scratch directory
# inside dist/ and renamed into place at the end, so a failed or
# interrupted build leaves no half-written package behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || { echo "usage: packaging/linux/build.sh linux|deb|source..." >&2; exit 2; }
target=$*
fyne=${FYNE:-}
umask 022

ID=io.iotstudio.app
SIZES="16 32 48 64 128 256 512"
MAINTAINER=${DEB_MAINTAINER:-IoT Studio developers <maintainers@users.noreply.h-seed-fbaf6246.example>}
version=$(sed -n 's/^[[:space:]]*Version[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' FyneApp.toml)
[ -n "$version" ] || { echo "package.sh $target: no Version in FyneApp.toml" >&2; exit 1; }

need() { # need COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null || { echo "package.sh $target: $1 not found; install the Debian package $2" >&2; exit 1; }
}

mkdir -p dist
work=$(mktemp -d dist/.build-XXXXXX)
# fyne build writes fyne_metadata_init.go beside main.go for the build;
# an interrupted one would leave it there, compiled into every later build.
leftover=
[ -e fyne_metadata_init.go ] || leftover=fyne_metadata_init.go
trap 'rm -rf "$work" $leftover' EXIT
trap 'exit 130' INT TERM # so that the EXIT trap clears the scratch directory

# The binary comes from `fyne build`, not `go build`: it bundles
# FyneApp.toml's icon and name into the program, which puts the icon on the
# window. --release strips it (-s -w, -trimpath); the version goes in with -X.
# Not PIE: that adds 4 MB (42.6 MiB, over the 40 MB the issue allows);
# packaging/README.md has the trade. no_emoji leaves out Fyne's bundled
# emoji font (4.2 MB): emoji then come from the system's font, which drew
# 🌡️ where Fyne's own drew nothing (packaging/README.md).
build_binary() {
  [ -s "$work/iotstudio" ] && return
  need gcc gcc
  if [ -z "$fyne" ]; then
    fyne=$PWD/$work/fyne
    go build -o "$fyne" fyne.io/tools/cmd/fyne
  fi
  # -buildvcs=auto: the commit goes into `iotstudio version` whatever
  # GOFLAGS this machine sets.
  GOFLAGS="${GOFLAGS:-} -buildvcs=auto -ldflags=-X=github.com/iotstudio/iotstudio/app.version=$version" \
    "$fyne" build --release --tags no_emoji -o "$PWD/$work/iotstudio" .
}

# stage_tree DIR: the files every Linux package installs, under DIR as a
# prefix (DIR/bin, DIR/share/...).
stage_tree() {
  local dir=$1 s
  install -Dm755 "$work/iotstudio" "$dir/bin/iotstudio"
  install -Dm644 "packaging/linux/$ID.desktop" "$dir/share/applications/$ID.desktop"
  install -Dm644 "packaging/linux/$ID.metainfo.xml" "$dir/share/metainfo/$ID.metainfo.xml"
  for s in $SIZES; do
    install -Dm644 "assets/icons/iotstudio-$s.png" "$dir/share/icons/hicolor/${s}x${s}/apps/$ID.png"
  done
}

# publish FILE: moves a finished artefact into dist/ (a rename: same file
# system) and says how big it is.
publish() {
  mv -f "$1" dist/
  ls -l "dist/$(basename "$1")"
}

tarball() {
  need xz xz-utils
  build_binary
  local name=iotstudio-$version-linux-amd64
  local top=$work/$name
  stage_tree "$top"
  install -Dm644 assets/NOTICE "$top/share/doc/iotstudio/NOTICE"
  install -Dm644 packaging/linux/Makefile "$top/Makefile"
  tar -C "$work" --owner=0 --group=0 --sort=name -cJf "$work/$name.tar.xz" "$name"
  publish "$work/$name.tar.xz"
}

deb() {
  need dpkg-deb dpkg
  need dpkg-shlibdeps dpkg-dev
  build_binary
  local root=$work/deb doc
  stage_tree "$root/usr"
  install -Dm644 packaging/linux/iotstudio.1 "$root/usr/share/man/man1/iotstudio.1"
  gzip -9n "$root/usr/share/man/man1/iotstudio.1"
  doc=$root/usr/share/doc/iotstudio
  mkdir -p "$doc"
  debian_copyright >"$doc/copyright"
  debian_changelog | gzip -9n >"$doc/changelog.gz"
  mkdir -p "$root/DEBIAN"
  debian_control "$root" >"$root/DEBIAN/control"
  local out=$work/iotstudio_${version}_amd64.deb
  dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
  publish "$out"
}

# GLFW opens these X extensions with dlopen (cursor shapes, monitors, input),
# so no tool sees them in the binary.
DLOPENED="libxcursor1, libxi6, libxinerama1, libxrandr2, libxrender1, libxxf86vm1"

# The GL and X libraries GLFW links against, as the libraries' own shlibs
# files name them; dpkg-shlibdeps wants a debian/control to read.
shlib_depends() {
  local dir=$work/shlibs exe=$PWD/$work/deb/usr/bin/iotstudio
  mkdir -p "$dir/debian"
  printf 'Source: iotstudio\n\nPackage: iotstudio\nArchitecture: any\n' >"$dir/debian/control"
  (cd "$dir" && dpkg-shlibdeps -O -e"$exe") | sed -n 's/^shlibs:Depends=//p'
}

debian_control() {
  local depends size
  depends=$(shlib_depends)
  [ -n "$depends" ] || { echo "package.sh deb: dpkg-shlibdeps found no library dependencies" >&2; exit 1; }
  size=$(du -sk --exclude=DEBIAN "$1" | cut -f1)
  cat <<CONTROL
Package: iotstudio
Version: $version
Architecture: amd64
Maintainer: $MAINTAINER
Installed-Size: $size
Depends: $depends, $DLOPENED
Recommends: fonts-noto-color-emoji
Suggests: gnome-keyring, mosquitto-clients, fonts-noto-cjk
Section: net
Priority: optional
Homepage: https://github.com/iotstudio/iotstudio
Description: local MQTT broker, topic explorer and traffic tools in one window
 IoT Studio is a desktop workbench for MQTT development: an embedded MQTT
 3.1.1 and 5 broker with TCP, WebSocket and TLS listeners, a live topic tree
 with a message inspector, publish and subscribe panels, connections to other
 brokers, a capture of all traffic that can be searched, exported and
 replayed, and fleets of simulated devices.
 .
 The same program runs the broker headless: iotstudio serve.
CONTROL
}

debian_copyright() {
  cat <<'HEAD'
IoT Studio
Source: https://github.com/iotstudio/iotstudio

IoT Studio's own licence has not been chosen yet: its source has no LICENSE
file. The program is statically linked with the Go standard library and the
Go modules listed below, each under its own licence, reproduced in full.

HEAD
  go run ./packaging/notice -debian
}

debian_changelog() {
  local when
  # The commit's time, so two builds of one commit give the same package.
  when=$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")
  cat <<CHANGELOG
iotstudio ($version) unstable; urgency=medium

  * Release $version; the changes are in the project's history at
    https://github.com/iotstudio/iotstudio

 -- $MAINTAINER  $when
CHANGELOG
}

# The source with every module vendored, so a build needs no network (the
# Flatpak builder has none). git archive takes the committed tree only.
source_archive() {
  need git git
  need xz xz-utils
  local name=iotstudio-$version
  git archive --format=tar --prefix="$name/" HEAD | tar -C "$work" -xf -
  go mod vendor -o "$work/$name/vendor"
  tar -C "$work" --owner=0 --group=0 --sort=name -cJf "$work/$name-src.tar.xz" "$name"
  publish "$work/$name-src.tar.xz"
}

# Every tool is looked for before the long build starts.
for t in "$@"; do
  case "$t" in
    linux) need gcc gcc; need xz xz-utils ;;
    deb) need gcc gcc; need dpkg-deb dpkg; need dpkg-shlibdeps dpkg-dev ;;
    source) need git git; need xz xz-utils ;;
    *) echo "build.sh: unknown target $t (linux, deb, source)" >&2; exit 2 ;;
  esac
done
for t in "$@"; do
  case "$t" in
    linux) tarball ;;
    deb) deb ;;
    source) source_archive ;;
  esac
done
