"""``python -m controller play``: the dream served to a browser is DoomDreamEnv's dream, τ changes it, the page
renders in a real headless browser, bad input is refused, SIGTERM stops the server.

The run is tiny and freshly initialised (Nz 8, Nh 16): what is tested is the plumbing, not a trained agent. M's
death bias is set near its logit's range (tests/test_dream.py) so that some dreams end by death within a few steps.
"""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from common import atomic
from common.config import make_config
from common.run_layout import RunLayout

Z, H = 8, 16
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def make_run(run: Path, death_bias: float = -0.1) -> Path:
    from controller.model import controller_shape
    from rnn.model import MDNRNN
    from vae.model import ConvVAE

    layout = RunLayout(run)
    cfg = make_config("doom", "tiny", {"vae.z_size": Z, "rnn.hidden_size": H, "env.max_steps": 60})
    atomic.write_text(layout.config, cfg.to_json() + "\n")
    rnn = MDNRNN(Z, 1, H, 5, predict_death=True, seed=0)
    bias = rnn.output_b.numpy()
    bias[0] = death_bias
    rnn.output_b.assign(bias)
    atomic.save_keras(rnn, layout.rnn_model)
    vae = ConvVAE(z_size=Z, seed=0)
    for layer in vae.decoder.layers:  # a fresh decoder paints a flat grey; 3x kernels make frames depend on z
        if layer.weights:
            layer.weights[0].assign(layer.weights[0].numpy() * 3.0)
    atomic.save_keras(vae, layout.vae_model)
    rng = np.random.default_rng(1)
    atomic.savez(layout.initial_z, mu=rng.normal(size=(20, Z)).astype(np.float32),
                 logvar=rng.normal(-2, 0.5, size=(20, Z)).astype(np.float32))
    params = rng.normal(0, 1, controller_shape(cfg).num_params)
    atomic.write_json(layout.controller().best, {"params": params.tolist(), "generation": 0})
    return run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("play") / "run")


@pytest.fixture(scope="module")
def server(run_dir):
    """The play server in this process on a free port: (base URL, PlayApp)."""
    from common.cli import read_run_config
    from controller.play_server import PlayApp, make_server
    from controller.play_session import Models

    app = PlayApp(Models(read_run_config(run_dir), run_dir))
    httpd = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", app
    httpd.shutdown()
    httpd.server_close()
    app.close()


def post(base: str, path: str, body, raw: bytes | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def frame_of(state: dict) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert state["frame"].startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(state["frame"][len(prefix):]))).convert("RGB"))


def served_dream(base: str, seed: int, actions, temperature: float) -> tuple[list[np.ndarray], list[bool]]:
    status, state = post(base, "/api/new", {"mode": "dream", "seed": seed, "temperature": temperature})
    assert status == 200, state
    frames, done = [frame_of(state)], [state["done"]]
    for a in actions:
        status, state = post(base, "/api/step", {"session": state["session"], "action": a,
                                                 "temperature": temperature})
        assert status == 200, state
        frames.append(frame_of(state))
        done.append(state["done"])
        if state["done"]:
            break
    return frames, done


ACTIONS = [-1, 0, 1, None, None, 1, 1, None, -1, 0, None, None] * 2  # None: C acts


def test_served_dream_is_doom_dream_env(server, run_dir):
    from controller.evaluate import read_params
    from controller.model import act, controller_shape, observation
    from envs.dream import DoomDreamEnv
    from envs.episodes import load_initial_z
    from rnn.export import load_m
    from vae.export import load_v

    base, app = server
    cfg = app.models.cfg
    shape = controller_shape(cfg)
    params, _ = read_params(RunLayout(run_dir).controller().best, shape.num_params)
    env = DoomDreamEnv.from_models(load_m(run_dir), *load_initial_z(RunLayout(run_dir).initial_z),
                                   vae=load_v(run_dir), temperature=1.3, render_mode="rgb_array")
    lengths = []
    for seed in (3, 11, 12):
        frames, done = served_dream(base, seed, ACTIONS, 1.3)
        obs, _ = env.reset(seed=seed)
        expected, expected_done = [env.render()], [False]
        for a in ACTIONS[:len(frames) - 1]:
            if a is None:
                x = observation(obs[None, :Z], obs[None, Z:Z + H], obs[None, Z + H:], shape)
                a = np.asarray(act(params, x, shape))[0]
            obs, reward, terminated, truncated, _ = env.step(np.asarray(a, np.float32).reshape(1))
            expected.append(env.render())
            expected_done.append(terminated)
        assert done == expected_done
        for got, want in zip(frames, expected):
            assert got.shape == (64, 64, 3) and got.std() > 5  # a picture, not a flat grey
            # Equal up to rounding of the last bit (the env and the server each compile their own step).
            assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
        lengths.append((len(frames) - 1, done[-1]))
    assert len(set(lengths)) > 1 and any(dead for _, dead in lengths), lengths  # deaths, at different steps


def test_temperature_changes_the_dream(server):
    base, _ = server
    actions = [0] * 5
    cold, _ = served_dream(base, 5, actions, 0.1)
    hot, _ = served_dream(base, 5, actions, 2.0)
    np.testing.assert_array_equal(cold[0], hot[0])  # z_0 does not depend on τ
    n = min(len(cold), len(hot))
    assert n > 1
    assert min(np.abs(c.astype(int) - h.astype(int)).mean() for c, h in zip(cold[1:n], hot[1:n])) > 1
    # τ changes a running dream too: the same session, τ raised at the third step, leaves the τ 0.1 path there
    assert len(cold) > 3, "the τ 0.1 dream died too early for this check; pick another seed"
    _, state = post(base, "/api/new", {"mode": "dream", "seed": 5, "temperature": 0.1})
    for step, t in enumerate([0.1, 0.1, 2.0], start=1):
        status, state = post(base, "/api/step", {"session": state["session"], "action": 0, "temperature": t})
        assert status == 200 and state["temperature"] == t and state["step"] == step
        assert np.array_equal(frame_of(state), cold[step]) == (t == 0.1)


@pytest.mark.parametrize("body", [
    {"temperature": 0}, {"temperature": -1.0}, {"temperature": "abc"}, {"temperature": "1.0"},
    {"temperature": 2.5}, {"temperature": True}, {"action": 2}, {"action": "left"}, {"action": [0, 1, 0]},
])
def test_bad_step_input_is_http_400(server, body):
    base, _ = server
    _, state = post(base, "/api/new", {"mode": "dream", "seed": 1})
    status, reply = post(base, "/api/step", {"session": state["session"], **body})
    assert status == 400 and "error" in reply, reply


def test_bad_requests(server):
    base, _ = server
    _, state = post(base, "/api/new", {"mode": "dream", "seed": 1})
    raw = b'{"session": "%s", "temperature": NaN}' % state["session"].encode()
    assert post(base, "/api/step", None, raw=raw)[0] == 400
    assert post(base, "/api/step", None, raw=b"not json")[0] == 400
    assert post(base, "/api/step", {"session": "nope", "action": None})[0] == 404
    assert post(base, "/api/new", {"mode": "dream", "temperature": 0})[0] == 400
    assert post(base, "/api/new", {"mode": "movie"})[0] == 400
    assert post(base, "/api/new", {"mode": "dream", "seed": -3})[0] == 400
    status, reply = post(base, "/api/step", {"session": state["session"], "action": None})
    assert status == 200 and reply["step"] == 1 and reply["by"] == "C" and 0 <= reply["death_probability"] <= 1


def test_sessions_are_independent(server):
    base, _ = server
    _, a = post(base, "/api/new", {"mode": "dream", "seed": 9})
    _, b = post(base, "/api/new", {"mode": "dream", "seed": 9})
    assert a["session"] != b["session"]
    for _ in range(3):
        _, a = post(base, "/api/step", {"session": a["session"], "action": 1})
    _, b = post(base, "/api/step", {"session": b["session"], "action": 1})
    assert (a["step"], b["step"]) == (3, 1) or a["done"]
    _, b = post(base, "/api/reset", {"session": b["session"], "seed": 9})
    assert b["step"] == 0


def test_real_game_beside_reconstruction(server):
    base, _ = server
    status, state = post(base, "/api/new", {"mode": "real", "seed": 4})
    assert status == 200, state
    assert frame_of(state).shape == (64, 128, 3)  # real frame | V's reconstruction
    for a in (None, -1, None):
        status, state = post(base, "/api/step", {"session": state["session"], "action": a})
        assert status == 200, state
    assert state["step"] == 3 and state["mode"] == "real" and state["score"] == 3.0


def _cli(argv, capsys) -> tuple[int, str]:
    from controller.__main__ import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    return stop.value.code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("flags, tag, temperature", [
    ([], "tau1.30", 1.3),  # the run's final agent at the τ it was chosen at
    (["--temperature", "0.7"], "tau1.30", 0.7),  # its C, the user's τ
    (["--tag", "other"], "other", 1.15),  # an explicit --tag plays that C at the run's es.temperature
])
def test_play_follows_the_runs_choice(run_dir, tmp_path, flags, tag, temperature):
    from common.cli import resolve
    from controller.__main__ import build_parser
    from controller.play import final_agent

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    layout = RunLayout(run)
    shutil.copytree(layout.controller().dir, layout.controller("tau1.30").dir)
    atomic.write_json(layout.choice, {"tag": "tau1.30", "folder": "controller-tau1.30", "temperature": 1.3})
    argv = ["play", "--run-dir", str(run), *flags]
    args = build_parser(argv).parse_args(argv)
    cfg, _ = resolve(args)
    chosen_tag, chosen_cfg = final_agent(args, cfg, run)
    assert chosen_tag == tag and chosen_cfg.es.temperature == temperature
    layout.choice.unlink()  # a run without a choice plays controller/ at the config's τ
    plain = ["play", "--run-dir", str(run)]
    assert final_agent(build_parser(plain).parse_args(plain), cfg, run) == (None, cfg)


def test_unknown_run_dir_is_refused(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code, err = _cli(["play", "--experiment", "doom", "--run-dir", str(missing)], capsys)
    assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert not missing.exists() and list(tmp_path.iterdir()) == []


def test_run_without_v_and_m_is_refused_before_binding(tmp_path, capsys):
    run = tmp_path / "run"
    cfg = make_config("doom", "tiny", {"vae.z_size": Z, "rnn.hidden_size": H})
    atomic.write_text(RunLayout(run).config, cfg.to_json() + "\n")
    with socket.socket() as taken:  # a port already in use: refusing V/M must come first
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, err = _cli(["play", "--run-dir", str(run), "--port", str(taken.getsockname()[1])], capsys)
    assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert "V" in err and "M" in err
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed and this is not root: `apt-get install chromium` to run this test")
    subprocess.run(["apt-get", "update", "-qq"], check=False, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, timeout=900,
                   stdout=subprocess.DEVNULL)
    return shutil.which("chromium") or "/usr/bin/chromium"


def test_page_shows_a_frame_in_a_headless_browser(server, tmp_path):
    base, app = server
    shot = tmp_path / "page.png"
    profile = tmp_path / "profile"
    profile.mkdir()
    result = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                             "--window-size=800,600", "--virtual-time-budget=4000", base + "/"],
                            capture_output=True, text=True, timeout=120)
    assert shot.exists(), result.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (600, 800)
    # The frame sits at the top left (16 px margin under the 44 px header), 384 x 384 px.
    region = image[84:420, 40:376].reshape(-1, 3)
    colours = np.unique(region, axis=0)
    assert len(colours) >= 16, f"frame area looks blank ({len(colours)} colours)"
    assert not np.all(region == 0)  # not the black placeholder
    page_sessions = [s for s in app.sessions._items.values() if s.mode == "dream" and s.steps > 0]
    assert page_sessions, "the page never stepped a dream"


def test_sigterm_stops_the_server(run_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "controller", "play", "--run-dir", str(run_dir), "--port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.time() + 120
        while "serving" not in line and time.time() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read()[-2000:]
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "api/info", timeout=30) as response:
            assert json.loads(response.read())["experiment"] == "doom"
        started = time.time()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.time() - started < 5
        assert "[play] stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_initial_z_is_rebuilt_from_v_and_resets(run_dir, tmp_path, capsys):
    """A committed folder has V but no rollouts: ``vae encode --initial-z-only`` rebuilds where the dream starts."""
    import gymnasium

    import envs
    from common.cli import read_run_config
    from envs.collect import episode_seed
    from envs.episodes import load_initial_z
    from vae.__main__ import main
    from vae.export import load_v

    run = tmp_path / "published"
    for path in (RunLayout(run_dir).config, RunLayout(run_dir).vae_model):
        target = run / path.relative_to(run_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    with pytest.raises(SystemExit) as stop:
        main(["encode", "--initial-z-only", "--run-dir", str(run)])
    assert stop.value.code == 0, capsys.readouterr().err
    mu, logvar = load_initial_z(RunLayout(run).initial_z)
    cfg = read_run_config(run)
    assert mu.shape == (cfg.collect.episodes, Z)  # min(1000, collect.episodes) rows
    env = gymnasium.make(cfg.env.env_id, **envs.env_kwargs(cfg))
    try:
        frame, _ = env.reset(seed=episode_seed(cfg.collect.seed, 2))
    finally:
        env.close()
    want_mu, want_logvar = load_v(run).encode(frame[None].astype(np.float32) / 255.0)
    np.testing.assert_allclose(mu[2], np.asarray(want_mu)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logvar[2], np.asarray(want_logvar)[0], rtol=1e-5, atol=1e-6)
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "series", "vae"]
