# A small GPT on characters (a smaller cousin of nanoGPT's shakespeare_char): 4 Transformer
# blocks of causal self-attention that look at all 128 previous characters at once.
out_dir = 'out-gpt'
model = 'gpt'
n_layer = 4
n_head = 4
n_embd = 128
dropout = 0.0

batch_size = 32
block_size = 128
max_iters = 2000
lr_decay_iters = 2000
learning_rate = 1e-3
min_lr = 1e-4
warmup_iters = 100
eval_interval = 250
eval_iters = 40
