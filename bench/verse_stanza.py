"""
What does the form cost? Stanzas written by sample.py's --form (nanopushkin/stanza.py) against free
samples of the same model, prompt and temperature.

For a trained run (out_dir) and a form, it writes num_stanzas stanzas and as many free samples of
about the same number of characters, and reports:
- the share of stanzas whose form the project's checker confirms (verse.rhyme_scheme and syllables);
- seconds per stanza (on whatever machine runs it: run it alone), candidate lines per stanza and the
  share of lines whose rhyme word had to be forced;
- the model's own bits per character on the stanzas and on the free samples (teacher-forced through
  step(), after the same prompt): the price of the form;
- the share of known words (style.known_word_share against the words of the --rhyme_words corpus).

Usage: python bench/verse_stanza.py --out_dir=out --form=onegin --rhyme_words=../shared/data/pushkin
Writes results/verse/stanza_<form>-<model>.json and .md, <model> the out_dir's folder name (give
--results_dir to put them elsewhere).
"""
import json
import math
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run without installing

from nanopushkin.checkpoint import load_checkpoint
from nanopushkin.config import main_parse
from nanopushkin.corpus import read_works
from nanopushkin.sampling import SampleOptions, encode_prompt, generate
from nanopushkin.stanza import check_stanza, parse_form, read_rhyme_words, write_stanza
from nanopushkin.style import known_word_share, words_of


@dataclass
class StanzaBenchConfig:
    out_dir: str = 'out'                        # the training run whose model writes
    form: str = 'onegin'
    rhyme_words: str = '../shared/data/pushkin' # corpus folder: rhyme dictionary and known words
    num_stanzas: int = 10
    rhyme_candidates: int = 16
    temperature: float = 0.8
    start: str = ''
    seed: int = 1337
    device: str = 'cpu'
    results_dir: str = 'results/verse'


@torch.no_grad()
def bits_per_char(model, tokenizer, context: str, text: str) -> float:
    """The model's own bits per character of text after context, one token at a time through step()."""
    device = next(model.parameters()).device
    logits, state = model.step(torch.tensor([encode_prompt(tokenizer, context)], device=device), None)
    total = 0.0
    for token in tokenizer.encode(text):
        total -= float(F.log_softmax(logits[0].float(), dim=-1)[token]) / math.log(2)
        logits, state = model.step(torch.tensor([[token]], device=device), state)
    return total / max(len(text), 1)


def main(argv):
    cfg = main_parse(StanzaBenchConfig, argv, config_file_allowed=False)
    try:
        form = parse_form(cfg.form)
        model, tokenizer, _ = load_checkpoint(cfg.out_dir, cfg.device)
        dictionary = read_rhyme_words(cfg.rhyme_words)
        vocabulary = frozenset(w for work in read_works(cfg.rhyme_words) for w in words_of(work.text))
    except (ValueError, OSError) as e:
        sys.exit(f'error: {e}')
    options = SampleOptions(temperature=cfg.temperature, max_new_tokens=200)
    generator = torch.Generator(device=cfg.device).manual_seed(cfg.seed)
    stanzas, seconds, forced, candidates = [], 0.0, 0, 0
    for _ in range(cfg.num_stanzas):
        t0 = time.perf_counter()
        lines, report = write_stanza(model, tokenizer, cfg.start, form, options, dictionary, generator,
                                     cfg.rhyme_candidates)
        seconds += time.perf_counter() - t0
        stanzas.append(lines)
        forced, candidates = forced + report.forced_lines, candidates + report.candidates
    texts = ['\n'.join(lines) + '\n' for lines in stanzas]
    n_chars = sum(map(len, texts)) // len(texts)
    free = [tokenizer.decode(ids)[:n_chars] for ids in
            generate(model, tokenizer, cfg.start, replace(options, max_new_tokens=4 * n_chars,
                                                          num_samples=cfg.num_stanzas), generator=generator)]
    result = {
        'command': 'python bench/verse_stanza.py' + ''.join(f' {a}' for a in argv),
        'form': form.scheme, 'stanzas': len(stanzas),
        'form_kept': sum(check_stanza(lines, form) for lines in stanzas) / len(stanzas),
        'seconds_per_stanza': seconds / len(stanzas),
        'candidate_lines_per_stanza': candidates / len(stanzas),
        'forced_line_share': forced / (len(stanzas) * len(form.scheme)),
        'bits_per_char': {'stanzas': sum(bits_per_char(model, tokenizer, cfg.start, t) for t in texts) / len(texts),
                          'free samples': sum(bits_per_char(model, tokenizer, cfg.start, t) for t in free) / len(free)},
        'known_word_share': {'stanzas': known_word_share(' '.join(texts), vocabulary),
                             'free samples': known_word_share(' '.join(free), vocabulary)},
        'example': texts[0]}
    out = Path(cfg.results_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = f'stanza_{cfg.form}-{Path(cfg.out_dir).resolve().name}'   # stanza_onegin-gpt: one file per form and model
    (out / f'{name}.json').write_text(json.dumps(result, ensure_ascii=False, indent=1) + '\n', encoding='utf-8')
    table = '\n'.join(
        [f'# The price of the form: {form.scheme} by {cfg.out_dir}', '', f'Regenerate: `{result["command"]}`', '',
         '| | bits/char (the model\'s own) | known words |', '|---|---|---|']
        + [f'| {which} | {result["bits_per_char"][which]:.3f} | {result["known_word_share"][which]:.3f} |'
           for which in ('stanzas', 'free samples')]
        + ['', f'{result["stanzas"]} stanzas, form kept in {result["form_kept"]:.2f}, '
               f'{result["seconds_per_stanza"]:.2f} s per stanza, {result["candidate_lines_per_stanza"]:.0f} candidate '
               f'lines per stanza, {result["forced_line_share"]:.2f} of lines with a forced rhyme word.', '',
           '```', texts[0].rstrip('\n'), '```']) + '\n'
    (out / f'{name}.md').write_text(table, encoding='utf-8')
    print(table)


if __name__ == '__main__':
    main(sys.argv[1:])
