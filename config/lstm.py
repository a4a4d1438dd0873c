# An LSTM on characters, the model of Karpathy's "The Unreasonable Effectiveness of Recurrent
# Neural Networks" (2015): a cell state c that gates write to, erase and read from.
out_dir = 'out-lstm'
model = 'lstm'
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
