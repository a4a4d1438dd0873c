"""Byte-level byte-pair encoding (BPE), the tokenizer of GPT-2, written from scratch.

The idea in three steps:
1. Text is UTF-8 bytes, so 256 byte tokens can spell anything: there is never an unknown token.
2. Training repeatedly finds the most frequent adjacent pair of tokens in the corpus and merges it into
   a new token (a 'merge'), until the vocabulary has the requested size.
3. Encoding replays the merges on new text, always applying the earliest-learned (lowest-rank) merge
   first, so a word is split exactly the way training would have split it.

Like GPT-2, text is first cut into 'pre-split words' with a regex (letters, digits, punctuation and
whitespace runs, each with at most one leading space) and merges never cross a word boundary.
Special tokens such as '<|endoftext|>' are cut out of the text before that, so they are never split
or merged: in `encode` their literal string becomes their id.

Files: `save`/`load_tokenizer` use this repository's own readable JSON; `save_pretrained`/`from_pretrained`
use the GPT-2 / Hugging Face format (vocab.json + merges.txt, in tokenizer/gpt2_files.py, which a first
reading can skip), token for token compatible with HF
`GPT2Tokenizer` and `tokenizers`' byte-level BPE. (One caveat: the `regex` package and HF's Rust
regex engine ship different Unicode versions, so a character assigned only in the newer one, e.g. a
letter added in Unicode 16, can be pre-split differently. No Russian or common text has those.)
"""
import heapq
from collections import Counter, defaultdict
from itertools import chain, repeat

import regex

from tokenizer import gpt2_files
from tokenizer.base import Tokenizer

# GPT-2's pre-split regex: contractions, a word of letters, of digits, of other symbols (each with
# an optional leading space), then whitespace. `\s+(?!\S)` leaves the last space of a run to be the
# leading space of the next word, which is why ' the' and not 'the' is the common token.
GPT2_SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT2_SPLIT_REGEX = regex.compile(GPT2_SPLIT_PATTERN)

NO_MERGE = 1 << 62      # rank of a pair that has no merge: larger than any real rank
MAX_CACHED_WORDS = 1_000_000  # the word cache is cleared when it grows past this, to bound memory
SHORT_WORD_BYTES = 64   # words up to this long go to `merge_short` (faster there), longer ones to `merge_long`


def special_token_regex(special_tokens):
    """A regex whose split() cuts text at special tokens, keeping them: [chunk, special, chunk, ...];
    None when there are none. Longer specials are tried first, so of two that start at the same
    place the longer one wins (the rule of HF's added-token matcher, too)."""
    if not special_tokens:
        return None
    return regex.compile('(' + '|'.join(regex.escape(s) for s in sorted(special_tokens, key=len, reverse=True)) + ')')


def count_words(text: str, special_tokens=()) -> Counter:
    """How often each pre-split word occurs in text (special tokens are cut out, never counted)."""
    special_split = special_token_regex(special_tokens)
    chunks = special_split.split(text)[::2] if special_split else [text]
    counts = Counter()
    for chunk in chunks:
        counts.update(GPT2_SPLIT_REGEX.findall(chunk))
    return counts


def learn_merges(word_counts: dict, vocab: list, vocab_size: int) -> list:
    """Learn merges until `vocab` (a list of token bytes, the 256 single bytes first) has vocab_size
    tokens. Appends the new tokens to `vocab` and returns the merges as (id, id) pairs, in order.

    Which pair is merged: the one with the highest count; among equal counts, the smallest pair
    (id_a, id_b) in tuple order (so early, short tokens win ties). Counts are over all adjacent
    positions, overlaps included ('aaa' holds two ('a', 'a')). The merged token gets the next id.
    tokenizer/bpe_reference.py is the same rule written the slow, obvious way.

    Why this is fast: it never recounts the corpus. Each unique word is stored once with its
    frequency; `pair_counts` holds the count of every pair and `where` the words that contain it.
    A merge touches only the words listed for its pair and updates only the counts of the pairs next
    to each merged position. The best pair comes from a heap of (-count, pair) entries. Only a merge
    creates pairs (all of them with the new token) and after that their counts can only fall, so
    each new pair is pushed once; an entry whose count fell since is pushed back with its current
    count when it reaches the top. An entry that is up to date at the top is then truly the best.
    """
    words = [list(w.encode('utf-8')) for w in word_counts]      # ids of the 256 bytes are the bytes
    freqs = list(word_counts.values())
    pair_counts, where = defaultdict(int), defaultdict(set)
    for j, (ids, freq) in enumerate(zip(words, freqs)):
        for pair in zip(ids, ids[1:]):
            pair_counts[pair] += freq
            where[pair].add(j)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(vocab) < vocab_size:
        pair = pop_best_pair(heap, pair_counts)
        if pair is None:
            raise ValueError(f'the training text is too small for vocab_size {vocab_size}: every word is '
                             f'a single token after {len(merges)} merges (vocabulary {len(vocab)}); '
                             'use more text or a smaller vocab_size')
        a, b = pair
        merges.append(pair)
        new = len(vocab)
        vocab.append(vocab[a] + vocab[b])
        made = set()                       # the pairs (x, new) and (new, y) this merge creates
        for j in where.pop(pair):
            ids, freq = words[j], freqs[j]
            i, last = 0, len(ids) - 1
            while i < last:
                if ids[i] == a and ids[i + 1] == b:
                    # x a b y -> x new y: the pairs (x, a) and (b, y) become (x, new) and (new, y)
                    if i > 0:
                        left = ids[i - 1]
                        pair_counts[left, a] -= freq
                        pair_counts[left, new] += freq
                        where[left, new].add(j)
                        made.add((left, new))
                    if i < last - 1:
                        right = ids[i + 2]
                        pair_counts[b, right] -= freq
                        pair_counts[new, right] += freq
                        where[new, right].add(j)
                        made.add((new, right))
                    ids[i:i + 2] = [new]
                    last -= 1
                i += 1
        del pair_counts[pair]              # every occurrence is merged now
        for made_pair in made:
            if pair_counts[made_pair] > 0:
                heapq.heappush(heap, (-pair_counts[made_pair], made_pair))
    return merges


def pop_best_pair(heap, pair_counts):
    """Pop the pair with the highest count off the heap of (-count, pair) entries (among equal
    counts the smallest pair comes first); None when no pair is left. An entry whose count fell
    since it was pushed is pushed back with its current count, or dropped once that is 0."""
    while heap:
        negative_count, pair = heapq.heappop(heap)
        count = pair_counts.get(pair, 0)
        if count == -negative_count:
            return pair
        if count > 0:
            heapq.heappush(heap, (-count, pair))
    return None


def merge_short(ids, rank_of, merged_ids) -> list[int]:
    """Apply the merges to the token ids of one word, lowest rank first, leftmost first.

    rank_of(pair) is the pair's merge rank (None: no merge); merged_ids[rank] is the token it makes.
    Keeps the rank of every adjacent pair in a list, so each step is a C-level min() and index()
    and a merge only recomputes the two ranks next to it. Every step scans the whole word, so a word
    of n bytes takes up to n^2 steps: the fastest way for ordinary words, hopeless for 20,000 dashes."""
    ranks = list(map(rank_of, zip(ids, ids[1:]), repeat(NO_MERGE)))   # ranks[i]: pair (ids[i], ids[i+1])
    while ranks:
        rank = min(ranks)
        if rank == NO_MERGE:
            break
        i = ranks.index(rank)
        new = ids[i] = merged_ids[rank]
        del ids[i + 1], ranks[i]
        if i > 0:
            ranks[i - 1] = rank_of((ids[i - 1], new), NO_MERGE)
        if i < len(ranks):
            ranks[i] = rank_of((new, ids[i + 1]), NO_MERGE)
    return ids


def merge_long(ids, rank_of, merged_ids) -> list[int]:
    """The same merges in O(n log n) for a word of n bytes, as fast BPE encoders do it.

    The symbols form a linked list (next/prev hold positions in the original word, a merged-away
    symbol becomes None), so a merge is O(1) and nothing shifts. The candidate merges wait in a heap
    of (rank, position of the left symbol): the top is the lowest rank, leftmost among equal ranks,
    the very pair merge_short would pick. A merge pushes the (at most two) pairs it creates and does
    not look for the entries it invalidates; an entry is checked when it comes to the top instead,
    and skipped when its pair is no longer there (its rank is no longer the rank of the pair at its
    position). Each merge pushes at most two entries, so the heap never holds more than 3n."""
    n = len(ids)
    ids = ids + [None]                                   # a sentinel after the last symbol
    nxt, prev = list(range(1, n + 1)), list(range(-1, n - 1))
    heap = [(rank, i) for i, rank in enumerate(map(rank_of, zip(ids, ids[1:]))) if rank is not None]
    heapq.heapify(heap)
    while heap:
        rank, i = heapq.heappop(heap)
        j = nxt[i]
        if rank_of((ids[i], ids[j])) != rank:          # stale: i or j was merged since the push
            continue
        new = ids[i] = merged_ids[rank]
        ids[j] = None
        k = nxt[i] = nxt[j]
        if k < n:
            prev[k] = i
            if (right := rank_of((new, ids[k]))) is not None:
                heapq.heappush(heap, (right, i))
        if (p := prev[i]) >= 0 and (left := rank_of((ids[p], new))) is not None:
            heapq.heappush(heap, (left, p))
    return [t for t in ids if t is not None]


class _WordCache(dict):
    """word -> token ids; a missing word is encoded with BPE on first use and remembered.

    A dict subclass so that the hot loop of `encode` is one C-level dict lookup per word."""

    def __init__(self, bpe):
        super().__init__()
        self.bpe = bpe

    def __missing__(self, word):
        if len(self) >= MAX_CACHED_WORDS:
            self.clear()
        ids = self[word] = self.bpe(word)
        return ids


class BPETokenizer(Tokenizer):
    """Byte-level BPE with GPT-2 pre-splitting and special tokens.

    vocab: the bytes of every token, indexed by id. It holds each of the 256 single bytes (anywhere:
        GPT-2's own files do not put byte b at id b), the tokens made by merges, and the specials
        (stored as their UTF-8 bytes, so decoding them gives their text back).
    merges: (id_a, id_b) pairs in rank order; merging a and b gives the token with bytes
        vocab[a] + vocab[b].
    special_tokens: {text: id}, matched literally in `encode` and never split.
    eot_token: the special that marks document boundaries (GPT-2: '<|endoftext|>').
    """
    kind = 'bpe'

    def __init__(self, vocab, merges, special_tokens=None, eot_token=Tokenizer.eot_token):
        self.vocab = [bytes(token) for token in vocab]
        self.merges = [(int(a), int(b)) for a, b in merges]
        self.special_tokens = dict(special_tokens or {})
        self.eot_token = eot_token
        for text, i in self.special_tokens.items():
            if not (0 <= i < len(self.vocab) and self.vocab[i] == text.encode('utf-8')):
                raise ValueError(f'special token {text!r} has id {i}, but that vocabulary entry is not it')
        special_ids = set(self.special_tokens.values())
        # bytes -> id of the ordinary (non-special) tokens: how merges find the token they make
        self.token_id = {}
        for i, token in enumerate(self.vocab):
            if i in special_ids:
                continue
            if token in self.token_id:
                raise ValueError(f'token {token!r} appears twice in the vocabulary (ids {self.token_id[token]} '
                                 f'and {i}); a BPE vocabulary needs distinct tokens')
            self.token_id[token] = i
        missing = [b for b in range(256) if bytes([b]) not in self.token_id]
        if missing:
            raise ValueError(f'the vocabulary lacks the single-byte tokens {missing[:10]}: a byte-level BPE '
                             'needs all 256 so that any text can be encoded')
        self.byte_ids = [self.token_id[bytes([b])] for b in range(256)]
        # rank lookup for encoding: pair -> rank, and rank -> id of the merged token
        self.ranks, self.merged_ids = {}, []
        for rank, (a, b) in enumerate(self.merges):
            if not (0 <= a < len(self.vocab) and 0 <= b < len(self.vocab)):
                raise ValueError(f'merge #{rank} ({a}, {b}) uses an id outside the vocabulary '
                                 f'(size {len(self.vocab)})')
            merged = self.token_id.get(self.vocab[a] + self.vocab[b])
            if merged is None:
                raise ValueError(f'merge #{rank} ({a}, {b}) makes {self.vocab[a] + self.vocab[b]!r}, '
                                 'which is not in the vocabulary')
            self.ranks[a, b] = rank        # a pair listed twice keeps its last rank, as in HF tokenizers
            self.merged_ids.append(merged)
        self.special_split = special_token_regex(self.special_tokens)
        self.cache = _WordCache(self._bpe)

    # ------------------------------------------------------------------------------------------
    # training

    @classmethod
    def train(cls, text: str, vocab_size: int, special_tokens=(Tokenizer.eot_token,)) -> 'BPETokenizer':
        """Learn a tokenizer from text: 256 byte tokens + merges + special tokens = vocab_size.

        Special tokens (e.g. '<|endoftext|>' between documents) are cut out of the text before
        counting, so no merge ever crosses or eats into one. They get the last ids."""
        special_tokens = list(special_tokens)
        if Tokenizer.eot_token not in special_tokens:
            raise ValueError(f'special_tokens must include {Tokenizer.eot_token!r}, the document boundary '
                             f'every tokenizer has; got {special_tokens}')
        if len(set(special_tokens)) != len(special_tokens) or not all(special_tokens):
            raise ValueError(f'special_tokens must be distinct non-empty strings; got {special_tokens}')
        smallest = 256 + len(special_tokens)
        if not isinstance(vocab_size, int):
            raise ValueError(f'vocab_size must be an integer; got {vocab_size!r}')
        if vocab_size < smallest:
            raise ValueError(f'vocab_size {vocab_size!r} is too small: a byte-level BPE needs at least 256 byte '
                             f'tokens + {len(special_tokens)} special = {smallest}')
        vocab = [bytes([b]) for b in range(256)]
        merges = learn_merges(count_words(text, special_tokens), vocab, vocab_size - len(special_tokens))
        specials = {s: len(vocab) + k for k, s in enumerate(special_tokens)}
        vocab += [s.encode('utf-8') for s in special_tokens]
        return cls(vocab, merges, specials)

    # ------------------------------------------------------------------------------------------
    # encoding and decoding

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def eot_id(self) -> int:
        if self.eot_token not in self.special_tokens:
            raise ValueError(f'this tokenizer has no end-of-text token {self.eot_token!r} '
                             f'(its special tokens: {sorted(self.special_tokens)})')
        return self.special_tokens[self.eot_token]

    def _bpe(self, word: str) -> list[int]:
        """Token ids of one pre-split word: apply the lowest-rank merge, leftmost first, until none
        applies (merging one occurrence at a time, leftmost first, is exactly what HF `tokenizers`
        does). Two ways to do it that give the same ids: see merge_short and merge_long."""
        ids = [self.byte_ids[b] for b in word.encode('utf-8')]
        merge = merge_short if len(ids) <= SHORT_WORD_BYTES else merge_long
        return merge(ids, self.ranks.get, self.merged_ids)

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode text without looking for special tokens (their text is encoded as ordinary text)."""
        return list(chain.from_iterable(map(self.cache.__getitem__, GPT2_SPLIT_REGEX.findall(text))))

    def encode(self, text: str) -> list[int]:
        """Token ids of text; the literal text of a special token (e.g. '<|endoftext|>') becomes its id."""
        if not isinstance(text, str):
            raise TypeError(f'encode expects a str, got {type(text).__name__}')
        if self.special_split is None:
            return self.encode_ordinary(text)
        ids = []
        for k, part in enumerate(self.special_split.split(text)):
            if k % 2:
                ids.append(self.special_tokens[part])
            elif part:
                ids += self.encode_ordinary(part)
        return ids

    def decode_bytes(self, ids) -> bytes:
        ids = list(ids)
        self.check_ids(ids)
        return b''.join(map(self.vocab.__getitem__, ids))

    # ------------------------------------------------------------------------------------------
    # this repository's JSON format (Tokenizer.save / load_tokenizer)

    def to_dict(self) -> dict:
        """A readable, JSON-ready description: a token is written as its text when its bytes are
        valid UTF-8 on their own, else as the list of its byte values (e.g. half a Cyrillic letter)."""
        def readable(token):
            try:
                return token.decode('utf-8')
            except UnicodeDecodeError:
                return list(token)
        return {'kind': self.kind, 'vocab': [readable(t) for t in self.vocab],
                'merges': [list(pair) for pair in self.merges],
                'special_tokens': self.special_tokens, 'eot_token': self.eot_token}

    @classmethod
    def from_dict(cls, d: dict) -> 'BPETokenizer':
        for key, kind in (('vocab', list), ('merges', list), ('special_tokens', dict)):
            if not isinstance(d.get(key), kind):
                raise ValueError(f'BPE tokenizer data needs {key!r} as a {kind.__name__}; '
                                 f'got {type(d.get(key)).__name__}')
        vocab = []
        for i, token in enumerate(d['vocab']):
            if isinstance(token, str):
                vocab.append(token.encode('utf-8'))
            elif isinstance(token, list) and all(isinstance(b, int) and 0 <= b < 256 for b in token):
                vocab.append(bytes(token))
            else:
                raise ValueError(f'BPE tokenizer data: vocab entry {i} ({token!r}) is neither text nor a list of bytes')
        for k, pair in enumerate(d['merges']):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(i, int) for i in pair)):
                raise ValueError(f'BPE tokenizer data: merge {k} ({pair!r}) is not a pair of token ids')
        if not all(isinstance(s, str) and isinstance(i, int) for s, i in d['special_tokens'].items()):
            raise ValueError('BPE tokenizer data: special_tokens must map text to integer ids; '
                             f'got {d["special_tokens"]!r}')
        return cls(vocab, d['merges'], d['special_tokens'], d.get('eot_token', Tokenizer.eot_token))

    # ------------------------------------------------------------------------------------------
    # GPT-2 / Hugging Face format

    def save_pretrained(self, folder):
        """Write the tokenizer as a GPT-2 / Hugging Face folder (vocab.json, merges.txt, ...),
        readable by HF `GPT2Tokenizer.from_pretrained(folder)`; see tokenizer/gpt2_files.py."""
        gpt2_files.write_folder(folder, self.vocab, self.merges, self.special_tokens, self.eot_token)

    @classmethod
    def from_pretrained(cls, folder) -> 'BPETokenizer':
        """Load a GPT-2 / Hugging Face tokenizer folder (vocab.json + merges.txt, and the optional
        special-token files); its eos token becomes this tokenizer's end-of-text token (eot_id)."""
        vocab, merges, special_tokens, eot = gpt2_files.read_folder(folder)
        try:
            return cls(vocab, merges, special_tokens, eot)
        except ValueError as e:
            raise ValueError(f'tokenizer folder {folder}: {e}') from None
