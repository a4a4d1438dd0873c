"""Constrained decoding, taught with meter: lines of an allowed number of syllables.

A language model gives a score to every token of its vocabulary at every step. Constrained (format-
or grammar-constrained) generation does not change the model: before a token is drawn, it sets the
score of every token that would break the rules to -inf, so that token cannot be chosen, and the
model picks among what is left. JSON mode, regex- and grammar-constrained decoding work this way;
here the rule is verse form: a line may end only when its syllable count is in the allowed set
(for iambic tetrameter {8, 9}), and no line may grow past the largest allowed count.

The work is split in two, as in any such processor:
- once, for the vocabulary: what each token would do to a line. How many vowels (syllables) and
  characters it adds before its first newline, whether it has a newline (ends the line), whether it
  has a space before that (starts a new word). Tokens are byte strings, and a byte-level BPE token
  can end in the middle of a letter (every Cyrillic letter is two bytes in UTF-8, the first 0xD0 or
  0xD1): so the counts are kept for each of the three ways the text so far can end, after a whole
  character, or after a lone first byte 0xD0 or 0xD1 that the token's first byte completes.
- at every step, for each sequence: where its current line stands (syllables so far, characters
  since its last vowel, a half-written letter if any), and then three rules, each a mask over the
  vocabulary:
    1. a token that ends the line (a newline, or the end of the document) is allowed only if the
       count it leaves is allowed, or zero (a blank line between stanzas, unless blank lines are
       off), or already past the maximum (a prompt's line too long to fix);
    2. no token may take the count past the maximum;
    3. at the maximum, the last word may be finished, with its punctuation, in at most MAX_TAIL
       characters after the last vowel ('правил,' is 'л,' after its 'и') and with no space (no new
       word); then only a newline is left.
The state is read from the sequence itself at every step, so the processor keeps no memory between
steps and works the same for sampling, for rows that leave the batch and for beam search.

What it cannot do: it forces the form, not the sense. It counts vowels, not stresses, so an 8- or
9-syllable line need not be iambic; it cannot make lines rhyme; and a line cut at its maximum ends
where the count says, not where the phrase does (a word that needs more letters after its last
vowel than MAX_TAIL is cut). A token that has letters after a newline and then another newline
(none of this project's tokenizers make one: their tokens with a newline are whitespace only) is
judged by what comes before its first newline.
"""
import codecs
import math

import regex as re
import torch
import torch.nn.functional as F

from nanopushkin.verse import VOWELS, count_syllables

# the ways the text so far can end that matter for counting vowels: after a whole character, or
# after the first byte of a two-byte letter (0xD0 starts А-Я, Ё and а-п; 0xD1 starts р-я and ё),
# which the next token's first byte completes. Any other unfinished character is not a vowel.
PENDING = (b'', b'\xd0', b'\xd1')
MAX_TAIL = 4        # characters after a line's last vowel at the maximum: 'л,' of 'правил,', 'лн,' of 'полн,'


def parse_syllables(text: str) -> tuple[int, ...]:
    """'8,9' -> (8, 9): the allowed syllable counts of a line, from a command-line option."""
    try:
        counts = tuple(sorted({int(part) for part in text.split(',') if part.strip()}))
    except ValueError:
        raise ValueError(f'syllables must be a comma-separated list of whole numbers like "8,9", '
                         f'got {text!r}') from None
    if not counts or counts[0] < 1:
        raise ValueError(f'syllables must list at least one count, all >= 1 (like "8,9"), got {text!r}')
    return counts


class SyllableLimit:
    """A logits processor: (logits (B, V), seqs: B lists of token ids) -> logits with the tokens
    that break the line-length rules set to -inf. `allowed`: the syllable counts a line may have;
    blank_lines=False forbids ending a line with no syllable too (a sample that is one line)."""

    def __init__(self, tokenizer, allowed, blank_lines=True):
        self.allowed = tuple(sorted(set(allowed)))
        if not self.allowed or self.allowed[0] < 1:
            raise ValueError(f'allowed syllable counts must be >= 1, got {allowed}')
        self.max = self.allowed[-1]
        self.blank_lines = blank_lines
        pieces = [tokenizer.decode_bytes([i]) for i in range(tokenizer.vocab_size)]
        self.pieces = pieces
        before = [p.split(b'\n', 1)[0] for p in pieces]      # the part of each token in the current line
        self.ends_line = torch.tensor([b'\n' in p for p in pieces])
        self.has_space = torch.tensor([any(c in b' \t' for c in b) for b in before])
        # decoded with 'ignore': half a letter is not a character yet, the token completing it makes one
        texts = {pending: [(pending + b).decode('utf-8', 'ignore') for b in before] for pending in PENDING}
        self.vowels = {pending: torch.tensor([count_syllables(t) for t in texts[pending]]) for pending in PENDING}
        self.chars = {pending: torch.tensor([len(t) for t in texts[pending]]) for pending in PENDING}
        if not (self.ends_line & (self.vowels[b''] == 0)).any():
            raise ValueError(f'the {tokenizer.kind} tokenizer has no token that ends a line without '
                             'adding a syllable (like "\\n"); a syllable limit needs one')
        self.ends_line[tokenizer.eot_id] = True                 # the end of the document ends the line too

    def line_so_far(self, seq) -> tuple[int, int, bytes]:
        """(syllables of the current line, characters after its last vowel, its unfinished last
        bytes): from the bytes after the last newline of the sequence, found by walking back."""
        tail = []
        for token in reversed(seq):
            piece = self.pieces[token]
            if b'\n' in piece:
                tail.append(piece.rsplit(b'\n', 1)[1])
                break
            tail.append(piece)
        decoder = codecs.getincrementaldecoder('utf-8')('replace')
        text = decoder.decode(b''.join(reversed(tail)))      # holds back a half-written letter
        after_last_vowel = re.split(f'[{VOWELS}]', text.lower())[-1]
        return count_syllables(text), len(after_last_vowel), decoder.getstate()[0]

    def allowed_tokens(self, seq) -> torch.Tensor:
        """(V,) bool: which tokens may come next after this sequence."""
        count, tail, pending = self.line_so_far(seq)
        pending = pending if pending in PENDING else b''             # other half characters: no vowel
        after = count + self.vowels[pending]                         # the line's count with each token
        may_end = torch.zeros_like(self.ends_line)
        for n in self.allowed:
            may_end |= after == n
        may_end |= (after == 0) & self.blank_lines | (count > self.max)  # rule 1
        may_go_on = after <= self.max                                    # rule 2
        if count >= self.max:                                            # rule 3
            may_go_on &= ~self.has_space & (tail + self.chars[pending] <= MAX_TAIL)
        return torch.where(self.ends_line, may_end, may_go_on)

    def __call__(self, logits, seqs):
        allowed = torch.stack([self.allowed_tokens(seq) for seq in seqs]).to(logits.device)
        padding = logits.size(-1) - allowed.size(-1)          # a model's vocabulary may be padded
        return logits.masked_fill(~F.pad(allowed, (0, padding), value=False), -math.inf)
