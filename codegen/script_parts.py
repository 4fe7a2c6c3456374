"""The text of the standalone training script's own parts: one data loader per source and the
driver (flags, the in-memory batches, the run folder, main). The split, standardization,
loop, tasks and records come from app/train/core, whose source the script carries."""

from __future__ import annotations

# Each loader returns (inputs, targets): a list of tensors in forward()'s order, and a tensor
# of class indices (CLASSES named) or of real values (no CLASSES).
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
        rows = [row for row in csv.DictReader(file, delimiter=DELIMITER) if any(row.values())]
    x = torch.tensor([[float(row[c]) for c in FEATURES] for row in rows])
    x = x.reshape(len(rows), *INPUT_SHAPES[0])
    if not CLASSES:  # real-valued targets
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
    if not CLASSES:  # real-valued targets, side by side (one shaped target as it is)
        count = len(inputs[0])
        if len(TARGETS) == 1 and arrays[TARGETS[0]].ndim > 2:
            return inputs, torch.as_tensor(arrays[TARGETS[0]].astype(np.float32))
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
        return {p.stem: np.load(p, allow_pickle=False) for p in sorted(path.glob("*.npy"))}
    if path.suffix.lower() == ".npy":
        arrays = {"x": np.load(path, allow_pickle=False)}
        for name in TARGETS:
            arrays[name] = np.load(path.with_name(f"{name}.npy"), allow_pickle=False)
        return arrays
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}
''',
}

DRIVER = '''
def arguments():
    """Command-line flags; their defaults are the design's training settings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA_PATH, help="the data file or folder")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--batch-size", type=int, default=SETTINGS["batch_size"])
    parser.add_argument("--lr", type=float, default=SETTINGS["lr"])
    parser.add_argument("--seed", type=int, default=SETTINGS["seed"])
    parser.add_argument("--out", default=OUT, help="the run folder written after each epoch")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=SETTINGS["amp"])
    parser.add_argument("--download", action="store_true", help="download torchvision data")
    parser.add_argument(
        "--weights", help="a state_dict or checkpoint to start from (default: weights_file)"
    )
    parser.add_argument("--partial", action="store_true", help="load the --weights that fit")
    parser.add_argument(
        "--unfreeze-epoch",
        type=int,
        default=SETTINGS.get("unfreeze_epoch", 0),
        help="the epoch (from 1) at whose start the frozen layers train (0: never)",
    )
    return parser.parse_args()


def fail(message):
    """One line on stderr and exit status 2, as TorchCanvas's commands end on bad input."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def start_file():
    """(the weights file to start from, whether it must fit exactly), or (None, False):
    --weights (exactly, unless --partial), else the project's starting weights (the
    tensors that fit, so a replaced head starts afresh). A missing file ends the run."""
    path, strict = ARGS.weights, not ARGS.partial
    if not path:
        path, strict = SETTINGS.get("weights_file") or None, False
    if path and not os.path.isfile(path):
        named = "--weights" if ARGS.weights else "the project's starting weights (weights_file)"
        fail(f"{named} {path}: no such file; put it back or pass --weights with another")
    return path, strict


def load_start(model, path, strict):
    """Load the starting weights into `model` with torch.load(weights_only=True), which
    never runs code from the file; returns what fitted."""
    # A damaged file raises one of these; one holding more than tensors, UnpicklingError.
    try:
        state = state_in(torch.load(path, map_location="cpu", weights_only=True))
    except (OSError, EOFError, RuntimeError, pickle.UnpicklingError) as error:
        fail(f"{path}: not a loadable weights file ({type(error).__name__})")
    if state is None:
        fail(f"{path}: not a state_dict; save one with torch.save(model.state_dict(), path)")
    found = match_tensors(model.state_dict(), state)
    matched, missing, unexpected, mismatched = found
    if not matched or (strict and (missing or unexpected or mismatched)):
        advice = "pass --partial to load the tensors that fit" if matched else "names differ"
        fail(f"{path} does not fit the model ({match_summary(*found)}); {advice}")
    model.load_state_dict({key: state[name] for key, name in matched.items()}, strict=False)
    return f"started from {path}: {match_summary(*found)}"


def datasets(path, settings):
    """(train x, train y, val x, val y) and each Input's (mean, std): the seeded split and
    the training split's standardization, as TorchCanvas makes them."""
    inputs, targets = load_samples(path)
    train, val = split_indices(len(targets), settings["val_split"], settings["seed"])
    train_x, val_x, stats = [], [], []
    for x in inputs:
        x_train, x_val = x[train], x[val]
        mean, std = [], []
        if settings["normalize"]:
            mean, std = file_stats(x_train) if FILE_SOURCE else channel_stats(x_train)
            scale = standardized if FILE_SOURCE else normalize
            x_train, x_val = scale(x_train, mean, std), scale(x_val, mean, std)
        train_x.append(x_train.contiguous())
        val_x.append(x_val.contiguous())
        stats.append((mean, std))
    return (train_x, targets[train], val_x, targets[val]), stats


class Batches:
    """In-memory batches as TorchCanvas feeds them: a seeded shuffle each epoch (this
    process's share of it under torchrun), augmented when asked; validation in order."""

    def __init__(self, samples, settings, device, rank, world):
        train_x, train_y, val_x, val_y = samples
        self.train_x, self.train_y = [x.to(device) for x in train_x], train_y.to(device)
        self.val_x, self.val_y = [x.to(device) for x in val_x], val_y.to(device)
        self.settings, self.device, self.rank, self.world = settings, device, rank, world
        self.generator = torch.Generator(device=device).manual_seed(settings["seed"])
        self.val_size = len(val_y)

    def train(self):
        """One epoch of shuffled training batches."""
        count, size = len(self.train_y), self.settings["batch_size"]
        for index in epoch_order(count, size, self.generator, self.device, self.rank, self.world):
            x = pick(self.train_x, index)
            if self.settings["augment"] and len(x) == 1:
                x = [augment_batch(x[0], self.generator)]
            yield x, self.train_y[index]

    def val(self):
        """The validation batches, in order."""
        return ordered_batches(self.val_x, self.val_y, max(self.settings["batch_size"], 256))


class Report(Callback):
    """Rank 0 prints each epoch: the training loss, the validation scores and samples/s."""

    def __init__(self, settings, world):
        self.epochs, self.world = settings["epochs"], world

    def on_epoch_end(self, epoch, row, val):
        scores = [
            f"val {'accuracy' if name == 'acc' else name} {value:.4f}"
            for name, value in val.items()
            if isinstance(value, float)
        ]
        rate = row["samples_per_s"] * self.world
        line = "  ".join([f"loss {row['train_loss']:.4f}", *scores, f"{rate:.0f} samples/s"])
        print(f"epoch {epoch + 1}/{self.epochs}  {line}", flush=True)


class RunFolder(Callback):
    """Rank 0 commits the run as TorchCanvas does (the first epoch, then every few seconds,
    and the last): model.pt, checkpoint.pt, metrics.csv, preprocess.json and the
    manifest.json that names them."""

    def __init__(self, model, optimizer, scheduler, task, settings, stats):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.task, self.settings, self.history = task, settings, []
        self.record = preprocess_record(stats)
        self.schedule = CommitSchedule()
        os.makedirs(ARGS.out, exist_ok=True)

    def on_epoch_end(self, epoch, row, val):
        self.history.append(row)
        if self.schedule.due(final=epoch + 1 == self.settings["epochs"]):
            self.commit(epoch)

    def commit(self, epoch):
        """Write the files of `epoch` and the manifest that names them, as one step."""
        state = checkpoint_state(
            self.model, self.optimizer, self.scheduler, epoch + 1, self.settings,
            GRAPH_HASH, self.history,
        )
        state["preprocess"] = self.record
        blobs = {
            "model": state_bytes(cpu_state(self.model)),
            "checkpoint": state_bytes(state),
            "metrics": metrics_bytes(self.history, self.task.columns),
            "preprocess": (json.dumps(self.record, indent=1) + "\\n").encode(),
        }
        commit_epoch(ARGS.out, epoch + 1, blobs)
        self.schedule.done()


class Barrier(Callback):
    """Every process waits for rank 0's save before the next epoch."""

    def on_epoch_end(self, epoch, row, val):
        dist.barrier()


class Unfrozen:
    """Rank 0 says when the frozen layers start training."""

    def __init__(self, rank):
        self.rank = rank

    def __call__(self, epoch, count):
        if self.rank == 0:
            print(f"epoch {epoch}: the frozen layers train from now on ({count:,} parameters)")


def replicated(model, unfreeze_epoch):
    """DistributedDataParallel over the model. DDP syncs the gradients of the parameters
    that take them when it is made: with frozen layers that train later, those are made
    to take them for a moment, and found unused (left without gradients) until then."""
    frozen = [p for p in model.parameters() if not p.requires_grad] if unfreeze_epoch else []
    if not frozen:
        return DistributedDataParallel(model)
    for parameter in frozen:
        parameter.requires_grad_(True)
    replica = DistributedDataParallel(model, find_unused_parameters=True)
    for parameter in frozen:
        parameter.requires_grad_(False)
    return replica


def preprocess_record(stats):
    """preprocess.json: what the inputs went through, with this run's statistics."""
    record = json.loads(json.dumps(PREPROCESS))
    record["data_path"] = ARGS.data or None
    for entry, (mean, std) in zip(record["inputs"], stats):
        entry["mean"], entry["std"] = list(mean), list(std)
    return record


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


def main():
    """Train with TorchCanvas's loop; rank 0 commits the run folder every few seconds."""
    settings = {**SETTINGS, "epochs": ARGS.epochs, "batch_size": ARGS.batch_size}
    settings.update(lr=ARGS.lr, seed=ARGS.seed, amp=ARGS.amp, unfreeze_epoch=ARGS.unfreeze_epoch)
    weights, strict = start_file()  # a missing file is said before any work
    device, rank, world = start_processes(ARGS.device)
    torch.manual_seed(settings["seed"])
    samples, stats = datasets(ARGS.data, settings)
    feed = Batches(samples, settings, device, rank, world)
    share = len(feed.train_y) // world
    print(f"rank {rank}/{world}: {share} of {len(feed.train_y)} samples per epoch")
    model = build_model(MODEL_CLASS, settings["seed"], device)
    if weights:
        loaded = load_start(model, weights, strict)
        if rank == 0:
            print(loaded, flush=True)
    trained = replicated(model, settings["unfreeze_epoch"]) if world > 1 else model
    task = TASK_TYPES[settings["task"]](len(CLASSES))
    optimizer = make_optimizer(settings, model)
    scheduler = make_scheduler(settings, optimizer)
    amp, scaler = precision(device, settings["amp"])
    callbacks = [Report(settings, world)] if rank == 0 else []
    if rank == 0:
        callbacks.append(RunFolder(model, optimizer, scheduler, task, settings, stats))
    if world > 1:
        callbacks.append(Barrier())
    callbacks.append(Unfreeze(model, settings["unfreeze_epoch"], Unfrozen(rank)))
    loss_fn = make_loss(settings["loss"])
    fit(model, feed, task, loss_fn, optimizer, scheduler, settings["epochs"], 0, callbacks,
        step_model=trained, amp=amp, scaler=scaler)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    ARGS = arguments()
    main()
'''
