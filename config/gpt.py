# A small GPT on characters (a smaller cousin of nanoGPT's shakespeare_char): 4 Transformer
# blocks of causal self-attention that look at all 128 previous characters at once.
# python train.py config/gpt.py: 2000 iterations of 4096 tokens (8M tokens, ~6 passes over the
# 1.3M training characters), roughly 10 minutes on a 2-core CPU.
out_dir = 'out-gpt'
model = 'gpt'
n_layer = 4
n_head = 4
n_embd = 128
dropout = 0.0
bias = False                    # no biases in the Linear layers and LayerNorms (GPT-2 has them)

batch_size = 32
block_size = 128
max_iters = 2000
learning_rate = 2e-3
min_lr = 2e-4
warmup_iters = 100
eval_interval = 250
eval_iters = 40
