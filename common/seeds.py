"""The four episode-seed ranges, written once and never overlapping (a track or game seen in one role is never
seen in another):

| role | range | who draws from it |
|---|---|---|
| collection | [0, 10,000,000) | ``envs collect``: collect.seed + i (+ k * 1,000,003 for a retried Doom episode) |
| test | [10,000,000, 100,000,000) | ``controller evaluate``: evaluate.seed + i; scored once, for the final agent |
| selection | [100,000,000, 2**30) | CMA-ES's periodic evaluation of its mean (which controller becomes |
|  |  | best.json); from 500,000,000: ``controller evaluate --evaluate.split validation`` (e.g. each Doom round's C) |
| training | [2**30, 2**31 - 1) | CMA-ES candidates' episodes (:class:`controller.es.SeedStream`) |

The 10,000,000.., 20,000,000.. and 30,000,000.. test seeds have scored Doom controllers already
(reports/results/doom-iter2 and its EXPERIMENT.md), so the Doom experiment's final agent is scored from 40,000,000.
Dream rollouts take their noise seeds from the same roles.
"""
from __future__ import annotations

from dataclasses import dataclass

from common.config import ConfigError


@dataclass(frozen=True)
class SeedRange:
    role: str
    low: int
    high: int  # exclusive

    def check(self, first: int, count: int, what: str) -> None:
        """ConfigError unless seeds first .. first + count - 1 all lie in this range."""
        if count < 1 or first < self.low or first + count > self.high:
            raise ConfigError(f"{what}: seeds {first}..{first + count - 1} leave the {self.role} range "
                              f"[{self.low:,}, {self.high:,}) (common/seeds.py keeps the four roles apart)")

    def __contains__(self, seed: int) -> bool:
        return self.low <= int(seed) < self.high


COLLECTION = SeedRange("collection", 0, 10_000_000)
TEST = SeedRange("test", 10_000_000, 100_000_000)
SELECTION = SeedRange("selection", 100_000_000, 2**30)
TRAINING = SeedRange("training", 2**30, 2**31 - 1)
RANGES = (COLLECTION, TEST, SELECTION, TRAINING)


def selection_seeds(count: int) -> list[int]:
    """The fixed seeds of every evaluation of the CMA mean, from the start of the selection range so they never
    meet a collection track (the authors used 0..63, 16 episodes each)."""
    SELECTION.check(SELECTION.low, count, "es.eval_rollouts")
    return list(range(SELECTION.low, SELECTION.low + count))


# The real-game validation seeds; CMA-ES's own selection seeds start at the range's start.
VALIDATION_FIRST = 500_000_000


def validation_seeds(count: int) -> list[int]:
    """The fixed real-game seeds that score candidate agents against each other (never test seeds)."""
    SELECTION.check(VALIDATION_FIRST, count, "validation episodes")
    return list(range(VALIDATION_FIRST, VALIDATION_FIRST + count))


def test_seeds(first: int, count: int) -> list[int]:
    """The final scoring seeds evaluate.seed .. (ConfigError outside the test range)."""
    TEST.check(first, count, f"evaluate.seed {first}")
    return list(range(first, first + count))
