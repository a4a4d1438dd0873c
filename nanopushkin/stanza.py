"""Whole stanzas in a given form: every line of its length, every pair the scheme joins rhyming.

The syllable constraint (constraints.py) makes a line 8 or 9 syllables long with a mask over the
next token. A rhyme cannot be forced that way: it is decided by the last word, which a model writes
at the end of the line, possibly over several byte-level BPE tokens, after all the words that lead
to it. So the rhyme is chosen among whole lines, with the one sampler and the models' step():

1. Line by line, in the scheme's order: sample a batch of `candidates` lines as continuations of the
   prompt and the lines so far (stop_at_newline, with the syllable count the line's letter asks
   for: capitals feminine, small letters masculine).
2. Keep the candidates that fit the scheme: a line rhymes (verse.rhymes, meter iamb) with the
   earlier lines of its letter, in a word of its own, and with no other earlier line, so
   verse.rhyme_scheme gives back exactly the scheme; and that are well formed: the line ends in a
   word of the dictionary (the syllable limit can cut a word, and a cut word rhymes with nothing
   real), is not padded with dots, and has no half letters. An opening line (the first of its
   letter) is preferred if some word of the rhyme dictionary could answer it, so it does not leave
   its partner without a rhyme.
3. Of those, take the one the model finds likeliest: the mean log-probability of its tokens under
   the distribution they were drawn from (before temperature), as beam search scores beams.
4. No candidate fits after `rounds` batches: force a rhyme word. Take a word of the rhyme
   dictionary (words of the corpus and the prompt; with no corpus, the candidates the model
   wrote) with the partner's rhyme key (for an opening line: a word some other word rhymes with),
   let the model write the head of the line with the syllables the word leaves, and end the line
   with the word.
5. Still nothing: a one-line error (the form cannot be written with this model and dictionary).

Why this method: it needs nothing from the model but samples and their probabilities, so it works
for every architecture and tokenizer (a rhyme word split over BPE tokens is never a problem, as it
is for a mask), and the model still writes every line it is able to, with its own likelihood
choosing among them. Its price: `candidates` times the work of free sampling per line, and the text
is what the model finds likely under the form, not overall. The forced word, the fallback, puts a
word where the model did not choose it. Both are measured by bench/verse_stanza.py.
"""
import string
from dataclasses import dataclass, field
from pathlib import Path

import regex as re
import torch
import torch.nn.functional as F

from nanopushkin.corpus import read_works

from nanopushkin.sampling import SampleOptions, generate
from nanopushkin.verse import count_syllables, ending, rhyme_keys, rhyme_scheme, rhymes

FORMS = {
    'onegin': 'AbAbCCddEffEgg',     # the Onegin stanza: iambic tetrameter, capitals feminine
    'quatrain': 'AbAb',             # cross rhyme, feminine and masculine lines alternating
    'couplets': 'aabb',             # masculine couplets
}
LINE_SYLLABLES = (8, 9)             # (masculine, feminine) line lengths: iambic tetrameter
FORCED_WORDS_TRIED = 50            # dictionary words tried, a line head sampled for each, before giving up
_WORD = re.compile(r'[а-яё]+(?:-[а-яё]+)*')


@dataclass(frozen=True)
class StanzaForm:
    """A rhyme scheme and the line lengths of its letters: small letters masculine, capitals feminine."""
    scheme: str
    syllables: tuple = LINE_SYLLABLES

    def line_syllables(self, letter: str) -> int:
        return self.syllables[letter.isupper()]


def parse_form(form: str = '', rhyme_scheme_text: str = '', syllables: str = '') -> StanzaForm:
    """The StanzaForm of sample.py's --form / --rhyme_scheme / --syllables; ValueError (one line) for
    a bad one. syllables: '' (8 and 9) or 'M,F', an even masculine and the odd feminine count after it
    (the checker reads a line's ending from the parity of its count, iamb-wise)."""
    if form and rhyme_scheme_text:
        raise ValueError(f'give --form or --rhyme_scheme, not both (got {form!r} and {rhyme_scheme_text!r})')
    if form and form not in FORMS:
        raise ValueError(f'unknown form {form!r}: use one of {", ".join(FORMS)}, or --rhyme_scheme=AbAb...')
    scheme = FORMS.get(form, rhyme_scheme_text)
    if not re.fullmatch(r'[a-zA-Z]+', scheme):
        raise ValueError(f'a rhyme scheme is letters only, one per line, like AbAbCCddEffEgg; got {scheme!r}')
    for letter in set(scheme.lower()):
        if letter in scheme and letter.upper() in scheme:
            raise ValueError(f'rhyme scheme {scheme!r} joins a masculine {letter!r} and a feminine '
                             f'{letter.upper()!r} line: lines that rhyme have the same ending; use one case')
    if len(set(scheme.lower())) > len(string.ascii_lowercase):
        raise ValueError(f'rhyme scheme {scheme!r} has more than 26 rhymes')
    counts = LINE_SYLLABLES
    if syllables:
        try:
            counts = tuple(int(part) for part in syllables.split(','))
        except ValueError:
            counts = ()
        if len(counts) != 2 or counts[0] < 2 or counts[0] % 2 or counts[1] != counts[0] + 1:
            raise ValueError(f'with a rhyme scheme, syllables gives the masculine and feminine line lengths: '
                             f'an even count and the next one, like "8,9" or "6,7"; got {syllables!r}')
    return StanzaForm(scheme, counts)


def normalized(scheme: str) -> str:
    """The scheme with its rhymes lettered in order of first use, as verse.rhyme_scheme letters them:
    'bAbA' -> 'aBaB'."""
    letters = {}
    for letter in scheme.lower():
        letters.setdefault(letter, string.ascii_lowercase[len(letters)])
    return ''.join(letters[c.lower()].upper() if c.isupper() else letters[c.lower()] for c in scheme)


# -----------------------------------------------------------------------------
# the rhyme dictionary: words by rhyme key

def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def last_word(line: str) -> str:
    return (words_of(line) or [''])[-1]


@dataclass
class RhymeDictionary:
    """Words by (ending kind, rhyme key), for forcing a rhyme word and for judging opening lines.
    A closed dictionary (a corpus's) also says which words a kept line may end in: a line that the
    syllable limit cut in the middle of a word ('можнск') ends in none of them. An open one (no
    corpus given: the playground's) learns the words of the model's own lines as they come."""
    by_key: dict = field(default_factory=dict)
    closed: bool = False
    words: set = field(default_factory=set)

    def add(self, text: str):
        self.words.update(words_of(text))
        for word in set(words_of(text)):
            for kind in 'mf':
                for key in rhyme_keys(word, kind):
                    self.by_key.setdefault((kind, key), set()).add(word)

    def ends_in_a_word(self, line: str) -> bool:
        return not self.closed or last_word(line) in self.words

    def rhymable_words(self, kind: str) -> list[str]:
        """Words of this kind of ending that some other word of the dictionary rhymes with."""
        return sorted(set().union(*(words for (k, _), words in self.by_key.items() if k == kind and len(words) > 1)))

    def words_rhyming(self, line: str, kind: str) -> list[str]:
        """Words whose rhyme key of this kind is one of the line's, but not its own last word."""
        last = last_word(line)
        found = set().union(*(self.by_key.get((kind, key), set()) for key in rhyme_keys(line, kind)))
        return sorted(found - {last})


def read_rhyme_words(source: str) -> RhymeDictionary:
    """The rhyme dictionary of sample.py's --rhyme_words: the words of a corpus folder (prose/ and
    poems/, as corpus.read_works reads them) or of a UTF-8 text file; '' gives an empty one (the
    prompt's and the model's own words are added as they come)."""
    if not source:
        return RhymeDictionary()
    dictionary = RhymeDictionary(closed=True)
    path = Path(source)
    if path.is_dir():
        works = read_works(path)
        if not works:
            raise ValueError(f'rhyme_words {source!r} is a folder without prose/*.txt or poems/*.txt')
        for work in works:
            dictionary.add(work.text)
    elif path.is_file():
        try:
            dictionary.add(path.read_text(encoding='utf-8'))
        except UnicodeDecodeError:
            raise ValueError(f'rhyme_words {source!r} is not UTF-8 text') from None
    else:
        raise ValueError(f'rhyme_words {source!r} is neither a corpus folder nor a text file')
    return dictionary


# -----------------------------------------------------------------------------
# writing a stanza

def _line_samples(model, tokenizer, context, options, n_syllables, n, generator):
    """n sampled lines of n_syllables after the context: [(text, mean log-probability per token)]."""
    totals, counts = [0.0] * n, [0] * n

    def on_step(report):
        logprobs = F.log_softmax(report.logits, dim=-1).gather(1, report.chosen[:, None])[:, 0]
        for row, sample in enumerate(report.samples):
            totals[sample] += float(logprobs[row])
            counts[sample] += 1

    lines = generate(model, tokenizer, context, options, generator=generator, on_step=on_step,
                     num_samples=n, syllables=str(n_syllables), stop_at_newline=True)
    out = []
    for ids, total, count in zip(lines, totals, counts):
        text = tokenizer.decode(ids).split('\n')[0].strip()
        if count_syllables(text) == n_syllables:          # not one cut by max_new_tokens
            out.append((text, total / max(count, 1)))
    return out


def clean(line: str) -> bool:
    """Not padded with a row of dots (Onegin prints its omitted stanzas as rows of dots, which have no
    syllables to count) and no bytes that are not text (a BPE model can write half a letter)."""
    return '....' not in line and '\ufffd' not in line


def well_formed(line: str, dictionary: RhymeDictionary) -> bool:
    """A sampled line worth keeping: clean, and it ends in a word the dictionary knows."""
    return clean(line) and dictionary.ends_in_a_word(line)


def fits(lines: list[str], scheme: str, line: str) -> bool:
    """Does `line`, the next line after `lines`, rhyme as the scheme says: with every earlier line of
    its letter and with no other one? A word does not rhyme with itself ('иль' ~ 'иль'): partners
    end in different words."""
    i = len(lines)
    for j, earlier in enumerate(lines):
        partners = scheme[j].lower() == scheme[i].lower()
        if rhymes(earlier, line) != partners or (partners and last_word(earlier) == last_word(line)):
            return False
    return True


def _answerable(line: str, dictionary: RhymeDictionary) -> bool:
    """Could a later line rhyme with this opening line: does the dictionary have a word for it?"""
    return bool(dictionary.words_rhyming(line, ending(line)))


@dataclass
class StanzaReport:
    """What writing one stanza took: lines written by the model, lines with a forced rhyme word,
    candidate lines sampled."""
    sampled_lines: int = 0
    forced_lines: int = 0
    candidates: int = 0


def _force_rhyme(model, tokenizer, context, options, lines, scheme, form, dictionary, generator, report,
                 candidates):
    """The line after `lines` ending in a forced dictionary word, its head written by the model; None
    if no word fits. The word rhymes with the line's partner; for an opening line it is one that
    another word of the dictionary rhymes with, so the partner can be forced in its turn. The words
    are grouped by the syllables they leave for the head; for each group one batch of heads is
    sampled, and the likeliest clean head takes the first word of the group that fits."""
    i = len(lines)
    partner = next((lines[j] for j in range(i) if scheme[j].lower() == scheme[i].lower()), None)
    kind = 'f' if scheme[i].isupper() else 'm'
    words = dictionary.words_rhyming(partner, kind) if partner else dictionary.rhymable_words(kind)
    n_syllables = form.line_syllables(scheme[i])
    order = torch.randperm(len(words), generator=generator, device=generator.device)
    by_head_syllables = {}
    for word in (words[k] for k in order.tolist()[:FORCED_WORDS_TRIED]):
        head_syllables = n_syllables - count_syllables(word)
        if head_syllables >= 1:
            by_head_syllables.setdefault(head_syllables, []).append(word)
    for head_syllables, group in sorted(by_head_syllables.items(), key=lambda item: -len(item[1])):
        heads = _line_samples(model, tokenizer, context, options, head_syllables, candidates, generator)
        report.candidates += candidates
        clean_heads = [(score, head) for head, score in heads if clean(head)]
        if not clean_heads:
            continue
        head = max(clean_heads)[1].rstrip(',.;:!?—- ')
        for word in group:
            line = f'{head} {word}'
            if count_syllables(line) == n_syllables and fits(lines, scheme, line):
                return line
    return None


def write_stanza(model, tokenizer, prompt: str, form: StanzaForm, options: SampleOptions,
                 dictionary: RhymeDictionary, generator, candidates=16, rounds=4):
    """(the stanza's lines, a StanzaReport): the lines of form.scheme after the prompt, each
    checked by `fits`; ValueError when a line cannot be written (see the module docstring)."""
    scheme, lines, report = form.scheme, [], StanzaReport()
    prefix = prompt if not prompt or prompt.endswith('\n') else prompt + '\n'
    for i, letter in enumerate(scheme):
        context = prefix + ''.join(line + '\n' for line in lines)
        opening = scheme.lower().index(letter.lower()) == i
        best = unanswered = None
        for _ in range(rounds):
            samples = _line_samples(model, tokenizer, context, options, form.line_syllables(letter), candidates,
                                    generator)
            report.candidates += candidates
            if not dictionary.closed:
                for text, _ in samples:
                    dictionary.add(text)
            good = [(score, text) for text, score in samples
                    if well_formed(text, dictionary) and fits(lines, scheme, text)]
            answerable = [(score, text) for score, text in good if not opening or _answerable(text, dictionary)]
            unanswered = max(good + ([unanswered] if unanswered else []), default=None)
            if answerable:
                best = max(answerable)[1]
                break
        if best is None and opening and unanswered and not dictionary.rhymable_words('f' if letter.isupper() else 'm'):
            best = unanswered[1]                  # no word to force either: its partner may still find one
        if best is None:
            best = _force_rhyme(model, tokenizer, context, options, lines, scheme, form, dictionary, generator,
                                report, candidates)
            if best is None:
                raise ValueError(f'line {i + 1} of the scheme {scheme} ({letter}) could not be written in '
                                 f'{rounds} rounds of {candidates} candidates nor by forcing a rhyme word from '
                                 f'the dictionary; try more --rhyme_candidates, --rhyme_words or another seed')
            report.forced_lines += 1
        else:
            report.sampled_lines += 1
        lines.append(best)
    return lines, report


def check_stanza(lines: list[str], form: StanzaForm) -> bool:
    """Does the stanza have the form by the project's own checker: the scheme from verse.rhyme_scheme,
    and every line the syllables of its letter?"""
    return (rhyme_scheme(lines) == normalized(form.scheme)
            and all(count_syllables(line) == form.line_syllables(letter) for line, letter in zip(lines, form.scheme)))
