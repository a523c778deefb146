#!/usr/bin/env bash
# Builds installable packages of IoT Studio into dist/ with the Fyne packaging
# tool pinned in go.mod (`go tool fyne`); metadata comes from FyneApp.toml.
#   packaging/package.sh linux     -> dist/iotstudio.tar.xz (binary, icon, .desktop; `make install` inside)
#   packaging/package.sh windows   -> dist/iotstudio.exe, iotstudio.msi and iotstudio-windows-amd64.zip
#   packaging/package.sh msi|zip   -> one of them; see packaging/windows/build.sh
# macOS packages must be built on a Mac: `go tool fyne package -os darwin`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-linux}
mkdir -p dist
# `fyne package --release` bumps Build in FyneApp.toml; releases set it on purpose.
saved=$(mktemp)
cp FyneApp.toml "$saved"
trap 'cp "$saved" FyneApp.toml; rm -f "$saved"' EXIT
# Build the packaging tool for this machine once; `go tool` under GOOS=windows
# would build the tool itself for Windows.
# Stamp the commit and its time into the program (`iotstudio version`,
# About), whatever GOFLAGS this machine sets; auto leaves a source tree
# without git alone.
export GOFLAGS="${GOFLAGS:-} -buildvcs=auto"
tool=$(mktemp -d)/fyne
go build -o "$tool" fyne.io/tools/cmd/fyne
case "$target" in
  linux)
    go build -trimpath -ldflags "-s -w" -o iotstudio .
    "$tool" package -os linux --release --name iotstudio --exe iotstudio
    mv iotstudio.tar.xz dist/
    rm -f iotstudio
    ;;
  windows | msi | zip)
    packaging/windows/build.sh "$target" "$tool"
    ;;
  *)
    echo "usage: packaging/package.sh linux|windows|msi|zip" >&2
    exit 2
    ;;
esac
ls -l dist/
