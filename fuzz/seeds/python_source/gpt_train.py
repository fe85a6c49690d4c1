"""
Train a small GPT on character-level data.

This docstring mentions code that must not count as code:
def fake():
    return 1
class Fake:
    pass
"""
import argparse
import math
import os
from dataclasses import dataclass, field

import torch
import torch.nn as nn
from torch.nn import functional as F

# --- hyperparameters (def and class in comments are ignored) ---
DEPTH = 8  # number of transformer blocks
N_EMBD = 512
N_HEAD = 8
HEAD_DIM = N_EMBD // N_HEAD
SEQ_LEN = 1024
ROTARY_DIM = HEAD_DIM
TOTAL_BATCH_SIZE = 2**19  # tokens per step
TOTAL_TOKENS = 40 * 524288
LEARNING_RATE = 6e-4
WEIGHT_DECAY: float = 0.1
BETAS = (0.9, 0.95)
WARMUP_ITERS = int(0.05 * 2000)
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
DATA_DIR = os.environ.get("DATA_DIR", "data")
DTYPE = "bfloat16"
COMPILE = True
EVAL_SCHEDULE = [
    100,
    500,  # early checks
    1_000,
]
batch_size = 12
MAX_STEPS = TOTAL_TOKENS // (batch_size * SEQ_LEN)
HELP = """usage:
def not_a_function(): pass
"""


@dataclass
class GPTConfig:
    block_size: int = SEQ_LEN
    vocab_size: int = 50304  # padded to a multiple of 64
    n_layer: int = 12
    n_head: int = N_HEAD
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True
    head_dim: int = n_embd // n_head
    init_std: float = field(default=0.02)
    tags: list = field(default_factory=list)


class CausalSelfAttention(nn.Module):
    """Multi-head attention; the docstring says class Inner: but is not one."""

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.n_head = config.n_head

# a comment at column zero inside the class body
    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)

        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attn = CausalSelfAttention(config)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(x)
        x = x + self.mlp(x)
        return x


class GPT(nn.Module):
    """The model.

    def looks_like_a_method(self):
    """

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])

        def init_weights(module):
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.02)

        self.apply(init_weights)

    def forward(
        self,
        idx,
        targets=None,
    ):
        x = idx
        for block in self.blocks:
            x = block(x)
        if targets is None:
            return x, None
        loss = F.cross_entropy(x.view(-1, x.size(-1)), targets.view(-1))
        return x, loss

    @staticmethod
    def count_parameters(model):
        return sum(p.numel() for p in model.parameters())

    def configure_optimizers(
        self, weight_decay, learning_rate, betas, device_type
    ):
        decay = [p for p in self.parameters() if p.dim() >= 2]
        groups = [{"params": decay, "weight_decay": weight_decay}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx)
        return idx


@torch.no_grad()
def estimate_loss(model, batches):
    model.eval()
    losses = []
    for x, y in batches:
        _, loss = model(x, y)
        losses.append(loss.item())
    model.train()
    return sum(losses) / len(losses)


def get_lr(step):
    # def inside a comment
    if step < WARMUP_ITERS:
        return LEARNING_RATE * step / WARMUP_ITERS
    ratio = (step - WARMUP_ITERS) / (MAX_STEPS - WARMUP_ITERS)
    return LEARNING_RATE * 0.5 * (1.0 + math.cos(math.pi * ratio))


def parse_args():
    parser = argparse.ArgumentParser(description="train a GPT")
    parser.add_argument("-lr", "--learning-rate", type=float, default=5e-4)
    parser.add_argument("--batch_size", type=int, default=32, help="sequences per step")
    parser.add_argument(
        "--warmup",
        type=int,
        dest="warmup_steps",
        default=WARMUP_ITERS * 2,
    )
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--run-name", default="baseline")
    parser.add_argument("--eval-every", type=int, default="250")
    parser.add_argument("data_path")
    return parser.parse_args()


def train():
    args = parse_args()
    config = GPTConfig(n_layer=DEPTH)
    model = GPT(config).to(DEVICE)
    optimizer = model.configure_optimizers(
        WEIGHT_DECAY, args.learning_rate, BETAS, "cuda"
    )
    for step in range(MAX_STEPS):
        lr = get_lr(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if step % 250 == 0:
            print(f"step {step}: lr {lr:.2e}")
    print(f"val_bpb: {estimate_loss(model, []):.4f}")


if __name__ == "__main__":
    train()
