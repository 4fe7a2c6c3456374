"""Write the fine-tuning example's images and its starting checkpoint, offline.

Run `python assets/examples/data/make_shapes.py` (about a minute on two CPU cores). It writes
  shapes/train/{circle,square,triangle}/*.png and shapes/val/...   the user's own images
  shapes_start.pt   a ResNet-18 state_dict that stands in for ImageNet weights
No ImageNet weights can be had offline, so the starting checkpoint is made the way
pretrained weights are: ResNet-18 trained on a different task, five other kinds of shapes
(ring, cross, star, diamond, hexagon). Fine-tuning then replaces its head with a 3-class
Linear, freezes everything before the head and trains the head on circles, squares and
triangles: `torchcanvas train assets/examples/finetune_resnet18.json`.
Everything is seeded: the same images and the same checkpoint on every run.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
from pathlib import Path

HERE = Path(__file__).parent
SIZE = 64
CLASSES = ("circle", "square", "triangle")
PRETEXT = ("ring", "cross", "star", "diamond", "hexagon")
PER_CLASS = {"train": 100, "val": 30}


def random_colors(rng: random.Random) -> tuple[tuple, tuple]:
    """A light background and a saturated shape color, never too close to each other."""
    background = tuple(rng.randint(170, 255) for _ in range(3))
    hue = rng.random()
    waves = (0.5 + 0.5 * math.cos(2 * math.pi * (hue + k / 3)) for k in range(3))
    shape = tuple(int(255 * wave) // 2 for wave in waves)
    return background, shape


def draw(kind: str, rng: random.Random):
    """One SIZE×SIZE RGB image of a `kind` shape at a random place, size, angle and color."""
    from PIL import Image, ImageDraw

    background, color = random_colors(rng)
    image = Image.new("RGB", (SIZE, SIZE), background)
    pen = ImageDraw.Draw(image)
    radius = rng.uniform(10, 22)
    cx = rng.uniform(radius + 2, SIZE - radius - 2)
    cy = rng.uniform(radius + 2, SIZE - radius - 2)
    angle = rng.uniform(0, 360)
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    if kind == "circle":
        pen.ellipse(box, fill=color)
    elif kind == "ring":
        pen.ellipse(box, outline=color, width=max(3, int(radius / 3)))
    elif kind in ("square", "triangle", "diamond", "hexagon"):
        sides = {"square": 4, "triangle": 3, "diamond": 4, "hexagon": 6}[kind]
        stretch = 0.6 if kind == "diamond" else 1.0
        points = [
            (
                cx + radius * math.cos(math.radians(angle + 360 * k / sides)) * stretch,
                cy + radius * math.sin(math.radians(angle + 360 * k / sides)),
            )
            for k in range(sides)
        ]
        pen.polygon(points, fill=color)
    elif kind == "star":
        points = [
            (
                cx + r * math.cos(math.radians(angle + 36 * k)),
                cy + r * math.sin(math.radians(angle + 36 * k)),
            )
            for k, r in ((k, radius if k % 2 == 0 else radius * 0.45) for k in range(10))
        ]
        pen.polygon(points, fill=color)
    elif kind == "cross":
        arm = radius / 3
        pen.rectangle((cx - radius, cy - arm, cx + radius, cy + arm), fill=color)
        pen.rectangle((cx - arm, cy - radius, cx + arm, cy + radius), fill=color)
    else:
        raise ValueError(kind)
    return image


def write_images(folder: Path, seed: int = 0) -> int:
    """The image folder in torchvision's train/ + val/ layout; returns the number written."""
    if folder.exists():
        shutil.rmtree(folder)
    rng = random.Random(seed)
    count = 0
    for split, per_class in PER_CLASS.items():
        for kind in CLASSES:
            target = folder / split / kind
            target.mkdir(parents=True)
            for index in range(per_class):
                draw(kind, rng).save(target / f"{kind}_{index:03d}.png")
                count += 1
    return count


def pretext_tensors(count: int, seed: int):
    """(x, y): `count` images of the five pretext shapes as a float tensor of 0..1."""
    import torch
    from torchvision.transforms.functional import pil_to_tensor

    rng = random.Random(seed)
    labels = [index % len(PRETEXT) for index in range(count)]
    images = [pil_to_tensor(draw(PRETEXT[label], rng)) for label in labels]
    return torch.stack(images).float() / 255.0, torch.tensor(labels)


def starting_checkpoint(path: Path, steps: int = 240, seed: int = 0) -> float:
    """Train torchvision's ResNet-18 on the pretext shapes and save its state_dict; returns
    the pretext accuracy on held-out images."""
    import torch
    from torchvision.models import resnet18

    torch.manual_seed(seed)
    model = resnet18(num_classes=len(PRETEXT))
    x, y = pretext_tensors(1200, seed)
    mean, std = x.mean((0, 2, 3), keepdim=True), x.std((0, 2, 3), keepdim=True)
    x = (x - mean) / std
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        batch = torch.randint(0, 1000, (32,), generator=generator)
        loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x[1000:]).argmax(1) == y[1000:]).float().mean().item()
    torch.save(model.state_dict(), path)
    return accuracy


def main() -> None:
    """Write the images and, unless --images-only, the starting checkpoint."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images-only", action="store_true", help="skip the checkpoint")
    args = parser.parse_args()
    written = write_images(HERE / "shapes")
    print(f"wrote {written} images to {HERE / 'shapes'}")
    if not args.images_only:
        accuracy = starting_checkpoint(HERE / "shapes_start.pt")
        print(f"wrote {HERE / 'shapes_start.pt'} (pretext accuracy {accuracy:.1%})")


if __name__ == "__main__":
    main()
