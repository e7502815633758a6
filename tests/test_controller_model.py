"""C: parameter counts, the authors' packing (checked by hand on their published controllers), action mapping."""
import json
from pathlib import Path

import numpy as np
import pytest

from common.config import make_config
from controller.model import ControllerShape, LinearController, act, controller_shape, observation, pack, unpack
from envs.actions import to_env_action

REFERENCE = Path(__file__).resolve().parents[1] / "reports" / "reference"  # copies of the authors' files


@pytest.mark.parametrize("experiment, inputs, expected", [
    ("carracing", None, 867), ("doom", None, 1088), ("carracing", "z", 99), ("carracing", "z_hidden", 1443)])
def test_parameter_counts(experiment, inputs, expected):
    overrides = {"controller.inputs": inputs} if inputs else {}
    shape = controller_shape(make_config(experiment, "paper", overrides))
    assert shape.num_params == expected
    assert LinearController.from_shape(shape).count_params() == expected


def _reference(name):
    params, score = json.loads((REFERENCE / name).read_text())
    return np.asarray(params, np.float32), score


def test_carracing_packing_matches_authors_by_hand():
    params, _ = _reference("carracing.cma.16.64.best.json")
    shape = ControllerShape("zh", 32, 256, 3, use_bias=True)
    assert params.size == shape.num_params
    x = np.random.default_rng(0).normal(size=(2, 288)).astype(np.float32)
    by_hand = np.zeros((2, 3))
    for row in range(2):
        for j in range(3):  # a_j = tanh(b_j + sum_i x_i W[i, j]), b = p[0:3], W[i, j] = p[3 + 3i + j]
            by_hand[row, j] = np.tanh(params[j] + sum(x[row, i] * params[3 + 3 * i + j] for i in range(288)))
    np.testing.assert_allclose(np.asarray(act(params, x, shape)), by_hand, atol=1e-5)


def test_doom_packing_matches_authors_by_hand():
    params, _ = _reference("doomrnn.cma.16.64.best.json")
    shape = ControllerShape("zch", 64, 512, 1, use_bias=False)
    assert params.size == shape.num_params == 1088
    rng = np.random.default_rng(1)
    z, c, h = (rng.normal(size=(1, n)).astype(np.float32) for n in (64, 512, 512))
    x = observation(z, c, h, shape)
    np.testing.assert_array_equal(x[0, 64:576], c[0])  # order z, c, h
    by_hand = np.tanh(float(np.dot(params.astype(np.float64), x[0].astype(np.float64))))
    np.testing.assert_allclose(np.asarray(act(params, x, shape))[0, 0], by_hand, atol=1e-5)


@pytest.mark.parametrize("shape", [ControllerShape("zh", 32, 256, 3),
                                   ControllerShape("zch", 64, 512, 1, use_bias=False),
                                   ControllerShape("z_hidden", 32, 256, 3, hidden_units=40)])
def test_pack_inverts_unpack(shape):
    p = np.random.default_rng(4).normal(size=shape.num_params).astype(np.float32)
    layers = unpack(p, shape)
    np.testing.assert_array_equal(pack(layers, shape), p)
    with pytest.raises(ValueError, match="expected"):
        pack(layers * 2, shape)


def test_z_hidden_packing():
    shape = ControllerShape("z_hidden", 32, 256, 3, hidden_units=40)
    p = np.random.default_rng(2).normal(size=shape.num_params).astype(np.float32)
    b1, w1 = p[:40], p[40:40 + 1280].reshape(32, 40)
    b2, w2 = p[1320:1323], p[1323:].reshape(40, 3)
    x = np.random.default_rng(3).normal(size=(4, 32)).astype(np.float32)
    expected = np.tanh(np.tanh(x @ w1 + b1) @ w2 + b2)
    np.testing.assert_allclose(np.asarray(act(p, x, shape)), expected, atol=1e-5)
    assert len(unpack(p, shape)) == 2


@pytest.mark.parametrize("shape", [ControllerShape("zh", 4, 6, 3),  # per row: a product and a sum
                                   ControllerShape("z_hidden", 4, 6, 3, hidden_units=7)])  # and a batched matmul
def test_one_controller_per_row_equals_loop(shape):
    rng = np.random.default_rng(4)
    params = rng.normal(size=(5, shape.num_params)).astype(np.float32)
    x = rng.normal(size=(5, shape.input_size)).astype(np.float32)
    batched = np.asarray(act(params, x, shape))
    looped = np.concatenate([np.asarray(act(params[i], x[i:i + 1], shape)) for i in range(5)])
    np.testing.assert_allclose(batched, looped, atol=1e-6)


def test_action_mapping_carracing_gas_brake():
    a = np.array([[-0.5, -1.0, -0.3], [0.2, 1.0, 0.7], [0.0, 0.0, 1.0]], np.float32)
    out = to_env_action(a, "carracing")
    np.testing.assert_allclose(out[:, 0], [-0.5, 0.2, 0.0])           # steer unchanged
    np.testing.assert_allclose(out[:, 1], [0.0, 1.0, 0.5])            # gas = (a1 + 1) / 2
    np.testing.assert_allclose(out[:, 2], [0.0, 0.7, 1.0])            # brake = clip(a2, 0, 1)
    np.testing.assert_allclose(to_env_action(np.array([[0.9]]), "doom"), [[0.9]], rtol=1e-6)  # thirds: the env


def test_action_mapping_same_in_tensorflow():
    """The agent's compiled step maps with tf.clip_by_value: the same numbers as the NumPy path."""
    import tensorflow as tf

    a = np.random.default_rng(0).uniform(-1, 1, (64, 3)).astype(np.float32)
    np.testing.assert_allclose(to_env_action(tf.constant(a), "carracing", tf.clip_by_value).numpy(),
                               to_env_action(a, "carracing"), atol=1e-7)


def test_keras_model_roundtrip(tmp_path):
    import keras

    model = LinearController.from_shape(ControllerShape("zh", 4, 6, 3))
    p = np.arange(model.shape_.num_params, dtype=np.float32) / 100
    model.set_flat(p)
    model.save(tmp_path / "c.keras")
    again = keras.models.load_model(tmp_path / "c.keras")
    np.testing.assert_array_equal(again.get_flat(), p)
    with pytest.raises(ValueError):
        model.set_flat(p[:-1])
