# The n-gram MLP of Bengio et al. (2003) on characters: the last `context` characters, embedded
# and joined, through tanh layers to the next character. It sees nothing further back.
# python train.py config/linear.py: 34,224 iterations of 16 x 64 tokens (35M tokens, ~26 passes
# over the 1.3M training characters), what this shape trains on in 10 minutes on an idle 2-core
# CPU (58,409 tokens/s, measured by `python bench/tune.py --stage=speed`, results/tune/).
# The shape and schedule are the best of `python bench/tune.py --archs=linear` at 10% of the
# budget: batch 16 x 64 beat 64 x 64 (2.719 against 2.833 bits/char), and lr 3e-3 beat 6e-3
# (results/tune/results.md).
# Held-out: 2.572 bits/char at the full budget (val loss 1.783; train 1.491), measured by the
# search's confirmation run, `python train.py config/linear.py` with one thread (results/tune/).
out_dir = 'out-linear'
model = 'linear'
context = 16
n_embd = 24
n_hidden = 512
n_layer = 2

batch_size = 16
block_size = 64
max_iters = 34224
learning_rate = 3e-3
min_lr = 3e-4
warmup_iters = 100
eval_interval = 2500
eval_iters = 64                 # 65,536 held-out tokens, as the search measured
expected_val_bits_per_char = 2.572  # printed before training and beside the result
expected_after_tokens = max_iters * batch_size * block_size  # ... after this full budget (a shorter run stops higher)
