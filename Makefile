# Ballast: `make test` builds the sBPF program and the IDL, then runs every
# test; `make bench` measures compute units; `make demo` runs the main job on
# the embedded chain. See README.md.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: all build program idl test fuzz wasm js-setup js-test js-example unit integration bench bench-peers demo msrv lint fmt clean-sbf keeper-run-only validator mock-pyth e2e

all: build

## target/deploy/ballast.so (cargo build-sbf, or the nightly sBPF route)
program:
	bash scripts/build-sbf.sh

## target/idl/ballast.json (host-side idl-build feature)
idl:
	$(CARGO) run -q -p xtask -- idl

build: program idl

## every test: host unit tests and LiteSVM integration tests on the real .so,
## the TypeScript client's tests (node --test, litesvm npm package), then the
## end-to-end tests on a real validator (make e2e)
test: build mock-pyth
	$(CARGO) test --workspace --exclude ballast-tests --exclude ballast-e2e
	$(CARGO) test -p ballast-tests -- --show-output
	$(MAKE) --no-print-directory js-test
	$(MAKE) --no-print-directory e2e

## clients/js's npm dependencies, as pinned by its package-lock.json (npm ci)
js-setup:
	bash scripts/js-setup.sh

## the program's margin engine in WebAssembly (clients/wasm) and its JS
## bindings -> clients/js/wasm (wasm-bindgen-cli from crates.io, cached)
wasm:
	bash scripts/wasm-build.sh

## the TypeScript client: generated from target/idl/ballast.json with Codama,
## compiled, and tested on target/deploy/ballast.so; CU -> target/bench/js-cu.json
js-test: js-setup wasm
	@test -f target/idl/ballast.json || $(MAKE) --no-print-directory idl
	@test -f target/deploy/ballast.so || $(MAKE) --no-print-directory program
	cd clients/js && npm test

## docs/INTEGRATING.md's example, end to end on target/deploy/ballast.so:
## a market listed, an obligation opened, a deposit, a borrow, a refusal
js-example: build js-setup wasm
	cd clients/js && npm run example

## the e2e tests' stand-in for the Pyth receiver (tests/programs/mock-pyth-receiver)
## -> target/deploy/mock_pyth_receiver.so
mock-pyth:
	bash scripts/build-sbf.sh mock-pyth-receiver

## end-to-end: the ballast-keeper binary against solana-test-validator
## (scripts/install-validator.sh finds or builds it) running ballast.so and
## the test-only Pyth receiver; one validator per test, tests one at a time
## (each validator takes most of a core). Figures -> target/e2e/measurements.jsonl
e2e: build mock-pyth
	$(CARGO) build -q -p ballast-keeper --bins
	@rm -f target/e2e/measurements.jsonl
	validator=$$(bash scripts/install-validator.sh) && \
		BALLAST_TEST_VALIDATOR=$$validator $(CARGO) test -p ballast-e2e -- --test-threads=1 --show-output

## compute units per instruction -> target/bench/cu.json, and beside the
## peers (bench-peers) -> target/bench/peers.json; the keeper's
## liquidation scan throughput -> target/bench/keeper.json; the replay's wall
## time (30 days, 1,000 borrowers, both policies) -> target/bench/replay.json;
## the stress Monte Carlo (10,000 paths x 168 h x 10,000 obligations, and
## its scaling) -> target/bench/stress.json; the alm analysis of one
## reserve -> target/bench/alm.json
bench: program
	$(CARGO) bench -p ballast-tests --bench cu
	$(CARGO) bench -p ballast-tests --bench peers
	$(CARGO) bench -p ballast-keeper --bench scan
	$(CARGO) bench -p ballast-keeper --bench replay
	$(CARGO) bench -p ballast-keeper --bench stress
	$(CARGO) bench -p ballast-keeper --bench alm

## compute units beside Kamino (klend 1.7.x) and Solend (2.0.2) on the
## same scenario, the peers' .so from ../shared/peers -> target/bench/peers.json
bench-peers: program
	$(CARGO) bench -p ballast-tests --bench peers

## the main job: the FTX crash (SOL/USDT hourly, 2022-11-01 to 2022-11-20)
## replayed through the real program on an embedded chain, 1,000 borrowers,
## dynamic vs static collateral policy (release build: see docs/REPLAY.md)
DEMO_PRICES ?= ../shared/data/SOLUSDT_1h.csv
demo: program
	$(CARGO) run -q --release -p ballast-keeper -- replay --prices $(DEMO_PRICES) \
		--from 2022-11-01 --to 2022-11-20 --policy both \
		--json target/replay/ftx.json --chart target/replay/ftx.png

## a solana-test-validator for the end-to-end tests: PATH, else the prebuilt
## ../shared/validator, else a build from crates.io into a cache (prints its path)
validator:
	bash scripts/install-validator.sh

## the program crate still builds with rustc 1.89 (anchor-lang 1.2's floor)
msrv:
	bash scripts/check-msrv.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p ballast-keeper --no-default-features --features rpc --all-targets -- -D warnings

## the keeper for a cluster only (feature `rpc`, no `embedded`): builds, and
## links no LiteSVM
keeper-run-only:
	$(CARGO) build -p ballast-keeper --no-default-features --features rpc
	@n=$$($(CARGO) tree -p ballast-keeper --no-default-features --features rpc -e normal | grep -c litesvm); \
	if [ "$$n" != 0 ]; then echo "litesvm is linked into the rpc-only keeper ($$n lines)"; exit 1; fi; \
	echo "rpc-only keeper: no litesvm"

fmt:
	$(CARGO) fmt --all

clean-sbf:
	rm -rf target/sbpf target/deploy

## the invariant fuzzer (issue 14) on target/deploy/ballast.so: FUZZ_SEED
## (default 14), FUZZ_STEPS (default 1,000,000 operations); prints ops/s and
## the count of each instruction and refusal code; exits 1 with the shrunk
## failing sequence as a Rust test
fuzz: program
	$(CARGO) run --release -p ballast-tests --bin ballast-fuzz
