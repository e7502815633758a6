"""Which C is the run's final agent: the best of its candidates on the validation seeds (Doom, the τ table).

The candidates are the run's own C (``controller/``, trained at es.temperature) and the τ table's
(``controller-tau{τ}/``, one per evaluate.temperatures), each scored over the same validation episodes in the real
game (``evaluation_real_validation.json``). The final agent is the one with the highest mean there, the run's own
C on a tie; only it is then scored on the test seeds, once. The choice is written to ``<run>/choice.json``:

    {"tag": "tau1.30" | null, "folder": "controller-tau1.30", "temperature": 1.3, "validation_mean": ...,
     "candidates": [{"tag", "folder", "temperature", "mean", "std", "episodes", "file"}, ...]}

The paper chose its τ (1.15) by the real-game score of each τ's C; here the same choice is made on validation
seeds, so the test score stays a fresh measurement (README "Deviations").
"""
from __future__ import annotations

import json
from pathlib import Path

from common import atomic
from common.config import Config, ConfigError, temperatures
from common.run_layout import RunLayout


def candidate_tags(cfg: Config) -> list[str | None]:
    """The run's own C (None), then one per τ of the τ table, in the config's order."""
    return [None, *(f"tau{tau:.2f}" for tau in temperatures(cfg))]


def _validation_file(run_dir: Path, tag: str | None) -> Path:
    from controller.evaluate import result_path

    return result_path(RunLayout(run_dir).controller(tag).dir, False, None, split="validation")


def candidates(cfg: Config, run_dir: Path) -> list[dict]:
    """Each candidate's validation score; ConfigError when one is not trained or not scored yet."""
    out = []
    for tag in candidate_tags(cfg):
        files = RunLayout(run_dir).controller(tag)
        path = _validation_file(run_dir, tag)
        if not files.best.exists() or not path.exists():
            raise ConfigError(f"{files.dir}: needs best.json and {path.name} (train it and score it with "
                              f"--evaluate.split validation first)")
        best, score = json.loads(files.best.read_text()), json.loads(path.read_text())
        out.append({"tag": tag, "folder": files.dir.name, "temperature": best.get("temperature"),
                    "mean": float(score["mean"]), "std": float(score["std"]), "episodes": int(score["episodes"]),
                    "file": f"{files.dir.name}/{path.name}"})
    return out


def choose(cfg: Config, run_dir: Path) -> dict:
    """Write ``<run>/choice.json`` (the module docstring) and return it."""
    found = candidates(cfg, run_dir)
    final = max(found, key=lambda c: c["mean"])  # max keeps the first of equal means: the run's own C
    choice = {"tag": final["tag"], "folder": final["folder"], "temperature": final["temperature"],
              "validation_mean": final["mean"], "candidates": found}
    atomic.write_json(RunLayout(run_dir).choice, choice)
    return choice


def read_choice(run_dir: Path) -> dict | None:
    path = RunLayout(run_dir).choice
    return json.loads(path.read_text()) if path.exists() else None


def is_current(cfg: Config, run_dir: Path) -> bool:
    """choice.json exists, names this config's candidates and is newer than every validation score it read."""
    try:
        choice = read_choice(run_dir)
    except (OSError, ValueError):
        return False
    if not isinstance(choice, dict) or [c.get("tag") for c in choice.get("candidates", [])] != candidate_tags(cfg):
        return False
    stamp = RunLayout(run_dir).choice.stat().st_mtime
    files = [_validation_file(run_dir, tag) for tag in candidate_tags(cfg)]
    return all(f.exists() and f.stat().st_mtime <= stamp for f in files)
