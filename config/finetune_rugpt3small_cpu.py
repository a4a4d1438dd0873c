# Fine-tune ruGPT3-small (ai-forever/rugpt3small_based_on_gpt2: 125M parameters, 12 layers, 768
# dims, the same Russian tokenizer as ruGPT3-medium) on Pushkin without a GPU, on a 2-core CPU.
#
# 1. python data/pushkin/prepare.py --src=../shared/data/pushkin --tokenizer=pretrained:rugpt3small
#    (downloads the model once, ~0.5 GB, and writes data/pushkin/pretrained-rugpt3small/)
# 2. python train.py config/finetune_rugpt3small_cpu.py
# 3. python sample.py --out_dir=out-rugpt3small-pushkin --start="Мой дядя самых честных правил"
#
# Why these values (figures: `python bench/rugpt3.py --shape=rugpt3small ...`, results/rugpt3/):
# - float32: bfloat16 autocast was 1.5-1.9x slower than float32 at ruGPT3-medium's shape on a CPU
#   with AVX-512 BF16 but no AMX (results/rugpt3/); float32 works everywhere.
# - block_size 256 (about 900 characters: a stanza, a paragraph) instead of 512: the model keeps its
#   2048 positions, and shorter windows cost less attention per token.
# - no gradient checkpointing: memory is not short. The trainer's estimate at this shape is 3.0 GB
#   (weights 0.5, gradients 0.66, AdamW 1.0, activations 0.82 GB, of which the 50,264-wide logits
#   and their gradients are 0.51), measured 3.25 GB; checkpointing measured 3.13 GB: it saves 0.12 GB.
# - a token budget, max_tokens: one pass over the training works, about 400k ruGPT3 tokens (the
#   1.32M training characters at ~3.3 characters per token; prepare.py prints the exact count).
# Measured at this shape (random weights, `python bench/rugpt3.py --shape=rugpt3small --parts=train
# --batch_sizes=2 --block_size=256 --dtypes=float32 --checkpointing=off,on --accumulation=4 --steps=1`)
# on an idle 2-core CPU: 9.6 s per step of 2048 tokens (19 s of CPU time of its two threads), so one
# pass of ~195 steps takes about 31 minutes.
init_from = 'rugpt3small'       # or a GPT-2-format folder
data_dir = 'data/pushkin/pretrained-rugpt3small'
out_dir = 'out-rugpt3small-pushkin'
device = 'cpu'
dtype = 'float32'
compile = False
gradient_checkpointing = False

block_size = 256
batch_size = 2
gradient_accumulation_steps = 4  # 2 * 256 * 4 = 2048 tokens per optimizer step
max_tokens = 400_000            # one pass over the training works: ~195 steps
max_iters = 100_000             # the token budget ends the run first
eval_interval = 50
eval_iters = 8
always_save_checkpoint = False  # a checkpoint with the optimizer is ~1.5 GB: keep only best.pt

# a pretrained model needs small steps: a large learning rate destroys what it knows
learning_rate = 5e-5
decay_lr = True
warmup_iters = 10
min_lr = 5e-6
weight_decay = 0.1
beta2 = 0.99
grad_clip = 1.0
