# The n-gram MLP of Bengio et al. (2003) on characters: the last `context` characters, embedded
# and joined, through tanh layers to the next character. It sees nothing further back.
# python train.py config/linear.py: 2000 iterations of 4096 tokens (8M tokens, ~6 passes over the
# 1.3M training characters), about 4 minutes (34k tokens/s on one thread of a busy 2-core machine).
# Held-out: 2.653 bits/char (val loss 1.839; train 1.652), measured with
# `python train.py config/linear.py --threads=1`. Not searched yet (bench/tune.py --archs=linear).
out_dir = 'out-linear'
model = 'linear'
context = 16
n_embd = 24
n_hidden = 512
n_layer = 2

batch_size = 64
block_size = 64
max_iters = 2000
learning_rate = 3e-3
min_lr = 3e-4
warmup_iters = 100
eval_interval = 250
eval_iters = 40
expected_val_bits_per_char = 2.653  # printed before training and beside the result
