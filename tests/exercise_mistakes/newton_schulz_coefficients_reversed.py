"""newton_schulz with the coefficients in the order c, b, a."""
import torch

COEFFICIENTS = (2.0315, -4.7750, 3.4445)


def newton_schulz(G, steps):
    a, b, c = COEFFICIENTS
    tall = G.shape[0] > G.shape[1]
    X = (G.T if tall else G) / (torch.linalg.norm(G) + 1e-7)
    for _ in range(steps):
        XXt = X @ X.T
        X = a * X + b * XXt @ X + c * XXt @ XXt @ X
    return X.T if tall else X
