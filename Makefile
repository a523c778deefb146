# IoT Studio: `make run` opens the app, `make test` runs every test.
# Both first install the Debian/Ubuntu packages Fyne and the tests need
# (skipped when they are already there). Go 1.26+ must be on PATH.

# What building and running the app needs, and the font it draws emoji
# with (see TAGS).
RUN_PACKAGES := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev fonts-noto-color-emoji
# What building the Linux packages adds (dpkg-shlibdeps, xz).
PACKAGE_PACKAGES := dpkg-dev xz-utils
# What the tests add: a virtual display for the GUI smoke test and the
# window-position test (xdotool moves the window there), and real brokers
# to test connections against (mosquitto; RabbitMQ, which speaks MQTT 3.1.1
# only; Debian starts both as services on install), a real Prometheus to
# scrape the broker's metrics, and the checkers of the Linux packages
# (packaging/check-linux.sh).
TEST_PACKAGES := $(RUN_PACKAGES) xvfb xauth x11-apps xdotool imagemagick \
	mosquitto mosquitto-clients rabbitmq-server python3 prometheus $(PACKAGE_PACKAGES) \
	lintian desktop-file-utils appstream
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Fyne complains about the C locale; keep any real locale the user has.
ifeq ($(filter-out C POSIX C.UTF-8,$(LANG)),)
export LANG := en_US.UTF-8
endif

.PHONY: run test deps build vet smoke bench package

# Every build and test here uses Fyne's no_emoji tag, as the packages do
# (packaging/README.md): Fyne's bundled emoji font (4.2 MB) is parsed
# again for each text style and theme override the window draws, about
# 4.7 MB of heap each; without it the window's RSS is 30 MB less at start
# (docs/PERFORMANCE.md). Emoji come from the system's font instead
# (fonts-noto-color-emoji on Debian).
TAGS := no_emoji

# deps installs PACKAGES: what running needs, unless a target asks for more.
PACKAGES = $(RUN_PACKAGES)

run: deps
	go run -tags $(TAGS) -buildvcs=auto .

# The smoke test runs first so that go test's summary closes the output.
test: PACKAGES = $(TEST_PACKAGES)
test: deps vet
	./.ci/gui-smoke.sh
	./packaging/check-linux.sh
	go test -tags $(TAGS) -race -count=1 -timeout 20m ./...

deps:
	@command -v go >/dev/null || { echo "Go 1.26 or newer is needed: https://go.dev/doc/install"; exit 1; }
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	go build -tags $(TAGS) -buildvcs=auto -o iotstudio .

vet:
	go vet -tags $(TAGS) ./...
	@# Tests build on Windows too, where developers run them. app (and main)
	@# need cgo for Fyne's driver, so only the rest is checked here.
	GOOS=windows CGO_ENABLED=0 go vet -tags $(TAGS) $$(go list ./... | grep -v -e '/iotstudio$$' -e '/app$$')
	@unformatted=$$(gofmt -l app engine ui assets packaging main.go); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted (run gofmt -w on them):" $$unformatted; exit 1; fi

smoke: PACKAGES = $(TEST_PACKAGES)
smoke: build
	./.ci/gui-smoke.sh

# Every package this machine can build, into dist/ (packaging/README.md).
package: PACKAGES = $(RUN_PACKAGES) $(PACKAGE_PACKAGES) gcc-mingw-w64-x86-64 wixl zip
package: deps
	packaging/package.sh all

bench:
	go test -tags $(TAGS) -run '^$$' -bench . -benchtime 1x ./engine/broker/

# The Windows leg (packaging/windows/README.md): cross-builds the exe, MSI and
# zip, installs the MSI under Wine into a fresh prefix and runs what it installed.
WINDOWS_PACKAGES := gcc-mingw-w64-x86-64 wixl imagemagick zip wine wine64 mosquitto-clients python3
.PHONY: check-windows
check-windows: PACKAGES = $(WINDOWS_PACKAGES)
check-windows: deps
	./packaging/check-windows.sh
