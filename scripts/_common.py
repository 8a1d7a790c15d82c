"""Helpers shared by the scripts in this folder (not a script itself).

The scripts import it by name: Python puts the running script's own folder (scripts/) first on
sys.path, also after pinned_venv's re-exec with the venv's python. Standard library only, as
everything here may run before the venv exists.

- Paths: REPO, target_dir().
- Command line and output files: compile_filter(), refuse_existing(), write_output(),
  write_cases() (the capture scripts' one-case-per-line JSON).
- The machine and tools: machine(), machine_line(), command_output(), rustc(), fmt_load(),
  fmt_ms().
- Timing: THREAD_VARS, time_call(); criterion: run_criterion(), read_criterion(), written().
"""

import datetime
import gc
import json
import math
import os
import platform
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Set to 1 before numpy is imported, so that its BLAS runs single-threaded.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


# --------------------------------------------------------------------------------------------
# Paths


def target_dir():
    """Cargo's target directory: $CARGO_TARGET_DIR, or target/ in the repository (absolute)."""
    return os.path.abspath(os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target"))


# --------------------------------------------------------------------------------------------
# Command line and output files


def compile_filter(text):
    """The --filter REGEX (None: matches everything); exits with a message if it is invalid."""
    try:
        return re.compile(text or "")
    except re.error as e:
        sys.exit(f"--filter {text!r} is not a regular expression: {e}")


def refuse_existing(paths, force):
    """Exits if one of `paths` (None entries ignored) exists and `force` is not set.

    Called before anything slow runs (and again after the re-exec, harmlessly).
    """
    for path in paths:
        if path and os.path.exists(path) and not force:
            sys.exit(f"{path} exists; pass --force to replace it")


def write_output(path, text, force):
    """Writes `text` to `path`; without `force` the open fails if the file exists."""
    with open(path, "w" if force else "x") as fh:
        fh.write(text)
    print(f"wrote {path}", file=sys.stderr)


def write_cases(out_dir, name, header, cases):
    """One case per line, so a diff of two captures shows which cases changed."""
    path = os.path.join(out_dir, name)
    with open(path, "w") as fh:
        head = json.dumps(header, separators=(", ", ": "))[:-1]
        fh.write(head + ', "cases": [\n')
        fh.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        fh.write("\n]}\n")


# --------------------------------------------------------------------------------------------
# The machine and tools


def machine():
    """CPU model (first 'model name' in /proc/cpuinfo), CPU counts and the load average."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "logical_cpus": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)), "platform": platform.platform(),
            "loadavg_start": list(os.getloadavg())}


def machine_line(m):
    """The header line describing machine() `m`."""
    return (f"machine: {m['cpu']}, {m['logical_cpus']} logical CPUs ({m['usable_cpus']} "
            f"usable); load average {fmt_load(m['loadavg_start'])} (1, 5, 15 min) at the start")


def command_output(cmd):
    """The stripped stdout of `cmd` run in the repository, or None (empty, or not runnable)."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              cwd=REPO).stdout.strip() or None
    except OSError:
        return None


def rustc():
    """`rustc -V`, or None."""
    return command_output(["rustc", "-V"])


def fmt_load(load):
    """A load average triple as '1.23 0.45 0.67'."""
    return " ".join(f"{x:.2f}" for x in load)


def fmt_ms(ms):
    """Milliseconds: 3 significant digits below 100 ms, whole milliseconds from 100 ms."""
    return f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"


# --------------------------------------------------------------------------------------------
# Timing


def time_call(f, min_reps, min_seconds, max_reps):
    """Warm up once (the result is returned for the check), then time the repetitions.

    Repeats until there are at least `min_reps` repetitions and `min_seconds` of wall time, or
    `max_reps`; returns (warm-up result, [seconds per repetition]).
    """
    out = f()
    times = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection inside one repetition is noise
    try:
        start = time.perf_counter()
        while len(times) < max_reps:
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
            if len(times) >= min_reps and time.perf_counter() - start >= min_seconds:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return out, times


# --------------------------------------------------------------------------------------------
# criterion


def run_criterion(criterion_dir, filter_text, bench):
    """`cargo bench --bench BENCH -- --noplot [FILTER]` in the repository; its exit status."""
    cmd = ["cargo", "bench", "--bench", bench, "--", "--noplot"]
    if filter_text:
        cmd.append(filter_text)
    env = dict(os.environ, CRITERION_HOME=os.path.abspath(criterion_dir))
    print(f"running (in {REPO}, CRITERION_HOME={env['CRITERION_HOME']}): {' '.join(cmd)}",
          file=sys.stderr, flush=True)
    # cargo's and criterion's report go to stderr so that stdout holds only our tables.
    return subprocess.run(cmd, cwd=REPO, env=env, stdout=sys.stderr).returncode


def written(path, started):
    """(mtime as an ISO string, stale): stale if `path` was last written before `started`.

    `started` is floored to the second, for filesystems with coarse timestamps; a stale file
    belongs to an earlier run, typically of benchmarks this run's filter skipped.
    """
    mtime = os.path.getmtime(path)
    when = datetime.datetime.fromtimestamp(mtime).isoformat(timespec="seconds")
    return when, mtime < math.floor(started)


def read_criterion(criterion_dir, started, groups):
    """{group: [result]} from DIR/<group>/<function>/new/estimates.json, and the stale ones.

    `groups` are the criterion group ids to read (the workloads of bench_peers.py, the problems
    of bench_exact_peers.py). A file last written before `started` is stale (see written()).
    """
    fresh, stale = {}, []
    for wid in groups:
        group = os.path.join(criterion_dir, wid)
        if not os.path.isdir(group):
            continue
        for method in sorted(os.listdir(group)):
            path = os.path.join(group, method, "new", "estimates.json")
            if not os.path.isfile(path):
                continue  # e.g. criterion's own group 'report' directory
            when, is_stale = written(path, started)
            if is_stale:
                stale.append({"workload": wid, "method": method, "path": path, "written": when})
                continue
            with open(path) as fh:
                median = json.load(fh)["median"]
            ci = median["confidence_interval"]
            fresh.setdefault(wid, []).append({
                "name": method,
                "median_ms": median["point_estimate"] / 1e6,
                "median_ci_ms": [ci["lower_bound"] / 1e6, ci["upper_bound"] / 1e6],
                "path": path,
                "written": when,
            })
    return fresh, stale
