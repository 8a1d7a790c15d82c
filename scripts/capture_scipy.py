#!/usr/bin/env python3
"""Capture numbers from numpy and scipy for tests/peers.rs to reproduce bit for bit.

Usage: python3 scripts/capture_scipy.py --seed S --out DIR [--venv PATH]

Unless it already runs inside the venv, the script creates a virtual environment (default
`target/venv-scipy` under the repository, i.e. inside the gitignored target dir), pip-installs
the pinned numpy and scipy below, and re-executes itself with that venv's python.

It writes three JSON files into DIR:

- signal.json:   scipy.signal.convolve / correlate (1-D, 2-D, 3-D; modes full, same, valid;
                 method 'direct' for every case, 'auto' and 'fft' for a seeded subset), plus
                 what numpy.convolve and scipy do with empty inputs.
- signal2d.json: scipy.signal.convolve2d / correlate2d with boundary fill (zero and nonzero
                 fillvalue, complex too), wrap and symm, including kernels longer than the input.
- pad.json:      numpy.pad of numpy.arange(n) (so each output reads its source index) for
                 n = 1..=6, every (lo, hi) in 0..=20, modes constant (-1), reflect, symmetric,
                 edge and wrap; plus some 2-D and empty-array cases.

Inputs are seeded small integers (-4..=4, complex parts too), so every product and every
partial sum is an exact float64 and any summation order gives the same bits. Each file records
the numpy and scipy versions and the seed. Layout of a case:

    {"id": ..., "function": "scipy.signal.convolve", "mode": "same", "dtype": "float64",
     "in1": {"shape": [...], "data": [...]}, "in2": {...}, "out": {"shape": [...], "data": [...]}}

or `"error": "ValueError: <message>"` instead of "out". Data are in C order; complex numbers
are [re, im] pairs. Only method='direct' results are raw: 'auto' and 'fft' results have their
signed zeros cleared (+ 0.0), and non-integral FFT results are rounded; such a case says so in
"postprocess" ("clear_zero_signs" or "round_and_clear_zero_signs") and "postprocess_note", and
the test applies the same to its own result (scipy's methods disagree on the sign of zero).
"""

import argparse
import os
import sys

import pinned_venv  # scripts/pinned_venv.py (the script's own folder is on sys.path)
from _common import REPO, write_cases  # scripts/_common.py, shared by the scripts

NUMPY_VERSION = "2.4.6"
SCIPY_VERSION = "1.17.1"
REEXEC_GUARD = "CONV_ORACLE_CAPTURE_REEXEC"


def ensure_venv_and_reexec(venv):
    pinned_venv.ensure(venv, {"numpy": NUMPY_VERSION, "scipy": SCIPY_VERSION}, REEXEC_GUARD)


# --------------------------------------------------------------------------------------------
# Everything below runs inside the venv.


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--venv", default=os.path.join(REPO, "target", "venv-scipy"))
    args = ap.parse_args()
    ensure_venv_and_reexec(args.venv)

    import warnings

    import numpy as np
    import scipy
    import scipy.signal as ss

    assert np.__version__ == NUMPY_VERSION, np.__version__
    assert scipy.__version__ == SCIPY_VERSION, scipy.__version__
    warnings.simplefilter("ignore")  # log(0) in scipy's method chooser for empty inputs

    os.makedirs(args.out, exist_ok=True)
    header = {"numpy": np.__version__, "scipy": scipy.__version__, "seed": args.seed}
    rng = np.random.default_rng(args.seed)
    stats = {"negative_zeros": 0}

    def draw(shape, dtype):
        if dtype == "float64":
            return rng.integers(-4, 5, size=shape).astype(np.float64)
        re = rng.integers(-4, 5, size=shape)
        im = rng.integers(-4, 5, size=shape)
        return (re + 1j * im).astype(np.complex128)

    def enc_scalar(v):
        if isinstance(v, (complex, np.complexfloating)):
            return [float(v.real), float(v.imag)]
        if isinstance(v, (float, np.floating)):
            return float(v)
        return int(v)

    def enc(a):
        a = np.asarray(a)
        flat = a.reshape(-1)  # C order
        if a.dtype.kind == "f":
            stats["negative_zeros"] += int(np.sum((flat == 0) & np.signbit(flat)))
        elif a.dtype.kind == "c":
            stats["negative_zeros"] += int(np.sum((flat.real == 0) & np.signbit(flat.real)))
            stats["negative_zeros"] += int(np.sum((flat.imag == 0) & np.signbit(flat.imag)))
        return {"shape": list(a.shape), "data": [enc_scalar(v) for v in flat]}

    def err(e):
        return f"{type(e).__name__}: {e}"

    def shp(s):
        return "x".join(map(str, s))

    def is_integral(a):
        a = np.asarray(a)
        return bool(np.all(a.real == np.round(a.real)) and np.all(a.imag == np.round(a.imag)))

    def negative_zeros(a):
        a = np.asarray(a)
        return int(np.sum((a.real == 0) & np.signbit(a.real))
                   + np.sum((a.imag == 0) & np.signbit(a.imag)))

    def normalize(out):
        """Post-processing of the 'auto' and 'fft' results (never of 'direct' ones).

        scipy's methods disagree with one another on the sign of zero: for complex 'valid'
        correlation with in2 the larger, method='direct' reverses and conjugates (-0.0
        imaginary parts) while 'auto' goes through convolve and gives +0.0; fftconvolve
        multiplies directly when an axis has length 1 (-1 * 0 = -0.0). Only 'direct' is
        compared raw. Returns (out, code, note); the test applies the same code to its result.
        """
        if is_integral(out):
            note = (f"out + 0.0 (cleared {negative_zeros(out)} negative zeros): scipy's methods "
                    "disagree on the sign of zero, so only method='direct' is compared raw")
            return out + 0.0, "clear_zero_signs", note
        dev = float(np.max(np.abs(out - np.round(out))))
        note = (f"numpy.round(out) + 0.0: the FFT result was not integral (largest deviation "
                f"{dev:.3g}); + 0.0 clears the signed zeros rounding makes")
        return np.round(out) + 0.0, "round_and_clear_zero_signs", note

    # ---------------------------------------------------------------- signal.json
    sig_funcs = {"convolve": ss.convolve, "correlate": ss.correlate}
    shape_sets = {
        1: ([(1,), (2,), (3,), (4,), (5,), (7,), (8,)],
            [(1,), (2,), (3,), (4,), (5,), (6,), (9,)]),
        2: ([(1, 1), (3, 4), (4, 4), (2, 5), (5, 3)],
            [(1, 1), (2, 2), (3, 3), (2, 5), (4, 2), (5, 6), (6, 1)]),
        3: ([(2, 3, 4), (3, 3, 3)],
            [(1, 2, 2), (2, 3, 4), (3, 4, 5), (2, 2, 5), (4, 1, 2)]),
    }
    cases = []
    for ndim, (s1s, s2s) in shape_sets.items():
        for dtype in ("float64", "complex128"):
            for s1 in s1s:
                for s2 in s2s:
                    a, b = draw(s1, dtype), draw(s2, dtype)
                    for fname, f in sig_funcs.items():
                        for mode in ("full", "same", "valid"):
                            # 'direct' always; 'auto' and 'fft' for a seeded quarter of cases.
                            extra = rng.random() < 0.25
                            methods = ["direct"] + (["auto", "fft"] if extra else [])
                            for method in methods:
                                c = {
                                    "id": f"{fname}/{ndim}d/{dtype}/{mode}/{method}/"
                                          f"{shp(s1)}*{shp(s2)}",
                                    "function": f"scipy.signal.{fname}",
                                    "mode": mode,
                                    "method": method,
                                    "dtype": dtype,
                                    "in1": enc(a),
                                    "in2": enc(b),
                                }
                                try:
                                    if method == "auto":
                                        c["method_chosen"] = ss.choose_conv_method(a, b, mode=mode)
                                    out = f(a, b, mode=mode, method=method)
                                    if method != "direct":
                                        out, c["postprocess"], c["postprocess_note"] = \
                                            normalize(out)
                                    c["out"] = enc(out)
                                except Exception as e:  # noqa: BLE001 - the error is data
                                    c["error"] = err(e)
                                cases.append(c)

    # Empty inputs: numpy.convolve and scipy.signal.convolve/correlate, every mode.
    empties = [((0,), (3,)), ((3,), (0,)), ((0,), (0,)), ((0, 3), (2, 2)), ((2, 2), (2, 0))]
    for s1, s2 in empties:
        a, b = np.zeros(s1), np.ones(s2)
        for mode in ("full", "same", "valid"):
            calls = []
            if len(s1) == 1:
                calls.append(("numpy.convolve", None, lambda a=a, b=b, m=mode: np.convolve(a, b, m)))
            for fname, f in sig_funcs.items():
                for method in ("direct", "auto"):
                    calls.append((f"scipy.signal.{fname}", method,
                                  lambda f=f, a=a, b=b, m=mode, me=method: f(a, b, mode=m, method=me)))
            for function, method, call in calls:
                c = {
                    "id": f"empty/{function}/{mode}/{method}/{shp(s1)}*{shp(s2)}",
                    "function": function,
                    "mode": mode,
                    "dtype": "float64",
                    "in1": enc(a),
                    "in2": enc(b),
                }
                if method:
                    c["method"] = method
                try:
                    c["out"] = enc(call())
                    c["known_difference"] = (
                        f"{function} returns an array of shape {list(c['out']['shape'])} for an "
                        "empty input; conv-oracle refuses empty arrays with ConvError::EmptyArray")
                except Exception as e:  # noqa: BLE001
                    c["error"] = err(e)
                cases.append(c)
    write_cases(args.out, "signal.json", header, cases)
    n_signal = len(cases)

    # ---------------------------------------------------------------- signal2d.json
    funcs2d = {"convolve2d": ss.convolve2d, "correlate2d": ss.correlate2d}
    s1s = [(1, 1), (1, 4), (3, 3), (4, 5), (2, 6)]
    s2s = [(1, 1), (2, 2), (3, 3), (2, 3), (3, 2), (4, 5), (5, 7), (1, 8), (6, 1)]
    fills = {"float64": [0.0, -3.0], "complex128": [0j, 2 - 1j]}
    cases = []
    for dtype in ("float64", "complex128"):
        for s1 in s1s:
            for s2 in s2s:
                a, b = draw(s1, dtype), draw(s2, dtype)
                for fname, f in funcs2d.items():
                    for mode in ("full", "same", "valid"):
                        bounds = [("fill", v) for v in fills[dtype]] + [("wrap", None), ("symm", None)]
                        for boundary, fv in bounds:
                            bid = boundary if fv is None else f"fill({enc_scalar(fv)})"
                            c = {
                                "id": f"{fname}/{dtype}/{mode}/{bid}/{shp(s1)}*{shp(s2)}",
                                "function": f"scipy.signal.{fname}",
                                "mode": mode,
                                "dtype": dtype,
                                "boundary": boundary,
                                "in1": enc(a),
                                "in2": enc(b),
                            }
                            kw = {"mode": mode, "boundary": boundary}
                            if fv is not None:
                                c["fillvalue"] = enc_scalar(fv)
                                kw["fillvalue"] = fv
                            try:
                                c["out"] = enc(f(a, b, **kw))
                            except Exception as e:  # noqa: BLE001
                                c["error"] = err(e)
                            cases.append(c)
    for s1, s2 in [((0, 3), (2, 2)), ((2, 3), (2, 0)), ((0, 0), (1, 1))]:
        a, b = np.zeros(s1), np.ones(s2)
        for fname, f in funcs2d.items():
            for mode in ("full", "same", "valid"):
                c = {
                    "id": f"empty/{fname}/{mode}/{shp(s1)}*{shp(s2)}",
                    "function": f"scipy.signal.{fname}",
                    "mode": mode,
                    "dtype": "float64",
                    "boundary": "fill",
                    "fillvalue": 0.0,
                    "in1": enc(a),
                    "in2": enc(b),
                }
                try:
                    c["out"] = enc(f(a, b, mode=mode))
                    c["known_difference"] = (
                        f"scipy.signal.{fname} returns an array of shape "
                        f"{list(c['out']['shape'])} for an empty input; conv-oracle refuses "
                        "empty arrays with ConvError::EmptyArray")
                except Exception as e:  # noqa: BLE001
                    c["error"] = err(e)
                cases.append(c)
    write_cases(args.out, "signal2d.json", header, cases)
    n_signal2d = len(cases)

    # ---------------------------------------------------------------- pad.json
    modes = ["constant", "reflect", "symmetric", "edge", "wrap"]

    def pad_case(cid, x, pads, mode):
        c = {"id": cid, "function": "numpy.pad", "mode": mode, "dtype": "int64",
             "in1": enc(x), "pad": [list(p) for p in pads]}
        kw = {}
        if mode == "constant":
            c["constant_values"] = -1
            kw["constant_values"] = -1
        try:
            c["out"] = enc(np.pad(x, pads, mode=mode, **kw))
        except Exception as e:  # noqa: BLE001
            c["error"] = err(e)
        return c

    cases = []
    for mode in modes:
        for n in range(1, 7):
            x = np.arange(n)
            for lo in range(21):
                for hi in range(21):
                    cases.append(pad_case(f"pad/{mode}/n{n}/{lo},{hi}", x, [(lo, hi)], mode))
    pads2d = [((0, 5), (7, 2)), ((9, 1), (0, 0)), ((2, 3), (11, 4)), ((1, 0), (0, 13))]
    for shape in [(3, 4), (1, 5), (2, 1)]:
        x = np.arange(int(np.prod(shape))).reshape(shape)
        for pads in pads2d:
            for mode in modes:
                pid = ";".join(f"{lo},{hi}" for lo, hi in pads)
                cases.append(pad_case(f"pad2d/{mode}/{shp(shape)}/{pid}", x, list(pads), mode))
    for mode in modes:
        for pads in [((0, 0),), ((1, 2),)]:
            x = np.arange(0)
            pid = ";".join(f"{lo},{hi}" for lo, hi in pads)
            cases.append(pad_case(f"pad-empty/{mode}/n0/{pid}", x, list(pads), mode))
    write_cases(args.out, "pad.json", header, cases)
    n_pad = len(cases)

    print(f"numpy {np.__version__}, scipy {scipy.__version__}, seed {args.seed}: "
          f"signal.json {n_signal} cases, signal2d.json {n_signal2d} cases, pad.json {n_pad} cases; "
          f"{stats['negative_zeros']} negative zeros in the data")


if __name__ == "__main__":
    main()
