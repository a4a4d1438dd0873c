"""The style meter: how much does a text read like Pushkin?

A small, fully hand-written text classifier, Pushkin against other Russian writers (Lermontov,
Gogol, Chekhov, Nekrasov), used to judge what the language models write. The pipeline:

    normalize      lower case, one kind of quote/dash, single spaces: the meter should judge words
                   and punctuation, not the typography of the edition a file came from
    cut_passages   500-character passages cut at a space; the passage is the unit we score
    featurize      character 1..5-grams, hashed into 2^18 buckets, log(1 + count) times the
                   bucket's idf (from the training passages), rows scaled to unit length
    a linear model one score per author, x . W[:, a] + b[a]; P(Pushkin) is the softmax share of
                   Pushkin's score. (W, b) come from multinomial logistic regression (default)
                   or from naive Bayes, which is linear in the same features too (with two
                   columns: Pushkin and the other authors pooled, named OTHERS)

The split is by work for every author, as for the language models: Pushkin's held-out works are
corpus.VAL_WORKS, and each contrast author holds out every fifth of its works by length (see
corpus.split_contrast), so the held-out figures say how the meter does on texts it has never seen.
Classes are balanced with sample weights: Pushkin's passages weigh 1/2 in all, and each contrast
author 1/2 shared equally, so long-winded Gogol does not outvote Lermontov. The model tells all five
authors apart (not just Pushkin from "the others"): each contrast author gets weights of its own,
which did better than a single "not Pushkin" class on inner folds of the training works (see
results/style/README.md).

The same module gives metrics for generated text that the meter cannot see: how much it repeats
itself (distinct-n, repeated 4-grams) and how many of its words are real (known_word_share). The
meter judges character n-grams, so word salad made of Pushkin's syllables can score high; the share
of known words tells such text apart from real Russian.

A first reading can skip the vectorized hashing (ngram_buckets, window_hashes: hash_ngram's
arithmetic on arrays), the Features plumbing (a sparse matrix in coordinate form) and the
evaluation section (roc_auc, pair_margins, evaluate), which only reports how well the meter does.
"""
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import regex as re
import torch
from matplotlib.figure import Figure      # no pyplot: no window, no global state

from nanopushkin.corpus import VAL_WORKS, clean_text, find_corpus, read_works, split_contrast, split_works
from nanopushkin.files import write_atomically

PASSAGE_CHARS = 500          # the unit the meter scores
MIN_PASSAGE_CHARS = 100      # a shorter text (or last piece of a text) is not scored
MAX_N = 5                    # character n-grams of length 1..MAX_N
LOG2_BUCKETS = 18            # hashed into 2^18 feature buckets
PUSHKIN = 'Pushkin'
OTHERS = 'others'            # the column of naive Bayes's one pooled "not Pushkin" class
METER_FORMAT = 'nanopushkin-style-meter'
METER_VERSION = 3             # 3: + vocabulary; 2: one weight column per author, idf; 1: binary


@dataclass
class StyleConfig:
    meter: str = 'data/style/meter.pt'          # where `train` saves and `score` loads the meter
    # score
    text: str = ''                              # score this text (instead of a FILE)
    # train
    pushkin_dir: str = ''                       # '': found by corpus.find_corpus's rule, as --src elsewhere
    contrast_dir: str = '../shared/data/contrast'  # <Author>/{prose,poems}/*.txt, the same layout
    results_dir: str = ''                       # metrics.json and histogram.png of the held-out works
                                                # ('': out-style/, a scratch folder git ignores)
    commit_results: bool = False                # with results_dir '': write into results/style/, the
                                                # committed figures the docs quote
    method: str = 'logreg'                      # 'logreg' | 'nb': which model the saved meter uses
    epochs: int = 5                             # logistic regression: passes over the training passages
    batch_size: int = 64                        # logistic regression: passages per Adam step
    learning_rate: float = 0.02                 # logistic regression: Adam step size
    nb_alpha: float = 0.01                      # naive Bayes: additive smoothing of bucket masses
    max_passages: int = 0                       # per author and split, evenly spaced (0 = all)
    plot: bool = True                           # write histogram.png


# -----------------------------------------------------------------------------
# text -> passages

_QUOTES = re.compile(r'[«»„“”"‘’‚`]')
_DASHES = re.compile(r'[‒–—―−]')
_SPACED_HYPHEN = re.compile(r'(?<=^|\s)-+(?=\s|$)')     # ' - ' and '-- ' used as a dash
_EDITORIAL = re.compile(r'[\[\]<>{}⟨⟩\u0300\u0301]')      # editors' brackets, stress marks
_SPACE = re.compile(r'\s+')


def normalize(text: str) -> str:
    """Remove what tells the source file apart rather than the author.

    The contrast files come from other editions than Pushkin's: Lermontov's use '"' and ' - '
    where Pushkin's use '«»' and ' — ', Gogol's mark editorial additions with '<...>', 'Мёртвые
    души' keeps the letter 'ё', the prose of 'Герой нашего времени' is hard-wrapped at 75
    characters. A meter trained on the files as they are would learn those. After normalize,
    every text has one quote '"', one dash '—', 'е' for 'ё', lower case (titles in capitals
    survive in some files only) and single spaces for all whitespace.
    """
    text = text.lower().replace('ё', 'е')
    text = _QUOTES.sub('"', text)
    text = _DASHES.sub('—', text)
    text = _SPACED_HYPHEN.sub('—', text)
    text = text.replace('…', '...')
    text = _EDITORIAL.sub('', text)
    return _SPACE.sub(' ', text).strip()


def cut_passages(text: str, length=PASSAGE_CHARS, min_length=MIN_PASSAGE_CHARS) -> list[str]:
    """Cut a normalized text into passages of at most `length` characters, each ending at a space
    (a word longer than `length` is cut where it must). A last piece shorter than `min_length` is
    dropped, so a text shorter than that gives no passage at all."""
    passages = []
    start = 0
    while start < len(text):
        end = start + length
        if end >= len(text):
            end = len(text)
        else:
            space = text.rfind(' ', start, end + 1)
            if space > start:
                end = space
        piece = text[start:end].strip()
        if len(piece) >= min_length:
            passages.append(piece)
        start = end
    return passages


def text_passages(text: str) -> list[str]:
    """Any text (a corpus work, a raw file, a model's sample) -> the passages the meter scores.
    The corpus cleaning runs first (without header stripping: samples have no header), so a raw
    file is treated exactly like the works the meter was trained on."""
    cleaned, _ = clean_text(text.encode('utf-8'), header=False)
    return cut_passages(normalize(cleaned))


# -----------------------------------------------------------------------------
# passages -> hashed character n-gram features

MASK64 = (1 << 64) - 1
_PRIME = 0x100000001B3       # multiplier of the polynomial hash over the code points
_MIX = 0x9E3779B97F4A7C15    # odd constant of the multiply-shift step that picks the bucket


def hash_ngram(ngram: str, log2_buckets=LOG2_BUCKETS) -> int:
    """The bucket of one n-gram, in plain Python: the definition `ngram_buckets` vectorizes.

    A polynomial hash of the code points, started from the length so that 'а' and 'аа...' never
    share a state, then multiply-shift: the top log2_buckets bits of h * _MIX mod 2^64. Unlike
    Python's hash() this is the same in every process, so a saved meter keeps its meaning.
    """
    h = len(ngram)
    for ch in ngram:
        h = (h * _PRIME + ord(ch)) & MASK64
    return ((h * _MIX) & MASK64) >> (64 - log2_buckets)


def ngram_buckets(text: str, max_n=MAX_N, log2_buckets=LOG2_BUCKETS) -> np.ndarray:
    """Buckets of all character n-grams of `text`, n = 1..max_n, as one array (with repeats).

    Same arithmetic as hash_ngram, on every window at once: numpy's uint64 wraps around on
    overflow exactly like `& MASK64`.
    """
    codes = np.array([ord(c) for c in text], dtype=np.uint64)
    buckets = [(window_hashes(codes, n) * np.uint64(_MIX)) >> np.uint64(64 - log2_buckets)
               for n in range(1, min(max_n, len(codes)) + 1)]
    return np.concatenate(buckets) if buckets else np.zeros(0, dtype=np.uint64)


def window_hashes(codes: np.ndarray, n: int) -> np.ndarray:
    """The polynomial hash of hash_ngram (before its bucket step) of every window of n code points
    (uint64) in codes, window i starting at codes[i]."""
    windows = len(codes) - n + 1
    h = np.full(windows, n, dtype=np.uint64)
    for k in range(n):                           # h = h * P + c, for the k-th character of each window
        h = h * np.uint64(_PRIME) + codes[k:k + windows]
    return h


@dataclass
class Features:
    """A sparse matrix, one row per passage, in coordinate form: X[row[i], col[i]] = val[i].
    Entries are sorted by row: those of row r sit at positions start[r] ... start[r + 1] - 1."""
    row: torch.Tensor        # int64 (nnz,)
    col: torch.Tensor        # int64 (nnz,)
    val: torch.Tensor        # float32 (nnz,)
    n_rows: int
    n_cols: int

    def __post_init__(self):
        self.start = torch.zeros(self.n_rows + 1, dtype=torch.long)
        self.start[1:] = torch.bincount(self.row, minlength=self.n_rows).cumsum(0)

    def matvec(self, w):
        """X @ w: one score per passage for a vector w (n_cols,), one row of scores per passage for
        a matrix w (n_cols, k). Differentiable in w."""
        val = self.val if w.dim() == 1 else self.val[:, None]
        return torch.zeros((self.n_rows,) + w.shape[1:]).index_add(0, self.row, val * w[self.col])

    def rmatvec(self, r):
        """X^T @ r, one value per bucket."""
        return torch.zeros(self.n_cols).index_add(0, self.col, self.val * r[self.row])

    def take(self, rows) -> 'Features':
        """The sub-matrix of the given rows (a minibatch), renumbered 0..len(rows)-1."""
        lengths = self.start[rows + 1] - self.start[rows]
        new_row = torch.repeat_interleave(torch.arange(len(rows)), lengths)
        # position of an entry = start of its row + its index within the row
        index_in_row = torch.arange(len(new_row)) - (lengths.cumsum(0) - lengths)[new_row]
        pos = self.start[rows][new_row] + index_in_row
        return Features(new_row, self.col[pos], self.val[pos], len(rows), self.n_cols)


def featurize(passages, max_n=MAX_N, log2_buckets=LOG2_BUCKETS, idf=None) -> Features:
    """Each passage -> log(1 + n-gram count) per bucket, times idf[bucket] when idf is given,
    scaled to unit length.

    The log damps the most frequent n-grams (spaces, 'о', ', '), the idf damps the n-grams that
    every passage has, and unit length makes a short passage comparable with a long one.
    """
    if not passages:
        nothing = torch.zeros(0, dtype=torch.long)
        return Features(nothing, nothing, torch.zeros(0), 0, 1 << log2_buckets)
    rows, cols, vals = [], [], []
    for i, passage in enumerate(passages):
        buckets, counts = np.unique(ngram_buckets(passage, max_n, log2_buckets), return_counts=True)
        tf = np.log1p(counts)
        if idf is not None:
            tf = tf * idf[buckets.astype(np.int64)]
        rows.append(np.full(len(buckets), i, dtype=np.int64))
        cols.append(buckets.astype(np.int64))
        vals.append((tf / np.sqrt((tf ** 2).sum())).astype(np.float32))
    return Features(torch.from_numpy(np.concatenate(rows)), torch.from_numpy(np.concatenate(cols)),
                    torch.from_numpy(np.concatenate(vals)), len(passages), 1 << log2_buckets)


def inverse_document_frequency(passages, max_n=MAX_N, log2_buckets=LOG2_BUCKETS) -> np.ndarray:
    """idf of every bucket over the given (training) passages: log((N + 1) / (df + 1)) + 1, where
    df is the number of passages with an n-gram in the bucket. A bucket no passage has gets the
    largest value, and one every passage has gets 1, so no feature is switched off entirely."""
    X = featurize(passages, max_n, log2_buckets)
    df = torch.bincount(X.col, minlength=X.n_cols).numpy()
    return (np.log((len(passages) + 1) / (df + 1)) + 1).astype(np.float32)


# -----------------------------------------------------------------------------
# the data: authors, split by work, passages, labels and weights

def read_authors(pushkin_dir, contrast_dir) -> dict[str, tuple[list, list]]:
    """{'Pushkin': (train works, held-out works), 'Chekhov': (...), ...}: every author read with the
    corpus cleaning and split by work."""
    contrast_dir = Path(contrast_dir)
    if not contrast_dir.is_dir():
        raise FileNotFoundError(f'no contrast corpus at {contrast_dir}; pass --contrast_dir DIR, a '
                                'folder with one <Author>/{prose,poems}/*.txt folder per writer')
    splits = {PUSHKIN: split_works(read_works(find_corpus(pushkin_dir or None)), VAL_WORKS)}
    for folder in sorted(p for p in contrast_dir.iterdir() if p.is_dir()):
        splits[folder.name] = split_contrast(read_works(folder), folder)
    if len(splits) < 2:
        raise FileNotFoundError(f'{contrast_dir} has no author folders; expected e.g. Chekhov/prose/*.txt')
    return splits


def passages_of(works, max_passages=0) -> list[str]:
    passages = [p for w in works for p in text_passages(w.text)]
    if max_passages and len(passages) > max_passages:       # evenly spaced: every work has a say
        keep = np.linspace(0, len(passages) - 1, max_passages).round().astype(int)
        passages = [passages[i] for i in keep]
    return passages


def class_weights(authors: list[str]) -> torch.Tensor:
    """One weight per passage (authors[i] is the author of passage i), summing to 1: half for
    Pushkin, half shared equally by the contrast authors."""
    names = sorted(set(authors) - {PUSHKIN})
    count = {a: authors.count(a) for a in set(authors)}
    share = {a: 0.5 if a == PUSHKIN else 0.5 / len(names) for a in count}
    return torch.tensor([share[a] / count[a] for a in authors])


# -----------------------------------------------------------------------------
# two linear models on the same features

def author_classes(authors: list[str]) -> tuple[list[str], torch.Tensor]:
    """(class names, class of each passage): Pushkin is class 0, the others follow by name."""
    names = [PUSHKIN] + sorted(set(authors) - {PUSHKIN})
    index = {a: i for i, a in enumerate(names)}
    return names, torch.tensor([index[a] for a in authors])


def train_logreg(X: Features, classes, weights, epochs=5, batch_size=64, learning_rate=0.02, seed=1337):
    """Weighted multinomial logistic regression, trained with minibatch Adam from zero.

    classes[i] is the class of passage i (0 = Pushkin, 1.. = the other authors). Each class c
    scores a passage x with x . W[:, c] + b[c], and the softmax of the scores gives the
    probabilities. Returns (W, b), of shapes (n_cols, n_classes) and (n_classes,).

    loss = sum_i weights_i * cross_entropy(softmax(x_i W + b), classes_i), estimated on random
    minibatches. No L2 penalty and no convergence: the training passages can be separated
    perfectly, and the exact minimizer of the (penalized) loss generalizes worse to new works than
    a few epochs of Adam (see results/style/README.md), which stops while the weights are still
    moderate.
    """
    classes = torch.as_tensor(classes, dtype=torch.long)
    n_classes = max(int(classes.max()) + 1, 2)
    generator = torch.Generator().manual_seed(seed)
    W = torch.zeros(X.n_cols, n_classes, requires_grad=True)
    b = torch.zeros(n_classes, requires_grad=True)
    optimizer = torch.optim.Adam([W, b], lr=learning_rate)
    # The steps are small, and several threads spend their time waiting for each other: measured
    # on a busy 2-core machine, 3 s with one thread against 100 s with two.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(epochs):
            order = torch.randperm(X.n_rows, generator=generator)
            for i in range(0, X.n_rows, batch_size):
                rows = order[i:i + batch_size]
                logits = X.take(rows).matvec(W) + b
                ce = torch.nn.functional.cross_entropy(logits, classes[rows], reduction='none')
                # the batch's share of the weighted sum, scaled up to a full-data estimate
                loss = (weights[rows] * ce).sum() * (X.n_rows / len(rows))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    finally:
        torch.set_num_threads(threads)
    return W.detach(), b.detach()


def train_naive_bayes(X: Features, classes, weights, alpha=0.01):
    """Multinomial naive Bayes, with the features as (weighted) counts, Pushkin (class 0) against
    all the other classes pooled. Returns (W, b) as train_logreg does, with two columns: Pushkin,
    the others (their authors in a Meter: [PUSHKIN, OTHERS]).

    Each of the two is a distribution over the buckets, theta = (mass of bucket + alpha) / total,
    and its log-likelihood of a passage x is x . log theta: linear in x, so the same scorer serves
    both models. The class weights make the priors equal (b = 0), as the logistic regression's
    balanced loss does. (One distribution per author does much worse than the pooled "others":
    see results/style/README.md.)
    """
    is_pushkin = (torch.as_tensor(classes) == 0).float()
    W = torch.zeros(X.n_cols, 2)
    for c, in_class in enumerate((is_pushkin, 1 - is_pushkin)):
        mass = X.rmatvec(weights * in_class) + alpha
        W[:, c] = (mass / mass.sum()).log()
    return W, torch.zeros(2)


# -----------------------------------------------------------------------------
# evaluation

def roc_auc(pos_scores, neg_scores) -> float:
    """Area under the ROC curve = the chance that a random positive scores above a random negative
    (a tie counts half). Computed from ranks (Mann-Whitney U) instead of all pairs."""
    pos, neg = np.asarray(pos_scores, float), np.asarray(neg_scores, float)
    if len(pos) == 0 or len(neg) == 0:
        return float('nan')
    scores = np.concatenate([pos, neg])
    order = np.argsort(scores, kind='stable')
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    sorted_scores = scores[order]                     # tied scores share their average rank
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for start, count in zip(first[counts > 1], counts[counts > 1]):
        ranks[order[start:start + count]] = ranks[order[start:start + count]].mean()
    u = ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def pair_margins(scores: dict[str, torch.Tensor], authors: list[str]) -> dict:
    """{contrast author: (margins of Pushkin's passages, margins of the author's passages)}, where a
    passage's margin is its Pushkin score minus that author's score (the columns of a five-author
    meter, authors[c] for column c; an author without a column of its own has none). The margin
    answers "Pushkin or this author?" alone, while P(Pushkin) must also beat every other author."""
    pushkin = scores[PUSHKIN]
    return {a: ((pushkin[:, 0] - pushkin[:, c]).numpy(), (scores[a][:, 0] - scores[a][:, c]).numpy())
            for c, a in enumerate(authors) if c and a in scores}


def evaluate(probs: dict[str, np.ndarray], group=4, margins=None) -> dict:
    """Per author: passages, mean P(Pushkin), accuracy at 0.5, and (contrast authors) the AUC of
    Pushkin's passages against that author's. auc_group is the same for texts of `group`
    passages (2000 characters), scored by their mean P, as a set of samples is. auc_pair, where
    `margins` (pair_margins) are given, ranks by the margin over that author alone."""
    def group_means(p):
        n = len(p) // group * group
        return p[:n].reshape(-1, group).mean(1)

    pushkin = probs[PUSHKIN]
    report = {}
    for author, p in probs.items():
        is_pushkin = author == PUSHKIN
        report[author] = {
            'passages': len(p),
            'mean_p': float(p.mean()) if len(p) else float('nan'),
            'accuracy': float(((p > 0.5) == is_pushkin).mean()) if len(p) else float('nan'),
            'auc': None if is_pushkin else roc_auc(pushkin, p),
            'auc_group': None if is_pushkin else roc_auc(group_means(pushkin), group_means(p)),
            'auc_pair': roc_auc(*margins[author]) if margins and author in margins else None,
        }
    return report


# -----------------------------------------------------------------------------
# the meter: save, load, score

@dataclass
class Meter:
    """A linear scorer on the hashed features. Either one column of weights per author, w of shape
    (n_buckets, n_authors) and b (n_authors,), column 0 Pushkin: P(Pushkin) is the softmax share
    of column 0. Or, with a vector w and a number b, P(Pushkin) = sigmoid(x . w + b)."""
    w: torch.Tensor
    b: torch.Tensor | float
    method: str = 'logreg'
    authors: list = field(default_factory=lambda: [PUSHKIN])   # the name of each column of w
    max_n: int = MAX_N
    log2_buckets: int = LOG2_BUCKETS
    idf: np.ndarray | None = None                # idf per bucket (None: every bucket weighs 1)
    vocabulary: frozenset = frozenset()          # the words of the training passages (words_of)
    info: dict = field(default_factory=dict)     # held-out works and figures, for the record

    def __post_init__(self):
        columns = 1 if self.w.dim() == 1 else self.w.shape[1]
        assert columns == len(self.authors), f'{columns} weight columns for the authors {self.authors}'

    def passage_probs(self, passages) -> np.ndarray:
        """P(Pushkin) of each (normalized) passage."""
        if not passages:
            return np.zeros(0)
        return self.probs_of_features(featurize(passages, self.max_n, self.log2_buckets, self.idf))

    def scores_of_features(self, X: Features) -> torch.Tensor:
        """x . w + b of each row of X (made by featurize with this meter's settings): one score per
        author and row, or one per row for a binary meter."""
        return X.matvec(self.w) + torch.as_tensor(self.b, dtype=torch.float32)

    def probs_of_features(self, X: Features) -> np.ndarray:
        """P(Pushkin) of each row of X."""
        return self.probs_of_scores(self.scores_of_features(X))

    def probs_of_scores(self, scores: torch.Tensor) -> np.ndarray:
        """P(Pushkin) from scores_of_features: the sigmoid of a binary meter's one score, or the softmax
        share of column 0 (Pushkin) among the authors' scores."""
        p = torch.sigmoid(scores) if self.w.dim() == 1 else torch.softmax(scores, dim=1)[:, 0]
        return p.numpy().astype(float)

    def save(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        saved = {'format': METER_FORMAT, 'version': METER_VERSION, 'w': self.w.float(),
                 'b': torch.as_tensor(self.b, dtype=torch.float32), 'method': self.method,
                 'authors': list(self.authors), 'max_n': self.max_n,
                 'log2_buckets': self.log2_buckets, 'passage_chars': PASSAGE_CHARS,
                 'idf': None if self.idf is None else torch.from_numpy(self.idf),
                 'vocabulary': '\n'.join(sorted(self.vocabulary)), 'info': self.info}
        write_atomically(path, lambda f: torch.save(saved, f))


# what a saved meter holds, and the types load_meter accepts for each
METER_FIELDS = {'w': torch.Tensor, 'b': torch.Tensor, 'method': str, 'authors': list, 'max_n': int,
                'log2_buckets': int, 'idf': (torch.Tensor, type(None)), 'vocabulary': str, 'info': (dict, type(None))}


def load_meter(path='data/style/meter.pt') -> Meter:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'no trained style meter at {path}; train one with '
                                f'`python style.py train` (or pass --meter PATH)')
    try:
        d = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # a truncated or foreign file, a pickle with code in it: never a traceback
        first_line = str(e).splitlines()[0] if str(e) else ''
        raise ValueError(f'{path} is not a readable style meter ({type(e).__name__}: {first_line}); '
                         'train one with `python style.py train`') from None
    if not isinstance(d, dict) or d.get('format') != METER_FORMAT:
        raise ValueError(f'{path} is not a style meter saved by `python style.py train`')
    if d.get('version') != METER_VERSION:
        raise ValueError(f'{path} is a style meter of an older version ({d.get("version", 1)}, this '
                         f'code reads {METER_VERSION}); retrain it with `python style.py train`')
    wrong = [key for key, kinds in METER_FIELDS.items() if not isinstance(d.get(key), kinds)]
    if wrong or d['w'].dim() not in (1, 2) or not all(isinstance(a, str) for a in d['authors']):
        raise ValueError(f'{path} is a damaged style meter ({", ".join(wrong) or "w or authors"} missing or of the '
                         'wrong type); retrain it with `python style.py train`')
    if d['w'].dim() == 2 and d['w'].shape[1] != len(d['authors']):    # naive Bayes meters saved before OTHERS
        raise ValueError(f'{path} names {len(d["authors"])} authors for {d["w"].shape[1]} weight columns; '
                         'retrain it with `python style.py train`')
    idf = None if d['idf'] is None else d['idf'].numpy()
    b = d['b'] if d['w'].dim() > 1 else float(d['b'])
    vocabulary = frozenset(d['vocabulary'].split('\n')) if d['vocabulary'] else frozenset()
    return Meter(d['w'], b, d['method'], d['authors'], d['max_n'], d['log2_buckets'], idf, vocabulary,
                 d['info'])


def score_texts(meter: Meter, texts) -> list[np.ndarray]:
    """P(Pushkin) of every passage of every text: one array per text, empty for a text shorter
    than MIN_PASSAGE_CHARS. The mean over all passages is the style score of a set of samples."""
    return [meter.passage_probs(text_passages(t)) for t in texts]


def score_text(meter: Meter, text: str) -> tuple[list[str], np.ndarray]:
    """(passages, P(Pushkin) of each) for one text; a clear error when there is nothing to score."""
    if not text.strip():
        raise ValueError('the text is empty; give a FILE with text in it, or --text "..."')
    passages = text_passages(text)
    if not passages:
        n = len(normalize(clean_text(text.encode('utf-8'), header=False)[0]))
        raise ValueError(f'the text is too short to score: {n} characters, the style meter needs at '
                         f'least {MIN_PASSAGE_CHARS} (it scores passages of up to {PASSAGE_CHARS})')
    return passages, meter.passage_probs(passages)


def style_line(probs) -> str:
    """The summary line every tool prints, from per-passage P(Pushkin) (of one text, or of many
    concatenated): 'style: P(Pushkin)=0.87 over 12 passages'."""
    probs = np.asarray(probs, dtype=float).ravel()
    if len(probs) == 0:
        return f'style: no passage of at least {MIN_PASSAGE_CHARS} characters to score'
    return f'style: P(Pushkin)={probs.mean():.2f} over {len(probs)} passage{"s" if len(probs) != 1 else ""}'


def format_scores(passages, probs, vocabulary=frozenset(), width=70) -> str:
    """One line per passage (its number, P(Pushkin), how it begins), the share of known words (given
    the meter's vocabulary), then the style line."""
    lines = [f'{"passage":>7} {"P(Pushkin)":>10}  begins']
    for i, (passage, p) in enumerate(zip(passages, probs), 1):
        begins = passage if len(passage) <= width else passage[:width - 3] + '...'
        lines.append(f'{i:>7} {p:>10.3f}  {begins}')
    if vocabulary:
        share = known_word_share(' '.join(passages), vocabulary)
        lines.append(f'known words: {share:.2f} (the share of the words that occur in the meter\'s training works)')
    lines.append(style_line(probs))
    return '\n'.join(lines)


# -----------------------------------------------------------------------------
# metrics for generated text: repetition, real words

_WORD = re.compile(r'\w+(?:-\w+)*')


def words_of(text: str) -> list[str]:
    """Lower-cased words (a hyphenated word like 'кто-то' is one word); punctuation is dropped."""
    return _WORD.findall(text.lower())


def repetition_metrics(text: str) -> dict:
    """How much a text repeats itself, on words:

    distinct_2, distinct_3   distinct n-grams / all n-grams (1.0: no n-gram occurs twice)
    repeated_4gram_share     share of the 4-gram positions whose 4-gram occurs more than once in
                             the text: 0 for fresh text, near 1 for a model stuck in a loop
    Each is nan when the text has fewer than n words.
    """
    words = words_of(text)

    def ngrams(n):
        return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]

    def distinct(n):
        grams = ngrams(n)
        return len(set(grams)) / len(grams) if grams else float('nan')

    fours = ngrams(4)
    counts = {}
    for g in fours:
        counts[g] = counts.get(g, 0) + 1
    repeated = sum(c for c in counts.values() if c > 1)
    return {'distinct_2': distinct(2), 'distinct_3': distinct(3),
            'repeated_4gram_share': repeated / len(fours) if fours else float('nan')}


def known_word_share(text: str, vocabulary) -> float:
    """The share of the text's words (words_of) that occur in `vocabulary`, a meter's training words
    (the training works of all five authors). Real text scores about 0.92 (names and rare forms are
    missing), word salad much less; nan for a text without words."""
    words = words_of(text)
    return sum(w in vocabulary for w in words) / len(words) if words else float('nan')


# -----------------------------------------------------------------------------
# training: the whole experiment behind `python style.py train`

def labelled_passages(splits, split: int, max_passages=0) -> tuple[list[str], list[str]]:
    """(passages, the author of each) of every author's training works (split 0) or held-out works
    (split 1), `splits` as read_authors returns them."""
    texts, labels = [], []
    for author, works in splits.items():
        passages = passages_of(works[split], max_passages)
        texts += passages
        labels += [author] * len(passages)
    return texts, labels


def fit_meter(X_train: Features, labels, method: str, cfg: StyleConfig, idf=None,
              vocabulary=frozenset()) -> Meter:
    """Train one meter ('logreg' or 'nb') on featurized passages and their authors, as cfg says."""
    authors, classes = author_classes(labels)
    weights = class_weights(labels)
    if method == 'logreg':
        w, b = train_logreg(X_train, classes, weights, cfg.epochs, cfg.batch_size, cfg.learning_rate)
    else:
        w, b = train_naive_bayes(X_train, classes, weights, cfg.nb_alpha)
        authors = [PUSHKIN, OTHERS]             # one column for Pushkin, one for all the others pooled
    return Meter(w, b, method, authors, idf=idf, vocabulary=vocabulary)


def check_writable_folder(folder, what):
    """Make `folder` and check that a file can be written in it: a minute of training must not end
    in "permission denied". Raises OSError with a one-line message naming `what` it is for."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise OSError(f'cannot write {what} in {folder} ({e.strerror or type(e).__name__}); '
                      'choose another place') from None


def train_meter(cfg: StyleConfig, log=print) -> dict:
    """Read all authors, split by work, train both models, report both on the held-out works,
    save the meter of cfg.method, write metrics.json and histogram.png. Returns the metrics."""
    if cfg.method not in ('logreg', 'nb'):
        raise ValueError(f"--method must be 'logreg' or 'nb', got {cfg.method!r}")
    for key in ('epochs', 'batch_size'):
        if getattr(cfg, key) < 1:
            raise ValueError(f'--{key} must be at least 1, got {getattr(cfg, key)}')
    for key in ('learning_rate', 'nb_alpha'):
        if not getattr(cfg, key) > 0:
            raise ValueError(f'--{key} must be positive, got {getattr(cfg, key)}')
    if cfg.max_passages < 0:
        raise ValueError(f'--max_passages must not be negative (0: all), got {cfg.max_passages}')
    if Path(cfg.meter).is_dir():
        raise ValueError(f'--meter={cfg.meter} is a folder; give the path of the file to save the meter to')
    # a learner's run is a scratch run: the committed figures change only when asked to
    results = Path(cfg.results_dir or ('results/style' if cfg.commit_results else 'out-style'))
    check_writable_folder(Path(cfg.meter).parent, f'the meter (--meter={cfg.meter})')
    check_writable_folder(results, f'metrics.json and histogram.png (--results_dir={results})')
    t0 = time.time()
    splits = read_authors(cfg.pushkin_dir, cfg.contrast_dir)
    data = {split: labelled_passages(splits, split, cfg.max_passages) for split in (0, 1)}
    log('held-out works: ' + '; '.join(f'{a}: ' + ', '.join(w.name for w in s[1])
                                        for a, s in splits.items()))
    log('passages (train / held-out): ' + ', '.join(
        f'{a} {data[0][1].count(a)} / {data[1][1].count(a)}' for a in splits))
    idf = inverse_document_frequency(data[0][0])           # from the training passages only
    vocabulary = frozenset(word for passage in data[0][0] for word in words_of(passage))
    log(f'vocabulary (for known words): {len(vocabulary)} word forms of the training passages')
    rows = {a: [i for i, x in enumerate(data[1][1]) if x == a] for a in splits}   # held-out passages
    # what the known-words column of compare reads for real text, per author (the same for both models)
    known_words = {a: float(np.mean([known_word_share(data[1][0][i], vocabulary) for i in rows[a]]))
                   for a in splits}
    X_train = featurize(data[0][0], idf=idf)
    X_val = featurize(data[1][0], idf=idf)
    t_features = time.time() - t0

    metrics = {'method': cfg.method, 'vocabulary_words': len(vocabulary),
               'held_out_works': {a: [w.name for w in s[1]] for a, s in splits.items()},
               'models': {}}
    held_out_probs = {}
    for method in ('logreg', 'nb'):
        t1 = time.time()
        meter = fit_meter(X_train, data[0][1], method, cfg, idf, vocabulary)
        scores = meter.scores_of_features(X_val)
        probs = meter.probs_of_scores(scores)
        by_author = {a: probs[rows[a]] for a in splits}
        # an author with a column of its own (logreg's five, not naive Bayes's pooled OTHERS) has margins
        report = evaluate(by_author, margins=pair_margins({a: scores[rows[a]] for a in splits}, meter.authors))
        for author, r in report.items():
            r['known_words'] = known_words[author]
        metrics['models'][method] = {'seconds': round(time.time() - t1, 2), 'held_out': report}
        log(f'\n{method}: trained in {time.time() - t1:.1f}s; held-out passages:')
        log(format_report(report))
        if method == cfg.method:
            held_out_probs, saved = by_author, meter
    metrics['seconds'] = {'features': round(t_features, 2), 'total': round(time.time() - t0, 2)}
    saved.info = {'held_out_works': metrics['held_out_works'],
                  'held_out': metrics['models'][cfg.method]['held_out']}
    saved.save(cfg.meter)
    log(f'\nsaved the {cfg.method} meter to {cfg.meter} ({time.time() - t0:.1f}s in all)')
    (results / 'metrics.json').write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding='utf-8')
    if cfg.plot:
        plot_histogram(held_out_probs, results / 'histogram.png', cfg.method)
    scratch = '' if cfg.results_dir or cfg.commit_results else \
        ' (a scratch folder; --commit_results=True replaces the committed results/style/ figures)'
    log(f'wrote {results / "metrics.json"}' + (f' and {results / "histogram.png"}' if cfg.plot else '') + scratch)
    return metrics


def format_report(report: dict) -> str:
    def auc(value):
        return '' if value is None else f'{value:.3f}'
    lines = [f'{"author":<10} {"passages":>8} {"mean P":>7} {"accuracy":>8} {"AUC":>6} {"AUC 2000 chars":>15} '
             f'{"AUC pair":>9} {"known words":>12}']
    for author, r in report.items():
        lines.append(f'{author:<10} {r["passages"]:>8} {r["mean_p"]:>7.3f} {r["accuracy"]:>8.3f} '
                     f'{auc(r["auc"]):>6} {auc(r["auc_group"]):>15} {auc(r["auc_pair"]):>9} '
                     f'{r["known_words"]:>12.3f}')
    return '\n'.join(lines)


def plot_histogram(probs: dict[str, np.ndarray], path, method=''):
    """Distribution of P(Pushkin) over the held-out passages of each author, one row per author."""
    fig = Figure(figsize=(7, 1.3 * len(probs) + 0.8), layout='constrained')
    axes = np.atleast_1d(fig.subplots(len(probs), 1, sharex=True))
    bins = np.linspace(0, 1, 41)
    for ax, (author, p) in zip(axes, probs.items()):
        color = 'tab:red' if author == PUSHKIN else 'tab:blue'
        ax.hist(p, bins=bins, color=color, alpha=0.8)
        auc = '' if author == PUSHKIN else f', AUC vs Pushkin {roc_auc(probs[PUSHKIN], p):.3f}'
        ax.set_title(f'{author}: {len(p)} held-out passages, mean P {p.mean():.2f}{auc}',
                     fontsize=9, loc='left')
        ax.set_ylabel('passages', fontsize=8)
    axes[-1].set_xlabel('P(Pushkin) from the style meter')
    fig.suptitle(f'Style meter ({method}) on held-out works', fontsize=10)
    fig.savefig(path, dpi=110)
