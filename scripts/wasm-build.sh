#!/usr/bin/env bash
# Builds clients/wasm (the program's margin engine) to WebAssembly and
# generates its JS bindings into clients/js/wasm/ (nodejs target):
#
# 1. rustc 1.95.0 with the wasm32-unknown-unknown target, in the same
#    private RUSTUP_HOME as the sBPF route ($BALLAST_SBF_CACHE, default
#    ${XDG_CACHE_HOME:-~/.cache}/ballast-sbf): the user's toolchains are not
#    touched;
# 2. wasm-bindgen-cli from crates.io at exactly the version of the
#    wasm-bindgen crate in Cargo.lock, installed once into that cache
#    (about 3 minutes); wasm-pack is not used (it downloads binaries);
# 3. cargo build --release --target wasm32-unknown-unknown (target/wasm),
#    then wasm-bindgen --target nodejs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BALLAST_SBF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ballast-sbf}
TOOLCHAIN=1.95.0
say() { printf '[wasm-build] %s\n' "$*" >&2; }
mkdir -p "$CACHE"
export RUSTUP_HOME=$CACHE/rustup
unset RUSTUP_TOOLCHAIN
BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock")
[ -n "$BINDGEN_VERSION" ] || { say "FAILED: no wasm-bindgen in Cargo.lock"; exit 1; }
BINDGEN=$CACHE/wasm-bindgen-cli-$BINDGEN_VERSION/bin/wasm-bindgen
(
  exec 9>"$CACHE/.lock"
  flock 9
  if ! rustup run "$TOOLCHAIN" rustc --print target-list >/dev/null 2>&1 \
     || [ ! -d "$RUSTUP_HOME/toolchains/$TOOLCHAIN-$(rustc -vV | sed -n 's/^host: //p')/lib/rustlib/wasm32-unknown-unknown" ]; then
    say "installing rustc $TOOLCHAIN + wasm32-unknown-unknown into $RUSTUP_HOME"
    rustup toolchain install "$TOOLCHAIN" --profile minimal --target wasm32-unknown-unknown --no-self-update >&2
  fi
  if [ ! -x "$BINDGEN" ]; then
    say "installing wasm-bindgen-cli $BINDGEN_VERSION from crates.io (once, about 3 minutes)"
    # --locked pins its dependencies as published; if the registry lacks one
    # of those exact versions, resolve the newest compatible ones instead.
    rustup run "$TOOLCHAIN" cargo install wasm-bindgen-cli --version "=$BINDGEN_VERSION" --locked \
      --root "$CACHE/wasm-bindgen-cli-$BINDGEN_VERSION" >&2 \
    || rustup run "$TOOLCHAIN" cargo install wasm-bindgen-cli --version "=$BINDGEN_VERSION" \
      --root "$CACHE/wasm-bindgen-cli-$BINDGEN_VERSION" >&2
  fi
)
say "compiling clients/wasm for wasm32-unknown-unknown"
(cd "$ROOT" && rustup run "$TOOLCHAIN" cargo build -q --release -p ballast-wasm \
  --target wasm32-unknown-unknown --target-dir target/wasm >&2)
WASM=$ROOT/target/wasm/wasm32-unknown-unknown/release/ballast_wasm.wasm
OUT=$ROOT/clients/js/wasm
"$BINDGEN" --target nodejs --out-dir "$OUT" "$WASM"
say "wrote $OUT ($(stat -c %s "$OUT/ballast_wasm_bg.wasm") bytes of wasm)"
