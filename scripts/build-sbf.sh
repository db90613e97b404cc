#!/usr/bin/env bash
# Builds the workspace's programs to sBPF: target/deploy/ballast.so and
# target/deploy/ballast_vault_example.so (the CPI example), or only the
# packages named as arguments (`scripts/build-sbf.sh ballast`). A package is
# looked up in programs/, then tests/programs/ (the e2e tests' test-only
# Pyth receiver: `scripts/build-sbf.sh mock-pyth-receiver`, `make mock-pyth`).
#
# 1. `cargo build-sbf` (Solana platform-tools) when it is on PATH, unless
#    BALLAST_SBF_ROUTE=nightly forces the route below.
# 2. Otherwise the route of ../shared/sbf/README.md: a pinned nightly with a
#    patched rust-src, `sbpf-linker` from crates.io, a custom target JSON and
#    `-Z build-std`. Toolchain and linker are installed once into
#    $BALLAST_SBF_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/ballast-sbf) under a
#    private RUSTUP_HOME: the user's own rustup toolchains are never touched.
#    A re-run with nothing changed only asks cargo whether it is fresh.
set -euo pipefail

NIGHTLY=nightly-2026-10-26
LINKER_VERSION=0.2.6
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=$ROOT/target/deploy
# programs/<pkg>, or tests/programs/<pkg> for test-only programs.
crate_dir() {
  if [ -f "$ROOT/programs/$1/Cargo.toml" ]; then echo "$ROOT/programs/$1"
  elif [ -f "$ROOT/tests/programs/$1/Cargo.toml" ]; then echo "$ROOT/tests/programs/$1"
  fi
}

# BALLAST_SBF_FEATURES (e.g. cu-trace) builds a variant of ballast alone;
# BALLAST_SO_OUT moves it (one package only).
FEATURES=${BALLAST_SBF_FEATURES:-}
if [ $# -gt 0 ]; then
  PACKAGES=("$@")
elif [ -n "$FEATURES" ]; then
  PACKAGES=(ballast)
else
  PACKAGES=(ballast ballast-vault-example)
fi
mkdir -p "$OUT_DIR"

say() { printf '[build-sbf] %s\n' "$*" >&2; }
fail() {
  say "FAILED: $1"
  cat >&2 <<MSG
[build-sbf] This machine could not set up the nightly sBPF route (step above).
[build-sbf] With Solana's platform-tools installed you can build instead with:
[build-sbf]     anchor build            (or: cargo build-sbf --manifest-path programs/ballast/Cargo.toml --sbf-out-dir target/deploy)
[build-sbf] Cache used: $CACHE (delete it to retry from scratch).
MSG
  exit 1
}

if [ "${BALLAST_SBF_ROUTE:-auto}" != nightly ] && command -v cargo-build-sbf >/dev/null 2>&1; then
  say "using cargo build-sbf (platform-tools)"
  for pkg in "${PACKAGES[@]}"; do
    cargo build-sbf --manifest-path "$(crate_dir "$pkg")/Cargo.toml" --sbf-out-dir "$OUT_DIR" \
      ${BALLAST_SBF_FEATURES:+--features "$BALLAST_SBF_FEATURES"}
  done
  exit 0
fi

CACHE=${BALLAST_SBF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ballast-sbf}
mkdir -p "$CACHE"
# One installer at a time (parallel make targets, two checkouts).
exec 9>"$CACHE/.lock"
flock 9

PRIVATE_RUSTUP_HOME=$CACHE/rustup
HOST=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
HOST=${HOST:-x86_64-unknown-linux-gnu}
TC_DIR=$PRIVATE_RUSTUP_HOME/toolchains/$NIGHTLY-$HOST
LINKER=$CACHE/sbpf-linker-$LINKER_VERSION/bin/sbpf-linker
STD_STAMP=$CACHE/std-patched-$NIGHTLY

# Step 1: the pinned nightly with rust-src, in a private RUSTUP_HOME.
if [ ! -x "$TC_DIR/bin/cargo" ] || [ ! -d "$TC_DIR/lib/rustlib/src/rust/library" ]; then
  command -v rustup >/dev/null 2>&1 || fail "step 1: rustup is not installed (needed to fetch $NIGHTLY)"
  say "step 1/3: installing $NIGHTLY + rust-src into $PRIVATE_RUSTUP_HOME"
  RUSTUP_HOME=$PRIVATE_RUSTUP_HOME rustup toolchain install "$NIGHTLY" \
    --profile minimal --component rust-src --no-self-update >&2 \
    || fail "step 1: rustup toolchain install $NIGHTLY --component rust-src"
  rm -f "$STD_STAMP"
fi
export PATH=$TC_DIR/bin:$PATH
export RUSTC=$TC_DIR/bin/rustc
unset RUSTUP_TOOLCHAIN

# Step 2: patch std so that it knows target_os = "solana".
if [ ! -f "$STD_STAMP" ]; then
  say "step 2/3: patching rust-src of $NIGHTLY for target_os=solana"
  python3 "$ROOT/scripts/patch-std.py" "$TC_DIR/lib/rustlib/src/rust/library" >&2 \
    || fail "step 2: scripts/patch-std.py (needs python3)"
  # build-std does not notice edited sources: drop the old std build once.
  rm -rf "$ROOT/target/sbpf"
  touch "$STD_STAMP"
fi

# Step 3: sbpf-linker, built by the same nightly (it needs LLVM 23).
if [ ! -x "$LINKER" ]; then
  say "step 3/3: installing sbpf-linker $LINKER_VERSION (about 2 minutes, once)"
  "$TC_DIR/bin/cargo" install "sbpf-linker@$LINKER_VERSION" --locked \
    --root "$CACHE/sbpf-linker-$LINKER_VERSION" >&2 \
    || fail "step 3: cargo install sbpf-linker@$LINKER_VERSION"
fi

TARGET_JSON=$CACHE/sbpf-solana-solana.json
sed "s#SBPF_LINKER_PATH#$LINKER#" "$ROOT/scripts/sbpf-solana-solana.json" > "$TARGET_JSON.tmp"
cmp -s "$TARGET_JSON.tmp" "$TARGET_JSON" 2>/dev/null && rm "$TARGET_JSON.tmp" || mv "$TARGET_JSON.tmp" "$TARGET_JSON"

# One cargo invocation per program: built together, cargo would unify the
# `ballast` crate's features and the example's `cpi` (no-entrypoint) would
# strip ballast.so's entrypoint. Each keeps its own artifacts in target/sbpf.
build_one() {
  local pkg=$1 lib=${1//-/_}
  local so
  so=$(realpath -m "${BALLAST_SO_OUT:-$OUT_DIR/$lib.so}")
  local dir
  dir=$(crate_dir "$pkg")
  say "compiling ${dir#$ROOT/} for sBPF ($NIGHTLY, build-std)"
  (cd "$dir" && RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1 \
    CARGO_PROFILE_RELEASE_LTO=fat \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    CARGO_PROFILE_RELEASE_PANIC=abort \
    "$TC_DIR/bin/cargo" build -Z build-std=std,panic_abort -Z json-target-spec \
      --release --target "$TARGET_JSON" --target-dir "$ROOT/target/sbpf${FEATURES:+-$FEATURES}" -p "$pkg" \
      ${FEATURES:+--features "$FEATURES"} >&2) \
    || { say "FAILED: compiling $pkg for sBPF (see errors above)"; exit 1; }

  local built=$ROOT/target/sbpf${FEATURES:+-$FEATURES}/sbpf-solana-solana/release/lib$lib.so
  [ -f "$built" ] || { say "FAILED: $built was not produced"; exit 1; }
  if ! cmp -s "$built" "$so"; then cp "$built" "$so"; fi
  # ELF e_machine at offset 18: 0xF7 = EM_BPF (eBPF/SBF).
  local machine
  machine=$(od -An -tx1 -j18 -N1 "$so" | tr -d ' ')
  [ "$machine" = f7 ] || { say "FAILED: $so is not an eBPF/SBF ELF (e_machine=0x$machine)"; exit 1; }
  say "wrote $so ($(stat -c %s "$so") bytes, sBPF ELF)"
}

if [ -n "${BALLAST_SO_OUT:-}" ] && [ ${#PACKAGES[@]} -ne 1 ]; then
  say "FAILED: BALLAST_SO_OUT needs exactly one package"; exit 1
fi
for pkg in "${PACKAGES[@]}"; do
  [ -n "$(crate_dir "$pkg")" ] || { say "FAILED: no programs/$pkg or tests/programs/$pkg"; exit 1; }
  build_one "$pkg"
done
