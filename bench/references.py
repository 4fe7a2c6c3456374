"""Networks written by hand, as a tutorial writes them: the references the designer is held to."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TutorialDigitClassifier(nn.Module):
    """The DigitClassifier with functional relu, max-pool and log-softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.log_softmax(self.fc(torch.flatten(x, 1)), dim=1)
