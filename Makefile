# optilog: `make run` sets up what is missing and trains; `make test` runs the test suite.
APT_PACKAGES := libopenblas-dev libzstd-dev zlib1g-dev libsqlite3-dev pkg-config
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MODEL ?= fashion_mnist
EPOCHS ?= 3

.PHONY: setup build run test bench clean

# Installs the system libraries only when one is missing (Debian 12).
setup:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y $$missing; \
	fi

build: setup
	swift build -c release --product optilog

run: build
	.build/release/optilog train --model $(MODEL) --epochs $(EPOCHS) --summary

test: setup
	swift test

# Engine throughput benchmark (release build); see tools/bench/README.md.
bench: setup
	swift build -c release --product optilog-bench
	.build/release/optilog-bench $(BENCH_ARGS)

clean:
	rm -rf .build
