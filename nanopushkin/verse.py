"""Verse form from letters alone: lines, stanzas, syllables, line length, rhyme.

Bits per character and the style meter do not say whether a model has learned to write verse: to
break lines at the right length and to rhyme. This module measures what can be measured from the
letters of a text, with plain functions over strings.

What it measures
- Lines and stanzas: a line is a line of the text; a stanza is a run of lines between blank lines.
  A *verse line* is a line with at least one syllable: blank lines, stanza numbers ('XIV') and rows
  of dots are not verse lines.
- Syllables: in Russian every syllable has exactly one vowel letter, so the syllable count of a line
  is the number of its vowels (а е ё и о у ы э ю я). This is exact for Russian words; a word in Latin
  script (Onegin's 'Monsieur', 'dandy') counts nothing, so its line comes out short.
- Line length: the distribution of syllable counts over verse lines, and the share of lines in the
  tetrameter range, 8 or 9 syllables. Iambic tetrameter (Онегин, Медный всадник, Руслан и Людмила)
  has four iambs, 8 syllables with the last one stressed (a masculine ending: 'Когда не в шутку
  занемог') and 9 when an unstressed syllable follows the last stress (a feminine ending: 'Мой дядя
  самых честных правил').
- Rhyme: whether two lines rhyme, decided from their endings (the heuristic is described at
  `rhyme_key`), the rhyme scheme of a stanza (AbAb...), and the rhyme rate of a text: the share of
  verse lines that rhyme with a line at most 3 lines away in the same stanza (3 is the farthest
  distance between partners in the Onegin stanza, in its enclosed EffE).

What letters cannot tell: stress. Russian stress is free (it can fall on any syllable and moves
within a word's forms), and it is not written (only ё is always stressed). So from letters alone
this module cannot check that a line's stresses fall where the meter wants them, and cannot see
where a line's last stress is, which is where a rhyme begins. nanopushkin/stress.py learns a table
of word stresses from the meter of the corpus's own verse; the functions here that take
`stresses` (such a table: word -> stressed syllable) use it to check a line's meter
(`fits_meter`, `guess_meter_by_stress`) and to read a line's ending from its last word. Without a
table, the rhyme heuristic works around the missing stress with what letters do tell once the meter is known:
the meter puts the last stress on a strong syllable, so the syllable count says how many unstressed
ones follow it. In iambic verse a line with an even number of syllables ends on a stress
(masculine), an odd one has one unstressed syllable after it (feminine); in trochaic verse (the
fairy tales, 'Три девицы под окном') it is the other way round; in the three-syllable meters
(dactyl, amphibrach, anapest) the count modulo 3 also tells the dactylic ending, two unstressed
syllables after the stress. The meter of a whole poem can be guessed as the one under which its
lines rhyme most (`guess_meter`); pass meter=None to compare lines without one. Texts printed
without ё are handled by letting a stressed е of a rhyme be read as ё. How well all this works is
measured on Евгений Онегин, whose rhyme scheme is known, and on poems of Lermontov and Nekrasov
whose schemes are stated, by bench/verse_rhyme.py (results/verse/).
"""
import string
from collections import Counter

import regex as re

VOWELS = 'аеёиоуыэюя'
TETRAMETER = (8, 9)                 # iambic tetrameter: masculine 8, feminine 9 syllables
RHYME_WINDOW = 3                    # rhyme partners are looked for at most this many lines away
# a meter puts the stresses of a line on its strong syllables: every FOOT-th from FIRST_STRONG on
FIRST_STRONG = {'iamb': 2, 'trochee': 1, 'dactyl': 1, 'amphibrach': 2, 'anapest': 3}
FOOT = {'iamb': 2, 'trochee': 2, 'dactyl': 3, 'amphibrach': 3, 'anapest': 3}
METERS = (*FIRST_STRONG, None)      # None: the meter is unknown, so is the ending
NEAR_BEST_RATE = 0.05               # guess_meter: rhyme rates this close to the best are a tie
MIN_RHYME_RATE = 0.3                # guess_meter: below this, the rhymes are chance (blank verse)
TERNARY_FIT = 0.97                  # guess_meter: the word fit that makes a three-syllable meter likely
ENDINGS = 'mfd'                     # masculine, feminine, dactylic: 0, 1 or 2 unstressed syllables after the stress

MIN_KNOWN_STRESSES = 10             # guess_meter_by_stress: fewer known stresses than this decide nothing
MIN_STRESS_FIT = 0.8                # guess_meter_by_stress: below this share on strong syllables, no meter

_VOWEL_RE = re.compile(f'[{VOWELS}]')
_NOT_CYRILLIC = re.compile(r'[^а-яё]+')


# -----------------------------------------------------------------------------
# lines, stanzas and syllables

def count_syllables(line: str) -> int:
    """Syllables of a line = its Russian vowel letters (upper or lower case, ё included)."""
    return len(_VOWEL_RE.findall(line.lower()))


def words_of(line: str) -> list[str]:
    """The Cyrillic words of a line, lowercase, in order: punctuation, spaces and Latin words dropped
    (a hyphen splits a word: 'кто-то' -> 'кто', 'то')."""
    return [word for word in _NOT_CYRILLIC.split(line.lower()) if word]


def lines_of(text: str) -> list[str]:
    """The verse lines of a text: its lines with at least one syllable, stripped of spaces."""
    return [line.strip() for line in text.split('\n') if count_syllables(line)]


def stanzas_of(text: str) -> list[list[str]]:
    """The stanzas of a text: runs of verse lines between blank lines (stanzas without verse
    lines, like a stanza number 'XIV' standing alone, are left out)."""
    stanzas = []
    for block in re.split(r'\n[ \t]*\n', text):
        lines = lines_of(block)
        if lines:
            stanzas.append(lines)
    return stanzas


def syllable_counts(text: str) -> Counter:
    """How many verse lines have each syllable count: {8: 120, 9: 131, ...}."""
    return Counter(count_syllables(line) for line in lines_of(text))


def tetrameter_share(text: str) -> float:
    """The share of verse lines with 8 or 9 syllables (nan when there are no verse lines)."""
    counts = syllable_counts(text)
    total = sum(counts.values())
    return sum(counts[n] for n in TETRAMETER) / total if total else float('nan')


def stanza_shapes(text: str) -> Counter:
    """How many stanzas have each number of verse lines: {14: 357, 4: 3, ...}."""
    return Counter(len(stanza) for stanza in stanzas_of(text))


def distribution(counts: Counter) -> dict[int, float]:
    """Counts -> shares that sum to 1."""
    total = sum(counts.values())
    return {k: v / total for k, v in sorted(counts.items())} if total else {}


def distance(counts_a: Counter, counts_b: Counter) -> float:
    """Total variation distance between two syllable-count distributions: half the sum of the
    absolute differences of their shares; 0 for the same distribution, 1 for disjoint ones."""
    a, b = distribution(counts_a), distribution(counts_b)
    if not a or not b:
        return float('nan')
    return sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b)) / 2


# -----------------------------------------------------------------------------
# stress and meter

def stress_key(word: str) -> str:
    """How a word is looked up in a stress table: lowercase, ё as е (most texts print ё as е, and a
    word printed both ways is one word)."""
    return word.lower().replace('ё', 'е')


def stressed_syllable(word: str, stresses: dict[str, int]) -> int | None:
    """Which syllable of a word is stressed, counted from 1; None when it is not known. A printed ё
    is always stressed, so it decides without the table; a monosyllable is None too: it may carry a
    stress or lean on its neighbour ('в', 'не', 'и'), and the meter allows both."""
    if count_syllables(word) < 2:
        return None
    if 'ё' in word.lower():
        return count_syllables(word.lower().split('ё')[0]) + 1
    return stresses.get(stress_key(word))


def is_strong(position: int, meter: str) -> bool:
    """Is the `position`-th syllable of a line (from 1) a strong one of the meter?"""
    first = FIRST_STRONG[meter]
    return position >= first and (position - first) % FOOT[meter] == 0


def known_stresses(line: str, stresses: dict[str, int]) -> list[int]:
    """The positions in the line (syllables from 1) of the known stresses of its words of two or
    more syllables (`stressed_syllable`)."""
    positions, before = [], 0
    for word in words_of(line):
        stressed = stressed_syllable(word, stresses)
        if stressed is not None:
            positions.append(before + stressed)
        before += count_syllables(word)
    return positions


def fits_meter(line: str, meter: str, stresses: dict[str, int]) -> bool | None:
    """Does every known stress of the line fall on a strong syllable of the meter? None when no
    stress of the line is known. Only words of two or more syllables are asked: a meter lets a strong
    syllable go unstressed (in Onegin's tetrameter most lines skip one of the four) and lets a
    monosyllable stand anywhere, but it does not put the stress of a longer word on a weak one."""
    positions = known_stresses(line, stresses)
    return all(is_strong(p, meter) for p in positions) if positions else None


def stress_fit(text: str, meter: str, stresses: dict[str, int]) -> tuple[float, int]:
    """(the share of the known stresses of the text's verse lines that fall on strong syllables of
    the meter, how many stresses are known); the share is nan when none is."""
    positions = [p for line in lines_of(text) for p in known_stresses(line, stresses)]
    strong = sum(is_strong(p, meter) for p in positions)
    return (strong / len(positions) if positions else float('nan')), len(positions)


def guess_meter_by_stress(text: str, stresses: dict[str, int]) -> tuple[str | None, dict]:
    """The meter of a poem as the one whose strong syllables hold most of its known stresses:
    (meter, {meter: share}). The word is the unit: a poem whose stresses fall on even syllables is
    iambic whatever its rhymes, so this also reads blank verse (the dramas' iambic pentameter). A
    tie goes to the meter listed first in METERS (two-syllable meters first: their strong syllables
    are more, so a ternary poem scores lower under them). None with fewer than MIN_KNOWN_STRESSES
    known stresses, or when no meter holds MIN_STRESS_FIT of them (prose, folk verse counted in
    stresses, not syllables)."""
    fits = {meter: stress_fit(text, meter, stresses) for meter in METERS if meter}
    best = max(fits, key=lambda meter: (fits[meter][0], -METERS.index(meter)))
    share, known = fits[best]
    scores = {meter: share for meter, (share, _) in fits.items()}
    return (best if known >= MIN_KNOWN_STRESSES and share >= MIN_STRESS_FIT else None), scores


# -----------------------------------------------------------------------------
# rhyme

# Spelling -> (roughly) sound, only as far as it matters for the end of a line.
IOTATED = {'я': 'а', 'ю': 'у', 'е': 'э', 'ё': 'о'}   # after a consonant they only soften it
VOWEL_CLASS = {'а': 'а', 'о': 'о', 'у': 'у', 'э': 'э', 'и': 'и', 'ы': 'и', **IOTATED}
SOUND_VOWELS = 'аоуэи'
DEVOICED = str.maketrans('бвгджз', 'пфктшс')
VOICELESS = 'пфктшсчцщх'
SILENT = (('ться', 'ца'), ('тся', 'ца'), ('вств', 'ств'), ('здн', 'зн'), ('стн', 'сн'), ('лнц', 'нц'),
          ('чн', 'шн'))


def _sounds_of_word(word: str) -> str:
    """One lowercase Cyrillic word -> a rough sound string: vowels in five classes (аоуэи), 'ь' for
    a soft consonant or 'й' before a vowel of the я-kind, consonants as heard at the end of a word."""
    for spelled, heard in SILENT:                             # 'чувство' = 'чуство', '-тся' = '-ца'
        word = word.replace(spelled, heard)
    word = re.sub(r'(?<=[жшчщц])ь', '', word)                 # 'речь' = 'реч': the sign is spelling only
    for _ in range(2):                                        # twice, for two voiced ones: 'приезд' = 'приест'
        word = re.sub(f'[бвгджз](?=ь?$|[{VOICELESS}])',       # 'недосуг' = 'недосук', 'извозчик' = 'извосчик'
                      lambda m: m.group().translate(DEVOICED), word)
    word = re.sub(r'([^аеёиоуыэюя])\1', r'\1', word)          # double consonants sound single
    sounds = []
    for i, ch in enumerate(word):
        before = word[i - 1] if i else ''
        if ch in 'ьъ' and i + 1 < len(word) and word[i + 1] in IOTATED:
            continue                                          # 'ье' = 'йэ': the sign only marks the й
        if ch in IOTATED:
            # 'моя' = 'мойа', 'её' = 'йэйо'; after a consonant: 'меня' = 'мьэньа' (softened)
            sounds.append('й' if not before or before in VOWELS or before in 'ьъ' else 'ь')
        sounds.append(VOWEL_CLASS.get(ch, ch))
    return ''.join(sounds)


def sounds_of(line: str) -> str:
    """The line as one rough sound string: Cyrillic letters only (case, punctuation, spaces and
    Latin words dropped), spelling equivalences applied (see `rhyme_key`)."""
    return ''.join(_sounds_of_word(word) for word in words_of(line))


def ending(line: str, meter='iamb', stresses: dict[str, int] | None = None) -> str | None:
    """'m' (masculine: the line ends on its last stress), 'f' (feminine: one unstressed syllable
    after it), 'd' (dactylic: two) or None (unknown: meter=None). With `stresses` (a stress table), a
    line whose last word has a known stress (or a printed ё) ends where that word is stressed;
    otherwise the ending comes from the syllable count under the given meter:
    the fewest unstressed syllables after the last strong syllable the meter allows. In iamb and
    trochee this is the parity of the count, and a dactylic ending cannot be told from a masculine
    one (they have the same parity: 'трудную' ends an 8- or 10-syllable iambic line as 'занемог'
    does); in the three-syllable meters the count modulo 3 tells all three apart."""
    if meter is None:
        return None
    if meter not in METERS:
        raise ValueError(f'meter must be one of {METERS}, got {meter!r}')
    if stresses is not None:
        # the last word in any script: a line ending in 'entrechat' is not read from the word before it
        last = re.findall(r'\p{L}+', line)[-1:]
        stressed = stressed_syllable(last[0], stresses) if last else None
        if stressed is not None and count_syllables(last[0]) - stressed < len(ENDINGS):
            return ENDINGS[count_syllables(last[0]) - stressed]
    n = count_syllables(line)
    return next(kind for after, kind in enumerate(ENDINGS)
                if (n - after - FIRST_STRONG[meter]) % FOOT[meter] == 0)


def _read_yo(line: str, vowel: int) -> str | None:
    """The line with its `vowel`-th vowel letter from the end read as ё if it is printed е, else
    None. Most texts print ё as е ('далекой' for 'далёкой', 'о чем' for 'о чём'); a stressed е of
    the rhyme may be either, and only the rhyme (its partner) can tell."""
    letters = [m.start() for m in _VOWEL_RE.finditer(line.lower())]
    if len(letters) < vowel or line[letters[-vowel]] not in 'еЕ':
        return None
    i = letters[-vowel]
    return line[:i] + ('ё' if line[i] == 'е' else 'Ё') + line[i + 1:]


def rhyme_key(line: str, kind: str) -> str | None:
    """The part of a line that must sound the same in a rhyme; None if the line is too short.

    kind 'm' (masculine): from the last vowel to the end ('занемог' -> 'ок', 'отец' -> 'эц'). When
    the line ends in that vowel, the sound before it counts too: any soft consonant or й alike
    ('меня' -> 'ьа', like 'я' and 'моя'), a hard consonant itself, voiced and voiceless alike
    ('вода' -> 'та', like 'места' but unlike 'она').
    kind 'f' (feminine): from the second-to-last vowel ('правил' -> 'авил', 'наука' -> 'ука'); the
    vowel after the stress is unstressed and all vowels sound alike there ('нежной' ~ 'мятежный',
    'снова' ~ 'слово'), and a final 'й' after it is barely heard ('дани' ~ 'рукоплесканий').
    kind 'd' (dactylic): the same from the third-to-last vowel ('трудную' -> 'уднəйə', like 'чудную'
    and unlike 'южную').

    Spelling equivalences applied before (in `sounds_of`): я/а, ё/о, ю/у, е/э and ы/и are one vowel
    each, the first of each pair only softening the consonant before it; я, ё, ю, е after a vowel,
    after ь/ъ or at the start of a word are 'й' + the vowel ('моя' = 'мойа'); voiced consonants are
    voiceless at the end of a word and before a voiceless one ('недосуг' ~ 'наук', 'извозчик' ~
    'разносчик'); double consonants are single; silent letters are dropped ('праздник' ~
    'проказник', 'чувства' ~ 'искусства'); -тся and -ться sound as -ца; ь after ж ш ч щ is silent."""
    sounds = sounds_of(line)
    vowels = [i for i, ch in enumerate(sounds) if ch in SOUND_VOWELS]
    need = ENDINGS.index(kind) + 1
    if len(vowels) < need:
        return None
    start = vowels[-need]
    if kind == 'm':
        if start == len(sounds) - 1:                          # an open syllable
            before = sounds[start - 1:start]
            if before in ('ь', 'й'):
                return 'ь' + sounds[start]                    # soft: 'меня' ~ 'я' ~ 'моя'
            return before.translate(DEVOICED) + sounds[start] # hard: 'вода' ~ 'места', not ~ 'она'
        return sounds[start:]
    after = re.sub(f'[{SOUND_VOWELS}]', 'ə', sounds[start + 1:]).replace('ь', '')   # unstressed
    return sounds[start] + after.removesuffix('й')


def rhyme_keys(line: str, kind: str) -> set[str]:
    """The rhyme keys a line may have: its `rhyme_key`, and if the stressed vowel of the rhyme is a
    printed е, the key with that е read as ё ('далекой' -> {'экəй', 'окəй'}, 'о чем' -> {'эм', 'ом'})."""
    readings = (line, _read_yo(line, ENDINGS.index(kind) + 1))
    return {key for reading in readings if reading for key in [rhyme_key(reading, kind)] if key}


def rhymes(a: str, b: str, meter='iamb', stresses: dict[str, int] | None = None) -> bool:
    """Do lines a and b rhyme? With a meter, both lines must have the same kind of ending (from
    their syllable counts, see `ending`) and share a rhyme key of that kind (`rhyme_keys`: a printed
    е under the stress may be ё); with meter=None the kind is unknown and a masculine or a feminine
    key may match (more rhymes found, and more false ones). `stresses`: see `ending`."""
    kind_a, kind_b = ending(a, meter, stresses), ending(b, meter, stresses)
    if kind_a != kind_b:
        return False
    kinds = (kind_a,) if kind_a else ('m', 'f')
    return any(rhyme_keys(a, k) & rhyme_keys(b, k) for k in kinds)


def rhyme_scheme(stanza: list[str], meter='iamb', stresses: dict[str, int] | None = None) -> str:
    """Letters for the lines of a stanza: lines that rhyme share a letter, in order of first use.
    With a meter, the letter is a capital for a feminine ending, as in Onegin's AbAbCCddEffEgg;
    with meter=None all letters are lowercase (the ending is not known)."""
    letters, scheme = iter(string.ascii_lowercase * 3), []
    for i, line in enumerate(stanza):
        partner = next((j for j in range(i - 1, -1, -1) if rhymes(stanza[j], line, meter, stresses)), None)
        letter = scheme[partner].lower() if partner is not None else next(letters)
        scheme.append(letter.upper() if ending(line, meter, stresses) == 'f' else letter)
    return ''.join(scheme)


def rhymed_lines(stanza: list[str], meter='iamb', window=RHYME_WINDOW,
                 stresses: dict[str, int] | None = None) -> list[bool]:
    """For each line: does it rhyme with a line at most `window` lines away in the stanza?"""
    return [any(rhymes(stanza[j], line, meter, stresses)
                for j in range(max(0, i - window), min(len(stanza), i + window + 1)) if j != i)
            for i, line in enumerate(stanza)]


def rhyme_rate(text: str, meter='iamb', window=RHYME_WINDOW, stresses: dict[str, int] | None = None) -> float:
    """The share of verse lines that rhyme with a near line of their stanza (nan without lines)."""
    flags = [f for stanza in stanzas_of(text) for f in rhymed_lines(stanza, meter, window, stresses)]
    return sum(flags) / len(flags) if flags else float('nan')


def word_fit(text: str, meter: str) -> float:
    """The share of words of two or more syllables that cover a strong syllable of the meter (nan
    without such words). Almost every such word carries a stress, which a line puts on a strong
    syllable; in iamb and trochee every other syllable is strong, so any two-syllable word covers
    one and the share is 1 whatever the poem. In a three-syllable meter two of three syllables are
    weak, and only a poem in that meter keeps its words on the strong ones (Lermontov's 'Тучки
    небесные, вечные странники' in dactyl: 1, 4, 7, 10)."""
    covered = total = 0
    for line in lines_of(text):
        position = 0                                        # syllables before the word
        for word in words_of(line):
            n = count_syllables(word)
            if n >= 2:
                total += 1
                covered += any(is_strong(p, meter) for p in range(position + 1, position + n + 1))
            position += n
    return covered / total if total else float('nan')


def guess_meter(text: str, window=RHYME_WINDOW, stresses: dict[str, int] | None = None) -> tuple[str | None, dict]:
    """The meter of a whole poem, from where its line lengths and endings fall: (meter, {meter:
    (rhyme rate, word fit)}). Each meter reads every line's ending from its syllable count
    (`ending`); the right one makes the endings of rhyming lines agree and their keys match, so it
    finds the most rhymes (within NEAR_BEST_RATE of the best: a few miscounted lines do not decide).
    Line lengths alone cannot rule meters out: iambic tetrameter and amphibrachic trimeter both put
    the last stress on the 8th syllable, and a 12-syllable line fits iamb and dactyl. So among the
    meters that rhyme best, a three-syllable one wins if its strong syllables hold the poem's
    words (`word_fit` >= TERNARY_FIT, which verse in a two-syllable meter does not reach), else the
    two-syllable meter listed first in METERS. None when under every meter fewer than MIN_RHYME_RATE
    of the lines rhyme (blank verse, prose: the rhymes found are chance, and the endings say nothing).
    With `stresses` (a stress table), a meter that `guess_meter_by_stress` names wins (its scores
    are returned): where the stresses fall is what a meter is, and rhymes only hint at it. When the
    stresses name none (too few known, or no meter holds them), the rhymes decide as without."""
    if stresses is not None:
        meter, shares = guess_meter_by_stress(text, stresses)
        if meter is not None:
            return meter, shares
    scores = {meter: (rhyme_rate(text, meter, window), word_fit(text, meter)) for meter in METERS if meter}
    best_rate = max(rate for rate, _ in scores.values())
    if not best_rate >= MIN_RHYME_RATE:
        return None, scores
    near = [meter for meter, (rate, _) in scores.items() if rate >= best_rate - NEAR_BEST_RATE]
    ternary = [meter for meter in near if FOOT[meter] == 3 and scores[meter][1] >= TERNARY_FIT]
    if ternary:
        return max(ternary, key=lambda meter: scores[meter][1]), scores
    return max(near, key=lambda meter: (scores[meter][0], -METERS.index(meter))), scores


def verse_figures(text: str, meter='iamb') -> dict:
    """The verse figures of a text, for tables: lines, syllable-count shares, tetrameter share,
    rhyme rate and the most common stanza shapes."""
    counts = syllable_counts(text)
    return {'lines': sum(counts.values()),
            'syllables': {str(k): round(v, 4) for k, v in distribution(counts).items()},
            'tetrameter_share': tetrameter_share(text),
            'rhyme_rate': rhyme_rate(text, meter),
            'stanza_shapes': {str(k): v for k, v in stanza_shapes(text).most_common(5)}}


# -----------------------------------------------------------------------------
# showing it

def complete_lines(prompt: str, continuation: str) -> str:
    """The lines a model wrote: its continuation with the prompt's unfinished last line in front
    (they make one line) and without its own unfinished last line (cut by the length limit, it
    would count short). A continuation that never ends a line has no complete line: ''."""
    text = prompt.rpartition('\n')[2] + continuation
    return text[:text.rfind('\n') + 1]


def annotate(text: str, meter='iamb') -> str:
    """The text with each verse line's syllable count and rhyme letter in front of it:

         9 A  Мой дядя самых честных правил,
         8 b  Когда не в шутку занемог,

    The letters come from `rhyme_scheme` of the line's stanza; '-' marks a line that rhymes with no
    line at most RHYME_WINDOW lines away (what the rhyme rate counts). Lines without syllables are
    shown as they are."""
    out = []
    for block in re.split(r'\n[ \t]*\n', text.strip('\n')):
        stanza = lines_of(block)
        marks = iter(f'{count_syllables(line):3d} {letter if rhymed else "-"}  {line}' for line, letter, rhymed
                     in zip(stanza, rhyme_scheme(stanza, meter), rhymed_lines(stanza, meter)))
        out += [next(marks) if count_syllables(line) else f'       {line.strip()}' for line in block.split('\n')]
        out.append('')
    return '\n'.join(out[:-1])


def summary(text: str, meter='iamb') -> str:
    """One line of figures: verse lines, the share of 8-9 syllables, the rhyme rate."""
    figures = verse_figures(text, meter)
    return (f"{figures['lines']} lines, {figures['tetrameter_share']:.2f} of them 8-9 syllables, "
            f"rhyme rate {figures['rhyme_rate']:.2f}")
