"""The offline fine-tuning example: its image set, its starting checkpoint, and a run that
trains the head only (compared with the checkpoint tensor by tensor)."""

from __future__ import annotations

import importlib.util
import shutil

import pytest
import torch

from tests.conftest import EXAMPLES
from torchcanvas.app.train.bundle import resolve_data_path
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.graph.project import load_project

pytestmark = pytest.mark.slow


def make_shapes():
    """assets/examples/data/make_shapes.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "make_shapes", EXAMPLES / "data" / "make_shapes.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_image_set_is_a_seeded_train_val_layout_of_three_classes(tmp_path):
    shapes = make_shapes()
    assert shapes.write_images(tmp_path / "a") == 390
    shapes.write_images(tmp_path / "b")
    for split in ("train", "val"):
        assert sorted(p.name for p in (tmp_path / "a" / split).iterdir()) == list(shapes.CLASSES)
    first = tmp_path / "a" / "train" / "circle" / "circle_000.png"
    assert (
        first.read_bytes() == (tmp_path / "b" / "train" / "circle" / "circle_000.png").read_bytes()
    )
    from PIL import Image

    with Image.open(first) as image:
        assert image.size == (64, 64) and image.mode == "RGB"


def test_the_example_trains_only_the_head_from_its_starting_checkpoint(tmp_path):
    """Starting weights of another head (5 pretext classes): everything but fc loads, every
    frozen tensor (batch-norm statistics too) ends as it started, and fc learns."""
    from torchvision.models import resnet18

    shapes = make_shapes()
    folder = tmp_path / "example"
    (folder / "data").mkdir(parents=True)
    shutil.copy(EXAMPLES / "finetune_resnet18.json", folder)
    shapes.write_images(folder / "data" / "shapes")
    torch.manual_seed(0)
    start = resnet18(num_classes=len(shapes.PRETEXT)).state_dict()  # stands in for the pretext run
    torch.save(start, folder / "data" / "shapes_start.pt")
    project = load_project(folder / "finetune_resnet18.json")
    project.training = resolve_data_path(project.training, folder)
    project.training.update(epochs=1, device="cpu")
    final = Trainer(job_from_project(project, str(tmp_path / "run")), lambda e: None).run()
    assert final["type"] == "finished", final.get("reason")
    trained = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    backbone = [key for key in trained if not key.startswith("fc.")]
    assert backbone and all(torch.equal(trained[k], start[k]) for k in backbone)
    assert trained["fc.weight"].shape == (3, 512)
