"""Image folders: a train/ + val/ layout, layouts that would be misread, unreadable images."""

from __future__ import annotations

import pytest
import torch

from tests.datafiles import write_image_folder
from tests.test_data import settings
from torchcanvas.app.train.data import DataError, fit_problem, load_data


def test_a_train_and_val_layout_is_its_own_split(tmp_path):
    write_image_folder(tmp_path / "pets" / "train", per_class=5)
    write_image_folder(tmp_path / "pets" / "val", per_class=2)
    values = settings(data="image_folder", data_root=str(tmp_path / "pets"), val_split=0.5)
    bundle = load_data(values, (3, 8, 8))
    assert bundle.class_names == ["cat", "dog", "fox"]
    assert (len(bundle.train_y), len(bundle.val_y)) == (15, 6)  # val/ is the validation split
    assert torch.equal(bundle.val_y, torch.tensor([0, 0, 1, 1, 2, 2]))
    assert fit_problem(values, (3, 8, 8), (3,)) is None  # three classes, not "train" and "val"


def test_train_and_val_folders_read_as_classes_are_refused(tmp_path):
    write_image_folder(tmp_path / "pets", classes=("train", "val", "cat"), per_class=2)
    (tmp_path / "pets" / "val").rename(tmp_path / "pets" / "test")
    values = settings(data="image_folder", data_root=str(tmp_path / "pets"))
    with pytest.raises(DataError, match="would be read as classes"):
        load_data(values, (3, 8, 8))


def test_train_and_val_with_different_classes_are_refused(tmp_path):
    write_image_folder(tmp_path / "pets" / "train", per_class=2)
    write_image_folder(tmp_path / "pets" / "val", classes=("cat", "dog", "owl"), per_class=2)
    values = settings(data="image_folder", data_root=str(tmp_path / "pets"))
    with pytest.raises(DataError, match="fox, owl in one only"):
        load_data(values, (3, 8, 8))


def test_a_corrupt_image_is_named(tmp_path):
    root = write_image_folder(tmp_path / "pets", per_class=3)
    broken = root / "dog" / "1.png"
    broken.write_bytes(broken.read_bytes()[:40])  # truncated
    with pytest.raises(DataError, match=r"dog/1\.png: not a readable image"):
        load_data(settings(data="image_folder", data_root=str(root)), (3, 8, 8))


def test_a_streamed_folder_reads_images_as_the_in_memory_one_does(tmp_path, monkeypatch):
    from tests.test_image_pipeline import PIPELINE
    from torchcanvas.app.train import sources

    root = write_image_folder(tmp_path / "pets", per_class=3)
    values = settings(data="image_folder", data_root=str(root), normalize_from="weights")
    memory = load_data(values, (3, 8, 8), pipeline=PIPELINE)
    monkeypatch.setattr(sources, "IN_MEMORY_LIMIT", 1)  # too large for memory: streamed
    streamed = load_data(values, (3, 8, 8), pipeline=PIPELINE)
    assert not streamed.in_memory and streamed.mean == PIPELINE["mean"]
    items = torch.stack([x for x, _ in streamed.train_set])
    assert torch.equal(items, memory.train_x)  # resized, center-cropped, the weights' stats
    assert streamed.preprocess["image"] == memory.preprocess["image"]
