"""The published numbers a report sets beside ours: the only numbers typed into this package.

Every value carries the place it was published (paper section or the authors' repository file), as quoted in
../shared/reference/ORIGINAL-SPEC.md §9 and ORIGINAL-SPEC-DETAILED.md §§2, 4, 7, 8.4, 9. The authors' training
curves are not typed in: they are read from the CSV copies of their log files in ``reports/reference/``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

PAPER_CAR = "Ha & Schmidhuber 2018, CarRacing results table (paper draft.md:235-245)"
PAPER_DOOM = "Ha & Schmidhuber 2018, DoomRNN temperature table (paper draft.md:392-400)"
PAPER_V = "Ha & Schmidhuber 2018, V parameter count (paper draft.md:196, :301)"
AUTHORS_RNN = "authors' MDN-RNN as built in carracing/rnn/rnn.py, doomrnn/doomrnn.py (ORIGINAL-SPEC-DETAILED §4.2)"
AUTHORS_C = "authors' controller, carracing/model.py, doomrnn/model.py (ORIGINAL-SPEC-DETAILED §7)"
AUTHORS_DOOM_RESULTS = "authors' repository doomrnn/results.txt, committed controller, 100 real episodes, seed 0"


@dataclass(frozen=True)
class Score:
    """A published mean ± std over 100 episodes (std None where none was published)."""

    mean: float
    std: float | None
    source: str

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std, "source": self.source}


# CarRacing, 100 random tracks (ORIGINAL-SPEC §9). Keys are our controller.inputs where the row is one of ours.
CARRACING_TABLE: list[tuple[str, str | None, Score]] = [
    ("DQN", None, Score(343, 18, PAPER_CAR)),
    ("A3C (continuous)", None, Score(591, 45, PAPER_CAR)),
    ("A3C (discrete)", None, Score(652, 10, PAPER_CAR)),
    ("Gym leaderboard", None, Score(838, 11, PAPER_CAR)),
    ("World Model, V only (z)", "z", Score(632, 251, PAPER_CAR)),
    ("World Model, V only, hidden layer (z, 40 tanh units)", "z_hidden", Score(788, 141, PAPER_CAR)),
    ("World Model, full (z, h)", "zh", Score(906, 21, PAPER_CAR)),
]

# DoomRNN: C trained in the dream at τ, scored in the dream and in the real game (ORIGINAL-SPEC §9).
DOOM_TEMPERATURES: dict[float, tuple[Score, Score]] = {
    0.10: (Score(2086, 140, PAPER_DOOM), Score(193, 58, PAPER_DOOM)),
    0.50: (Score(2060, 277, PAPER_DOOM), Score(196, 50, PAPER_DOOM)),
    1.00: (Score(1145, 690, PAPER_DOOM), Score(868, 511, PAPER_DOOM)),
    1.15: (Score(918, 546, PAPER_DOOM), Score(1092, 556, PAPER_DOOM)),
    1.30: (Score(732, 269, PAPER_DOOM), Score(753, 139, PAPER_DOOM)),
}
DOOM_BASELINES: list[tuple[str, Score]] = [
    ("Random policy", Score(210, 108, PAPER_DOOM)),
    ("Gym leaderboard", Score(820, 58, PAPER_DOOM)),
    ("Authors' committed controller (code τ 1.25), the authors' own logged score (not re-scored here)",
     Score(973.39, 539.76, AUTHORS_DOOM_RESULTS)),
]



def histogram_marks(experiment: str) -> list[tuple[float, str]]:
    """Published scores drawn beside our real-game histogram: the paper's agent (and Doom's random policy)."""
    if experiment == "carracing":
        paper = CARRACING_TABLE[-1][2]
        return [(paper.mean, f"paper {paper.mean:g} ± {paper.std:g}")]
    paper, random_policy = DOOM_TEMPERATURES[1.15][1], DOOM_BASELINES[0][1]
    return [(paper.mean, f"paper {paper.mean:g} ± {paper.std:g} (τ 1.15)"),
            (random_policy.mean, f"random policy {random_policy.mean:g}")]


# Parameter counts (ORIGINAL-SPEC §§3, 5, 7; DETAILED §2.1, §4.2, §7).
PARAMETERS: dict[str, dict[str, tuple[int, str]]] = {
    "carracing": {"V": (4_348_547, PAPER_V), "M": (422_368, AUTHORS_RNN), "C": (867, AUTHORS_C)},
    "doom": {"V": (4_446_915, PAPER_V), "M": (1_678_785, AUTHORS_RNN), "C": (1_088, AUTHORS_C)},
}
CONTROLLER_VARIANT_PARAMETERS: dict[str, tuple[int, str]] = {
    "z": (99, AUTHORS_C + ", MODE_Z"),
    "z_hidden": (1_443, AUTHORS_C + ", MODE_Z_HIDDEN"),
}

# Solved thresholds: mean over 100 consecutive episodes (DETAILED §9).
SOLVED = {
    "carracing": Score(900, None, "gym CarRacing reward_threshold; paper draft.md:145"),
    "doom": Score(750, None, "ppaquette DoomTakeCover target; paper draft.md:272"),
}
SOLVED_EPISODES = 100  # "over 100 consecutive episodes" (same sources as SOLVED)

# The machine behind the authors' training logs (shared/reference/README.md).
AUTHORS_ES_SETUP = {"population_size": 64, "num_rollouts": 16, "cores": 64,
                    "source": "shared/reference/README.md (64-core machine, one MPI worker per candidate)"}

# The authors' training logs (values of log/<env>.cma.16.64.hist.json / .hist_best.json, as CSV).
_LOG_NAME = {"carracing": "carracing", "doom": "doomrnn"}
AUTHORS_LOG_SOURCE = ("authors' log/{name}.cma.16.64.hist.json and .hist_best.json "
                      "(hardmaru/WorldModelsExperiments fd982b9; population 64, 16 episodes per candidate{where})")


def reference_curve_files(experiment: str) -> tuple[Path, Path]:
    """(per-generation history CSV, every-25-generations evaluation CSV) of the authors' run."""
    name = _LOG_NAME[experiment]
    return REFERENCE_DIR / f"{name}_cma_hist.csv", REFERENCE_DIR / f"{name}_cma_hist_best.csv"


def reference_curve_source(experiment: str) -> str:
    where = ", trained and evaluated in the dream" if experiment == "doom" else ", real game"
    return AUTHORS_LOG_SOURCE.format(name=_LOG_NAME[experiment], where=where)


def published_dict(experiment: str) -> dict:
    """Every published number this package uses for ``experiment``, with its source (goes into results.json)."""
    out: dict = {
        "parameters": {k: {"count": n, "source": s} for k, (n, s) in PARAMETERS[experiment].items()},
        "solved_threshold": {**SOLVED[experiment].to_dict(), "episodes": SOLVED_EPISODES},
        "authors_es_setup": AUTHORS_ES_SETUP,
        "training_curve_source": reference_curve_source(experiment),
    }
    if experiment == "carracing":
        out["scores"] = [{"method": m, "inputs": i, **s.to_dict()} for m, i, s in CARRACING_TABLE]
        out["controller_variant_parameters"] = {
            k: {"count": n, "source": s} for k, (n, s) in CONTROLLER_VARIANT_PARAMETERS.items()}
    else:
        out["temperatures"] = [{"temperature": t, "dream": d.to_dict(), "real": r.to_dict()}
                               for t, (d, r) in DOOM_TEMPERATURES.items()]
        out["baselines"] = [{"method": m, **s.to_dict()} for m, s in DOOM_BASELINES]
    return out
