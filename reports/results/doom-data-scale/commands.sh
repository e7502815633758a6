#!/bin/bash
# Issue 13 lever: data scale. The paper's Doom M learned from 10,000 random episodes in one round; the preset's
# round 0 collects 1,300 (300 of them long holds). Here round 0 again on 4x the random data: 5,200 episodes (1,200
# long holds, the same share), on the published run's V (reports/results/doom-amd, trained on round 0's first 1,000
# episodes), M trained by the preset's rule (30 epochs, so 4x the steps), a fresh tau 1.15 C with the preset's
# CMA-ES budget and seed; scored on the validation seeds only (real and dream), against round 0 of that run
# (reports/results/doom-amd/passes/round0: 665.3 real, 1,800.2 dream on the same seeds).
set -e
. .venv/bin/activate  # run from the repository root
X=runs/doom-data-scale
if [ ! -d $X ]; then
  mkdir -p $X.tmp && cp -r reports/results/doom-amd/vae $X.tmp/ && cp reports/results/doom-amd/passes/round0/config.json $X.tmp/
  mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
$L python -m envs collect --run-dir $X --collect.episodes 5200 --collect.long_holds 1200
$L python -m vae encode --run-dir $X
$L python -m rnn train --run-dir $X
$L python -m controller train --run-dir $X
$L python -m controller evaluate --run-dir $X --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --evaluate.split validation
$L python -m rnn diagnose --run-dir $X
