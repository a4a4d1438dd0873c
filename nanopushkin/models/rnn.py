"""
Recurrent language models: a plain (Elman) RNN, a GRU and an LSTM, with the cells written out by hand.

Each cell owns four tensors named and shaped exactly like torch.nn.RNNCell / GRUCell / LSTMCell
(weight_ih, weight_hh, bias_ih, bias_hh, gates stacked in PyTorch's order), so a stack of our cells
holds the same numbers as one torch.nn.RNN / GRU / LSTM (cells.{k}.weight_ih == weight_ih_l{k}).
That gives two ways to run the same parameters:
  - the hand-written path: a Python loop over layers and time steps calling our cells, and
  - the fused path: PyTorch's C++ kernel (torch.lstm / torch.gru / torch.rnn_tanh, what nn.LSTM
    itself calls) fed with our cells' tensors.
Both compute the same function (tests/test_models.py checks outputs and gradients against
torch.nn.LSTM & co.), and the state_dict does not depend on which path is used.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F

from .base import LanguageModel, check_config, next_token_loss

CELL_TYPES = ('rnn', 'gru', 'lstm')


@dataclass
class RNNConfig:
    vocab_size: int
    cell: str = 'lstm'      # 'rnn' | 'gru' | 'lstm'
    n_embd: int = 64        # token embedding size (input of the first layer)
    n_hidden: int = 256     # hidden state size of every layer
    n_layer: int = 2
    dropout: float = 0.0    # on the embeddings, between layers, and before the output layer
    fused: bool = True      # run the recurrence with PyTorch's fused kernel (same weights, faster)

    def __post_init__(self):
        if self.cell not in CELL_TYPES:
            raise ValueError(f"RNNConfig.cell must be one of {CELL_TYPES}, got {self.cell!r}")
        check_config(self, ('vocab_size', 'n_embd', 'n_hidden', 'n_layer'))


# -----------------------------------------------------------------------------
# The cells. Each maps (x, state) -> new state for one time step; state is a tuple whose
# first element is the hidden state h (the cell's output): (h,) or, for the LSTM, (h, c).

class Cell(nn.Module):
    n_gates = 1   # how many blocks of hidden_size rows the weight matrices stack
    n_states = 1  # (h,) or (h, c)

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        rows = self.n_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(rows))
        self.bias_hh = nn.Parameter(torch.empty(rows))
        # PyTorch's default for recurrent layers: everything uniform in +-1/sqrt(hidden_size)
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def weights(self):
        """The tensors in the order PyTorch's fused kernels expect for one layer."""
        return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]


class RNNCell(Cell):
    def forward(self, x, state):
        h, = state
        # h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
        h = torch.tanh(F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh))
        return (h,)


class GRUCell(Cell):
    n_gates = 3  # reset r, update z, candidate n

    def forward(self, x, state):
        h, = state
        x_r, x_z, x_n = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=1)
        h_r, h_z, h_n = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, dim=1)
        r = torch.sigmoid(x_r + h_r)  # r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = torch.sigmoid(x_z + h_z)  # z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = torch.tanh(x_n + r * h_n)  # n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h = (1 - z) * n + z * h       # h' = (1 - z) * n + z * h
        return (h,)


class LSTMCell(Cell):
    n_gates = 4  # input i, forget f, candidate g, output o
    n_states = 2

    def forward(self, x, state):
        h, c = state
        gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        i, f, g, o = gates.chunk(4, dim=1)
        i = torch.sigmoid(i)   # i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
        f = torch.sigmoid(f)   # f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = torch.tanh(g)      # g = tanh(W_ig x + b_ig + W_hg h + b_hg)
        o = torch.sigmoid(o)   # o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c = f * c + i * g      # c' = f * c + i * g
        h = o * torch.tanh(c)  # h' = o * tanh(c')
        return (h, c)


CELLS = {'rnn': RNNCell, 'gru': GRUCell, 'lstm': LSTMCell}
FUSED_KERNELS = {'rnn': torch.rnn_tanh, 'gru': torch.gru, 'lstm': torch.lstm}

# -----------------------------------------------------------------------------


class RecurrentStack(nn.Module):
    """n_layer cells on top of each other, batch first. Same function as torch.nn.RNN/GRU/LSTM
    (batch_first=True, dropout between layers). The state is a tuple of (B, n_layer, hidden)
    tensors: (h,) or (h, c)."""

    def __init__(self, cell, input_size, hidden_size, n_layer, dropout=0.0, fused=True):
        super().__init__()
        self.cell = cell
        self.dropout = dropout
        self.fused = fused
        sizes = [input_size] + [hidden_size] * (n_layer - 1)
        self.cells = nn.ModuleList(CELLS[cell](size, hidden_size) for size in sizes)

    def initial_state(self, batch_size, device, dtype):
        first = self.cells[0]
        shape = (batch_size, len(self.cells), first.hidden_size)
        return tuple(torch.zeros(shape, device=device, dtype=dtype) for _ in range(first.n_states))

    def forward(self, x, state=None):
        if state is None:
            state = self.initial_state(x.size(0), x.device, x.dtype)
        run = self._forward_fused if self.fused else self._forward_cells
        return run(x, state)

    def _forward_cells(self, x, state):
        new_state = []
        for layer, cell in enumerate(self.cells):
            layer_state = tuple(s[:, layer] for s in state)
            outputs = []
            for t in range(x.size(1)):
                layer_state = cell(x[:, t], layer_state)
                outputs.append(layer_state[0])
            x = torch.stack(outputs, dim=1)
            if layer < len(self.cells) - 1:
                x = F.dropout(x, self.dropout, self.training)  # like PyTorch: not after the last layer
            new_state.append(layer_state)
        # list over layers of (h, c) -> (h, c) with layers stacked at dim 1
        return x, tuple(torch.stack(s, dim=1) for s in zip(*new_state))

    def _forward_fused(self, x, state):
        weights = [w for cell in self.cells for w in cell.weights()]
        hx = [s.transpose(0, 1).contiguous() for s in state]  # the kernels want (n_layer, B, hidden)
        if self.cell != 'lstm':
            hx = hx[0]
        kernel = FUSED_KERNELS[self.cell]  # the same call nn.LSTM/GRU/RNN.forward makes
        output, *new_state = kernel(x, hx, weights, True, len(self.cells),  # has_biases, num_layers
                                    self.dropout, self.training, False, True)  # bidirectional, batch_first
        return output, tuple(s.transpose(0, 1) for s in new_state)


class RNN(LanguageModel):
    """Character/word/BPE language model: embedding -> recurrent stack -> linear layer to logits."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.rnn = RecurrentStack(config.cell, config.n_embd, config.n_hidden, config.n_layer,
                                  config.dropout, config.fused)
        self.lm_head = nn.Linear(config.n_hidden, config.vocab_size)

    def _run(self, idx, state):
        x = self.drop(self.wte(idx))
        x, state = self.rnn(x, state)
        return self.lm_head(self.drop(x)), state

    def forward(self, idx, targets=None):
        logits, _ = self._run(idx, None)
        return logits, next_token_loss(logits, targets)

    @torch.no_grad()
    def step(self, idx_new, state=None):
        """Feed idx_new (B, T) after the tokens summarised by state; O(1) work per token."""
        logits, state = self._run(idx_new, state)
        return logits[:, -1], state
