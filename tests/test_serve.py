"""The playground's server without a browser: the stream equals sample.py, every step's numbers equal
the model's, bad requests get a 400 and a message, several clients at once, a client that goes away,
and a GPT with the speedrun's options served like the others, its attention map the one it uses."""
import http.client
import json
import math
import socket
import threading
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nanopushkin.checkpoint import load_checkpoint, read_log
from nanopushkin.config import TrainConfig, load_config_file
from nanopushkin.playground import (MAX_BODY_BYTES, Handler, PlaygroundServer, ServeConfig, attention_weights,
                                    build_playground, find_run_folders, merges_of)
from conftest import serving
from tokenizer import BPETokenizer, WordTokenizer, load_tokenizer

ROOT = Path(__file__).resolve().parent.parent
PROMPT = 'Мой дядя самых честных правил'


@pytest.fixture(scope='module')
def runs(char_dataset, tiny_corpus_dir, tmp_path_factory):
    """A folder laid out like a clone after training: out-gpt/ and out-gru/ trained for a few
    iterations by the real training loop, a prepared BPE and word tokenizer in data/, a style meter."""
    from nanopushkin.style import LOG2_BUCKETS, Meter
    from nanopushkin.trainer import train
    root = tmp_path_factory.mktemp('clone')
    common = dict(data_dir=str(char_dataset), batch_size=8, block_size=32, max_iters=20, eval_interval=10,
                  eval_iters=2, warmup_iters=2, lr_decay_iters=20, device='cpu', progress=False, plot=False)
    train(TrainConfig(out_dir=str(root / 'out-gpt'), model='gpt', n_layer=2, n_head=2, n_embd=16, **common))
    train(TrainConfig(out_dir=str(root / 'out-gru'), model='gru', n_layer=1, n_embd=8, n_hidden=16, **common))
    text = ''.join(p.read_text(encoding='utf-8', errors='replace') for p in sorted(tiny_corpus_dir.glob('*/*.txt')))
    for name, tokenizer in (('bpe300', BPETokenizer.train(text, 300)), ('word200', WordTokenizer.train(text, 200))):
        (root / 'data' / name).mkdir(parents=True)
        tokenizer.save(root / 'data' / name / 'tokenizer.json')
    # a meter with zero weights says P(Pushkin) = 0.5 to everything; its vocabulary is a few words
    Meter(torch.zeros(2 ** LOG2_BUCKETS), 0.0, vocabulary=frozenset(['и', 'в', 'не', 'что'])).save(root / 'meter.pt')
    return root


@pytest.fixture(scope='module')
def server(runs):
    """The playground on a free port of 127.0.0.1, serving everything in `runs`."""
    cfg = ServeConfig(meter=str(runs / 'meter.pt'), tokenizers=str(runs / 'data'), max_new_tokens=300,
                      max_prompt_chars=200)
    with serving(PlaygroundServer(build_playground(cfg, root=runs, say=lambda *a: None), '127.0.0.1', 0)) as server:
        yield server


def request(server, method, path, body=None, headers=None):
    """(status, body) of one request; a dict body is sent as JSON, bytes as they are, both labelled
    application/json unless headers say otherwise."""
    connection = http.client.HTTPConnection('127.0.0.1', server.server_address[1], timeout=60)
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    headers = {'Content-Type': 'application/json', **(headers or {})} if body is not None else headers or {}
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    return response.status, raw.decode('utf-8')


def generate(server, **body):
    """The events of a /api/generate stream, parsed; an error status raises with the message."""
    status, text = request(server, 'POST', '/api/generate', {'model': 'out-gpt', **body})
    assert status == 200, text
    return [json.loads(chunk.removeprefix('data: ')) for chunk in text.split('\n\n') if chunk]


def streamed_text(events):
    """What the page shows: the prompt's tokens, each generated token's text, the decoder's rest."""
    start, *tokens, done = events
    assert start['type'] == 'start' and done['type'] == 'done' and all(e['type'] == 'token' for e in tokens)
    return ''.join(t['text'] for t in start['prompt'] + tokens) + done['rest']


def sample_py(out_dir, capsys, *args):
    """sample.py's text of one sample (what it prints before the separator line)."""
    import sample
    sample.main([f'--out_dir={out_dir}', '--num_samples=1', '--device=cpu', *args])
    out = capsys.readouterr().out
    assert out.endswith('\n' + '-' * 40 + '\n')
    return out[:-42]


def test_models_are_found_with_their_held_out_bits_per_char(server, runs):
    assert [f.name for f in find_run_folders(runs)] == ['out-gpt', 'out-gru']
    status, text = request(server, 'GET', '/api/models')
    assert status == 200
    models = {m['name']: m for m in json.loads(text)['models']}
    assert set(models) == {'out-gpt', 'out-gru'}
    for name in models:     # best.pt is the checkpoint with the lowest validation loss of the log
        evals = [r['val_bits_per_char'] for r in read_log(runs / name) if r['event'] == 'eval']
        assert models[name]['bits_per_char'] == min(evals)
    assert models['out-gpt']['attention'] == {'n_layer': 2, 'n_head': 2, 'block_size': 32}
    assert models['out-gru']['attention'] is None
    assert models['out-gpt']['options'] == models['out-gru']['options'] == []      # GPT-2; not a GPT
    status, page = request(server, 'GET', '/')
    assert status == 200 and '<script src="/app.js"' in page


@pytest.mark.parametrize('settings', [
    dict(temperature=0.9, top_k=10, top_p=0.9, seed=7, max_new_tokens=60),
    dict(temperature=0.0, repetition_penalty=1.3, no_repeat_ngram_size=3, max_new_tokens=40),
    dict(temperature=0.7, num_beams=3, top_k=20, max_new_tokens=20),
])
def test_the_stream_is_what_sample_py_prints(server, runs, capsys, settings):
    events = generate(server, prompt=PROMPT, stop_at_eot=False, **settings)
    args = [f'--{k}={v}' for k, v in settings.items()] + ['--start', PROMPT, '--stop_at_eot=False']
    assert streamed_text(events) == events[-1]['text'] == sample_py(runs / 'out-gpt', capsys, *args)
    assert events[-1]['tokens'] == settings['max_new_tokens'] == len(events) - 2
    style = events[-1]['style']         # the continuation is long enough for the meter only when sampled
    assert style['p_pushkin'] == (0.5 if style['passages'] else None)


def test_a_gpt2_format_folder_is_served_too(runs, tmp_path, capsys):
    """--init_from: a byte-level BPE GPT, whose tokens split Cyrillic letters in two; the streamed
    pieces still add up to sample.py's text."""
    import sample
    from nanopushkin.hf import save_pretrained
    from nanopushkin.models import build_model
    bpe = load_tokenizer(runs / 'data' / 'bpe300' / 'tokenizer.json')
    torch.manual_seed(0)
    model = build_model('gpt', dict(vocab_size=bpe.vocab_size, block_size=16, n_layer=1, n_head=2, n_embd=16))
    save_pretrained(model, bpe, tmp_path / 'gpt2')
    cfg = ServeConfig(out_dir=str(runs / 'out-gru'), init_from=str(tmp_path / 'gpt2'), meter=str(tmp_path / 'none'))
    playground = build_playground(cfg)
    assert list(playground.models) == [str(runs / 'out-gru'), str(tmp_path / 'gpt2')]
    events = []
    playground.generate(*playground.start_generation({'model': str(tmp_path / 'gpt2'), 'prompt': 'Буря',
                                                      'temperature': 1.0, 'max_new_tokens': 30,
                                                      'stop_at_eot': False}), events.append)
    assert any(e.get('text') == '' for e in events[1:-1])      # half a letter: nothing to show yet
    sample.main(['--init_from', str(tmp_path / 'gpt2'), '--start', 'Буря', '--num_samples=1', '--max_new_tokens=30',
                 '--temperature=1.0', '--device=cpu', '--stop_at_eot=False'])
    assert capsys.readouterr().out == streamed_text(events) + '\n' + '-' * 40 + '\n'


def test_every_step_is_the_models_distribution(server, runs, gpt_context):
    """Each token event carries what the sampler drew from; recompute it from the model."""
    model, tokenizer, _ = load_checkpoint(runs / 'out-gpt')
    settings = dict(temperature=0.8, top_k=5, seed=3, max_new_tokens=12)
    events = generate(server, prompt=PROMPT, **settings)
    ids = tokenizer.encode(PROMPT)
    prompt_len = len(ids)
    for event in events[1:-1]:
        step = event['step']
        with torch.no_grad():   # the context generation sees: past the window, GPT.step keeps part of it
            logits = model(torch.tensor([gpt_context(ids, prompt_len, 32)]))[0][0, -1]
        before = F.softmax(logits, dim=-1)
        warped = logits / 0.8
        warped[warped < torch.topk(warped, 5).values[-1]] = -math.inf
        after = F.softmax(warped, dim=-1)
        candidates = step['candidates']
        assert [c['id'] for c in candidates[:10]] == torch.topk(logits, 10).indices.tolist()
        for c in candidates:
            assert c['p_before'] == pytest.approx(float(before[c['id']]), abs=1e-5)
            assert c['p_after'] == pytest.approx(float(after[c['id']]), abs=1e-5)
            assert c['piece'] == tokenizer.decode([c['id']])
        assert step['chosen'] == event['id']
        assert step['bits'] == pytest.approx(-math.log2(float(after[event['id']])), abs=1e-4)
        # the histogram of the other logits counts every other token of the vocabulary
        assert len(candidates) + sum(count for _, count in step['tail']) == tokenizer.vocab_size
        ids.append(event['id'])


def test_style_of_a_long_continuation(server):
    from nanopushkin.style import known_word_share
    done = generate(server, prompt=PROMPT, temperature=1.0, max_new_tokens=150, stop_at_eot=False)[-1]
    continuation = done['text'][len(PROMPT):]
    assert done['style']['p_pushkin'] == 0.5 and done['style']['passages'] >= 1
    assert done['style']['known_words'] == pytest.approx(known_word_share(continuation, {'и', 'в', 'не', 'что'}))


@pytest.mark.parametrize('body, message', [
    (b'{"model": "out-gpt", ', 'not valid JSON'),
    (b'[1, 2]', 'must be a JSON object'),
    ({'model': 'out-lstm'}, 'unknown model "out-lstm"; served: out-gpt, out-gru'),
    ({'model': 'out-gpt', 'prompt': 'Буря ☃'}, "'☃' (U+2603)"),
    ({'model': 'out-gpt', 'prompt': 'я' * 201}, 'the prompt has 201 characters; the limit is 200'),
    ({'model': 'out-gpt', 'temperature': -1}, 'temperature must be >= 0'),
    ({'model': 'out-gpt', 'top_p': 2}, 'top_p must be in (0, 1]'),
    ({'model': 'out-gpt', 'top_k': 'many'}, 'top_k must be an integer, got "many"'),
    ({'model': 'out-gpt', 'seed': True}, 'seed must be an integer, got true'),
    ({'model': 'out-gpt', 'max_new_tokens': 301}, 'max_new_tokens must be at most 300'),
    ({'model': 'out-gpt', 'num_beams': 9}, 'num_beams must be at most 8'),
    ({'model': 'out-gpt', 'temprature': 1}, 'unknown field(s) temprature'),
    ({'model': 'out-gpt', 'no_repeat_ngram_size': 1, 'max_new_tokens': 300}, 'no_repeat_ngram_size=1 lets no token occur twice'),
])
def test_a_bad_request_gets_400_and_a_message_and_the_server_goes_on(server, body, message):
    status, text = request(server, 'POST', '/api/generate', body)
    assert status == 400 and message in json.loads(text)['error']
    assert generate(server, prompt='Буря', max_new_tokens=3)[-1]['tokens'] == 3


def test_an_error_after_the_stream_began_is_an_error_event(server, monkeypatch):
    """The status line has gone out by then: the message arrives as an 'error' event instead."""
    import nanopushkin.playground
    real_generate = nanopushkin.playground.generate

    def generate_then_fail(*args, on_token, on_step):
        def on_token_then_fail(sample, token):
            on_token(sample, token)
            raise ValueError('the sampler gave up')
        return real_generate(*args, on_token=on_token_then_fail, on_step=on_step)
    monkeypatch.setattr(nanopushkin.playground, 'generate', generate_then_fail)
    start, token, error = generate(server, prompt='Буря', max_new_tokens=10)
    assert token['type'] == 'token' and error == {'type': 'error', 'error': 'the sampler gave up'}


def test_oversized_and_misaddressed_requests(server):
    # refused on its Content-Length, before the server reads any of it
    status, text = request(server, 'POST', '/api/generate', b'{"prompt": "',
                           headers={'Content-Length': str(MAX_BODY_BYTES + 1)})
    assert status == 413 and f'the limit is {MAX_BODY_BYTES}' in json.loads(text)['error']
    status, text = request(server, 'POST', '/api/nothing', {})
    assert status == 404 and 'no API /api/nothing' in text
    status, _ = request(server, 'GET', '/../README.md')
    assert status == 404
    # a page on another site that makes its name point at 127.0.0.1 sends its own name as Host
    status, text = request(server, 'GET', '/api/models', headers={'Host': 'attacker.example:8000'})
    assert status == 403 and 'only answers requests for 127.0.0.1' in text


def test_several_clients_at_once_get_what_each_would_get_alone(server):
    alone = {seed: streamed_text(generate(server, prompt=PROMPT, seed=seed, max_new_tokens=40)) for seed in range(3)}
    together = {}

    def client(seed):
        together[seed] = streamed_text(generate(server, prompt=PROMPT, seed=seed, max_new_tokens=40))
    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert together == alone


def test_a_client_that_goes_away_stops_its_generation(server):
    before = server.playground.stopped
    body = json.dumps({'model': 'out-gpt', 'prompt': PROMPT, 'max_new_tokens': 300, 'stop_at_eot': False}).encode()
    sock = socket.create_connection(('127.0.0.1', server.server_address[1]))
    sock.sendall(b'POST /api/generate HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
                 + f'Content-Length: {len(body)}\r\n\r\n'.encode() + body)
    received = b''
    while received.count(b'"type": "token"') < 3:       # a few tokens have arrived: the tab closes
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    sock.close()
    deadline = time.time() + 30
    while server.playground.stopped == before and time.time() < deadline:
        time.sleep(0.05)
    assert server.playground.stopped == before + 1      # it stopped before its 300 tokens
    assert generate(server, prompt='Буря', max_new_tokens=2)[-1]['tokens'] == 2


def test_tokens_view_is_every_tokenizer(server, runs):
    text = 'Буря мглою небо кроет, ☃'
    status, answer = request(server, 'POST', '/api/tokens', {'text': text})
    assert status == 200
    views = {v['name']: v for v in json.loads(answer)['tokenizers']}
    char, bpe, word = (next(v for v in views.values() if v['kind'] == kind) for kind in ('char', 'bpe', 'word'))
    assert "'☃'" in char['error']                      # the models' char tokenizer does not know it
    assert 'out-gpt' in char['name'] and 'out-gru' in char['name']   # one tokenizer, two models
    for view, folder in ((bpe, 'bpe300'), (word, 'word200')):
        tokenizer = load_tokenizer(runs / 'data' / folder / 'tokenizer.json')
        assert [t['id'] for t in view['tokens']] == tokenizer.encode(text)
    # the merges of a BPE token, applied in order to its bytes, build it
    tokenizer = load_tokenizer(runs / 'data' / 'bpe300' / 'tokenizer.json')
    longest = max(bpe['tokens'], key=lambda t: len(t['merges']))
    assert len(longest['merges']) >= 2 and longest['merges'][-1][3] == longest['piece']
    assert [m[0] for m in longest['merges']] == sorted(m[0] for m in longest['merges'])
    rank_of = {merged: rank for rank, merged in enumerate(tokenizer.merged_ids)}
    assert merges_of(tokenizer, longest['id'], rank_of) == longest['merges']
    assert merges_of(tokenizer, tokenizer.byte_ids[ord('a')], rank_of) == []       # a byte is not made


def test_attention_weights_are_the_layers_own(runs):
    """softmax(q k^T / sqrt(d)) times v, through the layer's output projection, is what the layer
    itself computes: the recomputed weights are the ones the model used."""
    model, tokenizer, _ = load_checkpoint(runs / 'out-gpt')
    ids = tokenizer.encode(PROMPT)[:20]
    x = model.transformer.wte(torch.tensor([ids])) + model.transformer.wpe.weight[:len(ids)]
    with torch.no_grad():
        x, _ = model.transformer.h[0](x)
        attn = model.transformer.h[1].attn
        h = model.transformer.h[1].ln_1(x)
        expected, _ = attn(h)
        weights = attention_weights(model, ids, 1)               # (heads, T, T)
        v = attn.c_attn(h).view(1, len(ids), 3, 2, 8)[:, :, 2].transpose(1, 2)
        y = (weights.unsqueeze(0) @ v).transpose(1, 2).reshape(1, len(ids), 16)
    assert torch.allclose(attn.c_proj(y), expected, atol=1e-5)
    assert torch.allclose(weights.sum(-1), torch.ones(2, len(ids)))
    assert torch.all(weights.triu(1) == 0)


@pytest.fixture(scope='module')
def speedrun_server(char_dataset, tmp_path_factory):
    """The playground serving the one run of a clone: a tiny GPT trained as config/speedrun.py trains
    (rotary positions, RMSNorm, QK-norm, ReLU^2, Muon; untied output on here), by the real training loop."""
    from nanopushkin.trainer import train
    root = tmp_path_factory.mktemp('speedrun_clone')
    tiny = dict(n_layer=2, n_head=2, n_embd=16, batch_size=4, block_size=32, max_iters=20, eval_interval=10,
                eval_iters=2, warmup_iters=2, device='cpu', progress=False, plot=False,
                untied=True)  # every option on, the untied output too (the record keeps it tied)
    train(TrainConfig(**{**load_config_file(ROOT / 'config' / 'speedrun.py'), **tiny, 'data_dir': str(char_dataset),
                         'out_dir': str(root / 'out-speedrun')}))
    cfg = ServeConfig(meter=str(root / 'no-meter.pt'), tokenizers=str(root / 'data'), max_new_tokens=100)
    with serving(PlaygroundServer(build_playground(cfg, root=root, say=lambda *a: None), '127.0.0.1', 0)) as server:
        yield server, root / 'out-speedrun'


def attention_the_forward_uses(model, ids) -> list:
    """Per layer, the (n_head, T, T) weights of the attention the model's own forward computes:
    softmax(q k^T / sqrt(d)) under the causal mask, of the queries and keys that its forward hands to
    scaled_dot_product_attention (normalised and rotated there, whatever the options)."""
    handed, fused = [], F.scaled_dot_product_attention

    def recording(q, k, v, **options):
        assert options['is_causal'] and options['attn_mask'] is None   # one whole sequence, no cache
        handed.append((q, k))
        return fused(q, k, v, **options)
    with pytest.MonkeyPatch.context() as patch, torch.no_grad():
        patch.setattr(F, 'scaled_dot_product_attention', recording)
        model(torch.tensor([ids]))
    T = len(ids)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    return [F.softmax((q @ k.transpose(-2, -1) / math.sqrt(k.size(-1))).masked_fill(~causal, -math.inf), dim=-1)[0]
            for q, k in handed]


def test_a_speedrun_gpt_is_served_like_the_others(speedrun_server, capsys):
    """Listed with its attention shape, its stream is what sample.py prints, and its attention map,
    through the page's own request, is the attention its forward computes with rotary positions and
    normalised queries and keys (a text longer than block_size: the map covers the last 32)."""
    server, out_dir = speedrun_server
    status, text = request(server, 'GET', '/api/models')
    (listed,) = json.loads(text)['models']
    assert status == 200 and listed['name'] == 'out-speedrun' and listed['model_type'] == 'gpt'
    assert listed['attention'] == {'n_layer': 2, 'n_head': 2, 'block_size': 32}
    assert listed['options'] == ['rotary', 'rmsnorm', 'qk_norm', 'relu2', 'untied']     # the page names them
    settings = dict(temperature=0.8, top_k=20, seed=3, max_new_tokens=50)   # past block_size: the rotary window slides
    events = generate(server, model='out-speedrun', prompt=PROMPT, stop_at_eot=False, **settings)
    args = [f'--{k}={v}' for k, v in settings.items()] + ['--start', PROMPT, '--stop_at_eot=False']
    assert streamed_text(events) == sample_py(out_dir, capsys, *args)
    model, tokenizer, _ = load_checkpoint(out_dir)
    text = PROMPT + ', когда не в шутку'
    ids = tokenizer.encode(text)[-32:]
    used = attention_the_forward_uses(model, ids)
    for layer, head in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        status, answer = request(server, 'POST', '/api/attention', {'model': 'out-speedrun', 'text': text,
                                                                    'layer': layer, 'head': head})
        answer = json.loads(answer)
        assert status == 200 and [t['id'] for t in answer['tokens']] == ids
        for t, row in enumerate(answer['weights']):
            assert row == pytest.approx(used[layer][head, t, :t + 1].tolist(), abs=1e-6)


def test_attention_api(server):
    status, text = request(server, 'POST', '/api/attention', {'model': 'out-gpt', 'text': 'я' * 40, 'layer': 1, 'head': 1})
    answer = json.loads(text)
    assert status == 200 and len(answer['tokens']) == 32      # the last block_size tokens
    assert [len(row) for row in answer['weights']] == list(range(1, 33))
    assert all(sum(row) == pytest.approx(1, abs=1e-5) for row in answer['weights'])
    for body, message in (({'model': 'out-gru', 'text': 'я'}, 'out-gru is a gru model; attention maps need a GPT'),
                          ({'model': 'out-gpt', 'text': 'я', 'layer': 2}, 'layer must be in 0..1 and head in 0..1')):
        status, text = request(server, 'POST', '/api/attention', body)
        assert status == 400 and message in json.loads(text)['error']


def test_serve_py_prints_the_address_and_warns_about_other_hosts(runs, monkeypatch, capsys):
    import serve

    def interrupt(self, *args):             # stands for the user's Ctrl-C once the server is up
        raise KeyboardInterrupt
    monkeypatch.setattr(PlaygroundServer, 'serve_forever', interrupt)
    monkeypatch.chdir(runs)                 # a clone after training: serve.py finds out-gpt and out-gru
    serve.main(['--host=0.0.0.0', '--port=0', '--meter=meter.pt'])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[:2] == ['models: out-gpt, out-gru', 'tokenizers: 1; style meter: yes']
    assert lines[2].startswith('playground at http://0.0.0.0:') and lines[2].endswith('/ (Ctrl-C stops it)')
    assert 'warning: --host=0.0.0.0 lets other machines use this server' in err
    with pytest.raises(SystemExit) as exit:
        serve.main(['--out_dir=no/such/run'])
    assert exit.value.code == 2 and capsys.readouterr().err == 'error: checkpoint no/such/run does not exist\n'
    with socket.socket() as taken:          # a port another program listens on
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        with pytest.raises(SystemExit) as exit:
            serve.main([f'--port={taken.getsockname()[1]}'])
    assert exit.value.code == 2 and 'is another server there? Choose another with --port' in capsys.readouterr().err


# -----------------------------------------------------------------------------
# hostile clients (issue 23): other sites, lying lengths, silent connections, deep JSON


def raw_exchange(server, data: bytes, wait=10.0) -> bytes:
    """Send `data` on a fresh connection, keep it open, and return what the server answers until it
    closes the connection (a hang fails after `wait` seconds)."""
    with socket.create_connection(('127.0.0.1', server.server_address[1]), timeout=wait) as sock:
        sock.sendall(data)
        received = b''
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_other_sites_cannot_use_the_api(server):
    body = {'model': 'out-gpt', 'prompt': 'Буря', 'max_new_tokens': 2}
    port = server.server_address[1]
    # a "simple" cross-site POST: a form or fetch on any page, which the browser sends without asking
    status, text = request(server, 'POST', '/api/generate', json.dumps(body).encode(),
                           headers={'Content-Type': 'text/plain', 'Origin': 'http://evil.example'})
    assert status == 403 and 'http://evil.example' in json.loads(text)['error']
    status, _ = request(server, 'POST', '/api/generate', body, headers={'Origin': 'http://evil.example'})
    assert status == 403
    status, text = request(server, 'POST', '/api/generate', json.dumps(body).encode(),
                           headers={'Content-Type': 'text/plain'})
    assert status == 415 and 'application/json' in json.loads(text)['error']
    # the page's own requests (its fetch sends the server's origin) go through
    status, _ = request(server, 'POST', '/api/generate', body, headers={'Origin': f'http://127.0.0.1:{port}',
                                                                        'Host': f'127.0.0.1:{port}'})
    assert status == 200


@pytest.mark.parametrize('length, status', [('-1', 411), ('', 411), ('abc', 411), ('30000000', 413)])
def test_a_bad_content_length_is_refused_before_reading(server, length, status):
    header = f'Content-Length: {length}\r\n' if length else ''
    answer = raw_exchange(server, b'POST /api/tokens HTTP/1.0\r\nHost: 127.0.0.1\r\n'
                          b'Content-Type: application/json\r\n' + header.encode() + b'\r\n{"text": "a"')
    assert answer.startswith(f'HTTP/1.0 {status} '.encode()), answer[:200]


def test_silent_and_slow_connections_are_closed(server, monkeypatch):
    monkeypatch.setattr(Handler, 'timeout', 0.5)
    start = time.time()
    assert raw_exchange(server, b'') == b''                       # connected, never said anything
    answer = raw_exchange(server, b'POST /api/tokens HTTP/1.0\r\nHost: 127.0.0.1\r\n'
                          b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"text": "abc"}')
    assert answer.startswith(b'HTTP/1.0 408 ') and time.time() - start < 5
    assert generate(server, prompt='Буря', max_new_tokens=2)[-1]['tokens'] == 2   # the server goes on


@pytest.mark.parametrize('raw', [b'[' * 50_000 + b']' * 50_000, b'{"text": ' + b'7' * 5001 + b'}',
                                 b'\xff\xfe{}'], ids=['nested 50,000 deep', '5,001 digits', 'not UTF-8'])
def test_hostile_json_is_a_400(server, raw):
    status, text = request(server, 'POST', '/api/tokens', raw)
    assert status == 400 and 'is not valid JSON' in json.loads(text)['error']


def test_a_client_that_leaves_is_not_an_error_on_the_console(server, capsys):
    for gone in (BrokenPipeError(32, 'Broken pipe'), ConnectionResetError(104, 'reset'), TimeoutError()):
        try:
            raise gone
        except OSError:
            server.handle_error(None, ('127.0.0.1', 1))
    assert capsys.readouterr().err == ''


def test_tiny_sampling_settings_on_the_page(server):
    for setting in ({'temperature': 1e-300}, {'top_p': 5e-324}, {'repetition_penalty': 1e-300}):
        events = generate(server, prompt='Буря', max_new_tokens=4, stop_at_eot=False, **setting)
        assert events[-1]['type'] == 'done' and events[-1]['tokens'] == 4, (setting, events[-1])


def test_serve_py_refuses_options_that_serve_nothing(capsys):
    import serve
    for option, message in (('--max_new_tokens=-5', '--max_new_tokens must be at least 1'),
                            ('--max_prompt_chars=-1', '--max_prompt_chars must be at least 1'),
                            ('--port=70000', '--port must be in 0..65535'), ('--port=-1', '--port must be in'),
                            ('--device=meta', "unknown --device='meta'")):
        with pytest.raises(SystemExit) as exit:
            serve.main([option, '--out_dir=no/such/run'])
        err = capsys.readouterr().err
        assert exit.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err


STANZA_PROMPT = ('Мой дядя самых честных правил,\nКогда не в шутку занемог,\nОн уважать себя заставил\n'
                 'И лучше выдумать не мог.\nЕго пример другим наука;\nНо, боже мой, какая скука\n')


@pytest.mark.parametrize('model', ['out-gpt', 'out-gru'])
def test_stanza_api_writes_the_form(server, model):
    from nanopushkin.verse import count_syllables, rhyme_scheme
    status, text = request(server, 'POST', '/api/stanza', {'model': model, 'prompt': STANZA_PROMPT, 'form': 'quatrain',
                                                           'seed': 3, 'temperature': 1.0})
    assert status == 200, text
    answer = json.loads(text)
    lines = [line['text'] for line in answer['lines']]
    assert answer['form_kept'] and rhyme_scheme(lines) == 'AbAb' == ''.join(line['letter'] for line in answer['lines'])
    assert [line['syllables'] for line in answer['lines']] == [count_syllables(t) for t in lines] == [9, 8, 9, 8]
    for body, message in (({'model': model, 'form': 'sonnet'}, 'form must be one of onegin, quatrain, couplets'),
                          ({'model': model, 'num_beams': 2}, 'use 1 beam'),
                          ({'model': model, 'rhyme': 1}, 'unknown field(s) rhyme')):
        status, text = request(server, 'POST', '/api/stanza', body)
        assert status == 400 and message in json.loads(text)['error']
