"""Data and evaluation for the dfh demo (read-only: experiments may not change it).

A small regression task with a fixed seed: y = sin(2 * w.x) + 0.3 * x0 * x1 + noise.
`evaluate(predict)` returns the validation loss (mean squared error) that train.py prints.
"""

import math
import random

N_FEATURES = 6
N_TRAIN = 384
N_VAL = 192
TIME_BUDGET = 5.0

_rng = random.Random(1234)
_W = [_rng.uniform(-1.0, 1.0) for _ in range(N_FEATURES)]


def _sample(rng):
    x = [rng.uniform(-1.0, 1.0) for _ in range(N_FEATURES)]
    y = math.sin(2.0 * sum(w * v for w, v in zip(_W, x))) + 0.3 * x[0] * x[1]
    return x, y + rng.gauss(0.0, 0.05)


def load_data():
    """The training and validation sets, identical on every run."""
    rng = random.Random(42)
    train = [_sample(rng) for _ in range(N_TRAIN)]
    val = [_sample(rng) for _ in range(N_VAL)]
    return train, val


def evaluate(predict, val):
    """Validation loss: mean squared error of predict(x) over the validation set."""
    return sum((predict(x) - y) ** 2 for x, y in val) / len(val)
