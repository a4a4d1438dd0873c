"""newton_schulz whose loop runs steps - 1 times."""
import torch


def newton_schulz(G, steps):
    tall = G.shape[0] > G.shape[1]
    X = (G.T if tall else G) / (torch.linalg.norm(G) + 1e-7)
    for _ in range(1, steps):
        XXt = X @ X.T
        X = 3.4445 * X - 4.7750 * XXt @ X + 2.0315 * XXt @ XXt @ X
    return X.T if tall else X
