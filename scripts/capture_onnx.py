#!/usr/bin/env python3
"""Capture ONNX Conv / ConvTranspose numbers for tests/onnx_peers.rs to reproduce.

Usage: python3 scripts/capture_onnx.py --seed S --out DIR [--venv PATH]

Unless it already runs inside the venv, the script creates a virtual environment (default
`target/venv-onnx` under the repository, i.e. inside the gitignored target dir), pip-installs
the pinned numpy, onnx and onnxruntime below, and re-executes itself with that venv's python.

It writes four JSON files into DIR, each recording the versions and the seed:

- node.json:    the ONNX backend node test cases whose single node is Conv or ConvTranspose.
                onnx 1.23 wheels no longer ship backend/test/data/node/; the cases are built in
                memory by onnx.backend.test.loader.load_model_tests(kind='node') from
                onnx/backend/test/case/node/{conv,convtranspose}.py (docs/semantics.md section 8).
                Multi-node test graphs that merely contain a Conv (the *_expanded function
                bodies of CausalConvWithState) are not Conv cases and are listed, not kept.
- pytorch.json: the pytorch-converted/test_Conv* and pytorch-operator/test_operator_conv*
                cases still in the wheel: the Conv/ConvTranspose node's attributes, its
                initializer weights, input_0.pb and output_0.pb (PyTorch's float32 result).
- random.json:  seeded random Conv and ConvTranspose cases over rank 1/2/3, stride, dilation,
                groups (depthwise too), explicit asymmetric pads, auto_pad NOTSET / VALID /
                SAME_UPPER / SAME_LOWER, bias or not, output_padding and output_shape (also with
                negative total padding), with two data kinds: small integers (-4..=4, exact in
                any summation order) and float32 random normals. A draw that both peers
                refuse is kept one time in five (so the refusals stay on record) and redrawn
                otherwise. Then a few directed cases (source "directed"): the worked examples of
                docs/semantics.md sections 2 and 6 and ConvTranspose output_shape totals that pin the split rule.

Every case is run by onnxruntime (float32: it has no float64 Conv) and by
onnx.reference.ReferenceEvaluator in float64 (inputs widened exactly). A peer that refuses a
case is recorded with its message as a refusal (`"refused": "..."`), never dropped.

Case layout (data in C order):

    {"id": ..., "source": "node" | "pytorch-converted" | "pytorch-operator" | "random",
     "op": "Conv" | "ConvTranspose", "data": "integer" | "float",
     "attrs": {"auto_pad": "NOTSET", "pads": [...], "strides": [...], ...only those set},
     "x": ARRAY, "w": ARRAY, "b": ARRAY or null,
     "results": [{"peer": "onnxruntime", "dtype": "float32", "model": ..., "out": ARRAY}
                 | {"peer": ..., "dtype": ..., "model": ..., "refused": "message"}, ...]}

ARRAY is {"shape": [...], "dtype": "float32" | "float64", "data": [...]} where each element is
a JSON integer (an integral value, exact) or a string holding the shortest decimal that
round-trips in that dtype (parse it as f32 / f64; "-0.0" keeps a negative zero), or, for large
arrays with long runs, {"shape", "dtype", "runs": [[element, count], ...]}. Nothing is lost:
the script checks that every string parses back to the same bits.
"""

import argparse
import json
import os
import sys

import pinned_venv  # scripts/pinned_venv.py (the script's own folder is on sys.path)
from _common import REPO, write_cases  # scripts/_common.py, shared by the scripts
import time

NUMPY_VERSION = "2.4.6"
ONNX_VERSION = "1.23.2"
ORT_VERSION = "1.32.0"
REEXEC_GUARD = "CONV_ORACLE_CAPTURE_ONNX_REEXEC"


def ensure_venv_and_reexec(venv):
    pinned_venv.ensure(venv, {"numpy": NUMPY_VERSION, "onnx": ONNX_VERSION, "onnxruntime": ORT_VERSION}, REEXEC_GUARD)


# --------------------------------------------------------------------------------------------
# Everything below runs inside the venv.

OPSET = 22  # the current Conv / ConvTranspose version in onnx 1.23
IR_VERSION = 10
ATTR_NAMES = ("auto_pad", "pads", "strides", "dilations", "group", "kernel_shape",
              "output_padding", "output_shape")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--venv", default=os.path.join(REPO, "target", "venv-onnx"))
    args = ap.parse_args()
    ensure_venv_and_reexec(args.venv)

    import warnings

    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    assert np.__version__ == NUMPY_VERSION, np.__version__
    assert onnx.__version__ == ONNX_VERSION, onnx.__version__
    assert ort.__version__ == ORT_VERSION, ort.__version__
    ort.set_default_logger_severity(4)  # refusals are data; keep stderr quiet
    t_start = time.monotonic()

    os.makedirs(args.out, exist_ok=True)
    header = {"numpy": np.__version__, "onnx": onnx.__version__,
              "onnxruntime": ort.__version__, "seed": args.seed}
    rng = np.random.default_rng(args.seed)

    # ------------------------------------------------------------ encoding
    def enc_elem(v, dtype):
        v = dtype.type(v)
        if np.isfinite(v) and v == np.round(v) and abs(v) < 2.0 ** 53 and not (
                v == 0 and np.signbit(v)):
            return int(v)
        s = str(v) if dtype == np.float32 else repr(float(v))
        back = dtype.type(s)
        assert back.tobytes() == v.tobytes() or (np.isnan(back) and np.isnan(v)), (s, v)
        return s

    def enc(a):
        a = np.asarray(a)
        assert a.dtype in (np.float32, np.float64), a.dtype
        flat = a.reshape(-1)
        data = [enc_elem(v, a.dtype) for v in flat]
        out = {"shape": list(a.shape), "dtype": str(a.dtype)}
        if len(data) > 4096:
            runs = []
            for e in data:
                if runs and runs[-1][0] == e and type(runs[-1][0]) is type(e):
                    runs[-1][1] += 1
                else:
                    runs.append([e, 1])
            if 4 * len(runs) < len(data):
                out["runs"] = runs
                return out
        out["data"] = data
        return out

    def one_line(e):
        msg = " ".join(str(e).split())
        for prefix in ("[ONNXRuntimeError] : ",):
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
        return f"{type(e).__name__}: {msg}"[:400]

    # ------------------------------------------------------------ models and peers
    def attrs_of(node):
        out = {}
        for a in node.attribute:
            assert a.name in ATTR_NAMES, a.name
            v = helper.get_attribute_value(a)
            out[a.name] = v.decode() if isinstance(v, bytes) else (
                list(v) if not isinstance(v, int) else v)
        return out

    def build(op, attrs, x_shape, w, b, elem):
        """A single-node model: x is the graph input, w and b initializers of type elem."""
        np_t = np.float32 if elem == TensorProto.FLOAT else np.float64
        inits = [numpy_helper.from_array(w.astype(np_t), "w")]
        ins = ["x", "w"]
        if b is not None:
            inits.append(numpy_helper.from_array(b.astype(np_t), "b"))
            ins.append("b")
        node = helper.make_node(op, ins, ["y"], **attrs)
        graph = helper.make_graph(
            [node], "g", [helper.make_tensor_value_info("x", elem, list(x_shape))],
            [helper.make_tensor_value_info("y", elem, None)], inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                 ir_version=IR_VERSION)

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 4

    def run_ort(model, feeds):
        sess = ort.InferenceSession(model.SerializeToString(), so,
                                    providers=["CPUExecutionProvider"])
        return sess.run(None, feeds)[0]

    def run_ref(model, feeds):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ReferenceEvaluator(model).run(None, feeds)[0]

    def result(peer, dtype, model, fn):
        r = {"peer": peer, "dtype": dtype, "model": model}
        try:
            out = np.asarray(fn())
            if str(out.dtype) != dtype:
                raise TypeError(f"peer returned {out.dtype}, expected {dtype}")
            r["out"] = enc(out)
        except Exception as e:  # noqa: BLE001 - the refusal is data
            r["refused"] = one_line(e)
        return r

    def ort32(op, attrs, x, w, b):
        """onnxruntime float32 on a freshly built single node."""
        m32 = build(op, attrs, x.shape, w, b, TensorProto.FLOAT)
        return result("onnxruntime", "float32", "single node, w/b initializers",
                      lambda: run_ort(m32, {"x": x.astype(np.float32)}))

    def ref64(op, attrs, x, w, b):
        """onnx.reference float64 on a freshly built single node (inputs widened exactly)."""
        m64 = build(op, attrs, x.shape, w, b, TensorProto.DOUBLE)
        return result("onnx.reference", "float64", "single node, w/b initializers",
                      lambda: run_ref(m64, {"x": x.astype(np.float64)}))

    def data_kind(*arrays):
        ok = all(a is None or bool(np.all(a == np.round(a))) for a in arrays)
        return "integer" if ok else "float"

    def case(cid, source, op, attrs, x, w, b, results):
        for a in (x, w, b):
            assert a is None or a.dtype == np.float32
        return {"id": cid, "source": source, "op": op, "data": data_kind(x, w, b),
                "attrs": attrs, "x": enc(x), "w": enc(w),
                "b": None if b is None else enc(b), "results": results}

    # ------------------------------------------------------------ node.json
    from onnx.backend.test import loader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cast.py and friends warn while building their data
        node_tests = loader.load_model_tests(kind="node")
    cases, skipped_multi = [], []
    for t in sorted(node_tests, key=lambda t: t.name):
        ops = [n.op_type for n in t.model.graph.node]
        if not any(o in ("Conv", "ConvTranspose") for o in ops):
            continue
        if len(ops) != 1:
            skipped_multi.append(t.name)
            continue
        node = t.model.graph.node[0]
        assert len(t.data_sets) == 1, t.name
        inputs, outputs = t.data_sets[0]
        feeds = dict(zip([i.name for i in t.model.graph.input], inputs))
        x, w = feeds[node.input[0]], feeds[node.input[1]]
        b = feeds[node.input[2]] if len(node.input) > 2 and node.input[2] else None
        attrs = attrs_of(node)
        results = [{"peer": "onnx-node-test", "dtype": str(outputs[0].dtype),
                    "model": "expected output of the backend test case (onnx "
                             f"{onnx.__version__}, opset {t.model.opset_import[0].version})",
                    "out": enc(outputs[0])}]
        results.append(result("onnxruntime", "float32", "the backend test model as built",
                              lambda m=t.model, f=feeds: run_ort(m, f)))
        results.append(ref64(node.op_type, attrs, x, w, b))
        cases.append(case(t.name, "node", node.op_type, attrs, x, w, b, results))
    node_names = [c["id"] for c in cases]
    write_cases(args.out, "node.json", dict(header, **{
        "note": "onnx.backend.test.loader.load_model_tests(kind='node'), single-node Conv and "
                "ConvTranspose cases; multi-node graphs containing a Conv are not kept",
        "not_kept_multi_node": skipped_multi}), cases)
    n_node = len(cases)

    # ------------------------------------------------------------ pytorch.json
    data_dir = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    dirs = []
    for kind, prefix in (("pytorch-converted", "test_Conv"),
                         ("pytorch-operator", "test_operator_conv")):
        for name in sorted(os.listdir(os.path.join(data_dir, kind))):
            if name.startswith(prefix):
                dirs.append((kind, name))
    cases = []
    for kind, name in dirs:
        d = os.path.join(data_dir, kind, name)
        model = onnx.load(os.path.join(d, "model.onnx"))
        g = model.graph
        assert len(g.node) == 1 and g.node[0].op_type in ("Conv", "ConvTranspose"), name
        node = g.node[0]
        inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}

        def pb(path):
            t = TensorProto()
            with open(path, "rb") as fh:
                t.ParseFromString(fh.read())
            return numpy_helper.to_array(t)

        ds = os.path.join(d, "test_data_set_0")
        x = pb(os.path.join(ds, "input_0.pb"))
        w = inits[node.input[1]]
        b = inits[node.input[2]] if len(node.input) > 2 and node.input[2] else None
        attrs = attrs_of(node)
        feed_name = [i.name for i in g.input if i.name not in inits][0]
        results = []
        out_pb = os.path.join(ds, "output_0.pb")
        if os.path.exists(out_pb):
            results.append({"peer": "pytorch", "dtype": "float32",
                            "model": f"{kind}/{name}/test_data_set_0/output_0.pb "
                                     "(PyTorch's result at export)",
                            "out": enc(pb(out_pb))})
        else:
            results.append({"peer": "pytorch", "dtype": "float32", "model": "missing",
                            "note": "no output_0.pb; onnx.reference supplies the output"})
        results.append(result(
            "onnxruntime", "float32",
            f"shipped model.onnx (opset {model.opset_import[0].version})",
            lambda m=model, f={feed_name: x}: run_ort(m, f)))
        results.append(result(
            "onnx.reference", "float32",
            f"shipped model.onnx (opset {model.opset_import[0].version})",
            lambda m=model, f={feed_name: x}: run_ref(m, f)))
        results.append(ref64(node.op_type, attrs, x, w, b))
        cases.append(case(f"{kind}/{name}", kind, node.op_type, attrs, x, w, b, results))
    pytorch_names = [c["id"] for c in cases]
    write_cases(args.out, "pytorch.json", dict(header, note=(
        "pytorch-converted/test_Conv* and pytorch-operator/test_operator_conv* from the onnx "
        "wheel: weights from the model's initializers, x from input_0.pb, the pytorch result "
        "from output_0.pb")), cases)
    n_pytorch = len(cases)

    # ------------------------------------------------------------ random.json
    def draw(shape, kind):
        if kind == "integer":
            return rng.integers(-4, 5, size=shape).astype(np.float32)
        return rng.standard_normal(size=shape).astype(np.float32)

    max_n = {1: 12, 2: 7, 3: 4}
    max_k = {1: 4, 2: 3, 3: 3}

    def pick(options, p=None):
        return options[int(rng.choice(len(options), p=p))]

    def channels(rank):
        """(group, C_in, C_out) for a Conv (for ConvTranspose the same with roles swapped)."""
        style = pick(["plain", "grouped", "depthwise"], p=[0.45, 0.3, 0.25])
        if style == "plain":
            return 1, int(rng.integers(1, 4)), int(rng.integers(1, 4))
        if style == "grouped":
            g = int(rng.integers(2, 4))
            return g, g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
        c = int(rng.integers(2, 5))
        return c, c, c * int(rng.integers(1, 3))  # depthwise (multiplier 1 or 2)

    def spatial(rank, allow_dilation=True):
        k = [int(rng.integers(1, max_k[rank] + 1)) for _ in range(rank)]
        s = [pick([1, 1, 2, 3]) for _ in range(rank)]
        d = [pick([1, 1, 2, 3]) if allow_dilation else 1 for _ in range(rank)]
        return k, s, d

    def maybe(attrs, name, value, default):
        # Leave an all-default attribute out half the time (the peers' defaults are tested too).
        if value == default and rng.random() < 0.5:
            return
        attrs[name] = value

    conv_pads = ["explicit", "none", "VALID", "SAME_UPPER", "SAME_LOWER"]
    tr_pads = ["explicit", "none", "VALID", "SAME_UPPER", "SAME_LOWER",
               "output_shape", "output_shape+SAME_UPPER", "output_shape+SAME_LOWER"]
    cases = []
    counter = 0
    per_combo_conv, per_combo_tr = 12, 6
    for op, pad_kinds, per_combo in (("Conv", conv_pads, per_combo_conv),
                                     ("ConvTranspose", tr_pads, per_combo_tr)):
        for rank in (1, 2, 3):
            for pk in pad_kinds:
                for dk in ("integer", "float"):
                    made = 0
                    while made < per_combo:
                        g, c_in, c_out = channels(rank)
                        if op == "ConvTranspose" and rng.random() < 0.5:
                            c_in, c_out = c_out, c_in  # transposed depthwise: C_in a multiple
                        k, s, d = spatial(rank)
                        n = [int(rng.integers(1, max_n[rank] + 1)) for _ in range(rank)]
                        eff = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
                        attrs = {}
                        if rng.random() < 0.5:
                            attrs["kernel_shape"] = k
                        maybe(attrs, "strides", s, [1] * rank)
                        maybe(attrs, "dilations", d, [1] * rank)
                        if g != 1 or rng.random() < 0.3:
                            attrs["group"] = g
                        if op == "Conv":
                            if pk == "explicit":
                                lo = [int(rng.integers(0, min(3, e) + 1)) for e in eff]
                                hi = [int(rng.integers(0, min(3, e) + 1)) for e in eff]
                                attrs["pads"] = lo + hi
                                out = [(nn + a + z - e) // ss + 1 if nn + a + z >= e else 0
                                       for nn, a, z, e, ss in zip(n, lo, hi, eff, s)]
                            elif pk == "none":
                                out = [(nn - e) // ss + 1 if nn >= e else 0
                                       for nn, e, ss in zip(n, eff, s)]
                            elif pk == "VALID":
                                attrs["auto_pad"] = "VALID"
                                out = [(nn - e) // ss + 1 if nn >= e else 0
                                       for nn, e, ss in zip(n, eff, s)]
                            else:
                                attrs["auto_pad"] = pk
                                out = [1]
                            if min(out) < 1:
                                continue
                            x_shape = [int(rng.integers(1, 3)), c_in] + n
                            w_shape = [c_out, c_in // g] + k
                            b_len = c_out
                        else:
                            # output_padding < stride mostly; sometimes up to the PyTorch
                            # limit max(stride, dilation) - 1, which both ONNX peers refuse
                            # when it reaches the stride (recorded as refusals).
                            op_pad = []
                            for ss, dd in zip(s, d):
                                roll = rng.random()
                                op_pad.append(int(rng.integers(0, ss)) if roll < 0.35 else
                                              int(rng.integers(0, max(ss, dd))) if roll < 0.45
                                              else 0)
                            full = [ss * (nn - 1) + e + o
                                    for ss, nn, e, o in zip(s, n, eff, op_pad)]
                            if any(op_pad):
                                attrs["output_padding"] = op_pad
                            if pk == "explicit":
                                lo = [int(rng.integers(0, e)) for e in eff]
                                hi = [int(rng.integers(0, e)) for e in eff]
                                attrs["pads"] = lo + hi
                                if min(f - a - z for f, a, z in zip(full, lo, hi)) < 1:
                                    continue
                            elif pk in ("VALID", "SAME_UPPER", "SAME_LOWER"):
                                attrs["auto_pad"] = pk
                            elif pk.startswith("output_shape"):
                                # total padding in -3..=4 around the full extent: negative
                                # totals ask for extra (zero) rows.
                                attrs["output_shape"] = [max(1, f - int(rng.integers(-3, 5)))
                                                         for f in full]
                                if "+" in pk:
                                    attrs["auto_pad"] = pk.split("+")[1]
                            x_shape = [int(rng.integers(1, 3)), c_out] + n
                            w_shape = [c_out, c_in // g] + k
                            b_len = c_in
                        x = draw(x_shape, dk)
                        w = draw(w_shape, dk)
                        b = draw([b_len], dk) if rng.random() < 0.6 else None
                        cid = f"random/{op}/r{rank}/{pk}/{dk}/{counter:04d}"
                        results = [ort32(op, attrs, x, w, b), ref64(op, attrs, x, w, b)]
                        if all("refused" in r for r in results) and rng.random() >= 0.2:
                            # Both peers refused: keep one such draw in five (the refusals
                            # stay documented), redraw the rest so most cases carry numbers.
                            continue
                        counter += 1
                        c = case(cid, "random", op, attrs, x, w, b, results)
                        c["data"] = dk  # integer draws stay "integer" even if all floats hit
                        cases.append(c)
                        made += 1

    # Directed cases (source "directed"): the worked examples of docs/semantics.md sections 2 and 6
    # (x = 1..8 or [1, 2, 3], w = [1, 10, 100]) and ConvTranspose output_shape totals that pin
    # the split rule: odd and even, positive and negative, NOTSET and SAME_*.
    x8 = np.arange(1, 9, dtype=np.float32).reshape(1, 1, 8)
    x3 = np.array([[[1, 2, 3]]], dtype=np.float32)
    w3 = np.array([[[1, 10, 100]]], dtype=np.float32)
    directed = [
        ("Conv", {"strides": [2], "auto_pad": "SAME_UPPER"}, x8),
        ("Conv", {"strides": [2], "auto_pad": "SAME_LOWER"}, x8),
        ("Conv", {"strides": [3], "dilations": [2], "pads": [1, 2]}, x8),
        ("Conv", {"dilations": [2], "auto_pad": "SAME_UPPER"}, x8),
        ("Conv", {"dilations": [2], "auto_pad": "SAME_LOWER"}, x8),
    ]
    for extra in ({}, {"auto_pad": "SAME_UPPER"}, {"auto_pad": "SAME_LOWER"}):
        for shape in (None, 4, 5, 6, 7, 8, 9, 10):
            attrs = dict({"strides": [2]}, **extra)
            if shape is not None:
                attrs["output_shape"] = [shape]
            elif not extra:
                continue
            directed.append(("ConvTranspose", attrs, x3))
    directed += [
        ("ConvTranspose", {"strides": [2]}, x3),
        ("ConvTranspose", {"strides": [2], "output_padding": [1], "output_shape": [7]}, x3),
        ("ConvTranspose", {"strides": [2], "output_padding": [1], "output_shape": [6]}, x3),
        ("ConvTranspose", {"strides": [3], "output_shape": [11]}, x3),
        ("ConvTranspose", {"strides": [3], "output_shape": [12]}, x3),
        ("ConvTranspose", {"strides": [3], "auto_pad": "SAME_UPPER", "output_shape": [11]}, x3),
        ("ConvTranspose", {"strides": [3], "auto_pad": "SAME_UPPER"}, x3),
        ("ConvTranspose", {"strides": [3], "auto_pad": "SAME_LOWER"}, x3),
        ("ConvTranspose", {"strides": [3], "kernel_shape": [1], "auto_pad": "SAME_UPPER"},
         x3),
    ]
    for i, (op, attrs, x) in enumerate(directed):
        w = w3[..., :attrs["kernel_shape"][0]] if "kernel_shape" in attrs else w3
        desc = ",".join(f"{k}={v}" for k, v in attrs.items()).replace(" ", "")
        results = [ort32(op, attrs, x, w, None), ref64(op, attrs, x, w, None)]
        cases.append(case(f"directed/{op}/{i:02d}/{desc}", "directed", op, attrs, x, w, None,
                          results))
    n_directed = len(directed)
    probe = result("onnxruntime", "float64", "Conv, float64 (no kernel registered)",
                   lambda: run_ort(build("Conv", {}, [1, 1, 3], np.ones((1, 1, 2)), None,
                                         TensorProto.DOUBLE),
                                   {"x": np.ones((1, 1, 3))}))
    write_cases(args.out, "random.json", dict(header, **{
        "note": "seeded random Conv and ConvTranspose cases, then directed cases (the worked "
                "examples of docs/semantics.md and ConvTranspose split rules); every case runs "
                "through onnxruntime (float32) and onnx.reference (float64)",
        "onnxruntime_float64_probe": probe.get("refused", "computed")}), cases)
    n_random = len(cases)

    refusals = {}
    for fname in ("node.json", "pytorch.json", "random.json"):
        with open(os.path.join(args.out, fname)) as fh:
            for c in json.load(fh)["cases"]:
                for r in c["results"]:
                    if "refused" in r:
                        key = f"{r['peer']} {c['op']}"
                        refusals[key] = refusals.get(key, 0) + 1
    print(f"numpy {np.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}, "
          f"seed {args.seed}: node.json {n_node} cases ({', '.join(node_names)}); "
          f"pytorch.json {n_pytorch} cases ({', '.join(pytorch_names)}); random.json "
          f"{n_random} cases ({n_directed} of them directed); peer refusals {refusals}; "
          f"{time.monotonic() - t_start:.1f} s")


if __name__ == "__main__":
    main()
