# A GRU on characters: gates decide how much of the old state to keep, so information (and
# gradients) survive over longer stretches of text than in a plain RNN.
out_dir = 'out-gru'
model = 'gru'
n_embd = 64
n_hidden = 384
n_layer = 2

batch_size = 32
block_size = 128
max_iters = 2000
lr_decay_iters = 2000
learning_rate = 2e-3
min_lr = 2e-4
warmup_iters = 100
eval_interval = 250
eval_iters = 40
