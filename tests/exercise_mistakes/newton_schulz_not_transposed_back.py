"""newton_schulz that works on the wide side of a tall G and returns that, transposed."""
import torch


def newton_schulz(G, steps):
    X = (G.T if G.shape[0] > G.shape[1] else G) / (torch.linalg.norm(G) + 1e-7)
    for _ in range(steps):
        XXt = X @ X.T
        X = 3.4445 * X - 4.7750 * XXt @ X + 2.0315 * XXt @ XXt @ X
    return X
