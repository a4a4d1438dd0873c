"""
How well does nanopushkin/verse.py find rhymes from letters alone? Measured on Евгений Онегин.

Every regular stanza of Onegin (14 verse lines) rhymes AbAbCCddEffEgg: capitals are feminine
endings (9 syllables), lower case masculine (8). That gives the truth for every pair of lines of a
stanza: the 7 pairs the scheme joins rhyme, the other 84 do not. The heuristic's precision and recall
are counted over all those pairs, and over the pairs at most verse.RHYME_WINDOW lines apart (the ones
the rhyme rate looks at), for meter='iamb' (endings from syllable parity) and meter=None (no
parity). Then the same for poems of Lermontov and Nekrasov whose schemes are stated (STATED_POEMS,
in other meters: trochee, dactyl, amphibrach, anapest), per poet, under each poem's stated meter and
under the one verse.guess_meter reads from it. Then the verse figures (syllable counts, tetrameter share, rhyme rate, stanza shapes) of the
held-out Pushkin verse and of the contrast poets' verse, the reference rows for models.

Usage: python bench/verse_rhyme.py [--pushkin_dir=...] [--contrast_dir=...] [--out_dir=results/verse]
Takes about a minute of CPU time. Writes rhyme.json (every figure) and rhyme.md (tables, failures with examples).
"""
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import regex as re

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run without installing

from nanopushkin.config import main_parse
from nanopushkin.corpus import VAL_WORKS, CorpusNotFound, find_corpus, read_works
from nanopushkin.verse import (RHYME_WINDOW, count_syllables, ending, guess_meter, lines_of, rhyme_key,
                               rhyme_scheme, rhymes, stanzas_of, verse_figures)

ONEGIN = 'Евгений Онегин'
SCHEME = 'AbAbCCddEffEgg'
CONTRAST_POETS = ('Lermontov', 'Nekrasov')
N_EXAMPLES = 8

# Poems of the contrast corpus whose rhyme schemes can be stated (checked by reading them):
# (poet, title, header lines before the verse (corpus.read_works drops the author and title), the scheme of the whole poem, its meter). Capitals
# are feminine endings; the dactylic endings of 'Молитва' and 'Тучи' are lower case like masculine
# ones (only the letters' pairing is the truth here). The schemes are read in blocks of 4 lines.
STATED_POEMS = (
    ('Lermontov', 'Парус', 0, 'AbAb' * 3, 'iamb'),
    ('Lermontov', 'Выхожу один я на дорогу', 0, 'AbAb' * 5, 'trochee'),
    ('Lermontov', 'Молитва (В минуту жизни трудную...)', 1, 'abab' * 3, 'iamb'),
    ('Lermontov', 'Тучи', 0, 'abab' * 3, 'dactyl'),
    ('Lermontov', 'Пророк', 0, 'aBaB' * 6 + 'aBBa', 'iamb'),
    ('Lermontov', 'Ангел', 0, 'aabb' * 4, 'amphibrach'),
    ('Nekrasov', 'Тройка', 0, 'AbAb' * 11 + 'AAbb', 'anapest'),
    ('Nekrasov', 'Элегия', 1, 'AAbb' * 12 + 'AA', 'iamb'),
)
BLOCK = 4


@dataclass
class VerseBenchConfig:
    pushkin_dir: str = ''                          # '' = corpus.find_corpus(), as everywhere
    contrast_dir: str = '../shared/data/contrast'
    out_dir: str = 'results/verse'


def scheme_pairs(scheme=SCHEME) -> set[tuple[int, int]]:
    """The pairs of line numbers (i < j) that share a letter of the scheme."""
    return {(i, j) for i in range(len(scheme)) for j in range(i + 1, len(scheme))
            if scheme[i].lower() == scheme[j].lower()}


def onegin_stanzas(text) -> list[list[str]]:
    """The regular stanzas: 14 verse lines (Tatyana's letter, the girls' song, the dedication and
    the stanzas printed with a line split in two are other shapes and are left out)."""
    return [s for s in stanzas_of(text) if len(s) == len(SCHEME)]


def score_pairs(stanzas, meter, max_distance=None, stresses=None) -> dict:
    """Precision and recall of rhymes() against the known schemes, with the failing pairs as
    (stanza, scheme, i, j). stanzas: (lines, their scheme) pairs; negatives are the other pairs of
    lines of a stanza. stresses: a stress table for rhymes() (bench/verse_stress.py), or None."""
    found = {'tp': [], 'fp': [], 'fn': []}
    negatives = 0
    for stanza, scheme in stanzas:
        truth = scheme_pairs(scheme)
        for i, j in ((i, j) for i in range(len(stanza)) for j in range(i + 1, len(stanza))):
            if max_distance is not None and j - i > max_distance:
                continue
            said, true = rhymes(stanza[i], stanza[j], meter, stresses), (i, j) in truth
            negatives += not true
            if said:
                found['tp' if true else 'fp'].append((stanza, scheme, i, j))
            elif true:
                found['fn'].append((stanza, scheme, i, j))
    tp, fp, fn = (len(found[k]) for k in ('tp', 'fp', 'fn'))
    return {'pairs_rhyming': tp + fn, 'pairs_not_rhyming': negatives, 'tp': tp, 'fp': fp, 'fn': fn,
            'precision': tp / (tp + fp) if tp + fp else float('nan'),
            'recall': tp / (tp + fn) if tp + fn else float('nan'),
            'false_positive_rate': fp / negatives if negatives else float('nan'),
            'examples': found}


LATIN_END = re.compile(r'[A-Za-z][^А-Яа-яЁё]*$')


def why_missed(stanza, scheme, i, j, meter) -> str:
    """A failure category for a rhyming pair that rhymes() did not find."""
    a, b = stanza[i], stanza[j]
    if LATIN_END.search(a) or LATIN_END.search(b):
        return 'a line ends in a word in Latin script (not read at all)'
    if meter is not None and ending(a, meter) != ending(b, meter):
        return 'syllable parity differs (a miscounted line: a Latin-script word, a split line)'
    kinds = [ending(a, meter)] if meter else ['m', 'f']
    if any(rhyme_key(a, k) and rhyme_key(b, k) and rhyme_key(a, k).replace('э', 'о') ==
           rhyme_key(b, k).replace('э', 'о') for k in kinds):
        return 'ё printed as е (the edition writes "пробужден" for "пробуждён")'
    return 'other inexact rhymes (the endings differ after the spelling rules)'


def why_false(stanza, scheme, i, j, meter) -> str:
    """A failure category for a pair that rhymes() joins and the scheme does not."""
    a, b = stanza[i], stanza[j]
    if meter is None and count_syllables(a) % 2 != count_syllables(b) % 2:
        return 'a feminine and a masculine line with the same last syllable (no parity rule)'
    pairs = scheme_pairs(scheme)
    partner = {i: j for i, j in pairs} | {j: i for i, j in pairs}
    if i in partner and j in partner and rhymes(a, stanza[partner[i]], meter) \
            and rhymes(b, stanza[partner[j]], meter):
        return 'two pairs of the stanza share one rhyme sound (a true rhyme, not in the scheme)'
    return 'the same ending, but the rhyme is elsewhere (unstressed endings, ё/е, near rhymes)'


def categorized(pairs, meter, why) -> dict:
    groups = {}
    for stanza, scheme, i, j in pairs:
        groups.setdefault(why(stanza, scheme, i, j, meter), []).append(f'{stanza[i]} / {stanza[j]}')
    return {reason: {'count': len(examples), 'examples': examples[:N_EXAMPLES]}
            for reason, examples in sorted(groups.items(), key=lambda kv: -len(kv[1]))}


def onegin_figures(stanzas) -> dict:
    out = {'stanzas': len(stanzas)}
    for meter in ('iamb', None):
        name = meter or 'none'
        with_scheme = [(stanza, SCHEME) for stanza in stanzas]
        scores = {'all pairs': score_pairs(with_scheme, meter),
                  f'pairs at most {RHYME_WINDOW} lines apart': score_pairs(with_scheme, meter, RHYME_WINDOW)}
        schemes = [rhyme_scheme(s, meter) for s in stanzas]
        target = SCHEME if meter else SCHEME.lower()
        all_pairs = scores['all pairs']
        out[name] = {
            **{k: {m: v for m, v in s.items() if m != 'examples'} for k, s in scores.items()},
            'stanzas_with_exact_scheme': sum(s == target for s in schemes) / len(schemes),
            'missed': categorized(all_pairs['examples']['fn'], meter, why_missed),
            'false': categorized(all_pairs['examples']['fp'], meter, why_false),
        }
    # how often the parity rule gets the ending right: feminine = 9 syllables, masculine = 8
    lines = [(line, letter) for s in stanzas for line, letter in zip(s, SCHEME)]
    out['ending_from_parity_correct'] = sum((ending(line) == 'f') == letter.isupper()
                                            for line, letter in lines) / len(lines)
    out['lines_8_or_9'] = sum(count_syllables(line) in (8, 9) for line, _ in lines) / len(lines)
    return out


def stated_poems(contrast_dir) -> dict:
    """Per poet: the rhyme pairs of STATED_POEMS found under the stated meter and under the meter
    guess_meter() reads from the poem, and each poem's guess."""
    poets, texts = {}, {}
    for poet, title, header, scheme, meter in STATED_POEMS:
        folder = Path(contrast_dir) / poet
        if poet not in texts:
            texts[poet] = {w.name: w.text for w in read_works(folder)} if folder.is_dir() else {}
        if title not in texts[poet]:
            print(f'note: no "{title}" in {folder}: left out', file=sys.stderr)
            continue
        lines = lines_of(texts[poet][title])[header:]
        if len(lines) != len(scheme):
            sys.exit(f'error: "{title}" in {folder} has {len(lines)} verse lines after its header, the stated '
                     f'scheme {len(scheme)}: the file is not the one the scheme was stated for')
        guessed, _ = guess_meter('\n'.join(lines))
        blocks = [(lines[k:k + BLOCK], scheme[k:k + BLOCK]) for k in range(0, len(lines), BLOCK)]
        entry = poets.setdefault(poet, {'poems': {}, 'blocks': {'stated': [], 'guessed': []}})
        entry['poems'][title] = {'scheme': scheme, 'meter': meter, 'guessed_meter': guessed}
        entry['blocks']['stated'] += [(block, meter) for block in blocks]
        entry['blocks']['guessed'] += [(block, guessed) for block in blocks]
    out = {}
    for poet, entry in poets.items():
        out[poet] = {'poems': entry['poems']}
        for which, blocks in entry['blocks'].items():
            scores = [score_pairs([block], meter) for block, meter in blocks]
            tp, fp, fn, negatives = (sum(s[k] for s in scores) for k in ('tp', 'fp', 'fn', 'pairs_not_rhyming'))
            out[poet][f'{which} meter'] = {'pairs_rhyming': tp + fn, 'pairs_not_rhyming': negatives,
                                           'precision': tp / (tp + fp) if tp + fp else float('nan'),
                                           'recall': tp / (tp + fn), 'false_positive_rate': fp / negatives,
                                           'missed': [f'{b[i]} / {b[j]}' for s in scores
                                                      for b, _, i, j in s['examples']['fn']][:N_EXAMPLES]}
    return out


def reference_texts(works, contrast_dir) -> dict[str, str]:
    """The verse texts whose figures models are compared with. works: {name: corpus.Work}."""
    held_out = [works[n] for n in VAL_WORKS if works[n].kind == 'poems']
    texts = {'held-out Pushkin verse': '\n\n'.join(w.text for w in held_out)}   # sample.py --verse reads it
    texts.update({f'Pushkin: {w.name}': w.text for w in held_out})
    texts[f'Pushkin: {ONEGIN}'] = works[ONEGIN].text
    for poet in CONTRAST_POETS:
        folder = Path(contrast_dir) / poet
        if folder.is_dir():
            texts[f'{poet} verse'] = '\n\n'.join(w.text for w in read_works(folder) if w.kind == 'poems')
        else:
            print(f'note: no {folder}: no {poet} reference row', file=sys.stderr)
    return texts


def fmt(x):
    return f'{x:.3f}' if isinstance(x, float) else str(x)


def markdown(result) -> str:
    on = result['onegin']
    out = [f'# Rhyme from letters, measured on {ONEGIN}', '',
           f'Regenerate: `{result["command"]}`. {on["stanzas"]} stanzas of 14 lines, scheme {SCHEME}; '
           f'true pairs are the 7 the scheme joins per stanza, negatives the other pairs of the stanza.', '',
           '| meter | pairs | rhyming | not rhyming | precision | recall | false positives | stanzas with the exact scheme |',
           '|---|---|---|---|---|---|---|---|']
    for name in ('iamb', 'none'):
        for scope, s in on[name].items():
            if isinstance(s, dict) and 'precision' in s:
                out.append(f'| {name} | {scope} | {s["pairs_rhyming"]} | {s["pairs_not_rhyming"]} | '
                           f'{fmt(s["precision"])} | {fmt(s["recall"])} | {fmt(s["false_positive_rate"])} | '
                           f'{fmt(on[name]["stanzas_with_exact_scheme"])} |')
    out += ['', f'Lines with 8 or 9 syllables: {fmt(on["lines_8_or_9"])}; ending (feminine 9 / masculine 8) '
            f'read correctly from the syllable parity: {fmt(on["ending_from_parity_correct"])}.', '']
    for name in ('iamb', 'none'):
        for what, title in (('missed', 'Rhymes missed'), ('false', 'False rhymes')):
            out += [f'## {title} (meter={name}, all pairs)', '']
            for reason, group in on[name][what].items():
                out.append(f'- {reason}: {group["count"]}, e.g.')
                out += [f'    - {e}' for e in group['examples'][:4]]
            out.append('')
    out += ['## Other poets: poems with stated schemes', '',
            'Pairs of lines in blocks of 4 (precision, recall and false positives as above), under the meter '
            'stated for each poem and under the one verse.guess_meter reads from it.', '',
            '| poet | meter | rhyming | not rhyming | precision | recall | false positives |', '|---|---|---|---|---|---|---|']
    for poet, p in result['poets'].items():
        for which in ('stated meter', 'guessed meter'):
            s = p[which]
            out.append(f'| {poet} | {which} | {s["pairs_rhyming"]} | {s["pairs_not_rhyming"]} | '
                       f'{fmt(s["precision"])} | {fmt(s["recall"])} | {fmt(s["false_positive_rate"])} |')
    out += ['', '| poet | poem | scheme | stated meter | guessed meter |', '|---|---|---|---|---|']
    for poet, p in result['poets'].items():
        out += [f'| {poet} | {title} | {e["scheme"][:8]}... | {e["meter"]} | {e["guessed_meter"]} |'
                for title, e in p['poems'].items()]
    out += ['', 'Missed rhymes (stated meter): '
            + '; '.join(f'{poet}: ' + ', '.join(p['stated meter']['missed'][:4]) for poet, p in result['poets'].items()), '']
    out += ['## Verse figures of reference texts (meter=iamb)', '',
            f'Held-out Pushkin verse: {", ".join(n for n in VAL_WORKS if f"Pushkin: {n}" in result["references"])}; '
            f'{", ".join(CONTRAST_POETS)}: all their poems in the contrast corpus.', '',
            '| text | verse lines | 8-9 syllables | rhyme rate | most common syllable counts | stanza shapes |',
            '|---|---|---|---|---|---|']
    for name, f in result['references'].items():
        common = ', '.join(f'{k}: {v:.2f}' for k, v in sorted(f['syllables'].items(), key=lambda kv: -kv[1])[:4])
        shapes = ', '.join(f'{k}x{v}' for k, v in f['stanza_shapes'].items())
        out.append(f'| {name} | {f["lines"]} | {fmt(f["tetrameter_share"])} | {fmt(f["rhyme_rate"])} | '
                   f'{common} | {shapes} |')
    return '\n'.join(out) + '\n'


def main(argv):
    settings = main_parse(VerseBenchConfig, argv, config_file_allowed=False)
    try:
        works = {w.name: w for w in read_works(find_corpus(settings.pushkin_dir or None))}
    except (CorpusNotFound, ValueError) as e:
        sys.exit(f'error: {e}')
    result = {'command': 'python bench/verse_rhyme.py' + ''.join(f' {a}' for a in argv),
              'onegin': onegin_figures(onegin_stanzas(works[ONEGIN].text)),
              'poets': stated_poems(settings.contrast_dir),
              'references': {name: verse_figures(text)
                             for name, text in reference_texts(works, settings.contrast_dir).items()}}
    out = Path(settings.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'rhyme.json').write_text(json.dumps(result, ensure_ascii=False, indent=1) + '\n', encoding='utf-8')
    (out / 'rhyme.md').write_text(markdown(result), encoding='utf-8')
    print(markdown(result))


if __name__ == '__main__':
    main(sys.argv[1:])
