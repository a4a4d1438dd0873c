"""Exercise 6 (journey chapter 5, recurrent models): one step of an LSTM cell.

An LSTM keeps two states: h (what it outputs) and the cell c (its memory, changed only by the
gates, which is why gradients survive many steps). PyTorch's layout: weight_ih (4H, I) and
weight_hh (4H, H) hold the rows of the input gate i, the forget gate f, the candidate g and the
output gate o, in that order; bias_ih and bias_hh are (4H,).

    i  = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
    f  = sigmoid(W_if x + b_if + W_hf h + b_hf)
    g  = tanh(W_ig x + b_ig + W_hg h + b_hg)
    o  = sigmoid(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g
    h' = o * tanh(c')

The task: lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh) -> (h', c'), for a batch:
x (B, I), h and c (B, H). Plain tensor operations; not nn.LSTMCell.

Check: python -m exercises check lstm_cell
(against torch.nn.LSTMCell with the same weights, and the project's nanopushkin/models/rnn.py LSTMCell)
"""
import torch


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    raise NotImplementedError('write lstm_cell')
