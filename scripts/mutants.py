"""Mutation test of the domain guards: does the test suite notice when a guard is broken?

A *guard* is an ``if`` (or ``elif``) in an app's ``services.py``, ``rules.py`` or
``workflow.py`` whose own body refuses the request: it holds ``raise DomainError(...)``,
``raise <name>_error(...)`` / ``raise _refuse...(...)``, or a bare call ``_refuse...(...)``
(which raises inside). Each guard gives two mutants, applied to the file on disk one at a
time:

* ``delete``  the test becomes ``False``: the guard never fires;
* ``invert``  the test becomes ``not (<test>)``.

For each mutant the suite runs in a subprocess (SQLite: DATABASE_URL and REDIS_URL are
removed from the environment)::

    python -m pytest -x -q -p no:cacheprovider -m "not browser" -n 2 --no-header tests

Only the root's code is imported: ``PYTHONPATH`` puts the root first, and a
``sitecustomize`` there drops the finders of editable installs (``pip install -e``), which
would otherwise serve modules that exist in the installed checkout but not in the root.

A non-zero exit kills the mutant, exit 0 means it survived; a run over ``--timeout``
seconds counts as killed but is reported as ``timeout``. Exit 4 (usage error) and 5 (no
tests collected) stop the tool. The unmutated suite runs first; a red baseline stops the
tool, since it would make every mutant look killed. The original file is always written
back (try/finally, SIGTERM included) and checked byte for byte. Do not edit the project's
files while this runs.

Run from the project root (about two minutes per mutant on two cores)::

    .venv/bin/python scripts/mutants.py                        # everything
    .venv/bin/python scripts/mutants.py --only-list            # list the guards
    .venv/bin/python scripts/mutants.py --files 'credits/*'    # some files only
    .venv/bin/python scripts/mutants.py --root /tmp/other-checkout --json /tmp/m.json

Prints one line per mutant, then ``MUTANTS total=.. killed=.. survived=.. timeout=..``
and the survivors; writes a JSON report (default ``test-artifacts/mutants.json``).
Exit status: 0 all killed, 1 some survived, 2 the tool could not run. Standard library only.
"""

import argparse
import ast
import atexit
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

APPS = ("cme_portal", "projects", "attendance", "credits", "certificates")
FILE_NAMES = ("services.py", "rules.py", "workflow.py")
SKIP_DIRS = {".venv", "migrations", "tests", "__pycache__"}
PYTEST = ["-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not browser", "-n", "2", "--no-header", "tests"]
TOOL_ERRORS = {4: "pytest usage error", 5: "pytest collected no tests"}
# Loaded at start-up by every Python the suite runs (xdist workers too), after the .pth files.
SITECUSTOMIZE = """import sys
def _editable(f): return (getattr(f, "__module__", "") or "").startswith("__editable__")
sys.meta_path[:] = [f for f in sys.meta_path if not _editable(f)]
sys.path_hooks[:] = [h for h in sys.path_hooks if not _editable(h)]
"""
ISOLATION = tempfile.mkdtemp(prefix="mutants-")
Path(ISOLATION, "sitecustomize.py").write_text(SITECUSTOMIZE)
atexit.register(shutil.rmtree, ISOLATION, True)


@dataclass
class Guard:
    file: str  # relative to the root, with forward slashes
    line: int  # line of the ``if`` / ``elif``
    source: str  # that line, stripped
    start: int  # byte offsets of the test in the file
    end: int


@dataclass
class Result:
    file: str
    line: int
    kind: str
    source: str
    status: str  # killed | survived | timeout
    returncode: int | None
    seconds: float


class ToolError(Exception):
    pass


# --- finding guards -----------------------------------------------------------------


def _name(func):
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _refuses(stmt):
    """True if ``stmt`` is ``raise DomainError(..)``-like or a call to ``_refuse..(..)``."""
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        name = _name(exc)
        return name == "DomainError" or name.startswith("_refuse") or name.endswith("_error")
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return _name(stmt.value.func).startswith("_refuse")
    return False


def find_guards(root, patterns=()):
    guards = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if path.name not in FILE_NAMES or SKIP_DIRS & set(path.relative_to(root).parts):
                continue
            if patterns and not any(fnmatch.fnmatch(rel, p) for p in patterns):
                continue
            data = path.read_bytes()
            lines = data.splitlines(keepends=True)
            starts = [0]
            for text in lines:
                starts.append(starts[-1] + len(text))
            for node in ast.walk(ast.parse(data, filename=rel)):
                if isinstance(node, ast.If) and any(_refuses(s) for s in node.body):
                    t = node.test  # ast offsets are UTF-8 byte offsets, hence bytes
                    guards.append(
                        Guard(
                            rel,
                            node.lineno,
                            lines[node.lineno - 1].decode().strip(),
                            starts[t.lineno - 1] + t.col_offset,
                            starts[t.end_lineno - 1] + t.end_col_offset,
                        )
                    )
    return sorted(guards, key=lambda g: (g.file, g.line))


def mutate(data, guard, kind):
    test = data[guard.start : guard.end]
    new = b"False" if kind == "delete" else b"not (" + test + b")"
    mutant = data[: guard.start] + new + data[guard.end :]
    ast.parse(mutant)  # a mutant that does not compile is a bug of this tool
    return mutant


# --- running the suite --------------------------------------------------------------


def suite_env(root):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    # The venv may hold an editable install of another checkout: the root's code only.
    env["PYTHONPATH"] = os.pathsep.join([str(root), ISOLATION] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # never cache a mutant's bytecode
    return env


def run(cmd, root, timeout):
    """Run ``cmd`` in its own process group; return (returncode or None on timeout, output)."""
    proc = subprocess.Popen(
        cmd,
        cwd=root,
        env=suite_env(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        return None, ""
    finally:  # timeout, Ctrl-C or any error: take the xdist workers down too
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def check_imports(root):
    code = (
        "import sys, importlib; assert 'editable' not in repr(sys.meta_path), sys.meta_path; "
        "print('\\n'.join(importlib.import_module(a).__file__ for a in sys.argv[1:]))"
    )
    rc, out = run([sys.executable, "-c", code, *APPS], root, 60)
    files = out.split()
    if rc != 0 or any(not Path(f).resolve().is_relative_to(root) for f in files):
        raise ToolError(f"the apps do not import from {root}:\n{out}")


def run_mutant(root, guard, kind, timeout):
    path = root / guard.file
    original, stat = path.read_bytes(), path.stat()
    started = time.monotonic()
    try:
        path.write_bytes(mutate(original, guard, kind))
        # A different mtime second, whatever the size: no stale bytecode is ever used.
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
        rc, out = run([sys.executable, *PYTEST], root, timeout)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        if path.read_bytes() != original:
            raise ToolError(f"{guard.file} was not restored; fix it by hand")
    if rc in TOOL_ERRORS:
        raise ToolError(f"{TOOL_ERRORS[rc]} for {guard.file}:{guard.line} {kind}:\n{out[-3000:]}")
    status = "timeout" if rc is None else "survived" if rc == 0 else "killed"
    return Result(guard.file, guard.line, kind, guard.source, status, rc, round(time.monotonic() - started, 1))


# --- main ---------------------------------------------------------------------------


def _sigterm(signum, frame):
    raise KeyboardInterrupt  # so that the finally blocks restore the file


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="the project to mutate (default: this script's project)",
    )
    parser.add_argument(
        "--files", nargs="+", default=(), metavar="GLOB", help="only these files, e.g. 'credits/*' (relative to the root)"
    )
    parser.add_argument("--only-list", action="store_true", help="print the guards found and exit")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per mutant (default 300)")
    parser.add_argument("--json", type=Path, help="report path (default ROOT/test-artifacts/mutants.json)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    guards = find_guards(root, args.files)
    if args.only_list:
        for g in guards:
            print(f"{g.file}:{g.line}  {g.source}")
        print(f"GUARDS {len(guards)}")
        return 0
    if not guards:
        print("no guards found", file=sys.stderr)
        return 2

    signal.signal(signal.SIGTERM, _sigterm)
    began = time.monotonic()
    try:
        check_imports(root)
        rc, out = run([sys.executable, *PYTEST], root, args.timeout)
        if rc != 0:
            raise ToolError(f"the unmutated suite is not green (exit {rc}); fix it first:\n{out[-3000:]}")
        baseline = round(time.monotonic() - began, 1)
        print(f"baseline green in {baseline}s; {len(guards)} guards, {2 * len(guards)} mutants", flush=True)
        results = []
        for g in guards:
            for kind in ("delete", "invert"):
                r = run_mutant(root, g, kind, args.timeout)
                results.append(r)
                print(f"{r.status.upper():8} {r.file}:{r.line} {kind:6}  {r.source}", flush=True)
    except ToolError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("INTERRUPTED (the mutated file, if any, was restored)", file=sys.stderr)
        return 130

    count = {s: sum(r.status == s for r in results) for s in ("killed", "survived", "timeout")}
    survivors = [r for r in results if r.status == "survived"]
    print(f"MUTANTS total={len(results)} killed={count['killed']} survived={count['survived']} timeout={count['timeout']}")
    for r in survivors:
        print(f"  {r.file}:{r.line} {r.kind:6}  {r.source}")
    report = args.json or root / "test-artifacts" / "mutants.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        json.dumps(
            {
                "root": str(root),
                "command": [sys.executable, *PYTEST],
                "timeout": args.timeout,
                "baseline_seconds": baseline,
                "seconds": round(time.monotonic() - began, 1),
                "summary": {"total": len(results), **count},
                "mutants": [asdict(r) for r in results],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"report: {report}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
