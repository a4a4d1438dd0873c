"""Exercise 5 (journey chapter 5, recurrent models): one step of a GRU cell.

A GRU keeps one hidden state h and updates it from the input x with three blocks of weights, in
PyTorch's layout: weight_ih (3H, I) and weight_hh (3H, H) hold the rows of the reset gate r, the
update gate z and the candidate n, in that order (use .chunk(3) on the products); bias_ih and
bias_hh are (3H,).

    r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))      # r scales the hidden part, bias included
    h' = (1 - z) * n + z * h

The task: gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh) -> h', for a batch: x (B, I),
h (B, H), h' (B, H). Plain tensor operations (x @ W.T, torch.sigmoid, torch.tanh); not nn.GRUCell.

Check: python -m exercises check gru_cell
(against torch.nn.GRUCell with the same weights, and the project's nanopushkin/models/rnn.py GRUCell)
"""
import torch


def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    raise NotImplementedError('write gru_cell')
