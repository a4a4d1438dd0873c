# A plain (Elman) recurrent network on characters: h' = tanh(W_ih x + W_hh h + b). Its memory is
# unlimited in principle, but gradients through many tanh steps vanish, so it learns short contexts.
# python train.py config/rnn.py: 19,320 iterations of 16 x 64 tokens (19.8M tokens, ~15 passes over
# the 1.3M training characters), what this shape trains on in 10 minutes on an idle 2-core CPU
# (32,972 tokens/s, measured by `python bench/tune.py --stage=speed`, results/tune/).
# The shape and schedule are the best of `python bench/tune.py --archs=rnn` at 10% of the budget:
# batch 16 x 64 beat 32 x 128 (2.774 against 3.171 bits/char), and lr 2e-3 beat 4e-3
# (results/tune/results.md).
# Held-out: 2.451 bits/char at the full budget (val loss 1.699; train 1.489), measured by the
# search's confirmation run, `python train.py config/rnn.py` with one thread (results/tune/).
out_dir = 'out-rnn'
model = 'rnn'
n_embd = 64
n_hidden = 384
n_layer = 2

# small steps, many of them: under a CPU budget the number of updates matters most
batch_size = 16
block_size = 64
max_iters = 19320
learning_rate = 2e-3
min_lr = 2e-4
warmup_iters = 100
eval_interval = 2500
eval_iters = 64                 # 65,536 held-out tokens, as the search measured
expected_val_bits_per_char = 2.451  # printed before training and beside the result
expected_after_tokens = max_iters * batch_size * block_size  # ... after this full budget (a shorter run stops higher)
