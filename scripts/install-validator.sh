#!/usr/bin/env bash
# Finds a `solana-test-validator` for the end-to-end tests and prints its
# absolute path on stdout (everything else goes to stderr, prefixed
# `[validator]`). Routes, in order; the first that gives a usable binary wins
# and the script says which it used:
#
# 0. $BALLAST_VALIDATOR, when set: that file, whatever its version (a
#    deliberate override; a version other than 4.2.x only gets a warning).
# 1. `solana-test-validator` on PATH (Solana developers usually have one), if
#    it is Agave >= $MIN_VERSION (older ones may not load the sBPF v3 ELF that
#    scripts/build-sbf.sh produces, and are not what the tests were run with).
# 2. The prebuilt Agave 4.2.2 binary in ../shared/validator/ (or
#    $BALLAST_SHARED_VALIDATOR_DIR) when that folder exists.
# 3. A build from crates.io, once, into $BALLAST_VALIDATOR_CACHE (default
#    ${XDG_CACHE_HOME:-~/.cache}/ballast-validator):
#        cargo install --locked agave-validator --version 4.2.2 \
#            --bin solana-test-validator --root <cache>/agave-4.2.2
#    It needs these system packages (Debian/Ubuntu names):
#        clang libclang-dev cmake pkg-config libssl-dev libudev-dev zlib1g-dev
#        protobuf-compiler libprotobuf-dev make
#    and costs about 71 CPU-minutes (35-45 min of wall time on an idle
#    two-core machine), 1.1 GB of RAM and 2.5 GB of build directory, which
#    is deleted after a successful build. BALLAST_VALIDATOR_NO_BUILD=1 (or
#    --no-build) stops before this route instead.
#
# Options: --no-build (as above), --quiet (no route messages; errors still
# printed).
set -euo pipefail

VERSION=4.2.2
MIN_VERSION=4.2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED_DIR=$(realpath -sm "${BALLAST_SHARED_VALIDATOR_DIR:-$ROOT/../shared/validator}")
CACHE=${BALLAST_VALIDATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ballast-validator}
BUILD_ROOT=$CACHE/agave-$VERSION
NO_BUILD=${BALLAST_VALIDATOR_NO_BUILD:-0}
QUIET=0
for arg in "$@"; do
  case $arg in
    --no-build) NO_BUILD=1 ;;
    --quiet) QUIET=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) echo "[validator] unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { [ "$QUIET" = 1 ] || printf '[validator] %s\n' "$*" >&2; }
err() { printf '[validator] %s\n' "$*" >&2; }

# The "X.Y.Z" of `solana-test-validator --version`
# ("solana-test-validator 4.2.2 (src:...; feat:..., client:Agave)"), or nothing.
version_of() {
  "$1" --version 2>/dev/null | sed -n 's/^solana-test-validator \([0-9][0-9.]*\).*/\1/p' | head -1
}

# Whether version $1 >= $2 (dotted, numeric).
at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

use() {
  say "using $2: $1 ($(version_of "$1"))"
  realpath -s "$1"
  exit 0
}

# Route 0: an explicit override.
if [ -n "${BALLAST_VALIDATOR:-}" ]; then
  [ -x "$BALLAST_VALIDATOR" ] || { err "FAILED: BALLAST_VALIDATOR=$BALLAST_VALIDATOR is not an executable file"; exit 1; }
  v=$(version_of "$BALLAST_VALIDATOR")
  [ -n "$v" ] || { err "FAILED: $BALLAST_VALIDATOR --version did not print a solana-test-validator version"; exit 1; }
  case $v in "$MIN_VERSION".*) ;; *) err "warning: $BALLAST_VALIDATOR is $v; the tests were run with $VERSION" ;; esac
  use "$BALLAST_VALIDATOR" "BALLAST_VALIDATOR"
fi

# Route 1: PATH.
if on_path=$(command -v solana-test-validator 2>/dev/null); then
  v=$(version_of "$on_path")
  if [ -n "$v" ] && at_least "$v" "$MIN_VERSION"; then
    use "$on_path" "the one on PATH"
  fi
  say "step 1 (PATH): skipped $on_path: version '${v:-unknown}' is older than $MIN_VERSION"
else
  say "step 1 (PATH): no solana-test-validator on PATH"
fi

# Route 2: the prebuilt binary beside the repository.
if [ -d "$SHARED_DIR" ]; then
  bin=$SHARED_DIR/solana-test-validator
  if [ -x "$bin" ] && [ -n "$(version_of "$bin")" ]; then
    use "$bin" "the prebuilt binary in $SHARED_DIR"
  fi
  say "step 2 (prebuilt): $bin is missing or does not run (--version failed)"
else
  say "step 2 (prebuilt): no $SHARED_DIR"
fi

# Route 3: an earlier build in the cache, else build it.
bin=$BUILD_ROOT/bin/solana-test-validator
if [ -x "$bin" ] && [ -n "$(version_of "$bin")" ]; then
  use "$bin" "the one built earlier into $BUILD_ROOT"
fi
if [ "$NO_BUILD" = 1 ]; then
  err "FAILED: no solana-test-validator found (PATH, $SHARED_DIR, $BUILD_ROOT) and building is off"
  err "        (unset BALLAST_VALIDATOR_NO_BUILD / drop --no-build to build Agave $VERSION from crates.io, ~71 CPU-minutes)"
  exit 1
fi

APT="apt-get install -y clang libclang-dev cmake pkg-config libssl-dev libudev-dev zlib1g-dev protobuf-compiler libprotobuf-dev make"
missing=()
for tool in cargo clang cmake pkg-config protoc make; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if command -v pkg-config >/dev/null 2>&1; then
  for lib in openssl libudev zlib; do
    pkg-config --exists "$lib" 2>/dev/null || missing+=("$lib (pkg-config)")
  done
fi
# bindgen (rocksdb, ...) loads libclang at build time.
if ! { ldconfig -p 2>/dev/null | grep -q 'libclang[-.0-9]*\.so'; } \
   && ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
  missing+=("libclang")
fi
if [ ${#missing[@]} -gt 0 ]; then
  err "FAILED: step 3 (build from crates.io): missing ${missing[*]}"
  err "        on Debian/Ubuntu: sudo $APT"
  err "        (cargo: https://rustup.rs). Or install the Solana CLI, which brings"
  err "        solana-test-validator: https://docs.anza.xyz/cli/install"
  exit 1
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
# Another process may have built it while this one waited for the lock.
if [ -x "$bin" ] && [ -n "$(version_of "$bin")" ]; then
  use "$bin" "the one built into $BUILD_ROOT"
fi
say "step 3 (build): cargo install agave-validator $VERSION --bin solana-test-validator into $BUILD_ROOT"
say "        about 71 CPU-minutes (35-45 min on an idle two-core machine), 1.1 GB RAM, 2.5 GB of $CACHE/build"
say "        log: $CACHE/build.log"
start=$SECONDS
# Outside the repository, so that its .cargo/config.toml and toolchain do not apply.
if ! (cd "$CACHE" && CARGO_TARGET_DIR=$CACHE/build cargo install --locked agave-validator \
      --version "$VERSION" --bin solana-test-validator --root "$BUILD_ROOT") >"$CACHE/build.log" 2>&1; then
  tail -n 30 "$CACHE/build.log" >&2
  err "FAILED: step 3 (build): cargo install agave-validator $VERSION (full log: $CACHE/build.log)"
  err "        system packages it needs (Debian/Ubuntu): sudo $APT"
  exit 1
fi
rm -rf "$CACHE/build"
say "built in $((SECONDS - start)) s"
[ -n "$(version_of "$bin")" ] || { err "FAILED: step 3: $bin was built but --version does not run"; exit 1; }
use "$bin" "the one just built into $BUILD_ROOT"
