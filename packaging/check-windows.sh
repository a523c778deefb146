#!/usr/bin/env bash
# Checks the Windows MSI under Wine, as a user would meet it: builds the exe
# and MSI (packaging/windows/build.sh), installs the MSI per-user into a fresh
# Wine prefix, runs the INSTALLED iotstudio.exe (`version`; `serve`, which a
# mosquitto_pub from Linux reaches and whose capture `capture query` reads),
# uninstalls it and checks its files and uninstall entry are gone; then
# installs two versions one over the other and checks one entry is left.
#   packaging/check-windows.sh              build, then check
#   packaging/check-windows.sh --no-build   check the dist/ artefacts as they are
# Needs wine, msitools' wixl, mingw-w64, mosquitto-clients and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

need() {
  command -v "$1" >/dev/null || { echo "$1 not found: install the Debian package $2 (apt-get install $2)" >&2; exit 1; }
}
need wine wine
# Debian's wine runs 64-bit programs only with wine64 beside it.
[ -x /usr/lib/wine/wine64 ] || { echo "no 64-bit Wine: install the Debian package wine64 (apt-get install wine64)" >&2; exit 1; }
need mosquitto_pub mosquitto-clients
need python3 python3

if [ "${1:-}" != --no-build ]; then
  packaging/windows/build.sh windows
fi
for f in dist/iotstudio.exe dist/iotstudio.msi; do
  [ -f "$f" ] || { echo "$f is missing: run packaging/windows/build.sh windows" >&2; exit 1; }
done

tmp=$(mktemp -d)
export WINEPREFIX=$tmp/wine WINEDEBUG=-all
# No Mono or Gecko download prompts: the app needs neither.
export WINEDLLOVERRIDES="mscoree=;mshtml="
unset DISPLAY # nothing here opens a window
serve_pid=
finish() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null
  wineserver -k 2>/dev/null || true
  rm -rf "$tmp"
}
trap finish EXIT
trap 'exit 130' INT TERM

fail() {
  echo "check-windows: FAIL: $*" >&2
  exit 1
}
step() { echo "check-windows: $*"; }

# winpath %VAR%: a Windows folder of the prefix's user, as a Linux path.
winpath() {
  local p
  p=$(wine cmd /c echo "$1" | tr -d '\r')
  winepath -u "$p" | sed 's:/$::'
}
# arp_entries: the uninstall entries named IoT Studio, one "{code}|||name" a line.
arp_entries() {
  wine uninstaller --list | tr -d '\r' | grep '|||IoT Studio$' || true
}

step "new Wine prefix in $WINEPREFIX"
wineboot -i >/dev/null 2>&1
system32=$WINEPREFIX/drive_c/windows/system32
if [ ! -e "$system32/bcryptprimitives.dll" ]; then
  # Wine before 9 lacks the DLL Go's runtime takes its randomness from;
  # a stand-in for this test prefix only (wine/bcryptprimitives.c).
  need x86_64-w64-mingw32-gcc gcc-mingw-w64-x86-64
  x86_64-w64-mingw32-gcc -O2 -shared -o "$system32/bcryptprimitives.dll" \
    packaging/windows/wine/bcryptprimitives.c packaging/windows/wine/bcryptprimitives.def -ladvapi32
  step "  added a stand-in bcryptprimitives.dll (ProcessPrng) that $(wine --version 2>/dev/null | head -1) lacks"
fi
local_appdata=$(winpath %LOCALAPPDATA%)
appdata=$(winpath %APPDATA%)
install_dir="$local_appdata/Programs/IoT Studio"
exe="$install_dir/iotstudio.exe"
shortcut="$appdata/Microsoft/Windows/Start Menu/Programs/IoT Studio.lnk"

step "install dist/iotstudio.msi per-user, quietly"
wine msiexec /i "$root/dist/iotstudio.msi" /qn || fail "msiexec /i exited with $?"
[ -f "$exe" ] || fail "no $exe after install"
[ -f "$shortcut" ] || fail "no Start-menu shortcut $shortcut after install"
[ "$(arp_entries | wc -l)" = 1 ] || fail "want one uninstall entry for IoT Studio, have: $(arp_entries)"
want_version=$(sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml | head -1)
code=$(arp_entries | cut -d'|' -f1)
# Wine keeps even a per-user product's entry under HKLM; Windows under HKCU.
entry=$(wine reg query "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$code" 2>/dev/null | tr -d '\r' ||
  wine reg query "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\$code" | tr -d '\r')
grep -Eq "DisplayVersion +REG_SZ +${want_version%%[-+]*}\$" <<<"$entry" || fail "uninstall entry shows no version ${want_version%%[-+]*}: $entry"
[ -f "$appdata/Microsoft/Installer/$code/iotstudio.ico" ] || fail "the uninstall entry has no icon (ARPPRODUCTICON)"

step "installed iotstudio.exe version"
got=$(wine "$exe" version | tr -d '\r')
echo "  $got"
[[ "$got" == "iotstudio $want_version"* ]] || fail "version says '$got'; want 'iotstudio $want_version ...'"

step "keyring: a connection's password goes to the Credential Manager"
IOTSTUDIO_MQTT_PASSWORD=check-secret wine "$exe" connections add --preset local --url mqtt://127.0.0.1:1 \
  --name keyring-check --user u 2>"$tmp/add.err" || fail "connections add: $(cat "$tmp/add.err")"
! grep -q "is not saved" "$tmp/add.err" || fail "the keyring refused the password: $(cat "$tmp/add.err")"
# Wine keeps the Credential Manager's (encrypted) entries here.
wine reg query 'HKCU\Software\Wine\Credential Manager' /s 2>/dev/null | grep -qi iotstudio ||
  fail "no iotstudio credential in Wine's Credential Manager"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
step "installed iotstudio.exe serve --mqtt 127.0.0.1:$port --ws off"
wine "$exe" serve --mqtt "127.0.0.1:$port" --ws off >"$tmp/serve.log" 2>&1 &
serve_pid=$!
topic=check/windows/$$
payload="hello from Linux $(date +%s)"
published=
for _ in $(seq 60); do
  if mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$topic" -m "$payload" 2>/dev/null; then
    published=1
    break
  fi
  kill -0 "$serve_pid" 2>/dev/null || fail "serve exited: $(cat "$tmp/serve.log")"
  sleep 1
done
[ -n "$published" ] || fail "mosquitto_pub could not reach serve on 127.0.0.1:$port in 60 s: $(cat "$tmp/serve.log")"

data="$appdata/iotstudio"
[ -d "$data/capture" ] || fail "no capture under %AppData%\\iotstudio ($data): $(ls "$appdata")"
if [ -S "$data/capture.sock" ] || [ -f "$data/capture.sock" ]; then
  step "  capture queries on the Unix socket"
elif [ -f "$data/capture.addr" ]; then
  step "  capture queries on the loopback fallback (no AF_UNIX here)"
else
  fail "neither capture.sock nor capture.addr in $data: $(cat "$tmp/serve.log")"
fi

step "installed iotstudio.exe capture query, while serve holds the capture"
found=
for _ in $(seq 20); do
  wine "$exe" capture query --topic "$topic" --format jsonl >"$tmp/query.out" 2>"$tmp/query.err" || true
  if grep -qF "$payload" "$tmp/query.out"; then
    found=1
    break
  fi
  sleep 1
done
[ -n "$found" ] || fail "capture query did not show the publish: $(cat "$tmp/query.out" "$tmp/query.err")"
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true
serve_pid=

step "uninstall"
wine msiexec /x "$root/dist/iotstudio.msi" /qn || fail "msiexec /x exited with $?"
[ ! -e "$exe" ] || fail "$exe is still there after uninstall"
[ ! -e "$install_dir" ] || fail "$install_dir is still there after uninstall: $(ls "$install_dir")"
[ ! -e "$shortcut" ] || fail "the Start-menu shortcut is still there after uninstall"
[ -z "$(arp_entries)" ] || fail "uninstall entry still there: $(arp_entries)"
[ -d "$data" ] || fail "uninstall removed the user's data in $data; it must stay"

step "upgrade: 0.0.1 then $want_version, one uninstall entry"
IOTSTUDIO_EXE=dist/iotstudio.exe IOTSTUDIO_VERSION=0.0.1 IOTSTUDIO_DIST=$tmp/old \
  packaging/windows/build.sh msi >/dev/null
wine msiexec /i "$tmp/old/iotstudio.msi" /qn || fail "msiexec /i of 0.0.1 exited with $?"
wine msiexec /i "$root/dist/iotstudio.msi" /qn || fail "msiexec /i over 0.0.1 exited with $?"
[ "$(arp_entries | wc -l)" = 1 ] || fail "want one uninstall entry after the upgrade, have: $(arp_entries)"
[ -f "$exe" ] || fail "no $exe after the upgrade"
wine msiexec /x "$root/dist/iotstudio.msi" /qn || fail "msiexec /x after the upgrade exited with $?"
[ -z "$(arp_entries)" ] && [ ! -e "$exe" ] || fail "the upgraded install did not uninstall whole"

step "ok in ${SECONDS}s"
