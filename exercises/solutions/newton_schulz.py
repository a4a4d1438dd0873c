"""Reference solution of exercise 11 (newton_schulz)."""
import torch

COEFFICIENTS = (3.4445, -4.7750, 2.0315)   # a, b, c
EPS = 1e-7


def newton_schulz(G, steps):
    a, b, c = COEFFICIENTS
    X = G / (G.norm() + EPS)
    tall = X.size(0) > X.size(1)
    if tall:
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return X.T if tall else X
