// The playground page: plain JavaScript, no libraries. Every number shown comes from the server
// (nanopushkin/playground.py), except the temperature preview, which redraws a step's distribution
// from the logits the server sent for it (the same steps as the sampler: temperature, top-k, top-p).
'use strict';

const SETTINGS = ['temperature', 'top_k', 'top_p', 'repetition_penalty', 'no_repeat_ngram_size',
                  'num_beams', 'seed', 'max_new_tokens', 'stop_at_eot', 'syllables'];
const SHOWN = 15;                    // candidates shown when a token is clicked
let info = null;                     // /api/models: the models, defaults and limits
let written = null;                  // the last generation on the Write tab: {settings, steps: [...]}
let selected = null;                 // the index of the token whose step is shown
let running = null;                  // the AbortController of the Write tab's generation

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};
const pct = (p) => (p === null || p === undefined) ? '—' : (100 * p).toFixed(2) + '%';
// a token's text with its spaces and newlines made visible
const shown = (piece) => piece.replace(/ /g, '\u2423').replace(/\n/g, '\u21b5').replace(/\t/g, '\u21e5');

// ---------------------------------------------------------------------------- messages and requests

function showMessage(text) {
  const box = $('message');
  box.textContent = text;
  box.hidden = !text;
}

async function postJSON(path, body) {
  const response = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                      body: JSON.stringify(body)});
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

// POST and read the answer's server-sent events, calling onEvent for each; an HTTP error or an
// 'error' event throws with the server's message.
async function streamEvents(path, body, onEvent, signal) {
  const response = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
                                      body: JSON.stringify(body), signal});
  if (!response.ok) {
    const answer = await response.json().catch(() => ({}));
    throw new Error(answer.error || response.statusText);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!line.startsWith('data: ')) continue;
      const event = JSON.parse(line.slice(6));
      if (event.type === 'error') throw new Error(event.error);
      onEvent(event);
    }
  }
}

function readSettings() {
  const settings = {};
  for (const name of SETTINGS) {
    const input = $(name);
    if (input.type === 'checkbox') settings[name] = input.checked;
    else if (input.type === 'text') settings[name] = input.value;      // syllables: '8,9' or ''
    else settings[name] = input.value === '' ? null : Number(input.value);
  }
  return settings;
}

// ---------------------------------------------------------------------------- tokens on screen

// A token as a span: its exact text in data-text; what is drawn makes newlines visible.
function tokenSpan(token, cls) {
  const span = el('span', {className: cls, title: `id ${token.id}: ${shown(token.piece)}`});
  span.dataset.text = token.text;
  span.dataset.id = token.id;
  if (token.text !== '') {
    span.textContent = token.text.replace(/\n/g, '\u21b5\n');
  } else if (token.piece.startsWith('\\x')) {   // the first bytes of a character the next token completes
    span.classList.add('partial');
    span.textContent = '\u25e6';
  } else {                                      // a special token such as <|endoftext|>
    span.classList.add('special');
    span.textContent = token.piece;
  }
  return span;
}

// ---------------------------------------------------------------------------- Write

async function write() {
  const box = $('output');
  const settings = readSettings();
  const body = {model: $('model').value, prompt: $('prompt').value, ...settings};
  showMessage('');
  box.replaceChildren();
  $('write-stats').textContent = 'writing…';
  $('inspector').hidden = true;
  written = {settings, steps: []};
  selected = null;
  running = new AbortController();
  $('generate').disabled = true;
  $('stop').disabled = false;
  try {
    await streamEvents('/api/generate', body, (event) => {
      if (event.type === 'start') {
        for (const t of event.prompt) box.append(tokenSpan(t, 'token prompt-token'));
        if (event.unknown_words) showMessage(`${event.unknown_words} word(s) of the prompt are not in the model's vocabulary and are read as <unk>`);
      } else if (event.type === 'token') {
        const span = tokenSpan(event, 'token');
        span.dataset.index = event.index;
        written.steps.push(event.step);
        if (event.step) span.addEventListener('click', () => inspect(event.index));
        else span.classList.add('no-step');
        box.append(span);
      } else if (event.type === 'done') {
        if (event.rest) box.append(tokenSpan({id: '', piece: event.rest, text: event.rest}, 'rest'));
        box.dataset.done = 'true';
        $('attn-text').value = event.text;
        $('write-stats').textContent = `${event.tokens} tokens in ${event.seconds.toFixed(2)} s ` +
          `(${event.tokens_per_s.toFixed(1)} tokens/s)` + styleLine(event.style) +
          (settings.num_beams > 1 ? ' · beam search: no per-step distributions' : ' · click a token');
      }
    }, running.signal);
  } catch (error) {
    if (error.name === 'AbortError') $('write-stats').textContent = 'stopped';
    else { showMessage(error.message); $('write-stats').textContent = ''; }
  } finally {
    running = null;
    $('generate').disabled = false;
    $('stop').disabled = true;
  }
}

function styleLine(style) {
  if (!style) return '';
  if (style.p_pushkin === null) return ` · style: too short to score (needs ${style.min_chars} characters)`;
  return ` · P(Pushkin) ${style.p_pushkin.toFixed(2)}` +
    (style.known_words === null ? '' : `, known words ${style.known_words.toFixed(2)}`);
}

// ---------------------------------------------------------------------------- look inside a step

// The distribution of a step at another temperature, the way the sampler makes it: logits / T,
// keep the top k, keep the nucleus of mass p. The tokens beyond the candidates the server sent
// are counted through its histogram of their logits (bins of equal logits).
function redraw(step, temperature, topK, topP) {
  const items = step.candidates.map((c, i) => ({logit: c.logit, count: 1, index: i}))
    .concat(step.tail.map(([logit, count]) => ({logit, count, index: -1})))
    .filter((x) => x.logit !== null)
    .sort((a, b) => b.logit - a.logit);
  const p = new Array(step.candidates.length).fill(0);
  if (temperature === 0) {           // greedy: all the mass on the most likely token
    p[items[0].index] = 1;
    return p;
  }
  let kept = topK > 0 ? [] : items;
  for (let i = 0, n = 0; topK > 0 && i < items.length && n < topK; i++) {
    kept.push({...items[i], count: Math.min(items[i].count, topK - n)});
    n += items[i].count;
  }
  const top = kept[0].logit;
  let weights = kept.map((x) => x.count * Math.exp((x.logit - top) / temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  let mass = 0, cut = kept.length;
  for (let i = 0; i < kept.length; i++) {
    if (mass >= topP) { cut = i; break; }
    mass += weights[i] / total;
  }
  kept = kept.slice(0, cut);
  weights = weights.slice(0, cut);
  total = weights.reduce((a, b) => a + b, 0);
  kept.forEach((x, i) => { if (x.index >= 0) p[x.index] = weights[i] / total; });
  return p;
}

function inspect(index) {
  selected = index;
  document.querySelectorAll('#output .selected').forEach((s) => s.classList.remove('selected'));
  document.querySelector(`#output [data-index="${index}"]`).classList.add('selected');
  drawInspector();
}

function drawInspector() {
  if (selected === null) return;
  const step = written.steps[selected];
  const s = written.settings;
  const temperature = Number($('temperature').value);
  const preview = temperature !== s.temperature;
  const after = preview ? redraw(step, temperature, s.top_k, s.top_p) : step.candidates.map((c) => c.p_after);
  const chosen = step.candidates.find((c) => c.id === step.chosen);
  const order = step.candidates.map((c, i) => i).slice(0, SHOWN);
  const chosenAt = step.candidates.indexOf(chosen);
  if (chosenAt >= SHOWN) order.push(chosenAt);
  const rows = order.map((i) => {
    const c = step.candidates[i];
    const row = el('tr', {className: 'candidate' + (c.id === step.chosen ? ' chosen' : '')},
      el('td', {className: 'rank'}, i < SHOWN ? String(i + 1) : '…'),
      el('td', {className: 'piece'}, shown(c.piece)),
      el('td', {className: 'num'}, String(c.id)),
      el('td', {className: 'num'}, c.logit === null ? 'banned' : c.logit.toFixed(2)),
      bar(c.p_before, 'p-before'), bar(after[i], 'p-after'));
    row.dataset.id = c.id;
    return row;
  });
  const head = el('tr', {}, el('th', {}, '#'), el('th', {}, 'token'), el('th', {}, 'id'), el('th', {}, 'logit'),
    el('th', {}, 'p before the filters'),
    el('th', {}, preview ? `p after, at temperature ${temperature.toFixed(2)} (preview)` : 'p after the filters (drawn from)'));
  const summary = el('p', {className: 'summary'},
    'Token #' + selected + ' ', el('b', {className: 'piece'}, shown(chosen.piece)), ` (id ${chosen.id}) was drawn with p = `,
    el('b', {id: 'p-chosen'}, pct(step.p_chosen)), ' · surprisal ',
    el('b', {id: 'bits-chosen'}, step.bits === null ? '—' : step.bits.toFixed(2) + ' bits'),
    ` · the model alone gave it ${pct(step.p_chosen_before)} (${(-Math.log2(step.p_chosen_before)).toFixed(2)} bits)`);
  const settingsLine = el('p', {className: 'hint'},
    `Settings of this run: temperature ${s.temperature}, top-k ${s.top_k || 'off'}, top-p ${s.top_p}, ` +
    `repetition penalty ${s.repetition_penalty}, no-repeat n-gram ${s.no_repeat_ngram_size || 'off'}. ` +
    'Move the temperature slider to redraw the distribution.');
  $('inspector').replaceChildren(summary, el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)), settingsLine);
  $('inspector').hidden = false;
}

function bar(p, cls) {
  const cell = el('td', {className: 'bar ' + cls});
  cell.dataset.p = p;
  cell.append(el('span', {className: 'track'}, el('span', {className: 'fill', style: `width: ${Math.min(100, 100 * p).toFixed(1)}%`})),
              el('span', {className: 'value'}, pct(p)));
  return cell;
}

// ---------------------------------------------------------------------------- Compare

async function compare() {
  const names = Array.from(document.querySelectorAll('#compare-models input:checked'), (c) => c.value);
  if (names.length === 0) { showMessage('choose at least one model to compare'); return; }
  showMessage('');
  const settings = readSettings();
  const prompt = $('prompt').value;
  const columns = $('compare-columns');
  columns.replaceChildren();
  await Promise.all(names.map(async (name) => {
    const model = info.models.find((m) => m.name === name);
    const text = el('div', {className: 'text-box compare-text'});
    const stats = el('div', {className: 'stats compare-stats'}, 'writing…');
    columns.append(el('div', {className: 'compare-col'},
      el('h3', {}, name), el('p', {className: 'hint'}, describe(model)), stats, text));
    try {
      await streamEvents('/api/generate', {model: name, prompt, inspect: false, ...settings}, (event) => {
        if (event.type === 'start') for (const t of event.prompt) text.append(tokenSpan(t, 'token prompt-token'));
        else if (event.type === 'token') text.append(tokenSpan(event, 'token'));
        else if (event.type === 'done') {
          if (event.rest) text.append(tokenSpan({id: '', piece: event.rest, text: event.rest}, 'rest'));
          stats.textContent = `${event.tokens_per_s.toFixed(1)} tokens/s` + styleLine(event.style);
        }
      });
    } catch (error) {
      stats.textContent = '';
      stats.append(el('span', {className: 'error'}, error.message));
    }
  }));
}

function describe(m) {
  const options = m.options.length ? ` (${m.options.join(', ')})` : '';
  return `${m.model_type}${options}, ${m.tokenizer} tokenizer (${m.vocab_size}), ${(m.num_params / 1e6).toFixed(2)}M parameters, ` +
    (m.bits_per_char === null ? 'no held-out bits/char logged' : `held-out ${m.bits_per_char.toFixed(3)} bits/char`);
}

// ---------------------------------------------------------------------------- Tokens

let tokensTimer = null;
async function showTokens() {
  try {
    const answer = await postJSON('/api/tokens', {text: $('tokens-text').value});
    showMessage('');
    $('tokens-views').replaceChildren(...answer.tokenizers.map(tokenizerView));
  } catch (error) { showMessage(error.message); }
}

function tokenizerView(view) {
  const box = el('div', {className: 'tokenizer'});
  box.dataset.name = view.name;
  box.dataset.kind = view.kind;
  const title = el('h3', {}, view.name);
  if (view.error) {
    box.append(title, el('p', {className: 'error'}, view.error));
    return box;
  }
  title.append(el('span', {className: 'hint'}, ` · ${view.tokens.length} tokens`));
  const chips = el('div', {className: 'chips'});
  const merges = el('div', {className: 'merges'});
  for (const t of view.tokens) {
    const chip = el('span', {className: 'chip'}, el('span', {className: 'piece'}, shown(t.piece)),
                    el('span', {className: 'id'}, String(t.id)));
    chip.dataset.id = t.id;
    if (t.merges) chip.addEventListener('click', () => showMerges(merges, t));
    chips.append(chip);
  }
  box.append(title, chips, merges);
  return box;
}

function showMerges(box, token) {
  const items = token.merges.map(([rank, left, right, merged]) =>
    el('li', {}, el('code', {}, shown(left)), ' + ', el('code', {}, shown(right)), ' → ',
       el('code', {}, shown(merged)), el('span', {className: 'hint'}, ` merge #${rank}`)));
  box.replaceChildren(el('p', {}, el('code', {}, shown(token.piece)), ` (id ${token.id}): `,
    items.length ? `${items.length} merges, in the order BPE applies them` : 'a single byte or a special token: no merges'),
    el('ol', {}, ...items));
}

// ---------------------------------------------------------------------------- Attention

function fillAttentionChoices() {
  const model = info.models.find((m) => m.name === $('attn-model').value);
  const numbers = (n) => Array.from({length: n}, (_, i) => el('option', {value: i}, String(i)));
  $('attn-layer').replaceChildren(...numbers(model ? model.attention.n_layer : 0));
  $('attn-head').replaceChildren(...numbers(model ? model.attention.n_head : 0));
}

async function showAttention() {
  try {
    const answer = await postJSON('/api/attention', {model: $('attn-model').value, text: $('attn-text').value,
      layer: Number($('attn-layer').value), head: Number($('attn-head').value)});
    showMessage('');
    drawHeatMap(answer);
  } catch (error) { showMessage(error.message); }
}

function drawHeatMap({tokens, weights, layer, head}) {
  const n = tokens.length;
  const cell = Math.max(4, Math.min(26, Math.floor(640 / Math.max(n, 1))));
  const canvas = $('attn-canvas');
  const g = canvas.getContext('2d');
  const font = `${Math.min(13, cell - 2)}px sans-serif`;
  const labels = tokens.map((t) => shown(t.piece));
  g.font = font;                            // room for the tokens' labels, when they fit
  const margin = cell >= 12 ? 12 + Math.min(120, Math.max(...labels.map((l) => g.measureText(l).width))) : 10;
  canvas.width = margin + n * cell + 10;
  canvas.height = margin + n * cell + 10;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  weights.forEach((row, i) => row.forEach((w, j) => {
    g.fillStyle = `rgba(30, 64, 175, ${Math.sqrt(w).toFixed(3)})`;   // sqrt: small weights stay visible
    g.fillRect(margin + j * cell, margin + i * cell, cell - 1, cell - 1);
  }));
  if (margin > 10) {
    g.fillStyle = '#333';
    g.font = font;                          // resizing the canvas reset it
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    labels.forEach((label, i) => {
      g.fillText(label, margin - 4, margin + i * cell + cell / 2);
      g.save();
      g.translate(margin + i * cell + cell / 2, margin - 4);
      g.rotate(-Math.PI / 2);
      g.textAlign = 'left';
      g.fillText(label, 0, 0);
      g.restore();
    });
  }
  $('attn-info').textContent = `layer ${layer}, head ${head}: ${n} tokens` + (margin > 10 ? '' : ' (too many to label; hover for values)');
  canvas.onmousemove = (e) => {
    const r = canvas.getBoundingClientRect();
    const j = Math.floor((e.clientX - r.left - margin) / cell), i = Math.floor((e.clientY - r.top - margin) / cell);
    if (i >= 0 && i < n && j >= 0 && j <= i) {
      canvas.title = `${shown(tokens[i].piece)} looks at ${shown(tokens[j].piece)}: ${weights[i][j].toFixed(3)}`;
    }
  };
}

// ---------------------------------------------------------------------------- Verse

async function writeStanza() {
  const box = $('verse-lines');
  delete box.dataset.done;
  box.replaceChildren();
  $('verse-info').textContent = 'writing…';
  try {
    const answer = await postJSON('/api/stanza', {model: $('model').value, prompt: $('prompt').value,
                                                  form: $('verse-form').value, ...readSettings()});
    showMessage('');
    const letters = [...new Set(answer.lines.map((l) => l.letter.toLowerCase()))];
    for (const line of answer.lines) {
      const hue = Math.round(360 * letters.indexOf(line.letter.toLowerCase()) / letters.length);
      const row = el('div', {className: 'verse-line'},
        el('span', {className: 'verse-count'}, String(line.syllables)),
        el('span', {className: 'verse-letter'}, line.letter),
        el('span', {className: 'verse-text'}, line.text));
      row.dataset.letter = line.letter;
      row.style.backgroundColor = `hsl(${hue}, 70%, 90%)`;
      box.append(row);
    }
    $('verse-info').textContent = `${answer.scheme}: form ${answer.form_kept ? 'kept' : 'broken'}, ` +
      `${answer.forced_lines} forced rhyme word(s), ${answer.seconds.toFixed(1)} s`;
  } catch (error) {
    $('verse-info').textContent = '';
    showMessage(error.message);
  }
  box.dataset.done = 'true';
}

// ---------------------------------------------------------------------------- start

function switchTab(name) {
  document.querySelectorAll('#tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === name));
  document.querySelectorAll('main > section').forEach((s) => { s.hidden = s.id !== name; });
  $('settings').hidden = !(name === 'write' || name === 'compare' || name === 'verse');
  document.querySelectorAll('.write-only').forEach((e) => { e.hidden = name !== 'write'; });
  if (name === 'tokens') showTokens();
}

async function start() {
  info = await fetch('/api/models').then((r) => r.json());
  for (const [name, value] of Object.entries(info.defaults)) {
    if ($(name).type === 'checkbox') $(name).checked = value; else $(name).value = value;
  }
  $('max_new_tokens').value = Math.min(200, info.limits.max_new_tokens);
  $('max_new_tokens').max = info.limits.max_new_tokens;
  $('num_beams').max = info.limits.max_beams;
  $('temperature-value').textContent = Number($('temperature').value).toFixed(2);
  for (const m of info.models) {
    $('model').append(el('option', {value: m.name}, `${m.name} (${m.model_type}, ${m.tokenizer})`));
    $('compare-models').append(el('label', {}, el('input', {type: 'checkbox', name: 'compare', value: m.name,
      checked: info.models.length <= 3}), ` ${m.name}`));
    if (m.attention) $('attn-model').append(el('option', {value: m.name}, m.name));
  }
  if (info.models.length === 0) showMessage('No trained models found: train one (python train.py config/gpt.py --out_dir=out-gpt), then restart serve.py. The Tokens tab works without one.');
  fillAttentionChoices();
  $('tabs').addEventListener('click', (e) => { if (e.target.dataset.tab) switchTab(e.target.dataset.tab); });
  $('generate').addEventListener('click', write);
  $('prompt').addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.ctrlKey && !running) write(); });
  $('stop').addEventListener('click', () => running && running.abort());
  $('temperature').addEventListener('input', () => {
    $('temperature-value').textContent = Number($('temperature').value).toFixed(2);
    drawInspector();
  });
  $('compare-go').addEventListener('click', compare);
  $('tokens-text').addEventListener('input', () => { clearTimeout(tokensTimer); tokensTimer = setTimeout(showTokens, 200); });
  $('attn-model').addEventListener('change', fillAttentionChoices);
  $('attn-go').addEventListener('click', showAttention);
  $('verse-go').addEventListener('click', writeStanza);
  document.body.dataset.ready = 'true';
}

start().catch((error) => showMessage('could not start: ' + error.message));
