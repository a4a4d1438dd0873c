"""The exercise checker (python -m exercises) is itself tested: it must pass the reference
solutions, say 'not done yet' for the untouched stubs, check the learner's copy that `start` makes,
fail each deliberately wrong solution in tests/exercise_mistakes/ with a message that says where the
answer differs and names the mistake, time out an endless loop, and never pass a file that exits."""
import io
import subprocess
import sys
from pathlib import Path

import pytest

from exercises.__main__ import main
from exercises.cases import EXERCISES
from exercises.mistakes import MISTAKES as MISTAKES_BY_EXERCISE

ROOT = Path(__file__).resolve().parent.parent
MISTAKES = ROOT / 'tests' / 'exercise_mistakes'


def check(*argv):
    """Run the CLI in this process, as `python -m exercises ...` does: (exit status, output)."""
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_all_reference_solutions_pass_through_the_command_line():
    # what CI runs (through the test suite): the real command, in a fresh interpreter
    result = subprocess.run([sys.executable, '-m', 'exercises', 'check', '--all', '--solutions'],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f'{len(EXERCISES)} of {len(EXERCISES)} exercises pass' in result.stdout
    assert 'FAIL' not in result.stdout and 'not done' not in result.stdout


def test_untouched_stubs_are_not_done_yet():
    for exercise in EXERCISES:
        status, out = check('check', exercise.name, '--file', str(ROOT / 'exercises' / f'{exercise.name}.py'))
        assert status == 1
        assert 'Traceback' not in out and 'FAIL' not in out
        for function in exercise.functions:
            assert f'not done yet: {function}() in exercises/{exercise.name}.py still raises NotImplementedError' in out


def test_start_copies_the_stub_and_check_reads_the_copy(tmp_path, monkeypatch):
    """The documented workflow: `start NAME` copies the stub into exercises/mine/ (git ignores it),
    `check NAME` checks that copy, and a second `start` never overwrites the work in it."""
    from exercises import __main__ as cli
    monkeypatch.setattr(cli, 'MINE', tmp_path / 'mine')
    status, out = check('check', 'bits_per_char')
    assert status == 1 and 'bits_per_char: not started; `python -m exercises start bits_per_char`' in out
    status, out = check('start', 'bits_per_char')
    mine = tmp_path / 'mine' / 'bits_per_char.py'
    assert status == 0 and mine.read_text() == (ROOT / 'exercises' / 'bits_per_char.py').read_text()
    status, out = check('check', 'bits_per_char')
    assert status == 1 and f'not done yet: bits_per_char() in {mine} still raises' in out
    mine.write_text((ROOT / 'exercises' / 'solutions' / 'bits_per_char.py').read_text())    # solved
    status, out = check('start', 'bits_per_char')
    assert status == 0 and 'is there already (your work is kept)' in out and 'NotImplementedError' not in mine.read_text()
    status, out = check('check', 'bits_per_char')
    assert status == 0 and 'all 7 cases pass' in out
    status, out = check('check', '--all')
    assert status == 1 and f'1 of {len(EXERCISES)} exercises pass' in out and 'bigram: not started' in out
    ignored = subprocess.run(['git', 'check-ignore', '--no-index', 'exercises/mine/bits_per_char.py'], cwd=ROOT)
    assert ignored.returncode == 0


def test_every_exercise_has_a_stub_with_its_task_and_a_solution():
    for exercise in EXERCISES:
        stub = ROOT / 'exercises' / f'{exercise.name}.py'
        text = stub.read_text(encoding='utf-8')
        assert text.startswith('"""Exercise ') and f'python -m exercises check {exercise.name}' in text
        assert (ROOT / 'exercises' / 'solutions' / f'{exercise.name}.py').is_file()
        for function in exercise.functions:
            assert f'def {function}(' in text


def test_a_partly_done_exercise_checks_what_is_done(tmp_path):
    solution = (ROOT / 'exercises' / 'solutions' / 'bigram.py').read_text(encoding='utf-8')
    head, _, _ = solution.partition('def bigram_bits_per_char')
    student = tmp_path / 'bigram.py'
    student.write_text(head + 'def bigram_bits_per_char(train_text, val_text):\n'
                       '    raise NotImplementedError\n', encoding='utf-8')
    status, out = check('check', 'bigram', '--file', str(student))
    assert status == 1
    assert out.count('  pass  unigram') == 6 and out.count('not done yet: bigram_bits_per_char()') == 1
    assert '6 of 12 cases pass' in out


# (exercise, wrong solution, what the report must say, the likely mistake it must name)
WRONG = [
    ('gru_cell', 'gru_reset_misplaced', "FAIL  batch 1, input 3, hidden 2, zero state, vs torch.nn.GRUCell: h' at [0, 0]: expected",
     'the reset gate scales only the hidden part of the candidate'),
    ('gru_cell', 'gru_z_swapped', "h' at [0, 0]: expected", "z is the share of the old state kept: h' = (1 - z) * n + z * h"),
    ('gru_cell', 'gru_gate_order', "h' at [0, 0]: expected", "the rows of the weights are stacked r, z, n (PyTorch's order)"),
    ('lstm_cell', 'lstm_gate_order', "vs the project's LSTMCell: c' at [0, 0]: expected",
     "the rows of the weights are stacked i, f, g, o (PyTorch's order), not i, f, o, g"),
    ('lstm_cell', 'lstm_no_tanh', "h' at [0, 0]: expected", "h' = o * tanh(c')"),
    ('lstm_cell', 'lstm_g_sigmoid', "c' at [0, 0]: expected", 'the candidate g goes through tanh (values in -1..1), not sigmoid'),
    ('top_p', 'top_p_drops_crossing', 'p 0.55: logits at [0, 2]: expected -1.20397, got -inf (expected this token kept, yours drops it)',
     'one token too few: keep the token whose probability crosses p'),
    ('top_p', 'top_p_of_logits', 'FAIL', 'p is a share of probability: sum the softmax of the logits, not the logits'),
    ('top_p', 'top_p_ascending', 'FAIL', 'sort from the most likely token down (descending)'),
    ('bpe_merge', 'bpe_merge_overlapping', 'merge([7, 7, 7], (7, 7), 256): result: first difference at position 1: '
                                           'expected 7, got 256 (expected [256, 7], got [256, 256])',
     'after a merge skip both ids of the pair'),
    ('bpe_merge', 'bpe_merge_drops_last', 'merge([7, 7, 7], (7, 7), 256): result: expected 2 items, got 1',
     'off by one: the last id is lost when it is not part of a merged pair'),
    ('bpe_merge', 'bpe_counts_distinct', 'get_pair_counts([7, 7, 7]): result: pair (7, 7): expected count 2, got 1',
     'count every occurrence of a pair, not each distinct pair once'),
    ('bpe_merge', 'bpe_counts_skip_last', 'get_pair_counts([1, 2, 1, 2]): result: pair (1, 2): expected count 2, got 1',
     'off by one: the pairs are (ids[i], ids[i + 1]) for i up to len(ids) - 2; the last pair is missing'),
    ('bpe_encode', 'bpe_encode_leftmost', "'abc' with merges [(98, 99), (97, 98)]: word 'abc': first difference at position 0",
     'merge the pair with the lowest rank (learned first) wherever it is'),
    ('bpe_encode', 'bpe_encode_rank_ids', "'aaa' with merges [(97, 97)]: word 'aaa'", 'merge i makes the id 256 + i'),
    ('bpe_encode', 'bpe_encode_once', "'aaaaa' with merges [(97, 97), (256, 256)]", 'keep merging until no pair'),
    ('bigram', 'bigram_unnormalised', "FAIL  bigram 'aaaa' -> 'aab' (vs a count matrix): bits/char: expected 1.32193, got 1",
     'the denominator adds 1 instead of V'),
    ('bigram', 'bigram_natural_log', 'bits/char: expected', 'natural log: bits need log2'),
    ('bigram', 'bigram_v_from_train', 'bits/char: expected', "V counts the training text's characters only"),
    ('bigram', 'bigram_last_char_starts', 'bits/char: expected', 'the last character of train starts no pair'),
    ('bigram', 'bigram_mean_over_chars', 'bits/char: expected', 'the bigram averages over the len(val) - 1 pairs of val'),
    ('bits_per_char', 'bits_per_char_inverted', "loss 2, val {'tokens': 100, 'chars': 250}: bits/char: expected 1.15416, got 7.21348",
     'the ratio is upside down'),
    ('bits_per_char', 'bits_per_char_nats', 'bits/char: expected 1.15416, got 0.8', 'that is nats per character: divide by ln 2'),
    ('bits_per_char', 'bits_per_char_per_token', 'bits/char: expected 1.15416, got 2.88539', 'that is bits per token'),
    ('kv_attention', 'kv_attention_unscaled', "position 1: the layer's output (after the output projection) at [0, 0, 0]: expected",
     'divide the scores q @ k^T by sqrt(head size)'),
    ('kv_attention', 'kv_attention_head_size', "the layer's output", 'divide the scores by sqrt(head size), not by the head size'),
    ('kv_attention', 'kv_attention_softmax_queries', "the layer's output", 'softmax over the keys (the last axis'),
    ('kv_attention', 'kv_attention_no_self', "position 1: the layer's output",
     'append the new key and value to the cache before attending: a position attends to itself too'),
    ('temperature_top_k', 'top_k_breaks_ties', '(a tie at the k-th), temperature 1.0, top_k 1: logits at [0, 2]: expected 3, got -inf',
     'keep every token tied with the k-th highest'),
    ('temperature_top_k', 'temperature_multiplied', 'temperature 0.5, top_k 0: logits at [0, 0]: expected 2, got 0.5',
     'divide the logits by the temperature'),
    ('temperature_top_k', 'top_k_off_by_one', 'expected this token dropped, yours keeps it', 'off by one: the k-th highest logit'),
    ('temperature_top_k', 'top_k_zero_fill', 'expected -inf, got 0', 'a dropped token gets the logit -inf'),
    ('rotary', 'rotary_neighbours', 'batch 1, 1 head of size 4, positions 0..3, vs the project\'s apply_rotary: rotated x at [0, 0, 1, 0]',
     'pair dimension i with i + head_size/2'),
    ('rotary', 'rotary_frequencies_reversed', 'vs a rotation of complex numbers: rotated x at', 'pair 0 turns fastest'),
    ('rotary', 'rotary_exponent', 'rotated x at [0, 0, 1, 1]', 'the exponent is -2i / head_size'),
    ('rotary', 'rotary_ignores_start', 'FAIL  batch 1, 2 heads of size 8, positions 7..9, vs the project\'s apply_rotary',
     'the rows are at positions start, start + 1, ...: add start'),
    ('rotary', 'rotary_off_by_one', 'FAIL  batch 1, 1 head of size 2, positions 0..2', 'off by one: the first row is at position start'),
    ('rotary', 'rotary_backwards', 'rotated x at [0, 0, 1, 0]', 'turn by +theta'),
    ('newton_schulz', 'newton_schulz_unnormalised', "1 step, vs the project's orthogonalize: X at [0, 0]: expected 0.418922, got 335.465",
     'normalise first'),
    ('newton_schulz', 'newton_schulz_coefficients_reversed', 'singular values of X: expected all within 0.68..1.21, got 0.5121..0.5265',
     'the coefficients are in the order a, b, c'),
    ('newton_schulz', 'newton_schulz_one_step_short', 'FAIL  3 x 5, entries of scale 1, 1 step', 'off by one: run `steps` iterations'),
    ('newton_schulz', 'newton_schulz_not_transposed', 'FAIL  40 x 16 (tall), entries of scale 1, 3 steps, vs the project\'s orthogonalize: '
     'the answer is right, but a tensor of 1600 entries was made on the way', 'transpose a tall G and iterate on G^T'),
    ('newton_schulz', 'newton_schulz_not_transposed_back', 'X: expected shape (40, 16), got (16, 40)', 'transpose the result back'),
    ('gru_cell', 'crashes', 'your code raised RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x3 and 6x2) (line 6 of crashes.py)',
     None),
    ('top_p', 'missing_function', 'missing_function.py has no function keep_top_p; keep the name of the stub', None),
]


@pytest.mark.parametrize('exercise, wrong, message, hint', WRONG, ids=[w[1] for w in WRONG])
def test_wrong_solutions_fail_with_a_helpful_message(exercise, wrong, message, hint):
    status, out = check('check', exercise, '--file', str(MISTAKES / f'{wrong}.py'))
    assert status == 1
    assert message in out, out
    assert 'Traceback' not in out
    likely = [line.strip() for line in out.splitlines() if 'likely mistake:' in line]
    if hint is None:
        assert likely == [], out
    else:       # the one mistake named, and it explains every failing case
        assert len(likely) == 1 and likely[0].startswith(f'likely mistake: {hint}'), out
        assert 'failing cases)' not in likely[0], out


def test_every_known_mistake_has_a_wrong_solution_that_it_names():
    named = {mistake.hint for exercise, wrong, message, hint in WRONG if hint
             for mistake in MISTAKES_BY_EXERCISE[exercise] if mistake.hint.startswith(hint)}
    assert named == {mistake.hint for mistakes in MISTAKES_BY_EXERCISE.values() for mistake in mistakes}


def test_a_case_that_never_ends_times_out_and_says_which():
    status, out = check('check', 'gru_cell', '--file', str(MISTAKES / 'loops_forever.py'), '--time_limit=0.3')
    assert status == 1 and 'Traceback' not in out
    assert ("FAIL  batch 1, input 3, hidden 2, zero state, vs torch.nn.GRUCell: timed out: still running after 0.3 s "
            '(line 6 of loops_forever.py) (an endless loop?') in out
    assert '0 of 6 cases pass' in out


@pytest.mark.parametrize('wrong, message', [
    ('exits_at_import', 'exits_at_import.py calls sys.exit(0) when it is imported (line 9 of exits_at_import.py): '
                        'the checker did not check anything'),
    ('exits_in_function', 'your code called sys.exit(0) (line 7 of exits_in_function.py) during the case "loss 2, '
                          "val {'tokens': 100, 'chars': 250}\": the checker did not check it"),
    ('os_exits_in_function', 'your code called os._exit(0) (line 6 of os_exits_in_function.py) during the case'),
])
def test_a_solution_that_exits_is_never_a_pass(wrong, message):
    """sys.exit(0) or os._exit(0) ends the process with the status of a pass: the checker must catch it,
    say it did not check, and exit non-zero. Through the real command, in its own process."""
    result = subprocess.run([sys.executable, '-m', 'exercises', 'check', 'bits_per_char', '--file',
                             str(MISTAKES / f'{wrong}.py')], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout
    assert 'NOT CHECKED: ' in result.stdout and message in result.stdout
    assert '  pass' not in result.stdout and 'cases pass' not in result.stdout


def test_the_reference_solutions_pass_one_by_one():
    status, out = check('check', 'gru_cell', '--solutions')
    assert status == 0 and 'all 6 cases pass' in out


def test_bad_files_and_names_get_one_line_errors(tmp_path, capsys):
    broken = tmp_path / 'broken.py'
    broken.write_text('def gru_cell(x, h\n', encoding='utf-8')
    status, out = check('check', 'gru_cell', '--file', str(broken))
    assert status == 1 and 'broken.py line 1: syntax error' in out
    status, out = check('check', 'gru_cell', '--file', str(tmp_path / 'absent.py'))
    assert status == 1 and 'absent.py does not exist' in out
    for argv in (['check', 'gru'], ['check'], ['check', 'top_p', '--all'], ['check', '--all', '--file', 'x.py']):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    assert "no exercise 'gru'; the exercises are: bigram, bpe_merge" in capsys.readouterr().err


def test_list_names_every_exercise_in_order():
    status, out = check('list')
    assert status == 0
    assert [line.split()[1] for line in out.splitlines()] == [e.name for e in EXERCISES]


def test_a_failure_of_the_checker_is_not_blamed_on_the_student(monkeypatch):
    def broken(*args):
        raise KeyError('val')
    monkeypatch.setattr('exercises.reference.bits_per_char', broken)
    status, out = check('check', 'bits_per_char', '--solutions')
    assert status == 1
    assert "the checker itself failed, not your code (KeyError: 'val'); please report it" in out
    assert 'your code raised' not in out
