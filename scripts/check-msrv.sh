#!/usr/bin/env bash
# Checks that the program crates' dependency trees build with rustc 1.89,
# anchor-lang 1.2's rust-version and the compiler of users who build with
# Solana platform-tools / `anchor build`. The toolchain goes into the same
# private RUSTUP_HOME as the sBPF route; the user's rustup is not touched.
set -euo pipefail
MSRV=1.89.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BALLAST_SBF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ballast-sbf}
export RUSTUP_HOME=$CACHE/rustup
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if ! rustup run "$MSRV" rustc --version >/dev/null 2>&1; then
  echo "[msrv] installing rustc $MSRV into $RUSTUP_HOME" >&2
  rustup toolchain install "$MSRV" --profile minimal --no-self-update >&2 \
    || { echo "[msrv] FAILED: rustup toolchain install $MSRV" >&2; exit 1; }
fi
flock -u 9
unset RUSTUP_TOOLCHAIN
cd "$ROOT"
rustup run "$MSRV" cargo check -p ballast -p ballast-vault-example --target-dir target/msrv
echo "[msrv] programs/ballast and programs/ballast-vault-example build with rustc $MSRV" >&2
