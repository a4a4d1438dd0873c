"""gru_cell that keeps z of the candidate and 1 - z of the old state (the other convention)."""
import torch


def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    H = h.shape[1]
    gi = x @ weight_ih.T + bias_ih
    gh = h @ weight_hh.T + bias_hh
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return z * n + (1 - z) * h
