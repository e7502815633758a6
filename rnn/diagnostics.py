"""How well M predicts, measured on recorded episodes: the numbers behind a dream-vs-real gap.

Each series episode is run through M from the zero state with the recorded actions (teacher forcing), as in
training: input frame t, targets z[t+1] and "frame t is the episode's last" (the death label: training labels step
t with the restart flag of frame t+1, and the next episode's first frame follows the fatal frame). Per episode
that ended in death (``done`` on its last frame):

- ``death_recall_last``: M's death probability > 0.5 on the fatal frame (what ends a dream episode);
- ``death_recall_window``: > 0.5 on one of the last ``window`` frames;
- ``false_alarm_rate``: share of the other frames (more than ``window`` frames before the end) with probability
  > 0.5: in the dream each of them would end the episode early;
- ``episodes_with_false_alarm``: share of episodes with at least one such frame;
- ``z_nll``: the mean per-dimension mixture NLL of z[t+1] (z sampled from the stored posterior, fixed seed),
  the training z loss at τ = 1.

The episodes are the training data (the authors kept none aside), so these are fit numbers, not held-out ones.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from envs.episodes import list_episode_files, load_series
from rnn.model import mdn_nll
from vae.model import sample_z


def write_diagnostics(run_dir: str | Path, cfg, episodes: int = 200) -> dict:
    """:func:`diagnose` the run's M on its series; write and return ``<run>/rnn/diagnostics.json``."""
    from common import atomic
    from common.run_layout import RunLayout
    from rnn.export import load_rnn

    layout = RunLayout(run_dir)
    result = diagnose(load_rnn(run_dir), layout.series, cfg.vae.z_size, cfg.env.action_size, episodes=episodes)
    atomic.write_json(layout.rnn_diagnostics, result)
    return result


def diagnose(model, series_dir: str | Path, z_size: int, action_size: int, episodes: int = 200,
             window: int = 5, seed: int = 0) -> dict:
    """Death recall, false alarms and z NLL of ``model`` (an MDNRNN with a death head) over the first
    ``episodes`` series files of ``series_dir``."""
    if not model.predict_death:
        raise ValueError("death diagnostics need M's death head (Doom)")
    files = list_episode_files(series_dir)[:episodes]
    if not files:
        raise FileNotFoundError(f"no series files in {series_dir}")
    last_hits, window_hits, alarm_episodes, deaths = 0, 0, 0, 0
    alarms = other_frames = 0
    nll_sum = nll_count = 0.0
    # One trace for all lengths; M's loops are explicit tf.while_loops, so autograph has nothing to convert.
    unroll = tf.function(lambda z, a, r: model.unroll(z, a, r), reduce_retracing=True, autograph=False)
    for i, path in enumerate(files):
        ep = load_series(path, z_size, action_size)
        t = len(ep["mu"])
        if t < 2:
            continue
        z = sample_z(tf.constant(ep["mu"]), tf.constant(ep["logvar"]), tf.constant([seed, i], tf.int32))
        restart = np.zeros(t, np.float32)
        restart[0] = 1.0
        out, _, _ = unroll(z[None], tf.constant(ep["action"][None]), tf.constant(restart[None]))
        nll = mdn_nll(out.logmix[0, :-1], out.mean[0, :-1], out.logstd[0, :-1], z[1:])
        nll_sum += float(tf.reduce_sum(nll))
        nll_count += float(tf.size(nll))
        dead = out.death_logit[0].numpy() > 0.0  # [t]: frame k predicted to be the last
        if not bool(ep["done"][-1]):
            continue  # cut by the step cap: no death to recall
        deaths += 1
        last_hits += int(dead[-1])
        window_hits += int(dead[-window:].any())
        early = dead[:max(0, t - window)]
        alarms += int(early.sum())
        other_frames += early.size
        alarm_episodes += int(early.any())
    return {"episodes": len(files), "episodes_ending_in_death": deaths, "window": window,
            "death_recall_last": last_hits / deaths if deaths else None,
            "death_recall_window": window_hits / deaths if deaths else None,
            "false_alarm_rate": alarms / other_frames if other_frames else None,
            "episodes_with_false_alarm": alarm_episodes / deaths if deaths else None,
            "z_nll": nll_sum / nll_count if nll_count else None}
