#!/bin/bash
# Issue 13 lever: M trained 1500 steps longer on round 2's data, then a fresh C at tau 1.30 (10 generations, as the
# tau table's C), scored on the validation seeds only. Compared with round 2's controller-tau1.30 on the same seeds.
set -e
. .venv/bin/activate  # run from the repository root
R=runs/doom-small/round2; X=runs/doom-mlong
if [ ! -d $X ]; then
  mkdir -p $X.tmp && cp -al $R/rollouts $R/series $R/vae $X.tmp/ && cp $R/config.json $X.tmp/
  mkdir $X.tmp/rnn && cp -r $R/rnn/backup $R/rnn/history.csv $X.tmp/rnn/
  mv $X.tmp $X
fi
S=$(python -c "import json;print(json.load(open('$R/rnn/done.json'))['steps'] + 1500)")
L="flock /tmp/wm-heavy.lock"
$L python -m rnn train --run-dir $X --rnn.steps $S
$L python -m controller train --run-dir $X --tag tau1.30 --es.temperature 1.3 --es.generations 10
$L python -m controller evaluate --run-dir $X --tag tau1.30 --es.temperature 1.3 --evaluate.split validation
$L python -m controller evaluate --dream --run-dir $X --tag tau1.30 --es.temperature 1.3 --evaluate.split validation
$L python -m rnn diagnose --run-dir $X
