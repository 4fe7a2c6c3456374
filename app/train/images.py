"""How image files become the model's input: one description and one transform built from it.

The description (`image_spec`, kept as the `image` entry of preprocess.json) says how a run
read its images; `image_transform` turns it into torchvision's transform. The image folder
source, `predict` and the exported `preprocess()` all follow it, so a new image meets the
model as training's did. Without the project's pretrained preprocessing an image is
stretched to the Input's size (as before); with it, it is resized (one size: the shorter
side, as torchvision does), center-cropped to the Input's size, then made 0..1 values.
"""

from __future__ import annotations

from torchcanvas.app.train.bundle import DataError


def image_spec(input_shape, pipeline: dict | None = None) -> dict:
    """How images are read for an Input of (C, H, W): plain JSON values.

    DataError when the project's center crop is not the Input's height and width.
    """
    channels, height, width = (int(d) for d in input_shape)
    spec: dict = {"channels": channels, "size": [height, width]}
    if pipeline is None:
        return spec
    crop = [int(d) for d in pipeline["crop"]]
    crop = crop * 2 if len(crop) == 1 else crop
    if crop != [height, width]:
        raise DataError(
            f"the project's preprocessing ({_weights_name(pipeline)}) center-crops images "
            f"to {crop[0]}x{crop[1]} but the Input takes {channels}x{height}x{width}; set the "
            f"Input's shape to [{channels}, {crop[0]}, {crop[1]}]."
        )
    spec.update(
        resize=[int(d) for d in pipeline["resize"]],
        crop=crop,
        interpolation=str(pipeline.get("interpolation", "bilinear")),
        weights=str(pipeline.get("weights", "")),
    )
    return spec


def _weights_name(pipeline: dict) -> str:
    return pipeline.get("weights") or "pretrained weights"


def _rgb(image):
    """A PIL image as RGB (a module-level function: streamed sets pickle their transform)."""
    return image.convert("RGB")


def image_transform(spec: dict):
    """A loaded PIL image -> a (C, H, W) float tensor of 0..1, as `spec` says."""
    from torchvision import transforms
    from torchvision.transforms import InterpolationMode

    convert = transforms.Grayscale(1) if spec["channels"] == 1 else transforms.Lambda(_rgb)
    if "resize" in spec:
        resize = spec["resize"]
        size = resize[0] if len(resize) == 1 else list(resize)  # one size: the shorter side
        mode = InterpolationMode(spec["interpolation"])
        steps = [transforms.Resize(size, interpolation=mode), transforms.CenterCrop(spec["crop"])]
    else:
        steps = [transforms.Resize(tuple(spec["size"]))]  # stretched to the Input's size
    return transforms.Compose([convert, *steps, transforms.ToTensor()])


def describe(spec: dict) -> str:
    """A line on how images were read, for preprocess.json's `raw`."""
    height, width = spec["size"]
    if "resize" not in spec:
        return f"pixel values 0..255, channels first, stretched to {height}x{width}"
    sizes = "x".join(map(str, spec["resize"]))
    return (
        f"pixel values 0..255, channels first, resized to {sizes} ({spec['interpolation']}) "
        f"and center-cropped to {height}x{width}"
    )


def stats_problem(settings: dict, pipeline: dict | None) -> str | None:
    """Why `normalize_from` cannot be honored for this source and project, or None."""
    if not settings.get("normalize", True) or settings.get("normalize_from") != "weights":
        return None
    if pipeline is None:
        return (
            "normalize_from is weights, but the project has no pretrained preprocessing "
            "(import a model with --pretrained to get one); set normalize_from to data."
        )
    from torchcanvas.app.train.preprocess import FILE_SOURCES

    if settings["data"] in FILE_SOURCES:
        return (
            f"normalize_from weights applies to image sources, not {settings['data']} files; "
            f"set normalize_from to data."
        )
    return None


def weights_stats(settings: dict, pipeline: dict | None, input_shape) -> tuple | None:
    """The project's (mean, std) when settings ask for them, else None; DataError when they
    do not fit the Input's channels."""
    problem = stats_problem(settings, pipeline)
    if problem:
        raise DataError(problem)
    if not settings.get("normalize", True) or settings.get("normalize_from") != "weights":
        return None
    mean, std = [float(v) for v in pipeline["mean"]], [float(v) for v in pipeline["std"]]
    channels = int(input_shape[0]) if len(input_shape) == 3 else 1
    if len(mean) not in (1, channels) or len(std) != len(mean):
        raise DataError(
            f"the project's preprocessing has {len(mean)} mean values and the Input "
            f"{channels} channel(s); set normalize_from to data, or give the Input "
            f"{len(mean)} channels."
        )
    return mean, std
