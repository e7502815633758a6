"""The structure the code promises: one run-folder layout, I/O-free model files, envs/ below controller/, and the
shared pieces (loaders, the dream step, the action mapping, the agent collection policy) behaving as the copies
they replaced."""
from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from common.config import make_config
from common.run_layout import RunLayout

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "envs", "vae", "rnn", "controller", "reports")
MODEL_FILES = ("vae/model.py", "rnn/model.py", "controller/model.py")
# Names of run-folder entries: outside common/run_layout.py no code may spell them as a path.
LAYOUT_NAMES = ("series", "rollouts", "best.json", "es_state.pkl", "initial_z.npz", "model.keras", "saved_model",
                "timings.json", "history.csv", "eval_history.csv", "done.json", "reproduce.log", "results.json",
                "REPORT.md", "train_state.json", "diagnostics.json", "iterate.json")


def _sources(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).glob("*.py"))


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_envs_imports_nothing_from_controller():
    offenders = {p.name: sorted(m for m in _imports(p) if m.split(".")[0] == "controller") for p in _sources("envs")}
    assert not {k: v for k, v in offenders.items() if v}


@pytest.mark.parametrize("rel", MODEL_FILES)
def test_model_files_hold_no_file_path_or_environment_access(rel):
    source = (ROOT / rel).read_text()
    imports = _imports(ROOT / rel)
    assert not imports & {"os", "pathlib", "json", "pickle", "shutil", "common.atomic"}, imports
    assert not re.search(r"\bopen\(|os\.environ|Path\(|np\.random\.(seed|rand)|set_random_seed", source)


def test_no_run_folder_literal_outside_the_layout():
    pattern = re.compile(r"""["'](%s)["']""" % "|".join(re.escape(n) for n in LAYOUT_NAMES))
    found = [f"{p.relative_to(ROOT)}:{i}" for p in _sources(*PACKAGES) if p.name != "run_layout.py"
             for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found


def test_no_issue_numbers_or_machine_paths_in_code():
    pattern = re.compile(r"\bissues? \d+|/work/|/root/|/home/\w+")
    found = [f"{p.relative_to(ROOT)}:{i}" for p in _sources(*PACKAGES, "bench", "tests")
             if p.name != "test_structure.py"  # the pattern above
             for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found


def test_run_layout_names_every_path(tmp_path):
    layout = RunLayout(tmp_path)
    assert layout.initial_z == tmp_path / "series" / "initial_z.npz"
    assert layout.vae_saved_model == tmp_path / "vae" / "saved_model"
    assert layout.controller().best == tmp_path / "controller" / "best.json"
    assert layout.controller("tau1.00").es_state == tmp_path / "controller-tau1.00" / "es_state.pkl"
    assert layout.controller("tau1.00").tag == "tau1.00" and layout.controller().tag is None
    for name in ("controller-b", "controller", "controller-a", "controllers-not", "other"):
        (tmp_path / name).mkdir()
    assert [c.dir.name for c in layout.controllers()] == ["controller", "controller-a", "controller-b"]
    ev = layout.controller().evaluation
    assert ev(False, None, 10_000_000, 10_000_000).name == "evaluation_real.json"
    assert ev(True, 1.15, 5, 10_000_000).name == "evaluation_dream_tau1.15_seed5.json"


def test_served_models_give_the_keras_numbers(tmp_path):
    """load_v / load_m from the SavedModels alone: encode, decode and the dream step as the Keras models."""
    import tensorflow as tf

    from rnn.export import ServedRNN, export_saved_model as export_m, load_m
    from rnn.model import MDNRNN, dream_step
    from vae.export import ServedVAE, export_saved_model as export_v, load_v
    from vae.model import ConvVAE

    vae, rnn = ConvVAE(8, seed=1), MDNRNN(8, 1, 16, 5, predict_death=True, seed=2)
    layout = RunLayout(tmp_path)
    export_v(vae, layout.vae_saved_model)
    export_m(rnn, layout.rnn_saved_model)
    served_v, served_m = load_v(tmp_path), load_m(tmp_path)
    assert isinstance(served_v, ServedVAE) and isinstance(served_m, ServedRNN)
    assert (served_m.z_size, served_m.hidden_size, served_m.action_size, served_m.num_mixtures) == (8, 16, 1, 5)
    x = np.random.default_rng(0).random((3, 64, 64, 3)).astype(np.float32)
    for a, b in zip(vae.encode(x), served_v.encode(x)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    z = np.random.default_rng(1).normal(size=(3, 8)).astype(np.float32)
    np.testing.assert_allclose(vae.decode(z), served_v.decode(z), atol=1e-5)
    h, c = rnn.initial_state(3)
    args = (z, np.full((3, 1), 0.5, np.float32), tf.constant([1.0, 0.0, 0.0]), h, c, 1.15, tf.constant([3, 4]))
    for a, b in zip(dream_step(rnn, *args), dream_step(served_m, *args)):
        np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), atol=1e-4)


def test_dream_step_thresholds_death_and_samples_at_tau():
    import tensorflow as tf

    from rnn.model import MDNOutput, dream_step, sample_mdn

    class Fixed:  # an M whose prediction is given: the step must sample it and threshold its death logit
        def step(self, z, action, restart, h, c):
            logmix = tf.math.log(tf.fill([2, 3, 5], 0.2))
            out = MDNOutput(logmix, tf.zeros([2, 3, 5]), tf.fill([2, 3, 5], -1.0), tf.constant([0.3, -0.3]))
            return out, h + 1, c + 2

    z, h, c, dead = dream_step(Fixed(), tf.zeros([2, 3]), tf.zeros([2, 1]), None, tf.zeros([2, 4]),
                               tf.zeros([2, 4]), 1.5, tf.constant([1, 2]))
    out, _, _ = Fixed().step(None, None, None, 0, 0)
    np.testing.assert_allclose(z, sample_mdn(out, 1.5, tf.constant([1, 2])))
    assert dead.numpy().tolist() == [True, False] and float(h[0, 0]) == 1 and float(c[0, 0]) == 2


def test_agent_policy_factory_pickles_without_its_agent_and_refuses_an_untrained_run(tmp_path):
    from common.config import ConfigError
    from controller.explore import AgentPolicyFactory, agent_policy_factory

    cfg = make_config("doom", "tiny", {"collect.policy": "agent"})
    with pytest.raises(ConfigError, match="needs V and M"):
        agent_policy_factory(cfg, tmp_path)
    factory = AgentPolicyFactory(str(tmp_path), cfg.to_dict(), 0.3, 10)
    factory._agent = object()  # stands for the built agent of a worker
    copy = pickle.loads(pickle.dumps(factory))
    assert copy._agent is None and copy.explore == 0.3 and copy.agent_dir == str(tmp_path)
