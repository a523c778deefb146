#!/usr/bin/env bash
# Builds IoT Studio's Windows artefacts on Linux into dist/ (packaging/package.sh
# windows|msi|zip calls this; it also runs alone):
#   exe      -> dist/iotstudio.exe: GUI subsystem (no console window), icon and version
#               info embedded, cross-built with Debian's mingw-w64
#   msi      -> dist/iotstudio.msi: per-user installer (msitools' wixl), see iotstudio.wxs
#   zip      -> dist/iotstudio-windows-amd64.zip: portable, the exe with README and NOTICE
#   windows  -> all three
# Everything is built in a temporary directory and moved into dist/ only when
# whole, so a failed or interrupted build leaves nothing half-written there.
# IOTSTUDIO_VERSION overrides FyneApp.toml's Version, IOTSTUDIO_EXE packages an exe
# already built instead of building one, IOTSTUDIO_DIST puts the results elsewhere
# than dist/ (the upgrade check makes two MSIs of one exe that way).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
what=${1:-windows}
tool=${2:-}
case "$what" in
  exe | msi | zip | windows) ;;
  *) echo "usage: packaging/windows/build.sh exe|msi|zip|windows [FYNE_TOOL]" >&2; exit 2 ;;
esac

# need COMMAND DEBIAN_PACKAGE: one line naming what to install.
need() {
  command -v "$1" >/dev/null || { echo "$1 not found: install the Debian package $2 (apt-get install $2)" >&2; exit 1; }
}
need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
case "$what" in msi | windows) need wixl wixl; need convert imagemagick ;; esac
case "$what" in zip | windows) need zip zip ;; esac

version=${IOTSTUDIO_VERSION:-$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml | head -1)}
[ -n "$version" ] || { echo "no Version in FyneApp.toml and no IOTSTUDIO_VERSION" >&2; exit 1; }
# Windows Installer compares major.minor.build, numbers only: 0.2.0-rc1 is 0.2.0.
msi_version=${version%%[-+]*}
icon=$(sed -n 's/^ *Icon *= *"\(.*\)"/\1/p' FyneApp.toml | head -1)

work=$(mktemp -d)
saved_toml=$work/FyneApp.toml
cp FyneApp.toml "$saved_toml"
# fyne package writes fyne.syso, fyne_metadata_init.go and the exe beside the
# sources; a leftover Windows .syso would break the next Linux build, so they
# go whatever happens.
# --release bumps Build in FyneApp.toml; releases set it on purpose.
cleanup() {
  rm -f "$root/fyne.syso" "$root/fyne_metadata_init.go" "$root/iotstudio.exe" "$root/iotstudio.exe.manifest"
  cp "$saved_toml" "$root/FyneApp.toml"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${IOTSTUDIO_EXE:-}" ]; then
  cp "$IOTSTUDIO_EXE" "$work/iotstudio.exe"
else
  if [ -z "$tool" ]; then
    tool=$work/fyne
    go build -o "$tool" fyne.io/tools/cmd/fyne
  fi
  # Stamp the version for `iotstudio version` and About, and the commit
  # (auto: a source tree without git builds too).
  GOFLAGS="${GOFLAGS:-} -buildvcs=auto -ldflags=-X=github.com/iotstudio/iotstudio/app.version=$version" \
    CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
    "$tool" package -os windows --release --name iotstudio --app-version "$version"
  mv iotstudio.exe "$work/iotstudio.exe"
fi
out=()
if [ "$what" = exe ] || [ "$what" = windows ]; then
  out+=("$work/iotstudio.exe")
fi

if [ "$what" = msi ] || [ "$what" = windows ]; then
  # The Start-menu shortcut and the uninstall entry need an .ico; the
  # hand-drawn small sizes stay sharp where they exist.
  sizes=()
  for s in 16 32 48 256; do
    [ -f "assets/icons/iotstudio-$s.png" ] && sizes+=("assets/icons/iotstudio-$s.png")
  done
  if [ ${#sizes[@]} -eq 4 ]; then
    convert "${sizes[@]}" "$work/iotstudio.ico"
  else
    convert "$icon" -define icon:auto-resize=256,48,32,16 "$work/iotstudio.ico"
  fi
  wixl -a x64 -D Version="$msi_version" -D ExeFile="$work/iotstudio.exe" -D IconFile="$work/iotstudio.ico" \
    -o "$work/iotstudio.msi" packaging/windows/iotstudio.wxs
  out+=("$work/iotstudio.msi")
fi

if [ "$what" = zip ] || [ "$what" = windows ]; then
  dir=$work/zip/iotstudio-$version-windows-amd64
  mkdir -p "$dir"
  cp "$work/iotstudio.exe" README.md "$dir/"
  for notice in NOTICE assets/NOTICE; do
    [ -f "$notice" ] && { cp "$notice" "$dir/NOTICE"; break; }
  done
  (cd "$work/zip" && zip -q -9 -r "$work/iotstudio-windows-amd64.zip" "iotstudio-$version-windows-amd64")
  out+=("$work/iotstudio-windows-amd64.zip")
fi

dist=${IOTSTUDIO_DIST:-dist}
mkdir -p "$dist"
for f in "${out[@]}"; do
  mv "$f" "$dist/"
  ls -l "$dist/$(basename "$f")"
done
