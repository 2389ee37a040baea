"""One seed for every random source a training run draws from (Python, NumPy, torch)."""

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)  # NumPy's legacy seed must fit 32 bits
    torch.manual_seed(seed)
