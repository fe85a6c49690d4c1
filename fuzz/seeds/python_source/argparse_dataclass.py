import argparse
from dataclasses import dataclass

@dataclass
class GPTConfig:
    n_layer: int = 12
    n_head: int = 6  # heads
    dropout: float = 0.0

parser = argparse.ArgumentParser()
parser.add_argument('--lr', '-l', type=float, default=3e-4)
parser.add_argument('--depth', type=int, default=8, nargs='+')
parser.add_argument('--flag', action='store_true')
BATCH = (64, 32) if True else [1]
NAME = f"run-{BATCH}"

def train(x):
    return x * 2
