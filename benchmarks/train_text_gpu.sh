#!/bin/bash
# Train the SeqGAN checkpoints on one GPU, concurrently: the schedule measured on an H100
# (benchmarks/RESULTS-text.md). Usage, from the repository root:
#   benchmarks/train_text_gpu.sh DATA_DIR OUT_DIR [oracle] [coco] [poems]
# DATA_DIR holds seqgan_oracle/oracle.npz, coco_captions/{train,test}.txt, chinese_poems/poems.txt.
set -u
DATA=$1; OUT=$2; shift 2
MODELS=${*:-oracle coco poems}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
ADV="--d-batch-size 512 --d-lr 4e-4 --d-rounds 1 --d-epochs 1 --twin-every 3 --time-limit 380"
for m in $MODELS; do
  case $m in
    oracle) python -m training text --data "$DATA/seqgan_oracle/oracle.npz" --out "$OUT/oracle-seqgan" --run-dir "$OUT/run-oracle" \
              --d-pretrain-rounds 25 --epochs 150 $ADV > "$OUT/oracle.log" 2>&1 & ;;
    coco)   python -m training text --data "$DATA/coco_captions/train.txt" --test-data "$DATA/coco_captions/test.txt" \
              --emb-dim 64 --hidden-dim 128 --out "$OUT/coco-seqgan" --run-dir "$OUT/run-coco" \
              --mle-epochs 40 --d-pretrain-rounds 20 --epochs 100 $ADV > "$OUT/coco.log" 2>&1 & ;;
    poems)  python -m training text --data "$DATA/chinese_poems/poems.txt" --kind char --holdout 0.1 \
              --emb-dim 64 --hidden-dim 128 --out "$OUT/poems-seqgan" --run-dir "$OUT/run-poems" \
              --mle-epochs 40 --d-pretrain-rounds 20 --epochs 100 $ADV > "$OUT/poems.log" 2>&1 & ;;
  esac
done
wait
