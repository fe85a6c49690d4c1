"""A two-layer perceptron trained with minibatch SGD, in pure Python: the file experiments change."""

import math
import os
import random
import time

import dfh_diag
from prepare import N_FEATURES, TIME_BUDGET, evaluate, load_data

LEARNING_RATE = 0.05
HIDDEN = 12
BATCH_SIZE = 32
EPOCHS = 12
MOMENTUM = 0.0
WEIGHT_DECAY = 0.0
INIT_SCALE = 1.0
ACTIVATION = "tanh"

ACTIVATIONS = {
    "tanh": (math.tanh, lambda a: 1.0 - math.tanh(a) ** 2),
    "relu": (lambda a: max(0.0, a), lambda a: 1.0 if a > 0 else 0.0),
    "silu": (
        lambda a: a / (1.0 + math.exp(-a)),
        lambda a: (1.0 + math.exp(-a) + a * math.exp(-a)) / (1.0 + math.exp(-a)) ** 2,
    ),
}


def main():
    seed = int(os.environ.get("DFH_SEED", "1"))
    budget = float(os.environ.get("DFH_BUDGET_SECONDS", TIME_BUDGET))
    rng = random.Random(seed)
    act, act_grad = ACTIVATIONS[ACTIVATION]
    train, val = load_data()
    scale = INIT_SCALE / math.sqrt(N_FEATURES)
    w1 = [[rng.gauss(0.0, scale) for _ in range(N_FEATURES)] for _ in range(HIDDEN)]
    b1 = [0.0] * HIDDEN
    w2 = [rng.gauss(0.0, INIT_SCALE / math.sqrt(HIDDEN)) for _ in range(HIDDEN)]
    b2 = 0.0
    v1 = [[0.0] * N_FEATURES for _ in range(HIDDEN)]
    v2 = [0.0] * HIDDEN
    run = dfh_diag.Run()
    started = time.time()
    step = 0
    for _ in range(EPOCHS):
        rng.shuffle(train)
        for start in range(0, len(train), BATCH_SIZE):
            batch = train[start:start + BATCH_SIZE]
            g1 = [[0.0] * N_FEATURES for _ in range(HIDDEN)]
            gb1 = [0.0] * HIDDEN
            g2 = [0.0] * HIDDEN
            gb2 = 0.0
            loss = 0.0
            for x, y in batch:
                pre = [sum(w * v for w, v in zip(w1[j], x)) + b1[j] for j in range(HIDDEN)]
                hidden = [act(a) for a in pre]
                out = sum(w * h for w, h in zip(w2, hidden)) + b2
                error = out - y
                loss += error * error
                for j in range(HIDDEN):
                    g2[j] += error * hidden[j]
                    back = error * w2[j] * act_grad(pre[j])
                    gb1[j] += back
                    row = g1[j]
                    for k in range(N_FEATURES):
                        row[k] += back * x[k]
                gb2 += error
            n = len(batch)
            for j in range(HIDDEN):
                v2[j] = MOMENTUM * v2[j] + g2[j] / n + WEIGHT_DECAY * w2[j]
                w2[j] -= LEARNING_RATE * v2[j]
                b1[j] -= LEARNING_RATE * gb1[j] / n
                for k in range(N_FEATURES):
                    v1[j][k] = MOMENTUM * v1[j][k] + g1[j][k] / n + WEIGHT_DECAY * w1[j][k]
                    w1[j][k] -= LEARNING_RATE * v1[j][k]
            b2 -= LEARNING_RATE * gb2 / n
            grad_norm = math.sqrt(sum(g * g for g in g2) / (n * n))
            run.log(step, train_loss=loss / n)
            run.log(step, **{"gradient_norms/output": grad_norm})
            step += 1
        if time.time() - started > budget:
            break

    def predict(x):
        hidden = [act(sum(w * v for w, v in zip(w1[j], x)) + b1[j]) for j in range(HIDDEN)]
        return sum(w * h for w, h in zip(w2, hidden)) + b2

    val_loss = evaluate(predict, val)
    if math.isnan(val_loss) or val_loss > 100:
        print("FAIL")
        raise SystemExit(1)
    run.summary(val_loss=val_loss, training_seconds=time.time() - started, num_steps=step)


if __name__ == "__main__":
    main()
