#!/usr/bin/env bash
# Builds installable packages of IoT Studio into dist/ with the Fyne packaging
# tool pinned in go.mod (`go tool fyne`); metadata comes from FyneApp.toml.
#   packaging/package.sh linux     -> dist/iotstudio-VERSION-linux-amd64.tar.xz (binary, icons, .desktop,
#                                     metainfo, NOTICE; `make install` / `make uninstall` inside)
#   packaging/package.sh deb       -> dist/iotstudio_VERSION_amd64.deb
#   packaging/package.sh source    -> dist/iotstudio-VERSION-src.tar.xz (modules vendored; the Flatpak builds it)
#   packaging/package.sh windows   -> dist/iotstudio.exe, iotstudio.msi and iotstudio-windows-amd64.zip,
#                                     cross-built with Debian's gcc-mingw-w64-x86-64 and msitools
#   packaging/package.sh msi|zip   -> one of them; see packaging/windows/build.sh
#   packaging/package.sh all       -> every package this machine can build
# macOS packages must be built on a Mac: `go tool fyne package -os darwin`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-linux}
mkdir -p dist
# `fyne package --release` bumps Build in FyneApp.toml; releases set it on purpose.
saved=$(mktemp)
cp FyneApp.toml "$saved"
tooldir=$(mktemp -d)
trap 'cp "$saved" FyneApp.toml; rm -f "$saved"; rm -rf "$tooldir"' EXIT
# Build the packaging tool for this machine once; `go tool` under GOOS=windows
# would build the tool itself for Windows.
# Stamp the commit and its time into the program (`iotstudio version`,
# About), whatever GOFLAGS this machine sets; auto leaves a source tree
# without git alone.
export GOFLAGS="${GOFLAGS:-} -buildvcs=auto"
tool=$tooldir/fyne
go build -o "$tool" fyne.io/tools/cmd/fyne
case "$target" in
  linux|deb|source)
    FYNE=$tool packaging/linux/build.sh "$target"
    ;;
  all)
    FYNE=$tool packaging/linux/build.sh linux deb
    if [ -d packaging/windows ]; then "$0" windows; fi
    ;;
  windows | msi | zip)
    packaging/windows/build.sh "$target" "$tool"
    ;;
  *)
    echo "usage: packaging/package.sh linux|deb|source|windows|msi|zip|all" >&2
    exit 2
    ;;
esac
ls -l dist/
