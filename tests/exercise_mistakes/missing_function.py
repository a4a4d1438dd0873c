"""A file for the exercise top_p whose function has the wrong name."""


def top_p(logits, p):
    return logits
