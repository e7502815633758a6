"""Crash-safe writes: every file is written to a temp file in the same folder, flushed, then renamed.

A kill at any moment leaves either the old file or the new one, never a partial one. Temp files carry
``TMP_MARK`` in their names so that a resumed stage can find and delete the leftovers of a killed run.
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

TMP_MARK = ".tmp-"


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def savez(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """``np.savez_compressed`` made atomic."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_bytes(path, buffer.getvalue())


def save_keras(model, path: str | os.PathLike) -> None:
    """``model.save`` (Keras native file) to a temp file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}{TMP_MARK}{os.getpid()}.keras")  # Keras wants the .keras ending
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete the temp files a killed writer left in ``folder`` (not recursive); return what was deleted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = [p for p in folder.iterdir() if TMP_MARK in p.name and p.is_file()]
    for p in removed:
        p.unlink(missing_ok=True)
    return removed
