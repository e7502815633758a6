"""Wall and CPU time of each stage, accumulated over resumed parts in ``<run_dir>/timings.json``."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from pathlib import Path

from common import atomic


def machine_description() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def read_timings(run_dir: str | os.PathLike) -> dict:
    path = Path(run_dir) / "timings.json"
    return json.loads(path.read_text()) if path.exists() else {}


@contextlib.contextmanager
def stage_timer(run_dir: str | os.PathLike, stage: str):
    """Add this block's wall and CPU seconds to ``timings.json[stage]``, also when it is interrupted."""
    wall0, cpu0 = time.monotonic(), _cpu_seconds()
    try:
        yield
    finally:
        timings = read_timings(run_dir)
        entry = timings.setdefault(stage, {"wall_s": 0.0, "cpu_s": 0.0, "parts": 0})
        entry["wall_s"] += time.monotonic() - wall0
        entry["cpu_s"] += _cpu_seconds() - cpu0
        entry["parts"] += 1
        entry["machine"] = machine_description()
        atomic.write_json(Path(run_dir) / "timings.json", timings)
