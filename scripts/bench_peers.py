#!/usr/bin/env python3
r"""Time peer convolutions (scipy, numpy) beside our criterion benchmark and print median ratios.

Usage: python3 scripts/bench_peers.py [--filter REGEX] [--skip-ours | --ours-only]
                                      [--criterion-dir DIR] [--markdown FILE] [--json FILE]
                                      [--force] [--venv PATH]

Unless it already runs inside the venv, the script creates a virtual environment (default
`target/venv-scipy`, the one scripts/capture_scipy.py uses, with the same pinned numpy and
scipy), and re-executes itself with that venv's python (scripts/pinned_venv.py).

Workloads (float64, mode 'full', standard normal data from numpy's default_rng, DATA_SEED):

    w1_k3, w1_k15, w1_k63:        2-D 512x512 image * 3x3, 15x15, 63x63 kernel
    w2_k16, w2_k1024, w2_k65536:  1-D 1,000,000 samples * 16, 1024, 65536 taps

Peers: scipy.signal.fftconvolve and oaconvolve; scipy.signal.convolve(method='direct') and the
other direct-sum peers only below a multiply count (PEERS, `max_mults`; above it the table says
"skipped (too slow)"); scipy.ndimage.convolve (2-D) / convolve1d (1-D) with mode='constant',
which give the SAME-SIZE output, not the full one, and are labelled so; numpy.convolve (1-D).
Everything runs single-threaded (OMP/OPENBLAS/MKL_NUM_THREADS=1 before numpy is imported;
scipy.fft's default of one worker is asserted). Each peer is called once to warm up, then
repeatedly until it has at least MIN_REPS repetitions and MIN_SECONDS of wall time (at most
MAX_REPS); the median is reported. The warm-up result is checked against fftconvolve's
(normwise, SANITY_RTOL; same-size outputs against the matching slice of the full result) to
catch a mis-wired call: a failed check is reported and makes the exit status 1, but all
numbers are still printed and written.

Ours: unless --skip-ours, the script first runs, from the repository root,

    cargo bench --bench workloads -- --noplot [REGEX]

with CRITERION_HOME set to --criterion-dir (default target/criterion), then reads
DIR/<workload>/<method>/new/estimates.json for every method directory it finds (direct, fft,
overlap-add, auto, ...), taking median.point_estimate (ns). A file older than the start of this
run is a stale result of an earlier run and is ignored (and listed). If cargo bench fails, the
script stops before timing any peer.

--filter REGEX is passed to criterion unchanged (it matches "<workload>/<method>") and selects
the peer workloads whose id it matches (re.search), so `--filter w1` runs w1_k3, w1_k15 and
w1_k63 on both sides. Anchor a workload with `^w1_k3/` for criterion, or `w1_k3\b` for both
(`w1_k3$` matches no criterion id); a method-only filter such as `fft` selects no peers.

Output: on stdout the machine (CPU model, CPU count, load average), the versions, and one table
per workload: method, median ms, ratio to the best scipy FFT method (the faster of fftconvolve
and oaconvolve), ratio to the best peer of any kind (ratios are time / reference time, so below
1 is faster), repetitions and the sanity check. --markdown FILE writes a one-row-per-workload
summary table for the README; --json FILE writes every raw number (each repetition's time, the
criterion confidence intervals, the checks, the load). Neither replaces an existing file
without --force (checked before anything runs). Progress and cargo's output go to stderr.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import pinned_venv  # scripts/pinned_venv.py (the script's own folder is on sys.path)
from _common import (REPO, THREAD_VARS, compile_filter, fmt_load, fmt_ms, machine,
                     machine_line, read_criterion, refuse_existing, run_criterion, rustc,
                     time_call, write_output)  # scripts/_common.py, shared by the scripts
from capture_scipy import NUMPY_VERSION, SCIPY_VERSION  # one place for the pins

REEXEC_GUARD = "CONV_ORACLE_BENCH_PEERS_REEXEC"

DATA_SEED = 20261127  # the crate's properties::DEFAULT_SEED; the values do not affect timing
MIN_REPS = 7
MIN_SECONDS = 1.0
MAX_REPS = 50
# Loose on purpose: FFT round-off on this data is ~1e-15 relative; a wrong mode, flip or
# offset gives O(1).
SANITY_RTOL = 1e-8

# (id, in1 shape, in2 shape), all float64, mode 'full'.
WORKLOADS = [
    ("w1_k3", (512, 512), (3, 3)),
    ("w1_k15", (512, 512), (15, 15)),
    ("w1_k63", (512, 512), (63, 63)),
    ("w2_k16", (1_000_000,), (16,)),
    ("w2_k1024", (1_000_000,), (1024,)),
    ("w2_k65536", (1_000_000,), (65536,)),
]
SCIPY_FFT_PEERS = ("fftconvolve", "oaconvolve")  # "best scipy FFT method" is the faster one
REFERENCE_PEER = "fftconvolve"  # every other result is checked against its output
OUR_FFT_FAMILY = ("fft", "overlap-add")


def describe(shape1, shape2):
    """'2-D 512x512 * 3x3'."""
    return f"{len(shape1)}-D " + " * ".join("x".join(map(str, s)) for s in (shape1, shape2))


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="See the module docstring (top of scripts/bench_peers.py) for the details.")
    ap.add_argument("--filter", metavar="REGEX",
                    help="passed to criterion; also selects the peer workloads whose id matches")
    side = ap.add_mutually_exclusive_group()
    side.add_argument("--skip-ours", action="store_true", help="only time the peers")
    side.add_argument("--ours-only", action="store_true",
                      help="only run and read our criterion benchmark")
    ap.add_argument("--criterion-dir", metavar="DIR",
                    default=os.path.join(REPO, "target", "criterion"),
                    help="criterion's output directory (CRITERION_HOME); default %(default)s")
    ap.add_argument("--markdown", metavar="FILE", help="write the README summary table here")
    ap.add_argument("--json", metavar="FILE", help="write every raw number here")
    ap.add_argument("--force", action="store_true", help="replace existing output files")
    ap.add_argument("--venv", metavar="PATH", default=os.path.join(REPO, "target", "venv-scipy"),
                    help="the pinned virtual environment; default %(default)s")
    args = ap.parse_args()

    # Refuse before anything slow runs (and again after the re-exec, harmlessly).
    refuse_existing((args.markdown, args.json), args.force)
    filter_re = compile_filter(args.filter)

    # Before numpy is imported anywhere (and inherited by the re-exec and by cargo bench).
    for var in THREAD_VARS:
        os.environ[var] = "1"
    pinned_venv.ensure(args.venv, {"numpy": NUMPY_VERSION, "scipy": SCIPY_VERSION}, REEXEC_GUARD)
    sys.exit(run(args, filter_re))


# --------------------------------------------------------------------------------------------
# Everything below runs inside the venv.


def run(args, filter_re):
    import numpy as np
    import scipy

    assert np.__version__ == NUMPY_VERSION, np.__version__
    assert scipy.__version__ == SCIPY_VERSION, scipy.__version__

    report = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": [os.path.basename(sys.argv[0])] + sys.argv[1:],
        "machine": machine(),
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": scipy.__version__, "rustc": None if args.skip_ours else rustc()},
        "settings": {"data_seed": DATA_SEED, "min_reps": MIN_REPS, "min_seconds": MIN_SECONDS,
                     "max_reps": MAX_REPS, "sanity_rtol": SANITY_RTOL,
                     "threads": {v: os.environ[v] for v in THREAD_VARS}, "filter": args.filter},
        "workloads": [],
    }
    print_header(report)

    # Ours first: a missing or broken bench stops the run before minutes of peer timing.
    ours, stale = {}, []
    if not args.skip_ours:
        started = time.time()
        status = run_criterion(args.criterion_dir, args.filter, bench="workloads")
        if status != 0:
            print(f"cargo bench failed (exit {status}); --skip-ours times only the peers",
                  file=sys.stderr)
            return status
        ours, stale = read_criterion(args.criterion_dir, started,
                                     groups=[w[0] for w in WORKLOADS])

    failed_checks = []
    for wid, shape1, shape2 in WORKLOADS:
        run_peers = not args.ours_only and filter_re.search(wid)
        stale_here = [s for s in stale if s["workload"] == wid]
        if not (run_peers or wid in ours or stale_here):
            continue
        w = {"id": wid, "in1_shape": list(shape1), "in2_shape": list(shape2), "mode": "full",
             "dtype": "float64", "loadavg_before": list(os.getloadavg()), "peers": [],
             "ours": ours.get(wid, []), "stale_ours": stale_here}
        if run_peers:
            w["peers"] = time_peers(np, wid, shape1, shape2)
            failed_checks += [f"{wid}: {p['label']}" for p in w["peers"]
                              if p.get("check") and not p["check"]["ok"]]
        w["loadavg_after"] = list(os.getloadavg())
        add_ratios(w)
        print_workload(w)
        report["workloads"].append(w)

    if not args.skip_ours and not ours:
        print(f"no fresh criterion results under {args.criterion_dir}")
    report["machine"]["loadavg_end"] = list(os.getloadavg())
    print(f"load average at the end: {fmt_load(report['machine']['loadavg_end'])}")
    if failed_checks:
        print("WARNING: these peers disagree with fftconvolve beyond the sanity tolerance "
              f"({SANITY_RTOL:g}); their times may not measure the same job:")
        for f in failed_checks:
            print(f"  {f}")

    if args.markdown:
        write_output(args.markdown, markdown(report), args.force)
    if args.json:
        write_output(args.json, json.dumps(report, indent=1) + "\n", args.force)
    return 1 if failed_checks or (not args.skip_ours and not ours) else 0


def print_header(report):
    m, v = report["machine"], report["versions"]
    print(f"conv-oracle peer benchmark, {report['started']}")
    print(machine_line(m))
    rust = f", {v['rustc']}" if v["rustc"] else ""
    print(f"python {v['python']}, numpy {v['numpy']}, scipy {v['scipy']}{rust}; single-threaded "
          f"({', '.join(f'{t}=1' for t in THREAD_VARS)}, scipy.fft workers=1)")
    print(f"timing: one warm-up, then >= {MIN_REPS} repetitions and >= {MIN_SECONDS:g} s "
          f"(at most {MAX_REPS}); median. ratio = time / reference time (below 1 is faster)")
    print(flush=True)


# --------------------------------------------------------------------------------------------
# The peers


def peers():
    """The peer table: (name, label, ranks, output, max_mults, call).

    `output` is 'full' or 'same' (same-size as in1, centred at kernel_size // 2, which is where
    scipy.ndimage puts the kernel's origin for odd and even sizes alike). `max_mults` bounds the
    multiply count in1.size * in2.size of the direct-sum peers: scipy.signal.convolve's direct
    N-D loop runs at ~3e7 multiplies/s here, hence 3e8 (the 1-D case is numpy.convolve inside,
    but keeps the one limit); numpy.convolve and scipy.ndimage run at ~0.5-6e9/s, hence 1e10,
    which keeps every timed call under ~20 s and skips only w2_k65536 (6.6e10).
    """
    import numpy as np
    import scipy.fft
    import scipy.ndimage as ndi
    import scipy.signal as ss

    assert scipy.fft.get_workers() == 1, scipy.fft.get_workers()
    return [
        ("fftconvolve", "scipy.signal.fftconvolve", (1, 2), "full", None,
         lambda a, b: ss.fftconvolve(a, b, mode="full")),
        ("oaconvolve", "scipy.signal.oaconvolve", (1, 2), "full", None,
         lambda a, b: ss.oaconvolve(a, b, mode="full")),
        ("signal.convolve direct", "scipy.signal.convolve(method='direct')", (1, 2), "full",
         3e8, lambda a, b: ss.convolve(a, b, mode="full", method="direct")),
        ("ndimage.convolve (same-size)",
         "scipy.ndimage.convolve [SAME-SIZE output, mode='constant']", (2,), "same", 1e10,
         lambda a, b: ndi.convolve(a, b, mode="constant")),
        ("ndimage.convolve1d (same-size)",
         "scipy.ndimage.convolve1d [SAME-SIZE output, mode='constant']", (1,), "same", 1e10,
         lambda a, b: ndi.convolve1d(a, b, mode="constant")),
        ("numpy.convolve", "numpy.convolve(mode='full')", (1,), "full", 1e10,
         lambda a, b: np.convolve(a, b, mode="full")),
    ]


def time_peers(np, wid, shape1, shape2):
    """Time every peer that applies to this workload; fftconvolve first (the reference)."""
    # One generator per workload, so --filter does not change the data of the others.
    rng = np.random.default_rng([DATA_SEED, [w[0] for w in WORKLOADS].index(wid)])
    a, b = rng.standard_normal(shape1), rng.standard_normal(shape2)
    mults = a.size * b.size
    reference, results = None, []
    for name, label, ranks, output, max_mults, call in peers():
        if a.ndim not in ranks:
            continue
        r = {"name": name, "label": label, "output": output}
        results.append(r)
        if max_mults is not None and mults > max_mults:
            r["skipped"] = f"too slow: {mults:.2e} multiplies > {max_mults:.0e}"
            continue
        print(f"{wid}: {label} ...", file=sys.stderr, flush=True)
        out, times = time_call(lambda: call(a, b), MIN_REPS, MIN_SECONDS, MAX_REPS)
        r.update(median_ms=1e3 * float(np.median(times)), reps=len(times),
                 times_ms=[1e3 * t for t in times])
        if name == REFERENCE_PEER:
            reference = out
        else:
            r["check"] = check(np, out, reference, output, b.shape)
    return results


def check(np, out, reference, output, kernel_shape):
    """Normwise relative difference from fftconvolve's full result (or its same-size slice)."""
    if output == "same":
        reference = reference[tuple(slice(k // 2, k // 2 + n)
                                    for k, n in zip(kernel_shape, out.shape))]
    if out.shape != reference.shape:
        return {"ok": False, "rel_err": None,
                "note": f"shape {list(out.shape)} != {list(reference.shape)}"}
    rel = float(np.linalg.norm(out - reference) / np.linalg.norm(reference))
    return {"ok": rel <= SANITY_RTOL, "rel_err": rel}


# --------------------------------------------------------------------------------------------
# Ratios and tables


def best(results, names=None):
    """The fastest timed result (optionally among `names`), or None."""
    timed = [r for r in results if "median_ms" in r and (names is None or r["name"] in names)]
    return min(timed, key=lambda r: r["median_ms"], default=None)


def add_ratios(w):
    """Each result's ratio to the best scipy FFT peer and to the best peer of any kind."""
    refs = {"best_scipy_fft": best(w["peers"], SCIPY_FFT_PEERS), "best_peer": best(w["peers"])}
    for key, ref in refs.items():
        w[key] = {"name": ref["name"], "median_ms": ref["median_ms"]} if ref else None
        for r in w["peers"] + w["ours"]:
            if "median_ms" in r and ref:
                r[f"ratio_{key}"] = r["median_ms"] / ref["median_ms"]


def fmt_ratio(r, key):
    return f"{r[key]:.2f}" if key in r else "-"


def print_workload(w):
    print(f"{w['id']}: {describe(w['in1_shape'], w['in2_shape'])}, float64, full "
          f"(load average {fmt_load(w['loadavg_before'])} before, "
          f"{fmt_load(w['loadavg_after'])} after)")
    rows = []  # 6 cells, or (label, message) for a skipped peer
    for r in w["peers"]:
        if "skipped" in r:
            rows.append((r["label"], f"skipped ({r['skipped']})"))
            continue
        c = r.get("check")
        if c is None:
            verdict = "reference"
        elif c["rel_err"] is None:
            verdict = f"MISMATCH: {c['note']}"
        else:
            verdict = f"{'ok' if c['ok'] else 'MISMATCH'} {c['rel_err']:.1e}"
        rows.append((r["label"], fmt_ms(r["median_ms"]), fmt_ratio(r, "ratio_best_scipy_fft"),
                     fmt_ratio(r, "ratio_best_peer"), str(r["reps"]), verdict))
    for r in w["ours"]:
        rows.append((f"ours: {r['name']}", fmt_ms(r["median_ms"]),
                     fmt_ratio(r, "ratio_best_scipy_fft"), fmt_ratio(r, "ratio_best_peer"),
                     "", "criterion"))
    if rows:
        rows.insert(0, ("method", "median ms", "x best scipy FFT", "x best peer", "reps", "check"))
        full = [row for row in rows if len(row) == 6]
        widths = [max(len(row[i]) for row in (rows if i == 0 else full)) for i in range(5)]
        for row in rows:
            cells = [f"{row[0]:<{widths[0]}}"]
            if len(row) == 6:
                cells += [f"{c:>{n}}" for c, n in zip(row[1:5], widths[1:])] + [row[5]]
            else:
                cells.append(row[1])  # the skip message spans the numeric columns
            print("  " + "  ".join(cells))
    for s in w["stale_ours"]:
        print(f"  (ignored stale criterion result {s['method']}, written {s['written']})")
    print(flush=True)


def markdown(report):
    """One row per workload, for the README."""
    m, v = report["machine"], report["versions"]
    lines = [
        f"Median times in ms, float64, mode full, single-threaded, on {m['cpu']} "
        f"({m['logical_cpus']} logical CPUs, load average {fmt_load(m['loadavg_start'])} at "
        f"the start); numpy {v['numpy']}, scipy {v['scipy']}"
        + (f", {v['rustc']}" if v["rustc"] else "") + f"; {report['started'][:10]}. "
        "Ratios are our time over the peer's (below 1: ours is faster). Best scipy FFT is the "
        "faster of fftconvolve and oaconvolve; ndimage peers compute the same-size output only.",
        "",
        "| workload | best scipy FFT | ours, best of fft / overlap-add | ratio to scipy FFT "
        "| best peer overall | ours, auto | ratio to best peer |",
        "|---|---|---|---:|---|---:|---:|",
    ]

    def named(r):
        return f"{r['name']} {fmt_ms(r['median_ms'])}" if r else "-"

    for w in report["workloads"]:
        if not (w["peers"] or w["ours"]):
            continue  # only stale results of ours
        ours_fft = best(w["ours"], OUR_FFT_FAMILY)
        auto = best(w["ours"], ("auto",))
        cells = [f"{w['id']} ({describe(w['in1_shape'], w['in2_shape'])})",
                 named(w["best_scipy_fft"]), named(ours_fft),
                 fmt_ratio(ours_fft, "ratio_best_scipy_fft") if ours_fft else "-",
                 named(w["best_peer"]), fmt_ms(auto["median_ms"]) if auto else "-",
                 fmt_ratio(auto, "ratio_best_peer") if auto else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
