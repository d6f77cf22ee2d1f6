"""The oracle: a small, plain, sequential CCS written the way the reference code
(collin-burns/discovering_latent_knowledge, class CCS) writes it: numpy normalization of
each side, one nn.Linear + Sigmoid probe per restart, full-batch AdamW, the lowest final
loss wins, accuracy max(acc, 1 - acc) on a test set normalized with its own statistics.

The only change: each restart starts from given weights instead of the global RNG, so
the batched engine can be compared with it restart by restart.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn


def normalize(x: np.ndarray, var_normalize: bool) -> np.ndarray:
    normalized = x - x.mean(axis=0, keepdims=True)
    if var_normalize:
        normalized /= normalized.std(axis=0, keepdims=True)
    return normalized


class OracleCCS:
    def __init__(
        self, x0, x1, init_weights, init_biases, nepochs=1000, lr=1e-3, weight_decay=0.01, var_normalize=False
    ):
        self.var_normalize = var_normalize
        self.x0 = normalize(np.asarray(x0, dtype=np.float64), var_normalize)
        self.x1 = normalize(np.asarray(x1, dtype=np.float64), var_normalize)
        self.inits = list(zip(init_weights, init_biases))
        self.nepochs, self.lr, self.weight_decay = nepochs, lr, weight_decay
        self.best_probe = None

    def make_probe(self, weight, bias):
        probe = nn.Sequential(nn.Linear(self.x0.shape[1], 1), nn.Sigmoid())
        with torch.no_grad():
            probe[0].weight.copy_(torch.as_tensor(weight).reshape(1, -1))
            probe[0].bias.copy_(torch.as_tensor(bias).reshape(1))
        return probe

    @staticmethod
    def get_loss(p0, p1):
        informative_loss = (torch.min(p0, p1) ** 2).mean(0)
        consistent_loss = ((p0 - (1 - p1)) ** 2).mean(0)
        return informative_loss + consistent_loss

    def train(self, probe):
        x0 = torch.tensor(self.x0, dtype=torch.float)
        x1 = torch.tensor(self.x1, dtype=torch.float)
        optimizer = torch.optim.AdamW(probe.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(self.nepochs):
            p0, p1 = probe(x0), probe(x1)
            loss = self.get_loss(p0, p1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.detach().item()

    def repeated_train(self):
        best_loss = np.inf
        self.losses = []
        for weight, bias in self.inits:
            probe = self.make_probe(weight, bias)
            loss = self.train(probe)
            self.losses.append(loss)
            if loss < best_loss:
                self.best_probe = copy.deepcopy(probe)
                best_loss = loss
        return best_loss

    def get_acc(self, x0_test, x1_test, y_test):
        x0 = torch.tensor(normalize(np.asarray(x0_test, dtype=np.float64), self.var_normalize), dtype=torch.float)
        x1 = torch.tensor(normalize(np.asarray(x1_test, dtype=np.float64), self.var_normalize), dtype=torch.float)
        with torch.no_grad():
            p0, p1 = self.best_probe(x0), self.best_probe(x1)
        avg_confidence = 0.5 * (p0 + (1 - p1))
        predictions = (avg_confidence.numpy() < 0.5).astype(int)[:, 0]
        acc = (predictions == y_test).mean()
        return max(acc, 1 - acc)
