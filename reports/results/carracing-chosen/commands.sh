#!/bin/bash
# Issue 12 lever: several CMA-ES runs and V/M draws, the final agent chosen on the 100 gymnasium validation tracks
# (seeds 500,000,000.., common/seeds.py) and only it scored on the 100 test tracks. The five candidates all read
# V's mean (controller.z mean, Deviations 18); run from the repository root on a host without runs/carracing-chosen,
# after the one command's run (runs/carracing-small, published as reports/results/carracing).
# Candidates 1 to 9 ran before the small preset restarted its CMA-ES (README, Deviations 19) and before that
# one command's run moved to reports/results/carracing-no-restart: up to candidate 10's block, read $R/carracing as
# that folder, and add --es.restart_at 0 to a train command of more than 72 generations to repeat it today.
set -eo pipefail
. .venv/bin/activate
R=reports/results; C=$R/carracing-chosen; L="flock /tmp/wm-heavy.lock"
# Candidate 1: the z-mean C on the sampled-z run's V and M, CMA-ES seed 0 (reports/results/z-mean/commands.sh wrote
# its 100 gymnasium validation tracks, controller-zmean/evaluation_real_validation.json).
# Candidate 2: the one command's C (reports/results/carracing: its own V and M, seed 0), on the same validation tracks.
$L python -m controller evaluate --run-dir runs/carracing-small --evaluate.split validation --evaluate.episodes 100
cp runs/carracing-small/controller/evaluation_real_validation.json $R/carracing/controller/
cp runs/carracing-small/timings.json $R/carracing/  # its stage `validate`
# Candidate 3: candidate 1's V and M and settings, CMA-ES seed 1 (the ES's and its training tracks' seed).
cp -r $R/carracing-sampled-z runs/cr-zmean-s1
$L python -m controller train --experiment carracing --preset small --run-dir runs/cr-zmean-s1 --tag zmean-seed1 \
    --controller.z mean --es.seed 1
$L python -m controller evaluate --run-dir runs/cr-zmean-s1 --tag zmean-seed1 --evaluate.split validation \
    --evaluate.episodes 100
# The chosen C's V and M as a run folder of its own, with candidate 3 (the same V and M) beside it as controller-seed1;
# the sampled-z run's C and report go (they are that run's), its stage times stay in
# $R/carracing-sampled-z/timings.json, and candidate 3's are in runs/cr-zmean-s1/timings.json.
D=runs/carracing-chosen; cp -r $R/carracing-sampled-z $D
rm -r $D/controller $D/report $D/timings.json $D/README.md
mkdir $D/controller-seed1
cp runs/cr-zmean-s1/controller-zmean-seed1/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json} \
    $D/controller-seed1/
# The choice: the highest mean on the validation tracks (candidate 1).
python bench/paired_scores.py $R/z-mean/carracing/controller-zmean/evaluation_real_validation.json \
    $R/carracing/controller/evaluation_real_validation.json $D/controller-seed1/evaluation_real_validation.json \
    --cap 1000 --out $D/diagnosis/choice_validation.txt
mkdir $D/controller
cp $R/z-mean/carracing/controller-zmean/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json} \
    $D/controller/
cp $D/controller/config.json $D/config.json
# Its 100 test tracks (seeds 10,000,000..), played once, in gymnasium's game and then envpool's; the report.
$L python -m controller evaluate --run-dir $D
$L python -m controller evaluate --run-dir $D --evaluate.backend envpool
python -m reports make --run-dir $D
python bench/paired_scores.py $R/carracing/controller/evaluation_real.json $D/controller/evaluation_real.json \
    --cap 1000 --out $D/diagnosis/paired_test_one_command.txt
# publish writes a README of its own for a run folder; this folder's README (the procedure) is written by hand.
python -m reports publish --run-dir $D --to runs/carracing-chosen-published
rm runs/carracing-chosen-published/README.md && cp -r runs/carracing-chosen-published/. $C/
cp runs/cr-zmean-s1/timings.json $C/controller-seed1/timings_of_its_run.json

# Session 47, on the 2-core Intel Xeon host (CPU family 6, model 167, AVX-512): two more candidates, each scored on
# the same 100 validation tracks. Candidate 4: candidate 1's V and M, CMA-ES seed 2.
cp -r $R/carracing-sampled-z runs/cr-zmean-s2
$L python -m controller train --experiment carracing --preset small --run-dir runs/cr-zmean-s2 --tag zmean-seed2 \
    --controller.z mean --es.seed 2
$L python -m controller evaluate --run-dir runs/cr-zmean-s2 --tag zmean-seed2 --evaluate.split validation \
    --evaluate.episodes 100
mkdir $C/controller-seed2
cp runs/cr-zmean-s2/controller-zmean-seed2/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json} \
    $C/controller-seed2/
cp runs/cr-zmean-s2/timings.json $C/controller-seed2/timings_of_its_run.json
# Candidate 5: the same V with the better M of ../carracing-better-m (400 episodes, 1200 steps), CMA-ES seed 0.
B=runs/cr-better-m-zmean; cp -r $R/carracing-sampled-z $B && rm -r $B/rnn $B/timings.json
cp -r $R/carracing-better-m/rnn $B/ && cp $R/carracing-better-m/config.json $B/
$L python -m controller train --run-dir $B --tag zmean --controller.z mean
$L python -m controller evaluate --run-dir $B --tag zmean --evaluate.split validation --evaluate.episodes 100
mkdir $R/carracing-better-m/controller-zmean
cp $B/controller-zmean/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json} \
    $R/carracing-better-m/controller-zmean/
cp $B/timings.json $R/carracing-better-m/controller-zmean/timings_of_its_run.json
# The choice among the five: still candidate 1, so no test track was played this session.
python bench/paired_scores.py $R/z-mean/carracing/controller-zmean/evaluation_real_validation.json \
    $R/carracing/controller/evaluation_real_validation.json $C/controller-seed1/evaluation_real_validation.json \
    $C/controller-seed2/evaluation_real_validation.json $R/carracing-better-m/controller-zmean/evaluation_real_validation.json \
    --cap 1000 --out $C/diagnosis/choice_validation.txt

# Session 48, on the 2-core Intel Xeon host (CPU family 6, model 167, AVX-512). Candidate 6: candidate 1's search
# continued: a new CMA-ES whose first mean is candidate 1's C and whose step size is the one candidate 1's search had
# reached (0.0798 at generation 72, its history.csv), 80 more generations, CMA-ES seed 3 (fresh training tracks).
D=runs/cr-zmean-cont; cp -r $R/carracing-sampled-z $D && rm -f $D/timings.json
$L python -m controller train --experiment carracing --preset small --run-dir $D --tag zmean-cont \
    --controller.z mean --es.init_from $C/controller/best.json --es.sigma_init 0.08 --es.seed 3 --es.generations 80
$L python -m controller evaluate --run-dir $D --tag zmean-cont --evaluate.split validation --evaluate.episodes 100
mkdir $C/controller-continued
cp $D/controller-zmean-cont/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json} \
    $C/controller-continued/
# The choice among the six: candidate 6 (highest validation mean), so it becomes this folder's controller/ and plays the
# 100 test tracks once, in each game; candidate 1 moves to controller-first/ with its test scores and their times.
python bench/paired_scores.py $R/z-mean/carracing/controller-zmean/evaluation_real_validation.json \
    $R/carracing/controller/evaluation_real_validation.json $C/controller-seed1/evaluation_real_validation.json \
    $C/controller-seed2/evaluation_real_validation.json $R/carracing-better-m/controller-zmean/evaluation_real_validation.json \
    $C/controller-continued/evaluation_real_validation.json --cap 1000 --solved 900 --out $C/diagnosis/choice_validation.txt
D=runs/carracing-chosen; rm -rf $D && cp -r $C $D && rm $D/README.md
mv $D/controller $D/controller-first && mv $D/timings.json $D/controller-first/timings_of_its_test_scoring.json
mv $D/controller-continued $D/controller && cp $D/controller/config.json $D/config.json
$L python -m controller evaluate --run-dir $D
$L python -m controller evaluate --run-dir $D --evaluate.backend envpool
python -m reports make --run-dir $D
python bench/paired_scores.py $R/carracing/controller/evaluation_real.json $D/controller/evaluation_real.json \
    --cap 1000 --solved 900 --out $D/diagnosis/paired_test_one_command.txt
python bench/paired_scores.py $D/controller-first/evaluation_real.json $D/controller/evaluation_real.json \
    --cap 1000 --solved 900 --out $D/diagnosis/paired_test_first.txt
python -m reports publish --run-dir $D --to runs/carracing-chosen-published
rm runs/carracing-chosen-published/README.md && rm -r $C/controller $C/controller-continued && cp -r runs/carracing-chosen-published/. $C/
cp $D/controller-first/timings_of_its_test_scoring.json $C/controller-first/
cp runs/cr-zmean-cont/timings.json $C/controller/timings_of_its_run.json
# Why the episodes that ran to step 1000 did: their tracks' length and the car's pace, from the files above (the
# committed track_pace.txt is the one written at candidate 8 below, with the tracks' turning added).
python bench/track_pace.py $C/controller/evaluation_real.json $C/controller-first/evaluation_real.json \
    $R/carracing/controller/evaluation_real.json $C/controller/evaluation_real_validation.json \
    --out $C/diagnosis/track_pace.txt
# Candidate 7: does carrying a search on lift another candidate too? Candidate 4's kept C (generation 64, where its
# search's step size was 0.081), a new CMA-ES from it, sigma 0.08, seed 4, 40 generations; scored on validation.
D=runs/cr-zmean-s2-cont; cp -r $R/carracing-sampled-z $D && rm -f $D/timings.json
$L python -m controller train --experiment carracing --preset small --run-dir $D --tag zmean-seed2-cont \
    --controller.z mean --es.init_from $C/controller-seed2/best.json --es.sigma_init 0.08 --es.seed 4 --es.generations 40
$L python -m controller evaluate --run-dir $D --tag zmean-seed2-cont --evaluate.split validation --evaluate.episodes 100
mkdir $C/controller-seed2-continued
cp $D/controller-zmean-seed2-cont/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json} \
    $C/controller-seed2-continued/
cp $D/timings.json $C/controller-seed2-continued/timings_of_its_run.json
# The choice among the seven (still candidate 6), its file naming candidate 6's validation file where it now lies.
python bench/paired_scores.py $R/z-mean/carracing/controller-zmean/evaluation_real_validation.json \
    $R/carracing/controller/evaluation_real_validation.json $C/controller-seed1/evaluation_real_validation.json \
    $C/controller-seed2/evaluation_real_validation.json $R/carracing-better-m/controller-zmean/evaluation_real_validation.json \
    $C/controller/evaluation_real_validation.json $C/controller-seed2-continued/evaluation_real_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/choice_validation.txt
python bench/paired_scores.py $C/controller-seed2/evaluation_real_validation.json \
    $C/controller-seed2-continued/evaluation_real_validation.json --cap 1000 \
    --out $C/diagnosis/paired_validation_seed2_continued.txt
# Candidate 8: candidate 6's search carried on with twice the population (64 x 2) at the step size it had reached
# (0.0264 at its generation 80), seed 5, 40 generations; scored on validation.
D=runs/cr-zmean-pop64; cp -r $R/carracing-sampled-z $D && rm -f $D/timings.json
$L python -m controller train --experiment carracing --preset small --run-dir $D --tag zmean-pop64 \
    --controller.z mean --es.init_from $C/controller/best.json --es.sigma_init 0.026 --es.seed 5 \
    --es.population_size 64 --es.generations 40
$L python -m controller evaluate --run-dir $D --tag zmean-pop64 --evaluate.split validation --evaluate.episodes 100
# It tops the validation tracks (864.9 against candidate 6's 863.4), so it becomes the final agent and plays the
# test tracks once in each game; candidate 6 moves to controller-continued/ with its test scores.
D=runs/carracing-chosen; rm -rf $D && cp -r $C $D && rm $D/README.md
mv $D/controller $D/controller-continued && mv $D/timings.json $D/controller-continued/timings_of_its_test_scoring.json
mkdir $D/controller
cp runs/cr-zmean-pop64/controller-zmean-pop64/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json} \
    $D/controller/
cp runs/cr-zmean-pop64/timings.json $D/controller/timings_of_its_run.json && cp $D/controller/config.json $D/config.json
$L python -m controller evaluate --run-dir $D
$L python -m controller evaluate --run-dir $D --evaluate.backend envpool
python -m reports make --run-dir $D
python bench/paired_scores.py $R/carracing/controller/evaluation_real.json $D/controller/evaluation_real.json \
    --cap 1000 --solved 900 --out $D/diagnosis/paired_test_one_command.txt
python bench/paired_scores.py $D/controller-first/evaluation_real.json $D/controller-continued/evaluation_real.json \
    $D/controller/evaluation_real.json --cap 1000 --solved 900 --out $D/diagnosis/paired_test_first.txt
python -m reports publish --run-dir $D --to runs/carracing-chosen-published
rm runs/carracing-chosen-published/README.md && rm -r $C/controller && cp -r runs/carracing-chosen-published/. $C/
cp $D/controller/timings_of_its_run.json $C/controller/
cp $D/controller-continued/timings_of_its_run.json $D/controller-continued/timings_of_its_test_scoring.json $C/controller-continued/
python bench/paired_scores.py $D/controller-continued/evaluation_real.json $D/controller/evaluation_real.json \
    --cap 1000 --solved 900 --out $C/diagnosis/paired_test_continued.txt
# Candidate 8 against candidate 6 on validation, at their final paths (the choice file is rewritten with nine below).
python bench/paired_scores.py $C/controller-continued/evaluation_real_validation.json $C/controller/evaluation_real_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/paired_validation_continued_pop64.txt
python bench/track_pace.py $C/controller/evaluation_real.json $C/controller-continued/evaluation_real.json \
    $C/controller-first/evaluation_real.json $R/carracing/controller/evaluation_real.json \
    $C/controller/evaluation_real_validation.json --out $C/diagnosis/track_pace.txt
# Candidate 9: candidate 7's search (still rising at its generation 40, sigma 0.0699 there) carried on 40 more
# generations, sigma0 0.07, seed 6, 32 x 2; scored on validation.
D=runs/cr-zmean-s2-cont2; cp -r $R/carracing-sampled-z $D && rm -f $D/timings.json
$L python -m controller train --experiment carracing --preset small --run-dir $D --tag zmean-seed2-cont2 \
    --controller.z mean --es.init_from $C/controller-seed2-continued/best.json --es.sigma_init 0.07 --es.seed 6 \
    --es.generations 40
$L python -m controller evaluate --run-dir $D --tag zmean-seed2-cont2 --evaluate.split validation --evaluate.episodes 100
mkdir $C/controller-seed2-continued2
cp $D/controller-zmean-seed2-cont2/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json} \
    $C/controller-seed2-continued2/
cp $D/timings.json $C/controller-seed2-continued2/timings_of_its_run.json
# The choice among the nine (still candidate 8; candidate 9 played no test track).
python bench/paired_scores.py $R/z-mean/carracing/controller-zmean/evaluation_real_validation.json \
    $R/carracing/controller/evaluation_real_validation.json $C/controller-seed1/evaluation_real_validation.json \
    $C/controller-seed2/evaluation_real_validation.json $R/carracing-better-m/controller-zmean/evaluation_real_validation.json \
    $C/controller-continued/evaluation_real_validation.json $C/controller-seed2-continued/evaluation_real_validation.json \
    $C/controller/evaluation_real_validation.json $C/controller-seed2-continued2/evaluation_real_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/choice_validation.txt
python bench/paired_scores.py $C/controller-seed2-continued/evaluation_real_validation.json \
    $C/controller-seed2-continued2/evaluation_real_validation.json --cap 1000 \
    --out $C/diagnosis/paired_validation_seed2_continued2.txt
# The report again, so that it shows candidate 9's search too (the rest of it unchanged).
cp -r $C/controller-seed2-continued2 runs/carracing-chosen/ && python -m reports make --run-dir runs/carracing-chosen
rm -r $C/report && cp -r runs/carracing-chosen/report $C/report
# Candidate 10: the one command with the restart (Deviations 19), from an empty runs/carracing-small; its C on the
# validation tracks (before its V-only C's last generations), then the rest of the one command.
$L python -m reports reproduce --experiment carracing --preset small --run-dir runs/carracing-small
$L python -m controller evaluate --run-dir runs/carracing-small --evaluate.split validation --evaluate.episodes 100
$L python -m reports reproduce --experiment carracing --preset small --run-dir runs/carracing-small
git mv $R/carracing $R/carracing-no-restart
python -m reports publish --run-dir runs/carracing-small --to $R/carracing
mkdir -p $R/carracing/diagnosis
python bench/paired_scores.py $R/carracing-no-restart/controller/evaluation_real.json $R/carracing/controller/evaluation_real.json \
    --cap 1000 --solved 900 --out $R/carracing/diagnosis/paired_test_no_restart.txt
python bench/paired_scores.py $R/carracing-no-restart/controller/evaluation_real_validation.json \
    $R/carracing/controller/evaluation_real_validation.json --cap 1000 --solved 900 \
    --out $R/carracing/diagnosis/paired_validation_no_restart.txt
# The choice among ten (still candidate 8), and the test pairings against the one command at the new paths.
python bench/paired_scores.py $R/z-mean/carracing/controller-zmean/evaluation_real_validation.json \
    $R/carracing-no-restart/controller/evaluation_real_validation.json $C/controller-seed1/evaluation_real_validation.json \
    $C/controller-seed2/evaluation_real_validation.json $R/carracing-better-m/controller-zmean/evaluation_real_validation.json \
    $C/controller-continued/evaluation_real_validation.json $C/controller-seed2-continued/evaluation_real_validation.json \
    $C/controller/evaluation_real_validation.json $C/controller-seed2-continued2/evaluation_real_validation.json \
    $R/carracing/controller/evaluation_real_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/choice_validation.txt
python bench/paired_scores.py $R/carracing-no-restart/controller/evaluation_real.json $C/controller/evaluation_real.json \
    --cap 1000 --solved 900 --out $C/diagnosis/paired_test_one_command.txt
python bench/paired_scores.py $R/carracing/controller/evaluation_real.json $C/controller/evaluation_real.json \
    --cap 1000 --solved 900 --out $C/diagnosis/paired_test_one_command_restart.txt
# Candidate 11: candidate 8's search carried on in gymnasium's game (the game of the score) instead of envpool's, at
# the step size it had reached (0.025), seed 7, 32 x 2, 24 generations; scored on validation in both games, and
# candidate 8 on validation in envpool's game beside it.
D=runs/cr-zmean-gym; cp -r $R/carracing-sampled-z $D && rm -f $D/timings.json
$L python -m controller train --experiment carracing --preset small --run-dir $D --tag zmean-gym \
    --controller.z mean --env.backend gymnasium --es.init_from $C/controller/best.json --es.sigma_init 0.025 \
    --es.seed 7 --es.generations 24
$L python -m controller evaluate --run-dir $D --tag zmean-gym --evaluate.split validation --evaluate.episodes 100
$L python -m controller evaluate --run-dir $D --tag zmean-gym --evaluate.split validation --evaluate.episodes 100 \
    --evaluate.backend envpool
$L python -m controller evaluate --run-dir runs/carracing-chosen --evaluate.split validation --evaluate.episodes 100 \
    --evaluate.backend envpool
mkdir $C/controller-gymnasium
cp $D/controller-zmean-gym/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json,evaluation_real_envpool_validation.json} \
    $C/controller-gymnasium/
cp $D/timings.json $C/controller-gymnasium/timings_of_its_run.json
cp runs/carracing-chosen/controller/evaluation_real_envpool_validation.json $C/controller/
cp runs/carracing-chosen/timings.json $C/  # its stage `validate_envpool`
# The choice among eleven (still candidate 8, by 0.02; candidate 11 played no test track), and the pairings.
ELEVEN="$R/z-mean/carracing/controller-zmean/evaluation_real_validation.json
    $R/carracing-no-restart/controller/evaluation_real_validation.json $C/controller-seed1/evaluation_real_validation.json
    $C/controller-seed2/evaluation_real_validation.json $R/carracing-better-m/controller-zmean/evaluation_real_validation.json
    $C/controller-continued/evaluation_real_validation.json $C/controller-seed2-continued/evaluation_real_validation.json
    $C/controller/evaluation_real_validation.json $C/controller-seed2-continued2/evaluation_real_validation.json
    $R/carracing/controller/evaluation_real_validation.json $C/controller-gymnasium/evaluation_real_validation.json"
python bench/paired_scores.py $ELEVEN --cap 1000 --solved 900 --out $C/diagnosis/choice_validation.txt
python bench/paired_scores.py $C/controller/evaluation_real_validation.json \
    $C/controller-gymnasium/evaluation_real_validation.json --cap 1000 --solved 900 \
    --out $C/diagnosis/paired_validation_gymnasium.txt
python bench/paired_scores.py $C/controller/evaluation_real_envpool_validation.json \
    $C/controller-gymnasium/evaluation_real_envpool_validation.json --cap 1000 --solved 900 \
    --out $C/diagnosis/paired_validation_gymnasium_envpool.txt
# The report again, so that it shows candidate 11's search too.
cp -r $C/controller-gymnasium runs/carracing-chosen/ && python -m reports make --run-dir runs/carracing-chosen
rm -r $C/report && cp -r runs/carracing-chosen/report $C/report
# Candidate 8 with its gas output's bias moved or its steering scaled (probes of the pace, not candidates), on
# validation in envpool's game. The four gas-only probes were written by this script's first form (bench/gas_offset.py
# --offset), the same parameters; their best.json files have no steer_scale field.
probe_on_validation() {  # $1: the probe's tag; the rest: bench/action_probe.py's flags
    local t=$1; shift
    python bench/action_probe.py $C/controller/best.json "$@" --out runs/carracing-chosen/controller-$t/best.json
    $L python -m controller evaluate --run-dir runs/carracing-chosen --tag $t --evaluate.split validation \
        --evaluate.episodes 100 --evaluate.backend envpool
    mkdir -p $C/action-probe/controller-$t
    cp runs/carracing-chosen/controller-$t/{best.json,evaluation_real_envpool_validation.json} $C/action-probe/controller-$t/
}
for probe in gasm0.4:-0.4:1 gasm0.2:-0.2:1 gas0.2:0.2:1 gas0.4:0.4:1 steer0.8:0:0.8 steer1.25:0:1.25 \
        gas0.2-steer1.25:0.2:1.25 gas0.2-steer1.5:0.2:1.5 gas0.4-steer1.5:0.4:1.5; do
    IFS=: read -r t gas steer <<< "$probe"
    probe_on_validation $t --gas-offset=$gas --steer-scale $steer
done
python bench/paired_scores.py $C/controller/evaluation_real_envpool_validation.json \
    $C/action-probe/controller-{gasm0.4,gasm0.2,gas0.2,gas0.4,steer0.8,steer1.25,gas0.2-steer1.25,gas0.2-steer1.5,gas0.4-steer1.5}/evaluation_real_envpool_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/action_probe_validation_envpool.txt
# Candidate 12: candidate 8's search carried on with 4 episodes per candidate (64 x 4, a quarter of the authors'
# 64 x 16) at the step size it had reached (0.025), seed 8, 20 generations in envpool's game; then validation in
# both games.
D=runs/cr-zmean-x4
[ -d $D ] || { cp -r $R/carracing-sampled-z $D && rm -f $D/timings.json; }
$L python -m controller train --experiment carracing --preset small --run-dir $D --tag zmean-x4 \
    --controller.z mean --es.init_from $C/controller/best.json --es.sigma_init 0.025 --es.seed 8 \
    --es.population_size 64 --es.num_rollouts 4 --es.generations 20
$L python -m controller evaluate --run-dir $D --tag zmean-x4 --evaluate.split validation --evaluate.episodes 100
$L python -m controller evaluate --run-dir $D --tag zmean-x4 --evaluate.split validation --evaluate.episodes 100 \
    --evaluate.backend envpool
mkdir $C/controller-x4
cp $D/controller-zmean-x4/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json,evaluation_real_envpool_validation.json} \
    $C/controller-x4/
cp $D/timings.json $C/controller-x4/timings_of_its_run.json
# The choice among twelve (still candidate 8; candidate 12 played no test track), and the pairings.
python bench/paired_scores.py $ELEVEN $C/controller-x4/evaluation_real_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/choice_validation.txt
python bench/paired_scores.py $C/controller/evaluation_real_validation.json $C/controller-x4/evaluation_real_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/paired_validation_x4.txt
python bench/paired_scores.py $C/controller/evaluation_real_envpool_validation.json \
    $C/controller-x4/evaluation_real_envpool_validation.json --cap 1000 --solved 900 \
    --out $C/diagnosis/paired_validation_x4_envpool.txt
# The report again, so that it shows candidate 12's search too; without the probes' folders (published in
# action-probe/; they are not searches).
rm -r runs/carracing-chosen/controller-{gas,steer}*
cp $C/timings.json runs/carracing-chosen/  # the stages of the chosen C, without the probes' validations
cp -r $C/controller-x4 runs/carracing-chosen/ && python -m reports make --run-dir runs/carracing-chosen
rm -r $C/report && cp -r runs/carracing-chosen/report $C/report
# What the car does on the road (spins, excursions, its controls before a spin): candidate 8's validation and test
# episodes replayed step by step in gymnasium's game (the same episodes; the bench checks every score), and the
# one command's C's validation episodes (in its own folder).
python bench/driving_faults.py $C/controller/evaluation_real_validation.json --run-dir $C \
    --out $C/diagnosis/driving_faults_validation.txt
python bench/driving_faults.py $C/controller/evaluation_real.json --run-dir $C --out $C/diagnosis/driving_faults_test.txt
python bench/driving_faults.py $R/carracing/controller/evaluation_real_validation.json --run-dir $R/carracing \
    --out $R/carracing/diagnosis/driving_faults_validation.txt
for t in first seed2 gymnasium; do  # candidates 1, 4 and 11, on their validation tracks
    python bench/driving_faults.py $C/controller-$t/evaluation_real_validation.json --run-dir $C --tag $t \
        --out $C/diagnosis/driving_faults_validation_$t.txt
done
# Candidate 8 with its brake output set by hand from its gas output (brake pre-activation K (G - gas
# pre-activation)), on validation in envpool's game (probes, not candidates; two of the four planned were played:
# the second already lost 496.2, and the other two brake more).
probe_on_validation brake1-5.5 --brake-from-gas=1,-5.5
probe_on_validation brake1-5 --brake-from-gas=1,-5
python bench/paired_scores.py $C/controller/evaluation_real_envpool_validation.json \
    $C/action-probe/controller-brake1-5.5/evaluation_real_envpool_validation.json \
    $C/action-probe/controller-brake1-5/evaluation_real_envpool_validation.json --cap 1000 --solved 900 \
    --out $C/diagnosis/brake_probe_validation_envpool.txt
# Candidate 13: candidate 11's search (the C that slipped least often on validation) carried on in envpool's game
# from its kept C (generation 16) with 64 candidates x 2 episodes at the step size it had reached (0.027), seed 9,
# 56 generations; scored on the validation seeds in both games.
D=runs/cr-zmean-gym-cont
[ -d $D ] || { cp -r $R/carracing-sampled-z $D && rm -f $D/timings.json; }
$L python -m controller train --experiment carracing --preset small --run-dir $D --tag zmean-gym-cont \
    --controller.z mean --es.init_from $C/controller-gymnasium/best.json --es.sigma_init 0.027 --es.seed 9 \
    --es.population_size 64 --es.generations 56
$L python -m controller evaluate --run-dir $D --tag zmean-gym-cont --evaluate.split validation --evaluate.episodes 100
$L python -m controller evaluate --run-dir $D --tag zmean-gym-cont --evaluate.split validation --evaluate.episodes 100 \
    --evaluate.backend envpool
mkdir $C/controller-gymnasium-continued
cp $D/controller-zmean-gym-cont/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json,evaluation_real_envpool_validation.json} \
    $C/controller-gymnasium-continued/
cp $D/timings.json $C/controller-gymnasium-continued/timings_of_its_run.json
# It tops the validation tracks (865.7 against candidate 8's 864.9), so it becomes the final agent and plays the
# test tracks once in each game, in its own run folder. It moves into controller/ (the final agent's folder);
# candidate 8 moves to controller-pop64/ with its test scores (the diagnosis files written before, and the command
# lines above, name candidate 8's folder controller/: their paths were renamed by the sed below, nothing else).
$L python -m controller evaluate --run-dir $D --tag zmean-gym-cont
$L python -m controller evaluate --run-dir $D --tag zmean-gym-cont --evaluate.backend envpool
git mv $C/controller $C/controller-pop64 && git mv $C/timings.json $C/controller-pop64/timings_of_its_test_scoring.json
sed -i 's#carracing-chosen/controller/#carracing-chosen/controller-pop64/#g; s#\(driving_faults.py reports/results/carracing-chosen/controller-pop64/evaluation_real[a-z_]*.json --run-dir reports/results/carracing-chosen\)#\1 --tag pop64#' \
    $C/diagnosis/*.txt
install_final_agent() {  # $1: the candidate's tag in run folder $D; its files into controller/, its run's timings
    mkdir $C/controller
    cp $D/controller-$1/{best.json,config.json,history.csv,eval_history.csv,evaluation_real_validation.json,evaluation_real_envpool_validation.json,evaluation_real.json,evaluation_real_envpool.json} \
        $C/controller/
    cp $D/timings.json $C/controller/timings_of_its_run.json && cp $C/controller/config.json $C/config.json
    python -c "import json; t = json.load(open('$D/timings.json'))
json.dump({k.removesuffix('-$1'): v for k, v in t.items()}, open('$C/timings.json', 'w'), indent=2, sort_keys=True)" && echo >> $C/timings.json
}
install_final_agent zmean-gym-cont
# The choice among thirteen, the pairings of candidate 13 with candidates 8 and 11 (validation, both games) and with
# the earlier chosen Cs and the one command's on the test tracks, the paper budget of its lineage, and the report.
TWELVE="$R/z-mean/carracing/controller-zmean/evaluation_real_validation.json
    $R/carracing-no-restart/controller/evaluation_real_validation.json $C/controller-seed1/evaluation_real_validation.json
    $C/controller-seed2/evaluation_real_validation.json $R/carracing-better-m/controller-zmean/evaluation_real_validation.json
    $C/controller-continued/evaluation_real_validation.json $C/controller-seed2-continued/evaluation_real_validation.json
    $C/controller-pop64/evaluation_real_validation.json $C/controller-seed2-continued2/evaluation_real_validation.json
    $R/carracing/controller/evaluation_real_validation.json $C/controller-gymnasium/evaluation_real_validation.json
    $C/controller-x4/evaluation_real_validation.json"
python bench/paired_scores.py $TWELVE $C/controller/evaluation_real_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/choice_validation.txt
python bench/paired_scores.py $C/controller-pop64/evaluation_real_validation.json $C/controller/evaluation_real_validation.json \
    $C/controller-gymnasium/evaluation_real_validation.json --cap 1000 --solved 900 \
    --out $C/diagnosis/paired_validation_gymnasium_continued.txt
python bench/paired_scores.py $C/controller-pop64/evaluation_real_envpool_validation.json \
    $C/controller/evaluation_real_envpool_validation.json $C/controller-gymnasium/evaluation_real_envpool_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/paired_validation_gymnasium_continued_envpool.txt
python bench/paired_scores.py $C/controller/evaluation_real.json $C/controller-pop64/evaluation_real.json \
    $C/controller-continued/evaluation_real.json $C/controller-first/evaluation_real.json \
    $R/carracing/controller/evaluation_real.json $R/carracing-no-restart/controller/evaluation_real.json \
    --cap 1000 --solved 900 --out $C/diagnosis/paired_test_final.txt
python bench/paper_budget.py --out bench/results/paper_budget.txt
rm -rf runs/carracing-chosen && cp -r $C runs/carracing-chosen && rm runs/carracing-chosen/README.md && rm -r runs/carracing-chosen/report
$L python -m reports make --run-dir runs/carracing-chosen
rm -r $C/report && cp -r runs/carracing-chosen/report $C/report
# What the car does on the road under candidate 13, on its validation tracks.
python bench/driving_faults.py $C/controller/evaluation_real_validation.json --run-dir $C \
    --out $C/diagnosis/driving_faults_validation_final.txt
# Candidate 14: candidate 13's search carried on from its kept C (then in controller/) with each candidate ranked by
# the worse of its 2 episodes (es.fitness min), 64 x 2 in envpool's game at sigma0 0.027, seed 10, 40 generations;
# scored on the validation seeds in both games.
D=runs/cr-zmean-min
[ -d $D ] || { cp -r $R/carracing-sampled-z $D && rm -f $D/timings.json; }
$L python -m controller train --experiment carracing --preset small --run-dir $D --tag zmean-min \
    --controller.z mean --es.fitness min --es.init_from $C/controller/best.json --es.sigma_init 0.027 --es.seed 10 \
    --es.population_size 64 --es.generations 40
$L python -m controller evaluate --run-dir $D --tag zmean-min --evaluate.split validation --evaluate.episodes 100
$L python -m controller evaluate --run-dir $D --tag zmean-min --evaluate.split validation --evaluate.episodes 100 \
    --evaluate.backend envpool
# It tops the validation tracks (871.9 against candidate 13's 865.7), so it becomes the final agent and plays the
# test tracks once in each game. Candidate 13 moves to controller-gymnasium-continued/ with its test scores; the
# diagnosis files written before name its new folder and file names (the sed below: paths only); its test pairing
# is kept as paired_test_gymnasium_continued.txt (the file as it was written, the same sed on its paths).
$L python -m controller evaluate --run-dir $D --tag zmean-min
$L python -m controller evaluate --run-dir $D --tag zmean-min --evaluate.backend envpool
git show 7902bd2:$C/diagnosis/paired_test_final.txt > $C/diagnosis/paired_test_gymnasium_continued.txt
git mv $C/controller $C/controller-gymnasium-continued && git rm -q $C/timings.json
git mv $C/diagnosis/driving_faults_validation_final.txt $C/diagnosis/driving_faults_validation_gymnasium_continued.txt
sed -i 's#carracing-chosen/controller/#carracing-chosen/controller-gymnasium-continued/#g; s#driving_faults_validation_final.txt#driving_faults_validation_gymnasium_continued.txt#g; s#diagnosis/paired_test_final.txt#diagnosis/paired_test_gymnasium_continued.txt#; s#\(driving_faults.py reports/results/carracing-chosen/controller-gymnasium-continued/evaluation_real[a-z_]*.json --run-dir reports/results/carracing-chosen\)#\1 --tag gymnasium-continued#' \
    $C/diagnosis/*.txt
install_final_agent zmean-min
# The choice among fourteen, the pairings of candidate 14 with candidate 13 (validation, both games) and with the
# earlier chosen Cs and the one command's on the test tracks, its slips on validation, the paper budget of its
# lineage, and the report.
THIRTEEN="$TWELVE $C/controller-gymnasium-continued/evaluation_real_validation.json"
python bench/paired_scores.py $THIRTEEN $C/controller/evaluation_real_validation.json \
    --cap 1000 --solved 900 --out $C/diagnosis/choice_validation.txt
python bench/paired_scores.py $C/controller-gymnasium-continued/evaluation_real_validation.json \
    $C/controller/evaluation_real_validation.json --cap 1000 --solved 900 --out $C/diagnosis/paired_validation_min.txt
python bench/paired_scores.py $C/controller-gymnasium-continued/evaluation_real_envpool_validation.json \
    $C/controller/evaluation_real_envpool_validation.json --cap 1000 --solved 900 \
    --out $C/diagnosis/paired_validation_min_envpool.txt
python bench/paired_scores.py $C/controller/evaluation_real.json $C/controller-gymnasium-continued/evaluation_real.json \
    $C/controller-pop64/evaluation_real.json $C/controller-continued/evaluation_real.json \
    $C/controller-first/evaluation_real.json $R/carracing/controller/evaluation_real.json \
    $R/carracing-no-restart/controller/evaluation_real.json --cap 1000 --solved 900 --out $C/diagnosis/paired_test_final.txt
$L python bench/driving_faults.py $C/controller/evaluation_real_validation.json --run-dir $C \
    --out $C/diagnosis/driving_faults_validation_final.txt
python bench/paper_budget.py --out bench/results/paper_budget.txt
rm -rf runs/carracing-chosen && cp -r $C runs/carracing-chosen && rm runs/carracing-chosen/README.md && rm -r runs/carracing-chosen/report
$L python -m reports make --run-dir runs/carracing-chosen
rm -r $C/report && cp -r runs/carracing-chosen/report $C/report
