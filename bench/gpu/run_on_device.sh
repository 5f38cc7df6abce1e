#!/usr/bin/env bash
# On a GPU machine, from the folder `bench/gpu/pack.sh` filled: the GPU differential tests, then the peer workloads on
# our `llvm-cuda` backend and in JAX on the same GPU, with references (copy bandwidth, cuBLAS sgemm through JAX).
cd "$(dirname "$0")"
mkdir -p /tmp/ljit-libs && tar -xJf libs.tar.xz -C /tmp/ljit-libs
export LD_LIBRARY_PATH=/tmp/ljit-libs/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv
echo "== GPU tests"
LIFTED_JIT_GPU_TESTS=1 LIFTED_JIT_GPU_CASES=${LIFTED_JIT_GPU_CASES:-700} timeout 150 ./gpu_device 2>&1 |
    grep -E "^test |test result|panicked|case\(s\) failed|differ|GPU run failed" | head -40
cases="W1.jit W2.jit.16M W2.jit.1M W3.jit.1024 W3.jit.2048 W4.jit.b1 W4.jit.b128 W4.jit.b1024"
for c in $cases R1.jit.softmax R2.jit.mean0; do
    echo "== ours $c"
    timeout 60 ./peer --case "$c" --backend llvm-cuda --max-seconds 5 2>&1 | grep -o 'RESULT.*' | cut -c1-700
done
# Matrix products on TF32 tensor cores, as JAX's default precision on this GPU multiplies.
for c in W3.jit.2048 W4.jit.b128 W4.jit.b1024; do
    echo "== ours $c LIFTED_JIT_DEFAULT_MATMUL_PRECISION=tensorfloat32"
    LIFTED_JIT_DEFAULT_MATMUL_PRECISION=tensorfloat32 timeout 60 ./peer --case "$c" --backend llvm-cuda \
        --max-seconds 5 2>&1 | grep -o 'RESULT.*' | cut -c1-700
done
# The reductions again with a thread per output element (no block folds), to compare.
for c in R1.jit.softmax R2.jit.mean0; do
    echo "== ours $c LIFTED_JIT_GPU_BLOCK_REDUCE=0"
    LIFTED_JIT_GPU_BLOCK_REDUCE=0 timeout 60 ./peer --case "$c" --backend llvm-cuda --max-seconds 5 2>&1 |
        grep -o 'RESULT.*' | cut -c1-700
done
PY=""
for p in python3 /usr/bin/python3 /opt/conda/bin/python; do
    if "$p" -c "import jax" 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then echo "no python with jax: JAX side skipped"; exit 0; fi
timeout 120 "$PY" gpu_refs.py 2>&1 | grep -E "JAX|REF"
for c in $cases; do
    c=${c/W4.jit/W4.jaxjit}
    echo "== jax $c"
    timeout 60 "$PY" bench_jax.py --case "$c" 2>&1 | grep -o 'RESULT.*' | cut -c1-700
done
