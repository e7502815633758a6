"""The paper's figures, redrawn from a run's own files (matplotlib, Agg backend, PNG files).

- :func:`training_curve_figure`: the CMA-ES curve as the authors' ``plot_training_progress.ipynb`` draws it
  (fitness mean, worst and best per generation, and the eval score of the CMA mean every ``eval_every``
  generations), our run beside the authors' published log.
- :func:`score_histogram_figure`: the paper's histogram of the final agent's scores, with mean ± std.
- :func:`frame_strip_figure`: rows of frames (the Doom agent in the dream and in the real game).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402

from common import atomic  # noqa: E402

DPI = 100


def _save(fig, out_path: str | os.PathLike) -> Path:
    """Write the figure atomically (a killed report never leaves half a PNG)."""
    import io

    out_path = Path(out_path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    atomic.write_bytes(out_path, buffer.getvalue())
    return out_path


def _column(rows: Sequence[dict], name: str) -> np.ndarray:
    return np.array([row[name] for row in rows], dtype=np.float64)


def _curve_panel(ax, history: Sequence[dict], evals: Sequence[dict], title: str,
                 threshold: float | None, restart_at: int = 0) -> None:
    gen = _column(history, "generation")
    if restart_at:
        ax.axvline(restart_at + 0.5, color="tab:orange", ls=":", lw=1, label=f"restart after generation {restart_at}")
    ax.plot(gen, _column(history, "fitness_max"), color="tab:green", lw=1, label="best (max)")
    ax.plot(gen, _column(history, "fitness_mean"), color="tab:blue", lw=1, label="mean")
    ax.plot(gen, _column(history, "fitness_min"), color="tab:gray", lw=1, label="worst (min)")
    if evals:
        marker = "o" if len(evals) < 40 else None
        ax.plot(_column(evals, "generation"), _column(evals, "eval_score"), color="tab:red", lw=1.5,
                marker=marker, ms=3, label="eval score of the CMA mean")
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=0.8, label=f"solved ({threshold:g})")
    if len(gen) == 1:  # one point draws no line: show it
        ax.scatter(gen, _column(history, "fitness_mean"), color="tab:blue", s=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("generation")
    ax.set_ylabel("fitness (mean return of a candidate)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def training_curve_figure(history: Sequence[dict], evals: Sequence[dict], out_path: str | os.PathLike, *,
                          reference_history: Sequence[dict] | None = None,
                          reference_evals: Sequence[dict] | None = None,
                          title: str = "ours", reference_title: str = "authors (published log)",
                          threshold: float | None = None, restart_at: int = 0) -> Path:
    """Our CMA-ES curve and, beside it, the authors' (two panels, x = generation).

    Args:
        history: rows of ``history.csv`` (generation, fitness_mean, fitness_min, fitness_max, ...).
        evals: rows of ``eval_history.csv`` (generation, eval_score, ...); may be empty.
        out_path: PNG path.
        reference_history, reference_evals: the authors' rows (same column names); None: one panel.
        threshold: a horizontal "solved" line (CarRacing 900), or None.
        restart_at: the generation after which our CMA-ES restarted (es.restart_at; a vertical line), or 0.
    """
    panels = 2 if reference_history else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False, sharey=True)  # same scale: comparable
    _curve_panel(axes[0, 0], history, evals, title, threshold, restart_at)
    if reference_history:
        _curve_panel(axes[0, 1], reference_history, reference_evals or [], reference_title, threshold)
    return _save(fig, out_path)


def score_histogram_figure(scores: Sequence[float], out_path: str | os.PathLike, *, mean: float, std: float,
                           title: str, xlabel: str = "score", threshold: float | None = None,
                           marks: Sequence[tuple[float, str]] = ()) -> Path:
    """Histogram of per-episode scores with the mean and mean ± std marked (the paper's histogram figures), plus
    the solved threshold and ``marks`` (value, label): published scores to compare with."""
    scores = np.asarray(scores, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bins = min(20, max(5, len(scores) // 3))
    ax.hist(scores, bins=bins, color="tab:blue", alpha=0.75, edgecolor="white")
    ax.axvline(mean, color="tab:red", lw=1.5, label=f"mean {mean:.1f} ± {std:.1f} (std)")
    ax.axvspan(mean - std, mean + std, color="tab:red", alpha=0.12)
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", lw=0.8, label=f"solved ({threshold:g})")
    for (value, label), colour in zip(marks, ("tab:green", "tab:gray", "tab:purple")):
        ax.axvline(value, color=colour, ls=":", lw=1.5, label=label)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("episodes")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    return _save(fig, out_path)


def pick_frames(frames: Sequence[np.ndarray], count: int) -> tuple[list[np.ndarray], list[int]]:
    """``count`` frames evenly spaced over the episode (first and last included) and their step indices."""
    if not frames:
        return [], []
    steps = sorted(set(np.linspace(0, len(frames) - 1, num=min(count, len(frames))).round().astype(int)))
    return [frames[i] for i in steps], steps


def frame_strip_figure(rows: Sequence[tuple[str, Sequence[np.ndarray], Sequence[int]]],
                       out_path: str | os.PathLike) -> Path:
    """One strip per (label, frames, step indices): the frames side by side, their steps written below.

    Rows may have frames of different widths (the real game shows frame | reconstruction, the dream one frame).
    """
    strips = []
    for label, frames, steps in rows:
        gap = np.full((frames[0].shape[0], 3, 3), 255, np.uint8)
        parts = [p for f in frames for p in (np.asarray(f, np.uint8), gap)][:-1]
        strips.append((label, np.concatenate(parts, axis=1), frames[0].shape[1] + 3, steps))
    width = max(strip.shape[1] for _, strip, _, _ in strips)
    fig, axes = plt.subplots(len(strips), 1, figsize=(width / 60, 1.5 * len(strips) + 0.3), squeeze=False)
    for ax, (label, strip, pitch, steps) in zip(axes[:, 0], strips):
        ax.imshow(strip, interpolation="nearest")
        ax.set_xticks([pitch * i + (pitch - 3) / 2 for i in range(len(steps))])
        ax.set_xticklabels([f"step {s}" for s in steps], fontsize=7)
        ax.set_yticks([])
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_title(label.replace("\n", ", "), fontsize=9, loc="left")
    fig.tight_layout()
    return _save(fig, out_path)
