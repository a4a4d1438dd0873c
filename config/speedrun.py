# The speedrun (issue 21): config/gpt.py's GPT with the newer ideas of the small-model speedruns
# (modded-nanogpt, nanochat) all on: rotary positions, RMSNorm, normalised queries and keys, a ReLU^2
# MLP, an untied output layer started at zero, and Muon for the hidden matrices (AdamW for the rest).
# Its figure is NOT yet measured: the shape and schedule below are a first guess, to be replaced by
# the measured record. Same data, shape and context as config/gpt.py, so the two differ only by the
# ideas; the batch is twice gpt.py's because Muon's Newton-Schulz iterations cost the same per step
# whatever the batch (1.2 billion multiply-adds at this shape, a third of a 24 x 64 forward+backward).
# max_iters is an estimate of 10 idle minutes on 2 cores: gpt.py's 19,105 tokens/s slowed by that
# third, about 14,000 tokens/s, 8.4M tokens; measure the speed and set it from that.
# The ablation (python bench/speedrun.py --stage=ablation --fraction=0.25, docs/training.md) found
# Muon and rotary the two that matter, and the untied output hurting with AdamW: this recipe is a
# candidate, not yet the record.
# prepare: python data/pushkin/prepare.py
out_dir = 'out-speedrun'
data_dir = 'data/pushkin/char'
model = 'gpt'
n_layer = 4
n_head = 4
n_embd = 128
dropout = 0.0
bias = False
rotary = True                   # rotary position embeddings (no learned positions)
rmsnorm = True                  # RMSNorm instead of LayerNorm
qk_norm = True                  # normalised queries and keys
relu2 = True                    # ReLU(x)^2 MLP instead of GELU
untied = True                   # own output layer; it and the blocks' output projections start at zero

optimizer = 'muon'              # Muon for the blocks' matrices, AdamW for embeddings, output layer, gains
muon_lr = 0.02
muon_momentum = 0.95
learning_rate = 2e-3            # AdamW's, as tuned for config/gpt.py
min_lr = 2e-4                   # both decay to a tenth: Muon's to muon_lr / 10

batch_size = 24
block_size = 64
max_iters = 5500
warmup_iters = 100
eval_interval = 1000
eval_iters = 43                 # 43 x 24 x 64: the same held-out tokens as gpt.py's 86 x 12 x 64
