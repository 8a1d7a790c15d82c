#!/usr/bin/env python3
"""Live check of real peers: seeded random problems, each peer's output judged by conv-oracle judge.

Usage: python3 scripts/peers_check.py --cases N --seed S [--binary PATH] [--markdown FILE]
                                      [--json FILE] [--force] [--venv PATH] [--keep DIR]
                                      [--filter REGEX] [--no-jax]

Unless it already runs inside the venv, the script creates a virtual environment (default
`$CARGO_TARGET_DIR/venv-peers`, or target/venv-peers without CARGO_TARGET_DIR, i.e. inside the
gitignored target dir), pip-installs the pinned numpy and scipy (scripts/capture_scipy.py's pins),
onnx and onnxruntime (scripts/capture_onnx.py's pins), and re-executes itself with that venv's
python (scripts/pinned_venv.py). It then installs the pinned jax[cpu] / jaxlib
(scripts/accuracy_survey.py's pin) into the same venv; if that fails the output says
"jax: not installed (reason)" and the jax row is empty, which is not a failure. --no-jax skips
JAX on purpose.

Our side is the `judge` subcommand of the `conv-oracle` binary: unless --binary PATH names one,
the script runs `cargo build --release --bin conv-oracle` in the repository (honouring
CARGO_TARGET_DIR) and uses $CARGO_TARGET_DIR/release/conv-oracle.

For every row (peer x operation) below, N problems are drawn (numpy default_rng seeded with
[S, crc32(row name), case index], so a case does not depend on N or on the other rows; the main
options of case i are the i-th of a seeded permutation of their combinations, so a small N
still spreads over them). The peer runs; its inputs, weight (our layout: reversed for true
convolutions), bias and output go to .npy files in a temporary directory, and
`conv-oracle judge --json` judges the output against the correctly rounded result under
--tolerance componentwise (any order of direct summation), or a normwise bound for FFT methods.

FFT methods (scipy.signal fftconvolve, oaconvolve, convolve / correlate method='fft'): scipy.fft
transforms float32 data in single precision, so those cases are judged under
--tolerance normwise:single (the normwise bound of an FFT computed entirely in single
precision), and the float64 ones under normwise (= normwise:double, an FFT computed in float64).
Both must pass, like every other case.

    numpy           convolve, correlate: 1-D, full / same / valid, float64 and float32, kernel
                    longer than the input too (numpy then swaps the arrays)
    scipy.signal    convolve, correlate (method 'direct': componentwise; 'fft': normwise on
                    f64, normwise:single on f32), fftconvolve, oaconvolve (the same): 1-3-D,
                    full / same / valid, f64 / f32;
                    valid with either argument the larger (scipy swaps), sometimes neither
                    (mixed: scipy refuses, except fftconvolve / oaconvolve when the argument
                    that is smaller there has length 1); convolve2d, correlate2d: boundary
                    fill (fillvalue 0) / wrap (= --padding-mode circular) / symm (= symmetric)
    scipy.ndimage   convolve, correlate: 1-3-D, modes reflect (= symmetric), grid-mirror (=
                    symmetric), mirror (= reflect), nearest (= replicate), wrap and grid-wrap
                    (= circular), constant and grid-constant (cval 0 = zeros), origin 0, odd and
                    even kernels (also longer than the input), f64 / f32
    onnxruntime     Conv (float32; rank 1-3, strides, dilations, group incl. depthwise,
                    explicit asymmetric pads, no pads, auto_pad VALID / SAME_UPPER / SAME_LOWER,
                    bias or not); ConvTranspose (also output_padding and output_shape)
    onnx.reference  the same Conv and ConvTranspose draws, float64 (and float32)
    jax.lax         conv_general_dilated: padding pairs / 'SAME' / 'SAME_LOWER' / 'VALID',
                    window_strides, rhs_dilation, feature_group_count (depthwise too), rank
                    1-3, dimension numbers NCHW/OIHW, NHWC/HWIO, NHWC/OHWI, NCHW/HWIO, float32
                    and float64 (jax_enable_x64)

What the output is judged against (the mode the peer claims): a signal-processing call's output
is a window of the full correlation of its input with the kernel (reversed for a true
convolution), i.e. judge gets explicit pads `lo = M-1-off, hi = off+L-N` per axis, L being the
output length and off the window's start: full 0; valid min(N, M)-1 (length |N-M|+1); same as
docs/semantics.md section 3 says:

    (M-1)//2   scipy.signal convolve / correlate / fftconvolve / oaconvolve / convolve2d,
               numpy.correlate with N >= M, scipy.ndimage.correlate (c = M/2)
    (m-1)//2   numpy.convolve, m = min(N, M) (numpy swaps the arrays when the kernel is longer)
    N//2       numpy.correlate with M > N (numpy swaps and reverses: correlate(v, a, 'same')[::-1])
    M//2       scipy.signal.correlate2d (c = (M-1)/2)

scipy.ndimage.convolve claims scipy.signal.convolve's 'same' window; docs/semantics.md says it is one
sample off for an even kernel. The DL peers' attributes map one to one onto judge's flags.

When the claimed mode fails, the script looks for a shift: the pads moved by s in {-1, +1} on
one or more axes (lo - s, hi + s: the output shifted by s samples at stride 1, peer[i] =
claimed[i + s]; ConvTranspose has no shift search: judge takes no negative pads). A shift under
which judge passes is a SEMANTIC DIFFERENCE, not a numeric failure: expected when docs/semantics.md
documents it (scipy.ndimage.convolve, +1 on every axis with an even kernel length), a finding
otherwise; so is an output whose shape is not the claimed mode's (judge exits 2 and names both
shapes). A peer that raises is counted as refused, with its message.

Documented readings (ConvTranspose; tests/onnx_peers.rs measured them, see transpose_readings):
when the claim fails (numbers or shape), the peer's own documented reading is judged instead,
and the case is classified only if judge passes under it (else it stays a genuine failure):

    onnxruntime     clamps a negative total padding at 0 (SAME_* with stride > dilated kernel
                    + output_padding, or output_shape beyond the full extent): begin 0, the
                    extra rows at the end; SAME_* alone gives the full extent, not n*s. ONNX
                    and onnx.reference split a negative total like any other. -> semantic
                    difference (expected), "onnxruntime clamps negative total padding".
    onnx.reference  output_shape with auto_pad NOTSET keeps pads 0 (begin 0; ONNX: t - t//2)
                    -> semantic difference (expected). Its col2im checks only the product of
                    its per-axis block counts floor((shape - eff)/s) + 1: where they differ per
                    axis it returns the ConvTranspose of x reshaped to them -> known peer bug.
                    group > 1 (onnx PR #8446): raises (reshape / broadcast) unless
                    C_in/g = C_out/g = 1, and adds bias[0] to every channel -> known peer bug
                    (a failing group > 1 case is a known peer bug even when the bias[0] reading
                    does not reproduce it; its note says so). group 1 cases must pass.

Every failure is printed
with judge's report, and its files (the peer's own inputs, judge's x / w / b, the output,
judge's command in repro.sh, case.json) are kept under --keep DIR (default: a new
/tmp/peers-check-kept-* directory, made only when needed).

Self-check: every output that passed (as claimed, shifted, or under a documented reading) is
judged twice more, the same way, corrupted: (1) its largest-magnitude element times (1 + 1e-3);
(2) one channel rolled by one pixel along its last spatial axis of length > 1 (n/a when there is
none, or when the roll changes nothing). judge must FAIL both; the table counts the caught ones,
and an uncaught corruption is kept like a failure.

Features judge does not have yet are detected from `conv-oracle judge --help`: cases needing
`--padding-mode symmetric` (scipy.signal symm, scipy.ndimage reflect / grid-mirror) are drawn and
run but counted as pending, and the ConvTranspose rows are pending until `--transpose` exists.

Output: on stdout a machine header (_common.machine()), the versions, and a Markdown table per
peer x operation: the tolerance(s) its cases were judged under (e.g. normwise/normwise:single
for an FFT row drawing both dtypes), cases, passed, failed (genuine), refused, semantic diff.
(expected), known peer bug, pending (only when some case is), corruptions caught, the largest
error/bound judge reported ("max_ratio") over the passed and expected-semantic cases; then the
options drawn per row and the notes (refusal messages, semantic differences, peer bugs,
failures).
--markdown FILE writes the same Markdown; --json FILE writes every case (options, peer call,
verdict, max_ratio, corruption results). Neither replaces an existing file without --force
(checked before anything runs). Exit status 1 only for a genuine failure (a numeric failure
that no documented reading explains, an unexpected semantic difference, judge exiting 2 on a
case the peer accepted) or a corruption not caught; 0 otherwise: refusals, expected semantic
differences and known peer bugs do not fail the run.
"""

import argparse
import datetime
import itertools
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field

import pinned_venv  # scripts/pinned_venv.py (the script's own folder is on sys.path)
from _common import (REPO, command_output, compile_filter, machine, machine_line,
                     refuse_existing, target_dir,
                     write_output)  # scripts/_common.py, shared by the scripts
from accuracy_survey import ensure_jax  # one place for the jax pin and its install
from capture_onnx import IR_VERSION, ONNX_VERSION, OPSET, ORT_VERSION
from capture_scipy import NUMPY_VERSION, SCIPY_VERSION

REEXEC_GUARD = "CONV_ORACLE_PEERS_CHECK_REEXEC"
PERTURB = 1e-3  # relative perturbation of one element in the self-check


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="See the module docstring (top of scripts/peers_check.py) for the details.")
    ap.add_argument("--cases", type=int, required=True, help="problems per peer x operation")
    ap.add_argument("--seed", type=int, required=True, help="data seed")
    ap.add_argument("--binary", metavar="PATH",
                    help="use this conv-oracle binary instead of building it with cargo")
    ap.add_argument("--markdown", metavar="FILE", help="write the Markdown report here")
    ap.add_argument("--json", metavar="FILE", help="write every case here")
    ap.add_argument("--force", action="store_true", help="replace existing output files")
    ap.add_argument("--venv", metavar="PATH", default=os.path.join(target_dir(), "venv-peers"),
                    help="the pinned virtual environment; default %(default)s")
    ap.add_argument("--keep", metavar="DIR",
                    help="where failing cases are saved (default: a new /tmp/peers-check-kept-*)")
    ap.add_argument("--filter", metavar="REGEX",
                    help="only the rows whose 'peer operation' matches (re.search)")
    ap.add_argument("--no-jax", action="store_true", help="leave JAX out (do not install it)")
    args = ap.parse_args()
    if args.cases < 0:
        sys.exit("--cases must be >= 0")

    # Refuse before anything slow runs (and again after the re-exec, harmlessly).
    refuse_existing((args.markdown, args.json), args.force)
    compile_filter(args.filter)

    pinned_venv.ensure(args.venv, {"numpy": NUMPY_VERSION, "scipy": SCIPY_VERSION,
                                   "onnx": ONNX_VERSION, "onnxruntime": ORT_VERSION},
                       REEXEC_GUARD)
    sys.exit(run(args))


# --------------------------------------------------------------------------------------------
# Everything below runs inside the venv.


@dataclass
class Case:
    """One drawn problem: the peer call, and how judge is to see it.

    `padding` is what judge gets: a keyword ('valid', 'same-upper', ...) or explicit
    [(lo, hi), ...]. `shift_pads` are the explicit pads the shift search moves (None: no search).
    """
    opts: dict            # the drawn options (reported; summarised per row)
    call: str             # the peer call, in Python, on the arrays named in peer_in
    peer_in: dict         # name -> array: the peer's own inputs (kept with a failure)
    run: object           # () -> the peer's output in judge's layout
    x: object
    w: object
    b: object = None
    flags: list = field(default_factory=list)  # judge flags besides files and padding
    padding: object = 0
    padding_mode: str = "zeros"
    tolerance: str = "componentwise"
    shift_pads: list = None
    layout: str = "nchw"
    known_shift: tuple = None   # the documented semantic difference (docs/semantics.md), if any
    needs: str = None           # the judge feature the case needs: 'symmetric' or 'transpose'
    readings: list = field(default_factory=list)  # [Reading]: tried when the claim fails
    raise_bug: tuple = None     # (regex, label): a raise matching it is a known peer bug


@dataclass
class Reading:
    """A documented other reading of a peer's result, tried (in order) when the claim fails.

    status 'semantic' (an expected semantic difference) or 'peer_bug' (a known peer bug). The
    reading is judge's problem with `padding` and `flags` (and `x` / `b` if given, replacing the
    case's); it classifies the case only if judge passes under it. rejudge=False: no judge
    problem reproduces the peer; the case is classified by the reading's condition alone.
    """
    status: str
    label: str
    padding: object = None
    flags: list = None
    x: object = None
    b: object = None
    rejudge: bool = True


def run(args):
    import numpy as np
    import onnx
    import onnxruntime as ort
    import scipy

    assert np.__version__ == NUMPY_VERSION, np.__version__
    assert scipy.__version__ == SCIPY_VERSION, scipy.__version__
    assert onnx.__version__ == ONNX_VERSION, onnx.__version__
    assert ort.__version__ == ORT_VERSION, ort.__version__
    ort.set_default_logger_severity(4)  # refusals are data; keep stderr quiet
    row_filter = compile_filter(args.filter)

    t0 = time.time()
    binary = args.binary or build_binary()
    if binary is None:
        return 1
    binary = os.path.abspath(binary)
    features = judge_features(binary)
    jax, jax_note = ensure_jax(args.no_jax)
    started = time.time()

    report = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": [os.path.basename(sys.argv[0])] + sys.argv[1:],
        "machine": machine(),
        "versions": versions(np, scipy, onnx, ort, jax, binary),
        "jax_note": jax_note,
        "judge_features": features,
        "settings": {"cases": args.cases, "seed": args.seed, "binary": binary,
                     "perturb": PERTURB},
        "setup_seconds": started - t0,
        "rows": [],
    }
    checker = Checker(np, binary, features, args.keep)
    rows = make_rows(np, ort, jax, jax_note, features)
    with tempfile.TemporaryDirectory(prefix="peers-check-") as tmp:
        checker.tmp = tmp
        for peer, op, gen, row_note in rows:
            name = f"{peer} {op}"
            if not row_filter.search(name):
                continue
            t_row = time.time()
            row = {"peer": peer, "op": op, "note": row_note, "cases": []}
            if gen is not None:
                for i, case in enumerate(draw_cases(np, args.seed, name, gen, args.cases)):
                    row["cases"].append(checker.check(name, i, case))
            row["seconds"] = time.time() - t_row
            summarise(row)
            report["rows"].append(row)
            print(f"{name}: {row['summary']['cases']} cases, {row['seconds']:.1f} s",
                  file=sys.stderr, flush=True)
    report["seconds"] = time.time() - started
    report["machine"]["loadavg_end"] = list(os.getloadavg())
    report["kept"] = checker.kept_root

    text = markdown(report)
    print(text)
    bad = [r for r in report["rows"]
           if r["summary"]["failed"] or r["summary"]["uncaught"]]
    if args.markdown:
        write_output(args.markdown, text, args.force)
    if args.json:
        write_output(args.json, json.dumps(report, indent=1, default=str) + "\n", args.force)
    return 1 if bad else 0


# --------------------------------------------------------------------------------------------
# Our side


def build_binary():
    cmd = ["cargo", "build", "--release", "--bin", "conv-oracle"]
    print(f"running (in {REPO}): {' '.join(cmd)}", file=sys.stderr, flush=True)
    if subprocess.run(cmd, cwd=REPO, stdout=sys.stderr).returncode != 0:
        print("cargo build failed; --binary PATH uses an existing binary", file=sys.stderr)
        return None
    return os.path.join(target_dir(), "release", "conv-oracle")


def judge_features(binary):
    """Which of the judge flags still being added exist: read from `judge --help`."""
    p = subprocess.run([binary, "judge", "--help"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{binary} judge --help failed (exit {p.returncode}): {p.stderr.strip()}")
    text = p.stdout
    return {
        # the option itself, not the mention of it in --weight's help
        "transpose": re.search(r"^\s*--transpose\b", text, re.M) is not None,
        # the values of --padding-mode: short help lists them on its line, long help below it
        "symmetric": re.search(r"--padding-mode\b((?:(?!\n\s*--[a-z]).)*)", text,
                               re.S).group(1).find("symmetric") >= 0,
    }


PENDING = {"symmetric": "pending judge --padding-mode symmetric",
           "transpose": "pending judge --transpose"}


class Checker:
    """Runs a case's peer, judges it, searches shifts, corrupts, keeps what fails."""

    def __init__(self, np, binary, features, keep):
        self.np, self.binary, self.features = np, binary, features
        self.keep, self.kept_root, self.tmp = keep, None, None

    # ------------------------------------------------------------ judge
    def judge_cmd(self, case, padding, out_name, reading=None):
        """judge's command line; a Reading replaces padding, flags and x / b (x_alt.npy, ...)."""
        def pad_text(p):
            if isinstance(p, (list, tuple)):
                return ",".join(f"{lo}:{hi}" for lo, hi in p)
            return str(p)

        flags = case.flags
        x_file, b_file = "x.npy", "b.npy" if case.b is not None else None
        if reading is not None:
            padding, flags = reading.padding, reading.flags
            if reading.x is not None:
                x_file = "x_alt.npy"
            if reading.b is not None:
                b_file = "b_alt.npy"
        cmd = [self.binary, "judge", "--input", x_file, "--weight", "w.npy"]
        if b_file:
            cmd += ["--bias", b_file]
        cmd += ["--output", out_name] + flags
        cmd += [f"--padding={pad_text(padding)}"]
        if case.padding_mode != "zeros":
            cmd += ["--padding-mode", case.padding_mode]
        if case.layout != "nchw":
            cmd += ["--layout", case.layout]
        cmd += ["--tolerance", case.tolerance, "--json"]
        return cmd

    def judge(self, case, padding, y, out_name="y.npy", reading=None):
        """(exit code, JSON report or None, stderr) of judge on output `y`."""
        self.np.save(os.path.join(self.tmp, out_name), y)
        for name in ("x", "b"):
            a = getattr(reading, name, None)
            if a is not None:
                self.np.save(os.path.join(self.tmp, f"{name}_alt.npy"),
                             self.np.ascontiguousarray(a))
        cmd = self.judge_cmd(case, padding, out_name, reading)
        p = subprocess.run(cmd, cwd=self.tmp, capture_output=True, text=True)
        rep = None
        if p.stdout.strip():
            try:
                rep = json.loads(p.stdout)
                rep.get("worst", {}).pop("taps", None)  # long; judge prints them on demand
            except json.JSONDecodeError:
                rep = {"raw": p.stdout.strip()[:2000]}
        return p.returncode, rep, p.stderr.strip()

    # ------------------------------------------------------------ one case
    def check(self, row, i, case):
        np = self.np
        res = {"index": i, "opts": case.opts, "call": case.call,
               "tolerance": case.tolerance}
        if case.needs and not self.features.get(case.needs):
            res["status"] = "pending"
            res["note"] = PENDING[case.needs]
            return res
        try:
            y = np.ascontiguousarray(case.run())
        except Exception as e:  # noqa: BLE001 - a refusal is data
            msg = one_line(e)
            if case.raise_bug and re.search(case.raise_bug[0], msg):
                res["status"], res["peer_bug"] = "peer_bug", f"{case.raise_bug[1]}: raises"
                res["raised"] = msg
            else:
                res["status"], res["refused"] = "refused", msg
            return res
        for name, a in (("x", case.x), ("w", case.w), ("b", case.b)):
            if a is not None:
                np.save(os.path.join(self.tmp, f"{name}.npy"), np.ascontiguousarray(a))
        if y.dtype != case.x.dtype:
            res["status"] = "failed"
            res["reason"] = f"peer returned {y.dtype} for {case.x.dtype} input"
            self.keep_case(row, i, case, y, None, res)
            return res
        code, rep, err = self.judge(case, case.padding, y)
        res["judge"] = rep
        padding = case.padding
        reading = None  # the Reading the case passed under, if any
        if code == 0 and case.known_shift is not None:
            # docs/semantics.md documents a shift here: it must pass shifted too (the data may not
            # show it, e.g. a constant extension of a length-1 axis), else it is a finding.
            found = self.find_shift(case, y, only=case.known_shift)
            res["status"] = "passed" if found else "semantic"
            if not found:
                res["expected"] = False
                res["shift"] = [0] * len(case.known_shift)
                res["semantic"] = (f"UNEXPECTED: {row} passes unshifted, but not shifted by "
                                   f"{list(case.known_shift)} as docs/semantics.md says")
        elif code == 0:
            res["status"] = "passed"
        elif code == 1 and case.shift_pads is not None:
            found = self.find_shift(case, y)
            if found is None:
                res["status"] = "failed"
                res["reason"] = (rep or {}).get("reason") or "judge: fail"
            else:
                shift, padding, rep2 = found
                expected = case.known_shift is not None and tuple(shift) == case.known_shift
                res["status"] = "semantic"
                res["shift"] = list(shift)
                res["expected"] = expected
                res["semantic"] = semantic_text(case, shift, expected)
                res["judge_shifted"] = rep2
                rep = rep2
        elif code == 1:
            res["status"] = "failed"
            res["reason"] = (rep or {}).get("reason") or "judge: fail"
        else:
            shapes = re.search(r"shape (\[[^]]*\]).*?output is (\[[^]]*\])", err)
            if shapes:  # the peer's output has another shape than the claimed mode's
                res["status"], res["expected"] = "semantic", False
                res["semantic"] = (f"UNEXPECTED semantic difference: {case.call.split('(')[0]}"
                                   f" gives shape {shapes.group(1)} where {case.opts['claim']}"
                                   f" gives {shapes.group(2)} (N, C, spatial...)")
                res["shape_mismatch"] = True
            else:
                res["status"] = "failed"
                res["reason"] = f"judge exit {code}: {err[:500]}"
        if res["status"] == "failed" or (res["status"] == "semantic" and not res["expected"]):
            # A documented other reading of the peer's result (a semantic difference or a
            # known peer bug) that judge passes classifies the case; else it stays a finding.
            found = self.find_reading(case, y)
            if found is not None:
                reading, rep = found
                res.pop("shape_mismatch", None)
                res["status"] = reading.status
                res["claim_failed"] = res.pop("reason", None) or res.pop("semantic", None)
                if reading.status == "semantic":
                    res["expected"], res["semantic"] = True, reading.label
                else:
                    res["peer_bug"] = reading.label
                res["judge_reading"] = rep
                if not reading.rejudge:
                    return res
        if res["status"] == "failed":
            self.keep_case(row, i, case, y, padding, res)
            return res
        if res["status"] == "semantic" and not res["expected"]:
            self.keep_case(row, i, case, y, case.padding, res)
        if res.get("shape_mismatch"):
            return res
        res["max_ratio"] = (rep or {}).get("max_ratio")
        res["corrupt"] = self.corrupt(row, i, case, y, padding, reading)
        return res

    def find_reading(self, case, y):
        """The first of case.readings under which judge passes: (reading, report) or None."""
        for reading in case.readings:
            if not reading.rejudge:
                return reading, None
            code, rep, _ = self.judge(case, None, y, reading=reading)
            if code == 0:
                return reading, rep
        return None

    def find_shift(self, case, y, only=None):
        """A shift s under which judge passes: (s, pads, report) or None.

        Tries `only` alone if given; else the documented shift first (if any), then the others
        from the smallest (one axis) up.
        """
        base = case.shift_pads
        d = len(base)
        if only is not None:
            shifts = [tuple(only)]
        else:
            shifts = [s for s in itertools.product((0, 1, -1), repeat=d) if any(s)]
            shifts.sort(key=lambda s: (s != case.known_shift, sum(map(abs, s))))
        for s in shifts:
            pads = [(lo - si, hi + si) for (lo, hi), si in zip(base, s)]
            if min(min(p) for p in pads) < 0:
                continue
            code, rep, _ = self.judge(case, pads, y)
            if code == 0:
                return s, pads, rep
        return None

    def corrupt(self, row, i, case, y, padding, reading=None):
        """The two corruptions of a passing output (judged as it passed); judge must fail both."""
        np = self.np
        out = {}
        # (1) one element, the largest in magnitude, 1e-3 relative
        y1 = y.copy()
        idx = np.unravel_index(int(np.argmax(np.abs(y1))), y1.shape)
        if y1[idx] == 0:
            out["element"] = "n/a (all zero)"
        else:
            y1[idx] = y1[idx] * y1.dtype.type(1 + PERTURB)
            code, rep, err = self.judge(case, padding, y1, "y_corrupt.npy", reading)
            out["element"] = "caught" if code == 1 else f"NOT caught (judge exit {code})"
            if code != 1:
                self.keep_case(row, i, case, y, padding,
                               {"status": "corruption not caught", "corruption": "element",
                                "element_index": [int(k) for k in idx], "judge": rep,
                                "stderr": err}, y_bad=y1, tag="corrupt-element",
                               reading=reading)
        # (2) one channel rolled by one pixel along its last spatial axis of length > 1
        ch_axis = 1 if case.layout == "nchw" else y.ndim - 1
        spatial = [a for a in range(y.ndim) if a not in (0, ch_axis)]
        longer = [a for a in spatial if y.shape[a] > 1]
        if not longer:
            out["channel"] = "n/a (no spatial axis longer than 1)"
            return out
        rng = np.random.default_rng([i, y.size])
        c = int(rng.integers(0, y.shape[ch_axis]))
        y2 = y.copy()
        sl = [slice(None)] * y.ndim
        sl[ch_axis] = c
        sl = tuple(sl)
        ax = longer[-1] - (1 if longer[-1] > ch_axis else 0)  # axis inside the channel slice
        y2[sl] = np.roll(y[sl], 1, axis=ax)
        if np.array_equal(y2, y):
            out["channel"] = "n/a (the roll changes nothing)"
            return out
        code, rep, err = self.judge(case, padding, y2, "y_corrupt.npy", reading)
        out["channel"] = "caught" if code == 1 else f"NOT caught (judge exit {code})"
        if code != 1:
            self.keep_case(row, i, case, y, padding,
                           {"status": "corruption not caught", "corruption": "channel",
                            "channel": c, "judge": rep, "stderr": err}, y_bad=y2,
                           tag="corrupt-channel", reading=reading)
        return out

    # ------------------------------------------------------------ keeping a case
    def keep_case(self, row, i, case, y, padding, info, y_bad=None, tag=None, reading=None):
        np = self.np
        if self.kept_root is None:
            self.kept_root = self.keep or tempfile.mkdtemp(prefix="peers-check-kept-")
            os.makedirs(self.kept_root, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", row).strip("-")
        d = os.path.join(self.kept_root, f"{slug}-{i:03d}" + (f"-{tag}" if tag else ""))
        k = 1
        while os.path.exists(d):
            d = os.path.join(self.kept_root, f"{slug}-{i:03d}-{k}")  # a re-used --keep DIR
            k += 1
        os.makedirs(d)
        for name, a in (("x", case.x), ("w", case.w), ("b", case.b), ("y", y),
                        ("y_corrupt", y_bad), ("x_alt", getattr(reading, "x", None)),
                        ("b_alt", getattr(reading, "b", None))):
            if a is not None:
                np.save(os.path.join(d, f"{name}.npy"), np.ascontiguousarray(a))
        for name, a in case.peer_in.items():
            if a is not None:
                np.save(os.path.join(d, f"peer_{name}.npy"), np.ascontiguousarray(a))
        out_name = "y_corrupt.npy" if y_bad is not None else "y.npy"
        cmd = self.judge_cmd(case, case.padding if padding is None else padding, out_name,
                             reading)
        cmd = [c for c in cmd if c != "--json"]
        with open(os.path.join(d, "repro.sh"), "w") as fh:
            fh.write("#!/bin/sh\n# run in this directory; judge's verdict on the peer's output\n")
            fh.write(" ".join(shlex_quote(c) for c in cmd) + "\n")
        with open(os.path.join(d, "case.json"), "w") as fh:
            json.dump({"row": row, "index": i, "opts": case.opts,
                       "peer_call": case.call,
                       "peer_inputs": {n: f"peer_{n}.npy" for n, a in case.peer_in.items()
                                       if a is not None},
                       "judge_command": cmd,
                       **({"reading": reading.label} if reading is not None else {}),
                       **info}, fh, indent=1, default=str)
        info["kept"] = d
        print(f"kept {row} case {i} in {d}", file=sys.stderr, flush=True)


def shlex_quote(s):
    import shlex

    return shlex.quote(s)


def one_line(e):
    msg = " ".join(str(e).split())
    for prefix in ("[ONNXRuntimeError] : ",):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return f"{type(e).__name__}: {msg}"[:300]


def semantic_text(case, shift, expected):
    parts = [f"{s:+d} on axis {a}" for a, s in enumerate(shift) if s]
    what = case.opts.get("claim", "the claimed mode")
    fn = case.call.split("(")[0]
    if expected:
        return f"semantic difference: {fn} even kernel = {what} shifted by {' and '.join(parts)}"
    k = case.opts.get("weights") or case.opts.get("in2") or case.opts.get("m")
    kernel = f" (kernel {k})" if k else ""
    return f"UNEXPECTED semantic difference: {fn}{kernel} = {what} shifted by {' and '.join(parts)}"


# --------------------------------------------------------------------------------------------
# Drawing cases


def draw_cases(np, seed, name, gen, n):
    """gen(rng, stratum) for case i = 0..n-1; stratum i is the i-th of a seeded permutation."""
    salt = zlib.crc32(name.encode())
    strata = gen.strata
    perm = np.random.default_rng([seed, salt, 1 << 31]).permutation(len(strata))
    for i in range(n):
        rng = np.random.default_rng([seed, salt, i])
        yield gen(rng, dict(strata[int(perm[i % len(strata)])]))


def strata_of(**axes):
    """The combinations of the main options, as a list of dicts."""
    keys = list(axes)
    return [dict(zip(keys, vals)) for vals in itertools.product(*axes.values())]


def with_strata(strata):
    def deco(f):
        f.strata = strata
        return f
    return deco


def normal(np, rng, shape, dtype):
    return np.ascontiguousarray(rng.standard_normal(shape).astype(dtype))


def window_pads(n, m, off, length):
    """Explicit pads so that judge's output is full[off : off + length] along one axis."""
    return (m - 1 - off, off + length - n)


def signal_case(np, opts, call, peer_in, run, x, kernel, offs, lengths, tolerance,
                padding_mode="zeros", known_shift=None, needs=None):
    """A case whose output is a window of the full correlation of x with `kernel` (N-D)."""
    pads = [window_pads(n, m, o, L)
            for n, m, o, L in zip(x.shape, kernel.shape, offs, lengths)]
    assert min(min(p) for p in pads) >= 0, (pads, x.shape, kernel.shape, offs, lengths)
    return Case(opts=opts, call=call, peer_in=peer_in,
                run=lambda: np.asarray(run())[None, None],
                x=x[None, None], w=np.ascontiguousarray(kernel)[None, None],
                padding=pads, padding_mode=padding_mode, tolerance=tolerance,
                shift_pads=pads, known_shift=known_shift, needs=needs)


def flip(np, a):
    return np.ascontiguousarray(a[(slice(None, None, -1),) * a.ndim])


def fmt_shape(s):
    return "x".join(map(str, s))


# ------------------------------------------------------------ numpy


def numpy_gen(np, op):
    f = np.convolve if op == "convolve" else np.correlate

    @with_strata(strata_of(mode=["full", "same", "valid"], dtype=["float64", "float32"]))
    def gen(rng, st):
        mode, dtype = st["mode"], st["dtype"]
        n, m = int(rng.integers(1, 17)), int(rng.integers(1, 17))
        a, v = normal(np, rng, (n,), dtype), normal(np, rng, (m,), dtype)
        kernel = flip(np, v) if op == "convolve" else v
        if mode == "full":
            off, length, claim = 0, n + m - 1, "full"
        elif mode == "valid":
            off, length, claim = min(n, m) - 1, abs(n - m) + 1, "valid"
        else:
            length = max(n, m)
            if op == "convolve":  # numpy swaps: the shorter array is the kernel
                off, claim = (min(n, m) - 1) // 2, "same (full[(min(N,M)-1)//2:][:max(N,M)])"
            elif n >= m:
                off, claim = (m - 1) // 2, "same (c = M/2)"
            else:  # numpy swaps and reverses: correlate(v, a, 'same')[::-1]
                off, claim = n // 2, "same (= correlate(v, a, 'same')[::-1])"
        opts = dict(st, n=n, m=m, claim=claim)
        call = f"numpy.{op}(a, v, mode={mode!r})"
        return signal_case(np, opts, call, {"a": a, "v": v}, lambda: f(a, v, mode), a, kernel,
                           [off], [length], "componentwise")
    return gen


# ------------------------------------------------------------ scipy.signal


SIGNAL_SIZES = {1: (16, 8), 2: (7, 4), 3: (4, 3)}  # rank -> (max input, max kernel) extent


def draw_signal_shapes(rng, rank, mode, max_n, max_m):
    """(in1 shape, in2 shape, how): valid mostly with one argument the larger on every axis."""
    n = [int(rng.integers(1, max_n + 1)) for _ in range(rank)]
    m = [int(rng.integers(1, max_m + 1)) for _ in range(rank)]
    if mode != "valid":
        return n, m, "any"
    roll = rng.random()
    big, small = [max(a, b) for a, b in zip(n, m)], [min(a, b) for a, b in zip(n, m)]
    if roll < 0.7 or (roll >= 0.88 and rank == 1):
        return big, small, "in1 larger"
    if roll < 0.88:
        return small, big, "in2 larger"
    # in1 larger on axis 0, in2 on axis 1: scipy refuses (fftconvolve and oaconvolve accept it
    # when one of the two has length 1 there: they broadcast length-1 axes)
    n, m = big[:], small[:]
    n[1], m[1] = small[1], big[1]
    if n[0] == m[0]:
        n[0] += 1
    if n[1] == m[1]:
        m[1] += 1
    return n, m, "mixed"


def scipy_signal_gen(np, fname, method):
    import scipy.signal as ss

    f = getattr(ss, fname)
    correlate = fname == "correlate"
    fft = fname in ("fftconvolve", "oaconvolve") or method == "fft"

    @with_strata(strata_of(rank=[1, 2, 3], mode=["full", "same", "valid"],
                           dtype=["float64", "float32"]))
    def gen(rng, st):
        rank, mode, dtype = st["rank"], st["mode"], st["dtype"]
        ns, ms, how = draw_signal_shapes(rng, rank, mode, *SIGNAL_SIZES[rank])
        in1, in2 = normal(np, rng, ns, dtype), normal(np, rng, ms, dtype)
        kernel = in2 if correlate else flip(np, in2)
        if mode == "full":
            offs, lengths = [0] * rank, [n + m - 1 for n, m in zip(ns, ms)]
        elif mode == "same":
            offs, lengths = [(m - 1) // 2 for m in ms], ns
        else:
            offs = [min(n, m) - 1 for n, m in zip(ns, ms)]
            lengths = [abs(n - m) + 1 for n, m in zip(ns, ms)]
        kw = f", method={method!r}" if method else ""
        opts = dict(st, in1=fmt_shape(ns), in2=fmt_shape(ms), claim=mode)
        if mode == "valid":
            opts["valid"] = how
        call = f"scipy.signal.{fname}(in1, in2, mode={mode!r}{kw})"
        kwargs = {"mode": mode}
        if method:
            kwargs["method"] = method
        run = lambda: f(in1, in2, **kwargs)  # noqa: E731
        return signal_case(np, opts, call, {"in1": in1, "in2": in2}, run, in1, kernel, offs,
                           lengths, fft_tolerance(dtype) if fft else "componentwise")
    return gen


def fft_tolerance(dtype):
    """judge's normwise model of scipy.fft on `dtype` data.

    scipy.fft (pocketfft) transforms float32 data in single precision: normwise:single, the
    bound of an FFT computed entirely in float32. float64 data: normwise (= normwise:double, an
    FFT computed in float64).
    """
    return "normwise:single" if dtype == "float32" else "normwise"


BOUNDARY_MODES = {"fill": "zeros", "wrap": "circular", "symm": "symmetric"}


def scipy_2d_gen(np, fname):
    import scipy.signal as ss

    f = getattr(ss, fname)
    correlate = fname == "correlate2d"

    @with_strata(strata_of(mode=["full", "same", "valid"], boundary=list(BOUNDARY_MODES),
                           dtype=["float64", "float32"]))
    def gen(rng, st):
        mode, boundary, dtype = st["mode"], st["boundary"], st["dtype"]
        ns, ms, how = draw_signal_shapes(rng, 2, mode, 7, 5)
        if mode != "valid" and rng.random() < 0.25:  # kernel longer than the input somewhere
            ms = [int(rng.integers(1, 9)) for _ in range(2)]
        in1, in2 = normal(np, rng, ns, dtype), normal(np, rng, ms, dtype)
        kernel = in2 if correlate else flip(np, in2)
        if mode == "full":
            offs, lengths = [0, 0], [n + m - 1 for n, m in zip(ns, ms)]
        elif mode == "same":
            offs = [m // 2 if correlate else (m - 1) // 2 for m in ms]
            lengths = ns
        else:
            offs = [min(n, m) - 1 for n, m in zip(ns, ms)]
            lengths = [abs(n - m) + 1 for n, m in zip(ns, ms)]
        # 'valid' reads no boundary value (when in2 is the larger, scipy swaps the arguments).
        pmode = "zeros" if mode == "valid" else BOUNDARY_MODES[boundary]
        fill = ", fillvalue=0" if boundary == "fill" else ""
        call = f"scipy.signal.{fname}(in1, in2, mode={mode!r}, boundary={boundary!r}{fill})"
        opts = dict(st, in1=fmt_shape(ns), in2=fmt_shape(ms),
                    claim=f"{mode} (c = {'(M-1)/2' if correlate else 'M/2'})"
                    if mode == "same" else mode)
        if mode == "valid":
            opts["valid"] = how
        kwargs = {"mode": mode, "boundary": boundary}
        if boundary == "fill":
            kwargs["fillvalue"] = 0
        return signal_case(np, opts, call, {"in1": in1, "in2": in2},
                           lambda: f(in1, in2, **kwargs), in1, kernel, offs, lengths,
                           "componentwise", padding_mode=pmode,
                           needs="symmetric" if pmode == "symmetric" else None)
    return gen


# ------------------------------------------------------------ scipy.ndimage

# scipy.ndimage mode -> judge --padding-mode (docs/semantics.md section 4; the grid-* synonyms as
# scipy.ndimage's filter docs define them)
NDIMAGE_MODES = {"reflect": "symmetric", "grid-mirror": "symmetric", "mirror": "reflect",
                 "nearest": "replicate", "wrap": "circular", "grid-wrap": "circular",
                 "constant": "zeros", "grid-constant": "zeros"}
NDIMAGE_SIZES = {1: (12, 6), 2: (6, 4), 3: (4, 3)}


def scipy_ndimage_gen(np, fname):
    import scipy.ndimage as nd

    f = getattr(nd, fname)
    convolve = fname == "convolve"

    @with_strata(strata_of(rank=[1, 2, 3], mode=list(NDIMAGE_MODES), kernel=["odd", "even"]))
    def gen(rng, st):
        rank, mode, parity = st["rank"], st["mode"], st["kernel"]
        dtype = "float64" if rng.random() < 0.6 else "float32"
        max_n, max_m = NDIMAGE_SIZES[rank]
        ns = [int(rng.integers(1, max_n + 1)) for _ in range(rank)]
        ms = [2 * int(rng.integers(0, (max_m + 1) // 2)) + 1 for _ in range(rank)]  # odd
        if parity == "even":
            for a in range(rank):
                if a == 0 or rng.random() < 0.5:
                    ms[a] = 2 * int(rng.integers(1, max_m // 2 + 1))
        x, w = normal(np, rng, ns, dtype), normal(np, rng, ms, dtype)
        kernel = flip(np, w) if convolve else w
        offs = [(m - 1) // 2 for m in ms]
        claim = ("scipy.signal.convolve 'same'" if convolve
                 else "scipy.signal.correlate 'same' (c = M/2)")
        known = None
        if convolve and any(m % 2 == 0 for m in ms):
            known = tuple(1 if m % 2 == 0 else 0 for m in ms)  # docs/semantics.md section 3
        pmode = NDIMAGE_MODES[mode]
        opts = dict(st, dtype=dtype, input=fmt_shape(ns), weights=fmt_shape(ms), claim=claim)
        call = f"scipy.ndimage.{fname}(input, weights, mode={mode!r}, cval=0.0, origin=0)"
        return signal_case(np, opts, call, {"input": x, "weights": w},
                           lambda: f(x, w, mode=mode, cval=0.0, origin=0), x, kernel, offs, ns,
                           "componentwise", padding_mode=pmode, known_shift=known,
                           needs="symmetric" if pmode == "symmetric" else None)
    return gen


# ------------------------------------------------------------ ONNX: onnxruntime, onnx.reference

ONNX_MAX_N = {1: 12, 2: 7, 3: 4}
ONNX_MAX_K = {1: 4, 2: 3, 3: 3}


def pick(rng, options):
    return options[int(rng.integers(0, len(options)))]


def draw_channels(rng):
    """(group, C_in, C_out, style) for a Conv."""
    style = pick(rng, ["plain", "plain", "grouped", "depthwise"])
    if style == "plain":
        return 1, int(rng.integers(1, 4)), int(rng.integers(1, 4)), style
    if style == "grouped":
        g = int(rng.integers(2, 4))
        return g, g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3)), style
    c = int(rng.integers(2, 5))
    return c, c, c * int(rng.integers(1, 3)), style  # depthwise (multiplier 1 or 2)


def same_pads(n, k, s, d, upper):
    """The explicit pads of SAME_UPPER / SAME_LOWER (docs/semantics.md section 2)."""
    eff = d * (k - 1) + 1
    out = -(-n // s)
    total = max((out - 1) * s + eff - n, 0)
    lo = total // 2 if upper else total - total // 2
    return lo, total - lo


def explicit_pads(kind, pads, ns, ks, ss, ds):
    """[(lo, hi)] per axis for a Conv padding kind (for the shift search)."""
    if kind == "explicit":
        return list(pads)
    if kind in ("none", "VALID"):
        return [(0, 0)] * len(ns)
    return [same_pads(n, k, s, d, kind == "SAME_UPPER") for n, k, s, d in zip(ns, ks, ss, ds)]


JUDGE_PADDING = {"VALID": "valid", "SAME_UPPER": "same-upper", "SAME_LOWER": "same-lower",
                 "none": 0}


def csv(v):
    return ",".join(map(str, v))


def draw_conv(rng, rank, kind, max_d=3):
    """A Conv problem: shapes, strides, dilations, pads; redrawn until the output is non-empty."""
    while True:
        g, c_in, c_out, style = draw_channels(rng)
        ks = [int(rng.integers(1, ONNX_MAX_K[rank] + 1)) for _ in range(rank)]
        ss = [pick(rng, [1, 1, 2, 3]) for _ in range(rank)]
        ds = [pick(rng, [1, 1, 2, max_d]) for _ in range(rank)]
        ns = [int(rng.integers(1, ONNX_MAX_N[rank] + 1)) for _ in range(rank)]
        effs = [d * (k - 1) + 1 for k, d in zip(ks, ds)]
        pads = None
        if kind == "explicit":
            pads = [(int(rng.integers(0, min(3, e) + 1)), int(rng.integers(0, min(3, e) + 1)))
                    for e in effs]
        if kind in ("explicit", "none", "VALID"):
            pp = pads or [(0, 0)] * rank
            if any(n + lo + hi < e for n, (lo, hi), e in zip(ns, pp, effs)):
                continue
        batch = int(rng.integers(1, 3))
        return dict(group=g, c_in=c_in, c_out=c_out, style=style, k=ks, s=ss, d=ds, n=ns,
                    pads=pads, batch=batch)


def onnx_model(op, attrs, x_shape, w, b, elem):
    from onnx import helper, numpy_helper

    inits = [numpy_helper.from_array(w, "w")]
    ins = ["x", "w"]
    if b is not None:
        inits.append(numpy_helper.from_array(b, "b"))
        ins.append("b")
    node = helper.make_node(op, ins, ["y"], **attrs)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", elem, list(x_shape))],
        [helper.make_tensor_value_info("y", elem, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                             ir_version=IR_VERSION)


def onnx_runner(np, ort, peer):
    """(model, x) -> output, for peer 'onnxruntime' or 'onnx.reference'."""
    if peer == "onnxruntime":
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.log_severity_level = 4

        def run(model, x):
            sess = ort.InferenceSession(model.SerializeToString(), so,
                                        providers=["CPUExecutionProvider"])
            return sess.run(None, {"x": x})[0]
        return run

    import warnings

    from onnx.reference import ReferenceEvaluator

    def run(model, x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ReferenceEvaluator(model).run(None, {"x": x})[0]
    return run


def onnx_conv_gen(np, ort, peer):
    from onnx import TensorProto

    runner = onnx_runner(np, ort, peer)
    dtypes = ["float32"] if peer == "onnxruntime" else ["float64", "float64", "float32"]

    @with_strata(strata_of(rank=[1, 2, 3],
                           pads=["explicit", "none", "VALID", "SAME_UPPER", "SAME_LOWER"]))
    def gen(rng, st):
        rank, kind = st["rank"], st["pads"]
        dtype = pick(rng, dtypes)
        p = draw_conv(rng, rank, kind)
        if kind.startswith("SAME") and rng.random() < 0.7:
            p["d"] = [1] * rank  # onnxruntime refuses dilations with SAME_*: mostly not drawn
        g, ks, ss, ds, ns = p["group"], p["k"], p["s"], p["d"], p["n"]
        x = normal(np, rng, [p["batch"], p["c_in"]] + ns, dtype)
        w = normal(np, rng, [p["c_out"], p["c_in"] // g] + ks, dtype)
        b = normal(np, rng, [p["c_out"]], dtype) if rng.random() < 0.6 else None
        attrs = {"strides": ss, "dilations": ds}
        if g != 1 or rng.random() < 0.3:
            attrs["group"] = g
        if rng.random() < 0.5:
            attrs["kernel_shape"] = ks
        if kind == "explicit":
            attrs["pads"] = [lo for lo, _ in p["pads"]] + [hi for _, hi in p["pads"]]
        elif kind != "none":
            attrs["auto_pad"] = kind
        elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
        model = onnx_model("Conv", attrs, x.shape, w, b, elem)
        flags = ["--stride", csv(ss), "--dilation", csv(ds), "--groups", str(g)]
        padding = p["pads"] if kind == "explicit" else JUDGE_PADDING[kind]
        opts = dict(st, dtype=dtype, style=p["style"], x=fmt_shape(x.shape),
                    w=fmt_shape(w.shape), bias=b is not None, stride=csv(ss), dilation=csv(ds),
                    dilated=any(d > 1 for d in ds), strided=any(s > 1 for s in ss),
                    claim=f"ONNX Conv {kind}")
        call = f"{peer} Conv({json.dumps(attrs)}) on x, w" + (", b" if b is not None else "")
        return Case(opts=opts, call=call, peer_in={"x": x, "w": w, "b": b},
                    run=lambda: runner(model, x), x=x, w=w, b=b, flags=flags, padding=padding,
                    shift_pads=explicit_pads(kind, p["pads"], ns, ks, ss, ds))
    return gen


def onnx_conv_transpose_gen(np, ort, peer):
    from onnx import TensorProto

    runner = onnx_runner(np, ort, peer)
    dtypes = ["float32"] if peer == "onnxruntime" else ["float64", "float64", "float32"]

    @with_strata(strata_of(rank=[1, 2, 3],
                           pads=["explicit", "none", "VALID", "SAME_UPPER", "SAME_LOWER",
                                 "output_shape", "output_shape+SAME_UPPER",
                                 "output_shape+SAME_LOWER"]))
    def gen(rng, st):
        rank, kind = st["rank"], st["pads"]
        dtype = pick(rng, dtypes)
        while True:
            g, c_in, c_out, style = draw_channels(rng)
            ks = [int(rng.integers(1, ONNX_MAX_K[rank] + 1)) for _ in range(rank)]
            ss = [pick(rng, [1, 1, 2, 3]) for _ in range(rank)]
            ds = [pick(rng, [1, 1, 2, 3]) for _ in range(rank)]
            ns = [int(rng.integers(1, ONNX_MAX_N[rank] + 1)) for _ in range(rank)]
            effs = [d * (k - 1) + 1 for k, d in zip(ks, ds)]
            ops = [int(rng.integers(0, s)) if rng.random() < 0.4 else 0 for s in ss]
            full = [s * (n - 1) + e + o for s, n, e, o in zip(ss, ns, effs, ops)]
            attrs = {"strides": ss, "dilations": ds}
            if any(ops):
                attrs["output_padding"] = ops
            if g != 1 or rng.random() < 0.3:
                attrs["group"] = g
            pads = None
            out_shape = None
            if kind == "explicit":
                pads = [(int(rng.integers(0, e)), int(rng.integers(0, e))) for e in effs]
                if min(f - lo - hi for f, (lo, hi) in zip(full, pads)) < 1:
                    continue
                attrs["pads"] = [lo for lo, _ in pads] + [hi for _, hi in pads]
            elif kind.startswith("output_shape"):
                out_shape = [max(1, f - int(rng.integers(-3, 5))) for f in full]
                attrs["output_shape"] = out_shape
                if "+" in kind:
                    attrs["auto_pad"] = kind.split("+")[1]
            elif kind != "none":
                attrs["auto_pad"] = kind
            break
        # ConvTranspose: x has C_in channels; w is (C_in, C_out/group, k...)
        x = normal(np, rng, [int(rng.integers(1, 3)), c_in] + ns, dtype)
        w = normal(np, rng, [c_in, c_out // g] + ks, dtype)
        b = normal(np, rng, [c_out], dtype) if rng.random() < 0.6 else None
        elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
        model = onnx_model("ConvTranspose", attrs, x.shape, w, b, elem)
        flags = ["--transpose", "--stride", csv(ss), "--dilation", csv(ds), "--groups", str(g)]
        if any(ops):
            flags += ["--output-padding", csv(ops)]
        if out_shape:
            flags += ["--output-shape", csv(out_shape)]
        auto = attrs.get("auto_pad", "NOTSET")
        padding = pads if pads else {"VALID": "valid", "SAME_UPPER": "same-upper",
                                     "SAME_LOWER": "same-lower"}.get(auto, 0)
        opts = dict(st, dtype=dtype, style=style, x=fmt_shape(x.shape), w=fmt_shape(w.shape),
                    bias=b is not None, stride=csv(ss), dilation=csv(ds),
                    output_padding=any(ops), claim=f"ONNX ConvTranspose {kind}")
        call = (f"{peer} ConvTranspose({json.dumps(attrs)}) on x, w"
                + (", b" if b is not None else ""))
        readings, raise_bug = transpose_readings(np, peer, x, b, g, ns, ks, ss, ds, ops,
                                                 out_shape, auto, padding, flags)
        return Case(opts=opts, call=call, peer_in={"x": x, "w": w, "b": b},
                    run=lambda: runner(model, x), x=x, w=w, b=b, flags=flags, padding=padding,
                    needs="transpose", readings=readings, raise_bug=raise_bug)
    return gen


ORT_CLAMP = ("onnxruntime clamps negative total padding (extra rows at the end; SAME_* without "
             "output_shape: the full extent, not n*s)")
REF_NOTSET = ("onnx.reference: output_shape with auto_pad NOTSET keeps pads 0 (begin 0, all "
              "padding at the end; ONNX: begin = t - floor(t/2))")
REF_GROUP = "onnx.reference ConvTranspose group > 1 (onnx PR #8446)"


def transpose_readings(np, peer, x, b, g, ns, ks, ss, ds, ops, out_shape, auto, padding, flags):
    """The documented readings of a ConvTranspose peer's result ([Reading], raise_bug).

    Per axis the total padding is t = s*(n-1) + output_padding + eff - target (target: the
    output_shape, or n*s for SAME_*); ONNX splits it, negative or not (SAME_UPPER begin
    floor(t/2), else t - floor(t/2); conv-oracle: begin 0 for NOTSET and t < 0, where both peers
    agree). tests/onnx_peers.rs measured the peers' deviations (peer_geometry, known_wrong):

    - onnxruntime clamps a negative t at 0: begin 0 and, with output_shape, the extra rows at
      the end; SAME_* without output_shape gives the full extent instead of n*s.
    - onnx.reference with output_shape and NOTSET leaves pads at 0 (begin 0). Its col2im counts
      floor((target - eff)/s) + 1 blocks per axis and checks only their product against the
      input's size: where the counts differ per axis (product right), it computes the
      transposed convolution of x reshaped to them (scripts' reproduction in the report).
    - onnx.reference with group > 1 (onnx PR #8446): it slices the weight by output channels
      and writes each group's result into one channel, so C_in/g or C_out/g > 1 raises
      (reshape / broadcast); and every group gets the whole bias, of which it reads bias[0].

    A peer geometry (begin >= 0, any end) is judge's explicit pads (begin, max(end, 0)) with
    output padding + max(0, -end): positions past the scatter's extent receive nothing.
    """
    base = ["--transpose", "--stride", csv(ss), "--dilation", csv(ds), "--groups", str(g)]
    effs = [d * (k - 1) + 1 for k, d in zip(ks, ds)]
    same = auto in ("SAME_UPPER", "SAME_LOWER")

    def geometry(pairs, pad_ops):
        assert min(lo for lo, _ in pairs) >= 0, pairs
        op2 = [o + max(0, -hi) for o, (_, hi) in zip(pad_ops, pairs)]
        return ([(lo, max(hi, 0)) for lo, hi in pairs],
                base + (["--output-padding", csv(op2)] if any(op2) else []))

    target = out_shape or ([n * s for n, s in zip(ns, ss)] if same else None)
    totals = None if target is None else [
        s * (n - 1) + o + e - t for n, s, o, e, t in zip(ns, ss, ops, effs, target)]
    if peer == "onnxruntime":
        if totals is None or min(totals) >= 0:
            return [], None
        pairs = []
        for t in totals:
            if t >= 0:
                lo = t // 2 if auto == "SAME_UPPER" else t - t // 2
                pairs.append((lo, t - lo))
            else:
                pairs.append((0, t) if out_shape else (0, 0))
        return [Reading("semantic", ORT_CLAMP, *geometry(pairs, ops))], None

    readings, geo = [], None  # geo: onnx.reference's geometry where it is not the claim's
    if out_shape and auto == "NOTSET":
        blocks = [(t - e) // s + 1 for t, e, s in zip(out_shape, effs, ss)]
        if min(blocks) >= 1 and np.prod(blocks) == np.prod(ns):  # else its col2im raises
            pairs = [(0, s * (k - 1) + e - t) for k, s, e, t in zip(blocks, ss, effs, out_shape)]
            pads, fl = geometry(pairs, [0] * len(ns))
            if blocks == list(ns):
                geo = ("semantic", REF_NOTSET, pads, fl, None)
            else:
                geo = ("peer_bug", "onnx.reference col2im: block counts "
                       f"{blocks} per axis for an input {list(ns)} (only the product is "
                       "checked): the output is the ConvTranspose of x reshaped to them",
                       pads, fl, x.reshape(list(x.shape[:2]) + blocks))
            readings.append(Reading(geo[0], geo[1], geo[2], geo[3], x=geo[4]))
    if g == 1:
        return readings, None
    if b is not None:
        pads, fl, xr = (geo[2], geo[3], geo[4]) if geo else (padding, flags, None)
        readings.append(Reading("peer_bug", f"{REF_GROUP}: bias[0] added to every output "
                                "channel" + (f"; and {geo[1]}" if geo else ""),
                                pads, fl, x=xr, b=np.full_like(b, b[0])))
    readings.append(Reading("peer_bug", f"{REF_GROUP}: output NOT reproduced by the bias[0] "
                            "reading (classified by group > 1 alone)", rejudge=False))
    return readings, (r"cannot reshape|could not broadcast", REF_GROUP)


# ------------------------------------------------------------ jax

JAX_LAYOUTS = [("nchw", "oihw"), ("nhwc", "hwio"), ("nhwc", "ohwi"), ("nchw", "hwio")]
SPATIAL_LETTERS = {1: "H", 2: "HW", 3: "DHW"}


def jax_gen(np, jax):
    from jax import lax

    @with_strata(strata_of(rank=[1, 2, 3], pads=["pairs", "SAME", "SAME_LOWER", "VALID"],
                           dtype=["float32", "float64"]))
    def gen(rng, st):
        rank, kind, dtype = st["rank"], st["pads"], st["dtype"]
        p = draw_conv(rng, rank, "explicit" if kind == "pairs" else kind)
        layout, klayout = pick(rng, JAX_LAYOUTS)
        g, ks, ss, ds, ns = p["group"], p["k"], p["s"], p["d"], p["n"]
        sp = SPATIAL_LETTERS[rank]
        lhs_spec = "NC" + sp if layout == "nchw" else "N" + sp + "C"
        rhs_spec = {"oihw": "OI" + sp, "hwio": sp + "IO", "ohwi": "O" + sp + "I"}[klayout]
        x_nchw_shape = [p["batch"], p["c_in"]] + ns
        x_shape = x_nchw_shape if layout == "nchw" else [p["batch"]] + ns + [p["c_in"]]
        oi, kk = [p["c_out"], p["c_in"] // g], ks
        w_shape = {"oihw": oi + kk, "hwio": kk + oi[::-1], "ohwi": [oi[0]] + kk + [oi[1]]}[klayout]
        x, w = normal(np, rng, x_shape, dtype), normal(np, rng, w_shape, dtype)
        padding = [tuple(pp) for pp in p["pads"]] if kind == "pairs" else kind
        dn = (lhs_spec, rhs_spec, lhs_spec)

        def run():
            return np.asarray(lax.conv_general_dilated(
                x, w, window_strides=ss, padding=padding, rhs_dilation=ds,
                dimension_numbers=dn, feature_group_count=g))
        flags = ["--stride", csv(ss), "--dilation", csv(ds), "--groups", str(g),
                 "--kernel-layout", klayout]
        jpad = p["pads"] if kind == "pairs" else {
            "SAME": "same-upper", "SAME_LOWER": "same-lower", "VALID": "valid"}[kind]
        ekind = {"pairs": "explicit", "SAME": "SAME_UPPER"}.get(kind, kind)
        opts = dict(st, style=p["style"], layout=f"{lhs_spec}/{rhs_spec}", x=fmt_shape(x_shape),
                    w=fmt_shape(w_shape), stride=csv(ss), dilation=csv(ds),
                    claim=f"JAX padding {kind}")
        call = (f"jax.lax.conv_general_dilated(x, w, window_strides={ss}, padding={padding!r}, "
                f"rhs_dilation={ds}, dimension_numbers={dn}, feature_group_count={g})")
        return Case(opts=opts, call=call, peer_in={"x": x, "w": w}, run=run, x=x, w=w,
                    flags=flags, padding=jpad, layout=layout,
                    shift_pads=explicit_pads(ekind, p["pads"], ns, ks, ss, ds))
    return gen


# ------------------------------------------------------------ the rows


def make_rows(np, ort, jax, jax_note, features):
    """[(peer, operation, generator or None, note)] in table order."""
    tr_note = None if features["transpose"] else PENDING["transpose"]
    rows = [
        ("numpy", "convolve", numpy_gen(np, "convolve"), None),
        ("numpy", "correlate", numpy_gen(np, "correlate"), None),
        ("scipy.signal", "convolve direct", scipy_signal_gen(np, "convolve", "direct"), None),
        ("scipy.signal", "correlate direct", scipy_signal_gen(np, "correlate", "direct"), None),
        ("scipy.signal", "convolve fft", scipy_signal_gen(np, "convolve", "fft"), None),
        ("scipy.signal", "correlate fft", scipy_signal_gen(np, "correlate", "fft"), None),
        ("scipy.signal", "fftconvolve", scipy_signal_gen(np, "fftconvolve", None), None),
        ("scipy.signal", "oaconvolve", scipy_signal_gen(np, "oaconvolve", None), None),
        ("scipy.signal", "convolve2d", scipy_2d_gen(np, "convolve2d"), None),
        ("scipy.signal", "correlate2d", scipy_2d_gen(np, "correlate2d"), None),
        ("scipy.ndimage", "convolve", scipy_ndimage_gen(np, "convolve"), None),
        ("scipy.ndimage", "correlate", scipy_ndimage_gen(np, "correlate"), None),
        ("onnxruntime", "Conv", onnx_conv_gen(np, ort, "onnxruntime"), None),
        ("onnxruntime", "ConvTranspose",
         onnx_conv_transpose_gen(np, ort, "onnxruntime") if not tr_note else None, tr_note),
        ("onnx.reference", "Conv", onnx_conv_gen(np, ort, "onnx.reference"), None),
        ("onnx.reference", "ConvTranspose",
         onnx_conv_transpose_gen(np, ort, "onnx.reference") if not tr_note else None, tr_note),
    ]
    if jax is not None:
        rows.append(("jax.lax", "conv_general_dilated", jax_gen(np, jax), None))
    else:
        rows.append(("jax.lax", "conv_general_dilated", None, f"jax: not installed ({jax_note})"))
    return rows


# --------------------------------------------------------------------------------------------
# Report


def summarise(row):
    cases = row["cases"]
    count = lambda st: sum(1 for c in cases if c["status"] == st)  # noqa: E731
    # err/bound of the passed and semantic cases (for a semantic difference: under the shift
    # or the peer's reading)
    ratios = [c["max_ratio"] for c in cases
              if c["status"] in ("passed", "semantic") and c.get("max_ratio") is not None]
    tried = caught = 0
    for c in cases:
        for v in (c.get("corrupt") or {}).values():
            if not v.startswith("n/a"):
                tried += 1
                caught += v == "caught"
    unexpected = sum(1 for c in cases if c["status"] == "semantic" and not c.get("expected"))
    row["summary"] = {
        "cases": len(cases), "passed": count("passed"),
        "failed": count("failed") + unexpected, "refused": count("refused"),
        "semantic_expected": count("semantic") - unexpected,
        "semantic_unexpected": unexpected, "peer_bug": count("peer_bug"),
        "pending": count("pending"), "corrupt_tried": tried, "corrupt_caught": caught,
        "uncaught": tried - caught, "max_ratio": max(ratios) if ratios else None,
    }
    # options drawn: every value seen per key (shapes and the like left out)
    seen = {}
    for c in cases:
        for k, v in c["opts"].items():
            if k in ("x", "w", "in1", "in2", "input", "weights", "n", "m", "claim",
                     "stride", "dilation"):
                continue
            seen.setdefault(k, [])
            if v not in seen[k]:
                seen[k].append(v)
    row["options_seen"] = seen


def fmt_ratio(v):
    return "-" if v is None else ("0" if v == 0 else f"{v:.3g}")


def versions(np, scipy, onnx, ort, jax, binary):
    out = command_output
    head = out(["git", "rev-parse", "--short", "HEAD"])
    dirty = out(["git", "status", "--porcelain", "--untracked-files=no"])
    v = {"python": platform.python_version(), "numpy": np.__version__,
         "scipy": scipy.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__,
         "jax": None, "jaxlib": None, "conv-oracle": out([binary, "--version"]),
         "binary": binary, "rustc": out(["rustc", "-V"]),
         "git": head and (head + (" (with uncommitted changes)" if dirty else ""))}
    if jax is not None:
        import jaxlib

        v["jax"], v["jaxlib"] = jax.__version__, jaxlib.__version__
    return v


def markdown(report):
    v, s, feat = report["versions"], report["settings"], report["judge_features"]
    lines = [f"# Live check of real peers ({report['started']})", ""]
    lines.append(machine_line(report["machine"]) + ".  ")
    lines.append(f"{v['conv-oracle']} at {v['binary']} (repository git {v['git']}, {v['rustc']}); "
                 f"python {v['python']}, numpy {v['numpy']}, scipy {v['scipy']}, onnx "
                 f"{v['onnx']}, onnxruntime {v['onnxruntime']}, "
                 + (f"jax {v['jax']} / jaxlib {v['jaxlib']} (CPU, x64 enabled)." if v["jax"]
                    else f"jax: not installed ({report['jax_note']})."))
    lines.append("")
    lines.append(f"`{' '.join(report['command'])}`: {s['cases']} cases per row, seed {s['seed']}; "
                 f"judge --padding-mode symmetric: {'yes' if feat['symmetric'] else 'not yet'}, "
                 f"judge --transpose: {'yes' if feat['transpose'] else 'not yet'}; "
                 f"{report['seconds']:.1f} s (setup {report['setup_seconds']:.1f} s).")
    lines.append("")
    pending = any(r["summary"]["pending"] for r in report["rows"])
    lines.append("| peer | operation | tolerance | cases | passed | failed (genuine) | refused | "
                 "semantic diff. (expected) | known peer bug | "
                 + ("pending | " if pending else "") + "corrupted caught | max err/bound |")
    lines.append("|---|---|---|" + "---:|" * (9 if pending else 8))
    notes = []
    for row in report["rows"]:
        sm = row["summary"]
        tols = sorted({c["tolerance"] for c in row["cases"]}) or ["-"]
        lines.append(
            f"| {row['peer']} | {row['op']} | {'/'.join(tols)} | {sm['cases']} | {sm['passed']} "
            f"| {sm['failed']} | {sm['refused']} | {sm['semantic_expected']} | {sm['peer_bug']} "
            "| " + (f"{sm['pending']} | " if pending else "")
            + f"{sm['corrupt_caught']}/{sm['corrupt_tried']} | {fmt_ratio(sm['max_ratio'])} |")
        name = f"{row['peer']} {row['op']}"
        if row["note"]:
            notes.append(f"- {name}: {row['note']}")
        grouped = {}
        for c in row["cases"]:
            if c["status"] == "refused":
                key = f"refused: {c['refused']}"
            elif c["status"] == "semantic":
                key = c["semantic"] if c.get("expected") else f"**FAILED** {c['semantic']}"
            elif c["status"] == "peer_bug":
                key = f"known peer bug: {c['peer_bug']}"
            elif c["status"] == "pending":
                key = c["note"]
            else:
                continue
            grouped.setdefault(key, []).append(c["index"])
        for key, idx in grouped.items():
            notes.append(f"- {name}: {key} (cases {', '.join(map(str, idx[:12]))}"
                         f"{', ...' if len(idx) > 12 else ''}; {len(idx)} in all)")
        for c in row["cases"]:
            if c["status"] == "failed":
                notes.append(f"- **FAILED** {name} case {c['index']}: {c.get('reason')}; "
                             f"`{c['call']}`; options {json.dumps(c['opts'])}; "
                             f"kept in {c.get('kept')}")
                if c.get("judge"):
                    notes.append(f"  judge: `{json.dumps(c['judge'])}`")
            for kind, verdict in (c.get("corrupt") or {}).items():
                if verdict.startswith("NOT"):
                    notes.append(f"- **CORRUPTION NOT CAUGHT** {name} case {c['index']} "
                                 f"({kind}); kept under {report.get('kept')}")
    lines.append("")
    lines.append(
        "tolerance = judge's --tolerance for the row's cases, '/'-joined when they differ "
        "(componentwise: any order of direct summation; normwise: the bound of an FFT computed "
        "in float64, scipy.fft on float64 data; normwise:single: the bound of an FFT computed "
        "in float32, scipy.fft on float32 data). "
        "cases = drawn. passed = judge passes the peer's output as the claimed mode. failed "
        "(genuine) = a numeric failure, an unexpected semantic difference (a shift or shape no "
        "document explains), or judge exiting 2 on a case the peer accepted: these make the "
        "run fail. refused = the peer raised. semantic diff. (expected) = judge passes it only "
        "under a documented other semantics (the shifts of docs/semantics.md; a peer's ConvTranspose "
        "geometry measured in tests/onnx_peers.rs). known peer bug = a documented peer bug "
        "(its result reproduced by judge under the bug's reading, or its raise). "
        + ("pending = needs a judge flag not there yet. " if pending else "")
        + "corrupted caught = judge failed the corrupted outputs (one element x (1 + 1e-3), one "
        "channel rolled one pixel) / corruptions tried, on every output that passed (under its "
        "reading). max err/bound = judge's largest max_ratio over the passed and expected-"
        "semantic cases.")
    lines.append("")
    lines.append("Options drawn per row:")
    lines.append("")
    for row in report["rows"]:
        if row["options_seen"]:
            opts = "; ".join(f"{k} {', '.join(map(str, sorted(vals, key=str)))}"
                             for k, vals in row["options_seen"].items())
            lines.append(f"- {row['peer']} {row['op']}: {opts}")
    lines.append("")
    if notes:
        lines.append("Notes:")
        lines.append("")
        lines.extend(notes)
        lines.append("")
    bad = sum(r["summary"]["failed"] for r in report["rows"])
    uncaught = sum(r["summary"]["uncaught"] for r in report["rows"])
    tot = lambda k: sum(r["summary"][k] for r in report["rows"])  # noqa: E731
    lines.append(f"Result: {'FAIL' if bad or uncaught else 'PASS'}: {bad} genuine failure(s), "
                 f"{uncaught} corruption(s) not caught (not failures: {tot('semantic_expected')} "
                 f"expected semantic difference(s), {tot('peer_bug')} known peer bug(s))"
                 + (f"; kept in {report['kept']}" if report.get("kept") else "") + ".")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
