#!/bin/bash
# Issue 13 lever: V retrained on the agents' data. Round 2's V (trained on the first 1,000 random-policy episodes)
# continues one epoch over all 2,500 episodes of round 2 (random + both rounds' agent episodes); the series are
# re-encoded; M is trained fresh for round 2's 1,650 steps; a fresh C at tau 1.15 with round 2's ES seed and
# generations; scored on the validation seeds only, paired with round 2's C.
set -e
. .venv/bin/activate  # run from the repository root
R=runs/doom-small/round2; X=runs/doom-vnew
if [ ! -d $X ]; then
  mkdir -p $X.tmp/vae && cp -al $R/rollouts $X.tmp/ && cp $R/config.json $X.tmp/
  cp -r $R/vae/model.keras $R/vae/train_state.json $R/vae/saved_model $X.tmp/vae/
  mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
$L python -m vae train --run-dir $X --vae.epochs 4 --vae.max_episodes 0
$L python -m vae encode --run-dir $X
$L python -m rnn train --run-dir $X --rnn.steps 1650
$L python -m controller train --run-dir $X
$L python -m controller evaluate --run-dir $X --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --evaluate.split validation
$L python -m rnn diagnose --run-dir $X
