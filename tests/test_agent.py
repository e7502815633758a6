"""The real-env agent reads V and M from the Keras files or, in a result folder that ships only the SavedModels,
from those: the same episode either way."""
import json
import shutil

import numpy as np
import pytest

from common.config import ConfigError, make_config
from controller.agent import Agent, has_models
from controller.model import controller_shape
from rnn.export import export_saved_model as export_rnn
from rnn.model import MDNRNN
from vae.export import export_saved_model as export_vae
from vae.model import ConvVAE


def test_saved_models_alone_play_the_same_episode(tmp_path):
    cfg = make_config("doom", "tiny", {"rnn.hidden_size": 32})
    full = tmp_path / "full"
    (full / "vae").mkdir(parents=True)
    (full / "rnn").mkdir()
    vae = ConvVAE(cfg.vae.z_size, 0.5, 0)
    vae.encode(np.zeros((1, 64, 64, 3), np.float32))
    rnn = MDNRNN(cfg.vae.z_size, cfg.env.action_size, 32, 5, predict_death=True, seed=0)
    vae.save(full / "vae" / "model.keras")
    rnn.save(full / "rnn" / "model.keras")
    export_vae(vae, full / "vae" / "saved_model")
    export_rnn(rnn, full / "rnn" / "saved_model")
    served = tmp_path / "served"
    for part in ("vae", "rnn"):
        shutil.copytree(full / part / "saved_model", served / part / "saved_model")
    assert has_models(full) and has_models(served) and not has_models(tmp_path / "empty")

    # Large weights so that C really turns left and right and the episode depends on M's state.
    params = np.random.default_rng(3).normal(0, 2.0, controller_shape(cfg).num_params).astype(np.float32)
    keras_agent, served_agent = Agent(full, cfg, threads=None), Agent(served, cfg, threads=None)
    try:
        for seed in (11, 12):
            actions = {}
            for name, agent in (("keras", keras_agent), ("served", served_agent)):
                zs = []
                ret, length = agent.episode(params, seed, on_step=lambda frame, z: zs.append(z))
                actions[name] = (ret, length, np.stack(zs))
            assert actions["keras"][:2] == actions["served"][:2]
            np.testing.assert_allclose(actions["keras"][2], actions["served"][2], atol=1e-4)
    finally:
        keras_agent.env.close()
        served_agent.env.close()


def test_forced_action_is_taken_and_fed_to_m(tmp_path):
    """Exploration (envs collect, policy agent): the forced action is returned, and M's next state is the one
    that action gives, the same as if C had chosen it."""
    cfg = make_config("doom", "tiny", {"rnn.hidden_size": 32})
    (tmp_path / "vae").mkdir()
    (tmp_path / "rnn").mkdir()
    vae = ConvVAE(cfg.vae.z_size, 0.5, 0)
    vae.encode(np.zeros((1, 64, 64, 3), np.float32))
    vae.save(tmp_path / "vae" / "model.keras")
    MDNRNN(cfg.vae.z_size, 1, 32, 5, predict_death=True, seed=0).save(tmp_path / "rnn" / "model.keras")
    agent = Agent(tmp_path, cfg, threads=None, with_env=False)
    assert agent.env is None
    frames = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    params = np.zeros(controller_shape(cfg).num_params, np.float32)  # C answers tanh(0) = 0 to anything
    chosen = agent.policy(params, 5)
    assert np.allclose([chosen(f) for f in frames], 0.0)
    forced_run = agent.policy(params, 5)
    assert np.allclose(forced_run(frames[0], np.array([0.9], np.float32)), 0.9)
    assert np.allclose(forced_run(frames[1]), 0.0)
    # M consumed 0.9 at step 0: C's input (z, c, h) at step 1 differs from the unforced run's.
    probe = np.zeros_like(params)
    probe[cfg.vae.z_size + 32:] = 1.0  # C reads only h: action = tanh(sum h)
    plain, forced = agent.policy(probe, 5), agent.policy(probe, 5)
    first = plain(frames[0])
    forced(frames[0], first)  # forcing C's own action changes nothing
    assert np.allclose(plain(frames[1]), forced(frames[1]))
    plain, forced = agent.policy(probe, 5), agent.policy(probe, 5)
    plain(frames[0]), forced(frames[0], -np.sign(first + 1e-3) * np.ones(1, np.float32))
    assert not np.allclose(plain(frames[1]), forced(frames[1]))


def test_controller_z_mean_gives_c_and_m_vs_mean_and_sample_draws_around_it(tmp_path):
    """controller.z: with "mean" the z that C and M get is V's mu of the frame, every time; with "sample" (the
    authors) it is mu + exp(logvar / 2) * eps, a different draw per seed and step."""
    import tensorflow as tf

    (tmp_path / "vae").mkdir()
    (tmp_path / "rnn").mkdir()
    cfg = make_config("doom", "tiny", {"rnn.hidden_size": 32})
    vae = ConvVAE(cfg.vae.z_size, 0.5, 0)
    vae.encode(np.zeros((1, 64, 64, 3), np.float32))
    vae.save(tmp_path / "vae" / "model.keras")
    MDNRNN(cfg.vae.z_size, 1, 32, 5, predict_death=True, seed=0).save(tmp_path / "rnn" / "model.keras")
    frame = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    mu, logvar = (t.numpy()[0] for t in vae.encode(tf.constant(frame[None], tf.float32) / 255.0))
    params = np.zeros(controller_shape(cfg).num_params, np.float32)
    zs = {}
    for mode in ("mean", "sample"):
        agent = Agent(tmp_path, make_config("doom", "tiny", {"rnn.hidden_size": 32, "controller.z": mode}),
                      threads=None, with_env=False)
        seen = []
        for seed in (5, 6):
            act = agent.policy(params, seed, on_step=lambda f, z: seen.append(z))
            act(frame), act(frame)
        zs[mode] = np.stack(seen)
    np.testing.assert_allclose(zs["mean"], np.broadcast_to(mu, zs["mean"].shape), atol=1e-5)
    sample = zs["sample"]
    assert len({tuple(np.round(z, 5)) for z in sample}) == 4  # each seed and step its own draw
    noise = (sample - mu) / np.exp(logvar / 2)
    assert 0.5 < noise.std() < 1.5  # standard-normal draws scaled by exp(logvar / 2)
    with pytest.raises(ConfigError, match="controller.z"):
        make_config("doom", "tiny", {"controller.z": "mode"})


def test_missing_models_are_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="train V first"):
        Agent(tmp_path, make_config("doom", "tiny"), threads=None)


def test_rescoring_with_another_seed_keeps_the_reported_file(tmp_path):
    from controller.evaluate import result_path

    def result_name(*args):
        return result_path(tmp_path, *args).name

    assert result_name(False, None) == "evaluation_real.json"
    assert result_name(True, 1.15) == "evaluation_dream_tau1.15.json"
    assert result_name(False, None, 20_000_000) == "evaluation_real_seed20000000.json"
    assert result_name(True, 1.0, 123) == "evaluation_dream_tau1.00_seed123.json"


def test_an_evaluation_counts_as_current_only_for_its_controller_z(tmp_path):
    """A score played with sampled z is not the score of the same C reading V's mean: each records its z, and a
    file from before controller.z counts as sampled (the only z there was)."""
    from controller.evaluate import current_result, evaluate, evaluation_file

    class Fixed:
        def evaluate(self, params, seeds):
            return np.arange(len(seeds), dtype=float), np.ones(len(seeds), int)

    sample = make_config("doom", "tiny", {"evaluate.split": "validation", "evaluate.episodes": 3})
    mean = make_config("doom", "tiny", {"evaluate.split": "validation", "evaluate.episodes": 3,
                                        "controller.z": "mean"})
    params = np.ones(controller_shape(sample).num_params, np.float32)
    assert evaluate(sample, tmp_path, Fixed(), params, None, tmp_path / "best.json", False, None)["z"] == "sample"
    assert current_result(sample, tmp_path, params, False) is not None
    assert current_result(mean, tmp_path, params, False) is None
    path = evaluation_file(sample, tmp_path, False)
    old = json.loads(path.read_text())
    del old["z"]
    path.write_text(json.dumps(old))
    assert current_result(sample, tmp_path, params, False) is not None
    assert current_result(mean, tmp_path, params, False) is None
    assert evaluate(mean, tmp_path, Fixed(), params, None, tmp_path / "best.json", False, None)["z"] == "mean"
    assert current_result(mean, tmp_path, params, False) is not None


def test_a_controller_is_scored_with_the_z_it_was_trained_with_unless_told(tmp_path):
    """controller evaluate takes controller.z from the controller folder's config.json (the one its training
    wrote); --controller.z overrides it; a folder without one, or from before controller.z, keeps the config's."""
    from controller.evaluate import as_trained

    run = make_config("carracing", "tiny")
    assert run.controller.z == "sample"
    assert as_trained(run, tmp_path, False) is run  # no config.json there
    (tmp_path / "config.json").write_text(make_config("carracing", "tiny", {"controller.z": "mean"}).to_json())
    assert as_trained(run, tmp_path, False).controller.z == "mean"
    assert as_trained(run, tmp_path, True).controller.z == "sample"  # --controller.z given
    old = json.loads(make_config("carracing", "tiny").to_json())
    del old["controller"]["z"]
    (tmp_path / "config.json").write_text(json.dumps(old))
    assert as_trained(make_config("carracing", "small"), tmp_path, False).controller.z == "sample"
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(ConfigError, match="config.json"):
        as_trained(run, tmp_path, False)
