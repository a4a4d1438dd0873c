# A GRU on characters: gates decide how much of the old state to keep, so information (and
# gradients) survive over longer stretches of text than in a plain RNN.
# python train.py config/gru.py: 2,190 iterations of 4096 tokens (9.0M tokens, ~7 passes over the
# 1.3M training characters), what this model trains on in 10 minutes on an idle 2-core CPU
# (9,788 tokens per CPU second on one thread, measured by bench/tune.py's timing at a load of
# 12; a second timing at a load of 15 gave 7,498, results/tune/; the first agrees with the 14.8k
# tokens/s this config ran on a 2-core CPU in results/char-300s). Shape and schedule not
# searched yet.
# Held-out bits/char at the full budget: not measured yet (`python train.py config/gru.py`).
out_dir = 'out-gru'
model = 'gru'
n_embd = 64
n_hidden = 384
n_layer = 2

batch_size = 32
block_size = 128
max_iters = 2190
# gated cells sit on the unigram plateau (~3.2 nats) for a while: a higher rate gets them off it sooner
learning_rate = 5e-3
min_lr = 5e-4
warmup_iters = 100
eval_interval = 250
eval_iters = 16
