"""newton_schulz that iterates on a tall G as it is: the right answer, through an m x m X X^T."""
import torch


def newton_schulz(G, steps):
    X = G / (torch.linalg.norm(G) + 1e-7)
    for _ in range(steps):
        XXt = X @ X.T
        X = 3.4445 * X - 4.7750 * XXt @ X + 2.0315 * XXt @ XXt @ X
    return X
