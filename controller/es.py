"""CMA-ES for C: a thin wrapper of pycma with the authors' settings (ORIGINAL-SPEC-DETAILED section 8; authors'
`es.py:86-132`, `train.py:299-380`).

- ``cma.CMAEvolutionStrategy(zeros(N), sigma_init, {'popsize': population_size})``: x0 = 0, σ0 = 0.1, pop 64,
  every other option pycma's default (the authors set only popsize).
- ``tell`` minimises :func:`authors_cost` = -(fitness + weight_decay * mean(θ²)): the authors' "weight decay" with
  their sign (it rewards larger weights; ~0.005 in size, negligible; README "Deviations" keeps it on purpose).
- Workers evaluate θ rounded to 4 decimals (:func:`round_params`, the authors' int32 θ·10000 transport) while CMA
  is told about the unrounded candidates.
- Rollout seeds per generation (:class:`SeedStream`): P/2 seeds drawn from a seeded RNG, used twice, so candidates
  i and i + P/2 share a seed (the authors' "antithetic" seeds; CMA itself is not mirrored). With
  ``es.shared_tracks`` one seed serves the whole generation (common random numbers; off by default:
  reports/results/carracing-shared-tracks).

pycma samples with numpy's *global* RNG, so :meth:`CMAES.state` stores ``np.random.get_state()`` beside
``pickle_dumps()``; restoring both gives the same next ``ask()`` after a kill.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass

import cma
import numpy as np

from common.seeds import TRAINING

# Training episode seeds live in the training range of common/seeds.py, apart from collection, selection and test.
TRAIN_SEED_LOW, TRAIN_SEED_HIGH = TRAINING.low, TRAINING.high


def authors_cost(fitness, params, weight_decay: float) -> np.ndarray:
    """The value CMA minimises: -(fitness + weight_decay * mean_j θ_j²), as the authors' `es.py:23-25,114-119`.

    The authors' "weight decay" is ``l2 = -weight_decay * mean(θ²)`` and ``cost = -fitness + l2``, i.e. the
    penalty has the wrong sign and rewards larger weights. We keep their sign (README "Deviations" lists it).

    Args:
        fitness: [P] candidate fitnesses (higher is better).
        params: [P, N] the candidates (unrounded, as told to CMA).
        weight_decay: the coefficient (authors 0.01).
    Returns:
        [P] float64 costs for ``cma.tell``.
    """
    fitness = np.asarray(fitness, np.float64)
    params = np.asarray(params, np.float64)
    return -(fitness + weight_decay * np.mean(params * params, axis=1))


def round_params(params) -> np.ndarray:
    """θ rounded to 4 decimals, as the authors' workers received it (`train.py:151-168`), float32."""
    return np.round(np.asarray(params, np.float64), 4).astype(np.float32)


class SeedStream:
    """Per-generation rollout seeds from a seeded RNG, shared by candidates i and i + P/2 (`train.py:304-306`).

    Its state (``state()`` / ``from_state``) is JSON-serialisable and saved with the CMA state every generation.
    """

    def __init__(self, seed: int):
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def generation_seeds(self, population_size: int, shared: bool = False) -> np.ndarray:
        """[P] int64 seeds in [TRAIN_SEED_LOW, 2**31 - 1); seeds[i] == seeds[i + ceil(P/2)], or all equal when
        ``shared`` (one draw per generation instead of P/2)."""
        half = 1 if shared else -(-population_size // 2)
        seeds = self.rng.integers(TRAIN_SEED_LOW, TRAIN_SEED_HIGH - 10_000, size=half, dtype=np.int64)
        return np.resize(seeds, population_size)  # repeats the drawn seeds: [s0..s(h-1), s0..]

    def state(self) -> dict:
        return self.rng.bit_generator.state

    @classmethod
    def from_state(cls, state: dict) -> "SeedStream":
        stream = cls(0)
        stream.rng.bit_generator.state = state
        return stream


def episode_seeds(candidate_seed: int, num_rollouts: int) -> list[int]:
    """The seeds of one candidate's episodes in the real env: candidate_seed + k, k < num_rollouts.

    (The authors seeded the env once per candidate and ran its 16 episodes back to back; gymnasium seeds each
    reset, so episode k gets its own derived seed.)
    """
    return [int(candidate_seed) + k for k in range(num_rollouts)]


@dataclass(frozen=True)
class Generation:
    """Summary of one told generation (named, never indexed)."""

    fitness_mean: float
    fitness_min: float
    fitness_max: float
    fitness_std: float
    sigma: float
    cma_std_mean: float


class CMAES:
    """The authors' CMA-ES on a flat parameter vector (estool's ask / tell vocabulary, named results).

    Args:
        num_params: N, length of the parameter vector.
        sigma_init: σ0 (authors 0.1).
        population_size: λ (authors 64).
        weight_decay: coefficient in :func:`authors_cost` (authors 0.01).
        seed: pycma's seed (it seeds numpy's global RNG); None lets pycma choose.
        mean_init: x0, the first mean; None: zeros, as the authors.
    """

    def __init__(self, num_params: int, sigma_init: float = 0.1, population_size: int = 64,
                 weight_decay: float = 0.01, seed: int | None = None, mean_init=None):
        self.num_params = int(num_params)
        self.weight_decay = float(weight_decay)
        options = {"popsize": int(population_size), "verbose": -9}
        if seed is not None:
            options["seed"] = int(seed) + 1  # pycma treats seed 0 as "use the clock"
        x0 = np.zeros(self.num_params) if mean_init is None else np.asarray(mean_init, np.float64)
        if x0.shape != (self.num_params,):
            raise ValueError(f"mean_init must have {self.num_params} values, got shape {x0.shape}")
        self.es = cma.CMAEvolutionStrategy(x0, float(sigma_init), options)

    @property
    def population_size(self) -> int:
        return int(self.es.popsize)

    def ask(self) -> np.ndarray:
        """[P, N] float64 candidates (unrounded; evaluate ``round_params`` of them)."""
        return np.asarray(self.es.ask(), np.float64)

    def tell(self, candidates: np.ndarray, fitness) -> Generation:
        """Update CMA with the fitness (higher is better) of the candidates returned by the last ``ask``."""
        fitness = np.asarray(fitness, np.float64)
        self.es.tell(list(np.asarray(candidates, np.float64)), authors_cost(fitness, candidates, self.weight_decay))
        return Generation(float(fitness.mean()), float(fitness.min()), float(fitness.max()), float(fitness.std()),
                          self.sigma, float(np.mean(self.stds)))

    @property
    def mean(self) -> np.ndarray:
        """The distribution mean (pycma ``result.xfavorite``; the authors' ``current_param``)."""
        return np.asarray(self.es.result.xfavorite, np.float64)

    @property
    def stds(self) -> np.ndarray:
        """Per-coordinate standard deviations σ·sqrt(diag C) (``result.stds``)."""
        return np.asarray(self.es.result.stds, np.float64)

    @property
    def sigma(self) -> float:
        return float(self.es.sigma)

    @property
    def covariance_model(self) -> str:
        """Which covariance model pycma runs: "full" or "diagonal" (for the log and the report)."""
        diag = getattr(self.es.sm, "__class__", type(None)).__name__
        return "diagonal" if "Diag" in diag or self.es.opts.get("CMA_diagonal") is True else f"full ({diag})"

    # ---------------------------------------------------------------- resume
    def state(self) -> bytes:
        """CMA (pickled) plus numpy's global RNG state, which pycma samples from.

        Plain ``pickle.dumps``, not pycma's ``pickle_dumps``: that one catches every exception of pickling to retry
        without ``objective_function``, so a SIGTERM arriving there (SystemExit, common/cli.py) came out as an
        AttributeError (exit 1, no stage time recorded). The bytes are the same when pickling succeeds."""
        return pickle.dumps({"cma": pickle.dumps(self.es), "numpy_global_rng": np.random.get_state(),
                             "weight_decay": self.weight_decay, "num_params": self.num_params})

    @classmethod
    def from_state(cls, data: bytes) -> "CMAES":
        """Rebuild from :meth:`state` (only ever from the run's own directory: this unpickles)."""
        blob = pickle.loads(data)
        obj = cls.__new__(cls)
        obj.num_params = blob["num_params"]
        obj.weight_decay = blob["weight_decay"]
        obj.es = pickle.loads(blob["cma"])
        np.random.set_state(blob["numpy_global_rng"])
        return obj
