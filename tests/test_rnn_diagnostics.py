"""rnn.diagnostics: death recall / false alarms bookkeeping and the z NLL against a hand computation."""
import numpy as np
import pytest

from envs.episodes import episode_path, save_series
from rnn.diagnostics import diagnose
from rnn.model import MDNRNN

NZ, K = 2, 5


def _constant_head_rnn(bias: np.ndarray) -> MDNRNN:
    """An M whose head ignores h: every output is ``bias`` (death logit first)."""
    rnn = MDNRNN(NZ, 1, 8, K, predict_death=True, seed=0)
    rnn.output_w.assign(np.zeros(rnn.output_w.shape, np.float32))
    rnn.output_b.assign(bias.astype(np.float32))
    return rnn


def _series(folder, lengths_and_deaths, rng):
    mus = []
    for i, (t, died) in enumerate(lengths_and_deaths):
        mu = rng.normal(size=(t, NZ)).astype(np.float32)
        done = np.zeros(t, bool)
        done[-1] = died
        # logvar -30: the sampled z equals mu to ~3e-7, so the NLL can be computed by hand from mu
        save_series(episode_path(folder, i), mu, np.full((t, NZ), -30.0), rng.uniform(-1, 1, (t, 1)), done)
        mus.append(mu)
    return mus


def _hand_nll(bias: np.ndarray, mus) -> float:
    values = []
    for mu in mus:
        for z in mu[1:]:
            for d in range(NZ):
                logits, mean, logstd = (bias[1 + 3 * K * d + j * K: 1 + 3 * K * d + (j + 1) * K] for j in range(3))
                w = np.exp(logits - logits.max())
                w /= w.sum()
                dens = w * np.exp(-0.5 * ((z[d] - mean) / np.exp(logstd)) ** 2) / (np.exp(logstd) * np.sqrt(2 * np.pi))
                values.append(-np.log(dens.sum()))
    return float(np.mean(values))


@pytest.mark.parametrize("death_logit", [4.0, -4.0])
def test_counts_and_nll(tmp_path, death_logit):
    rng = np.random.default_rng(0)
    mus = _series(tmp_path, [(12, True), (9, True), (15, False)], rng)
    bias = rng.normal(0, 0.5, 1 + 3 * K * NZ)
    bias[0] = death_logit
    result = diagnose(_constant_head_rnn(bias), tmp_path, NZ, 1, window=3)
    always = death_logit > 0
    assert result["episodes"] == 3 and result["episodes_ending_in_death"] == 2
    assert result["death_recall_last"] == result["death_recall_window"] == (1.0 if always else 0.0)
    assert result["false_alarm_rate"] == result["episodes_with_false_alarm"] == (1.0 if always else 0.0)
    assert result["z_nll"] == pytest.approx(_hand_nll(bias, mus), rel=1e-4)


def test_car_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="death head"):
        diagnose(MDNRNN(NZ, 3, 8, K, predict_death=False), tmp_path, NZ, 3)


def test_heldout_bench_scores_each_episode_by_hand(tmp_path):
    """bench/m_heldout_nll.py steps episodes of different lengths together; each one's NLL is its own."""
    from bench.m_heldout_nll import episode_nlls

    rng = np.random.default_rng(1)
    mus = _series(tmp_path, [(12, True), (7, False), (15, False)], rng)
    bias = rng.normal(0, 0.5, 1 + 3 * K * NZ)
    got = episode_nlls(_constant_head_rnn(bias), tmp_path, episodes=3)
    assert got == pytest.approx([_hand_nll(bias, [mu]) for mu in mus], rel=1e-4)
    assert episode_nlls(_constant_head_rnn(bias), tmp_path / "absent", episodes=3) == []
