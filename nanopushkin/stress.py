"""Where Russian words are stressed, learned from the meter of Pushkin's verse.

Russian stress is not written (except ё, always stressed, and most texts print it as е), but a
metered line puts the stress of every word of two or more syllables on a strong syllable: in an
iamb the even ones, in a trochee the odd ones. So each occurrence of a word in a metered line
names the syllables of that word that may carry its stress, and over many occurrences one
syllable wins. This module learns a table {word: stressed syllable, counted from 1} that way:

1. seed: the works whose rhymes say they are iambic or trochaic (verse.guess_meter, on their first
   lines); every verse line of them votes for the syllables of its words that fall on strong ones;
2. refine (EM-like rounds, REFINE_ROUNDS of them): with the table so far, every poem's meter is
   read from its stresses (verse.guess_meter_by_stress), which also places the unrhymed dramas
   (iambic pentameter) and the poems the rhyme test misread; the lines whose known stresses fit
   that meter vote again, from scratch. (Measured: the first round adds 1,675 words to the
   seed's 9,748, the second 109, a third 7; none changes a stress the table already had.)

A word's votes: its candidate syllables in one line share one vote, so an occurrence that leaves one
candidate (a two-syllable word in an iamb, any word in a three-syllable meter) counts fully and an
ambiguous one (a three-syllable word on strong-weak-strong) counts half for each. The last word of a
line is a special case: the line's ending (verse.ending) says exactly where the last stress is. A
word whose best syllable does not beat the next one is left out of the table. Monosyllables are
never in it: a meter lets them stand anywhere.

The table is learned on demand from the corpus (`load_stresses`, about 12 s of CPU; the held-out works
are left out, as for the models) and cached under data/stress/, like the prepared datasets: it is
derived from the corpus and not committed. bench/verse_stress.py measures it against words printed
with ё and a hand-written list of known stresses, and measures the meter check it makes possible.
"""
from collections import Counter, defaultdict
from pathlib import Path

from nanopushkin.corpus import VAL_WORKS, find_corpus, read_works
from nanopushkin.verse import (ENDINGS, VOWELS, count_syllables, ending, fits_meter, guess_meter, guess_meter_by_stress,
                               is_strong, lines_of, stress_key, words_of)

CACHE_FILE = Path(__file__).resolve().parent.parent / 'data' / 'stress' / 'stresses.tsv'
TABLE_HEADER = '# word\tstressed syllable (from 1)\tshare of its votes; learned by nanopushkin/stress.py v1'
SEED_LINES = 120            # the rhyme test reads a work's meter from this many first lines (it is slow)
SEED_RHYME_RATE = 0.9       # ... and a seed work must rhyme this well under it (folk verse does not)
SEED_METERS = ('iamb', 'trochee')
MAX_VERSE_SYLLABLES = 13    # longer lines are not metered verse here (prose in the dramas, stage directions)
REFINE_ROUNDS = 2


def stress_candidates(line: str, meter: str) -> list[tuple[str, list[int]]]:
    """For each word of two or more syllables: (its table key, the syllables of it, from 1, that may
    carry its stress in this line under the meter). The last word's candidate is the syllable the
    line's ending puts the last stress on (from the syllable count, verse.ending); the others' are
    their syllables on strong positions. A word with no candidate (on weak syllables only, which a
    three-syllable meter allows a two-syllable word, or a line that breaks the meter) is left out."""
    words = words_of(line)
    last_stress = count_syllables(line) - ENDINGS.index(ending(line, meter))
    out, before = [], 0
    for word in words:
        n = count_syllables(word)
        positions = range(before + 1, before + n + 1)
        if n >= 2:
            if last_stress in positions:
                candidates = [last_stress - before]
            else:
                candidates = [p - before for p in positions if is_strong(p, meter)]
            if candidates:
                out.append((stress_key(word), candidates))
        before += n
    return out


def is_usable(line: str) -> bool:
    """A line whose syllables can be counted as the meter counts them: no Latin script (its words
    count no syllables and would shift every position) and not longer than verse lines are."""
    return not any('a' <= ch.lower() <= 'z' for ch in line) and count_syllables(line) <= MAX_VERSE_SYLLABLES


def learn_stresses(metered_lines) -> dict[str, int]:
    """metered_lines: (line, meter) pairs -> {word key: stressed syllable}, by the votes of
    `stress_candidates`; a word whose best syllable ties with another is left out."""
    return {word: syllable for word, (syllable, _) in learn_with_shares(metered_lines).items()}


def learn_with_shares(metered_lines) -> dict[str, tuple[int, float]]:
    """As `learn_stresses`, with the share of the word's votes its stressed syllable got (1.0: every
    occurrence agreed), for the cache file and the bench."""
    votes = defaultdict(Counter)
    for line, meter in metered_lines:
        for word, candidates in stress_candidates(line, meter):
            for syllable in candidates:
                votes[word][syllable] += 1 / len(candidates)
    table = {}
    for word, counter in votes.items():
        ranked = counter.most_common(2)
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            table[word] = (ranked[0][0], ranked[0][1] / sum(counter.values()))
    return table


def seed_lines(texts: list[str]) -> list[tuple[str, str]]:
    """The lines of the texts that rhyme as iambs or trochees (see the module docstring), with that meter."""
    out = []
    for text in texts:
        head = '\n'.join(text.split('\n')[:SEED_LINES])
        meter, scores = guess_meter(head)
        if meter in SEED_METERS and scores[meter][0] >= SEED_RHYME_RATE:
            out += [(line, meter) for line in lines_of(text) if is_usable(line)]
    return out


def metered_lines(texts: list[str], stresses: dict[str, int]) -> list[tuple[str, str]]:
    """The lines of the texts whose meter the stresses name (verse.guess_meter_by_stress), with that
    meter: those with a known stress, all of them on strong syllables (verse.fits_meter is True). A
    line with no known stress is left out too: in the dramas a verse line split between two
    speakers is printed as two lines, each counted from 1, and prose stands among the verse; a line
    that shows one stress in place is counted right."""
    out = []
    for text in texts:
        meter, _ = guess_meter_by_stress(text, stresses)
        if meter is not None:
            out += [(line, meter) for line in lines_of(text)
                    if is_usable(line) and fits_meter(line, meter, stresses) is True]
    return out


def learn_from_texts(texts: list[str]) -> dict[str, tuple[int, float]]:
    """The stress table (with vote shares) of a set of verse texts: seed, then REFINE_ROUNDS rounds."""
    table = learn_with_shares(seed_lines(texts))
    for _ in range(REFINE_ROUNDS):
        stresses = {word: syllable for word, (syllable, _) in table.items()}
        table = learn_with_shares(metered_lines(texts, stresses))
    return table


def corpus_verse(corpus_dir=None) -> list[str]:
    """The texts of the corpus's poems, the held-out works (corpus.VAL_WORKS) left out."""
    return [w.text for w in read_works(find_corpus(corpus_dir)) if w.kind == 'poems' and w.name not in VAL_WORKS]


def read_marked(word: str) -> tuple[str, int]:
    """A word written with its stressed vowel as the one capital letter -> (table key, stressed
    syllable): 'молодОй' -> ('молодой', 3). The notation of the hand-written lists of known
    stresses (bench/data/stress_words.txt); ValueError for anything else."""
    capitals = [i for i, ch in enumerate(word) if ch.isupper()]
    if len(capitals) != 1 or word[capitals[0]].lower() not in VOWELS or not words_of(word) == [word.lower()]:
        raise ValueError(f'expected a Cyrillic word with its stressed vowel as the one capital letter, got {word!r}')
    return stress_key(word), count_syllables(word[:capitals[0]]) + 1


def save_table(table: dict[str, tuple[int, float]], path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f'{word}\t{syllable}\t{share:.3f}' for word, (syllable, share) in sorted(table.items())]
    path.write_text('\n'.join([TABLE_HEADER, *rows]) + '\n', encoding='utf-8')


def read_table(path) -> dict[str, tuple[int, float]]:
    """A table written by `save_table`; ValueError for a file that is not one (another version too)."""
    lines = Path(path).read_text(encoding='utf-8').splitlines()
    if not lines or lines[0] != TABLE_HEADER:
        raise ValueError(f'{path} is not a stress table of this version')
    table = {}
    for number, row in enumerate(lines[1:], start=2):
        fields = row.split('\t')
        if len(fields) != 3 or not fields[1].isdigit():
            raise ValueError(f'{path}, line {number}: expected word, syllable and share, got {row!r}')
        table[fields[0]] = (int(fields[1]), float(fields[2]))
    return table


def load_stresses(corpus_dir=None, cache_file=CACHE_FILE) -> dict[str, int]:
    """{word key: stressed syllable} for verse.py's `stresses` arguments: read from the cache, or
    learned from the corpus (corpus.find_corpus(corpus_dir)) and cached. Delete the cache file to
    learn again."""
    try:
        table = read_table(cache_file)
    except (FileNotFoundError, ValueError):
        table = learn_from_texts(corpus_verse(corpus_dir))
        save_table(table, cache_file)
    return {word: syllable for word, (syllable, _) in table.items()}
