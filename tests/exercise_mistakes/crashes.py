"""gru_cell that crashes: a shape error in the student's own code."""
import torch


def gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    return x @ weight_hh + h
