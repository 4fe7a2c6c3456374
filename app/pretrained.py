"""torchvision's pretrained weights, read from the torch hub cache with weights_only=True.

torchvision's own path (`weights.get_state_dict`) calls `torch.hub.load_state_dict_from_url`,
which unpickles without `weights_only`. Here the model is built without weights, the file
`$TORCH_HOME/hub/checkpoints/<basename of weights.url>` is found (downloaded first when the
machine is online) and read like every other weights file, then loaded with strict=True.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from torchcanvas.app.importing import SourceError

PREFIX = "torchvision.models:"
# DenseNet files keep the keys of old layer names (norm.1); torchvision renames them (norm1).
_DENSENET_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)
OFFLINE_ENV = "TORCHCANVAS_OFFLINE"  # set to 1: never try to download (tests, air-gapped)
CONNECT_SECONDS = 3.0  # an unreachable host must not hold the import


@dataclass
class Pretrained:
    """Chosen weights: the enum member, its full name, its preprocessing and class names."""

    weights: object  # a torchvision WeightsEnum member
    name: str  # e.g. ResNet18_Weights.IMAGENET1K_V1
    preprocess: dict
    classes: list[str] | None
    drop_aux: bool = False  # GoogLeNet, Inception: the file has auxiliary heads not wanted
    model: str = ""  # the builder's name

    @property
    def file(self) -> Path:
        """Where torchvision's cache keeps this file."""
        return cache_folder() / Path(urlparse(self.weights.url).path).name

    def input_shape(self) -> tuple[int, int, int]:
        """The per-sample shape the weights expect: 3 x crop height x crop width."""
        crop = self.preprocess["crop"]
        return (3, crop[0], crop[-1])


def cache_folder() -> Path:
    """$TORCH_HOME/hub/checkpoints, where torchvision keeps downloaded weights."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def model_name(source: str) -> str:
    """`torchvision.models:resnet18` -> resnet18; SourceError for any other source."""
    if not source.startswith(PREFIX):
        raise SourceError(f"--pretrained takes {PREFIX}NAME, not {source!r:.60}")
    return source[len(PREFIX) :]


def weights_enum(model: str):
    """The WeightsEnum class torchvision has for `model`; SourceError when it has none."""
    from torchvision.models import get_model_weights

    try:
        return get_model_weights(model)
    except (ValueError, KeyError, TypeError) as error:
        raise SourceError(f"torchvision has no pretrained weights for {model} ({error})") from None


def available_weights(model: str) -> list[str]:
    """The weights names for `model`, DEFAULT first; [] when torchvision has none."""
    try:
        enum = weights_enum(model)
    except SourceError:
        return []
    return ["DEFAULT", *(name for name in enum.__members__ if name != "DEFAULT")]


def choose(model: str, name: str | None = None) -> Pretrained:
    """The weights `name` (default DEFAULT) of `model`; SourceError lists the choices."""
    enum = weights_enum(model)
    name = (name or "DEFAULT").removeprefix(enum.__name__ + ".")
    if name not in enum.__members__:
        known = ", ".join(available_weights(model))
        raise SourceError(f"{model} has no weights {name!r:.60}; available: {known}")
    weights = enum[name]
    classes = weights.meta.get("categories")
    preprocess = preprocess_of(weights)
    return Pretrained(weights, str(weights), preprocess, classes and list(classes), model=model)


def preprocess_of(weights) -> dict:
    """resize, crop, mean, std and interpolation of `weights.transforms()`."""
    transform = weights.transforms()
    if not all(hasattr(transform, key) for key in ("crop_size", "resize_size", "mean", "std")):
        raise SourceError(f"{weights}: not image classification weights; cannot import them")
    interpolation = getattr(transform, "interpolation", None)
    return {
        "weights": str(weights),
        "resize": [int(size) for size in transform.resize_size],
        "crop": [int(size) for size in transform.crop_size],
        "mean": [float(value) for value in transform.mean],
        "std": [float(value) for value in transform.std],
        "interpolation": getattr(interpolation, "value", "bilinear"),
    }


def builder_arguments(model: str, chosen: Pretrained, arguments: dict) -> dict:
    """The constructor arguments, with what torchvision's builder sets itself for weights
    (the built model must have the pretrained one's structure and behavior)."""
    arguments = dict(arguments)
    classes = len(chosen.classes or ())
    if classes and arguments.get("num_classes", classes) != classes:
        raise SourceError(
            f"the weights have {classes} classes; leave num_classes out with --pretrained "
            f"and replace the head after importing"
        )
    if model in ("googlenet", "inception_v3"):
        arguments.setdefault("init_weights", False)  # as torchvision's builder: no slow init
        chosen.drop_aux = not arguments.get("aux_logits", False)
        arguments["aux_logits"] = True  # the file holds the auxiliary heads; dropped after
        if not arguments.get("transform_input"):
            # torchvision sets transform_input=True: forward re-normalizes ImageNet-normalized
            # input to mean 0.5, std 0.5. Normalizing so from the start is the same, and the
            # traced graph stays free of those constant multiplications.
            chosen.preprocess.update(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
    if model.startswith("vit_") and "min_size" in chosen.weights.meta:
        arguments.setdefault("image_size", chosen.weights.meta["min_size"][0])
    return arguments


def fetch(chosen: Pretrained) -> Path:
    """The weights file in the cache, downloaded first when absent and the network answers;
    SourceError naming the file and the folder to put it in when it cannot be had."""
    path = chosen.file
    if path.is_file():
        return path
    reason = _download(chosen.weights.url, path)
    if path.is_file():
        return path
    raise SourceError(
        f"the weights file {path.name} is not in {path.parent} and cannot be downloaded "
        f"({reason}); download {chosen.weights.url} on a machine that is online and put "
        f"it in {path.parent}"
    )


def _download(url: str, path: Path) -> str:
    """Try to download `url` to `path`; why it failed (the file is absent then)."""
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        return f"{OFFLINE_ENV} is set"
    unreachable = _unreachable(urlparse(url).hostname or "")
    if unreachable:
        return unreachable
    import torch

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(CONNECT_SECONDS)  # urlopen inside torch.hub has no timeout
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        match = torch.hub.HASH_REGEX.search(path.name)
        torch.hub.download_url_to_file(url, str(path), match and match.group(1), progress=False)
        return ""
    except (OSError, RuntimeError) as error:  # URLError is an OSError; a bad hash RuntimeError
        return f"the download failed: {error}"[:200]
    finally:
        socket.setdefaulttimeout(previous)


def _unreachable(host: str) -> str:
    """Why `host` cannot be reached, or "" when it answers; bounded even when name lookup
    stalls (getaddrinfo takes no timeout, so it runs on a thread that may be left behind)."""
    answer: list[str] = []

    def probe() -> None:
        try:
            socket.create_connection((host, 443), timeout=CONNECT_SECONDS).close()
            answer.append("")
        except OSError as error:
            answer.append(f"no network: {error}"[:200])

    thread = threading.Thread(target=probe, name="torchcanvas-probe", daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS + 1)
    return answer[0] if answer else f"no network: {host} does not answer"


def load_into(module, chosen: Pretrained) -> None:
    """Load the weights file (weights_only=True) into `module` with strict=True."""
    from torchcanvas.app.train.weights import WeightsError, as_state_dict, safe_load

    path = fetch(chosen)
    try:
        state = as_state_dict(safe_load(path), path.name)
        if chosen.model.startswith("densenet"):
            state = _densenet_keys(state)
        module.load_state_dict(_with_batch_counts(module, state), strict=True)
    except (WeightsError, RuntimeError) as error:
        raise SourceError(f"{path}: does not fit the model: {str(error)[:400]}") from None
    if chosen.drop_aux:  # as torchvision does when aux_logits was not asked for
        module.aux_logits = False
        for name in ("aux1", "aux2", "AuxLogits"):
            if hasattr(module, name):
                setattr(module, name, None)


def _densenet_keys(state: dict) -> dict:
    """The state with DenseNet's old key names renamed as torchvision's builder does."""
    renamed = {}
    for key, value in state.items():
        match = _DENSENET_KEY.match(key)
        renamed[match.group(1) + match.group(2) if match else key] = value
    return renamed


def _with_batch_counts(module, state: dict) -> dict:
    """Files saved before batch norm counted its batches lack num_batches_tracked; torch
    fills in 0 for them from the file's version metadata, which a plain dict no longer has."""
    import torch

    missing = [
        key
        for key in module.state_dict()
        if key.endswith(".num_batches_tracked") and key not in state
    ]
    return {**state, **{key: torch.tensor(0, dtype=torch.long) for key in missing}}
