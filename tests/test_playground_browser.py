"""The playground in a real browser: headless Chromium (Debian's chromium and chromium-driver
packages; .ci/run installs them) driven by selenium, against the server of test_serve.py.

Run as a script it makes the README's screenshot from a trained run:
    python tests/test_playground_browser.py out-gpt results/playground/playground.png
"""
import math
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from nanopushkin.checkpoint import load_checkpoint                        # noqa: E402
from test_serve import PROMPT, runs, sample_py, server                      # noqa: E402,F401 (fixtures)
from tokenizer import load_tokenizer                                        # noqa: E402

CHROMIUM_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
                  '--window-size=1400,1000']


def start_chromium(user_data_dir):
    """A headless Chromium under selenium, or None when no Chromium and chromedriver are installed.
    Both paths are given, so selenium never tries to download a driver."""
    binary = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    driver = shutil.which('chromedriver')
    if binary is None or driver is None:
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS + [f'--user-data-dir={user_data_dir}']:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp('chromium-profile'))
    if driver is None:
        pytest.skip('no Chromium found: install Debian\'s chromium and chromium-driver packages '
                    '(apt-get install chromium chromium-driver), as .ci/run does')
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, server):
    """The playground, freshly loaded and ready."""
    browser.get(server.url)
    wait_for(browser, "return document.body.dataset.ready === 'true'")
    return browser


def wait_for(browser, script, timeout=60):
    return WebDriverWait(browser, timeout).until(lambda b: b.execute_script(script))


def set_settings(browser, **values):
    """Type into the settings inputs, as a user would (numbers as text, the prompt character by character)."""
    for name, value in values.items():
        field = browser.find_element(By.ID, name)
        if field.get_attribute('type') == 'range':
            browser.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                                   field, value)
        elif field.get_attribute('type') == 'checkbox':
            if field.is_selected() != value:
                field.click()
        else:
            field.clear()
            field.send_keys(str(value))


def write(browser, prompt, **settings):
    """Generate on the Write tab and wait for the end of the stream."""
    browser.execute_script("delete document.getElementById('output').dataset.done")
    set_settings(browser, prompt=prompt, **settings)
    browser.find_element(By.ID, 'generate').click()
    wait_for(browser, "return document.getElementById('output').dataset.done === 'true'")


def shown_text(browser):
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#output [data-text]'), s => s.dataset.text).join('')")


def test_the_page_loads_with_the_models_and_sample_py_defaults(page):
    assert page.title == 'nanoPushkin playground'
    options = [o.get_attribute('value') for o in page.find_elements(By.CSS_SELECTOR, '#model option')]
    assert options == ['out-gpt', 'out-gru']
    assert page.find_element(By.ID, 'temperature').get_attribute('value') == '0.8'    # SampleConfig's
    assert not page.find_element(By.ID, 'message').is_displayed()


def test_a_prompt_streams_what_sample_py_writes(page, runs, capsys):
    settings = dict(temperature=1.0, top_k=12, seed=11, max_new_tokens=50, stop_at_eot=False)
    write(page, PROMPT, **settings)
    args = ['--temperature=1.0', '--top_k=12', '--seed=11', '--max_new_tokens=50', '--stop_at_eot=False']
    assert shown_text(page) == sample_py(runs / 'out-gpt', capsys, '--start', PROMPT, *args)
    generated = page.find_elements(By.CSS_SELECTOR, '#output .token:not(.prompt-token)')
    assert len(generated) == 50                   # one span per token: the boundaries are visible
    assert page.find_element(By.ID, 'write-stats').text.startswith('50 tokens in ')


def test_a_clicked_token_shows_the_distribution_it_was_drawn_from(page, runs, gpt_context):
    write(page, PROMPT, temperature=0.8, top_k=6, seed=4, max_new_tokens=10)
    page.find_element(By.CSS_SELECTOR, '#output [data-index="6"]').click()
    wait_for(page, "return !document.getElementById('inspector').hidden")
    # the same distribution computed directly from the model, on the text before that token
    model, tokenizer, _ = load_checkpoint(runs / 'out-gpt')
    ids = tokenizer.encode(PROMPT) + [int(s.get_attribute('data-id')) for s in
                                      page.find_elements(By.CSS_SELECTOR, '#output .token:not(.prompt-token)')][:6]
    with torch.no_grad():   # the context generation sees: past the window, GPT.step keeps part of it
        logits = model(torch.tensor([gpt_context(ids, len(tokenizer.encode(PROMPT)), 32)]))[0][0, -1]

    def distribution(temperature):
        warped = logits / temperature
        return F.softmax(warped.masked_fill(warped < torch.topk(warped, 6).values[-1], -math.inf), dim=-1)
    rows = page.find_elements(By.CSS_SELECTOR, '#inspector tr.candidate')
    assert [int(r.get_attribute('data-id')) for r in rows] == torch.topk(logits, 15).indices.tolist()
    before, after = F.softmax(logits, dim=-1), distribution(0.8)
    for row in rows:
        token = int(row.get_attribute('data-id'))
        p_before = float(row.find_element(By.CSS_SELECTOR, '.p-before').get_attribute('data-p'))
        p_after = float(row.find_element(By.CSS_SELECTOR, '.p-after').get_attribute('data-p'))
        assert p_before == pytest.approx(float(before[token]), abs=1e-5)
        assert p_after == pytest.approx(float(after[token]), abs=1e-5)
        assert row.find_element(By.CSS_SELECTOR, '.p-after .value').text == f'{100 * p_after:.2f}%'
    [chosen] = page.find_elements(By.CSS_SELECTOR, '#inspector tr.chosen')
    assert chosen.get_attribute('data-id') == page.find_element(By.CSS_SELECTOR, '#output [data-index="6"]').get_attribute('data-id')
    p = float(after[int(chosen.get_attribute('data-id'))])
    assert page.find_element(By.ID, 'bits-chosen').text == f'{-math.log2(p):.2f} bits'
    # moving the temperature slider redraws the distribution at once, in the page
    set_settings(page, temperature=1.5)
    assert 'at temperature 1.50 (preview)' in page.find_element(By.ID, 'inspector').text
    hot = distribution(1.5)
    for row in page.find_elements(By.CSS_SELECTOR, '#inspector tr.candidate'):
        p_after = float(row.find_element(By.CSS_SELECTOR, '.p-after').get_attribute('data-p'))
        assert p_after == pytest.approx(float(hot[int(row.get_attribute('data-id'))]), abs=1e-5)


def test_the_tokens_view_shows_each_tokenizers_ids(page, runs):
    page.find_element(By.CSS_SELECTOR, '#tabs [data-tab="tokens"]').click()
    text = 'Буря мглою небо кроет'
    field = page.find_element(By.ID, 'tokens-text')
    field.clear()
    field.send_keys(text)
    expected = {'char': load_checkpoint(runs / 'out-gpt')[1]}
    for kind, folder in (('bpe', 'bpe300'), ('word', 'word200')):
        expected[kind] = load_tokenizer(runs / 'data' / folder / 'tokenizer.json')
    for kind, tokenizer in expected.items():
        wait_for(page, f"return document.querySelectorAll('.tokenizer[data-kind={kind}] .chip').length === "
                       f"{len(tokenizer.encode(text))}")
        chips = page.find_elements(By.CSS_SELECTOR, f'.tokenizer[data-kind={kind}] .chip')
        assert [int(c.get_attribute('data-id')) for c in chips] == tokenizer.encode(text)
    chips = page.find_elements(By.CSS_SELECTOR, '.tokenizer[data-kind=bpe] .chip')
    longest = max(chips, key=lambda c: len(c.find_element(By.CSS_SELECTOR, '.piece').text))
    longest.click()
    merges = page.find_element(By.CSS_SELECTOR, '.tokenizer[data-kind=bpe] .merges')
    assert 'in the order BPE applies them' in merges.text
    last_merge = merges.find_elements(By.CSS_SELECTOR, 'li')[-1].find_elements(By.TAG_NAME, 'code')
    assert last_merge[2].text == longest.find_element(By.CSS_SELECTOR, '.piece').text   # it makes the token


def test_a_bad_request_shows_its_message_and_the_next_one_works(page):
    set_settings(page, prompt='Буря ☃', max_new_tokens=5)
    page.find_element(By.ID, 'generate').click()
    wait_for(page, "return !document.getElementById('message').hidden")
    assert "'☃' (U+2603)" in page.find_element(By.ID, 'message').text
    write(page, 'Буря', max_new_tokens=5)
    assert not page.find_element(By.ID, 'message').is_displayed()
    assert len(page.find_elements(By.CSS_SELECTOR, '#output .token:not(.prompt-token)')) == 5


def test_compare_and_attention(page):
    set_settings(page, prompt='Буря', max_new_tokens=30, stop_at_eot=False)
    page.find_element(By.CSS_SELECTOR, '#tabs [data-tab="compare"]').click()
    page.find_element(By.ID, 'compare-go').click()
    wait_for(page, "return Array.from(document.querySelectorAll('.compare-stats'), s => s.textContent)"
                   ".filter(t => t.includes('tokens/s')).length === 2")
    columns = page.find_elements(By.CSS_SELECTOR, '.compare-col')
    assert [c.find_element(By.TAG_NAME, 'h3').text for c in columns] == ['out-gpt', 'out-gru']
    assert all('held-out' in c.text and 'bits/char' in c.text and 'too short to score' in c.text for c in columns)
    page.find_element(By.CSS_SELECTOR, '#tabs [data-tab="attention"]').click()
    page.find_element(By.ID, 'attn-go').click()
    wait_for(page, "return document.getElementById('attn-info').textContent.startsWith('layer 0, head 0')")
    assert page.find_element(By.ID, 'attn-canvas').size['width'] > 100



def test_verse_tab_writes_a_stanza_with_rhymes_coloured_alike(page):
    from test_serve import STANZA_PROMPT
    from nanopushkin.verse import count_syllables, rhyme_scheme
    page.find_element(By.CSS_SELECTOR, '#tabs [data-tab="verse"]').click()
    page.execute_script("document.getElementById('prompt').value = arguments[0]", STANZA_PROMPT)
    set_settings(page, seed=3, temperature=1.0)
    page.find_element(By.CSS_SELECTOR, '#verse-form option[value="quatrain"]').click()
    page.find_element(By.ID, 'verse-go').click()
    wait_for(page, "return document.getElementById('verse-lines').dataset.done === 'true'", timeout=120)
    rows = page.find_elements(By.CSS_SELECTOR, '#verse-lines .verse-line')
    texts = [r.find_element(By.CLASS_NAME, 'verse-text').text for r in rows]
    assert rhyme_scheme(texts) == 'AbAb' == ''.join(r.get_attribute('data-letter') for r in rows)
    assert [int(r.find_element(By.CLASS_NAME, 'verse-count').text) for r in rows] == [count_syllables(t) for t in texts]
    colours = [r.value_of_css_property('background-color') for r in rows]
    assert colours[0] == colours[2] != colours[1] == colours[3]
    assert page.find_element(By.ID, 'verse-info').text.startswith('AbAb: form kept')

def make_screenshot(run, path):
    """The README's picture: `run` continues the first line of Eugene Onegin, a token looked inside."""
    from nanopushkin.playground import PlaygroundServer, ServeConfig, build_playground
    server = PlaygroundServer(build_playground(ServeConfig(out_dir=run)), '127.0.0.1', 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as profile:
        browser = start_chromium(profile)
        try:
            browser.set_window_size(1400, 980)
            browser.get(server.url)
            wait_for(browser, "return document.body.dataset.ready === 'true'")
            write(browser, 'Мой дядя самых честных правил,', temperature=0.8, top_k=20, seed=1337, max_new_tokens=160)
            letters = [span for span in browser.find_elements(By.CSS_SELECTOR, '#output [data-index]')
                       if int(span.get_attribute('data-index')) >= 12 and span.get_attribute('data-text').isalpha()]
            letters[0].click()                  # a letter a dozen tokens in: a step with some choice
            browser.save_screenshot(str(path))
        finally:
            browser.quit()
            server.shutdown()


if __name__ == '__main__':
    make_screenshot(sys.argv[1], sys.argv[2])
