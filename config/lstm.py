# An LSTM on characters, the model of Karpathy's "The Unreasonable Effectiveness of Recurrent
# Neural Networks" (2015): a cell state c that gates write to, erase and read from.
# python train.py config/lstm.py: 2000 iterations of 4096 tokens (8M tokens, ~6 passes over the
# 1.3M training characters), roughly 10 minutes on a 2-core CPU.
out_dir = 'out-lstm'
model = 'lstm'
n_embd = 64
n_hidden = 384
n_layer = 2

batch_size = 32
block_size = 128
max_iters = 2000
# gated cells sit on the unigram plateau (~3.2 nats) for a while: a higher rate gets them off it sooner
learning_rate = 5e-3
min_lr = 5e-4
warmup_iters = 100
eval_interval = 250
eval_iters = 40
