"""The exercise checker (python -m exercises) is itself tested: it must pass the reference
solutions, say 'not done yet' for the untouched stubs, and fail each deliberately wrong solution in
tests/exercise_mistakes/ with a message that says where the answer differs."""
import io
import subprocess
import sys
from pathlib import Path

import pytest

from exercises.__main__ import main
from exercises.cases import EXERCISES

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
    status, out = check('check', '--all')
    assert status == 1
    assert 'Traceback' not in out and 'FAIL' not in out
    for exercise in EXERCISES:
        for function in exercise.functions:
            assert f'not done yet: {function}() in exercises/{exercise.name}.py still raises NotImplementedError' in out
    assert f'0 of {len(EXERCISES)} exercises pass' in out


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


# (exercise, wrong solution, what the report must say)
WRONG = [
    ('gru_cell', 'gru_reset_misplaced', "FAIL  batch 1, input 3, hidden 2, zero state, vs torch.nn.GRUCell: h' at [0, 0]: expected"),
    ('lstm_cell', 'lstm_gate_order', "vs the project's LSTMCell: c' at [0, 0]: expected"),
    ('top_p', 'top_p_drops_crossing', 'p 0.55: logits at [0, 2]: expected -1.20397, got -inf (expected this token kept, yours drops it)'),
    ('bpe_merge', 'bpe_merge_overlapping', 'merge([7, 7, 7], (7, 7), 256): result: first difference at position 1: '
                                           'expected 7, got 256 (expected [256, 7], got [256, 256])'),
    ('bpe_merge', 'bpe_counts_distinct', 'get_pair_counts([7, 7, 7]): result: pair (7, 7): expected count 2, got 1'),
    ('bpe_encode', 'bpe_encode_leftmost', "'abc' with merges [(98, 99), (97, 98)]: word 'abc': first difference at position 0"),
    ('bigram', 'bigram_unnormalised', "FAIL  bigram 'aaaa' -> 'aab' (vs a count matrix): bits/char: expected 1.32193, got 1"),
    ('bits_per_char', 'bits_per_char_inverted', "loss 2, val {'tokens': 100, 'chars': 250}: bits/char: expected 1.15416, got 7.21348"),
    ('kv_attention', 'kv_attention_unscaled', "position 1: the layer's output (after the output projection) at [0, 0, 0]: expected"),
    ('temperature_top_k', 'top_k_breaks_ties', '(a tie at the k-th), temperature 1.0, top_k 1: logits at [0, 2]: expected 3, got -inf'),
    ('gru_cell', 'crashes', 'your code raised RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x3 and 6x2) (line 6 of crashes.py)'),
    ('top_p', 'missing_function', 'missing_function.py has no function keep_top_p; keep the name of the stub'),
]


@pytest.mark.parametrize('exercise, wrong, message', WRONG, ids=[w for _, w, _ in WRONG])
def test_wrong_solutions_fail_with_a_helpful_message(exercise, wrong, message):
    status, out = check('check', exercise, '--file', str(MISTAKES / f'{wrong}.py'))
    assert status == 1
    assert message in out, out
    assert 'Traceback' not in out


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
