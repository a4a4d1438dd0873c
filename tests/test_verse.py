"""Verse form from letters (nanopushkin/verse.py) on known lines of Pushkin, and the syllable
constraint (nanopushkin/constraints.py) on tiny vocabularies, char and byte-level BPE."""
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nanopushkin.constraints import SyllableLimit, parse_syllables
from nanopushkin.stanza import words_of
from nanopushkin.verse import (annotate, complete_lines, count_syllables, distance, ending, guess_meter,
                               lines_of, rhyme_key, rhyme_keys, rhyme_rate, rhyme_scheme, rhymes, stanza_shapes,
                               stanzas_of, summary, syllable_counts, tetrameter_share, verse_figures, word_fit)
from tokenizer.bpe import BPETokenizer
from tokenizer.char import CharTokenizer

ROOT = Path(__file__).resolve().parent.parent

ONEGIN_I = """«Мой дядя самых честных правил,
Когда не в шутку занемог,
Он уважать себя заставил
И лучше выдумать не мог.
Его пример другим наука;
Но, боже мой, какая скука
С больным сидеть и день и ночь,
Не отходя ни шагу прочь!
Какое низкое коварство
Полуживого забавлять,
Ему подушки поправлять,
Печально подносить лекарство,
Вздыхать и думать про себя:
Когда же черт возьмет тебя!»"""

ONEGIN_VIII = """Всего, что знал еще Евгений,
Пересказать мне недосуг;
Но в чем он истинный был гений,
Что знал он тверже всех наук,
Что было для него измлада
И труд, и мука, и отрада,
Что занимало целый день
Его тоскующую лень, —
Была наука страсти нежной,
Которую воспел Назон,
За что страдальцем кончил он
Свой век блестящий и мятежный
В Молдавии, в глуши степей,
Вдали Италии своей."""


# -----------------------------------------------------------------------------
# syllables, lines, stanzas

@pytest.mark.parametrize('line, n', [
    ('Мой дядя самых честных правил,', 9),          # iambic tetrameter, feminine
    ('Когда не в шутку занемог,', 8),               # masculine
    ('Буря мглою небо кроет,', 8),                  # trochaic tetrameter, feminine
    ('Я ВАС ЛЮБИЛ: ЛЮБОВЬ ЕЩЁ, БЫТЬ МОЖЕТ,', 11),   # pentameter; upper case and ё count
    ('Monsieur прогнали со двора.', 6),             # Latin script counts nothing
    ('XIII. XIV', 0),
])
def test_syllables_are_vowel_letters(line, n):
    assert count_syllables(line) == n


def test_onegin_stanza_is_all_tetrameter():
    counts = [count_syllables(line) for line in ONEGIN_I.split('\n')]
    assert counts == [9, 8, 9, 8, 9, 9, 8, 8, 9, 8, 8, 9, 8, 8]
    assert tetrameter_share(ONEGIN_I) == 1.0


def test_lines_and_stanzas_leave_out_numbers_and_blank_lines():
    text = 'I\n\n' + ONEGIN_I + '\n\nII\n\n  Так думал молодой повеса,  \n.........\n'
    assert len(lines_of(text)) == 15 and lines_of(text)[-1] == 'Так думал молодой повеса,'
    assert [len(s) for s in stanzas_of(text)] == [14, 1]
    assert stanza_shapes(text) == {14: 1, 1: 1}
    assert syllable_counts(text) == {9: 7, 8: 8}


def test_distance_between_syllable_distributions():
    onegin = syllable_counts(ONEGIN_I)
    assert distance(onegin, onegin) == 0
    assert distance(onegin, syllable_counts('один два три\n')) == 1.0
    # {8: 7/14, 9: 7/14} against {8: 1/2, 10: 1/2}: the 9s and the 10s are the difference
    assert distance(onegin, syllable_counts('Когда не в шутку занемог,\nабвгд' + 'а' * 10)) == pytest.approx(0.5)
    assert math.isnan(distance(onegin, syllable_counts('')))
    assert math.isnan(tetrameter_share(''))


# -----------------------------------------------------------------------------
# rhyme

@pytest.mark.parametrize('a, b', [
    ('Мой дядя самых честных правил,', 'Он уважать себя заставил'),
    ('Когда не в шутку занемог,', 'И лучше выдумать не мог.'),
    ('Его пример другим наука;', 'Но, боже мой, какая скука'),
    ('Пересказать мне недосуг;', 'Что знал он тверже всех наук,'),        # final г sounds as к
    ('Там некогда гулял и я:', 'Но вреден север для меня.'),             # я = й + а, ня = soft н + а
    ('Была наука страсти нежной,', 'Свой век блестящий и мятежный'),     # unstressed -ой ~ -ый
    ('Там будет бал, там детский праздник.', 'Куда ж поскачет мой проказник?'),   # silent д
    ('Всегда восторженную речь', 'И кудри черные до плеч.'),             # ь after ч is spelling
    ('КАКИЕ ГЛУПЫЕ МЕСТА!', '— боюсь: брусничная вода...'),             # case and punctuation
])
def test_known_rhymes(a, b):
    assert rhymes(a, b) and rhymes(b, a)


@pytest.mark.parametrize('a, b', [
    ('Мой дядя самых честных правил,', 'Когда не в шутку занемог,'),      # feminine and masculine
    ('Достойнее души прекрасной,', 'Полусмешных, полупечальных,'),       # only the unstressed -ой/-ых
    ('Его вседневно ждет она;', 'И что не дрогнет их рука'),             # hard н and к before а
    ('Потом Monsieur ее сменил;', 'И лучше выдумать не мог.'),
])
def test_known_non_rhymes(a, b):
    assert not rhymes(a, b)


def test_parity_decides_the_ending_and_meter_none_does_not():
    feminine, masculine = 'Достойнее души прекрасной,', 'Простонародных, идеальных,'
    assert ending(feminine) == 'f' and ending(masculine) == 'f'
    assert ending('Буря мглою небо кроет,', 'trochee') == 'f'
    assert ending('Когда не в шутку занемог,', 'trochee') == 'f'
    assert ending('Когда не в шутку занемог,', None) is None
    # without the parity the unstressed last syllables of two feminine lines look like a rhyme
    assert not rhymes('Святой исполненной мечты,', 'Поэзии живой и ясной,')
    assert rhymes('Полусмешных, полупечальных,', 'Небрежный плод моих забав,', None) is False
    assert rhymes('Достойнее души прекрасной,', 'Хотел бы я тебе представить', None) is False
    assert rhymes('Он по-французски совершенно', 'Мог изъясняться и писал;', None) is False
    assert rhymes('Достойнее души прекрасной,', 'Печально подносить лекарство,', None) is False
    with pytest.raises(ValueError, match='meter must be one of'):
        ending('Мой дядя', 'hexameter')


@pytest.mark.parametrize('a, b, meter', [
    ('Белеет парус одинокой', 'Что ищет он в стране далекой?', 'iamb'),      # далёкой
    ('В тумане моря голубом!..', 'Жалею ли о чем?', 'iamb'),                  # о чём
    ('Спит земля в сиянье голубом...', 'Жду ль чего? жалею ли о чем?', 'trochee'),
    ('В постелю с бала едет он:', 'Уж барабаном пробужден.', 'iamb'),         # пробуждён
    ('И романтические розы;', 'Лились его живые слезы;', 'iamb'),             # слёзы: feminine
    ('И полку, с пыльной их семьей,', 'Задернул траурной тафтой.', 'iamb'),   # семьёй
])
def test_e_printed_for_yo_in_the_rhyme(a, b, meter):
    assert rhymes(a, b, meter) and rhymes(b, a, meter)


def test_only_the_stressed_e_of_the_rhyme_may_be_yo():
    assert rhyme_keys('Что ищет он в стране далекой?', 'f') == {'экə', 'окə'}
    assert rhyme_keys('о чем', 'm') == {'эм', 'ом'}
    assert rhyme_keys('Как в поле', 'f') == {'олə'}          # the unstressed е after the stress stays
    assert rhyme_keys('Мой дядя самых честных правил,', 'f') == {'авəл'}   # no е: one key


def test_dactylic_endings():
    clouds = 'Тучки небесные, вечные странники!'
    assert ending(clouds, 'dactyl') == 'd' and ending('Степью лазурною, цепью жемчужною', 'dactyl') == 'd'
    assert ending('Мчитесь вы, будто как я же, изгнанники', 'amphibrach') == 'f'
    assert rhyme_key('трудную', 'd') == 'уднəйə'
    assert rhymes('В минуту жизни трудную', 'Одну молитву чудную', 'dactyl')
    assert not rhymes('В минуту жизни трудную', 'С милого севера в сторону южную.', 'dactyl')
    # read as feminine the two lines share their unstressed -ую and look like a rhyme
    assert rhyme_key('трудную', 'f') == rhyme_key('южную', 'f')
    assert rhymes(clouds, 'Мчитесь вы, будто как я же, изгнанники', 'dactyl')
    assert rhyme_scheme(CLOUDS.split('\n'), 'dactyl') == 'abab'


CLOUDS = """Тучки небесные, вечные странники!
Степью лазурною, цепью жемчужною
Мчитесь вы, будто как я же, изгнанники
С милого севера в сторону южную."""

ROAD = """Выхожу один я на дорогу;
Сквозь туман кремнистый путь блестит;
Ночь тиха. Пустыня внемлет богу,
И звезда с звездою говорит.
В небесах торжественно и чудно!
Спит земля в сиянье голубом...
Что же мне так больно и так трудно?
Жду ль чего? жалею ли о чем?"""

ANGEL = """По небу полуночи ангел летел
И тихую песню он пел;
И месяц, и звезды, и тучи толпой
Внимали той песне святой."""


@pytest.mark.parametrize('text, meter', [
    (ONEGIN_I + '\n\n' + ONEGIN_VIII, 'iamb'),
    (ROAD, 'trochee'),              # Lermontov: trochaic pentameter, 'богу' ~ 'дорогу' feminine
    (CLOUDS, 'dactyl'),             # Lermontov: dactylic endings, words on syllables 1, 4, 7, 10
    (ANGEL, 'amphibrach'),          # Lermontov: 'летел' ~ 'пел' masculine at 11 and 8 syllables
    ('Утром он встал рано.\nПотом пошел на службу в город.\nВечером читал книгу.\n', None),
    # blank verse: one chance rhyme in eight lines is not enough to tell a meter
    ('Утром он встал рано.\nПотом пошел на службу в город.\nВечером читал книгу.\nОбедал дома.\n'
     'Пришел домой и сел писать\nНо бросил и пошел гулять\nНа улице было темно.\nОн лег спать.\n', None),
])
def test_guess_meter(text, meter):
    guessed, scores = guess_meter(text)
    assert guessed == meter, scores


def test_word_fit_tells_a_three_syllable_meter_from_a_two_syllable_one():
    assert word_fit(CLOUDS, 'dactyl') == 1.0 and word_fit(CLOUDS, 'iamb') == 1.0
    assert word_fit(ONEGIN_I, 'iamb') == 1.0 and word_fit(ONEGIN_I, 'amphibrach') < 0.97
    assert word_fit(ANGEL, 'anapest') < 0.9


def test_rhyme_keys():
    assert rhyme_key('Мой дядя самых честных правил,', 'f') == 'авəл'
    assert rhyme_key('Когда не в шутку занемог,', 'm') == 'ок'
    assert rhyme_key('Вздыхать и думать про себя:', 'm') == 'ьа'
    assert rhyme_key('...', 'm') is None and rhyme_key('я', 'f') is None


def test_rhyme_scheme_of_onegin_stanzas():
    assert rhyme_scheme(ONEGIN_I.split('\n')) == 'AbAbCCddEffEgg'
    assert rhyme_scheme(ONEGIN_VIII.split('\n')) == 'AbAbCCddEffEgg'
    assert rhyme_scheme(ONEGIN_I.split('\n'), meter=None) == 'ababccddeffegg'


def test_rhyme_rate():
    assert rhyme_rate(ONEGIN_I) == 1.0
    prose = 'Утром он встал рано.\nПотом пошел на службу в город.\nВечером читал книгу у окна.\n'
    assert rhyme_rate(prose) == 0.0
    # partners are looked for within the stanza only
    assert rhyme_rate('Мой дядя самых честных правил,\n\nОн уважать себя заставил\n') == 0.0
    figures = verse_figures(ONEGIN_I)
    assert figures['lines'] == 14 and figures['tetrameter_share'] == 1.0
    assert figures['syllables'] == {'8': 0.5714, '9': 0.4286} and figures['stanza_shapes'] == {'14': 1}


def test_annotate_and_summary():
    shown = annotate('I\n\n' + ONEGIN_I + '\n\nБыла весна, светило солнце,\nНо было холодно').split('\n')
    assert shown[0].strip() == 'I' and shown[1] == ''
    assert shown[2] == '  9 A  «Мой дядя самых честных правил,'
    assert shown[3] == '  8 b  Когда не в шутку занемог,'
    assert shown[-2:] == ['  9 -  Была весна, светило солнце,', '  6 -  Но было холодно']
    assert summary(ONEGIN_I) == '14 lines, 1.00 of them 8-9 syllables, rhyme rate 1.00'


def test_complete_lines_joins_the_prompt_and_drops_the_cut_line():
    assert complete_lines('Он\nМой дядя', ' самых\nОн уважать\nи') == 'Мой дядя самых\nОн уважать\n'
    assert complete_lines('Мой дядя', ' самых честных') == ''


# -----------------------------------------------------------------------------
# the syllable constraint

def test_parse_syllables():
    assert parse_syllables('9,8') == (8, 9) and parse_syllables(' 8 ') == (8,)
    for bad in ('', 'eight', '0,8'):
        with pytest.raises(ValueError, match='syllables must'):
            parse_syllables(bad)


@pytest.fixture(scope='module')
def tiny():
    """A vocabulary of 'а', 'б', ' ', ',', '\\n' (and the document boundary)."""
    tok = CharTokenizer.train('аб ,\n')
    return tok, SyllableLimit(tok, (2, 3))


def allowed(limit, tok, text):
    mask = limit.allowed_tokens(tok.encode(text))
    return {tok.decode([i]) for i in range(tok.vocab_size) if mask[i]}


def test_the_three_rules_on_a_tiny_vocabulary(tiny):
    tok, limit = tiny
    everything = {'а', 'б', ' ', ',', '\n', tok.eot_token}
    assert allowed(limit, tok, 'ба\nба') == everything - {'\n', tok.eot_token}   # 1 syllable: may not end
    assert allowed(limit, tok, 'ба\n') == everything                     # 0: a blank line may end
    assert allowed(limit, tok, 'ба ба') == everything                    # 2: may end or go on
    # 3 = the maximum: no vowel (rule 2), no new word (rule 3); the word may be finished...
    assert allowed(limit, tok, 'ба\nба ба ба') == {'б', ',', '\n', tok.eot_token}
    # ...in at most MAX_TAIL = 4 characters after the last vowel
    assert allowed(limit, tok, 'ба ба баббб') == {'б', ',', '\n', tok.eot_token}
    assert allowed(limit, tok, 'ба ба бабб,б') == {'\n', tok.eot_token}
    assert allowed(limit, tok, 'аааа') == {'\n', tok.eot_token}         # a prompt past the maximum


def test_processor_masks_logits_per_row(tiny):
    tok, limit = tiny
    logits = torch.zeros(2, tok.vocab_size)
    out = limit(logits, [tok.encode('ба'), tok.encode('ба а')])
    newline = tok.encode('\n')[0]
    assert out[0, newline] == -math.inf and out[1, newline] == 0
    assert torch.isfinite(out).sum() == 2 * tok.vocab_size - 2       # the end of the document ends a line too


def test_a_tokenizer_without_a_newline_is_refused():
    with pytest.raises(ValueError, match='no token that ends a line'):
        SyllableLimit(CharTokenizer.train('аб '), (8, 9))


def test_random_generation_under_the_limit_keeps_every_line_in_range():
    """Uniform random logits, masked: every finished line has 8 or 9 syllables (or none)."""
    tok = CharTokenizer.train(ONEGIN_I + ONEGIN_VIII)
    limit = SyllableLimit(tok, (8, 9))
    gen = torch.Generator().manual_seed(0)
    seq = tok.encode('Мой дядя')
    for _ in range(600):
        logits = torch.randn(1, tok.vocab_size, generator=gen)
        logits[0, tok.eot_id] = -math.inf                       # a sampler stops there anyway
        logits = limit(logits, [seq])
        seq.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen)))
    lines = tok.decode(seq).split('\n')[:-1]                     # the last one is unfinished
    assert len(lines) >= 5
    assert all(count_syllables(line) in (0, 8, 9) for line in lines)


def test_bpe_vowel_counts_follow_letters_split_across_tokens():
    """Byte-level BPE: a token may carry half a Cyrillic letter. For random cuts of real verse, the
    processor's count of the current line plus each token's vowels is the true count."""
    text = ONEGIN_I + '\n\n' + ONEGIN_VIII
    tok = BPETokenizer.train(text, vocab_size=300)
    limit = SyllableLimit(tok, (8, 9))
    ids = tok.encode(text)
    lead_bytes = [i for i in range(tok.vocab_size)
                  if limit.pieces[i] in (b'\xd0', b'\xd1')]           # the first halves of letters
    rng = random.Random(0)
    halves = 0
    for cut in rng.sample(range(1, len(ids)), 40):
        seq = ids[:cut] + rng.choice([[], [rng.choice(lead_bytes)]])  # end in the middle of a letter
        count, tail, pending = limit.line_so_far(seq)
        line = tok.decode_bytes(seq).rsplit(b'\n', 1)[-1]
        complete = line[:len(line) - len(pending)].decode('utf-8', 'replace')
        assert count == count_syllables(complete)
        assert tail == len(complete) - 1 - max(complete.lower().rfind(v) for v in 'аеёиоуыэюя')
        halves += pending in (b'\xd0', b'\xd1')
        vowels = limit.vowels.get(pending, limit.vowels[b''])
        for token in rng.sample(range(tok.vocab_size), 30):
            if b'\n' in limit.pieces[token] or token == tok.eot_id:
                continue
            longer = tok.decode_bytes(seq + [token]).rsplit(b'\n', 1)[-1].decode('utf-8', 'replace')
            assert count + int(vowels[token]) == count_syllables(longer)
            as_chars = tok.decode_bytes(seq + [token]).rsplit(b'\n', 1)[-1].decode('utf-8', 'ignore')
            assert len(line[:len(line) - len(pending)].decode('utf-8', 'ignore')) \
                + int(limit.chars[pending][token]) == len(as_chars)
    assert halves > 5


# -----------------------------------------------------------------------------
# through the sampler and sample.py

def test_generate_with_syllables_writes_lines_of_the_allowed_length():
    """An untrained model under the constraint, sampling and beam search: every line it finishes
    has 8 or 9 syllables."""
    from nanopushkin.models import build_model
    from nanopushkin.sampling import generate
    tok = CharTokenizer.train(ONEGIN_I + '\n\n' + ONEGIN_VIII)
    torch.manual_seed(0)
    model = build_model('gru', {'vocab_size': tok.vocab_size, 'n_embd': 8, 'n_hidden': 16, 'n_layer': 1})
    prompt = 'Мой дядя самых честных правил,\n'
    for beams in (1, 3):
        [ids] = generate(model, tok, prompt, max_new_tokens=150, syllables='8,9', num_beams=beams,
                         stop_at_eot=False)
        lines = complete_lines(prompt, tok.decode(ids)).split('\n')[:-1]
        assert lines and all(count_syllables(line) in (0, 8, 9) for line in lines), lines


@pytest.fixture(scope='module')
def trained_run(char_dataset, tmp_path_factory):
    """A tiny GRU trained by the real loop for a few iterations on the tiny corpus."""
    from nanopushkin.config import TrainConfig
    from nanopushkin.trainer import train
    out_dir = tmp_path_factory.mktemp('run')
    train(TrainConfig(out_dir=str(out_dir), data_dir=str(char_dataset), model='gru', n_layer=1, n_embd=16,
                      n_hidden=32, block_size=32, batch_size=8, max_iters=20, eval_interval=10, eval_iters=2,
                      warmup_iters=2, lr_decay_iters=20, device='cpu', progress=False, plot=False))
    return out_dir


def run_sample(*args):
    return subprocess.run([sys.executable, 'sample.py', *args], cwd=ROOT, capture_output=True, text=True,
                          encoding='utf-8', timeout=120)


def test_sample_py_verse_and_syllables(trained_run, tmp_path):
    prompt = 'Мой дядя самых честных правил,\nКогда не в шутку занемог,\n'
    (tmp_path / 'prompt.txt').write_text(prompt, encoding='utf-8')
    args = [f'--out_dir={trained_run}', f'--start=FILE:{tmp_path / "prompt.txt"}', '--num_samples=2',
            '--max_new_tokens=200', '--stop_at_eot=False', '--device=cpu', '--verse']
    for syllables in ('', '8,9'):
        result = run_sample(*args, f'--syllables={syllables}')
        assert result.returncode == 0, result.stderr
        samples = result.stdout.split('-' * 40 + '\n')[:-1]
        assert len(samples) == 2
        for shown in samples:
            lines = shown.rstrip('\n').split('\n')
            assert lines[0].startswith('  9 ') and lines[0].endswith('  Мой дядя самых честных правил,')
            assert lines[1].startswith('  8 ') and lines[1].endswith('  Когда не в шутку занемог,')
            counts = []
            for line in lines:        # a verse line: its syllable count, a letter or '-', the line
                shown_line = re.fullmatch(r'\s*(\d+) ([a-zA-Z-])  (.*)', line)
                if shown_line:
                    counts.append(int(shown_line[1]))
                    assert counts[-1] == count_syllables(shown_line[3])
                else:                 # a blank line, or one without a syllable: shown as it is
                    assert count_syllables(line) == 0
            if syllables:             # all but the last, cut by max_new_tokens, are 8 or 9 syllables
                assert len(counts) > 3 and all(n in (8, 9) for n in counts[2:-1]), lines
        verdicts = [line for line in result.stderr.splitlines() if line.startswith('verse: ')]
        assert len(verdicts) == 2
        assert all(re.search(r'\d+ lines, \d\.\d\d of them 8-9 syllables, rhyme rate \d\.\d\d; '
                             r'held-out Pushkin verse: 0\.\d\d of lines 8-9 syllables, rhyme rate 0\.\d\d', v)
                   for v in verdicts), verdicts


def test_sample_py_bad_syllables_is_a_one_line_error(trained_run):
    result = run_sample(f'--out_dir={trained_run}', '--syllables=8-9')
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1 and 'syllables must be a comma-separated list' in result.stderr


# -----------------------------------------------------------------------------
# whole stanzas (nanopushkin/stanza.py)

def tiny_trained_model(tok, text, steps=120):
    """A one-layer GPT fitted to the text for a few steps: it writes Cyrillic-looking lines."""
    from nanopushkin.models import build_model
    torch.manual_seed(0)
    model = build_model('gpt', {'vocab_size': tok.vocab_size, 'block_size': 48, 'n_layer': 1, 'n_head': 2,
                                'n_embd': 32})
    ids = torch.tensor(tok.encode(text))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(steps):
        starts = torch.randint(len(ids) - 49, (16,))
        x = torch.stack([ids[i:i + 48] for i in starts])
        y = torch.stack([ids[i + 1:i + 49] for i in starts])
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


@pytest.fixture(scope='module', params=['char', 'bpe'])
def stanza_model(request):
    text = ONEGIN_I + '\n\n' + ONEGIN_VIII
    tok = CharTokenizer.train(text) if request.param == 'char' else BPETokenizer.train(text, vocab_size=300)
    return tok, tiny_trained_model(tok, text), text


@pytest.mark.parametrize('form', ['onegin', 'quatrain', 'couplets'])
def test_every_stanza_has_the_form(stanza_model, form):
    """Char and byte-level BPE: every stanza written has the scheme (verse.rhyme_scheme) and every
    line the syllables of its letter, for two seeds."""
    from nanopushkin.sampling import SampleOptions
    from nanopushkin.stanza import FORMS, RhymeDictionary, check_stanza, parse_form, write_stanza
    tok, model, text = stanza_model
    dictionary = RhymeDictionary(closed=True)       # as a corpus's: kept lines end in its words
    dictionary.add(text)
    stanza_form = parse_form(form)
    for seed in (0, 1):
        lines, report = write_stanza(model, tok, '', stanza_form, SampleOptions(max_new_tokens=120, temperature=0.9),
                                     dictionary, torch.Generator().manual_seed(seed), candidates=12)
        assert rhyme_scheme(lines) == FORMS[form], lines
        assert [count_syllables(line) for line in lines] == [9 if c.isupper() else 8 for c in FORMS[form]]
        assert check_stanza(lines, stanza_form)
        assert report.sampled_lines + report.forced_lines == len(FORMS[form])
        assert all(words_of(line)[-1] in dictionary.words and '....' not in line for line in lines), lines


def test_a_kept_line_ends_in_a_word_and_is_not_padded_with_dots():
    """The syllable limit can cut a word ('можнск'), and Onegin's rows of dots have no syllables: with
    a corpus's (closed) dictionary neither line is kept; an open one (the playground's) learns words."""
    from nanopushkin.stanza import RhymeDictionary, read_rhyme_words, well_formed
    closed = RhymeDictionary(closed=True)
    closed.add(ONEGIN_I)
    assert well_formed('Мой дядя самых честных правил,', closed)
    assert not well_formed('Не молодой стояло можнск', closed)
    assert not well_formed('Самозванец.......... правил', closed)
    assert not well_formed('Его погода, отмч-\ufffd правил', closed)   # half a letter of a BPE model
    assert well_formed('Не молодой стояло можнск', RhymeDictionary())
    assert not read_rhyme_words('').closed


def test_partners_rhyme_in_different_words():
    from nanopushkin.stanza import fits
    assert fits(['Погибшие молчали, — иль,'], 'aa', 'Его погода, как фитиль')
    assert not fits(['Погибшие молчали, — иль,'], 'aa', 'Поклятый равнодушный, иль,')
    assert not fits(['Погибшие молчали, — иль,'], 'ab', 'Его погода, как фитиль')   # b must not rhyme with a


def test_parse_form_and_bad_schemes():
    from nanopushkin.stanza import normalized, parse_form
    assert parse_form('onegin').scheme == 'AbAbCCddEffEgg' and parse_form('onegin').syllables == (8, 9)
    assert parse_form(rhyme_scheme_text='aBBa', syllables='6,7').line_syllables('B') == 7
    assert normalized('bAbA') == 'aBaB' and normalized('AbAbCCddEffEgg') == 'AbAbCCddEffEgg'
    for args, message in [(('sonnet',), 'unknown form'), (('', 'Ab-Ab'), 'letters only'),
                          (('', 'aAbb'), 'joins a masculine'), (('onegin', 'AbAb'), 'not both'),
                          (('', 'AbAb', '8,10'), 'an even count and the next one'),
                          (('', 'AbAb', '9,10'), 'an even count'), (('', 'AbAb', 'x'), 'an even count')]:
        with pytest.raises(ValueError, match=message):
            parse_form(*args)


def test_stop_at_newline_samples_one_nonempty_line():
    from nanopushkin.models import build_model
    from nanopushkin.sampling import generate
    tok = CharTokenizer.train(ONEGIN_I)
    torch.manual_seed(0)
    model = build_model('gru', {'vocab_size': tok.vocab_size, 'n_embd': 8, 'n_hidden': 16, 'n_layer': 1})
    lines = generate(model, tok, 'Мой дядя самых честных правил,\n', num_samples=6, max_new_tokens=300,
                     syllables='9', stop_at_newline=True)
    for ids in lines:
        text = tok.decode(ids)
        assert text.count('\n') <= 1 and (text.endswith('\n') or tok.eot_id not in ids)
        assert count_syllables(text) == 9, text
    with pytest.raises(ValueError, match='num_beams=1'):
        generate(model, tok, 'Мой', num_beams=2, stop_at_newline=True)


def test_sample_py_writes_stanzas(trained_run, tmp_path):
    words = tmp_path / 'words.txt'
    words.write_text(ONEGIN_I + '\n' + ONEGIN_VIII, encoding='utf-8')
    result = run_sample(f'--out_dir={trained_run}', '--form=quatrain', '--num_samples=2', '--device=cpu',
                        f'--rhyme_words={words}', '--max_new_tokens=100', '--rhyme_candidates=8')
    assert result.returncode == 0, result.stderr
    stanzas = result.stdout.split('-' * 40 + '\n')[:-1]
    assert len(stanzas) == 2 and stanzas[0] != stanzas[1]
    for shown in stanzas:
        rows = [re.fullmatch(r'\s*(\d+) ([a-zA-Z])  (.*)', line) for line in shown.rstrip('\n').split('\n')]
        assert all(rows) and ''.join(row[2] for row in rows) == 'AbAb'
        assert rhyme_scheme([row[3] for row in rows]) == 'AbAb'
    assert result.stderr.count('form kept') == 2 and 's per stanza' in result.stderr


@pytest.mark.parametrize('args, message', [
    (['--rhyme_scheme=AbAb1'], 'letters only'),
    (['--form=sonnet'], 'unknown form'),
    (['--form=onegin', '--syllables=8,8'], 'an even count'),
    (['--form=onegin', '--num_beams=2'], 'num_beams=1'),
    (['--form=onegin', '--rhyme_candidates=0'], 'rhyme_candidates must be'),
    (['--form=onegin', '--rhyme_words=no/such/file'], 'neither a corpus folder nor a text file'),
])
def test_sample_py_bad_stanza_options_are_one_line_errors(trained_run, args, message):
    result = run_sample(f'--out_dir={trained_run}', '--device=cpu', *args)
    assert result.returncode == 2
    assert result.stderr.count('\n') == 1 and message in result.stderr, result.stderr


def test_bench_verse_stanza_measures_the_price_of_the_form(trained_run, tiny_corpus_dir, tmp_path):
    result = subprocess.run([sys.executable, 'bench/verse_stanza.py', f'--out_dir={trained_run}', '--form=couplets',
                             f'--rhyme_words={tiny_corpus_dir}', '--num_stanzas=2', '--rhyme_candidates=8',
                             f'--results_dir={tmp_path}'], cwd=ROOT, capture_output=True, text=True,
                            encoding='utf-8', timeout=300)
    assert result.returncode == 0, result.stderr
    import json
    figures = json.loads((tmp_path / f'stanza_couplets-{Path(trained_run).name}.json').read_text(encoding='utf-8'))
    assert figures['form_kept'] == 1.0 and figures['stanzas'] == 2 and figures['seconds_per_stanza'] > 0
    for which in ('stanzas', 'free samples'):
        assert 0 < figures['bits_per_char'][which] < 20 and 0 <= figures['known_word_share'][which] <= 1
    assert rhyme_scheme(figures['example'].strip().split('\n')) == 'aabb'


def test_a_stanza_that_cannot_be_written_is_a_one_line_error():
    """One candidate per line, one round, no dictionary: an untrained model's second line does not
    rhyme and no word can be forced."""
    from nanopushkin.models import build_model
    from nanopushkin.sampling import SampleOptions
    from nanopushkin.stanza import RhymeDictionary, parse_form, write_stanza
    tok = CharTokenizer.train(ONEGIN_I)
    torch.manual_seed(0)
    model = build_model('gru', {'vocab_size': tok.vocab_size, 'n_embd': 8, 'n_hidden': 16, 'n_layer': 1})
    with pytest.raises(ValueError, match=r'^line 2 of the scheme aabb \(a\) could not be written .*another seed$'):
        write_stanza(model, tok, '', parse_form('couplets'), SampleOptions(max_new_tokens=150), RhymeDictionary(),
                     torch.Generator().manual_seed(0), candidates=1, rounds=1)


def test_the_readme_quotes_the_stanza_bench():
    """The README's verse section quotes bench/verse_stanza.py's committed figures for the record
    model (and config/gpt.py's model's seconds per stanza)."""
    import json
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    readme = readme.split('## Verse: a whole Onegin stanza')[1].split('\n## ')[0]
    figures = {m: json.loads((ROOT / 'results' / 'verse' / f'stanza_onegin-{m}.json').read_text(encoding='utf-8'))
               for m in ('speedrun', 'gpt')}
    speedrun = figures['speedrun']
    assert speedrun['form_kept'] == 1.0 and f"({speedrun['stanzas']} of {speedrun['stanzas']}," in readme
    assert speedrun['command'] in ' '.join(readme.split())
    for which in ('stanzas', 'free samples'):
        assert f"{speedrun['bits_per_char'][which]:.3f}" in readme
        assert f"{speedrun['known_word_share'][which]:.3f}" in readme
    assert f"{speedrun['seconds_per_stanza']:.1f} s on 2 idle cores" in readme
    assert f"model: {figures['gpt']['seconds_per_stanza']:.1f} s" in readme
