"""Corpus statistics as pictures: Zipf's law, token frequencies, and how big a BPE vocabulary to use.

    zipf.png            word frequency against rank, log-log: close to a straight line of slope -1
                        (Zipf's law); the long tail of words seen once or twice is what makes
                        word-level vocabularies hopeless on a corpus this size
    token_ranks.png     the same for the tokens of a BPE tokenizer: flatter, because BPE spends
                        its vocabulary on frequent pieces and spells rare words out of them
    vocab_coverage.png  for each BPE vocabulary size, the share of its tokens that occur at least
                        k times in the training text. A token seen 3 times gets an embedding that
                        is barely trained, so the curve says how large a vocabulary this corpus
                        can feed: the seed project read its 1410 tokens off a plot like this.

The coverage curve is cheap because BPE training is greedy: the tokenizer trained to size V is the
one trained to a larger size, cut after its first merges (`truncate_bpe`). So we train once, at the
largest size, and only re-encode the text for each smaller size.
"""
import logging
from collections import Counter
from pathlib import Path

import numpy as np
import regex as re
from matplotlib.figure import Figure  # no pyplot: files only, no window, no global state

from tokenizer.base import Tokenizer
from tokenizer.bpe import BPETokenizer

log = logging.getLogger(__name__)

COVERAGE_KS = (10, 50, 100)
COVERAGE_SIZES = (512, 1024, 1410, 2048, 3072, 4096, 6144, 8192, 12288, 16384)


def word_counts(text: str) -> Counter:
    """Lower-cased words (runs of letters), the usual unit for Zipf's law."""
    return Counter(w.lower() for w in re.findall(r'\p{L}+', text.replace(Tokenizer.eot_token, ' ')))


def plot_rank_frequency(counts, path, title, label_top=None):
    """Frequency against rank on log-log axes, with a 1/rank line through the top item for reference.
    label_top: names of the most frequent items, listed in a corner with their counts."""
    freqs = np.sort(np.asarray(list(counts), dtype=np.float64))[::-1]
    freqs = freqs[freqs > 0]
    ranks = np.arange(1, len(freqs) + 1)
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    ax.loglog(ranks, freqs, '.', markersize=3, label='observed')
    ax.loglog(ranks, freqs[0] / ranks, '--', color='gray', label='Zipf: frequency ∝ 1 / rank')
    if label_top:      # a list in the empty lower left corner; repr shows spaces and newlines
        lines = [f'{i + 1}. {name!r}  {int(freqs[i])}' for i, name in enumerate(label_top[:8])]
        ax.text(0.03, 0.03, 'most frequent:\n' + '\n'.join(lines), transform=ax.transAxes, fontsize=8,
                va='bottom', family='monospace', bbox=dict(facecolor='white', alpha=0.8, edgecolor='lightgray'))
    ax.set_xlabel('rank')
    ax.set_ylabel('occurrences in the training text')
    ax.set_title(title)
    ax.grid(True, which='major', alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def truncate_bpe(tok, vocab_size):
    """The BPE tokenizer of `vocab_size` tokens that training would have produced: the first tokens and
    merges of a larger trained `tok`, plus its end-of-text token as the last id."""
    n_ordinary = vocab_size - 1
    if not 256 <= n_ordinary <= tok.vocab_size - 1:
        raise ValueError(f'can only cut a BPE tokenizer of {tok.vocab_size} tokens to 257..{tok.vocab_size}, '
                         f'not {vocab_size}')
    # merges create tokens in id order, so the first merges are those that only make ids < n_ordinary
    n_merges = next((k for k, i in enumerate(tok.merged_ids) if i >= n_ordinary), len(tok.merges))
    vocab = tok.vocab[:n_ordinary] + [tok.eot_token.encode('utf-8')]
    return BPETokenizer(vocab, tok.merges[:n_merges], {tok.eot_token: n_ordinary}, tok.eot_token)


def vocab_coverage(train_text, sizes=COVERAGE_SIZES, ks=COVERAGE_KS, big=None):
    """{k: [share of the tokens of a size-V BPE seen at least k times in train_text, for V in sizes]}.

    The share counts the tokens the text can produce: merged tokens and the bytes that occur in the
    text (a byte that never occurs, e.g. most of Latin-1 in a Russian text, is not part of its
    vocabulary in any useful sense). Returns (sizes, shares, the BPE trained at the largest size)."""
    sizes = sorted(sizes)
    if big is None:
        big = BPETokenizer.train(train_text, vocab_size=sizes[-1])
    text_bytes = set(train_text.replace(Tokenizer.eot_token, '').encode('utf-8'))
    shares = {k: [] for k in ks}
    for size in sizes:
        tok = truncate_bpe(big, size)
        counts = np.bincount(tok.encode(train_text), minlength=tok.vocab_size)
        usable = [i for i in range(tok.vocab_size - 1) if len(tok.vocab[i]) > 1 or tok.vocab[i][0] in text_bytes]
        for k in ks:
            shares[k].append(float(np.mean(counts[usable] >= k)))
        log.info('BPE %5d tokens: %s', size, ', '.join(f'{100 * shares[k][-1]:.0f}% seen >= {k}x' for k in ks))
    return sizes, shares, big


def plot_vocab_coverage(sizes, shares, path, chosen=None):
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    for k, values in shares.items():
        ax.plot(sizes, [100 * v for v in values], 'o-', label=f'seen at least {k} times')
    if chosen:
        ax.axvline(chosen, color='gray', linestyle='--', label=f'this dataset: {chosen}')
    ax.set_xscale('log', base=2)
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(s) for s in sizes], rotation=45)
    ax.set_ylim(0, 101)
    ax.set_xlabel('BPE vocabulary size')
    ax.set_ylabel('% of the vocabulary')
    ax.set_title('How large a BPE vocabulary the training text can feed')
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def write_plots(train_text, tok, out_dir, sizes=None, ks=None) -> list[Path]:
    """Write zipf.png, token_ranks.png and vocab_coverage.png for a training text into out_dir.

    token_ranks uses `tok` when it is a BPE tokenizer, else the 4096-token BPE cut from the one the
    coverage curve trains anyway. Returns the paths written."""
    sizes, ks = sizes or COVERAGE_SIZES, ks or COVERAGE_KS
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    words = word_counts(train_text)
    top = [w for w, _ in words.most_common(8)]
    plot_rank_frequency(words.values(), out_dir / 'zipf.png', f"Zipf's law: {len(words)} distinct words, "
                        f'{sum(words.values())} in all', label_top=top)

    # a BPE trained here is marked on the curve; a pretrained one (50k tokens) is off its scale
    chosen = tok.vocab_size if tok.kind == 'bpe' and tok.vocab_size <= max(sizes) else None
    sizes, shares, big = vocab_coverage(train_text, set(sizes) | ({chosen} if chosen else set()), ks)
    plot_vocab_coverage(sizes, shares, out_dir / 'vocab_coverage.png', chosen)

    bpe = tok if tok.kind == 'bpe' else truncate_bpe(big, min(4096, big.vocab_size))
    counts = np.bincount(bpe.encode(train_text), minlength=bpe.vocab_size)
    order = np.argsort(-counts)
    top = [bpe.decode([int(i)]) for i in order[:8]]
    plot_rank_frequency(counts[order], out_dir / 'token_ranks.png',
                        f'BPE tokens by frequency ({bpe.vocab_size} tokens)', label_top=top)
    paths = [out_dir / name for name in ('zipf.png', 'vocab_coverage.png', 'token_ranks.png')]
    log.info('wrote %s', ', '.join(str(p) for p in paths))
    return paths
