"""
Sample text from a trained model, or from a pretrained GPT-2-format model.

    python sample.py --out_dir=out --start "Буря мглою"
    python sample.py --out_dir=out --start=FILE:prompt.txt --num_samples=1 --max_new_tokens=1000
    python sample.py --init_from=path/to/gpt2-folder --num_beams=4 --top_k=20 --top_p=0.8 \\
        --temperature=0.7 --no_repeat_ngram_size=2

Options and their defaults: `python sample.py --help` (the SampleConfig in nanopushkin/sampling.py:
the sampler's SampleOptions plus where the model comes from).
Each sample is printed as the prompt followed by its continuation, streamed as it is generated,
then a line of dashes. Speed, and with --style the style meter's verdict, go to stderr.
With --verse each sample is printed when it is complete, every line with its syllable count and
rhyme letter in front (nanopushkin/verse.py), and its verse figures go to stderr next to those of
held-out Pushkin verse (results/verse/rhyme.json, written by bench/verse_rhyme.py).
With --form=onegin (or quatrain, couplets, or --rhyme_scheme=AbAbCCddEffEgg) each sample is a whole
stanza of that form, written line by line by nanopushkin/stanza.py and printed as --verse prints:

    python sample.py --out_dir=out --form=onegin --rhyme_words=../shared/data/pushkin --num_samples=2
"""
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from nanopushkin.checkpoint import load_checkpoint
from nanopushkin.config import main_parse
from nanopushkin.devices import resolve_device
from nanopushkin.hf import from_pretrained
from nanopushkin.sampling import SampleConfig, StreamPrinter, generate, prepare_prompt, read_prompt
from nanopushkin.stanza import check_stanza, parse_form, read_rhyme_words, write_stanza
from nanopushkin.style import MIN_PASSAGE_CHARS, known_word_share, load_meter, score_texts
from nanopushkin.verse import annotate, complete_lines, summary

SEPARATOR = '-' * 40
VERSE_REFERENCE = Path(__file__).resolve().parent / 'results' / 'verse' / 'rhyme.json'


def load_model(cfg, device):
    """(model, tokenizer) from a training run folder, or from a GPT-2-format folder / hub name."""
    if cfg.init_from == 'resume':
        model, tokenizer, _ = load_checkpoint(cfg.out_dir, device)
        return model, tokenizer
    model, tokenizer = from_pretrained(cfg.init_from)
    return model.to(device), tokenizer


def style_verdict(meter, text):
    """P(Pushkin) of the continuation and, where the meter has a vocabulary, the share of its words
    that are real (P(Pushkin) alone rewards word salad made of Pushkin's syllables)."""
    probs = score_texts(meter, [text])[0]
    if len(probs) == 0:
        return f'style: too short to score (the meter needs {MIN_PASSAGE_CHARS} characters)'
    known = f', known words {known_word_share(text, meter.vocabulary):.2f}' if meter.vocabulary else ''
    return f'style: P(Pushkin) = {probs.mean():.2f}{known} (mean over {len(probs)} passages of the continuation)'


def verse_verdict(prompt, continuation):
    """The verse figures of the lines the model wrote, and those of held-out Pushkin verse."""
    lines = complete_lines(prompt, continuation)
    mine = summary(lines) if lines else 'no complete line'
    if not VERSE_REFERENCE.is_file():
        return f'verse: {mine} (no reference: run python bench/verse_rhyme.py)'
    pushkin = json.loads(VERSE_REFERENCE.read_text(encoding='utf-8'))['references']['held-out Pushkin verse']
    return (f"verse: {mine}; held-out Pushkin verse: {pushkin['tetrameter_share']:.2f} of lines 8-9 "
            f"syllables, rhyme rate {pushkin['rhyme_rate']:.2f}")


def main(argv):
    cfg = main_parse(SampleConfig, argv, config_file_allowed=False)   # checks the values too
    try:
        device = resolve_device(cfg.device)
        prompt = read_prompt(cfg.start)
        meter = load_meter(cfg.meter) if cfg.style else None
        model, tokenizer = load_model(cfg, device)
        prompt_ids = prepare_prompt(tokenizer, prompt, cfg)   # checks the options against it, up front
        stanza_form = stanza_options(cfg, tokenizer)
    except (ValueError, OSError) as e:                 # OSError: missing files, no network for the hub
        print(f'error: {e}', file=sys.stderr)
        sys.exit(2)
    unk_id = getattr(tokenizer, 'unk_id', None)        # a word tokenizer reads unknown words as <unk>
    if unk_id is not None and unk_id in prompt_ids:
        print(f'note: {prompt_ids.count(unk_id)} word(s) of the prompt are not in the model\'s vocabulary '
              f'and are read as {tokenizer.unk_token}', file=sys.stderr)
    if cfg.temperature == 0 and cfg.num_samples > 1:
        print(f'note: temperature=0 is deterministic, the {cfg.num_samples} samples will be the same',
              file=sys.stderr)

    try:
        if stanza_form is not None:
            write_stanzas(cfg, model, tokenizer, prompt, *stanza_form, device)
        else:
            generate_and_print(cfg, model, tokenizer, prompt, prompt_ids, meter, device)
    except ValueError as e:                            # a generation that ran out of allowed tokens
        print(f'\nerror: {e}', file=sys.stderr)
        sys.exit(2)


def stanza_options(cfg, tokenizer):
    """(form, rhyme dictionary) of --form / --rhyme_scheme, checked up front; None without them."""
    if not (cfg.form or cfg.rhyme_scheme):
        return None
    form = parse_form(cfg.form, cfg.rhyme_scheme, cfg.syllables)
    if cfg.num_beams > 1:
        raise ValueError('stanzas are sampled line by line: use num_beams=1 with --form or --rhyme_scheme')
    if cfg.rhyme_candidates < 1:
        raise ValueError(f'rhyme_candidates must be >= 1, got {cfg.rhyme_candidates}')
    prepare_prompt(tokenizer, '', replace(cfg, syllables=str(form.syllables[1]), stop_at_newline=True))
    return form, read_rhyme_words(cfg.rhyme_words)


def write_stanzas(cfg, model, tokenizer, prompt, form, dictionary, device):
    """Each sample: a stanza of the form after the prompt, annotated as --verse shows lines, then
    SEPARATOR; what it took (lines sampled, rhyme words forced, seconds) goes to stderr."""
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    dictionary.add(prompt)
    elapsed = 0.0
    for _ in range(cfg.num_samples):
        t0 = time.perf_counter()
        lines, report = write_stanza(model, tokenizer, prompt, form, cfg, dictionary, generator,
                                     candidates=cfg.rhyme_candidates)
        elapsed += time.perf_counter() - t0
        print(annotate('\n'.join(lines)) + '\n' + SEPARATOR, flush=True)
        print(f'stanza: {report.sampled_lines} lines chosen from the model\'s samples, {report.forced_lines} '
              f'with a forced rhyme word, {report.candidates} candidate lines; form '
              f'{"kept" if check_stanza(lines, form) else "BROKEN"}', file=sys.stderr, flush=True)
    print(f'{cfg.num_samples} stanza(s) in {elapsed:.2f} s ({elapsed / cfg.num_samples:.2f} s per stanza)',
          file=sys.stderr)


def generate_and_print(cfg, model, tokenizer, prompt, prompt_ids, meter, device):
    """Each sample: the prompt and its continuation (streamed, or printed whole), then SEPARATOR;
    the style verdict and the speed go to stderr."""
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    printer = StreamPrinter(tokenizer)
    # beam search knows its result only at the end; --verse shows lines that are complete
    streaming = cfg.stream and cfg.num_beams == 1 and not cfg.verse
    on_token = (lambda sample, token: printer.write_token(token)) if streaming else None
    n_tokens, elapsed = 0, 0.0
    for _ in range(cfg.num_samples):                   # one at a time: samples are printed one after another
        t0 = time.perf_counter()
        if streaming:
            printer.write_text(prompt)
        ids = generate(model, tokenizer, prompt_ids, cfg, num_samples=1, generator=generator,
                       on_token=on_token)[0]
        if cfg.verse:
            printer.write_text(annotate(prompt + tokenizer.decode(ids)))
        elif not streaming:
            printer.write_text(prompt)
            for token in ids:
                printer.write_token(token)
        printer.finish()
        printer.write_text('\n')
        n_tokens, elapsed = n_tokens + len(ids), elapsed + time.perf_counter() - t0
        if meter is not None:
            print(style_verdict(meter, tokenizer.decode(ids)), file=sys.stderr, flush=True)
        if cfg.verse:
            print(verse_verdict(prompt, tokenizer.decode(ids)), file=sys.stderr, flush=True)
        printer.write_text(SEPARATOR + '\n')
    print(f'generated {n_tokens} tokens in {elapsed:.2f} s ({n_tokens / max(elapsed, 1e-9):.1f} tokens/s)',
          file=sys.stderr)

if __name__ == '__main__':
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:                          # Ctrl-C while streaming: stop quietly
        print(file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:                            # `python sample.py | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no error at exit's flush
        sys.exit(1)
    except OSError as e:                               # stdout on a full disk (> /dev/full)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f'error: cannot write the samples ({e.strerror or e}); free some space or write elsewhere',
              file=sys.stderr)
        sys.exit(1)
