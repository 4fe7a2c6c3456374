"""Losses, optimizers and learning-rate schedules named in the training settings."""

from __future__ import annotations

import torch


def make_loss(name: str) -> torch.nn.Module:
    """The loss module called `name` (a torch.nn class name)."""
    return getattr(torch.nn, name)()


def make_optimizer(settings: dict, parameters) -> torch.optim.Optimizer:
    """The optimizer in `settings`, with its learning rate, momentum and weight decay."""
    name, lr, decay = settings["optimizer"], settings["lr"], settings["weight_decay"]
    if name == "SGD":
        return torch.optim.SGD(parameters, lr=lr, momentum=settings["momentum"], weight_decay=decay)
    if name == "RMSprop":
        return torch.optim.RMSprop(
            parameters, lr=lr, momentum=settings["momentum"], weight_decay=decay
        )
    return getattr(torch.optim, name)(parameters, lr=lr, weight_decay=decay)


def make_scheduler(settings: dict, optimizer):
    """The per-epoch LR schedule, or None."""
    if settings["schedule"] == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, settings["step_size"], settings["gamma"])
    if settings["schedule"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, settings["epochs"]))
    return None
