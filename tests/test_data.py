"""Data sources, on files written in the real on-disk formats."""

from __future__ import annotations

import pytest
import torch

from tests.datafiles import write_cifar10, write_image_folder, write_mnist
from torchcanvas.app.train.data import DataError, augment_batch, check_classes, load_data
from torchcanvas.graph.settings import default_training


def settings(**overrides) -> dict:
    values = default_training()
    values.update(overrides)
    return values


def test_digits_is_the_offline_default():
    bundle = load_data(settings(), (1, 8, 8))
    assert bundle.name == "digits" and bundle.num_classes == 10 and bundle.in_memory
    assert bundle.train_size + bundle.val_size == 1797
    assert abs(float(bundle.train_x.mean())) < 1e-3  # normalized with train statistics
    again = load_data(settings(), (1, 8, 8))
    assert torch.equal(again.val_y, bundle.val_y)  # the seeded split is fixed


@pytest.mark.parametrize("source, folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_files_load(tmp_path, source, folder):
    write_mnist(tmp_path, folder)
    bundle = load_data(settings(data=source, data_root=str(tmp_path), val_split=0.25), (1, 28, 28))
    assert bundle.sample_shape == (1, 28, 28)
    assert (bundle.train_size, bundle.val_size) == (45, 15)
    test = load_data(settings(data=source, data_root=str(tmp_path)), (1, 28, 28), "test")
    assert test.train_size == 30


def test_missing_mnist_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError) as caught:
        load_data(settings(data="mnist", data_root=str(tmp_path)), (1, 28, 28))
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message and "Download" in message


def test_cifar10_batches_load(tmp_path, monkeypatch):
    from torchvision.datasets import CIFAR10

    write_cifar10(tmp_path)
    # The fixture's batches cannot match the real files' checksums.
    monkeypatch.setattr(CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda *a, **k: True)
    bundle = load_data(settings(data="cifar10", data_root=str(tmp_path)), (3, 32, 32))
    assert bundle.sample_shape == (3, 32, 32) and bundle.train_size + bundle.val_size == 100
    assert bundle.class_names[0] == "plane"


def test_image_folder_is_resized_and_converted(tmp_path):
    root = write_image_folder(tmp_path / "pets")
    bundle = load_data(
        settings(data="image_folder", data_root=str(root), val_split=0.5), (1, 12, 10)
    )
    assert bundle.class_names == ["cat", "dog", "fox"]
    assert bundle.train_x.shape[1:] == (1, 12, 10) and bundle.train_size == 9
    rgb = load_data(settings(data="image_folder", data_root=str(root)), (3, 16, 16))
    assert rgb.train_x.shape[1:] == (3, 16, 16)


def test_missing_image_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_data(settings(data="image_folder", data_root=str(tmp_path / "nope")), (3, 8, 8))


def test_misfit_data_is_refused_with_both_shapes():
    with pytest.raises(DataError) as caught:
        load_data(settings(), (1, 28, 28))
    assert "samples are 1x8x8 but the Input expects 1x28x28" in str(caught.value)
    bundle = load_data(settings(), (1, 8, 8))
    with pytest.raises(DataError, match="outputs 5 values per sample but digits .* 10 classes"):
        check_classes(bundle, (5,), "CrossEntropyLoss")


@pytest.mark.slow
def test_synthetic_and_augmentation():
    bundle = load_data(settings(data="synthetic"), (3, 16, 16))
    assert bundle.train_x.shape[1:] == (3, 16, 16)
    batch = bundle.train_x[:8]
    moved = augment_batch(batch, torch.Generator().manual_seed(0))
    assert moved.shape == batch.shape and not torch.equal(moved, batch)
    vectors = load_data(settings(data="synthetic"), (20,))
    assert vectors.train_x.shape[1:] == (20,)


def test_fit_problem_needs_no_loading(tmp_path):
    from torchcanvas.app.train.data import fit_problem

    assert fit_problem(settings(), (1, 8, 8), (10,)) is None
    assert "Input expects 1x28x28" in fit_problem(settings(), (1, 28, 28), (10,))
    assert "has 10 classes" in fit_problem(settings(data="mnist"), (1, 28, 28), (4,))
    assert "choose an image folder" in fit_problem(settings(data="image_folder"), (3, 8, 8), (2,))
    root = write_image_folder(tmp_path / "pets")
    folder = settings(data="image_folder", data_root=str(root))
    assert fit_problem(folder, (3, 8, 8), (3,)) is None
    assert "has 3 classes" in fit_problem(folder, (3, 8, 8), (2,))
