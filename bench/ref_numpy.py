#!/usr/bin/env python3
"""OpenBLAS sgemm reference at the sizes and thread counts that ../shared/bench/bench_numpy.py does not list
(its cases: 2048 at 1 and 2 threads, 256/1024/2048 at 2 threads).  Same code: it calls bench_numpy's own sgemm case
builder, so the timing and the RESULT line are exactly those of bench_numpy.py.

    python ref_numpy.py --shared ../../shared/bench --case sgemm.256.t1
"""
import argparse
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True, help="folder holding bench_numpy.py and common.py")
    ap.add_argument("--case", required=True, help="sgemm.N.tT")
    a = ap.parse_args()
    _, n, t = a.case.split(".")
    sys.path.insert(0, os.path.abspath(a.shared))
    import bench_numpy  # noqa: E402  (sets OPENBLAS_NUM_THREADS itself before importing numpy)

    bench_numpy._sgemm(int(n), int(t.lstrip("t")), "W3")()


if __name__ == "__main__":
    main()
