# A GRU on characters: gates decide how much of the old state to keep, so information (and
# gradients) survive over longer stretches of text than in a plain RNN.
# python train.py config/gru.py: 3,099 iterations of 16 x 128 tokens (6.3M tokens, ~5 passes over
# the 1.3M training characters), what this shape trains on in 10 minutes on an idle 2-core CPU
# (10,578 tokens/s, measured by `python bench/tune.py --stage=speed`, results/tune/).
# The shape and schedule are the best of `python bench/tune.py --archs=gru` at 10% of the budget:
# one layer of 512 with batch 16 x 128 beat two layers of 384 with 32 x 128 or 16 x 64 (3.081
# against 3.738 and 3.239 bits/char), and lr 8e-3 beat 5e-3 and 3e-3 (results/tune/results.md).
# Held-out: 2.456 bits/char at the full budget (val loss 1.702; train 1.454), measured by the
# search's confirmation run, `python train.py config/gru.py` with one thread (results/tune/).
out_dir = 'out-gru'
model = 'gru'
n_embd = 64
n_hidden = 512
n_layer = 1

# small steps, many of them: under a CPU budget the number of updates matters most
batch_size = 16
block_size = 128
max_iters = 3099
# gated cells sit on the unigram plateau (~3.2 nats) for a while: a higher rate gets them off it sooner
learning_rate = 8e-3
min_lr = 8e-4
warmup_iters = 100
eval_interval = 500
eval_iters = 32                 # 65,536 held-out tokens, as the search measured
expected_val_bits_per_char = 2.456  # printed before training and beside the result
expected_after_tokens = max_iters * batch_size * block_size  # ... after this full budget (a shorter run stops higher)
