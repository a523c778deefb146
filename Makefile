# IoT Studio: `make run` opens the app, `make test` runs every test.
# Both first install the Debian/Ubuntu packages Fyne and the tests need
# (skipped when they are already there). Go 1.26+ must be on PATH.

SYSTEM_PACKAGES := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev xvfb xauth x11-apps imagemagick \
	mosquitto mosquitto-clients
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Fyne complains about the C locale; keep any real locale the user has.
ifeq ($(filter-out C POSIX C.UTF-8,$(LANG)),)
export LANG := en_US.UTF-8
endif

.PHONY: run test deps build vet smoke bench

run: deps
	go run .

# The smoke test runs first so that go test's summary closes the output.
test: deps vet
	./.ci/gui-smoke.sh
	go test -race -count=1 -timeout 20m ./...

deps:
	@command -v go >/dev/null || { echo "Go 1.26 or newer is needed: https://go.dev/doc/install"; exit 1; }
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	go build -o iotstudio .

vet:
	go vet ./...

smoke: build
	./.ci/gui-smoke.sh

bench:
	go test -run '^$$' -bench . -benchtime 1x ./engine/broker/
