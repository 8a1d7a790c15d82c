"""Run a capture script inside its own virtual environment with pinned packages.

`ensure(venv, pins, guard)` returns at once when the interpreter already runs inside `venv`;
otherwise it creates the venv if needed, pip-installs `pins` (a dict of distribution name ->
version, also used as import name -> version for the check) when the installed versions
differ, and re-executes the calling script with the venv's python. `guard` names an
environment variable that stops a re-exec loop.
"""

import os
import subprocess
import sys


def _python(venv):
    return os.path.join(venv, "bin", "python")


def _has_pins(py, pins):
    modules = ", ".join(pins)
    got = ", ".join(f"{m}.__version__" for m in pins)
    want = ", ".join(repr(v) for v in pins.values())
    probe = f"import sys, {modules}; sys.exit(0 if ({got},) == ({want},) else 1)"
    return subprocess.run([py, "-c", probe], capture_output=True).returncode == 0


def ensure(venv, pins, guard):
    venv = os.path.abspath(venv)
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return
    if os.environ.get(guard):
        sys.exit(f"re-executed but not running inside {venv} (sys.prefix = {sys.prefix})")
    py = _python(venv)
    if not os.path.exists(py):
        print(f"creating venv {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    if not _has_pins(py, pins):
        specs = [f"{name}=={version}" for name, version in pins.items()]
        print("installing " + " ".join(specs), file=sys.stderr)
        subprocess.run(
            [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + specs,
            check=True,
        )
    env = dict(os.environ, **{guard: "1"})
    script = os.path.abspath(sys.argv[0])
    os.execve(py, [py, script] + sys.argv[1:], env)
