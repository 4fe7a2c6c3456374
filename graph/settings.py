"""Training settings stored in the project, described with the same Param specs as layers."""

from __future__ import annotations

from typing import Any

from torchcanvas.graph.params import BOOL, CHOICE, FLOAT, INT, NAMES, STR, Param, ParamError

DATA_SOURCES = (
    "digits",
    "mnist",
    "fashion_mnist",
    "cifar10",
    "image_folder",
    "synthetic",
    "csv",
    "npz",
)
LOSSES = (
    "CrossEntropyLoss",
    "NLLLoss",
    "MSELoss",
    "BCEWithLogitsLoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
)
TASKS = ("classification", "regression")
REGRESSION_LOSSES = ("MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss")
DEFAULT_LOSS = {"classification": "CrossEntropyLoss", "regression": "MSELoss"}
OPTIMIZERS = ("Adam", "AdamW", "SGD", "RMSprop")
SCHEDULES = ("none", "step", "cosine")
DEVICES = ("auto", "cpu", "cuda", "mps")
# torchvision.transforms.v2 ops for an image folder's training batches (app/train/augment)
AUGMENT_OPS = ("random_resized_crop", "horizontal_flip", "color_jitter", "rotation")
NORMALIZE_FROM = ("data", "weights")
# Left out of the project file while at their defaults, so files from before keep their bytes
OMITTED_AT_DEFAULT = ("weights_file", "augment_ops", "normalize_from", "unfreeze_epoch")

TRAINING_PARAMS: tuple[Param, ...] = (
    Param(
        "task",
        CHOICE,
        "Classification (class labels) or regression (real-valued targets).",
        "classification",
        choices=TASKS,
    ),
    Param("data", CHOICE, "Data set to train on.", "digits", choices=DATA_SOURCES),
    Param(
        "data_path",
        STR,
        "CSV/TSV file (csv), or .npz, .npy or folder of .npy (npz); relative: to the project.",
        "",
    ),
    Param(
        "targets",
        NAMES,
        "Target columns (csv) or arrays (npz); empty: the last column, or y.",
        (),
        optional=True,
    ),
    Param("features", NAMES, "Input columns (csv); empty: all but the targets.", (), optional=True),
    Param(
        "weights_file",
        STR,
        "Weights to start training from (empty: initialize afresh); relative: to the project.",
        "",
    ),
    Param(
        "data_root",
        STR,
        "Folder of the data set (empty: ~/.torchcanvas/data); relative: to the project.",
        "",
    ),
    Param("download", BOOL, "Download MNIST, Fashion-MNIST or CIFAR-10 if missing.", False),
    Param(
        "val_split",
        FLOAT,
        "Fraction of the training data held out for validation.",
        0.2,
        minimum=0.0,
        maximum=0.9,
    ),
    Param("normalize", BOOL, "Standardize inputs with the data set's mean and std.", True),
    Param(
        "normalize_from",
        CHOICE,
        "Where normalize's mean and std come from: the training split (data), or the "
        "project's pretrained preprocessing (weights).",
        "data",
        choices=NORMALIZE_FROM,
    ),
    Param(
        "augment",
        BOOL,
        "Random crop with padding and horizontal flip (image folders: augment_ops, if any).",
        False,
    ),
    Param(
        "augment_ops",
        NAMES,
        "Image folders: the torchvision ops augment applies instead of crop + flip.",
        (),
        choices=AUGMENT_OPS,
    ),
    Param("loss", CHOICE, "Loss function.", "CrossEntropyLoss", choices=LOSSES),
    Param("optimizer", CHOICE, "Optimizer.", "Adam", choices=OPTIMIZERS),
    Param("lr", FLOAT, "Learning rate.", 0.001, minimum=1e-8, maximum=10.0),
    Param("momentum", FLOAT, "Momentum (SGD and RMSprop).", 0.9, minimum=0.0, maximum=1.0),
    Param("weight_decay", FLOAT, "L2 penalty.", 0.0, minimum=0.0, maximum=1.0),
    Param("batch_size", INT, "Samples per step.", 64, minimum=1, maximum=65536),
    Param("epochs", INT, "Passes over the training data.", 5, minimum=1, maximum=10000),
    Param(
        "unfreeze_epoch",
        INT,
        "Epoch (from 1) at whose start the frozen layers start training (0: never).",
        0,
        minimum=0,
        maximum=10000,
    ),
    Param("schedule", CHOICE, "Learning-rate schedule.", "none", choices=SCHEDULES),
    Param("step_size", INT, "Epochs between decays (step schedule).", 10, minimum=1, maximum=10000),
    Param("gamma", FLOAT, "Decay factor (step schedule).", 0.1, minimum=0.0, maximum=1.0),
    Param(
        "seed",
        INT,
        "Random seed for the split, initialization and shuffling.",
        0,
        minimum=0,
        maximum=2**31 - 1,
    ),
    Param(
        "device", CHOICE, "Where to train; auto picks CUDA when present.", "auto", choices=DEVICES
    ),
    Param("amp", BOOL, "Mixed precision on CUDA.", True),
    Param(
        "compile", BOOL, "torch.compile the model: a slower start, faster steps on a GPU.", False
    ),
)

TRAINING_INDEX = {p.name: p for p in TRAINING_PARAMS}


def default_training() -> dict[str, Any]:
    """Settings of a new project."""
    return {p.name: p.default for p in TRAINING_PARAMS}


def coerce_training(values: dict[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with `values`, each checked; raises ParamError naming the key."""
    settings = default_training()
    for key, value in values.items():
        if key not in TRAINING_INDEX:
            known = ", ".join(TRAINING_INDEX)
            raise ParamError(f"unknown training setting {key!r:.40} (known: {known})")
        settings[key] = TRAINING_INDEX[key].coerce(value)
    if "loss" not in values:  # an unset loss follows the task
        settings["loss"] = DEFAULT_LOSS[settings["task"]]
    return settings
