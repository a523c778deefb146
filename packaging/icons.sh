#!/usr/bin/env bash
# Regenerates the app icon PNGs from their SVG sources. The PNGs are
# committed, so building a package needs no SVG renderer; run this after
# editing assets/icon.svg or assets/icon-small.svg.
#   assets/icons/iotstudio-N.png  N = 16 32 48 64 128 256 512 (hicolor sizes)
#   assets/icon.png               the 512 one: FyneApp.toml's icon, shown in the window
# 16 and 32 px come from icon-small.svg, a simplified drawing whose shapes
# still cover whole pixels at that size.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rsvg-convert >/dev/null || { echo "icons.sh: rsvg-convert not found; install the Debian package librsvg2-bin" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for size in 16 32 48 64 128 256 512; do
  src=assets/icon.svg
  [ "$size" -le 32 ] && src=assets/icon-small.svg
  rsvg-convert -w "$size" -h "$size" "$src" -o "$tmp/iotstudio-$size.png"
done
mkdir -p assets/icons
mv "$tmp"/iotstudio-*.png assets/icons/
cp assets/icons/iotstudio-512.png assets/icon.png
ls -l assets/icons/ assets/icon.png
