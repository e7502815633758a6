"""Wall and CPU time of each stage, accumulated over resumed parts in ``<run_dir>/timings.json``."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from pathlib import Path

from common import atomic
from common.run_layout import RunLayout


def cpu_info() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo ("model name", "flags", ...); empty where there is none."""
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def cpu_model() -> str:
    """The CPU's model name, family and model numbers (virtual machines often show only "Intel(R) Xeon(R)
    Processor") and whether it has AVX-512: speed figures differ between such hosts."""
    info = cpu_info()
    model = info.get("model name") or platform.processor() or "unknown CPU"
    if info.get("cpu family") and info.get("model"):
        model += f" (family {info['cpu family']}, model {info['model']})"
    return f"{model}, {'AVX-512' if 'avx512f' in info.get('flags', '').split() else 'no AVX-512'}"


def machine_description() -> str:
    return (f"{platform.machine()}, {cpu_model()}, {os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}")


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def read_timings(run_dir: str | os.PathLike) -> dict:
    path = RunLayout(run_dir).timings
    return json.loads(path.read_text()) if path.exists() else {}


@contextlib.contextmanager
def stage_timer(run_dir: str | os.PathLike, stage: str, resumable: bool = True):
    """Add this block's wall and CPU seconds to ``timings.json[stage]`` when it completes.

    A resumable stage (its finished work is kept and the next run continues it) also records an interrupted part
    (Ctrl-C, SIGTERM); a stage that fails with an error records nothing, and neither does an interrupted
    non-resumable one (an evaluation starts over), so the cost tables count only work that is in the results.
    """
    wall0, cpu0 = time.monotonic(), _cpu_seconds()
    record = False
    try:
        yield
        record = True
    except (KeyboardInterrupt, SystemExit):
        record = resumable
        raise
    finally:
        if record:
            timings = read_timings(run_dir)
            entry = timings.setdefault(stage, {"wall_s": 0.0, "cpu_s": 0.0, "parts": 0})
            entry["wall_s"] += time.monotonic() - wall0
            entry["cpu_s"] += _cpu_seconds() - cpu0
            entry["parts"] += 1
            entry["machine"] = machine_description()
            atomic.write_json(RunLayout(run_dir).timings, timings)
