# optilog: `make run` sets up what is missing and runs the quick study; `make test` runs the tests.
APT_PACKAGES := libopenblas-dev libzstd-dev zlib1g-dev libsqlite3-dev pkg-config
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DB ?= optilog.sqlite

.PHONY: setup build run test bench bench-peers browser-test slurm-test fuzz clean

# Installs the system libraries only when one is missing (Debian 12).
setup:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y $$missing; \
	fi

# The Swift runtime and Foundation linked statically: a query command starts in about two
# thirds of the time (fewer libraries to load and relocate); see README, Performance.
RELEASE := swift build -c release --static-swift-stdlib

build: setup
	$(RELEASE) --product optilog

run: build
	.build/release/optilog study --preset quick --jobs 2 --db $(DB)

test: setup
	swift test

# The HTML report in a real headless Chromium (Debian's package) at desktop and phone widths, with screenshots (CI runs it too).
browser-test: setup
	@dpkg -s chromium >/dev/null 2>&1 || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)
	OPTILOG_BROWSER_TEST=1 OPTILOG_SCREENSHOT_DIR=$(CURDIR) swift test --filter BrowserReportTests

# Opt-in, as root: a real single-node Slurm (Debian's slurm-wlm and munge) runs a sharded study.
slurm-test: setup
	bash tools/slurm/test-local-slurm.sh

# Fuzz every parser for FUZZ_SECONDS each (libFuzzer); see tools/fuzz/README.md.
FUZZ_SECONDS ?= 30
fuzz: setup
	bash tools/fuzz/run.sh $(FUZZ_SECONDS)

# Engine throughput benchmark (release build); see tools/bench/README.md.
bench: setup
	$(RELEASE) --product optilog-bench && $(RELEASE) --product optilog
	.build/release/optilog-bench $(BENCH_ARGS)

# optilog against Keras and MLflow side by side (tools/bench/peers.py); sets up the peers' venv once.
bench-peers: setup
	$(RELEASE) --product optilog-bench && $(RELEASE) --product optilog
	[ -x .build-peers/venv/bin/python ] || bash tools/bench/setup_peers.sh .build-peers/venv
	python3 tools/bench/peers.py --python .build-peers/venv/bin/python --out bench-results/peers.md

clean:
	rm -rf .build
