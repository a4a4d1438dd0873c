"""newton_schulz that iterates on G itself, without dividing by its norm first."""


def newton_schulz(G, steps):
    X = G.T if G.shape[0] > G.shape[1] else G
    for _ in range(steps):
        XXt = X @ X.T
        X = 3.4445 * X - 4.7750 * XXt @ X + 2.0315 * XXt @ XXt @ X
    return X.T if G.shape[0] > G.shape[1] else X
