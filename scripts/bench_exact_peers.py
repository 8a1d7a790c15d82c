#!/usr/bin/env python3
r"""Time the exact engine (criterion, benches/exact.rs) beside onnxruntime and print issue 5's ratios.

Usage: python3 scripts/bench_exact_peers.py [--filter REGEX] [--skip-ours | --ours-only]
                                            [--p1-reference-reps N] [--criterion-dir DIR]
                                            [--markdown FILE] [--json FILE] [--force]
                                            [--venv PATH]

The sibling of scripts/bench_peers.py (same conventions; their shared helpers are in
scripts/_common.py): unless it already runs inside the venv, the script creates a virtual
environment (default `target/venv-onnx`, the one scripts/capture_onnx.py uses, with the same
pinned numpy, onnx and onnxruntime) and re-executes itself with that venv's python
(scripts/pinned_venv.py).

Problems (benches/exact.rs has the details):

    exact_p1_f32: float32 input [8,64,56,56] * weight [64,64,3,3], pads 1, stride 1,
                  cross-correlation (ONNX Conv), no bias: 1.85 GFLOP
    exact_p2_f64: float64 [1,1,512,512] * [1,1,15,15], zero padding (7,7) per axis ('same'),
                  true convolution (ours only: onnxruntime has no float64 Conv)

The data are bit for bit the bench's: the same 64-bit LCG (uniform in [-1, 1), seeds 51 and 52
for P1's input and weight), rounded to float32.

Ours: unless --skip-ours, the script first runs, from the repository root,

    cargo bench --bench exact -- --noplot [REGEX]

with CRITERION_HOME set to --criterion-dir (default `$CARGO_TARGET_DIR/criterion`, or
target/criterion without CARGO_TARGET_DIR), and reads DIR/<problem>/<function>/new/
estimates.json (median.point_estimate), ignoring files older than this run (stale). Its
functions: exact_t1, exact_t2 (the exact engine on 1 and 2 threads), direct_f64_t1,
direct_f64_t2 (the direct engine on float64 data: for P1 the float32 data widened), direct_f32_t1
(P1), reference_f64 (the literal reference on float64 data). The bench prints the ExactStats
(outputs certified by the fast tier vs recomputed exactly) to stderr.

The reference on P1 takes 1-2 minutes per call, too slow for criterion's 10 samples: when the
filter selects exact_p1_f32/reference_f64 the script sets EXACT_BENCH_P1_REFERENCE_REPS to
--p1-reference-reps (default 3; 0 skips it) and the bench times that many calls in a plain loop
and writes DIR/exact_p1_f32/reference_f64.custom.json (median of the calls; read here, shown
with "custom loop" instead of a criterion interval).

Peer (P1 only): onnxruntime's Conv, an in-memory model built with onnx.helper (X a graph
input, W an initializer as in an exported model, opset capture_onnx.OPSET), run on the CPU
execution provider with SessionOptions intra_op_num_threads = 1 and = 2, inter_op_num_threads
= 1, execution_mode ORT_SEQUENTIAL and the default graph optimization level. Each session is
called once to warm up, then repeatedly until it has at least MIN_REPS repetitions and
MIN_SECONDS of wall time (at most MAX_REPS); the median of `session.run` (input binding and
output allocation included, as in our bench) is reported. The warm-up output is checked
against a float64 numpy computation of the same convolution (normwise, SANITY_RTOL); a failed
check is reported and makes the exit status 1.

Ratios (time / reference time; the issue's targets in brackets):

    target A [<= 4]:  exact_tN / reference_f64 (N = 1, 2), exact_tN / direct_f64_tN
    target B [<= 25]: exact_tN / onnxruntime on N threads (P1), this run's onnxruntime and
                      the issue's figures (7.95 ms on 1 thread, 4.27 ms on 2)
    also:             exact_t1 / direct_f32_t1 (P1)

--filter REGEX is passed to criterion unchanged (it matches "<problem>/<function>") and selects
the peer problems whose id it matches (re.search), as in bench_peers.py: `--filter exact_p1`
runs P1 on both sides. Output: stdout holds the machine, versions, load averages and one
table per problem plus its ratios; --markdown FILE writes a summary table, --json FILE every
raw number. Neither replaces an existing file without --force. Progress and cargo's output go
to stderr.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import pinned_venv
from _common import (REPO, THREAD_VARS, compile_filter, fmt_load, fmt_ms, machine,
                     machine_line, read_criterion, refuse_existing, run_criterion, rustc,
                     target_dir, time_call, write_output, written)  # scripts/_common.py
from capture_onnx import IR_VERSION, NUMPY_VERSION, ONNX_VERSION, OPSET, ORT_VERSION

REEXEC_GUARD = "CONV_ORACLE_BENCH_EXACT_PEERS_REEXEC"

MIN_REPS = 20
MIN_SECONDS = 2.0
MAX_REPS = 1000
# float32 accumulation of 576 products of values in [-1, 1): ~1e-7 normwise relative; a wrong
# pad, flip or layout gives O(1).
SANITY_RTOL = 1e-5

# (id, input shape, weight shape, pads, peer threads) -- mirrors benches/exact.rs.
PROBLEMS = [
    ("exact_p1_f32", (8, 64, 56, 56), (64, 64, 3, 3), 1, (1, 2)),
    ("exact_p2_f64", (1, 1, 512, 512), (1, 1, 15, 15), 7, ()),
]
SEEDS = {"exact_p1_f32": (51, 52), "exact_p2_f64": (53, 54)}  # benches/exact.rs
OURS = ("exact_t1", "exact_t2", "direct_f64_t1", "direct_f64_t2", "direct_f32_t1",
        "reference_f64")
TARGET_A, TARGET_B = 4.0, 25.0
# onnxruntime on P1 as the issue measured it on this machine (ms by thread count); the ratios
# to these are printed beside the ratios to this run's onnxruntime.
ISSUE_ORT_MS = {1: 7.95, 2: 4.27}
P1_REFERENCE = "exact_p1_f32/reference_f64"  # timed by the bench's own loop, not criterion
REFERENCE_REPS_VAR = "EXACT_BENCH_P1_REFERENCE_REPS"


def default_criterion_dir():
    return os.path.join(target_dir(), "criterion")


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="See the module docstring (top of scripts/bench_exact_peers.py) for details.")
    ap.add_argument("--filter", metavar="REGEX",
                    help="passed to criterion; also selects the peer problems whose id matches")
    side = ap.add_mutually_exclusive_group()
    side.add_argument("--skip-ours", action="store_true", help="only time onnxruntime")
    side.add_argument("--ours-only", action="store_true",
                      help="only run and read our criterion benchmark")
    ap.add_argument("--p1-reference-reps", metavar="N", type=int, default=3,
                    help="calls of the reference on P1, timed outside criterion (~1-2 min "
                         "each); 0 skips it; default %(default)s")
    ap.add_argument("--criterion-dir", metavar="DIR", default=default_criterion_dir(),
                    help="criterion's output directory (CRITERION_HOME); default %(default)s")
    ap.add_argument("--markdown", metavar="FILE", help="write the summary table here")
    ap.add_argument("--json", metavar="FILE", help="write every raw number here")
    ap.add_argument("--force", action="store_true", help="replace existing output files")
    ap.add_argument("--venv", metavar="PATH", default=os.path.join(REPO, "target", "venv-onnx"),
                    help="the pinned virtual environment; default %(default)s")
    args = ap.parse_args()

    refuse_existing((args.markdown, args.json), args.force)
    filter_re = compile_filter(args.filter)

    # numpy's BLAS (the float64 sanity computation) single-threaded; onnxruntime's threads are
    # set per session. Inherited by the re-exec and by cargo bench (which ignores them).
    for var in THREAD_VARS:
        os.environ[var] = "1"
    pinned_venv.ensure(args.venv, {"numpy": NUMPY_VERSION, "onnx": ONNX_VERSION,
                                   "onnxruntime": ORT_VERSION}, REEXEC_GUARD)
    sys.exit(run(args, filter_re))


# --------------------------------------------------------------------------------------------
# Everything below runs inside the venv.


def run(args, filter_re):
    import numpy as np
    import onnx
    import onnxruntime as ort

    assert np.__version__ == NUMPY_VERSION, np.__version__
    assert onnx.__version__ == ONNX_VERSION, onnx.__version__
    assert ort.__version__ == ORT_VERSION, ort.__version__

    report = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": [os.path.basename(sys.argv[0])] + sys.argv[1:],
        "machine": machine(),
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "onnx": onnx.__version__, "onnxruntime": ort.__version__,
                     "rustc": None if args.skip_ours else rustc()},
        "settings": {"min_reps": MIN_REPS, "min_seconds": MIN_SECONDS, "max_reps": MAX_REPS,
                     "sanity_rtol": SANITY_RTOL, "opset": OPSET, "filter": args.filter,
                     "criterion_dir": args.criterion_dir},
        "problems": [],
    }
    report["source"] = source_state()
    print_header(report)

    ours, stale = {}, []
    if not args.skip_ours:
        started = time.time()
        reps = args.p1_reference_reps if filter_re.search(P1_REFERENCE) else 0
        os.environ[REFERENCE_REPS_VAR] = str(max(reps, 0))
        status = run_criterion(args.criterion_dir, args.filter, bench="exact")
        if status != 0:
            print(f"cargo bench failed (exit {status}); --skip-ours times only the peers",
                  file=sys.stderr)
            return status
        ours, stale = read_criterion(args.criterion_dir, started,
                                     groups=[p[0] for p in PROBLEMS])
        read_custom(args.criterion_dir, started, ours, stale)

    failed = []
    for pid, xshape, wshape, pad, peer_threads in PROBLEMS:
        run_peers = not args.ours_only and peer_threads and filter_re.search(pid)
        stale_here = [s for s in stale if s["workload"] == pid]
        if not (run_peers or pid in ours or stale_here):
            continue
        p = {"id": pid, "input_shape": list(xshape), "weight_shape": list(wshape), "pad": pad,
             "loadavg_before": list(os.getloadavg()), "peers": [], "ours": ours.get(pid, []),
             "stale_ours": stale_here}
        if run_peers:
            p["peers"] = time_onnxruntime(np, onnx, ort, pid, xshape, wshape, pad, peer_threads)
            failed += [f"{pid}: {r['name']}" for r in p["peers"] if not r["check"]["ok"]]
        p["loadavg_after"] = list(os.getloadavg())
        p["ratios"] = ratios(p)
        print_problem(p)
        report["problems"].append(p)

    if not args.skip_ours and not ours:
        print(f"no fresh criterion results under {args.criterion_dir}")
    report["machine"]["loadavg_end"] = list(os.getloadavg())
    print(f"load average at the end: {fmt_load(report['machine']['loadavg_end'])}")
    if failed:
        print(f"WARNING: onnxruntime disagrees with the float64 computation beyond "
              f"{SANITY_RTOL:g}: {', '.join(failed)}")
    if args.markdown:
        write_output(args.markdown, markdown(report), args.force)
    if args.json:
        write_output(args.json, json.dumps(report, indent=1) + "\n", args.force)
    return 1 if failed or (not args.skip_ours and not ours) else 0


def source_state():
    """The git HEAD and a sha256 of every modified or untracked file under src/ (the engines
    change between runs while they are being worked on)."""
    import hashlib
    import subprocess

    def git(*a):
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout

    dirty = {}
    for line in git("status", "--porcelain", "--untracked-files=all", "--", "src").splitlines():
        path = line[3:]
        try:
            with open(os.path.join(REPO, path), "rb") as fh:
                dirty[path] = hashlib.sha256(fh.read()).hexdigest()[:16]
        except OSError:
            dirty[path] = None  # deleted
    return {"git_head": git("rev-parse", "HEAD").strip() or None, "dirty_src_sha256": dirty}


def print_header(report):
    m, v = report["machine"], report["versions"]
    print(f"conv-oracle exact-engine benchmark (issue 5), {report['started']}")
    print(machine_line(m))
    rust = f", {v['rustc']}" if v["rustc"] else ""
    print(f"python {v['python']}, numpy {v['numpy']}, onnx {v['onnx']}, onnxruntime "
          f"{v['onnxruntime']}{rust}")
    src = report["source"]
    head = (src["git_head"] or "?")[:12]
    print(f"source: git {head}" + "".join(f", {p} {h}" for p, h in src["dirty_src_sha256"].items()
                                          if p.startswith("src/engine/")))
    print(f"onnxruntime: one warm-up, then >= {MIN_REPS} runs and >= {MIN_SECONDS:g} s (at most "
          f"{MAX_REPS}); median. ours: criterion median. ratio = time / reference time")
    print(flush=True)


def read_custom(criterion_dir, started, ours, stale):
    """Adds DIR/<problem>/reference_f64.custom.json (the bench's own loop) when fresh."""
    for pid, *_ in PROBLEMS:
        path = os.path.join(criterion_dir, pid, "reference_f64.custom.json")
        if not os.path.isfile(path):
            continue
        when, is_stale = written(path, started)
        if is_stale:
            stale.append({"workload": pid, "method": "reference_f64 (custom loop)",
                          "path": path, "written": when})
            continue
        with open(path) as fh:
            c = json.load(fh)
        ours.setdefault(pid, []).append({
            "name": c["name"], "median_ms": c["median_ns"] / 1e6,
            "median_ci_ms": None, "custom": c, "path": path, "written": when})


# --------------------------------------------------------------------------------------------
# The data (benches/exact.rs's generator, bit for bit)


def lcg_data(np, shape, seed):
    """benches/exact.rs's `lcg_data(shape, seed, LCG_INCREMENT)` (benches/common/mod.rs):
    uniform in [-1, 1) from a 64-bit LCG, C order."""
    a, c, mask = 6364136223846793005, 1442695040888963407, (1 << 64) - 1
    s = (seed * a + c) & mask
    n = int(np.prod(shape))
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        s = (s * a + c) & mask
        out[i] = s >> 11
    return (out / float(1 << 53) * 2.0 - 1.0).reshape(shape)


def conv_f64(np, x, w, pad):
    """Float64 cross-correlation, stride 1, zero pads `pad` on both spatial axes (sanity)."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    w = w.astype(np.float64)
    kh, kw = w.shape[2:]
    oh, ow = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    y = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for i in range(kh):
        for j in range(kw):
            y += np.einsum("oc,nchw->nohw", w[:, :, i, j], x[:, :, i:i + oh, j:j + ow],
                           optimize=True)
    return y


# --------------------------------------------------------------------------------------------
# onnxruntime


def conv_model(onnx, x, w, pad):
    from onnx import TensorProto, helper, numpy_helper

    out_shape = [x.shape[0], w.shape[0], x.shape[2] + 2 * pad - w.shape[2] + 1,
                 x.shape[3] + 2 * pad - w.shape[3] + 1]
    node = helper.make_node("Conv", ["X", "W"], ["Y"], kernel_shape=list(w.shape[2:]),
                            pads=[pad, pad, pad, pad], strides=[1, 1], dilations=[1, 1],
                            group=1)
    graph = helper.make_graph(
        [node], "conv",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, out_shape)],
        initializer=[numpy_helper.from_array(w, "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def time_onnxruntime(np, onnx, ort, pid, xshape, wshape, pad, thread_counts):
    xs, ws = SEEDS[pid]
    print(f"{pid}: generating the bench's data ...", file=sys.stderr, flush=True)
    x = lcg_data(np, xshape, xs).astype(np.float32)
    w = lcg_data(np, wshape, ws).astype(np.float32)
    want = conv_f64(np, x, w, pad)
    model = conv_model(onnx, x, w, pad)
    results = []
    for n in thread_counts:
        so = ort.SessionOptions()
        so.intra_op_num_threads = n
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
        print(f"{pid}: onnxruntime intra_op_num_threads={n} ...", file=sys.stderr, flush=True)
        out, times = time_call(lambda: sess.run(None, {"X": x})[0], MIN_REPS, MIN_SECONDS,
                               MAX_REPS)
        rel = float(np.linalg.norm(out.astype(np.float64) - want) / np.linalg.norm(want))
        results.append({
            "name": f"onnxruntime_t{n}", "threads": n,
            "label": f"onnxruntime Conv, intra_op_num_threads={n}",
            "graph_optimization_level": str(so.graph_optimization_level),
            "median_ms": 1e3 * float(np.median(times)), "reps": len(times),
            "times_ms": [1e3 * t for t in times],
            "check": {"ok": rel <= SANITY_RTOL, "rel_err": rel}})
        del sess
    return results


# --------------------------------------------------------------------------------------------
# Ratios and tables


def ratios(p):
    """[(label, numerator, denominator, value, target or None)] for the issue's targets."""
    t = {r["name"]: r["median_ms"] for r in p["ours"] + p["peers"]}
    out = []

    def add(label, num, den, target):
        if num in t and den in t:
            out.append({"label": label, "num": num, "den": den, "ratio": t[num] / t[den],
                        "target": target})

    for n in (1, 2):
        add(f"A: exact_t{n} / reference_f64", f"exact_t{n}", "reference_f64", TARGET_A)
    for n in (1, 2):
        add(f"A: exact_t{n} / direct_f64_t{n}", f"exact_t{n}", f"direct_f64_t{n}", TARGET_A)
    for n in (1, 2):
        add(f"B: exact_t{n} / onnxruntime_t{n}", f"exact_t{n}", f"onnxruntime_t{n}", TARGET_B)
    if p["id"] == "exact_p1_f32":
        for n, ms in ISSUE_ORT_MS.items():
            if f"exact_t{n}" in t:
                out.append({"label": f"B: exact_t{n} / issue's ort {ms:g} ms",
                            "num": f"exact_t{n}", "den": f"issue_onnxruntime_t{n}",
                            "ratio": t[f"exact_t{n}"] / ms, "target": TARGET_B})
    add("exact_t1 / direct_f32_t1", "exact_t1", "direct_f32_t1", None)
    for n in (1, 2):
        add(f"direct_f64_t{n} / onnxruntime_t{n}", f"direct_f64_t{n}", f"onnxruntime_t{n}", None)
    return out


def print_problem(p):
    print(f"{p['id']}: input {'x'.join(map(str, p['input_shape']))}, weight "
          f"{'x'.join(map(str, p['weight_shape']))}, pads {p['pad']} (load average "
          f"{fmt_load(p['loadavg_before'])} before, {fmt_load(p['loadavg_after'])} after)")
    rows = [("function", "median ms", "95% CI ms", "reps", "check")]
    order = {n: i for i, n in enumerate(OURS)}
    for r in sorted(p["ours"], key=lambda r: order.get(r["name"], len(OURS))):
        if r["median_ci_ms"] is None:
            c = r["custom"]
            rows.append((f"ours: {r['name']}", fmt_ms(r["median_ms"]),
                         f"{fmt_ms(c['min_ns'] / 1e6)}-{fmt_ms(c['max_ns'] / 1e6)}",
                         str(c["reps"]), "custom loop (min-max)"))
            continue
        lo, hi = r["median_ci_ms"]
        rows.append((f"ours: {r['name']}", fmt_ms(r["median_ms"]),
                     f"{fmt_ms(lo)}-{fmt_ms(hi)}", "", "criterion"))
    for r in p["peers"]:
        c = r["check"]
        rows.append((r["label"], fmt_ms(r["median_ms"]), "", str(r["reps"]),
                     f"{'ok' if c['ok'] else 'MISMATCH'} {c['rel_err']:.1e} vs float64"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  " + "  ".join([f"{row[0]:<{widths[0]}}"]
                               + [f"{c:>{n}}" for c, n in zip(row[1:4], widths[1:])]
                               + [row[4]]))
    for r in p["ratios"]:
        verdict = "" if r["target"] is None else (
            f"  target <= {r['target']:g}: " + ("met" if r["ratio"] <= r["target"] else
                                                f"MISSED by {r['ratio'] / r['target']:.2f}x"))
        print(f"  {r['label']:<34} {r['ratio']:10.3f}{verdict}")
    for s in p["stale_ours"]:
        print(f"  (ignored stale criterion result {s['method']}, written {s['written']})")
    print(flush=True)


def markdown(report):
    m, v = report["machine"], report["versions"]
    lines = [
        f"Median ms on {m['cpu']} ({m['logical_cpus']} logical CPUs, load average "
        f"{fmt_load(m['loadavg_start'])} at the start); onnxruntime {v['onnxruntime']}"
        + (f", {v['rustc']}" if v["rustc"] else "") + f"; {report['started'][:10]}. "
        f"Targets: A exact / float64 reference <= {TARGET_A:g}, B exact / onnxruntime <= "
        f"{TARGET_B:g} (same thread count).",
        "",
        "| problem | " + " | ".join(OURS) + " | onnxruntime_t1 | onnxruntime_t2 |",
        "|---|" + "---:|" * (len(OURS) + 2),
    ]
    for p in report["problems"]:
        t = {r["name"]: r["median_ms"] for r in p["ours"] + p["peers"]}
        cells = [fmt_ms(t[n]) if n in t else "-"
                 for n in OURS + ("onnxruntime_t1", "onnxruntime_t2")]
        lines.append(f"| {p['id']} | " + " | ".join(cells) + " |")
    lines += ["", "| problem | ratio | value | target |", "|---|---|---:|---:|"]
    for p in report["problems"]:
        for r in p["ratios"]:
            target = "-" if r["target"] is None else f"<= {r['target']:g}"
            lines.append(f"| {p['id']} | {r['label']} | {r['ratio']:.3g} | {target} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
