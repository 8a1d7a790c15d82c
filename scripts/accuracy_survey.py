#!/usr/bin/env python3
r"""Survey the accuracy of peer convolutions against our exact (correctly rounded) engine.

Usage: python3 scripts/accuracy_survey.py [--markdown FILE] [--json FILE] [--force]
                                          [--cli PATH] [--no-jax] [--seed S] [--venv PATH]

Unless it already runs inside the venv, the script creates a virtual environment (default
`$CARGO_TARGET_DIR/venv-survey`, or target/venv-survey without CARGO_TARGET_DIR, i.e. inside
the gitignored target dir), pip-installs the pinned numpy and scipy (scripts/capture_scipy.py's
pins), onnx and onnxruntime (scripts/capture_onnx.py's pins), and re-executes itself with that
venv's python (scripts/pinned_venv.py). It then installs the pinned jax[cpu] into the same venv
(with numpy and scipy held at their pins); if that fails, the survey says so in its header and
tables ("JAX unavailable: ...") and goes on without the JAX rows. --no-jax skips JAX on purpose.

Our side is the `conv-oracle` binary: unless --cli PATH names one, the script first runs
`cargo build --release --bin conv-oracle` in the repository (honouring CARGO_TARGET_DIR) and
uses $CARGO_TARGET_DIR/release/conv-oracle. Every array goes through .npy files in a temporary
directory; nothing is written into the repository.

Problems (mode 'full' for convolve; conv is ONNX / PyTorch Conv: cross-correlation, NCHW,
OIHW, pads 1, stride 1, with a bias):

    1d_f64    convolve, 1-D 4096 * 63, float64
    1d_f32    convolve, 1-D 4096 * 63, float32
    2d_f64    convolve, 2-D 128x128 * 7x7, float64
    conv_f32  conv [1,8,32,32] * [8,8,3,3] + bias [8], float32
    conv_f64  conv [1,8,32,32] * [8,8,3,3] + bias [8], float64

Data sets (numpy default_rng seeded with [--seed, problem index, data set index], drawn in
float64 then rounded once to the problem's dtype):

    normal      standard normal everything
    cancelling  input 1e6 + U(-1, 1); kernel standard normal minus its mean (for conv, per output
                channel), so each full-overlap output is a small difference of terms ~1e6;
                bias standard normal
    12-decade   every value +-10^U(-6, 6) (random sign), so terms span 24 decades

Peers (those that apply to each problem): numpy.convolve; scipy.signal.convolve with
method='direct' and method='fft'; scipy.signal.oaconvolve; scipy.signal.convolve2d (2-D);
onnxruntime's Conv (float32 only: it has no float64 Conv; single-node model, CPU provider, one
thread); jax.numpy.convolve (1-D), jax.scipy.signal.convolve2d (2-D) and
jax.lax.conv_general_dilated + bias (conv), with jax_enable_x64 on so that float64 stays float64
(float32 inputs stay float32); and our own engines as peers: conv-oracle reference (the literal
formula, float sums in its order), conv-oracle direct (fast loop order) and conv-oracle fft.
Each peer is marked 'direct' (sums the K products in some order) or 'fft'.

Metrics per (problem, peer, data set), against `exact` = our --engine exact output in the
problem's dtype. NOTE: exact here means correctly rounded (the true sum rounded once to nearest),
so it is itself off from the true value by at most half an ulp.

- ULP distance, in the output's own format (float32 vs float32, float64 vs float64): the bit
  patterns viewed as integers and mapped monotonically (negative x -> -(bits & 0x7ff...f), so
  +0 and -0 both map to 0), then |difference|. Reported: median, max, the share of outputs at
  distance 0 ("correctly rounded") and at distance <= 1.
- error/bound ratio: |peer - exact| / (gamma_K(u) * A), where gamma_K = K u / (1 - K u),
  u = 2^-24 (float32) or 2^-53 (float64), K = products per output (the kernel size; conv:
  C_in * kh * kw, + 1 for the bias), and A = sum |w| |x| (+ |b|) per output, computed by our CLI
  (--engine exact, float64) on the absolute values of the inputs. gamma_K * A bounds the error
  of ANY order of summing the K rounded products (FMA or not) against the true value, so a
  direct peer's ratio stays below 1 (up to u / gamma_K ~ 1/K, since `exact` is itself rounded).
  The componentwise bound does NOT apply to FFT methods (their error bound is normwise, relative
  to norms of the whole inputs), so FFT ratios above 1 are expected, not findings. Reported: max
  ratio (and the worst output's values in the JSON).
- sanity check: on the 'normal' data set the normwise relative difference ||peer - exact|| /
  ||exact|| must be below SANITY_RTOL (1e-3), to catch a mis-wired call (flip, mode, padding,
  layout); shapes and dtypes must match on every data set. A failed check, a peer error (other
  than JAX being unavailable) or a CLI failure makes the exit status 1; a direct peer beyond its
  bound is printed as a warning (a finding about the peer, not a failure of the survey).

Output: on stdout the versions and one table per problem (one row per peer and data set);
--markdown FILE writes one compact table per problem (a row per peer, a column per data set)
with the definitions, for the README; --json FILE writes every raw number (per-output
statistics, the worst output, versions, shapes, seeds, timings). Neither replaces an existing
file without --force (checked before anything runs). Progress and cargo's output go to stderr.
"""

import argparse
import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import pinned_venv  # scripts/pinned_venv.py (the script's own folder is on sys.path)
from _common import (REPO, command_output, refuse_existing, target_dir,
                     write_output)  # scripts/_common.py, shared by the scripts
from capture_onnx import IR_VERSION, ONNX_VERSION, OPSET, ORT_VERSION
from capture_scipy import NUMPY_VERSION, SCIPY_VERSION  # one place for the pins

# jax and jaxlib: the newest release that still supports Python 3.11 (0.11 and later need 3.12)
JAX_VERSION = "0.10.2"
REEXEC_GUARD = "CONV_ORACLE_ACCURACY_SURVEY_REEXEC"

DEFAULT_SEED = 20261127  # the crate's properties::DEFAULT_SEED
SANITY_RTOL = 1e-3  # rounding errors here are <= ~1e-6 normwise; a mis-wired call gives O(1)
CONV_PAD = 1

# (id, operation, dtype, input shape, kernel/weight shape)
PROBLEMS = [
    ("1d_f64", "convolve", "float64", (4096,), (63,)),
    ("1d_f32", "convolve", "float32", (4096,), (63,)),
    ("2d_f64", "convolve", "float64", (128, 128), (7, 7)),
    ("conv_f32", "conv", "float32", (1, 8, 32, 32), (8, 8, 3, 3)),
    ("conv_f64", "conv", "float64", (1, 8, 32, 32), (8, 8, 3, 3)),
]
DATASETS = ("normal", "cancelling", "12-decade")
OUR_ENGINES = ("reference", "direct", "fft")


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="See the module docstring (top of scripts/accuracy_survey.py) for the details.")
    ap.add_argument("--markdown", metavar="FILE", help="write the README summary tables here")
    ap.add_argument("--json", metavar="FILE", help="write every raw number here")
    ap.add_argument("--force", action="store_true", help="replace existing output files")
    ap.add_argument("--cli", metavar="PATH",
                    help="use this conv-oracle binary instead of building it with cargo")
    ap.add_argument("--no-jax", action="store_true", help="leave JAX out (do not install it)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data seed; default %(default)s")
    ap.add_argument("--venv", metavar="PATH",
                    default=os.path.join(target_dir(), "venv-survey"),
                    help="the pinned virtual environment; default %(default)s")
    args = ap.parse_args()

    # Refuse before anything slow runs (and again after the re-exec, harmlessly).
    refuse_existing((args.markdown, args.json), args.force)

    pinned_venv.ensure(args.venv, {"numpy": NUMPY_VERSION, "scipy": SCIPY_VERSION,
                                   "onnx": ONNX_VERSION, "onnxruntime": ORT_VERSION},
                       REEXEC_GUARD)
    sys.exit(run(args))


# --------------------------------------------------------------------------------------------
# Everything below runs inside the venv.


def ensure_jax(skip):
    """(jax module or None, note). Installs the pinned jax[cpu] into this venv when missing."""
    if skip:
        return None, "left out (--no-jax)"

    def installed():
        importlib.invalidate_caches()
        try:
            import jax
            import jaxlib
        except ImportError:
            return False
        return jax.__version__ == JAX_VERSION and jaxlib.__version__ == JAX_VERSION

    if not installed():
        specs = [f"jax[cpu]=={JAX_VERSION}", f"jaxlib=={JAX_VERSION}",
                 f"numpy=={NUMPY_VERSION}", f"scipy=={SCIPY_VERSION}"]
        print("installing " + " ".join(specs), file=sys.stderr, flush=True)
        p = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check"] + specs,
                           capture_output=True, text=True)
        if p.returncode != 0:
            lines = (p.stderr or p.stdout).strip().splitlines() or [""]
            errors = [ln for ln in lines if ln.startswith("ERROR")] or lines
            return None, f"pip install failed (exit {p.returncode}): {errors[-1][:300]}"
        if not installed():
            return None, "installed, but the import or the version check failed"
    import jax

    jax.config.update("jax_enable_x64", True)  # float64 stays float64; float32 stays float32
    return jax, None


def run(args):
    import numpy as np
    import onnxruntime as ort
    import scipy

    assert np.__version__ == NUMPY_VERSION, np.__version__
    assert scipy.__version__ == SCIPY_VERSION, scipy.__version__
    assert ort.__version__ == ORT_VERSION, ort.__version__

    t0 = time.time()
    cli = args.cli or build_cli()
    if cli is None:
        return 1
    cli = os.path.abspath(cli)
    jax, jax_note = ensure_jax(args.no_jax)
    started = time.time()

    report = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": [os.path.basename(sys.argv[0])] + sys.argv[1:],
        "versions": versions(np, scipy, ort, jax, cli),
        "jax_unavailable": jax_note,
        "setup_seconds": started - t0,  # cargo build and the JAX install, if any
        "settings": {"seed": args.seed, "sanity_rtol": SANITY_RTOL, "conv_pads": CONV_PAD,
                     "datasets": list(DATASETS), "cli": cli},
        "problems": [],
    }
    print_header(report)

    failures, beyond = [], []
    with tempfile.TemporaryDirectory(prefix="conv-oracle-survey-") as tmp:
        for pi, (pid, op, dtype, xshape, wshape) in enumerate(PROBLEMS):
            prob = survey_problem(np, jax, jax_note, cli, tmp, args.seed, pi, pid, op, dtype,
                                  xshape, wshape)
            report["problems"].append(prob)
            print_problem(prob)
            for r in prob["results"]:
                where = f"{pid} / {r['peer']} / {r['dataset']}"
                if r.get("error") and not r.get("unavailable"):
                    failures.append(f"{where}: {r['error']}")
                elif r.get("check") and not r["check"]["ok"]:
                    failures.append(f"{where}: check failed ({r['check']['note']})")
                elif r["kind"] == "direct" and r.get("max_ratio", 0) > 1:
                    beyond.append(f"{where}: max error/bound {r['max_ratio']:.3g}")
            if prob.get("error"):
                failures.append(f"{pid}: {prob['error']}")

    report["seconds"] = time.time() - started
    report["failures"], report["direct_beyond_bound"] = failures, beyond
    if beyond:
        print("WARNING: these direct peers exceed the componentwise bound gamma_K * A "
              "(a ratio up to 1 + u/gamma_K ~ 1 + 1/K can come from `exact` being rounded):")
        for b in beyond:
            print(f"  {b}")
    if failures:
        print("FAILED (mis-wired call, peer error or CLI failure):")
        for f in failures:
            print(f"  {f}")
    print(f"survey took {report['seconds']:.0f} s (setup: cargo build and JAX install "
          f"{report['setup_seconds']:.0f} s)")

    if args.markdown:
        write_output(args.markdown, markdown(report), args.force)
    if args.json:
        write_output(args.json, json.dumps(report, indent=1) + "\n", args.force)
    return 1 if failures else 0


# --------------------------------------------------------------------------------------------
# Our side


def build_cli():
    cmd = ["cargo", "build", "--release", "--bin", "conv-oracle"]
    print(f"running (in {REPO}): {' '.join(cmd)}", file=sys.stderr, flush=True)
    if subprocess.run(cmd, cwd=REPO, stdout=sys.stderr).returncode != 0:
        print("cargo build failed; --cli PATH uses an existing binary", file=sys.stderr)
        return None
    return os.path.join(target_dir(), "release", "conv-oracle")


def run_cli(np, cli, tmp, op, engine, x, w, b, dtype_out=None):
    """Our CLI on (x, w[, b]) with --engine `engine`; returns the output array.

    convolve: `conv-oracle convolve X W --mode full`; conv: `conv-oracle conv --input X
    --weight W [--bias B] --padding 1`. Each call gets fresh file names (the CLI refuses to
    overwrite an output without --force).
    """
    d = tempfile.mkdtemp(dir=tmp)
    paths = {}
    for name, a in (("x", x), ("w", w), ("b", b)):
        if a is not None:
            paths[name] = os.path.join(d, f"{name}.npy")
            np.save(paths[name], a)
    out = os.path.join(d, "out.npy")
    if op == "convolve":
        cmd = [cli, "convolve", paths["x"], paths["w"], "--mode", "full"]
    else:
        cmd = [cli, "conv", "--input", paths["x"], "--weight", paths["w"],
               "--padding", str(CONV_PAD)]
        if "b" in paths:
            cmd += ["--bias", paths["b"]]
    cmd += ["-o", out, "--engine", engine]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:2])} --engine {engine} failed "
                           f"(exit {p.returncode}): {p.stderr.strip()[:400]}")
    y = np.load(out)
    if dtype_out is not None and y.dtype != dtype_out:
        raise RuntimeError(f"--engine {engine} returned {y.dtype}, expected {dtype_out}")
    return y


# --------------------------------------------------------------------------------------------
# Data


def make_data(np, seed, pi, di, op, dtype, xshape, wshape):
    """(x, w, b) for problem index pi and data set index di; b is None for convolve."""
    rng = np.random.default_rng([seed, pi, di])
    nb = wshape[0] if op == "conv" else 0
    dataset = DATASETS[di]
    if dataset == "normal":
        x, w, b = (rng.standard_normal(xshape), rng.standard_normal(wshape),
                   rng.standard_normal(nb))
    elif dataset == "cancelling":
        x = 1e6 + rng.uniform(-1.0, 1.0, xshape)
        w = rng.standard_normal(wshape)
        axes = tuple(range(1, w.ndim)) if op == "conv" else None  # per output channel
        w = w - w.mean(axis=axes, keepdims=True)
        b = rng.standard_normal(nb)
    elif dataset == "12-decade":
        def draw(shape):
            return rng.choice([-1.0, 1.0], size=shape) * 10.0 ** rng.uniform(-6.0, 6.0, shape)

        x, w, b = draw(xshape), draw(wshape), draw(nb)
    else:
        raise ValueError(dataset)
    x, w, b = (np.ascontiguousarray(a.astype(dtype)) for a in (x, w, b))
    return x, w, (b if op == "conv" else None)


# --------------------------------------------------------------------------------------------
# Peers


def peers(np, ort, jax):
    """The peer table: (name, kind, applies(op, ndim, dtype), call(x, w, b)).

    `call` returns the 'full' convolution (convolve problems) or the padded conv + bias (conv
    problems). Our CLI engines are added by survey_problem.
    """
    import scipy.signal as ss

    def applies(ops, ndims=None, dtypes=None):
        return lambda op, nd, dt: (op in ops and (ndims is None or nd in ndims)
                                   and (dtypes is None or dt in dtypes))

    table = [
        ("numpy.convolve", "direct", applies(("convolve",), (1,)),
         lambda x, w, b: np.convolve(x, w, mode="full")),
        ("scipy.signal.convolve direct", "direct", applies(("convolve",)),
         lambda x, w, b: ss.convolve(x, w, mode="full", method="direct")),
        ("scipy.signal.convolve2d", "direct", applies(("convolve",), (2,)),
         lambda x, w, b: ss.convolve2d(x, w, mode="full")),
        ("scipy.signal.convolve fft", "fft", applies(("convolve",)),
         lambda x, w, b: ss.convolve(x, w, mode="full", method="fft")),
        ("scipy.signal.oaconvolve", "fft", applies(("convolve",)),
         lambda x, w, b: ss.oaconvolve(x, w, mode="full")),
        ("onnxruntime Conv", "direct", applies(("conv",), None, ("float32",)),
         onnxruntime_conv(np, ort)),
    ]
    jax_peers = [
        ("jax.numpy.convolve", "direct", applies(("convolve",), (1,))),
        ("jax.scipy.signal.convolve2d", "direct", applies(("convolve",), (2,))),
        ("jax.lax.conv_general_dilated", "direct", applies(("conv",))),
    ]
    if jax is None:
        table += [(name, kind, app, None) for name, kind, app in jax_peers]
    else:
        import jax.numpy as jnp
        import jax.scipy.signal as jss
        from jax import lax

        def lax_conv(x, w, b):
            y = lax.conv_general_dilated(
                jnp.asarray(x), jnp.asarray(w), window_strides=(1, 1),
                padding=((CONV_PAD, CONV_PAD), (CONV_PAD, CONV_PAD)),
                dimension_numbers=("NCHW", "OIHW", "NCHW"))
            return np.asarray(y + jnp.asarray(b)[None, :, None, None])

        calls = {
            "jax.numpy.convolve":
                lambda x, w, b: np.asarray(jnp.convolve(jnp.asarray(x), jnp.asarray(w),
                                                        mode="full")),
            "jax.scipy.signal.convolve2d":
                lambda x, w, b: np.asarray(jss.convolve2d(jnp.asarray(x), jnp.asarray(w),
                                                          mode="full")),
            "jax.lax.conv_general_dilated": lax_conv,
        }
        table += [(name, kind, app, calls[name]) for name, kind, app in jax_peers]
    return table


def onnxruntime_conv(np, ort):
    """A call running a single-node ONNX Conv model (X input, W and B initializers)."""
    from onnx import TensorProto, checker, helper, numpy_helper

    def call(x, w, b):
        out_shape = [x.shape[0], w.shape[0]] + [n + 2 * CONV_PAD - k + 1
                                               for n, k in zip(x.shape[2:], w.shape[2:])]
        node = helper.make_node("Conv", ["X", "W", "B"], ["Y"], kernel_shape=list(w.shape[2:]),
                                pads=[CONV_PAD] * 4, strides=[1, 1], dilations=[1, 1], group=1)
        graph = helper.make_graph(
            [node], "conv", [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, out_shape)],
            initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  ir_version=IR_VERSION)
        checker.check_model(model)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.log_severity_level = 4
        sess = ort.InferenceSession(model.SerializeToString(), so,
                                    providers=["CPUExecutionProvider"])
        return sess.run(None, {"X": x})[0]

    return call


# --------------------------------------------------------------------------------------------
# Metrics


def ulp_distance(np, a, b):
    """|ordinal(a) - ordinal(b)| as uint64, elementwise, for float32 or float64 arrays.

    ordinal maps the bit pattern monotonically onto the integers: nonnegative floats keep their
    bits, a negative float becomes -(bits without the sign), so +0 and -0 are both 0 and
    adjacent floats differ by 1.
    """
    itype, mask = {np.dtype(np.float32): (np.int32, 0x7FFF_FFFF),
                   np.dtype(np.float64): (np.int64, 0x7FFF_FFFF_FFFF_FFFF)}[a.dtype]

    def ordinal(v):
        i = v.view(itype).astype(np.int64)
        return np.where(i < 0, -(i & mask), i)

    oa, ob = ordinal(a), ordinal(b)
    same_sign = (oa >= 0) == (ob >= 0)
    with np.errstate(over="ignore"):
        d_same = np.abs(oa - ob).astype(np.uint64)  # exact where the signs agree
    d_opposite = np.abs(oa).astype(np.uint64) + np.abs(ob).astype(np.uint64)  # < 2^64
    return np.where(same_sign, d_same, d_opposite)


def gamma(k, u):
    return k * u / (1 - k * u)


def metrics(np, y, exact, bound, check_norm):
    """The statistics of one peer result against `exact`, or an error note."""
    r = {}
    if y.shape != exact.shape:
        return {"check": {"ok": False, "rel_err": None,
                          "note": f"shape {list(y.shape)} != {list(exact.shape)}"}}
    if y.dtype != exact.dtype:
        return {"check": {"ok": False, "rel_err": None,
                          "note": f"dtype {y.dtype} != {exact.dtype}"}}
    if not np.all(np.isfinite(y)):
        return {"check": {"ok": False, "rel_err": None,
                          "note": f"{int(np.sum(~np.isfinite(y)))} non-finite outputs"}}
    d = ulp_distance(np, y, exact)
    diff = np.abs(y.astype(np.float64) - exact.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(diff == 0, 0.0, diff / bound)
    worst = int(np.argmax(ratio))
    rel = float(np.linalg.norm(y.astype(np.float64) - exact.astype(np.float64))
                / np.linalg.norm(exact.astype(np.float64)))
    r.update(
        n=int(d.size),
        median_ulp=float(np.median(d)),
        max_ulp=int(d.max()),
        mean_ulp=float(np.mean(d.astype(np.float64))),
        share_correctly_rounded=float(np.mean(d == 0)),
        share_within_1ulp=float(np.mean(d <= 1)),
        max_ratio=float(ratio.max()),
        median_ratio=float(np.median(ratio)),
        normwise_rel_diff=rel,
        worst={"index": [int(i) for i in np.unravel_index(worst, y.shape)],
               "peer": float(y.flat[worst]), "exact": float(exact.flat[worst]),
               "bound": float(bound.flat[worst]), "ratio": float(ratio.flat[worst]),
               "ulp": int(d.flat[worst])},
    )
    if check_norm:
        ok = rel < SANITY_RTOL
        r["check"] = {"ok": ok, "rel_err": rel,
                      "note": f"normwise relative difference {rel:.2g}"
                              + ("" if ok else f" >= {SANITY_RTOL:g}")}
    return r


# --------------------------------------------------------------------------------------------
# One problem


def survey_problem(np, jax, jax_note, cli, tmp, seed, pi, pid, op, dtype, xshape, wshape):
    import onnxruntime as ort

    u = 2.0 ** -24 if dtype == "float32" else 2.0 ** -53
    k = int(np.prod(wshape[1:])) + 1 if op == "conv" else int(np.prod(wshape))
    prob = {"id": pid, "op": op, "dtype": dtype, "x_shape": list(xshape),
            "w_shape": list(wshape), "bias": op == "conv",
            "pads": CONV_PAD if op == "conv" else None,
            "mode": "full" if op == "convolve" else None,
            "K": k, "u": u, "gamma_K": gamma(k, u), "results": []}
    table = [(f"conv-oracle {e}", "fft" if e == "fft" else "direct",
              lambda op_, nd, dt: True, ("cli", e)) for e in OUR_ENGINES]
    table += peers(np, ort, jax)
    table = [t for t in table if t[2](op, len(xshape), dtype)]
    prob["peers"] = [{"peer": name, "kind": kind} for name, kind, _, _ in table]

    for di, dataset in enumerate(DATASETS):
        x, w, b = make_data(np, seed, pi, di, op, dtype, xshape, wshape)
        print(f"{pid} / {dataset}: exact and A ...", file=sys.stderr, flush=True)
        try:
            exact = run_cli(np, cli, tmp, op, "exact", x, w, b, np.dtype(dtype))
            absb = None if b is None else np.abs(b).astype(np.float64)
            a_sum = run_cli(np, cli, tmp, op, "exact", np.abs(x).astype(np.float64),
                            np.abs(w).astype(np.float64), absb, np.dtype(np.float64))
        except RuntimeError as e:
            prob["error"] = f"{dataset}: {e}"
            return prob
        bound = gamma(k, u) * a_sum
        info = {"dataset": dataset,
                "cancellation": float(np.median(a_sum / np.maximum(np.abs(exact), 1e-300)))}
        prob.setdefault("data", []).append(info)  # median A / |y|: how much the sums cancel
        for name, kind, _, call in table:
            r = {"peer": name, "kind": kind, "dataset": dataset}
            prob["results"].append(r)
            if call is None:
                r.update(error=f"JAX unavailable: {jax_note}", unavailable=True)
                continue
            print(f"{pid} / {dataset}: {name} ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                if isinstance(call, tuple):
                    y = run_cli(np, cli, tmp, op, call[1], x, w, b)
                else:
                    y = np.asarray(call(x, w, b))
            except Exception as e:  # a peer's refusal is a result, recorded
                r["error"] = f"{type(e).__name__}: {e}"[:400]
                continue
            r["seconds"] = time.perf_counter() - t0
            r.update(metrics(np, y, exact, bound, check_norm=(dataset == "normal")))
    return prob


# --------------------------------------------------------------------------------------------
# Versions, tables, files


def versions(np, scipy, ort, jax, cli):
    import onnx

    out = command_output

    head = out(["git", "rev-parse", "--short", "HEAD"])
    dirty = out(["git", "status", "--porcelain", "--untracked-files=no"])
    v = {"python": platform.python_version(), "numpy": np.__version__,
         "scipy": scipy.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__,
         "jax": None, "jaxlib": None, "conv-oracle": out([cli, "--version"]),
         "rustc": out(["rustc", "-V"]),
         "git": head and (head + (" (with uncommitted changes)" if dirty else ""))}
    if jax is not None:
        import jaxlib

        v["jax"], v["jaxlib"] = jax.__version__, jaxlib.__version__
        v["jax_backend"] = jax.default_backend()
    return v


def print_header(report):
    v = report["versions"]
    print(f"conv-oracle accuracy survey, {report['started']}")
    print(f"{v['conv-oracle']} (git {v['git']}, {v['rustc']}); python {v['python']}, "
          f"numpy {v['numpy']}, scipy {v['scipy']}, onnx {v['onnx']}, "
          f"onnxruntime {v['onnxruntime']}, "
          + (f"jax {v['jax']} / jaxlib {v['jaxlib']} ({v.get('jax_backend')}, x64 enabled)"
             if v["jax"] else f"JAX UNAVAILABLE: {report['jax_unavailable']}"))
    print(f"data seed {report['settings']['seed']}")
    print("exact = our --engine exact result, correctly rounded (within half an ulp of the "
          "true value).")
    print("ULP = distance to exact in the output's format; CR = share of outputs correctly "
          "rounded (0 ulp);")
    print("err/bound = max |peer - exact| / (gamma_K(u) A), A = sum |w||x| (+|b|): below 1 for "
          "any direct summation;")
    print("  the bound does not apply to FFT methods (kind fft), whose ratios may exceed 1.")
    print(flush=True)


def fmt_ulp(v):
    if v == int(v) and v < 1e6:
        return str(int(v))
    return f"{v:.3g}" if v < 1e6 else f"{v:.2e}"


def fmt_ratio(v):
    return "0" if v == 0 else f"{v:.3g}"


def print_problem(prob):
    x = "x".join(map(str, prob["x_shape"]))
    w = "x".join(map(str, prob["w_shape"]))
    what = (f"convolve {x} * {w}, mode full" if prob["op"] == "convolve"
            else f"conv [{x}] * [{w}] + bias, pads {prob['pads']}")
    u = "2^-24" if prob["dtype"] == "float32" else "2^-53"
    print(f"{prob['id']}: {what}, {prob['dtype']}; K = {prob['K']}, u = {u}, "
          f"gamma_K = {prob['gamma_K']:.3g}")
    if prob.get("data"):
        print("  median A/|exact| (cancellation): " + ", ".join(
            f"{d['dataset']} {d['cancellation']:.3g}" for d in prob["data"]))
    if prob.get("error"):
        print(f"  ERROR: {prob['error']}")
    rows = [("peer", "kind", "data", "med ULP", "max ULP", "CR %", "<=1ulp %", "err/bound",
             "check")]
    for r in prob["results"]:
        head = (r["peer"], r["kind"], r["dataset"])
        if r.get("error"):
            rows.append(head + (("unavailable: " if r.get("unavailable") else "ERROR: ")
                                + r["error"][:100],))
        elif "median_ulp" not in r:
            rows.append(head + (f"CHECK FAILED: {r['check']['note']}",))
        else:
            c = r.get("check")
            verdict = ("" if c is None
                       else ("ok " if c["ok"] else "MISMATCH ") + f"{c['rel_err']:.1e}")
            flag = " !" if r["kind"] == "direct" and r["max_ratio"] > 1 else ""
            rows.append(head + (fmt_ulp(r["median_ulp"]), fmt_ulp(r["max_ulp"]),
                                f"{100 * r['share_correctly_rounded']:.1f}",
                                f"{100 * r['share_within_1ulp']:.1f}",
                                fmt_ratio(r["max_ratio"]) + flag, verdict))
    full = [row for row in rows if len(row) == 9]
    widths = [max(len(row[i]) for row in (rows if i < 3 else full)) for i in range(8)]
    for row in rows:
        cells = [f"{c:<{n}}" for c, n in zip(row[:3], widths)]
        if len(row) == 9:
            cells += [f"{c:>{n}}" for c, n in zip(row[3:8], widths[3:])] + [row[8]]
        else:
            cells.append(row[3])  # an error message spans the numeric columns
        print("  " + "  ".join(cells).rstrip())
    print(flush=True)


def markdown(report):
    """One table per problem: a row per peer, a cell per data set."""
    v = report["versions"]
    jax = (f"jax {v['jax']}" if v["jax"]
           else f"JAX unavailable ({report['jax_unavailable']})")
    lines = [
        f"Accuracy against our exact engine ({v['conv-oracle']}, git {v['git']}; "
        f"{report['started'][:10]}): numpy {v['numpy']}, scipy {v['scipy']}, onnxruntime "
        f"{v['onnxruntime']}, {jax}; data seed {report['settings']['seed']}, "
        "`python3 scripts/accuracy_survey.py`. Each cell: median / max distance in ulps to "
        "the correctly rounded result (which is itself within half an ulp of the true value), "
        "the share of outputs correctly rounded, and the largest error / bound ratio with "
        "bound gamma_K(u) * sum |w||x| (+|b|), K products per output. Any order of direct "
        "summation stays below 1; the bound does not apply to FFT methods.",
    ]
    for prob in report["problems"]:
        x = "x".join(map(str, prob["x_shape"]))
        w = "x".join(map(str, prob["w_shape"]))
        what = (f"convolve {x} * {w}, full" if prob["op"] == "convolve"
                else f"conv `[{x}] * [{w}]` + bias, pads {prob['pads']}")
        lines += ["", f"**{prob['id']}**: {what}, {prob['dtype']}, K = {prob['K']}", "",
                  "| peer | kind | " + " | ".join(DATASETS) + " |",
                  "|---|---|" + "---|" * len(DATASETS)]
        by = {(r["peer"], r["dataset"]): r for r in prob["results"]}
        for p in prob["peers"]:
            cells = []
            for ds in DATASETS:
                r = by.get((p["peer"], ds))
                if r is None:
                    cells.append("-")
                elif r.get("unavailable"):
                    cells.append("unavailable")
                elif r.get("error"):
                    cells.append("error")
                elif "median_ulp" not in r:
                    cells.append("check failed")
                else:
                    cells.append(f"{fmt_ulp(r['median_ulp'])} / {fmt_ulp(r['max_ulp'])} ulp, "
                                 f"{100 * r['share_correctly_rounded']:.1f} %, "
                                 f"{fmt_ratio(r['max_ratio'])}")
            lines.append(f"| {p['peer']} | {p['kind']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
