"""lstm_cell that squashes the candidate g with a sigmoid like the gates, instead of tanh."""
import torch


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    i, f, g, o = torch.sigmoid(x @ weight_ih.T + h @ weight_hh.T + bias_ih + bias_hh).chunk(4, dim=1)
    c_next = f * c + i * g
    return o * torch.tanh(c_next), c_next
