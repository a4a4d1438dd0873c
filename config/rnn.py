# A plain (Elman) recurrent network on characters: h' = tanh(W_ih x + W_hh h + b). Its memory is
# unlimited in principle, but gradients through many tanh steps vanish, so it learns short contexts.
# python train.py config/rnn.py: 2000 iterations of 4096 tokens (8M tokens, ~6 passes over the
# 1.3M training characters), about 8 minutes (16-18k tokens/s on one thread of a busy 2-core machine).
# Held-out: 2.534 bits/char (val loss 1.756; train 1.599), measured with
# `python train.py config/rnn.py --threads=1`. Not searched yet (bench/tune.py --archs=rnn).
out_dir = 'out-rnn'
model = 'rnn'
n_embd = 64
n_hidden = 384
n_layer = 2

batch_size = 32
block_size = 128
max_iters = 2000
learning_rate = 2e-3
min_lr = 2e-4
warmup_iters = 100
eval_interval = 250
eval_iters = 40
expected_val_bits_per_char = 2.534  # printed before training and beside the result
