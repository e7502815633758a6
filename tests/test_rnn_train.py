"""M's training: batches as the authors, losses, resume after interruption, SavedModel export, CLI."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from common.config import make_config
from envs.episodes import episode_path, save_series
from rnn.data import RandomEpisodeBatches, StreamBatches, scan_series
from rnn.export import load_rnn
from rnn.model import MDNRNN, mdn_nll, sample_mdn
from rnn.train import Trainer, compute_losses, train

ROOT = Path(__file__).resolve().parents[1]


def _write_series(folder, lengths, nz, na, seed=0):
    rng = np.random.default_rng(seed)
    for i, t in enumerate(lengths):
        mu = np.full((t, nz), float(i), np.float32) + np.arange(t, dtype=np.float32)[:, None] * 1e-3
        save_series(episode_path(folder, i), mu, rng.normal(size=(t, nz)) * 0.1 - 3,
                    rng.uniform(-1, 1, (t, na)), np.zeros(t, bool))


def _cfg(experiment, **over):
    base = {"rnn.hidden_size": 16}
    if experiment == "doom":
        base.update({"vae.z_size": 4, "rnn.sequence_length": 10, "rnn.batch_size": 3})
    else:
        base.update({"vae.z_size": 4, "rnn.sequence_length": 12, "rnn.batch_size": 3, "rnn.steps": 6})
    base.update(over)
    return make_config(experiment, "tiny", base)


def test_stream_batches_follow_the_authors_layout(tmp_path):
    lengths = [25, 7, 30, 14, 19]
    _write_series(tmp_path, lengths, 2, 1)
    files, lens = scan_series(tmp_path, 2, 1)
    data = StreamBatches(files, lens, 2, 1, batch_size=3, chunk_length=10, seed=0)
    assert data.batches_per_epoch == sum(lengths) // 30
    order = np.random.default_rng([0, 1]).permutation(5)
    stream = np.concatenate([np.full(lengths[i], i) for i in order])
    restart = np.concatenate([np.eye(1, lengths[i], 0)[0] for i in order])
    row_frames = data.batches_per_epoch * 10
    for k in range(data.batches_per_epoch):
        b = data.batch(1, k)
        for row in range(3):
            lo = row * row_frames + k * 10
            np.testing.assert_array_equal(np.floor(b["mu"][row, :, 0] + 1e-6), stream[lo:lo + 10])
            np.testing.assert_array_equal(b["restart"][row], restart[lo:lo + 10])
    assert not np.array_equal(data.batch(0, 0)["mu"], data.batch(1, 0)["mu"])  # reshuffled each epoch


def test_random_episode_batches_distinct_episodes_and_short_episode_mask(tmp_path):
    _write_series(tmp_path, [20, 8, 20, 20], 2, 3)
    files, lens = scan_series(tmp_path, 2, 3)
    data = RandomEpisodeBatches(files, lens, 2, 3, batch_size=4, sequence_length=12, seed=0)
    b = data.batch(5)
    assert b["mu"].shape == (4, 13, 2)
    picked = sorted(int(round(v)) for v in b["mu"][:, 0, 0])
    assert picked == [0, 1, 2, 3]
    short = int(np.flatnonzero(np.round(b["mu"][:, 0, 0]) == 1)[0])
    np.testing.assert_array_equal(b["mask"][short], [1] * 8 + [0] * 5)
    np.testing.assert_array_equal(data.batch(5)["mu"], b["mu"])  # seeded by step


def test_losses_are_the_authors():
    m = MDNRNN(3, 1, 8, 5, predict_death=True, seed=0)
    rng = np.random.default_rng(0)
    B, F = 2, 6
    mu = tf.constant(rng.normal(size=(B, F, 3)), tf.float32)
    logvar = tf.fill([B, F, 3], -50.0)  # z = mu (noise negligible)
    action = tf.constant(rng.normal(size=(B, F, 1)), tf.float32)
    restart = np.zeros((B, F), "f")
    restart[0, 0] = restart[0, 4] = restart[1, 2] = 1
    mask = tf.ones([B, F])
    total, z_loss, death_loss, _, _ = compute_losses(m, mu, logvar, action, tf.constant(restart), mask,
                                                     tf.zeros([B, 8]), tf.zeros([B, 8]), tf.constant([0, 0]), 10.0)
    out, _, _ = m.unroll(mu[:, :-1], action[:, :-1], restart[:, :-1])
    want_z = np.mean(mdn_nll(out.logmix, out.mean, out.logstd, mu[:, 1:]))
    x, y = out.death_logit.numpy(), restart[:, 1:]
    bce = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    want_death = np.mean(bce * (1 + 9 * y))
    np.testing.assert_allclose([z_loss, death_loss, total], [want_z, want_death, want_z + want_death], rtol=1e-5)


def test_gradients_clipped_elementwise_and_lr_schedule():
    cfg = _cfg("doom", **{"rnn.decay_rate": 0.5, "rnn.learning_rate": 1e-2, "rnn.min_learning_rate": 1e-3,
                          "rnn.grad_clip": 1e-9})
    t = Trainer(cfg)
    before = [v.numpy().copy() for v in t.model.trainable_variables]
    batch = {"mu": np.ones((3, 10, 4), "f"), "logvar": np.zeros((3, 10, 4), "f"), "action": np.zeros((3, 10, 1), "f"),
             "restart": np.zeros((3, 10), "f"), "mask": np.ones((3, 10), "f")}
    lrs = [float(t.train_step(batch, True)[3]) for _ in range(3)]
    np.testing.assert_allclose(lrs, [1e-2, 9e-3 * 0.5 + 1e-3, 9e-3 * 0.25 + 1e-3], rtol=1e-6)
    # with a clip of 1e-9, Adam's first step still moves every weight by ~lr (sign), never more
    for v, b in zip(t.model.trainable_variables, before):
        assert np.max(np.abs(v.numpy() - b)) <= 3 * 1e-2 + 1e-6


def _read_history(run):
    with open(run / "rnn" / "history.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("experiment", ["doom", "carracing"])
def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path, experiment):
    cfg = _cfg(experiment)
    lengths = [25, 17, 30, 14, 19, 22]
    runs = {}
    for name in ("whole", "split"):
        run = tmp_path / name
        _write_series(run / "series", lengths, cfg.vae.z_size, cfg.env.action_size)
        runs[name] = run
    info = train(cfg, runs["whole"], progress=False, export=False)
    assert train(cfg, runs["split"], progress=False, export=False, stop_after=5) == {"stopped_at": 5}
    assert len(_read_history(runs["split"])) == 5
    assert not (runs["split"] / "rnn" / "model.keras").exists()
    info2 = train(cfg, runs["split"], progress=False, export=False)  # a fresh Trainer: as after a kill
    assert info2["steps"] == info["steps"] > 5
    a, b = load_rnn(runs["whole"]), load_rnn(runs["split"])
    for va, vb in zip(a.weights, b.weights):
        np.testing.assert_allclose(va.numpy(), vb.numpy(), rtol=1e-5, atol=1e-6)
    ha, hb = _read_history(runs["whole"]), _read_history(runs["split"])
    assert [r["step"] for r in hb] == [str(s) for s in range(1, info["steps"] + 1)]
    np.testing.assert_allclose([float(r["loss"]) for r in ha], [float(r["loss"]) for r in hb], rtol=1e-5)
    # already complete: fast exit
    assert train(cfg, runs["split"], progress=False)["steps"] == info["steps"]


def test_nan_guard_skips_non_finite_steps(tmp_path):
    cfg = _cfg("doom")
    t = Trainer(cfg)
    before = [v.numpy().copy() for v in t.model.trainable_variables]
    batch = {"mu": np.full((3, 10, 4), np.nan, "f"), "logvar": np.zeros((3, 10, 4), "f"),
             "action": np.zeros((3, 10, 1), "f"), "restart": np.zeros((3, 10), "f"), "mask": np.ones((3, 10), "f")}
    applied = t.train_step(batch, True)[4]
    assert not bool(applied)
    for v, b in zip(t.model.trainable_variables, before):
        np.testing.assert_array_equal(v.numpy(), b)


@pytest.mark.parametrize("predict_death", [True, False])
def test_saved_model_matches_keras_and_serves_without_project_code(tmp_path, predict_death):
    from rnn.export import export_saved_model
    m = MDNRNN(4, 2, 8, 5, predict_death=predict_death, seed=4)
    path = export_saved_model(m, tmp_path / "saved_model")
    rng = np.random.default_rng(0)
    z, a = rng.normal(size=(3, 4)).astype("f"), rng.normal(size=(3, 2)).astype("f")
    h, c = rng.normal(size=(3, 8)).astype("f"), rng.normal(size=(3, 8)).astype("f")
    restart = np.array([0, 1, 0], "f")
    np.savez(tmp_path / "inputs.npz", z=z, a=a, h=h, c=c, restart=restart)
    script = f"""
import numpy as np, tensorflow as tf
d = np.load({str(tmp_path / 'inputs.npz')!r})
m = tf.saved_model.load({str(path)!r})
s = m.signatures["initial_state"](batch_size=tf.constant(3))
assert s["h"].shape == (3, 8) and float(tf.reduce_max(tf.abs(s["c"]))) == 0.0
kw = dict(z=d["z"], action=d["a"], h=d["h"], c=d["c"], temperature=tf.constant(0.7), seed=tf.constant([5, 6]))
if {predict_death}:
    kw["restart"] = d["restart"]
o = m.signatures["step"](**{{k: tf.constant(v) for k, v in kw.items()}})
np.savez({str(tmp_path / 'out.npz')!r}, **{{k: v.numpy() for k, v in o.items()}})
"""
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, env={"TF_CPP_MIN_LOG_LEVEL": "3",
                   "PATH": "/usr/bin:/bin"}, timeout=300)
    got = np.load(tmp_path / "out.npz")
    out, h1, c1 = m.step(z, a, restart if predict_death else None, h, c)
    want_z = sample_mdn(out, 0.7, tf.constant([5, 6]))
    np.testing.assert_allclose(got["z"], want_z, atol=1e-5)
    np.testing.assert_allclose(got["h"], h1, atol=1e-6)
    np.testing.assert_allclose(got["c"], c1, atol=1e-6)
    if predict_death:
        np.testing.assert_allclose(got["death_probability"], tf.sigmoid(out.death_logit), atol=1e-6)
        # restart row 1 behaves as a zero state
        _, h0, _ = m.step(z, a, restart, np.zeros_like(h), np.zeros_like(c))
        np.testing.assert_allclose(got["h"][1], h0[1], atol=1e-6)


def test_cli_summary_prints_the_total_last(tmp_path):
    for experiment, total in (("carracing", "422368"), ("doom", "1678785")):
        res = subprocess.run([sys.executable, "-m", "rnn", "summary", "--experiment", experiment, "--run-dir",
                              str(tmp_path / experiment)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        assert res.stdout.strip().splitlines()[-1] == total
        assert not (tmp_path / experiment).exists()


def test_cli_train_writes_model_history_figure(tmp_path):
    run = tmp_path / "run"
    _write_series(run / "series", [40, 35, 50], 4, 1)
    cmd = [sys.executable, "-m", "rnn", "train", "--experiment", "doom", "--preset", "tiny", "--run-dir", str(run),
           "--vae.z_size", "4", "--rnn.hidden_size", "8", "--rnn.sequence_length", "10", "--rnn.batch_size", "2",
           "--rnn.epochs", "1", "--no-progress"]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert (run / "rnn" / "model.keras").exists() and (run / "rnn" / "saved_model").is_dir()
    assert json.loads((run / "rnn" / "done.json").read_text())["steps"] == 6
    assert "rnn_train" in json.loads((run / "timings.json").read_text())
    from rnn.figures import loss_figure
    assert loss_figure(run, tmp_path / "loss.png").stat().st_size > 1000
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "already trained" in res.stdout


def test_dream_strip_figure(tmp_path):
    from rnn.figures import dream_strip_figure
    from vae.model import ConvVAE
    cfg = _cfg("doom")
    run = tmp_path / "run"
    _write_series(run / "series", [30], cfg.vae.z_size, cfg.env.action_size)
    (run / "vae").mkdir(parents=True)
    ConvVAE(cfg.vae.z_size, 0.5, 0).save(run / "vae" / "model.keras")
    (run / "rnn").mkdir()
    MDNRNN(cfg.vae.z_size, cfg.env.action_size, 16, 5, predict_death=True, seed=0).save(run / "rnn" / "model.keras")
    out = dream_strip_figure(run, cfg, tmp_path / "strip.png", num_frames=4, stride=2)
    assert out.stat().st_size > 1000
