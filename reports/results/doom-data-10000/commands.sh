#!/bin/bash
# Issue 13 lever: data scale, the paper's. The paper's Doom M learned from 10,000 random episodes; the `small`
# preset's first pass now collects 5,200 (1,200 of them long holds), after reports/results/doom-data-scale measured
# 5,200 above 1,300. Here the first pass again on 10,000 episodes (2,300 long holds, the same 23% share), on the V of
# reports/results/doom-5200-rounds (trained in its first pass on episodes 0..999), M by the preset's rule (20 epochs, so
# about twice the steps), a fresh tau 1.15 C with the preset's CMA-ES budget and seed 111; scored on the validation
# seeds only (real and dream), against that run's first pass (reports/results/doom-5200-rounds/passes/round0).
set -e
. .venv/bin/activate  # run from the repository root
X=runs/doom-data-10000
if [ ! -d $X ]; then
  mkdir -p $X.tmp/rollouts $X.tmp/series
  cp -r reports/results/doom-5200-rounds/vae $X.tmp/ && cp reports/results/doom-5200-rounds/passes/round0/config.json $X.tmp/
  # Episodes 0..3999 are random-policy episodes with seeds 0..3999 in both layouts, so collect would write the same
  # files; where the first run's folder is still here they are hard links of it (and of their series: same V).
  if [ -d runs/doom-small/rollouts ]; then
    for i in $(seq -f %06g 0 3999); do
      ln runs/doom-small/rollouts/episode_$i.npz $X.tmp/rollouts/ && ln runs/doom-small/series/episode_$i.npz $X.tmp/series/
    done
  fi
  mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
$L python -m envs collect --run-dir $X --collect.episodes 10000 --collect.long_holds 2300
$L python -m vae encode --run-dir $X
$L python -m rnn train --run-dir $X
$L python -m controller train --run-dir $X
$L python -m controller evaluate --run-dir $X --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --evaluate.split validation
$L python -m rnn diagnose --run-dir $X
