"""The image pipeline of image folders: the project's resize + center crop, augment_ops,
normalize_from, preprocess.json's `image` entry, and the exported `preprocess()` of an image
file, compared with torchvision applied by hand and with `predict`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from tests.datafiles import write_image_folder
from tests.test_data import settings
from torchcanvas.app.__main__ import main
from torchcanvas.app.train.data import DataError, fit_problem, load_data, split_indices
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.project import ProjectError, load_project, loads_project
from torchcanvas.graph.settings import coerce_training

PIPELINE = {
    "weights": "Tiny_Weights.V1",
    "resize": [10],
    "crop": [8],
    "mean": [0.485, 0.456, 0.406],
    "std": [0.229, 0.224, 0.225],
    "interpolation": "bilinear",
}
SHAPE = (3, 8, 8)
OPS = ["random_resized_crop", "horizontal_flip", "color_jitter", "rotation"]


def _files(root: Path) -> list[Path]:
    """The images in ImageFolder's order: classes sorted, then files sorted."""
    return [f for c in sorted(p for p in root.iterdir()) for f in sorted(c.glob("*.png"))]


def _by_hand(files, steps) -> torch.Tensor:
    """torchvision's own transforms applied to each file, as a user would write them."""
    from PIL import Image
    from torchvision import transforms

    compose = transforms.Compose(steps)
    return torch.stack([compose(Image.open(f).convert("RGB")) for f in files])


@pytest.fixture
def pets(tmp_path):
    return write_image_folder(tmp_path / "pets", per_class=4)  # 20 wide, 14.. high: not square


def test_resize_and_center_crop_read_images_as_torchvision_does(pets):
    from torchvision import transforms
    from torchvision.transforms import v2

    values = settings(data="image_folder", data_root=str(pets), val_split=0.0)
    values["normalize_from"] = "weights"
    bundle = load_data(values, SHAPE, pipeline=PIPELINE)
    mean, std = PIPELINE["mean"], PIPELINE["std"]
    files = _files(pets)
    steps = [transforms.Resize(10), transforms.CenterCrop(8), transforms.ToTensor()]
    expected = _by_hand(files, [*steps, transforms.Normalize(mean, std)])
    order, _ = split_indices(len(files), 0.0, values["seed"])
    assert bundle.train_x.shape == (len(files), *SHAPE)
    assert torch.equal(bundle.train_x, expected[order])  # the shorter side to 10, then 8x8
    assert (bundle.mean, bundle.std) == (mean, std)  # normalize_from: weights
    v2_steps = [v2.Resize(10), v2.CenterCrop(8), v2.ToImage(), v2.ToDtype(torch.float32, True)]
    with_v2 = _by_hand(files, [*v2_steps, v2.Normalize(mean, std)])
    torch.testing.assert_close(bundle.train_x, with_v2[order], rtol=0, atol=1e-6)
    stretched = _by_hand(files, [transforms.Resize((8, 8)), transforms.ToTensor()])
    assert not torch.allclose(bundle.train_x, transforms.Normalize(mean, std)(stretched[order]))


def test_without_preprocess_images_are_stretched_as_before(pets):
    from torchvision import transforms

    values = settings(data="image_folder", data_root=str(pets), val_split=0.0, normalize=False)
    bundle = load_data(values, SHAPE)
    order, _ = split_indices(len(_files(pets)), 0.0, values["seed"])
    expected = _by_hand(_files(pets), [transforms.Resize((8, 8)), transforms.ToTensor()])
    assert torch.equal(bundle.train_x, expected[order])
    record = bundle.preprocess
    assert record["image"] == {"channels": 3, "size": [8, 8]} and record["stats_from"] is None


def test_the_record_says_how_images_were_read_and_where_the_stats_came_from(pets):
    values = settings(data="image_folder", data_root=str(pets), normalize_from="weights")
    record = load_data(values, (1, 8, 8), pipeline={**PIPELINE, "mean": [0.5], "std": [0.25]})
    record = record.preprocess
    assert record["version"] == 2 and record["stats_from"] == "weights"
    assert record["image"] == {
        "channels": 1,
        "size": [8, 8],
        "resize": [10],
        "crop": [8, 8],
        "interpolation": "bilinear",
        "weights": "Tiny_Weights.V1",
    }
    assert record["inputs"][0]["mean"] == [0.5] and record["inputs"][0]["std"] == [0.25]
    data = load_data(settings(data="image_folder", data_root=str(pets)), SHAPE, pipeline=PIPELINE)
    assert data.preprocess["stats_from"] == "data"  # the training split's, as before
    assert data.mean != PIPELINE["mean"] and len(data.mean) == 3


def test_a_version_1_record_still_reads_and_stretches(pets):
    from torchcanvas.app.train.images import image_spec
    from torchcanvas.app.train.predict import image_of
    from torchcanvas.app.train.preprocess import PreprocessError, check_record

    record = load_data(settings(data="image_folder", data_root=str(pets)), SHAPE).preprocess
    old = {k: v for k, v in record.items() if k not in ("image", "stats_from")}
    old["version"] = 1
    assert check_record(old, "old.json") is old
    assert image_of(old) == image_spec(SHAPE) == {"channels": 3, "size": [8, 8]}
    for bad in ({"channels": 2, "size": [8, 8]}, {"channels": 3, "size": [8, "8"]}):
        with pytest.raises(PreprocessError, match="the image entry is not one this writes"):
            check_record({**record, "image": bad}, "bad.json")
    with pytest.raises(PreprocessError, match="version 3 is not one this reads"):
        check_record({**record, "version": 3}, "new.json")


def test_bad_values_are_one_message_each(pets):
    with pytest.raises(ParamError, match="augment_ops: 'blur' is not one of 'random_resized_crop'"):
        coerce_training({"augment_ops": ["horizontal_flip", "blur"]})
    with pytest.raises(ParamError, match="normalize_from must be one of 'data', 'weights'"):
        coerce_training({"normalize_from": "imagenet"})
    with pytest.raises(ProjectError, match="training: augment_ops: 'blur' is not one of"):
        loads_project(_small_cnn(training={"augment_ops": ["blur"]}))
    values = settings(data="image_folder", data_root=str(pets), normalize_from="weights")
    with pytest.raises(DataError, match="the project has no pretrained preprocessing"):
        load_data(values, SHAPE)
    assert "no pretrained preprocessing" in fit_problem(values, SHAPE, (3,))
    with pytest.raises(DataError, match="center-crops images to 8x8 but the Input takes 3x10x10"):
        load_data(
            settings(data="image_folder", data_root=str(pets)), (3, 10, 10), pipeline=PIPELINE
        )
    problem = fit_problem(
        settings(data="image_folder", data_root=str(pets)), (3, 9, 9), (3,), PIPELINE
    )
    assert problem.startswith("the project's preprocessing (Tiny_Weights.V1) center-crops")
    assert fit_problem(values, SHAPE, (3,), PIPELINE) is None


def _small_cnn(**changes) -> str:
    from tests.conftest import EXAMPLES

    data = json.loads((EXAMPLES / "small_cnn.json").read_text())
    data["training"].update(changes.pop("training", {}))
    return json.dumps({**data, **changes})


def test_augment_ops_are_per_sample_seeded_and_leave_the_global_state_alone():
    from torchcanvas.app.train.augment import Augmenter

    x = torch.rand(1, *SHAPE).expand(6, *SHAPE).contiguous()  # six copies of one image
    augmenter = Augmenter(OPS, (8, 8), PIPELINE["mean"], PIPELINE["std"])
    state = torch.get_rng_state()
    first = augmenter(x, torch.Generator().manual_seed(3))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(first, augmenter(x, torch.Generator().manual_seed(3)))  # same seed
    assert not torch.equal(first, augmenter(x, torch.Generator().manual_seed(4)))
    assert first.shape == x.shape and not torch.equal(first, x)
    assert len({tuple(sample.flatten().tolist()) for sample in first}) == 6  # per sample
    flip = Augmenter(["horizontal_flip"], (8, 8))(x, torch.Generator().manual_seed(0))
    assert all(torch.equal(s, x[0]) or torch.equal(s, x[0].flip(-1)) for s in flip)


def _project(tmp_path: Path, root: Path, shape=SHAPE, **training) -> Path:
    """A small CNN of a 3x8x8 Input (or `shape`) and 3 classes on the image folder, with
    PIPELINE."""
    from tests.conftest import EXAMPLES

    data = json.loads((EXAMPLES / "small_cnn.json").read_text())
    for node in data["nodes"]:
        if node["type"] == "Input":
            node["params"]["shape"] = list(shape)
        if node["type"] == "Linear":
            node["params"]["out_features"] = 3
    data["training"].update(data="image_folder", data_root=str(root), batch_size=4, **training)
    data["preprocess"] = PIPELINE
    path = tmp_path / f"pets{len(list(tmp_path.glob('pets*.json')))}.json"
    path.write_text(json.dumps(data))
    return path


def _trained(project: Path, out: Path) -> dict:
    argv = ["train", str(project), "--epochs", "1", "--device", "cpu", "--out", str(out)]
    assert main(argv) == 0
    return torch.load(out / "model.pt", weights_only=True)


@pytest.mark.slow
def test_training_with_augment_ops_repeats_for_one_seed_and_differs_without(pets, tmp_path, capsys):
    ops = _project(tmp_path, pets, augment=True, augment_ops=OPS, normalize_from="weights")
    plain = _project(tmp_path, pets, augment=False, augment_ops=OPS, normalize_from="weights")
    first = _trained(ops, tmp_path / "a")
    assert f"augment: {', '.join(OPS)}, per sample" in capsys.readouterr().out
    again = _trained(ops, tmp_path / "b")
    assert all(torch.equal(first[k], again[k]) for k in first)
    without = _trained(plain, tmp_path / "c")  # augment off: the ops wait unused
    assert not all(torch.equal(first[k], without[k]) for k in first)
    record = json.loads((tmp_path / "a" / "preprocess.json").read_text())
    assert record["inputs"][0]["mean"] == PIPELINE["mean"] and record["stats_from"] == "weights"


def _exported(project: Path, run: Path, folder: Path):
    path = folder / f"{project.stem}_export.py"
    assert main(["export", str(project), "-o", str(path), "--weights", str(run)]) == 0
    spec = importlib.util.spec_from_file_location(f"user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = getattr(module, load_project(project).model.name)()
    model.load_state_dict(torch.load(run / "model.pt", weights_only=True))
    return model.eval(), module, path


@pytest.mark.slow
def test_the_exported_preprocess_reads_an_image_file_as_training_did(pets, tmp_path, capsys):
    import subprocess
    import sys

    from PIL import Image

    from torchcanvas.app.train.predict import load_predictor, predict_files

    project = _project(tmp_path, pets, normalize_from="weights")
    run = tmp_path / "run"
    _trained(project, run)
    model, module, path = _exported(project, run, tmp_path)
    for tool in (["check"], ["format", "--check"]):
        ruff = [sys.executable, "-m", "ruff", *tool, "--isolated", str(path)]
        assert subprocess.run(ruff, capture_output=True).returncode == 0
    files = _files(pets)
    values = settings(data="image_folder", data_root=str(pets), val_split=0.0)
    bundle = load_data({**values, "normalize_from": "weights"}, SHAPE, pipeline=PIPELINE)
    order, _ = split_indices(len(files), 0.0, values["seed"])
    training = torch.empty_like(bundle.train_x)
    training[order] = bundle.train_x  # back in the files' order
    for index in (0, 5, len(files) - 1):
        mine = module.preprocess(files[index])
        assert mine.shape == (1, *SHAPE) and torch.equal(mine[0], training[index])
        assert torch.equal(module.preprocess(Image.open(files[index])), mine)
    chosen = [files[0], files[-1]]
    with torch.no_grad():
        expected = torch.softmax(model(torch.cat([module.preprocess(f) for f in chosen])), 1)
    predictions = predict_files(load_predictor(load_project(project), run), chosen, top=3)
    for prediction, p in zip(predictions, expected):
        for name, value in prediction.pairs:
            assert value == pytest.approx(float(p[module.CLASSES.index(name)]), abs=1e-6)
    capsys.readouterr()  # eval reads the folder as training did: the last epoch's accuracy
    assert main(["eval", str(project), "--weights", str(run), "--device", "cpu"]) == 0
    last = (run / "metrics.csv").read_text().splitlines()[-1].split(",")
    assert f"accuracy: {100 * float(last[4]):.2f}%" in capsys.readouterr().out


@pytest.mark.parametrize("channels, pipeline", [(1, None), (3, None), (3, PIPELINE)])
def test_every_image_pipeline_exports_a_ruff_clean_preprocess_of_the_same_tensor(
    pets, tmp_path, channels, pipeline
):
    import subprocess
    import sys

    from torchcanvas.app.train.core.data import normalize
    from torchcanvas.app.train.predict import image_of, read_image
    from torchcanvas.codegen.emit import emit_module
    from torchcanvas.codegen.preprocess import add_preprocess

    shape = (channels, 8, 8)
    project = load_project(_project(tmp_path, pets, shape))
    values = settings(data="image_folder", data_root=str(pets))
    record = load_data(values, shape, pipeline=pipeline).preprocess
    path = tmp_path / "exported.py"
    path.write_text(add_preprocess(emit_module(project.model), record))
    for tool in (["check"], ["format", "--check"]):
        ruff = [sys.executable, "-m", "ruff", *tool, "--isolated", str(path)]
        assert subprocess.run(ruff, capture_output=True).returncode == 0
    spec = importlib.util.spec_from_file_location(f"exported_{channels}_{bool(pipeline)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    image = _files(pets)[3]
    entry = record["inputs"][0]
    training = read_image(image, image_of(record)).unsqueeze(0)  # as the folder reads it
    assert torch.equal(module.preprocess(image), normalize(training, entry["mean"], entry["std"]))


def test_old_projects_keep_their_bytes_and_the_new_keys_round_trip(tmp_path):
    from tests.conftest import EXAMPLES
    from torchcanvas.graph.project import dumps_project

    text = (EXAMPLES / "small_cnn.json").read_text()
    project = loads_project(text)
    assert "augment_ops" not in dumps_project(project)
    assert "normalize_from" not in dumps_project(project)
    project.training.update(augment_ops=("horizontal_flip",), normalize_from="weights")
    again = loads_project(dumps_project(project))
    assert again.training["augment_ops"] == ("horizontal_flip",)
    assert again.training["normalize_from"] == "weights"


def test_the_training_script_refuses_stats_from_the_weights(tmp_path):
    from tests.conftest import EXAMPLES
    from torchcanvas.app.export_script import ScriptError, training_script

    project = load_project(EXAMPLES / "small_cnn.json")
    project.training["normalize_from"] = "weights"
    with pytest.raises(ScriptError, match="set normalize_from to data to write it"):
        training_script(project, tmp_path / "p.json")
