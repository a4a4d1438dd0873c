"""
How far does a stress table learned from the meter of Pushkin's verse get? (nanopushkin/stress.py)

The table is learned from the corpus's poems, the held-out works left out (what stress.load_stresses
does, here without the cache, and timed). Then:
- its size, and its coverage: the share of the words of two or more syllables in verse whose stress
  it knows (or a printed ё tells), in the poems it learned from, in the held-out Pushkin verse and in
  Lermontov's and Nekrasov's poems (the contrast corpus);
- its accuracy against stresses known without it, per number of syllables: the words the corpus
  (prose too) prints with ё, which is always stressed (looked up as the table sees them, ё as е),
  and the hand-written list bench/data/stress_words.txt; with --silero=True also its agreement with
  silero-stress, a neural stress model (a bench-only second opinion: `pip install silero-stress`);
- the meter by stress (verse.guess_meter_by_stress) of poems whose meter is known: Онегин (the table
  learned from it), the held-out Медный всадник (iamb) and Сказка о рыбаке и рыбке (folk verse, no
  syllabic meter), and the Lermontov and Nekrasov poems of bench/verse_rhyme.py's STATED_POEMS;
  per line, the share of lines with a known stress whose known stresses all fall on strong
  syllables (verse.fits_meter) under the stated meter, and under the other two-syllable meter;
- endings: on Onegin's regular stanzas (AbAbCCddEffEgg: capitals feminine), how often the ending
  read from the last word's stress is right, against the syllable parity, and the rhyme figures of
  bench/verse_rhyme.py with the endings from stress.

Usage: python bench/verse_stress.py [--pushkin_dir=...] [--contrast_dir=...] [--out_dir=results/verse] [--silero=False]
About half a minute of CPU time (a minute more with --silero). Writes stress.json and stress.md.
"""
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run without installing

from bench.verse_rhyme import ONEGIN, RHYME_WINDOW, SCHEME, STATED_POEMS, onegin_stanzas, score_pairs
from nanopushkin.config import main_parse
from nanopushkin.corpus import VAL_WORKS, CorpusNotFound, find_corpus, read_works
from nanopushkin.stress import learn_from_texts, read_marked
from nanopushkin.verse import (count_syllables, ending, fits_meter, guess_meter_by_stress, lines_of, stress_key,
                               stressed_syllable, words_of)

CONTRAST_POETS = ('Lermontov', 'Nekrasov')
OTHER_BINARY = {'iamb': 'trochee', 'trochee': 'iamb'}
N_EXAMPLES = 12


@dataclass
class StressBenchConfig:
    pushkin_dir: str = ''                          # '' = corpus.find_corpus(), as everywhere
    contrast_dir: str = '../shared/data/contrast'
    out_dir: str = 'results/verse'
    hand_list: str = 'bench/data/stress_words.txt'
    silero: bool = False                           # add silero-stress's opinion (must be installed)


def coverage(texts: list[str], stresses) -> dict:
    """How many words of two or more syllables the verse lines of the texts have, and the share of
    them whose stress is known (by the table or a printed ё)."""
    words = [w for text in texts for line in lines_of(text) for w in words_of(line) if count_syllables(w) >= 2]
    known = sum(stressed_syllable(w, stresses) is not None for w in words)
    return {'words_2plus': len(words), 'known': known / len(words) if words else float('nan')}


def yo_truth(texts: list[str]) -> tuple[dict[str, int], dict]:
    """{table key: stressed syllable} of the words of two or more syllables printed with one ё, and how
    often the texts print ё at all."""
    truth, tokens, with_yo = {}, 0, 0
    for text in texts:
        for word in words_of(text):
            tokens += 1
            if word.count('ё') == 1:
                with_yo += 1
                if count_syllables(word) >= 2:
                    truth[stress_key(word)] = stressed_syllable(word, {})
    return truth, {'word_tokens': tokens, 'tokens_with_yo': with_yo, 'distinct_words_2plus_with_yo': len(truth)}


def hand_truth(path) -> dict[str, int]:
    words = [w for line in Path(path).read_text(encoding='utf-8').splitlines()
             if not line.startswith('#') for w in line.split()]
    return dict(read_marked(w) for w in words)


def accuracy(truth: dict[str, int], guesses: dict[str, int]) -> dict:
    """Per number of syllables and in all: words, the share the guesses know, the share of those right;
    and examples of wrong and unknown words."""
    groups = defaultdict(lambda: {'words': 0, 'known': 0, 'right': 0})
    wrong, unknown = [], []
    for word, syllable in sorted(truth.items()):
        n = count_syllables(word)
        for key in (str(min(n, 5)) + ('+' if n >= 5 else ''), 'all'):
            groups[key]['words'] += 1
            groups[key]['known'] += word in guesses
            groups[key]['right'] += guesses.get(word) == syllable
        if word not in guesses:
            unknown.append(word)
        elif guesses[word] != syllable:
            wrong.append(f'{word}: {guesses[word]} (true {syllable})')
    table = {k: {'words': g['words'], 'known': g['known'] / g['words'],
                 'right_of_known': g['right'] / g['known'] if g['known'] else float('nan')}
             for k, g in sorted(groups.items())}
    return {'by_syllables': table, 'wrong': wrong[:N_EXAMPLES], 'unknown': unknown[:N_EXAMPLES]}


def meter_rows(poems, stresses) -> list[dict]:
    """poems: (name, text, the known meter or None) -> one row each: the meter by stress, and per line
    the share with a known stress, and of those the share that fits the known meter and the other
    two-syllable one."""
    rows = []
    for name, text, meter in poems:
        guessed, shares = guess_meter_by_stress(text, stresses)
        lines = lines_of(text)
        checks = {m: [fits_meter(line, m, stresses) for line in lines] for m in ('iamb', 'trochee', meter) if m}
        with_stress = [c is not None for c in checks['iamb']]
        row = {'poem': name, 'meter': meter, 'guessed': guessed, 'shares': shares, 'lines': len(lines),
               'lines_with_known_stress': sum(with_stress) / len(lines)}
        if meter:
            other = OTHER_BINARY.get(meter, 'iamb')
            row['lines_fitting_meter'] = sum(c is True for c in checks[meter]) / max(1, sum(with_stress))
            row['lines_fitting_other'] = sum(c is True for c in checks[other]) / max(1, sum(with_stress))
            row['other'] = other
        rows.append(row)
    return rows


def known_poems(works, contrast_dir) -> list[tuple[str, str, str | None]]:
    poems = [(ONEGIN, works[ONEGIN].text, 'iamb'), ('Медный всадник', works['Медный всадник'].text, 'iamb'),
             ('Сказка о рыбаке и рыбке', works['Сказка о рыбаке и рыбке'].text, None)]
    for poet, title, header, _, meter in STATED_POEMS:
        folder = Path(contrast_dir) / poet
        texts = {w.name: w.text for w in read_works(folder)} if folder.is_dir() else {}
        if title in texts:
            poems.append((f'{poet}: {title}', '\n'.join(lines_of(texts[title])[header:]), meter))
    return poems


def ending_figures(stanzas, stresses) -> dict:
    """Onegin's endings by stress against the parity, and the rhyme figures with each."""
    lines = [(line, letter) for s in stanzas for line, letter in zip(s, SCHEME)]
    by_stress = [line for line, _ in lines if (w := words_of(line)) and stressed_syllable(w[-1], stresses)]
    out = {'lines': len(lines), 'lines_ending_known_by_stress': len(by_stress) / len(lines)}
    for name, table in (('parity', None), ('stress', stresses)):
        out[f'ending_right_{name}'] = sum((ending(line, 'iamb', table) == 'f') == letter.isupper()
                                          for line, letter in lines) / len(lines)
        pairs = score_pairs([(s, SCHEME) for s in stanzas], 'iamb', RHYME_WINDOW, table)
        out[f'rhyme_{name}'] = {k: pairs[k] for k in ('precision', 'recall', 'false_positive_rate', 'tp', 'fp', 'fn')}
    out['wrong_by_stress'] = [line for line, letter in lines
                              if (ending(line, 'iamb', stresses) == 'f') != letter.isupper()][:N_EXAMPLES]
    return out


def silero_guesses(words) -> dict[str, int]:
    """silero-stress's stressed syllable of each word said alone (a bench-only second opinion)."""
    from silero_stress import load_accentor      # here only: never a dependency of the project
    accentor = load_accentor()
    guesses = {}
    for word in words:
        marked = accentor(word)                  # '+' before the stressed vowel: 'говор+ит'
        if marked.count('+') == 1:
            guesses[word] = count_syllables(marked.split('+')[0]) + 1
    return guesses


def fmt(x):
    return f'{x:.3f}' if isinstance(x, float) else str(x)


def accuracy_table(result) -> list[str]:
    out = ['| truth | syllables | words | known to the table | right, of the known |', '|---|---|---|---|---|']
    for name, acc in result['accuracy'].items():
        out += [f'| {name} | {n} | {g["words"]} | {fmt(g["known"])} | {fmt(g["right_of_known"])} |'
                for n, g in acc['by_syllables'].items()]
    return out


def markdown(result) -> str:
    t, e = result['table'], result['endings']
    out = ['# Stress learned from the meter (nanopushkin/stress.py)', '',
           f'Regenerate: `{result["command"]}`. Learned from {t["poems"]} poems of the corpus (the held-out works '
           f'left out) in {t["seconds"]:.1f} s: {t["words"]} words of two or more syllables, '
           f'{fmt(t["unanimous"])} of them with every vote on one syllable.', '',
           '## Coverage: words of two or more syllables in verse whose stress is known', '',
           '| verse | words | known |', '|---|---|---|']
    out += [f'| {name} | {c["words_2plus"]} | {fmt(c["known"])} |' for name, c in result['coverage'].items()]
    y = result['yo']
    out += ['', '## Accuracy against known stresses', '',
            f'ё in the corpus (prose and verse): {y["tokens_with_yo"]} of {y["word_tokens"]} word tokens, '
            f'{y["distinct_words_2plus_with_yo"]} distinct words of two or more syllables (their stress is the ё; '
            'the table knows them as spelled with е). The hand list: bench/data/stress_words.txt.', '']
    out += accuracy_table(result)
    for name, acc in result['accuracy'].items():
        out += ['', f'{name}, wrong: ' + ', '.join(acc['wrong']) + '; unknown: ' + ', '.join(acc['unknown'])]
    out += ['', '## Meter by stress', '',
            'Per poem, verse.guess_meter_by_stress; per line, the lines with a known stress whose known stresses '
            'all fall on strong syllables of the known meter, and of the other two-syllable meter (iamb for the '
            'three-syllable ones).', '',
            '| poem | known meter | by stress | share on strong syllables (known meter) | lines with a known stress '
            '| lines fitting the known meter | lines fitting the other |', '|---|---|---|---|---|---|---|']
    for r in result['meter']:
        share = r['shares'].get(r['meter'], float('nan')) if r['meter'] else max(r['shares'].values())
        out.append(f'| {r["poem"]} | {r["meter"]} | {r["guessed"]} | {fmt(share)} | {fmt(r["lines_with_known_stress"])} | '
                   f'{fmt(r.get("lines_fitting_meter", ""))} | {fmt(r.get("lines_fitting_other", ""))} |')
    out += ['', f'## Endings on {ONEGIN} ({e["lines"]} lines of regular stanzas)', '',
            f'The last word\'s stress is known for {fmt(e["lines_ending_known_by_stress"])} of the lines; elsewhere '
            'the parity decides.', '',
            '| ending from | ending right | rhyme precision | recall | false positives (pairs at most 3 lines apart) |',
            '|---|---|---|---|---|']
    for name in ('parity', 'stress'):
        r = e[f'rhyme_{name}']
        out.append(f'| {name} | {fmt(e[f"ending_right_{name}"])} | {fmt(r["precision"])} | {fmt(r["recall"])} | '
                   f'{fmt(r["false_positive_rate"])} |')
    out += ['', 'Lines whose ending the stress reads wrong: ' + ' / '.join(e['wrong_by_stress'])]
    return '\n'.join(out) + '\n'


def main(argv):
    settings = main_parse(StressBenchConfig, argv, config_file_allowed=False)
    try:
        works = {w.name: w for w in read_works(find_corpus(settings.pushkin_dir or None))}
    except (CorpusNotFound, ValueError) as e:
        sys.exit(f'error: {e}')
    learned_from = [w.text for w in works.values() if w.kind == 'poems' and w.name not in VAL_WORKS]
    start = time.process_time()
    table = learn_from_texts(learned_from)
    seconds = time.process_time() - start
    stresses = {word: syllable for word, (syllable, _) in table.items()}
    contrast = {poet: [w.text for w in read_works(Path(settings.contrast_dir) / poet) if w.kind == 'poems']
                for poet in CONTRAST_POETS if (Path(settings.contrast_dir) / poet).is_dir()}
    yo, yo_counts = yo_truth([w.text for w in works.values()])
    hand = hand_truth(settings.hand_list)
    result = {'command': 'python bench/verse_stress.py' + ''.join(f' {a}' for a in argv),
              'table': {'poems': len(learned_from), 'seconds': seconds, 'words': len(table),
                        'unanimous': sum(share == 1.0 for _, share in table.values()) / len(table)},
              'coverage': {'Pushkin verse it learned from': coverage(learned_from, stresses),
                           'held-out Pushkin verse': coverage([works[n].text for n in VAL_WORKS
                                                               if works[n].kind == 'poems'], stresses),
                           **{f'{poet} verse': coverage(texts, stresses) for poet, texts in contrast.items()}},
              'yo': yo_counts,
              'accuracy': {'ё words': accuracy(yo, stresses), 'hand list': accuracy(hand, stresses)},
              'meter': meter_rows(known_poems(works, settings.contrast_dir), stresses),
              'endings': ending_figures(onegin_stanzas(works[ONEGIN].text), stresses)}
    if settings.silero:
        silero = silero_guesses(sorted(set(stresses) | set(hand) | set(yo)))
        result['accuracy'].update({'silero-stress, taken as the truth for the table\'s words':
                                       accuracy({w: silero[w] for w in stresses if w in silero}, stresses),
                                   'silero-stress on the hand list': accuracy(hand, silero),
                                   'silero-stress on the ё words': accuracy(yo, silero)})
    out = Path(settings.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'stress.json').write_text(json.dumps(result, ensure_ascii=False, indent=1) + '\n', encoding='utf-8')
    (out / 'stress.md').write_text(markdown(result), encoding='utf-8')
    print(markdown(result))


if __name__ == '__main__':
    main(sys.argv[1:])
