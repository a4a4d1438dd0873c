"""gru_cell that never returns: a loop whose condition never changes."""


def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    steps = 0
    while steps >= 0:
        steps += 1
    return h
