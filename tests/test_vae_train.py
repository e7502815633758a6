"""V's training loop, resume, NaN guard, SavedModel export and series encoding on tiny synthetic rollouts."""
import dataclasses
import json
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from common.config import make_config
from envs import episodes
from vae.export import load_vae
from vae.model import ConvVAE
from vae.train import new_vae

pytestmark = pytest.mark.slow


def tiny_cfg(**overrides):
    values = {"vae.z_size": 4, "vae.batch_size": 10, "vae.epochs": 2, "vae.checkpoint_every": 2,
              "vae.shuffle_buffer": 50, "vae.learning_rate": 1e-3}
    values.update(overrides)
    return make_config("doom", "tiny", values)


def write_blob_rollouts(folder, count=3, length=20, seed=0):
    """Learnable frames: a bright square on a dark background moving along the diagonal."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        obs = np.full((length, 64, 64, 3), 20, np.uint8)
        for t in range(length):
            p = (3 * t + 7 * i) % 48
            obs[t, p:p + 16, p:p + 16] = (200, 120 + 20 * i, 60)
        episodes.save_rollout(episodes.episode_path(folder, i), obs, rng.uniform(-1, 1, (length, 1)),
                              np.ones(length), np.arange(length) == length - 1, 1000 + i)


def fixed_batch_loss(model, frames):
    total, _, _ = model.compute_losses(tf.constant(frames), tf.constant([7, 7]))
    return float(total)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from vae.train import train

    run = tmp_path_factory.mktemp("vae_run")
    write_blob_rollouts(run / "rollouts")
    cfg = tiny_cfg()
    state = train(cfg, run, verbose=0)
    return cfg, run, state


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at_step):
        super().__init__()
        self.at_step = at_step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations) == self.at_step:
            raise KeyboardInterrupt("test interrupt")


class CountSteps(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append(int(self.model.optimizer.iterations))


def test_short_training_lowers_the_loss(trained_run):
    cfg, run, state = trained_run
    with np.load(episodes.episode_path(run / "rollouts", 0)) as data:
        frames = data["obs"][:10].astype(np.float32) / 255.0
    before = fixed_batch_loss(new_vae(cfg), frames)  # same seed, same initial weights
    after = fixed_batch_loss(load_vae(run), frames)
    assert after < before * 0.9, (before, after)
    assert state["complete"] and state["global_step"] == 2 * (60 // 10)
    for name in ("model.keras", "saved_model", "reconstruction.png", "tb"):
        assert (run / "vae" / name).exists(), name
    assert "vae_train" in json.loads((run / "timings.json").read_text())


def test_already_complete_exits_fast(trained_run, capsys):
    from vae.train import train

    cfg, run, _ = trained_run
    counter = CountSteps()
    train(cfg, run, callbacks=(counter,), verbose=0)
    assert counter.steps == [] and "already trained" in capsys.readouterr().out


def test_a_finished_v_without_its_keras_file_is_complete(trained_run, tmp_path):
    from vae.train import is_complete

    cfg, run, _ = trained_run
    published = tmp_path / "copied"  # a finished run copied without the Keras file
    shutil.copytree(run / "vae", published / "vae", ignore=shutil.ignore_patterns("model.keras"))
    assert is_complete(cfg, published)
    assert not is_complete(dataclasses.replace(cfg, vae=dataclasses.replace(cfg.vae, epochs=cfg.vae.epochs + 1)),
                           published)  # more epochs asked for: not done
    shutil.rmtree(published / "vae" / "saved_model")
    assert not is_complete(cfg, published)


def test_saved_model_serves_alone_and_equals_keras(tmp_path):
    from vae.export import export_saved_model

    model = ConvVAE(4, seed=1)
    export_saved_model(model, tmp_path / "saved_model")
    served = tf.saved_model.load(str(tmp_path / "saved_model"))
    x = np.random.default_rng(0).random((5, 64, 64, 3), dtype=np.float32)
    out = served.encode(tf.constant(x))
    mu, logvar = model.encode(x)
    np.testing.assert_allclose(out["mu"].numpy(), np.asarray(mu), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["logvar"].numpy(), np.asarray(logvar), rtol=1e-5, atol=1e-6)
    z = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(served.decode(tf.constant(z))["frames"].numpy(), np.asarray(model.decode(z)),
                               rtol=1e-5, atol=1e-6)


def test_resume_after_interrupt_continues_from_checkpoint(tmp_path, capsys):
    from vae.train import train

    write_blob_rollouts(tmp_path / "rollouts")
    cfg = tiny_cfg()  # 60 frames / batch 10 = 6 steps per epoch, 2 epochs, backup every 2 steps
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path, callbacks=(Interrupt(9),), verbose=0)
    state = json.loads((tmp_path / "vae" / "backup" / "state.json").read_text())
    assert state == {"epoch": 1, "step": 2, "global_step": 8}
    assert not (tmp_path / "vae" / "model.keras").exists()
    counter = CountSteps()
    final = train(cfg, tmp_path, callbacks=(counter,), verbose=0)
    assert "resuming from" in capsys.readouterr().out
    assert counter.steps == [9, 10, 11, 12]  # only the steps after the checkpoint, not from scratch
    assert final["global_step"] == 12 and not (tmp_path / "vae" / "backup" / "state.json").exists()
    assert json.loads((tmp_path / "timings.json").read_text())["vae_train"]["parts"] == 2


def test_nan_guard_keeps_last_good_checkpoint(tmp_path):
    from vae.train import TrainingDiverged, train

    class Poison(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations) == 3:
                w = self.model.decoder.get_layer("dec_fc").kernel
                w.assign(np.full(w.shape, np.nan, np.float32))

    write_blob_rollouts(tmp_path / "rollouts")
    with pytest.raises(TrainingDiverged, match="last good checkpoint"):
        train(tiny_cfg(), tmp_path, callbacks=(Poison(),), verbose=0)
    state = json.loads((tmp_path / "vae" / "backup" / "state.json").read_text())
    assert state["global_step"] == 2
    good = keras.models.load_model(tmp_path / "vae" / "backup" / "checkpoint.keras", compile=False)
    assert all(np.all(np.isfinite(np.asarray(w))) for w in good.weights)
    assert not (tmp_path / "vae" / "model.keras").exists()


def test_encode_shapes_determinism_and_resume(trained_run, tmp_path):
    from vae.encode import encode

    cfg, run, _ = trained_run
    run2 = tmp_path / "run"
    shutil.copytree(run, run2)
    shutil.rmtree(run2 / "series", ignore_errors=True)
    result = encode(cfg, run2, progress=False)
    assert result == {"episodes": 3, "encoded": 3, "skipped": 0}
    model = load_vae(run2)
    for i in range(3):
        series = episodes.load_series(episodes.episode_path(run2 / "series", i), 4, 1)
        rollout = episodes.load_rollout(episodes.episode_path(run2 / "rollouts", i), 1)
        assert series["mu"].shape == (20, 4) and series["logvar"].shape == (20, 4)
        np.testing.assert_array_equal(series["action"], rollout["action"])
        np.testing.assert_array_equal(series["done"], rollout["done"])
        mu, _ = model.encode(rollout["obs"].astype(np.float32) / 255.0)
        np.testing.assert_allclose(series["mu"], np.asarray(mu), rtol=1e-4, atol=1e-5)  # compiled == eager
    initial = np.load(run2 / "series" / "initial_z.npz")
    assert initial["mu"].shape == (3, 4) and initial["logvar"].dtype == np.float32
    first = episodes.load_series(episodes.episode_path(run2 / "series", 0), 4, 1)
    np.testing.assert_array_equal(initial["mu"][0], first["mu"][0])
    # resumable: nothing to redo; a re-encode of a deleted file gives exactly the same mu (deterministic)
    assert encode(cfg, run2, progress=False)["encoded"] == 0
    before = episodes.load_series(episodes.episode_path(run2 / "series", 1), 4, 1)
    episodes.episode_path(run2 / "series", 1).unlink()
    assert encode(cfg, run2, progress=False) == {"episodes": 3, "encoded": 1, "skipped": 2}
    again = episodes.load_series(episodes.episode_path(run2 / "series", 1), 4, 1)
    np.testing.assert_array_equal(again["mu"], before["mu"])
    np.testing.assert_array_equal(again["logvar"], before["logvar"])


def test_encode_from_the_saved_model_alone(trained_run, tmp_path):
    """A published run folder has V's SavedModel only: encoding new episodes with it gives the Keras V's numbers."""
    from vae.encode import encode

    cfg, run, _ = trained_run
    run2 = tmp_path / "run"
    shutil.copytree(run, run2)
    shutil.rmtree(run2 / "series", ignore_errors=True)
    (run2 / "vae" / "model.keras").unlink()
    assert encode(cfg, run2, progress=False)["encoded"] == 3
    model = load_vae(run)
    for i in range(3):
        series = episodes.load_series(episodes.episode_path(run2 / "series", i), 4, 1)
        rollout = episodes.load_rollout(episodes.episode_path(run2 / "rollouts", i), 1)
        mu, logvar = model.encode(rollout["obs"].astype(np.float32) / 255.0)
        np.testing.assert_allclose(series["mu"], np.asarray(mu), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(series["logvar"], np.asarray(logvar), rtol=1e-4, atol=1e-5)


def test_bench_v_adapt_rebuilds_the_keras_v_from_its_saved_model(trained_run, tmp_path):
    """bench/v_adapt.py trains a published V, which ships as a SavedModel only: the Keras V it rebuilds from the
    SavedModel's variables encodes and decodes as the run's Keras V does."""
    from bench.v_adapt import keras_v

    _, run, _ = trained_run
    run2 = tmp_path / "run"
    shutil.copytree(run, run2)
    (run2 / "vae" / "model.keras").unlink()
    rebuilt, model = keras_v(run2), load_vae(run)
    x = np.random.default_rng(0).random((5, 64, 64, 3), np.float32)
    for got, want in zip(rebuilt.encode(x), model.encode(x)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
    z = np.random.default_rng(1).standard_normal((5, model.z_size)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(rebuilt.decode(z)), np.asarray(model.decode(z)), rtol=1e-5, atol=1e-6)
