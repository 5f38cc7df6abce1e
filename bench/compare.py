#!/usr/bin/env python3
"""Ours vs JAX on CPU, measured in the same run: writes BENCHMARKS.md at the repository root.

    python3 bench/compare.py [--quick] [--cases W1,W2,...] [--jax-python /tmp/jaxvenv/bin/python]

For every selected workload it runs our case (the `peer` bench binary, `benches/peer.rs`), the JAX case
(`../shared/bench/bench_jax.py`) and the numpy references it is judged against (`bench_numpy.py`: copy bandwidth,
OpenBLAS sgemm), each in its own process, interleaved (ours, JAX, refs, ours, JAX, refs, ...), and takes the median
over the repeats of each case's median seconds per call.  Standard library only.

Set up JAX once, outside the repository:

    python3 -m venv /tmp/jaxvenv && /tmp/jaxvenv/bin/pip install -q jax jaxlib flax optax numpy
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SHARED = os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
VENV_HINT = "python3 -m venv /tmp/jaxvenv && /tmp/jaxvenv/bin/pip install -q jax jaxlib flax optax numpy"


def mlp_flops(batch):
    return 2 * batch * (784 * 512 + 512 * 512 + 512 * 10)


# ------------------------------------------------------------------------------------------- the workloads
#
# A row: one line of the table.  `ours`/`jax`: case names (None: not run); `refs`: reference keys (see REFS);
# `work`/`unit`: what the rate column divides by the time (None: time only); `target`: (text, check) where check
# gets the row's medians and returns True/False/None (None: no target for this row).

def _ratio_at_most(limit):
    return lambda m: None if m.get("ratio") is None else m["ratio"] <= limit


def _w2_16m_check(m):
    if m.get("ratio") is None or m.get("copy_gbs") is None or m.get("ours_rate") is None:
        return None
    return m["ratio"] <= 1.0 and m["ours_rate"] >= 0.8 * m["copy_gbs"]


def _w3_check(n, threads):
    def check(m):
        if threads != 1:
            return None  # the target is single-threaded; the 2-thread row is reported
        ref = m.get(f"sgemm.{n}.t1")
        if ref is None or m.get("ours_rate") is None:
            return None
        return m["ours_rate"] >= 0.95 * ref
    return check


def rows():
    r = [
        dict(id="W1", group="W1", label="W1 dispatch: `x + 1` on f32[8], cached call", ours="W1.jit",
             jax="W1.jit", work=None, unit=None, refs=[],
             target=("≤ 0.25× jax.jit", _ratio_at_most(0.25))),
        dict(id="W2.16M", group="W2", label="W2 fusion: `tanh(a*b+c)*0.5 + exp(-a*a)`, n = 16M",
             ours="W2.jit.16M", jax="W2.jit.16M", work=16 * 16 * 1024 * 1024, unit="GB/s",
             refs=["copy.t1", "copy.t2"],
             target=("≤ 1× XLA and ≥ 80% of copy bandwidth", _w2_16m_check)),
        dict(id="W2.1M", group="W2", label="W2 fusion, n = 1M", ours="W2.jit.1M", jax="W2.jit.1M",
             work=16 * 1024 * 1024, unit="GB/s", refs=[], target=("≤ 1× XLA", _ratio_at_most(1.0))),
    ]
    for n in (256, 1024, 2048):
        # Default threading (both sides use both CPUs), then one thread: our process with RAYON_NUM_THREADS=1,
        # both processes pinned to CPU 0 (XLA's CPU client ignores its thread flags; pinning is what limits it).
        r.append(dict(id=f"W3.{n}", group="W3", label=f"W3 sgemm {n}³ (`matmul` under jit), all CPUs",
                      ours=f"W3.jit.{n}", jax=f"W3.jit.{n}", work=2 * n ** 3, unit="GFLOP/s",
                      refs=[f"sgemm.{n}.t1", f"sgemm.{n}.t2"],
                      target=("report only", _w3_check(n, 2))))
        r.append(dict(id=f"W3.{n}.t1", group="W3", label=f"W3 sgemm {n}³, 1 thread (pinned to CPU 0)",
                      ours=f"W3.jit.{n}", jax=f"W3.jit.{n}", work=2 * n ** 3, unit="GFLOP/s",
                      refs=[f"sgemm.{n}.t1"], pin=True, ours_env={"RAYON_NUM_THREADS": "1"},
                      target=("≥ 95% of OpenBLAS 1 thread", _w3_check(n, 1))))
    for b in (1, 128, 1024):
        tgt = ("—", lambda m: None) if b == 1 else ("≥ 1.2× faster than jax.jit (≤ 0.83×)",
                                                   _ratio_at_most(1 / 1.2))
        r.append(dict(id=f"W4.b{b}", group="W4", label=f"W4 MLP 784-512-512-10 relu forward, batch {b}",
                      ours=f"W4.jit.b{b}", jax=f"W4.jaxjit.b{b}", work=mlp_flops(b), unit="GFLOP/s", refs=[],
                      target=tgt))
    for b in (1, 128, 1024):
        r.append(dict(id=f"W4.nnjit.b{b}", group="W4",
                      label=f"W4 MLP forward as a module, batch {b}: `#[lifted_jit]` apply vs Flax `nn.jit` apply",
                      ours=f"W4.lifted.b{b}", jax=f"W4.nnjit.b{b}", work=mlp_flops(b), unit="GFLOP/s", refs=[],
                      target=("—", lambda m: None)))
    r += [
        dict(id="W5", group="W5", label="W5 MLP train step, batch 128 (value_and_grad, SGD, donated)",
             ours="W5.jit.donate", jax="W5.jit.donate", work=3 * mlp_flops(128), unit="GFLOP/s", refs=[],
             target=("—", lambda m: None), full_only_jax=True),
        dict(id="W6", group="W6", label="W6 BatchNorm + Dropout train, 256×512, vs `jax.jit(apply)`",
             ours="W6.lifted", jax="W6.jaxjit", work=256 * 512 * 4 * 2, unit="GB/s", refs=[],
             target=("—", lambda m: None)),
        dict(id="W6.nnjit", group="W6", label="W6 BatchNorm + Dropout train, 256×512, vs Flax `nn.jit`",
             ours="W6.lifted", jax="W6.nnjit", work=256 * 512 * 4 * 2, unit="GB/s", refs=[],
             target=("—", lambda m: None)),
        dict(id="W7", group="W7", label="W7 first call (trace + compile + run) of the W4 MLP, batch 128",
             ours="W7.W4.first", jax="W7.W4.stages", work=None, unit=None, refs=[],
             target=("≤ 0.5× XLA", _ratio_at_most(0.5))),
    ]
    return r


# Reference cases: key -> (script, case, label)
def refs_table(shared):
    t = {
        "copy.t1": ("bench_numpy.py", "peak.membw.copy.t1", "numpy copy 1 thread"),
        "copy.t2": ("bench_numpy.py", "peak.membw.copy.t2", "numpy copy 2 threads"),
        "sgemm.2048.t1": ("bench_numpy.py", "peak.sgemm.2048.t1", "OpenBLAS sgemm 2048, 1 thread"),
        "sgemm.2048.t2": ("bench_numpy.py", "peak.sgemm.2048.t2", "OpenBLAS sgemm 2048, 2 threads"),
    }
    for n in (256, 1024):
        t[f"sgemm.{n}.t1"] = ("ref_numpy.py", f"sgemm.{n}.t1", f"OpenBLAS sgemm {n}, 1 thread")
        t[f"sgemm.{n}.t2"] = ("bench_numpy.py", f"W3.np.{n}", f"OpenBLAS sgemm {n}, 2 threads")
    return t


# ------------------------------------------------------------------------------------------- running cases

def parse_result(stdout):
    recs = []
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            try:
                recs.append(json.loads(line[len("RESULT "):]))
            except json.JSONDecodeError:
                pass
    return recs[-1] if recs else None


def run_case(who, cmd, env, timeout, log, pin=False, extra_env=None):
    """Runs one case in its own process (pinned to CPU 0 if `pin`); returns its RESULT record."""
    if extra_env:
        env = dict(env, **extra_env)
    preexec = (lambda: os.sched_setaffinity(0, {0})) if pin else None
    t0 = time.time()
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                           preexec_fn=preexec)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = f"killed after {timeout} s", None
    rec = parse_result(out)
    wall = time.time() - t0
    if rec is None:
        tail = (err or out).strip().splitlines()[-3:]
        rec = {"error": f"no RESULT line (exit {rc}): " + " | ".join(tail)}
    rec["_cmd"] = " ".join([f"{k}={v}" for k, v in (extra_env or {}).items()] + (["taskset", "-c", "0"] if pin else [])
                           + [shlex.quote(c) for c in cmd])
    rec["_wall_s"] = wall
    log.append(rec)
    med = rec.get("median_s")
    status = "error" if "error" in rec else ("timed out" if rec.get("timed_out") else
                                             ("skipped" if rec.get("skipped") else "ok"))
    shown = fmt_time(med) if isinstance(med, (int, float)) else "-"
    print(f"    {who:>6} {cmd[cmd.index('--case') + 1]}: {shown} [{status}, {wall:.1f} s]", flush=True)
    return rec


def build_peer():
    """Builds the bench binary once; returns its path."""
    print("building: cargo bench --bench peer --no-run", flush=True)
    p = subprocess.run(["cargo", "bench", "--bench", "peer", "--no-run", "--message-format=json-render-diagnostics"],
                       cwd=REPO, capture_output=True, text=True)
    exe = None
    for line in p.stdout.splitlines():
        try:
            m = json.loads(line)
        except json.JSONDecodeError:
            continue
        if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "peer" and m.get("executable"):
            exe = m["executable"]
    if p.returncode != 0 or not exe:
        sys.stderr.write(p.stderr[-4000:])
        sys.exit("could not build the peer bench (cargo bench --bench peer --no-run); see above")
    return exe


# ------------------------------------------------------------------------------------------- formatting

def fmt_time(s):
    if s is None:
        return "—"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_rate(v, unit):
    if v is None or unit is None:
        return ""
    return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"


def med_of(recs, key="median_s"):
    vals = [r[key] for r in recs if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def cpu_info():
    model, flags = "unknown", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "unknown":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1]
    except OSError:
        pass
    isa = [x for x in ("avx2", "fma", "avx512f") if f" {x} " in f" {flags} "]
    return f"{model}, {os.cpu_count()} logical CPUs ({', '.join(isa) or 'no AVX2'})"


def jax_versions(py):
    code = ("import json, jax, jaxlib, flax, numpy; print(json.dumps({'jax': jax.__version__, "
            "'jaxlib': jaxlib.__version__, 'flax': flax.__version__, 'numpy': numpy.__version__, "
            "'devices': [str(d) for d in jax.devices()]}))")
    p = subprocess.run([py, "-c", code], capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1:] or [""]
    return json.loads(p.stdout.strip().splitlines()[-1]), None


# ------------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="one repeat per case, BENCH_MAX_WALL=10, BENCH_MIN_TIME=0.5 (both sides); skips the JAX-only "
                         "W5/W6 rows")
    ap.add_argument("--cases", default="",
                    help="comma-separated workloads or rows: W1,W2,W3.1024,W4.b128,W7 (default: all)")
    ap.add_argument("--jax-python", default="/tmp/jaxvenv/bin/python", help="python of the venv with jax and flax")
    ap.add_argument("--shared", default=DEFAULT_SHARED, help="folder of bench_jax.py / bench_numpy.py / common.py")
    ap.add_argument("--repeats", type=int, default=None, help="runs per case, interleaved (default 3; --quick: 1)")
    ap.add_argument("--max-seconds", type=float, default=20.0,
                    help="our side's budget per case stage (set-up; measurement); past it the case reports timed out")
    ap.add_argument("--backend", default=None, help="our backend (default: the default CPU backend)")
    ap.add_argument("--peer-bin", default=None, help="prebuilt peer bench binary (default: build it with cargo)")
    ap.add_argument("--no-refs", action="store_true", help="skip the numpy references")
    ap.add_argument("--output", default=os.path.join(REPO, "BENCHMARKS.md"))
    a = ap.parse_args()
    repeats = a.repeats or (1 if a.quick else 3)

    if not os.path.exists(a.jax_python):
        sys.exit(f"JAX python {a.jax_python} not found. Create the venv (outside the repository) with:\n    {VENV_HINT}")
    versions, err = jax_versions(a.jax_python)
    if versions is None:
        sys.exit(f"{a.jax_python} cannot import jax/flax ({err[0]}). Create the venv with:\n    {VENV_HINT}")
    for f in ("bench_jax.py", "bench_numpy.py", "common.py"):
        if not os.path.exists(os.path.join(a.shared, f)):
            sys.exit(f"{f} not found in {a.shared} (--shared)")

    tokens = [t.strip() for t in a.cases.split(",") if t.strip()]
    selected = [r for r in rows()
                if not tokens or any(t in (r["group"], r["id"], r["ours"]) or r["id"].startswith(t + ".")
                                     for t in tokens)]
    if not selected:
        sys.exit(f"--cases {a.cases}: no workload matches")

    peer = a.peer_bin or build_peer()
    env = dict(os.environ)
    if a.quick:
        env.setdefault("BENCH_MAX_WALL", "10")
        env.setdefault("BENCH_MIN_TIME", "0.5")
    bench_env = {k: v for k, v in env.items() if k.startswith("BENCH_")}
    refs = refs_table(a.shared)
    ours_cmd = lambda case: [peer, "--case", case, "--max-seconds", str(a.max_seconds)] + (  # noqa: E731
        ["--backend", a.backend] if a.backend else [])
    ours_timeout = 2 * a.max_seconds + 120

    def ref_cmd(key):
        script, case, _ = refs[key]
        if script == "ref_numpy.py":
            return [a.jax_python, os.path.join(HERE, script), "--shared", a.shared, "--case", case]
        return [a.jax_python, os.path.join(a.shared, script), "--case", case]

    log = []
    results = {}  # row id -> {"ours": [...], "jax": [...], refkey: [...]}
    ref_done = {}  # refkey -> list of records (a reference shared by rows runs once per repeat)
    t_start = time.time()
    for row in selected:
        print(f"{row['id']}: {row['label']}", flush=True)
        res = results.setdefault(row["id"], {"ours": [], "jax": []})
        run_jax = row["jax"] and not (a.quick and row.get("full_only_jax"))
        for _ in range(repeats):
            pin = row.get("pin", False)
            res["ours"].append(run_case("ours", ours_cmd(row["ours"]), env, ours_timeout, log, pin,
                                        row.get("ours_env")))
            if res["ours"][-1].get("skipped") and not run_jax:
                break
            if run_jax:
                res["jax"].append(run_case("jax", [a.jax_python, os.path.join(a.shared, "bench_jax.py"), "--case",
                                            row["jax"]], env, 600, log, pin))
            for key in ([] if a.no_refs else row["refs"]):
                if len(ref_done.setdefault(key, [])) < repeats:
                    ref_done[key].append(run_case("numpy", ref_cmd(key), env, 600, log))
    elapsed = time.time() - t_start

    # ---------------------------------------------------------------- the table
    backends = sorted({r["backend"] for r in log if r.get("framework") == "lifted-jit" and r.get("backend")})
    lines = ["| workload | ours | JAX | ours/JAX (time) | target | met? |", "|---|---|---|---|---|---|"]
    notes = []
    setup_notes = {}  # message -> row ids
    ref_lines = []
    ref_rate = lambda key: med_of(ref_done.get(key, []), "rate")  # noqa: E731
    for key, recs in ref_done.items():
        m = med_of(recs, "rate")
        unit = recs[0].get("rate_unit") if recs else None
        ref_lines.append(f"| {refs[key][2]} | {fmt_rate(m, unit) or '—'} | {fmt_time(med_of(recs))} | {len(recs)} |")
    for row in selected:
        res = results[row["id"]]
        ours, jax = res["ours"], res["jax"]
        m = {}
        o_t, j_t = med_of(ours), med_of(jax)
        m["ours_t"], m["jax_t"] = o_t, j_t
        work = row["work"]
        m["ours_rate"] = work / o_t / 1e9 if (work and o_t) else None
        m["jax_rate"] = work / j_t / 1e9 if (work and j_t) else None
        m["ratio"] = o_t / j_t if (o_t and j_t) else None
        for key in row["refs"]:
            m[key] = med_of(ref_done.get(key, []), "rate")
        if row["id"] == "W2.16M":
            copies = [x for x in (med_of(ref_done.get("copy.t1", []), "rate"),
                                  med_of(ref_done.get("copy.t2", []), "rate")) if x is not None]
            m["copy_gbs"] = max(copies) if copies else None

        def cell(recs, t, rate):
            if not recs:
                return "not run"
            if any(r.get("skipped") for r in recs):
                return "not yet implemented"
            if t is None:
                if any(r.get("timed_out") for r in recs):
                    return f"timed out (> {a.max_seconds:.0f} s budget)"
                return "error"
            s = fmt_time(t)
            if rate is not None:
                s += f" ({fmt_rate(rate, row['unit'])})"
            flags = []
            if any(r.get("timed_out") for r in recs):
                n = min(r.get("n_calls") or 0 for r in recs)
                flags.append(f"partial: budget, {n} calls")
            if any(r.get("timing_clean") is False for r in recs):
                flags.append("noisy")
            return s + (f" [{'; '.join(flags)}]" if flags else "")

        ours_cell = cell(ours, o_t, m["ours_rate"])
        jax_cell = cell(jax, j_t, m["jax_rate"])
        ratio = f"{m['ratio']:.2f}×" if m["ratio"] is not None else "—"
        text, check = row["target"]
        target = text
        if row["group"] == "W3":
            n = row["id"].split(".")[1]
            t1, t2 = m.get(f"sgemm.{n}.t1"), ref_rate(f"sgemm.{n}.t2")
            if row.get("pin"):
                target += f": {fmt_rate(t1 and 0.95 * t1, 'GFLOP/s') or '?'} "
                target += f"(OpenBLAS 1T {fmt_rate(t1, 'GFLOP/s') or '?'}"
                if m["ours_rate"] and t1:
                    target += f"; ours = {m['ours_rate'] / t1:.0%}"
                target += ")"
            else:
                target += f": OpenBLAS 2T {fmt_rate(t2, 'GFLOP/s') or '?'}"
                if m["ours_rate"] and t2:
                    target += f", ours = {m['ours_rate'] / t2:.0%} of it"
        if row["id"] == "W2.16M" and m.get("copy_gbs"):
            target += f": ≥ {0.8 * m['copy_gbs']:.1f} GB/s (copy {m['copy_gbs']:.1f} GB/s"
            if m["ours_rate"]:
                target += f"; ours = {m['ours_rate'] / m['copy_gbs']:.0%}"
            target += ")"
        if any(r.get("skipped") for r in ours):
            met = "not yet implemented"
        elif o_t is None:
            met = "no (timed out)" if any(r.get("timed_out") for r in ours) else "no (error)"
        else:
            ok = check(m)
            met = "—" if ok is None else ("yes" if ok else "no")
            if ok is not None and any(r.get("timed_out") for r in ours):
                met += " (partial)"
        lines.append(f"| {row['label']} | {ours_cell} | {jax_cell} | {ratio} | {target} | {met} |")
        for msg in sorted({r["error"] + (f" (in {r['error_in']})" if r.get("error_in") else "")
                           for r in ours if r.get("error")}):
            notes.append(f"- {row['id']} ours: error: {msg}")
        for msg in sorted({r["setup_fallback"] for r in ours if r.get("setup_fallback")}):
            setup_notes.setdefault(msg, []).append(row["id"])
        for msg in sorted({r["error"] for r in jax if r.get("error")}):
            notes.append(f"- {row['id']} JAX: error: {msg}")
        if row["group"] in ("W4", "W7") and o_t is not None:
            if row["group"] == "W4":
                notes.append(f"- {row['id']} first call: ours {fmt_time(med_of(ours, 'first_call_s'))}, "
                             f"JAX {fmt_time(med_of(jax, 'first_call_s'))}")
            if row["group"] == "W7":
                jn = jax[-1].get("notes", "") if jax else ""
                notes.append(f"- W7 stages: ours {ours[-1].get('notes', '')}; JAX {jn}")

    for msg, ids in setup_notes.items():
        notes.append(f"- Our input set-up (not timed), {', '.join(ids)}: {msg}")

    cmd = "python3 " + " ".join(shlex.quote(x) for x in [os.path.relpath(os.path.abspath(sys.argv[0]), REPO)]
                                + sys.argv[1:])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        "# Benchmarks: lifted-jit vs JAX on CPU",
        "",
        f"- Date: {now}",
        f"- Command: `{cmd}` (from the repository root; {repeats} interleaved run(s) per case, "
        f"{elapsed / 60:.1f} min in all)",
        f"- CPU: {cpu_info()}; {platform.system()} {platform.release()}",
        f"- Our backend: {', '.join(backends) or 'unknown'}" + (f" (`--backend {a.backend}`)" if a.backend else ""),
        f"- JAX: jax {versions['jax']}, jaxlib {versions['jaxlib']}, flax {versions['flax']}, numpy "
        f"{versions['numpy']} ({', '.join(versions['devices'])}), python `{a.jax_python}`",
        f"- Timing: median seconds per call of ≥ 20 calls after warm-up (W1: ≥ 2000), calls in chunks that another "
        f"process loaded by ≥ 10% of the machine left out when enough clean ones exist (`shared/bench/common.py`; "
        f"`benches/peer.rs` does the same); the figure is the median over the runs. "
        f"Settings: {', '.join(f'{k}={v}' for k, v in sorted(bench_env.items())) or 'defaults'}; our budget "
        f"{a.max_seconds:.0f} s per case stage.",
        "",
        "Ratios are time ratios, ours / JAX: below 1 means we are faster. \"noisy\": some calls ran while another "
        "process loaded the machine (2-vCPU VM); compare ratios, not absolute times. \"partial\": our case hit its "
        "time budget before the minimum number of calls; the figure is the median of the calls it made.",
        "",
        *lines,
        "",
    ]
    if ref_lines:
        md += ["References (numpy, same run):", "", "| reference | rate | median time | runs |", "|---|---|---|---|",
               *ref_lines, ""]
    if notes:
        md += ["Notes:", "", *notes, ""]
    md += ["<details><summary>Raw results (one record per process)</summary>", "", "```"]
    md += [json.dumps({k: v for k, v in r.items()}, sort_keys=False) for r in log]
    md += ["```", "", "</details>", ""]
    text = "\n".join(md)
    # The GPU section (measured on a GPU machine with bench/gpu/, not by this script) is kept as it was.
    gpu_marker = "\n## GPU"
    try:
        with open(a.output) as f:
            old = f.read()
        if gpu_marker in old:
            text = text.rstrip("\n") + "\n" + old[old.index(gpu_marker):]
    except OSError:
        pass
    with open(a.output, "w") as f:
        f.write(text)
    print()
    print("\n".join(lines))
    if ref_lines:
        print()
        print("| reference | rate | median time | runs |\n|---|---|---|---|")
        print("\n".join(ref_lines))
    print(f"\nwrote {a.output}")


if __name__ == "__main__":
    main()
