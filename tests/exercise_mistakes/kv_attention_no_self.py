"""attention_step that attends to the cache before adding the new position: the query never sees its
own key (as a causal mask without its diagonal). The first position has nothing to attend to, so it
attends to itself."""
import math

import torch


def attention_step(q, k, v, cache):
    if cache is None:
        keys, values = k, v
        past_k, past_v = k, v
    else:
        past_k, past_v = cache
        keys, values = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
    w = (q @ past_k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(dim=-1)
    return w @ past_v, (keys, values)
