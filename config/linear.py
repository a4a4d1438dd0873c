# The n-gram MLP of Bengio et al. (2003) on characters: the last `context` characters, embedded
# and joined, through tanh layers to the next character. It sees nothing further back.
# python train.py config/linear.py: 2000 iterations of 4096 tokens (8M tokens, ~6 passes over the
# 1.3M training characters), roughly 10 minutes on a 2-core CPU.
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
