"""What a bench script prints, also written to a file (``--out``), headed by the command and the host: the README's
speed and calibration figures are read from such files in bench/results/, never typed in."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from common import atomic, onednn
from common.timing import machine_description


class Output:
    def __init__(self, path: Path | None):
        self.path = path
        self.lines: list[str] = []
        self.say("$ python " + " ".join(sys.argv))
        self.say(f"host: {machine_description()}; TensorFlow oneDNN {onednn.setting()}")

    def say(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)

    def save(self) -> None:
        if self.path is not None:
            atomic.write_text(self.path, "\n".join(self.lines) + "\n")


def read_evaluations(paths) -> list[dict] | None:
    """The evaluation files of ``python -m controller evaluate``, in order; None after a one-line error on stderr
    naming the first unreadable one (the caller exits 2)."""
    results = []
    for path in paths:
        try:
            results.append(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as err:
            print(f"error: {path}: {err}", file=sys.stderr)
            return None
    return results
