#!/usr/bin/env python3
"""Load test of `conv-oracle judge --stream` (standard library only, Python 3.11+).

For each N (default 1,000, 10,000 and 100,000) it builds N mixed JSON-lines requests from a
fixed seed -- valid convolutions of small integers whose output is computed here by direct
summation (exact, so the oracle must say "pass"), the same with one output off by 1000
("fail"), and bad lines of many kinds ("error") -- runs the binary once on them, writing
stdin from one thread and reading stdout in the main one, samples the child's VmRSS from
/proc/PID/status every 20 ms, checks that every request got exactly one answer, in order,
with the expected verdict and id, and prints one row per N:

    N, wall seconds, the child's CPU seconds (user + system), requests/s (N / wall), peak RSS
    (MiB), RSS after the first 10% of the answers and at the end (MiB), answers as expected,
    exit status.

"Flat memory" means the peak does not grow with N. Standard input stays open until the last
answer is in, so the end sample is taken while the child is still running; the peak is the
largest of the samples and the kernel's VmHWM.

    python3 scripts/stream_load.py [BINARY] [--sizes 1000,10000,100000] [--long-lines K]

BINARY defaults to target/release/conv-oracle. With --long-lines K, K lines of about 1 MB
(half a valid request behind 1 MB of spaces, half an array of 2^19 values for a shape that
needs 3) go in the first 10% of every run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import threading
import time

SEED = 20240601
MIB = 1024 * 1024


# ---------------------------------------------------------------------------- requests


def conv(x, xs, w, ws, stride, dilation, pads, groups, bias):
    """Direct convolution (cross-correlation, zero padding) of flat row-major lists."""
    n, c = xs[0], xs[1]
    o, cg = ws[0], ws[1]
    ks = ws[2:]
    rank = len(ks)
    outs = [
        (xs[2 + a] + pads[a][0] + pads[a][1] - dilation[a] * (ks[a] - 1) - 1) // stride[a] + 1
        for a in range(rank)
    ]
    og = o // groups

    def strides(shape):
        st = [1] * len(shape)
        for i in range(len(shape) - 2, -1, -1):
            st[i] = st[i + 1] * shape[i + 1]
        return st

    xst, wst = strides(xs), strides(ws)
    taps = [[]]
    for k in ks:
        taps = [t + [j] for t in taps for j in range(k)]
    spots = [[]]
    for m in outs:
        spots = [s + [j] for s in spots for j in range(m)]
    out = []
    for b in range(n):
        for oc in range(o):
            g = oc // og
            for p in spots:
                acc = bias[oc] if bias else 0
                for ci in range(cg):
                    ch = g * cg + ci
                    for k in taps:
                        xi = b * xst[0] + ch * xst[1]
                        for a in range(rank):
                            q = p[a] * stride[a] + k[a] * dilation[a] - pads[a][0]
                            if not 0 <= q < xs[2 + a]:
                                break
                            xi += q * xst[2 + a]
                        else:
                            wi = oc * wst[0] + ci * wst[1]
                            wi += sum(k[a] * wst[2 + a] for a in range(rank))
                            acc += w[wi] * x[xi]
                out.append(acc)
    return [n, o] + outs, out


def valid(rng: random.Random, rid: int, fail: bool) -> dict:
    rank = 1 if rng.random() < 0.7 else 2
    groups = rng.randint(1, 2)
    cg, og = rng.randint(1, 2), rng.randint(1, 2)
    n = rng.randint(1, 2)
    xs, ws = [n, groups * cg], [groups * og, cg]
    stride, dilation, pads = [], [], []
    for _ in range(rank):
        k, s, d = rng.randint(1, 3), rng.randint(1, 2), rng.randint(1, 2)
        lo, hi = rng.randint(0, 2), rng.randint(0, 2)
        least = max(1, d * (k - 1) + 1 - lo - hi)
        xs.append(rng.randint(least, least + 4))
        ws.append(k)
        stride.append(s)
        dilation.append(d)
        pads.append((lo, hi))
    x = [rng.randint(-4, 4) for _ in range(math.prod(xs))]
    w = [rng.randint(-4, 4) for _ in range(math.prod(ws))]
    bias = [rng.randint(-4, 4) for _ in range(ws[0])] if rng.random() < 0.3 else None
    ys, y = conv(x, xs, w, ws, stride, dilation, pads, groups, bias)
    if fail:
        y[rng.randrange(len(y))] += 1000
    dtype = "float32" if rng.random() < 0.4 else "float64"
    arr = lambda shape, data: {"dtype": dtype, "shape": shape, "data": data}  # noqa: E731
    req = {
        "id": rid,
        "input": arr(xs, x),
        "weight": arr(ws, w),
        "output": arr(ys, y),
        "stride": stride,
        "dilation": dilation,
        "padding": [list(p) for p in pads],
        "groups": groups,
    }
    if bias:
        req["bias"] = arr([ws[0]], bias)
    if rng.random() < 0.3:
        req["tolerance"] = rng.choice(["exact", "ulp:0", "normwise", "torch", "tosa"])
    return req


def bad(rng: random.Random, rid: int) -> tuple[str, object]:
    """A bad line and the id its answer echoes (None where the line is not a JSON object)."""
    kind = rng.randrange(12)
    base = valid(rng, rid, False)
    if kind == 0:
        return f"not json {rid}", None
    if kind == 1:
        s = json.dumps(base)
        return s[: rng.randrange(1, len(s) - 1)], None
    if kind == 2:
        return rng.choice([f"[{rid}]", f'"{rid}"', str(rid), "true", "null"]), None
    if kind == 3:
        del base[rng.choice(["input", "weight", "output"])]
    elif kind == 4:
        base["input"]["dtype"] = "float16"
    elif kind == 5:
        base["input"]["data"].pop()
    elif kind == 6:
        base["stride"] = -1
    elif kind == 7:
        base["padding"] = 10**12
    elif kind == 8:
        base["weight"] = "/nonexistent/w.npy"
    elif kind == 9:
        base["strides"] = 1
    elif kind == 10:
        base["input"]["data"][0] = "nanx"
    else:
        base["output"]["shape"][-1] += 1
    return json.dumps(base), rid


def build(n: int, long_lines: int, seed: int) -> tuple[bytes, list[tuple[str, object]]]:
    """N request lines and, per line, the (verdict, id) its answer must have."""
    rng = random.Random(seed)
    lines, expect = [], []
    long_at = {max(1, n // 10) * (j + 1) // (long_lines + 1): j for j in range(long_lines)}
    for i in range(n):
        if i in long_at:
            if long_at[i] % 2 == 0:
                lines.append(" " * MIB + json.dumps(valid(rng, i, False)))
                expect.append(("pass", i))
            else:
                req = valid(rng, i, False)
                req["input"] = {"shape": [1, 1, 3], "data": [1] * (MIB // 2)}
                lines.append(json.dumps(req))
                expect.append(("error", i))
            continue
        r = rng.random()
        if r < 0.45:
            lines.append(json.dumps(valid(rng, i, False)))
            expect.append(("pass", i))
        elif r < 0.6:
            lines.append(json.dumps(valid(rng, i, True)))
            expect.append(("fail", i))
        else:
            line, rid = bad(rng, i)
            lines.append(line)
            expect.append(("error", rid))
    return ("\n".join(lines) + "\n").encode(), expect


# ---------------------------------------------------------------------------- running


def proc_kib(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """The child's user + system CPU time so far (/proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(binary: str, payload: bytes, expect: list[tuple[str, object]]) -> dict:
    child = subprocess.Popen(
        [binary, "judge", "--stream"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pid = child.pid
    answered = [0]
    samples: list[tuple[int, int]] = []  # (answers so far, VmRSS KiB)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            kib = proc_kib(pid, "VmRSS")
            if kib is not None:
                samples.append((answered[0], kib))
            time.sleep(0.02)

    def write() -> None:
        try:
            child.stdin.write(payload)
            child.stdin.flush()
        except BrokenPipeError:
            pass

    errors: list[bytes] = []
    err_reader = threading.Thread(target=lambda: errors.append(child.stderr.read()))
    sampler = threading.Thread(target=sample, daemon=True)
    writer = threading.Thread(target=write)
    start = time.perf_counter()
    for t in (err_reader, sampler, writer):
        t.start()
    ok, wrong = 0, []
    for k in range(len(expect)):
        line = child.stdout.readline()
        if not line:
            wrong.append(f"{len(expect) - k} answers missing from {k}")
            break
        answered[0] = k + 1
        verdict, rid = expect[k]
        try:
            got = json.loads(line)
            if got.get("verdict") == verdict and got.get("id") == rid:
                ok += 1
            elif len(wrong) < 5:
                wrong.append(f"answer {k}: {line[:200]!r}, want {verdict} id {rid}")
        except json.JSONDecodeError:
            if len(wrong) < 5:
                wrong.append(f"answer {k} is not JSON: {line[:200]!r}")
    wall = time.perf_counter() - start
    end_rss = proc_kib(pid, "VmRSS")  # still running: stdin is open
    hwm = proc_kib(pid, "VmHWM")
    cpu = cpu_seconds(pid)
    done.set()
    writer.join()
    child.stdin.close()
    extra = child.stdout.read()
    if extra:
        wrong.append(f"extra output: {extra[:200]!r}")
    status = child.wait()
    err_reader.join()
    sampler.join()
    tenth = next((kib for n, kib in samples if n >= len(expect) // 10), None)
    peak = max([kib for _, kib in samples] + [end_rss or 0, hwm or 0])
    return {
        "wall": wall,
        "cpu": cpu,
        "peak": peak,
        "tenth": tenth,
        "end": end_rss,
        "ok": ok,
        "wrong": wrong,
        "status": status,
        "stderr": errors[0].decode(errors="replace") if errors else "",
        "samples": len(samples),
    }


def mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default="target/release/conv-oracle")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--long-lines", type=int, default=0)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"{args.binary}: not an executable (build it: cargo build --release)")
    print(
        f"{'N':>7} {'wall s':>8} {'cpu s':>7} {'req/s':>9} {'peak MiB':>9} {'RSS@10% MiB':>12} "
        f"{'RSS@end MiB':>12} {'as expected':>12} {'exit':>5}"
    )
    failed = False
    for n in (int(s) for s in args.sizes.split(",")):
        payload, expect = build(n, args.long_lines, args.seed)
        r = run(args.binary, payload, expect)
        print(
            f"{n:>7} {r['wall']:>8.2f} {r['cpu'] or 0:>7.2f} {n / r['wall']:>9.0f} "
            f"{mib(r['peak']):>9} "
            f"{mib(r['tenth']):>12} {mib(r['end']):>12} {r['ok']:>6}/{n:<5} {r['status']:>5}",
            flush=True,
        )
        for w in r["wrong"]:
            print("   ", w)
        if r["stderr"]:
            print("    stderr:", r["stderr"].strip()[:300])
        failed |= bool(r["wrong"]) or r["status"] != 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
