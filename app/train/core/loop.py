"""train_one_epoch, evaluate and fit: the loop every TorchCanvas run goes through, with its
extras (capture, guards, checkpoints, progress) as callbacks."""

import time

import torch


class Callback:
    """Hooks the loop calls; each does nothing unless a subclass overrides it."""

    def on_epoch_start(self, epoch):
        """Before an epoch's first step."""

    def on_step_start(self, step):
        """Before a step's forward pass."""

    def on_loss(self, step, loss):
        """After the forward pass, before backward (a guard may raise here)."""

    def on_backward(self, step):
        """After backward, before the optimizer steps (gradients are unscaled)."""

    def on_step_end(self, step, loss, size):
        """After the optimizer stepped on a batch of `size` samples."""

    def on_epoch_end(self, epoch, row, val):
        """After validation: the epoch's metrics row and the full validation scores."""


def notify(callbacks, hook, *args):
    """Call `hook` on every callback, in order."""
    for callback in callbacks:
        getattr(callback, hook)(*args)


def forward(model, x):
    """model(x), or model(a, b, ...) for several Inputs, in forward order."""
    tensors = getattr(x, "tensors", x)
    return model(*tensors) if isinstance(tensors, (tuple, list)) else model(tensors)


def train_one_epoch(
    model, batches, task, loss_fn, optimizer, callbacks=(), step_model=None, amp=None, scaler=None
):
    """One pass over `batches`; returns {"loss", the task's training scores, "seen"}."""
    model.train()
    step_model = model if step_model is None else step_model
    tally, total, seen = task.tally(False), None, 0
    for step, (x, y) in enumerate(batches):
        notify(callbacks, "on_step_start", step)
        with torch.autocast(y.device.type, dtype=amp, enabled=amp is not None):
            output = forward(step_model, x)
            loss = loss_fn(output.float(), task.loss_targets(y, loss_fn))
        notify(callbacks, "on_loss", step, loss)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        notify(callbacks, "on_backward", step)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        part = loss.detach() * len(y)
        total = part if total is None else total + part
        tally.add(output.detach(), y)
        seen += len(y)
        notify(callbacks, "on_step_end", step, loss, len(y))
    return {**tally.scores(total, seen), "seen": seen}


@torch.no_grad()
def evaluate(model, batches, task, loss_fn, amp=None):
    """The task's validation scores of `model` over `batches` (the model is left as it was)."""
    was_training = model.training
    model.eval()
    tally, total, count = task.tally(True), None, 0
    for x, y in batches:
        with torch.autocast(y.device.type, dtype=amp, enabled=amp is not None):
            output = forward(model, x).float()
        part = loss_fn(output, task.loss_targets(y, loss_fn)) * len(y)
        total = part if total is None else total + part
        tally.add(output, y)
        count += len(y)
    model.train(was_training)
    return tally.scores(total, count)


def fit(model, feed, task, loss_fn, optimizer, scheduler, epochs, start=0, callbacks=(), **step):
    """Train epochs `start`..`epochs`-1; after each, validate and give the row to callbacks.

    `feed` gives train() and val() batches and val_size; `step` holds train_one_epoch's
    step_model, amp and scaler.
    """
    for epoch in range(start, epochs):
        notify(callbacks, "on_epoch_start", epoch)
        began = time.monotonic()
        train = train_one_epoch(model, feed.train(), task, loss_fn, optimizer, callbacks, **step)
        val = evaluate(model, feed.val(), task, loss_fn, step.get("amp")) if feed.val_size else {}
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        seconds = time.monotonic() - began
        row = {"epoch": epoch + 1, "train_loss": train["loss"], **task.epoch_row(train, val)}
        row.update(lr=lr, seconds=seconds, samples_per_s=train["seen"] / max(seconds, 1e-9))
        notify(callbacks, "on_epoch_end", epoch, row, val)


def build_model(model_class, seed, device):
    """The model with the weights the seed gives, on `device`."""
    torch.manual_seed(seed)
    return model_class().to(device)


def make_loss(name):
    """The loss module called `name` (a torch.nn class name)."""
    return getattr(torch.nn, name)()


def make_optimizer(settings, model):
    """The optimizer in `settings` (learning rate, momentum, weight decay) over the model's
    trainable parameters: frozen ones (requires_grad False) are left out, unless they are
    unfrozen later (unfreeze_epoch), and the layers the model's lr_scales names train at lr
    times their factor, each in its own group."""
    name, lr, decay = settings["optimizer"], settings["lr"], settings["weight_decay"]
    groups = parameter_groups(model, lr, settings.get("unfreeze_epoch", 0) > 0)
    if name in ("SGD", "RMSprop"):
        optimizer = getattr(torch.optim, name)
        return optimizer(groups, lr=lr, momentum=settings["momentum"], weight_decay=decay)
    return getattr(torch.optim, name)(groups, lr=lr, weight_decay=decay)


def parameter_groups(model, lr, frozen_too=False):
    """The trainable parameters (`frozen_too`: the frozen ones as well): one list, or one
    group per learning-rate factor (the factor-1 group first, then the others in the order
    the model holds them)."""
    scales = layer_scales(model)
    grouped = {1.0: []}
    for path, parameter in model.named_parameters():
        if parameter.requires_grad or frozen_too:
            grouped.setdefault(layer_scale(scales, path), []).append(parameter)
    if len(grouped) == 1:
        return grouped[1.0]
    return [{"params": ps, "lr": lr * scale} for scale, ps in grouped.items() if ps]


def layer_scales(model):
    """Layer path -> learning-rate factor, from every module's lr_scales (a block's class
    names its own layers)."""
    scales = {}
    for path, module in model.named_modules():
        for layer, scale in getattr(module, "lr_scales", {}).items():
            scales[f"{path}.{layer}" if path else layer] = scale
    return scales


def layer_scale(scales, path):
    """The factor of the innermost layer with one that a parameter path (`head.weight`)
    belongs to (1 if none)."""
    found = [layer for layer in scales if path == layer or path.startswith(layer + ".")]
    return float(scales[max(found, key=len)]) if found else 1.0


class Unfreeze(Callback):
    """Gradual unfreezing: at the start of epoch `epoch` (from 1; 0: never), or of the
    first epoch after it when a run resumes later, the frozen layers start training, and
    `then(epoch, count)` hears the epoch (from 1) and how many parameter values train now."""

    def __init__(self, model, epoch, then=None):
        self.model, self.epoch, self.then = model, epoch, then

    def on_epoch_start(self, epoch):
        if self.epoch and epoch + 1 >= self.epoch:
            count = unfreeze(self.model)
            if count and self.then is not None:
                self.then(epoch + 1, count)


def unfreeze(model):
    """Let every frozen layer train: its parameters take gradients (the optimizer holds
    them already, in their lr_scale groups, and steps them once they have one) and its
    batch norm and dropout follow the model's mode again. Returns the values unfrozen."""
    count = 0
    for parameter in model.parameters():
        if not parameter.requires_grad:
            parameter.requires_grad_(True)
            count += parameter.numel()
    for module in model.modules():
        if getattr(module, "keep_frozen", False):
            module.keep_frozen = False
    return count


def make_scheduler(settings, optimizer):
    """The per-epoch learning-rate schedule in `settings`, or None."""
    if settings["schedule"] == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, settings["step_size"], settings["gamma"])
    if settings["schedule"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, settings["epochs"]))
    return None


def precision(device, amp):
    """(autocast dtype or None, GradScaler or None): bf16 on CUDA where supported, else fp16."""
    if device.type != "cuda" or not amp:
        return None, None
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler("cuda")
