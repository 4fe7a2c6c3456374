"""The text of the standalone training script, in parts: one data loader per source and the
loop every script shares. `codegen/script.py` fills in the constants and joins them."""

from __future__ import annotations

IMPORTS = [
    "import argparse",
    "import csv",
    "import os",
    "import time",
    "from pathlib import Path",
    "",
    "import numpy as np",
    "import torch",
    "import torch.distributed as dist",
    "import torchvision",
    "from torch import nn",
    "from torch.nn.parallel import DistributedDataParallel",
    "from torch.utils.data import DataLoader, DistributedSampler, TensorDataset",
]

# Each loader returns (inputs, targets): a list of tensors in forward()'s order, and a tensor.
LOADERS = {
    "digits": '''
def load_samples(path):
    """scikit-learn's 8x8 digits: images (N, 1, 8, 8) scaled to 0..1, and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
    return [images / SCALE], torch.tensor(digits.target)
''',
    "torchvision": '''
def load_samples(path):
    """The torchvision training set in `path` (downloaded with --download), scaled to 0..1."""
    data = DATASET(path, train=True, download=ARGS.download)
    images = torch.as_tensor(data.data)
    images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
    return [images.float() / SCALE], torch.as_tensor(data.targets)
''',
    "csv": '''
def load_samples(path):
    """The table's FEATURES columns as the input and its TARGETS columns as the targets."""
    with open(path, newline="", encoding="utf-8-sig") as file:
        rows = [
            row
            for row in csv.DictReader(file, delimiter=DELIMITER)
            if any(row.values())
        ]
    x = torch.tensor([[float(row[c]) for c in FEATURES] for row in rows])
    x = x.reshape(len(rows), *INPUT_SHAPES[0])
    if TASK == "regression":
        return [x], torch.tensor([[float(row[c]) for c in TARGETS] for row in rows])
    index = {name: i for i, name in enumerate(CLASSES)}
    return [x], torch.tensor([index[class_name(row[TARGETS[0]])] for row in rows])


def class_name(cell):
    """A label cell as the class names are written: 3.0 -> "3", text as it is."""
    try:
        return str(int(float(cell)))
    except ValueError:
        return cell.strip()
''',
    "npz": '''
def load_samples(path):
    """One array per Input (INPUT_ARRAYS) and the TARGETS arrays, from an .npz archive,
    an .npy file with its targets beside it, or a folder of .npy files."""
    arrays = read_arrays(Path(path))
    inputs = []
    for name, shape, dtype in zip(INPUT_ARRAYS, INPUT_SHAPES, INPUT_DTYPES):
        values = torch.as_tensor(arrays[name])
        inputs.append(values.reshape(len(values), *shape).to(getattr(torch, dtype)))
    if TASK == "regression":
        count = len(inputs[0])
        parts = [torch.as_tensor(arrays[name]).reshape(count, -1) for name in TARGETS]
        return inputs, torch.cat(parts, 1).float()
    labels = arrays[TARGETS[0]].reshape(-1)
    if labels.dtype.kind in "US":
        index = {name: i for i, name in enumerate(CLASSES)}
        return inputs, torch.tensor([index[str(v)] for v in labels])
    return inputs, torch.as_tensor(labels.astype(np.int64))


def read_arrays(path):
    """name -> array; never unpickles."""
    if path.is_dir():
        return {
            p.stem: np.load(p, allow_pickle=False) for p in sorted(path.glob("*.npy"))
        }
    if path.suffix.lower() == ".npy":
        arrays = {"x": np.load(path, allow_pickle=False)}
        for name in TARGETS:
            arrays[name] = np.load(path.with_name(f"{name}.npy"), allow_pickle=False)
        return arrays
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
''',
}

SHARED = '''
def split(count, fraction, seed):
    """The seeded train/validation split TorchCanvas makes: (train, validation) indices."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    held = min(count - 1, round(count * fraction)) if fraction > 0 else 0
    return order[held:], order[:held]


def statistics(x, layout):
    """Mean and std of training samples along the axis they are standardized by."""
    if layout == "channel":  # (N, C, ...): per channel
        flat = x.transpose(0, 1).reshape(x.shape[1], -1).T
    elif layout == "feature":  # (N, F) or (N, L, F): per column, the last axis
        flat = x.reshape(-1, x.shape[-1])
    else:  # one value for all
        flat = x.reshape(-1, 1)
    flat = flat.double()
    return flat.mean(0).float(), flat.std(0).clamp_min(1e-6).float()


def standardize(x, mean, std, layout):
    """(x - mean) / std, broadcast along the layout's axis."""
    if layout == "channel":
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - mean.view(shape)) / std.view(shape)
    return (x - mean) / std


def datasets(path, val_split, seed):
    """Training and validation TensorDatasets, standardized with the training statistics."""
    inputs, targets = load_samples(path)
    train, val = split(len(targets), val_split, seed)
    train_parts, val_parts = [], []
    for x, layout in zip(inputs, LAYOUTS):
        if layout != "none":
            mean, std = statistics(x[train], layout)
            x = standardize(x, mean, std, layout)
        train_parts.append(x[train])
        val_parts.append(x[val])
    return TensorDataset(*train_parts, targets[train]), TensorDataset(
        *val_parts, targets[val]
    )


def loss_targets(targets, classes):
    """Class labels as one-hot rows for losses that compare with a vector."""
    if TASK == "classification" and LOSS not in ("CrossEntropyLoss", "NLLLoss"):
        return nn.functional.one_hot(targets, classes).float()
    return targets


def train_one_epoch(model, loader, loss_fn, optimizer, scaler, amp_dtype):
    """One pass over this process's share of the training data; returns the mean loss."""
    device = next(model.parameters()).device
    model.train()
    total, seen = torch.zeros((), device=device), 0
    for *inputs, targets in loader:
        inputs = [x.to(device, non_blocking=True) for x in inputs]
        targets = targets.to(device, non_blocking=True)
        with torch.autocast(
            device.type, dtype=amp_dtype, enabled=amp_dtype is not None
        ):
            output = model(*inputs)
            loss = loss_fn(output.float(), loss_targets(targets, output.shape[-1]))
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        total += loss.detach() * len(targets)
        seen += len(targets)
    return float(total) / max(seen, 1)


@torch.no_grad()
def evaluate(model, loader, loss_fn, device):
    """Validation loss and accuracy (classification) or MSE, MAE and R² (regression)."""
    model.eval()
    outputs, labels = [], []
    for *inputs, targets in loader:
        outputs.append(model(*[x.to(device) for x in inputs]).float().cpu())
        labels.append(targets)
    output, targets = torch.cat(outputs), torch.cat(labels)
    scores = {"loss": float(loss_fn(output, loss_targets(targets, output.shape[-1])))}
    if TASK == "classification":
        scores["accuracy"] = float((output.argmax(1) == targets).float().mean())
    else:
        error = (output - targets.reshape(output.shape)).reshape(len(output), -1)
        truth = targets.reshape(len(output), -1)
        spread = ((truth - truth.mean(0)) ** 2).sum(0).clamp_min(1e-12)
        scores["mse"] = float((error**2).mean())
        scores["mae"] = float(error.abs().mean())
        scores["r2"] = float((1 - (error**2).sum(0) / spread).mean())
    return scores


def make_optimizer(parameters, lr):
    """The optimizer of the design's training settings."""
    if OPTIMIZER in ("SGD", "RMSprop"):
        optimizer = getattr(torch.optim, OPTIMIZER)
        return optimizer(
            parameters, lr=lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY
        )
    return getattr(torch.optim, OPTIMIZER)(parameters, lr=lr, weight_decay=WEIGHT_DECAY)


def make_scheduler(optimizer, epochs):
    """The per-epoch learning-rate schedule, or None."""
    if SCHEDULE == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, epochs))
    if SCHEDULE == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, STEP_SIZE, GAMMA)
    return None


def start_processes(choice):
    """(device, rank, world size): one process, or one of torchrun's (NCCL on GPUs, gloo on
    the CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available() and choice != "cpu"
    if choice == "cuda" and not cuda:
        raise SystemExit("--device cuda: no CUDA device is available")
    if world == 1:
        return torch.device("cuda" if cuda else "cpu"), 0, 1
    dist.init_process_group("nccl" if cuda else "gloo")
    if not cuda:
        return torch.device("cpu"), dist.get_rank(), world
    local = int(os.environ["LOCAL_RANK"])
    torch.cuda.set_device(local)
    return torch.device("cuda", local), dist.get_rank(), world


def precision(device, amp):
    """(autocast dtype or None, gradient scaler): bf16 on CUDA where supported, else fp16."""
    if device.type != "cuda" or not amp:
        return None, torch.amp.GradScaler(enabled=False)
    if torch.cuda.is_bf16_supported():
        return torch.bfloat16, torch.amp.GradScaler(enabled=False)
    return torch.float16, torch.amp.GradScaler("cuda")


def save(state, path):
    """torch.save through a temporary file, so a killed run never leaves half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)
'''

MAIN_PART = '''
def loaders(train_set, val_set, rank, world):
    """(training loader, validation loader, sampler, this process's samples per epoch)."""
    sampler = None
    if world > 1:  # each process trains on its own share of every epoch
        sampler = DistributedSampler(train_set, world, rank, seed=ARGS.seed)
    share = len(sampler) if sampler is not None else len(train_set)
    lone = share % ARGS.batch_size == 1  # a batch of one breaks batch norm in training
    options = {"sampler": sampler, "shuffle": sampler is None, "drop_last": lone}
    loader = DataLoader(train_set, ARGS.batch_size, **options)
    return loader, DataLoader(val_set, max(ARGS.batch_size, 256)), sampler, share


def main():
    """Train; after every epoch rank 0 validates and saves model.pt and checkpoint.pt."""
    device, rank, world = start_processes(ARGS.device)
    torch.manual_seed(ARGS.seed)
    train_set, val_set = datasets(ARGS.data, VAL_SPLIT, ARGS.seed)
    loader, val_loader, sampler, share = loaders(train_set, val_set, rank, world)
    print(f"rank {rank}/{world}: {share} of {len(train_set)} samples per epoch")
    model = MODEL_CLASS().to(device)
    trained = DistributedDataParallel(model) if world > 1 else model
    loss_fn = getattr(nn, LOSS)()
    optimizer = make_optimizer(model.parameters(), ARGS.lr)
    scheduler = make_scheduler(optimizer, ARGS.epochs)
    amp_dtype, scaler = precision(device, ARGS.amp)
    for epoch in range(ARGS.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        start = time.perf_counter()
        loss = train_one_epoch(trained, loader, loss_fn, optimizer, scaler, amp_dtype)
        rate = share * world / (time.perf_counter() - start)
        if scheduler is not None:
            scheduler.step()
        if rank == 0:
            report(epoch, loss, evaluate(model, val_loader, loss_fn, device), rate)
            checkpoint(model, optimizer, scheduler, epoch + 1)
        if world > 1:
            dist.barrier()
    if world > 1:
        dist.destroy_process_group()


def checkpoint(model, optimizer, scheduler, epoch):
    """model.pt (the weights alone) and checkpoint.pt (with the optimizer) in ARGS.out."""
    out = Path(ARGS.out)
    out.mkdir(parents=True, exist_ok=True)
    save(model.state_dict(), out / "model.pt")
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    save({**state, "epoch": epoch}, out / "checkpoint.pt")


def report(epoch, loss, scores, rate):
    """One line per epoch: the training loss, the validation metrics and samples/s."""
    metrics = "  ".join(f"val {name} {value:.4f}" for name, value in scores.items())
    print(
        f"epoch {epoch + 1}/{ARGS.epochs}  loss {loss:.4f}  {metrics}  {rate:.0f} samples/s"
    )


if __name__ == "__main__":
    ARGS = arguments()
    main()
'''
