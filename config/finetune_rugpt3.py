# Fine-tune ruGPT3-medium (356M parameters, a GPT-2 trained on 80B tokens of Russian) on Pushkin.
#
# 1. tokenize the corpus with the model's own tokenizer (this downloads the model once, ~1.7 GB into
#    ~/.cache/nanopushkin or $NANOPUSHKIN_CACHE, where step 2 finds it):
#      python data/pushkin/prepare.py --tokenizer=pretrained:rugpt3medium
#    which writes data/pushkin/pretrained-rugpt3medium/. Offline, its error message lists the files
#    to fetch elsewhere and the cache folder to put them in; then the same command works.
# 2. python train.py config/finetune_rugpt3.py
# 3. python sample.py --out_dir=out-rugpt3-pushkin --start="Мой дядя самых честных правил"
#    python -m nanopushkin.hf export --out_dir=out-rugpt3-pushkin --to=rugpt3-pushkin   (a GPT-2 folder)
#
# Memory, for batch_size 2 x block_size 512 in bfloat16 (the trainer prints its own estimate):
#   parameters 355,871,744 = wte 50257*1024 + wpe 2048*1024 + 24 blocks * 12,596,224 + ln_f 2048
#   weights    4 bytes each (float32 master copy)      1.42 GB
#   gradients  4 bytes each                             1.42 GB
#   AdamW      2 averages * 4 bytes                     2.85 GB   -> 16 bytes/param = 5.69 GB
#   activations (Korthikanti et al.: 34*n_embd + 5*n_head*block_size bytes per token and layer with
#              2-byte activations) 34*1024 + 5*16*512 = 76 KB,
#              * 24 layers * 1024 tokens = 1.86 GB; plus logits and their gradient in float32,
#              1024 tokens * 50257 * 2 * 4 bytes = 0.41 GB
#   total about 8.0 GB (7.4 GiB): the trainer's estimate. Not in it: autocast's bfloat16 copies of the
#   weights (2 bytes/param, 0.71 GB), the CUDA context and allocator slack (~1-2 GB): ~10 GB, fits 16 GB.
#   gradient_checkpointing = True keeps only each block's input: activations 1.86 GB -> 0.13 GB,
#   for ~30% more compute; needed on 8-12 GB cards, or to raise batch_size.

init_from = 'rugpt3medium'      # or a folder in GPT-2 format (config.json, vocab.json, merges.txt, weights)
data_dir = 'data/pushkin/pretrained-rugpt3medium'
out_dir = 'out-rugpt3-pushkin'

# the corpus is ~1.4M characters, ~0.4M ruGPT3 tokens: one pass is ~45 iterations of 8192 tokens
block_size = 512                # training windows; the model itself has 2048 positions
batch_size = 2
gradient_accumulation_steps = 8  # 2 * 512 * 8 = 8192 tokens per optimizer step
max_iters = 150                 # ~3 passes over the training works; more overfits a 356M model
eval_interval = 25
eval_iters = 20
# a checkpoint with optimizer state (ckpt.pt, to resume from) is ~4.3 GB: none is written, at the end
# or on Ctrl-C; only best.pt (~1.4 GB, the weights with the lowest val loss) is kept. Set it to True
# to be able to continue with --init_from=resume (ckpt.pt is then written at the end and on Ctrl-C,
# and also at every evaluation with always_save_checkpoint = True).
resume_checkpoint = False
always_save_checkpoint = False

# a pretrained model needs small steps: a large learning rate destroys what it knows
learning_rate = 3e-5
decay_lr = True
warmup_iters = 10
min_lr = 3e-6
weight_decay = 0.1
beta2 = 0.99
grad_clip = 1.0

dtype = 'bfloat16'
gradient_checkpointing = False
compile = False
