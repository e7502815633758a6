"""bench/action_probe.py: only the output asked for moves (gas by the offset on its bias, steering by the scale on its
pre-activation, the brake set from the gas); bad input exits 2 and writes nothing."""
import json

import numpy as np

from bench import action_probe
from common.config import make_config
from controller.model import act
from controller.shape import controller_shape


def _probe(tmp_path, params, *flags):
    src = tmp_path / "best.json"
    src.write_text(json.dumps({"params": params.tolist(), "generation": 16}))
    out = tmp_path / "probe" / "best.json"
    assert action_probe.main([str(src), *flags, "--out", str(out)]) == 0
    return json.loads(out.read_text())


def test_gas_offset_and_steer_scale_move_only_their_output(tmp_path):
    shape = controller_shape(make_config("carracing"))
    rng = np.random.default_rng(0)
    params = rng.normal(0, 0.02, shape.num_params)  # keeps tanh off saturation, so arctanh inverts it
    x = rng.normal(0, 1, (4, shape.input_size)).astype(np.float32)
    before = np.arctanh(np.asarray(act(params.astype(np.float32), x, shape)))  # pre-activations
    probe = _probe(tmp_path, params, "--gas-offset", "0.5", "--steer-scale", "1.5")
    assert probe["generation"] == 16 and probe["gas_offset"] == 0.5 and probe["steer_scale"] == 1.5
    after = np.arctanh(np.asarray(act(np.asarray(probe["params"], np.float32), x, shape)))
    np.testing.assert_allclose(after[:, 0], 1.5 * before[:, 0], atol=1e-4)  # steer: scaled
    np.testing.assert_allclose(after[:, 1], before[:, 1] + 0.5, atol=1e-4)  # gas: offset
    np.testing.assert_allclose(after[:, 2], before[:, 2], atol=1e-5)        # brake: unchanged


def test_brake_from_gas_brakes_where_the_gas_is_lifted(tmp_path):
    shape = controller_shape(make_config("carracing"))
    rng = np.random.default_rng(1)
    params = rng.normal(0, 0.02, shape.num_params)
    x = rng.normal(0, 1, (4, shape.input_size)).astype(np.float32)
    before = np.arctanh(np.asarray(act(params.astype(np.float32), x, shape)))
    probe = _probe(tmp_path, params, "--gas-offset", "0.1", "--brake-from-gas=2,-0.5")
    assert probe["brake_from_gas"] == [2.0, -0.5]
    after = np.arctanh(np.asarray(act(np.asarray(probe["params"], np.float32), x, shape)))
    np.testing.assert_allclose(after[:, :2], before[:, :2] + [0, 0.1], atol=1e-4)  # steer and the offset gas
    np.testing.assert_allclose(after[:, 2], 2 * (-0.5 - after[:, 1]), atol=1e-4)   # brake: 2 (G - the new gas)


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"params": [1.0, 2.0]}))  # not a CarRacing C
    out = tmp_path / "probe" / "best.json"
    assert action_probe.main([str(short), "--gas-offset", "0.1", "--out", str(out)]) == 2
    assert action_probe.main([str(tmp_path / "missing.json"), "--gas-offset", "0.1", "--out", str(out)]) == 2
    good = tmp_path / "best.json"
    good.write_text(json.dumps({"params": [0.0] * 867}))
    assert action_probe.main([str(good), "--brake-from-gas", "2", "--out", str(out)]) == 2  # K without G
    assert not out.parent.exists()
