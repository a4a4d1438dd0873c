"""Exercise 11 (docs/training.md, the Muon optimizer): one Newton-Schulz orthogonalisation.

Muon (`--optimizer=muon`) steps a hidden weight matrix along its momentum M with every singular
value set to 1: for M = U S V^T, the step goes along U V^T. An SVD per step is slow, so Muon runs a
few iterations of an odd polynomial made of matrix products only, which pushes every singular
value towards 1 and keeps the singular vectors:

    X <- a X + b (X X^T) X + c (X X^T)^2 X,    (a, b, c) = (3.4445, -4.7750, 2.0315)

It acts on each singular value s of X as s <- a s + b s^3 + c s^5, a polynomial that maps [0, 1]
into a band around 1; larger values blow up. Hence:
1. normalise first: X = G / (||G|| + 1e-7), with ||G|| the Frobenius norm (the square root of the
   sum of the squares of all entries); every singular value is then at most 1;
2. work on the wide side: for a tall G (more rows than columns) transpose X, iterate, and
   transpose the result back. The answer is the same either way, but X X^T is then the smaller of
   the two Gram matrices (4 x 4 instead of 64 x 64 for a 64 x 4 G): the check watches the sizes;
3. run `steps` iterations.
After 5 of them every singular value that started above about 0.003 ends within 0.68..1.21.

The task: newton_schulz(G, steps) -> X of G's shape, for a 2-D float64 tensor G (m x n).
Return a new tensor; do not change G in place.

Check: python -m exercises check newton_schulz
(against the project's nanopushkin/optim.py orthogonalize, against the polynomial applied to the
singular values of an SVD, and the band of the singular values)
"""
import torch

COEFFICIENTS = (3.4445, -4.7750, 2.0315)   # a, b, c
EPS = 1e-7


def newton_schulz(G, steps):
    raise NotImplementedError('write newton_schulz')
