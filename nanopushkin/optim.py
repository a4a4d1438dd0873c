"""Muon: momentum, made orthogonal, for the hidden weight matrices; AdamW for every other weight.

A gradient step on a weight matrix W (out x in) is dominated by a few directions: the gradient of
a small model's matrix is nearly low-rank, so SGD and Adam mostly grow the directions that are
already large. Muon (Keller Jordan, 2024; the optimizer of the modded-nanogpt speedrun records)
keeps the momentum's directions and throws away their sizes: with the momentum M = U S V^T (its
singular value decomposition) the update is U V^T, every direction moved by the same amount.
Computing an SVD every step is slow; a few Newton-Schulz iterations, a polynomial of M made of
matrix products only, bring every singular value close to 1 instead (`orthogonalize`).

That is for matrices that map one hidden vector to another. The embeddings are lookup tables
(a row per token, updated only when the token occurs), the output layer's rows are per token too,
and gains and biases are vectors: they keep AdamW, hand-written here in torch's exact formula so
that one optimizer (one state_dict, one checkpoint) holds both.
"""

import torch
import torch.nn as nn

# The quintic Newton-Schulz iteration of Muon, X <- a X + b (X X^T) X + c (X X^T)^2 X, acts on each
# singular value s of X as s <- a s + b s^3 + c s^5. These coefficients (Keller Jordan's) make the
# slope at 0 as steep as possible (a = 3.4445), so that small singular values grow fast, at the
# price of not converging exactly: after 5 iterations a singular value s in [0.003, 1] of the
# normalised matrix ends in the band [0.68, 1.21] around 1 rather than at 1, as good for an update
# (only a direction far weaker than the whole, s < 0.003, stays smaller).
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5


def orthogonalize(G, steps=NS_STEPS, eps=1e-7):
    """G (m x n) with its singular values moved close to 1 and its singular vectors kept: about
    U V^T for G = U S V^T. X starts as G / ||G||_F, so every singular value is at most 1, where the
    iteration's polynomial maps [0, 1] into the band around 1."""
    a, b, c = NS_COEFFICIENTS
    X = G / (G.norm() + eps)
    tall = X.size(0) > X.size(1)
    if tall:  # work on the wide side: X X^T is then the smaller of the two Gram matrices
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X


def hidden_matrices(model):
    """The weights Muon updates: every 2-D parameter except the embeddings' lookup tables and the
    output layer (model.lm_head, which every model here has; a GPT's tied one is the token embedding)."""
    lookups = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    excluded = lookups | {id(model.lm_head.weight)}
    return [p for p in model.parameters() if p.requires_grad and p.dim() == 2 and id(p) not in excluded]


class Muon(torch.optim.Optimizer):
    """Muon for the parameter groups that have 'muon': True (lr, momentum), AdamW for the others
    (lr, betas, eps, weight_decay). Muon's matrices have weight decay only if their group asks for it
    (the original has none)."""

    def __init__(self, param_groups, lr, momentum=0.95, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.0):
        defaults = dict(lr=lr, momentum=momentum, betas=betas, eps=eps, weight_decay=weight_decay, muon=False)
        super().__init__(param_groups, defaults)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            update = muon_update if group['muon'] else adamw_update
            for p in group['params']:
                if p.grad is not None:
                    update(p, self.state[p], group)


def muon_update(p, state, group):
    """Nesterov momentum, orthogonalised. M <- mu M + g; the step goes along orthogonalize(g + mu M),
    the momentum one step ahead, scaled so that its entries have RMS lr / sqrt(in_features) whatever
    the shape: an orthogonal out x in matrix has entries of RMS 1/sqrt(max(out, in)), and a tall one
    (out > in) is multiplied by sqrt(out / in). Weight decay, if any, is decoupled as in AdamW: W <- (1 - lr wd) W
    before the step. It holds the matrices near the size where shrinking and the updates balance, a
    regulariser for a model that reads its data many times over."""
    if 'momentum_buffer' not in state:
        state['momentum_buffer'] = torch.zeros_like(p)
    buf, mu = state['momentum_buffer'], group['momentum']
    buf.mul_(mu).add_(p.grad)
    direction = orthogonalize(p.grad.add(buf, alpha=mu))
    p.mul_(1 - group['lr'] * group['weight_decay'])
    p.add_(direction, alpha=-group['lr'] * max(1.0, p.size(0) / p.size(1)) ** 0.5)


def adamw_update(p, state, group):
    """AdamW (Loshchilov & Hutter, 2019) as torch.optim.AdamW computes it: running means of the
    gradient and of its square, both corrected for starting at zero, the step their ratio; the
    weight decay shrinks the weight directly rather than through the gradient."""
    if 'step' not in state:
        state['step'], state['exp_avg'], state['exp_avg_sq'] = 0, torch.zeros_like(p), torch.zeros_like(p)
    state['step'] += 1
    t, (beta1, beta2), lr = state['step'], group['betas'], group['lr']
    state['exp_avg'].lerp_(p.grad, 1 - beta1)                               # m <- b1 m + (1 - b1) g
    state['exp_avg_sq'].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)  # v <- b2 v + (1 - b2) g^2
    p.mul_(1 - lr * group['weight_decay'])
    denominator = (state['exp_avg_sq'].sqrt() / (1 - beta2 ** t) ** 0.5).add_(group['eps'])
    p.addcdiv_(state['exp_avg'], denominator, value=-lr / (1 - beta1 ** t))
