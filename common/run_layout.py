"""Every path of a run folder, named once.

A run folder (``runs/<experiment>-<preset>/`` by default, or a committed ``reports/results/<name>/``) holds the
data, models, controllers and report of one run. Code asks :class:`RunLayout` for a path instead of spelling it,
so the layout the README documents is the one place it is written. Nothing here touches the disk except
:meth:`RunLayout.controllers` (which lists what exists).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ControllerLayout:
    """``<run>/controller`` or ``<run>/controller-TAG``: one CMA-ES training of C and its evaluations."""

    dir: Path

    @property
    def tag(self) -> str | None:
        return None if self.dir.name == "controller" else self.dir.name.removeprefix("controller-")

    @property
    def best(self) -> Path:  # {"params": [...], "generation": g, ...}: the controller that is evaluated
        return self.dir / "best.json"

    @property
    def es_state(self) -> Path:  # CMA + RNG state, the resume point
        return self.dir / "es_state.pkl"

    @property
    def history(self) -> Path:  # one row per generation
        return self.dir / "history.csv"

    @property
    def eval_history(self) -> Path:  # one row per evaluation of the CMA mean
        return self.dir / "eval_history.csv"

    @property
    def config(self) -> Path:  # the config this controller was trained with
        return self.dir / "config.json"

    @property
    def tensorboard(self) -> Path:
        return self.dir / "tb"

    def evaluation(self, dream: bool, temperature: float | None, seed: int, default_seed: int,
                   backend: str = "gymnasium", split: str = "test") -> Path:
        """evaluation_real.json / evaluation_dream_tau{τ:.2f}.json for the default first seed; another first
        seed gets its own file (..._seed{S}.json), so re-scoring never overwrites the reported score. A real
        score in another env than the reference gymnasium one names it (evaluation_real_envpool.json); a score
        on the validation seeds is ..._validation.json."""
        stem = f"evaluation_dream_tau{temperature:.2f}" if dream else "evaluation_real"
        if not dream and backend != "gymnasium":
            stem += f"_{backend}"
        if split == "validation":
            return self.dir / f"{stem}_validation.json"
        return self.dir / (f"{stem}.json" if seed == default_seed else f"{stem}_seed{seed}.json")


@dataclass(frozen=True)
class RunLayout:
    """The paths of one run folder; ``RunLayout(run_dir)``."""

    root: Path

    def __init__(self, root: str | os.PathLike):
        object.__setattr__(self, "root", Path(root))

    # --- run-wide files
    @property
    def config(self) -> Path:  # the resolved config (experiment, preset, every field)
        return self.root / "config.json"

    @property
    def timings(self) -> Path:  # wall and CPU seconds per stage
        return self.root / "timings.json"

    @property
    def reproduce_log(self) -> Path:  # every stage's output under `reports reproduce`
        return self.root / "reproduce.log"

    @property
    def choice(self) -> Path:  # {"tag", "folder", "temperature", ...}: the final agent among the candidate Cs
        return self.root / "choice.json"

    @property
    def iterate_info(self) -> Path:  # {"from": PREV, "round": k}: round k of iterative training
        return self.root / "iterate.json"

    def round_dir(self, k: int) -> Path:  # round k of iterative training (round 0: the run folder itself)
        return self.root if k == 0 else self.root / f"round{k}"

    # --- data
    @property
    def rollouts(self) -> Path:  # rollouts/episode_NNNNNN.npz: frames, actions, rewards, done per episode
        return self.root / "rollouts"

    @property
    def series(self) -> Path:  # series/episode_NNNNNN.npz: V's mu, logvar per frame, actions, done
        return self.root / "series"

    @property
    def initial_z(self) -> Path:  # first-frame (mu, logvar) rows: where the dream starts
        return self.series / "initial_z.npz"

    # --- V
    @property
    def vae_dir(self) -> Path:
        return self.root / "vae"

    @property
    def vae_model(self) -> Path:  # Keras native file: resume and the project's own code
        return self.vae_dir / "model.keras"

    @property
    def vae_saved_model(self) -> Path:  # SavedModel with encode / decode signatures
        return self.vae_dir / "saved_model"

    @property
    def vae_backup(self) -> Path:  # mid-epoch resume state
        return self.vae_dir / "backup"

    @property
    def vae_tensorboard(self) -> Path:
        return self.vae_dir / "tb"

    @property
    def vae_train_state(self) -> Path:  # {"complete": true, "epochs": ...} once V's training finished
        return self.vae_dir / "train_state.json"

    @property
    def vae_reconstruction(self) -> Path:  # real frames over V's reconstructions
        return self.vae_dir / "reconstruction.png"

    # --- M
    @property
    def rnn_dir(self) -> Path:
        return self.root / "rnn"

    @property
    def rnn_model(self) -> Path:
        return self.rnn_dir / "model.keras"

    @property
    def rnn_saved_model(self) -> Path:  # SavedModel with step / initial_state signatures
        return self.rnn_dir / "saved_model"

    @property
    def rnn_backup(self) -> Path:
        return self.rnn_dir / "backup"

    @property
    def rnn_tensorboard(self) -> Path:
        return self.rnn_dir / "tb"

    @property
    def rnn_history(self) -> Path:  # one row per logged training step
        return self.rnn_dir / "history.csv"

    @property
    def rnn_done(self) -> Path:  # written when M's training reached its steps
        return self.rnn_dir / "done.json"

    @property
    def rnn_diagnostics(self) -> Path:  # death recall, false alarms, z NLL (`python -m rnn diagnose`)
        return self.rnn_dir / "diagnostics.json"

    # --- C
    def controller(self, tag: str | None = None) -> ControllerLayout:
        return ControllerLayout(self.root / ("controller" if not tag else f"controller-{tag}"))

    def controllers(self) -> list[ControllerLayout]:
        """The controller folders there are: ``controller`` first, then tagged ones by name."""
        found = [ControllerLayout(p) for p in self.root.glob("controller*")
                 if p.is_dir() and (p.name == "controller" or p.name.startswith("controller-"))]
        return sorted(found, key=lambda c: (c.tag is not None, c.dir.name))

    # --- report
    @property
    def report(self) -> Path:  # REPORT.md, figures, results.json
        return self.root / "report"

    @property
    def report_md(self) -> Path:
        return self.report / "REPORT.md"

    @property
    def results_json(self) -> Path:
        return self.report / "results.json"

    @property
    def diagnosis(self) -> Path:  # saved outputs of bench/dream_gap.py and friends
        return self.root / "diagnosis"

    def report_video(self, mode: str) -> Path:  # a short GIF of the agent: "real" (frame | V(frame)) or "dream"
        return self.report / f"agent_{mode}.gif"
