# A small GPT on characters (a smaller cousin of nanoGPT's shakespeare_char): 4 Transformer
# blocks of causal self-attention that look at the 64 previous characters at once.
# python train.py config/gpt.py: 14,926 iterations of 12 x 64 tokens (11.5M tokens, ~9 passes over
# the 1.3M training characters), what this shape trains on in 10 minutes on an idle 2-core CPU
# (19,105 tokens/s, measured by `python bench/tune.py --stage=speed`, results/tune/). The shape is
# the best of `python bench/tune.py --archs=gpt --stage=screen --fraction=0.05`: at 5% of the
# budget, batch 12 x 64 beat 24 x 64, 8 x 128 and a 6-layer 192-wide model, lr 2e-3 beat 1e-3 and
# 3e-3, and warmup 300 tied 100 (results/tune/results.md).
# Held-out: 2.416 bits/char at the full budget (val loss 1.675; train 1.496), measured with
# `python train.py config/gpt.py --threads=1`. nanoGPT's stock CPU recipe reached 2.71 in 10 minutes.
out_dir = 'out-gpt'
model = 'gpt'
n_layer = 4
n_head = 4
n_embd = 128
dropout = 0.0
bias = False                    # no biases in the Linear layers and LayerNorms (GPT-2 has them)

# small steps, many of them: under a CPU budget the number of updates matters most
batch_size = 12
block_size = 64
max_iters = 14926
learning_rate = 2e-3
min_lr = 2e-4
warmup_iters = 100
eval_interval = 2000
eval_iters = 86
expected_val_bits_per_char = 2.416  # printed before training and beside the result
expected_after_tokens = max_iters * batch_size * block_size  # ... after this full budget (a shorter run stops higher)
