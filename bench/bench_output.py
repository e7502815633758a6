"""What a bench script prints, also written to a file (``--out``), headed by the command and the host: the README's
speed and calibration figures are read from such files in bench/results/, never typed in."""
from __future__ import annotations

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
