"""
How far can one P(Pushkin) go on single 500-character passages of works it has never seen?

The style meter's goal was an AUC of at least 0.95 against every contrast author on held-out
passages. It misses it against Lermontov and Nekrasov. This script asks whether a better read-out
or another kind of model would reach it, on the same data and the same split as `style.py train`:

  1. the meter: P(Pushkin), the softmax share of Pushkin among the five authors (as style.py train)
  2. the meter's pair margin, score(Pushkin) - score(that author): "Pushkin or this author?" asked
     alone. Not a meter (it needs to know which author to ask about), but it shows how much the
     five-way P loses
  3. a character n-gram language model per author (interpolated absolute discounting, the classic
     compression-style authorship classifier): P(Pushkin) from the five log-likelihoods with equal
     priors, and its pair margin
  4. oracle read-outs: the linear combination of the meter's five scores, of the five language
     models' log-likelihoods, or of all ten, that maximizes the smallest of the four AUCs, fit *on
     the held-out passages themselves*. That is cheating on purpose: it is an optimistic bound for
     any P(Pushkin) read linearly off these scores.

Usage: python bench/style_ceiling.py [--pushkin_dir=...] [--contrast_dir=...] [--order=8]
Takes about a minute on 2 CPU cores. The figures are in results/style/README.md.
"""
import os
import sys
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run without installing

import numpy as np
import torch

from nanopushkin.config import main_parse
from nanopushkin.style import (PUSHKIN, StyleConfig, featurize, fit_meter, inverse_document_frequency,
                               labelled_passages, pair_margins, passages_of, read_authors, roc_auc,
                               window_hashes)


@dataclass
class CeilingConfig:
    pushkin_dir: str = ''                          # '' = corpus.find_corpus(), as style.py train
    contrast_dir: str = '../shared/data/contrast'
    order: int = 8                                 # the language models see up to order-1 characters back
    discount: float = 0.75                         # absolute discount of every count
    oracle_steps: int = 1500


class CharNgramLM:
    """A character n-gram language model with interpolated absolute discounting:

        p(c | h) = max(n(hc) - d, 0) / n(h)  +  d * t(h) / n(h) * p(c | h')

    h is the context (up to order-1 characters), h' the same without its first character, n(.)
    counts in the training text, t(h) the number of distinct characters seen after h, and below
    the empty context p = 1 / alphabet. A context never seen passes p(c | h') on unchanged.
    n-grams are counted by their 64-bit hashes (style.window_hashes), exact but for collisions.
    """

    def __init__(self, text: str, order: int, discount: float):
        self.discount = discount
        self.alphabet = len(set(text)) + 1                   # + 1: characters never seen
        codes = np.array([ord(c) for c in text], dtype=np.uint64)
        self.tables = []                                     # one per context length k = 0..order-1
        for k in range(order):
            grams, contexts = window_hashes(codes, k + 1), window_hashes(codes, k)[:len(codes) - k]
            gram_keys, first, gram_counts = np.unique(grams, return_index=True, return_counts=True)
            context_keys, context_of_gram = np.unique(contexts[first], return_inverse=True)
            context_counts = np.bincount(context_of_gram, weights=gram_counts)   # n(h)
            context_types = np.bincount(context_of_gram).astype(float)          # t(h)
            self.tables.append((gram_keys, gram_counts.astype(float), context_keys, context_counts,
                                context_types))

    @staticmethod
    def lookup(keys, table_keys, values):
        i = np.minimum(np.searchsorted(table_keys, keys), len(table_keys) - 1)
        return np.where(table_keys[i] == keys, values[i], 0.0)

    def log_likelihood(self, text: str) -> float:
        """log p(text), each character given the ones before it in the text."""
        codes = np.array([ord(c) for c in text], dtype=np.uint64)
        p = np.full(len(codes), 1.0 / self.alphabet)
        for k, (gram_keys, gram_counts, context_keys, context_counts, context_types) in enumerate(self.tables):
            if k >= len(codes):
                break                                        # characters 0..k-1 keep a shorter context
            grams, contexts = window_hashes(codes, k + 1), window_hashes(codes, k)[:len(codes) - k]
            n_hc = self.lookup(grams, gram_keys, gram_counts)
            n_h = self.lookup(contexts, context_keys, context_counts)
            t_h = self.lookup(contexts, context_keys, context_types)
            shorter = p[k:]
            seen = n_h > 0
            p[k:] = np.where(seen, (np.maximum(n_hc - self.discount, 0) + self.discount * t_h * shorter)
                             / np.where(seen, n_h, 1), shorter)
        return float(np.log(p).sum())


def aucs(scores: dict[str, np.ndarray], authors) -> list[float]:
    """Held-out AUC of Pushkin's passages against each contrast author's, by one score per passage."""
    return [roc_auc(scores[PUSHKIN], scores[a]) for a in authors[1:]]


def oracle(features: dict[str, np.ndarray], authors, steps) -> list[float]:
    """The AUCs of the linear read-out x . a that maximizes the smallest AUC on these very passages:
    gradient descent on a smooth maximum over authors of the pairwise logistic loss (a smooth
    stand-in for 1 - AUC), the features standardized first."""
    stacked = np.concatenate([features[a] for a in authors])
    mean, std = stacked.mean(0), stacked.std(0) + 1e-9
    x = {a: torch.tensor((features[a] - mean) / std, dtype=torch.float64) for a in authors}
    weights = torch.zeros(stacked.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([weights], lr=0.05)
    for _ in range(steps):
        pushkin = x[PUSHKIN] @ weights
        losses = torch.stack([torch.nn.functional.softplus(-(pushkin[:, None] - (x[a] @ weights)[None, :])).mean()
                              for a in authors[1:]])
        loss = torch.logsumexp(20 * losses, 0) / 20        # ~ the worst author's loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return aucs({a: (x[a] @ weights).detach().numpy() for a in authors}, authors)


def main(cfg: CeilingConfig):
    t0 = time.time()
    splits = read_authors(cfg.pushkin_dir, cfg.contrast_dir)
    held_out = {a: passages_of(s[1]) for a, s in splits.items()}

    # 1, 2: the meter, trained exactly as style.py train trains it (with its default settings)
    texts, labels = labelled_passages(splits, 0)
    idf = inverse_document_frequency(texts)
    meter = fit_meter(featurize(texts, idf=idf), labels, 'logreg', StyleConfig(), idf)
    authors = meter.authors
    meter_scores = {a: meter.scores_of_features(featurize(held_out[a], idf=idf)) for a in authors}
    meter_p = {a: meter.probs_of_scores(s) for a, s in meter_scores.items()}
    print(f'meter trained ({time.time() - t0:.0f}s)', flush=True)

    # 3: one language model per author, on the same training passages
    models = {a: CharNgramLM(' '.join(p for p, label in zip(texts, labels) if label == a), cfg.order,
                             cfg.discount) for a in authors}
    lm_scores = {a: torch.tensor([[models[m].log_likelihood(p) for m in authors] for p in held_out[a]],
                                 dtype=torch.float64) for a in authors}
    lm_p = {a: (s[:, 0] - torch.logsumexp(s, 1)).numpy() for a, s in lm_scores.items()}   # log P(Pushkin)
    print(f'language models of order {cfg.order} trained and scored ({time.time() - t0:.0f}s)', flush=True)

    rows = [('the meter: P(Pushkin)', aucs(meter_p, authors)),
            ('the meter: pair margin', [roc_auc(*m) for m in pair_margins(meter_scores, authors).values()]),
            (f'{cfg.order}-gram LMs: P(Pushkin)', aucs(lm_p, authors)),
            (f'{cfg.order}-gram LMs: pair margin', [roc_auc(*m) for m in pair_margins(lm_scores, authors).values()])]
    for name, features in (('meter scores', {a: s.numpy() for a, s in meter_scores.items()}),
                           ('LM log-likelihoods', {a: s.numpy() for a, s in lm_scores.items()}),
                           ('both', {a: np.concatenate([meter_scores[a].numpy(), lm_scores[a].numpy()], 1)
                                     for a in authors})):
        rows.append((f'oracle read-out of {name}', oracle(features, authors, cfg.oracle_steps)))

    print(f'\nheld-out passages: ' + ', '.join(f'{a} {len(held_out[a])}' for a in authors))
    print(f'{"AUC against":<36}' + ''.join(f'{a:>10}' for a in authors[1:]) + f'{"min":>8}')
    for name, values in rows:
        print(f'{name:<36}' + ''.join(f'{v:>10.3f}' for v in values) + f'{min(values):>8.3f}')
    print(f'\n{time.time() - t0:.0f}s in all')


if __name__ == '__main__':
    main(main_parse(CeilingConfig, sys.argv[1:], config_file_allowed=False))
