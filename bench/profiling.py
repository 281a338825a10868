"""Sampling profiles of a running server process with py-spy, summarised as text.

`Profile(pid, path)` records while its `with` block runs (py-spy's raw
"collapsed stacks" format, one line per distinct stack with its sample count)
and then writes a summary next to it: the functions that were on the CPU
themselves (self samples) and the ones whose callees were (inclusive), each in
% of the samples taken while the process was busy (py-spy leaves idle samples
out). Under gevent py-spy sees the greenlet that runs at the moment of the
sample, which is what a CPU profile needs.
"""

import collections
import contextlib
import shutil
import signal
import subprocess
import sys
from pathlib import Path

#: Samples per second: enough for milliseconds-long handlers, cheap for the process.
RATE = 250


def py_spy() -> str:
    """The py-spy binary of this venv (bench/requirements.txt), else the one on PATH."""
    local = Path(sys.executable).with_name("py-spy")
    found = str(local) if local.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install -r bench/requirements.txt")
    return found


class Profile:
    """Record one process with py-spy for the duration of a `with` block."""

    def __init__(self, pid: int, path: Path, title: str):
        self.pid, self.path, self.title = pid, path, title
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Profile":
        args = [py_spy(), "record", "--pid", str(self.pid), "--rate", str(RATE), "--format", "raw"]
        args += ["--output", str(self.path), "--nonblocking"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            summary = summarize(self.path.read_text(), self.title)
            self.path.with_suffix(".summary.txt").write_text(summary)


def frame_name(frame: str) -> str:
    """`function (path/to/module.py:12)` -> `function (module.py)`: a name stable across lines."""
    name, _, where = frame.partition(" (")
    module = where.rsplit(":", 1)[0].rsplit("/", 1)[-1].rstrip(")")
    short = "/".join(where.rsplit(":", 1)[0].split("/")[-2:]) if module == "__init__.py" else module
    return f"{name} ({short})"


def summarize(raw: str, title: str, top: int = 30) -> str:
    """Self and inclusive sample shares of the functions in py-spy's raw output."""
    own: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for name in set(frames):
            inclusive[name] += int(count)
    lines = [f"# {title}: {total} samples at {RATE} Hz while busy ({total / RATE:.1f} s of CPU)", ""]
    for heading, counter in (("self", own), ("inclusive", inclusive)):
        lines.append(f"## {heading}")
        for name, count in counter.most_common(top):
            lines.append(f"{count / max(total, 1) * 100:6.1f}%  {name}")
        lines.append("")
    return "\n".join(lines)
