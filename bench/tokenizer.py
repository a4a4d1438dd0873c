"""
Speed of our byte-level BPE (tokenizer/bpe.py, pure Python) next to Hugging Face `tokenizers` (Rust),
on the whole Pushkin corpus, side by side in one run:

  1. training: our incremental trainer vs HF's BpeTrainer with the ByteLevel pre-tokenizer
  2. encoding, cold: a freshly loaded tokenizer (empty word cache) encodes every work
  3. encoding, warm: the same tokenizer encodes every work again (word cache full)
  4. our encoding before the O(n log n) merge (merge_short for every word, quadratic in a word's
     length), cold on the corpus and on one word of 5,000 dashes: the price and the gain of the switch

HF runs single-threaded (RAYON_NUM_THREADS=1), like our Python. Candidates are timed in
alternating rounds and the median is reported, so a busy machine slows both alike: the ratios are
what matters. It also checks that HF, loaded from the files our tokenizer saved, gives the same ids.
Usage: python bench/tokenizer.py [--vocab_size=4096] [--repeat=3] [--src=path/to/pushkin]
"""
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run without installing

# HF's Rust code reads these when it is first used: one thread, as fair to single-threaded Python
os.environ['RAYON_NUM_THREADS'] = '1'
os.environ['TOKENIZERS_PARALLELISM'] = 'false'

import tokenizers

from nanopushkin.config import main_parse
from nanopushkin.corpus import find_corpus, read_works
from tokenizer import BPETokenizer, load_tokenizer
from tokenizer.bpe import merge_short

EOT = BPETokenizer.eot_token


@dataclass
class BenchConfig:
    vocab_size: int = 4096
    repeat: int = 3             # timed rounds of every candidate; the median is reported
    src: str = ''                   # the corpus folder ('': corpus.find_corpus's rule, as every script)


class QuadraticBPE(BPETokenizer):
    """Our tokenizer as it was before merge_long: every word merged by the quadratic merge_short."""

    def _bpe(self, word):
        return merge_short([self.byte_ids[b] for b in word.encode('utf-8')], self.ranks.get, self.merged_ids)


def hf_train(docs, vocab_size):
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT], show_progress=False,
                                             initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(docs, trainer)
    return tok


def hf_from_our_files(folder, special_tokens):
    """HF's byte-level BPE built from the vocab.json/merges.txt our tokenizer saved."""
    tok = tokenizers.Tokenizer(tokenizers.models.BPE.from_file(str(folder / 'vocab.json'), str(folder / 'merges.txt')))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.add_special_tokens(list(special_tokens))
    return tok


def merged_bytes(tok):
    """The merges as pairs of token bytes: comparable between tokenizers that number tokens differently."""
    return [(tok.vocab[a], tok.vocab[b]) for a, b in tok.merges]


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def race(candidates, rounds):
    """Median seconds of each candidate, timed in alternating rounds. A candidate is a function that
    returns another function: the setup (e.g. loading a fresh tokenizer) is not timed."""
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, setup in candidates.items():
            run = setup()
            times[name].append(timed(run)[0])
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    cfg = main_parse(BenchConfig, sys.argv[1:], config_file_allowed=False)
    docs = [work.text for work in read_works(find_corpus(cfg.src or None))]
    text = EOT.join(docs)                       # our trainer splits at EOT; HF gets the documents
    mb = sum(len(d.encode('utf-8')) for d in docs) / 1e6
    print(f'corpus: {len(docs)} works, {sum(map(len, docs)):,} characters, {mb:.2f} MB UTF-8; '
          f'vocab_size {cfg.vocab_size}; median of {cfg.repeat} rounds; HF tokenizers {tokenizers.__version__}, '
          f'{os.environ["RAYON_NUM_THREADS"]} thread')

    ours, hf = BPETokenizer.train(text, cfg.vocab_size), hf_train(docs, cfg.vocab_size)
    train = race({'ours': lambda: lambda: BPETokenizer.train(text, cfg.vocab_size),
                  'hf': lambda: lambda: hf_train(docs, cfg.vocab_size)}, cfg.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        ours_file, hf_file, pretrained = Path(tmp) / 'ours.json', Path(tmp) / 'hf.json', Path(tmp) / 'pretrained'
        ours.save(ours_file)
        hf.save(str(hf_file))
        ours.save_pretrained(pretrained)
        hf_on_our_files = hf_from_our_files(pretrained, ours.special_tokens)
        same_ids = [ours.encode(d) for d in docs] == [e.ids for e in hf_on_our_files.encode_batch(docs)]
        hf.model.save(tmp)                                                  # HF's merges, read by our loader
        hf_as_ours = BPETokenizer.from_pretrained(tmp)
        same_merges = sum(x == y for x, y in zip(merged_bytes(ours), merged_bytes(hf_as_ours)))

        def ours_encode(tok, texts=docs):
            return lambda: [tok.encode(d) for d in texts]

        def hf_encode(tok):
            return lambda: [e.ids for e in tok.encode_batch_fast(docs)]   # HF's fastest path: no offsets

        cold = race({'ours': lambda: ours_encode(load_tokenizer(ours_file)),
                     'before': lambda: ours_encode(QuadraticBPE.from_dict(ours.to_dict())),
                     'hf': lambda: hf_encode(tokenizers.Tokenizer.from_file(str(hf_file)))}, cfg.repeat)
        dashes = ['—' * 5000]
        long_word = race({'ours': lambda: ours_encode(load_tokenizer(ours_file), dashes),
                          'before': lambda: ours_encode(QuadraticBPE.from_dict(ours.to_dict()), dashes)}, cfg.repeat)
        warm_ours, warm_hf = load_tokenizer(ours_file), tokenizers.Tokenizer.from_file(str(hf_file))
        ours_encode(warm_ours)(), hf_encode(warm_hf)()                    # fill the word caches
        warm = race({'ours': lambda: ours_encode(warm_ours), 'hf': lambda: hf_encode(warm_hf)}, cfg.repeat)

    tokens_ours = sum(len(ours.encode(d)) for d in docs)
    tokens_hf = sum(len(e.ids) for e in hf.encode_batch_fast(docs))
    print()
    print('| | ours (Python) | HF tokenizers (Rust, 1 thread) | ours vs HF |')
    print('|---|---|---|---|')
    print(f'| training, vocab {cfg.vocab_size} | {train["ours"]:.2f} s | {train["hf"]:.2f} s | '
          f'{train["ours"] / train["hf"]:.2f}x the time |')
    for name, t in (('encode, cold (fresh tokenizer)', cold), ('encode, warm (word cache full)', warm)):
        print(f'| {name} | {mb / t["ours"]:.1f} MB/s | {mb / t["hf"]:.1f} MB/s | '
              f'{t["hf"] / t["ours"]:.2f}x the throughput |')
    print(f'| tokens for the corpus | {tokens_ours:,} | {tokens_hf:,} | {tokens_ours / tokens_hf:.3f}x |')
    print()
    print('| our encoding | before (quadratic merge for every word) | now | now vs before |')
    print('|---|---|---|---|')
    print(f'| the corpus, cold | {mb / cold["before"]:.2f} MB/s | {mb / cold["ours"]:.2f} MB/s | '
          f'{cold["before"] / cold["ours"]:.3f}x the throughput |')
    print(f'| one word of 5,000 dashes | {long_word["before"]:.2f} s | {long_word["ours"]:.3f} s | '
          f'{long_word["before"] / long_word["ours"]:.0f}x faster |')
    print()
    print(f'HF loaded from our save_pretrained files gives the same ids on the whole corpus: {same_ids}')
    print(f'the two trainers learned the same merge at {same_merges} of {len(ours.merges)} ranks '
          '(they break ties between equally frequent pairs by different rules)')


if __name__ == '__main__':
    try:
        main()
    except (ValueError, FileNotFoundError) as e:     # bad --vocab_size or --src: the message says which
        sys.exit(f'error: {e}')
