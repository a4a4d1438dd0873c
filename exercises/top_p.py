"""Exercise 9 (journey chapter 7, sampling): top-p (nucleus) filtering.

Top-k keeps a fixed number of tokens, whether the model is sure or not. Top-p adapts: keep the
smallest set of most likely tokens whose probabilities add up to at least p, and drop the rest.
When the model is sure, that is one or two tokens; when it hesitates, many.

Precisely: sort the tokens by probability (softmax of the logits), most likely first, and add up
their probabilities. A token is kept if the probability of the tokens before it is still below p;
so the token whose probability makes the sum reach or cross p is kept, and the most likely token
is always kept. Dropped tokens get the logit -inf. p = 1.0 keeps everything.

The task: keep_top_p(logits, p) -> new logits, for logits (B, V), each row on its own, 0 < p <= 1.
Return a new tensor; do not change `logits` in place.

Check: python -m exercises check top_p
(against the project's nanopushkin/sampling.py keep_top_p)
"""
import torch


def keep_top_p(logits, p: float):
    raise NotImplementedError('write keep_top_p')
