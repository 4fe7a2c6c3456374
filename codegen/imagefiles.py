"""The image-file part of an exported `preprocess()`: a run's `image` entry (how training read
its image files, app/train/images) written as torchvision's transform and a `read_image()`.

The transform is written as app/train/images.image_transform builds it, step by step, so an
image file meets the exported model as it met training. Only checked ints and a known
interpolation name reach the source.
"""

from __future__ import annotations

from torchcanvas.codegen.emit import CodegenError
from torchcanvas.codegen.pyformat import INDENT

IMPORTS = ["from PIL import Image", "from torchvision import transforms"]
NAMES = {"IMAGE_TRANSFORM", "read_image", "Image", "transforms"}
READ_DOC = "An image file path (or a PIL image) -> (1, C, H, W) values 0..1, as in training."
MODES = {
    "nearest": "NEAREST",
    "nearest-exact": "NEAREST_EXACT",
    "bilinear": "BILINEAR",
    "bicubic": "BICUBIC",
}


def with_imports(source: list[str]) -> list[str]:
    """The module's lines with PIL's and torchvision's imports in its third-party block,
    sorted as isort sorts it (plain imports first, then by module, ignoring case)."""
    start = end = source.index("import torch")
    while source[end].startswith(("import ", "from ")):
        end += 1
    block = sorted(
        source[start:end] + IMPORTS,
        key=lambda line: (line.startswith("from "), line.split()[1].lower()),
    )
    return source[:start] + block + source[end:]


def transform_lines(image: dict) -> list[str]:
    """IMAGE_TRANSFORM = transforms.Compose([...]) and read_image(), from a run's `image`."""
    steps = ["transforms.Grayscale(1)"] if int(image["channels"]) == 1 else []
    height, width = (int(d) for d in image["size"])
    if "resize" in image:
        sizes = [int(d) for d in image["resize"]]
        size = str(sizes[0]) if len(sizes) == 1 else f"({sizes[0]}, {sizes[1]})"
        mode = MODES.get(image.get("interpolation"))
        if mode is None:
            raise CodegenError(["the run's image entry names an unknown interpolation"])
        steps.append(
            f"transforms.Resize({size}, interpolation=transforms.InterpolationMode.{mode})"
        )
        steps.append(f"transforms.CenterCrop(({height}, {width}))")
        how = f"resized to {'x'.join(map(str, sizes))}, center-cropped to {height}x{width}"
    else:
        steps.append(f"transforms.Resize(({height}, {width}))")
        how = f"stretched to {height}x{width}"
    steps.append("transforms.ToTensor()")
    return [
        "",
        f"# How training read each image file: RGB, {how}, values 0..1.",
        f"IMAGE_TRANSFORM = transforms.Compose([{', '.join(steps)}])",
        "",
        "",
        "def read_image(path):",
        f'{INDENT}"""{READ_DOC}"""',
        f"{INDENT}image = path if isinstance(path, Image.Image) else Image.open(path)",
        f'{INDENT}return IMAGE_TRANSFORM(image.convert("RGB")).unsqueeze(0)',
    ]


def read_lines(argument: str, scale: float) -> list[str]:
    """preprocess()'s first step: a path or PIL image is read, raw pixel values are scaled."""
    a, deeper = argument, INDENT * 2
    return [
        f'{INDENT}if isinstance({a}, (str, Image.Image)) or hasattr({a}, "__fspath__"):',
        f"{deeper}{a} = read_image({a})",
        f"{INDENT}else:",
        f"{deeper}{a} = torch.as_tensor({a}, dtype=torch.float32) / {float(scale)!r}",
    ]


def doc_text(image: dict) -> str:
    """What preprocess() takes for an image Input, for its docstring."""
    channels, (height, width) = int(image["channels"]), (int(d) for d in image["size"])
    return (
        f"an image file path or PIL image, read as in training, giving (1, {channels}, "
        f"{height}, {width}); or pixel values 0..255 (N, {channels}, {height}, {width}) "
        f"float32, divided by 255.0"
    )
