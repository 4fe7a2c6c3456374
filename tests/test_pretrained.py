"""`import --pretrained`: torchvision's weights from the hub cache, loaded with weights_only."""

from __future__ import annotations

import json
import socket

import pytest
import torch
import torchvision

from tests.conftest import EXAMPLES
from torchcanvas.app import pretrained
from torchcanvas.app.__main__ import main
from torchcanvas.app.train.job import TrainingRefused, job_from_project
from torchcanvas.codegen.build import compile_model
from torchcanvas.graph.project import (
    ProjectError,
    load_project,
    loads_project,
    project_to_dict,
)

RESNET18_FILE = "resnet18-f37072fd.pth"  # ResNet18_Weights.IMAGENET1K_V1's url
SQUEEZENET_FILE = "squeezenet1_1-b8a52dc0.pth"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch hub cache under a temporary TORCH_HOME, and no download attempts."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv(pretrained.OFFLINE_ENV, "1")
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def place(hub, builder, name: str) -> dict:
    """A seeded random state_dict of `builder()` saved in the cache as `name`."""
    torch.manual_seed(7)
    state = builder().state_dict()
    torch.save(state, hub / name)
    return state


def test_the_file_name_is_the_basename_of_the_weights_url(hub):
    chosen = pretrained.choose("resnet18", "IMAGENET1K_V1")
    assert chosen.file == hub / RESNET18_FILE
    assert chosen.name == "ResNet18_Weights.IMAGENET1K_V1"
    assert pretrained.choose("resnet18").weights is chosen.weights  # DEFAULT
    assert pretrained.available_weights("resnet18") == ["DEFAULT", "IMAGENET1K_V1"]
    assert pretrained.available_weights("no_such_model") == []


def input_shapes(project) -> list[tuple[int, ...]]:
    analysis = project.model.analysis()
    return [tuple(analysis.meta(node).per_sample) for node in analysis.inputs]


@pytest.mark.slow
def test_pretrained_resnet18_imports_those_exact_tensors(hub, tmp_path, capsys):
    state = place(hub, torchvision.models.resnet18, RESNET18_FILE)
    out = tmp_path / "p.json"
    code = main(["import", "torchvision.models:resnet18", "--pretrained", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    written = torch.load(tmp_path / "p.pt", weights_only=True)
    assert written.keys() == state.keys()
    assert all(torch.equal(written[key], value) for key, value in state.items())
    project = load_project(out)
    cls, _ = compile_model(project.model)
    cls().load_state_dict(written, strict=True)
    assert input_shapes(project) == [(3, 224, 224)]
    assert len(project.classes) == 1000 and project.classes[0] == "tench"
    assert project.preprocess["crop"] == [224] and project.preprocess["resize"] == [256]
    assert project.preprocess["mean"] == [0.485, 0.456, 0.406]
    assert project.training["weights_file"] == "p.pt"


def test_an_explicit_input_shape_wins(hub, tmp_path, capsys):
    state = place(hub, torchvision.models.squeezenet1_1, SQUEEZENET_FILE)
    out = tmp_path / "s.json"
    argv = ["import", "torchvision.models:squeezenet1_1", "--pretrained", "IMAGENET1K_V1"]
    code = main([*argv, "--input-shape", "3x64x64", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    assert input_shapes(load_project(out)) == [(3, 64, 64)]
    written = torch.load(tmp_path / "s.pt", weights_only=True)
    assert all(torch.equal(written[key], value) for key, value in state.items())


def refused(argv: list[str], tmp_path, capsys) -> str:
    """Run the import; it must exit 2 having written nothing; its message."""
    out = tmp_path / "out" / "p.json"
    out.parent.mkdir()
    assert main([*argv, "-o", str(out)]) == 2
    assert list(out.parent.iterdir()) == []
    return capsys.readouterr().err


def test_an_absent_file_names_the_file_and_the_folder(hub, tmp_path, capsys):
    message = refused(["import", "torchvision.models:resnet18", "--pretrained"], tmp_path, capsys)
    assert RESNET18_FILE in message and str(hub) in message
    assert message.count("\n") == 1  # one message


def test_without_network_the_download_fails_fast(hub, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(pretrained.OFFLINE_ENV)

    def unreachable(*args, **kwargs):
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    message = refused(["import", "torchvision.models:resnet18", "--pretrained"], tmp_path, capsys)
    assert "no network" in message and RESNET18_FILE in message
    assert socket.getdefaulttimeout() is None  # put back


def test_a_name_lookup_that_stalls_does_not_hold_the_import(hub, monkeypatch):
    import time

    monkeypatch.setattr(pretrained, "CONNECT_SECONDS", 0.05)

    def stall(*args, **kwargs):
        time.sleep(3)
        raise OSError("too late")

    monkeypatch.setattr(socket, "create_connection", stall)
    start = time.perf_counter()
    assert "does not answer" in pretrained._unreachable("download.pytorch.org")
    assert time.perf_counter() - start < 2.5


def test_a_weights_name_that_does_not_exist_lists_the_available(hub, tmp_path, capsys):
    argv = ["import", "torchvision.models:resnet18", "--pretrained", "IMAGENET9K"]
    message = refused(argv, tmp_path, capsys)
    assert "IMAGENET9K" in message and "available: DEFAULT, IMAGENET1K_V1" in message


def test_a_model_without_weights_is_refused(hub, tmp_path, capsys):
    argv = ["import", "torchvision.models:no_such_net", "--pretrained"]
    assert "no pretrained weights for no_such_net" in refused(argv, tmp_path, capsys)


def test_pretrained_takes_only_torchvision_models(hub, tmp_path, capsys):
    argv = ["import", "model.py:Net", "--pretrained", "--input-shape", "4"]
    assert "--pretrained takes torchvision.models:NAME" in refused(argv, tmp_path, capsys)


def test_a_different_num_classes_is_refused(hub, tmp_path, capsys):
    place(hub, torchvision.models.squeezenet1_1, SQUEEZENET_FILE)
    argv = ["import", "torchvision.models:squeezenet1_1", "--pretrained"]
    message = refused([*argv, "--args", '{"num_classes": 3}'], tmp_path, capsys)
    assert "1000 classes" in message


def test_a_file_that_does_not_fit_is_refused(hub, tmp_path, capsys):
    torch.save({"weight": torch.zeros(2)}, hub / SQUEEZENET_FILE)
    argv = ["import", "torchvision.models:squeezenet1_1", "--pretrained"]
    assert "does not fit the model" in refused(argv, tmp_path, capsys)


def example() -> dict:
    return json.loads((EXAMPLES / "digit_classifier.json").read_text())


def test_old_files_load_unchanged_and_the_new_keys_round_trip():
    project = loads_project(json.dumps(example()))
    assert project.preprocess is None and project.classes is None
    assert "preprocess" not in project_to_dict(project)
    assert "weights_file" not in project_to_dict(project)["training"]
    document = example()
    document["classes"] = [str(i) for i in range(10)]
    document["preprocess"] = {"resize": [32], "crop": [28], "mean": [0.5], "std": [0.25]}
    document["training"]["weights_file"] = "start.pt"
    again = project_to_dict(loads_project(json.dumps(document)))
    assert again["classes"] == document["classes"]
    assert again["preprocess"] == document["preprocess"]
    assert again["training"]["weights_file"] == "start.pt"


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("classes", "cat", "classes: expected a list"),
        ("preprocess", {"resize": [0], "crop": [1], "mean": [0], "std": [1]}, "resize"),
        ("preprocess", {"resize": [1], "crop": [1], "mean": [0], "std": [0]}, "std must be > 0"),
        ("preprocess", {"size": 3}, "unknown key 'size'"),
    ],
)
def test_bad_preprocess_or_classes_are_refused(key, value, words):
    document = example()
    document[key] = value
    with pytest.raises(ProjectError, match=words):
        loads_project(json.dumps(document))


def test_training_starts_from_the_projects_weights_file(tmp_path):
    project = loads_project(json.dumps(example()))
    project.training["weights_file"] = str(tmp_path / "start.pt")
    with pytest.raises(TrainingRefused, match="start.pt .weights_file. are missing"):
        job_from_project(project, str(tmp_path / "run"))
    (tmp_path / "start.pt").write_bytes(b"")
    job = job_from_project(project, str(tmp_path / "run"))
    assert job.weights == str(tmp_path / "start.pt") and job.partial
    explicit = job_from_project(project, str(tmp_path / "run"), weights="other.pt")
    assert explicit.weights == "other.pt" and not explicit.partial


def test_train_says_when_the_projects_weights_file_is_missing(tmp_path, capsys):
    document = example()
    document["training"]["weights_file"] = "gone.pt"
    (tmp_path / "p.json").write_text(json.dumps(document))
    assert main(["train", str(tmp_path / "p.json"), "--out", str(tmp_path / "run")]) == 2
    message = capsys.readouterr().err
    assert str(tmp_path / "gone.pt") in message and "weights_file" in message
    assert not (tmp_path / "run").exists()


def test_the_editor_keeps_the_pipeline_and_classes_through_open_and_save(tmp_path):
    from torchcanvas.app.editing.document import Document

    document = example()
    document["classes"] = [str(i) for i in range(10)]
    document["preprocess"] = {"resize": [32], "crop": [28], "mean": [0.5], "std": [0.25]}
    (tmp_path / "p.json").write_text(json.dumps(document))
    editor = Document(home=tmp_path / "home")
    editor.open(tmp_path / "p.json")
    editor.save(tmp_path / "again.json")
    again = load_project(tmp_path / "again.json")
    assert again.classes == document["classes"] and again.preprocess == document["preprocess"]
    editor.new()
    assert editor.project.classes is None and editor.project.preprocess is None


@pytest.mark.slow
def test_googlenet_matches_torchvisions_pretrained_model_with_its_own_normalization(hub):
    torch.manual_seed(1)
    state = torchvision.models.googlenet(init_weights=False).state_dict()  # aux heads too
    torch.save(state, hub / "googlenet-1378be20.pth")
    chosen = pretrained.choose("googlenet")
    arguments = pretrained.builder_arguments("googlenet", chosen, {})
    ours = torchvision.models.googlenet(**arguments)
    pretrained.load_into(ours, chosen)
    theirs = torchvision.models.googlenet(transform_input=True, init_weights=False)
    theirs.load_state_dict(state)  # then as torchvision's builder: the aux heads go
    theirs.aux_logits, theirs.aux1, theirs.aux2 = False, None, None
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    image = torch.rand(2, 3, 64, 64)
    imagenet = torchvision.transforms.functional.normalize(
        image, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    )
    preprocess = chosen.preprocess
    own = torchvision.transforms.functional.normalize(image, preprocess["mean"], preprocess["std"])
    with torch.no_grad():
        assert torch.allclose(ours.eval()(own), theirs.eval()(imagenet), atol=1e-4)


@pytest.mark.slow
def test_densenet_files_with_old_key_names_load_as_torchvision_renames_them(hub):
    torch.manual_seed(2)
    state = torchvision.models.densenet121().state_dict()
    old = {key.replace(".norm1.", ".norm.1.").replace(".conv2.", ".conv.2."): value
           for key, value in state.items() if "num_batches" not in key}  # fmt: skip
    assert old.keys() != state.keys()
    torch.save(old, hub / "densenet121-a639ec97.pth")
    module = torchvision.models.densenet121()
    pretrained.load_into(module, pretrained.choose("densenet121"))
    assert all(torch.equal(module.state_dict()[key], value) for key, value in state.items())
    # a file from before batch norm counted batches: the counts start at 0, as torch does
