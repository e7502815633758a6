"""Choose the fastest form of a compute step on this host by measuring it, once per host.

The fastest TensorFlow path differs between CPUs: on an AVX2 AMD host XLA was reported the faster form of V's
train step; on an AVX-512 Intel host it is the slower one (bench/results/). So no constant can be right
everywhere. :func:`fastest` times each candidate form (a callable returning items per second), keeps the
fastest, and caches the answer in ``~/.cache/worldmodels/speed_probes.json`` (``WM_CACHE_DIR`` overrides the
folder) under a key of the probe's name, the CPU model and flags, and the TensorFlow version, so the next run
on the same host does not measure again, unless a form has been added since (then all are measured again).
Training prints the choice and the figures behind it.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Callable

from common import atomic, onednn
from common.timing import cpu_info


def cache_path() -> Path:
    return Path(os.environ.get("WM_CACHE_DIR") or Path.home() / ".cache" / "worldmodels") / "speed_probes.json"


def host_key() -> str:
    """CPU model and instruction-set flags (hashed), core count, TensorFlow version, and the settings that change
    which kernels TensorFlow runs (oneDNN on or off, an instruction-set cap on oneDNN or XLA)."""
    info = cpu_info()
    model, flags = info.get("model name") or platform.processor(), info.get("flags", "")
    try:
        import tensorflow as tf
        tf_version = tf.__version__
    except ImportError:  # pragma: no cover - TF is a requirement
        tf_version = "none"
    digest = hashlib.sha256(flags.encode()).hexdigest()[:12]
    caps = [f"{var}={os.environ[var]}" for var in ("ONEDNN_MAX_CPU_ISA", "XLA_FLAGS") if os.environ.get(var)]
    return "|".join([model, f"flags {digest}", f"{os.cpu_count()} cores", f"tf {tf_version}",
                     f"oneDNN {onednn.setting()}", *caps])


def fastest(name: str, candidates: dict[str, Callable[[], float]], log=print) -> str:
    """The candidate with the highest measured rate (each callable returns items/s), cached per host and name."""
    path, key = cache_path(), f"{name}|{host_key()}"
    try:
        cache = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        cache = {}
    entry = cache.get(key)
    measured = set(entry.get("rates", {})) | set(entry.get("failed", ())) if entry else set()
    if entry and entry.get("choice") in candidates and measured >= set(candidates):
        log(f"[speed probe] {name}: {entry['choice']} (measured on this host: {_figures(entry['rates'])}; "
            f"cached in {path})")
        return entry["choice"]
    rates, failed = {}, []
    for label, measure in candidates.items():
        try:
            rates[label] = float(measure())
        except Exception as err:  # noqa: BLE001 - a form that does not run on this host is not a candidate
            log(f"[speed probe] {name}: {label} failed here ({type(err).__name__}); not used")
            failed.append(label)
    if not rates:
        raise RuntimeError(f"speed probe {name}: no candidate ran")
    choice = max(rates, key=rates.get)
    cache[key] = {"choice": choice, "rates": rates, **({"failed": failed} if failed else {})}
    try:
        atomic.write_json(path, cache)
    except OSError:  # a read-only home: measure again next time
        pass
    log(f"[speed probe] {name}: {choice} ({_figures(rates)}; cached in {path})")
    return choice


def _figures(rates: dict[str, float]) -> str:
    return ", ".join(f"{label} {rate:,.1f}/s" for label, rate in rates.items())
