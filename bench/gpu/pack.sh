#!/usr/bin/env bash
# Packs what a GPU machine without Rust or LLVM needs to run our GPU tests and benchmark into `.devrun/` (ignored by
# git): the release `peer` bench binary, the `gpu_device` test binary, their shared libraries (LLVM 19 and what it
# links, not libc), the JAX peer scripts and the scripts of this folder. Then, on the machine (the `device` tool:
# `run` with `carry: [".devrun"]`):
#
#     bash .devrun/run_on_device.sh            # GPU tests, then ours vs JAX on the same GPU (about 3 minutes)
#
# From the repository root: `bash bench/gpu/pack.sh`.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.devrun
mkdir -p "$out"
cargo bench --bench peer --no-run 2>/dev/null
cargo test --release -p llvm-backend --test gpu_device --no-run 2>/dev/null
newest() { ls -t target/release/deps/"$1"-* | grep -v '\.d$' | head -1; }
cp "$(newest peer)" "$out/peer"
cp "$(newest gpu_device)" "$out/gpu_device"
strip "$out/peer" "$out/gpu_device"
libs=$(mktemp -d)
mkdir -p "$libs/lib"
for bin in "$out/peer" "$out/gpu_device"; do
    ldd "$bin" | awk '/=> \// {print $3}' | grep -vE '/(libc|libm|libgcc_s|libpthread|libdl|librt)\.so' |
        while read -r lib; do cp -L "$lib" "$libs/lib/"; done
done
tar -cJf "$out/libs.tar.xz" -C "$libs" lib
rm -rf "$libs"
shared="$(dirname "$(pwd)")/shared/bench"
cp "$shared/bench_jax.py" "$shared/common.py" "$out/"
cp bench/gpu/gpu_refs.py bench/gpu/run_on_device.sh "$out/"
du -sh "$out"
