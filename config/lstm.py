# An LSTM on characters, the model of Karpathy's "The Unreasonable Effectiveness of Recurrent
# Neural Networks" (2015): a cell state c that gates write to, erase and read from.
# python train.py config/lstm.py: 5,673 iterations of 16 x 64 tokens (5.8M tokens, ~4 passes over
# the 1.3M training characters), what this shape trains on in 10 minutes on an idle 2-core CPU
# (9,682 tokens/s, measured by `python bench/tune.py --stage=speed`, results/tune/).
# The shape and schedule are the best of `python bench/tune.py --archs=lstm` at 10% of the budget:
# batch 16 x 64 beat 32 x 128 (3.248 against 3.828 bits/char: three times the updates), and
# lr 8e-3 beat 5e-3 (results/tune/results.md).
# Held-out: 2.456 bits/char at the full budget (val loss 1.702; train 1.561), measured by the
# search's confirmation run, `python train.py config/lstm.py` with one thread (results/tune/).
out_dir = 'out-lstm'
model = 'lstm'
n_embd = 64
n_hidden = 384
n_layer = 2

# small steps, many of them: under a CPU budget the number of updates matters most
batch_size = 16
block_size = 64
max_iters = 5673
# gated cells sit on the unigram plateau (~3.2 nats) for a while: a higher rate gets them off it sooner
learning_rate = 8e-3
min_lr = 8e-4
warmup_iters = 100
eval_interval = 500
eval_iters = 64                 # 65,536 held-out tokens, as the search measured
expected_val_bits_per_char = 2.456  # printed before training and beside the result
expected_after_tokens = max_iters * batch_size * block_size  # ... after this full budget (a shorter run stops higher)
