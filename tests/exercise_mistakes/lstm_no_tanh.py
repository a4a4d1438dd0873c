"""lstm_cell whose output is o * c, without the tanh of the cell state."""
import torch


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    i, f, g, o = (x @ weight_ih.T + h @ weight_hh.T + bias_ih + bias_hh).chunk(4, dim=1)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * c_next, c_next
