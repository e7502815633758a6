#!/bin/bash
# The control arm of commands.sh, and a second CMA-ES seed for both arms. Control: round 0 on 1,300 of the same
# random episodes (episodes 0..999 and 300 of the long holds, 4000..4299, as the preset collects 1,000 + 300), the
# same V and initial_z (frame 0 of episodes 0..999 in both), M by the same rule (30 epochs), the same C training.
# Series files are hard links, renumbered 0..1299; nothing is encoded again. Run after commands.sh.
set -e
. .venv/bin/activate  # run from the repository root
S=runs/doom-data-scale; X=runs/doom-data-1300
if [ ! -d $X ]; then
  mkdir -p $X.tmp/series && cp -r $S/vae $X.tmp/ && cp reports/results/doom-amd/passes/round0/config.json $X.tmp/
  for i in $(seq 0 999); do ln $S/series/$(printf episode_%06d.npz $i) $X.tmp/series/; done
  for i in $(seq 0 299); do
    ln $S/series/$(printf episode_%06d.npz $((4000 + i))) $X.tmp/series/$(printf episode_%06d.npz $((1000 + i)))
  done
  ln $S/series/initial_z.npz $X.tmp/series/
  mv $X.tmp $X
fi
L="flock /tmp/wm-heavy.lock"
$L python -m rnn train --run-dir $X
for args in "--run-dir $X" "--run-dir $X --tag s112 --es.seed 112" "--run-dir $S --tag s112 --es.seed 112"; do
  $L python -m controller train $args
  $L python -m controller evaluate $args --evaluate.split validation
  $L python -m controller evaluate --dream $args --evaluate.split validation
done
$L python -m rnn diagnose --run-dir $X
