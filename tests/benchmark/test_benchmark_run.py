"""Running the engines: dataset arguments, methods, tiny local and deep runs, the fused hook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from photoid.benchmark.run import (
    BenchmarkOptions,
    command_line,
    parse_methods,
    run_dataset,
)
from photoid.benchmark.settings import local_settings
from photoid.benchmark.sources import BenchmarkDataset, resolve_dataset, synthetic_dataset
from photoid.demo import DemoSettings
from photoid.errors import PhotoidError
from photoid.evaluation import EvaluationResult
from photoid.evaluation.engine_run import evaluate
from photoid.local.config import LocalConfig

TINY = DemoSettings(individuals=4, images_per=4, size=64)
TINY_DEEP = (
    "backbone=test_resnet",
    "image_size=32",
    "embedding_size=8",
    "epochs=1",
    "images_per_identity=2",
    "workers=0",
)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def tiny(work: Path) -> BenchmarkDataset:
    return synthetic_dataset(work, TINY)


def test_methods_are_parsed_and_checked() -> None:
    assert parse_methods("local, deep") == ("local", "deep")
    for bad in ("local,sift", "", "local,local"):
        with pytest.raises(PhotoidError, match="--methods"):
            parse_methods(bad)


def test_command_line_repeats_the_runs() -> None:
    options = BenchmarkOptions(("local", "deep"), 2.5, ("epochs=3",))
    assert command_line(["LionData", "my data"], options) == (
        "photoid benchmark LionData 'my data' --methods local,deep --train-minutes 2.5 "
        "--set epochs=3"
    )
    assert command_line([], BenchmarkOptions(("local",))) == ("photoid benchmark --methods local")


def test_dataset_arguments(tmp_path: Path, tiny: BenchmarkDataset, monkeypatch: Any) -> None:
    assert tiny.name == "synthetic" and len(tiny.dataset) == 16
    folder = tiny.dataset.root
    by_path = resolve_dataset(str(folder), tmp_path)
    assert by_path.name == folder.name and len(by_path.dataset) == 16
    monkeypatch.setenv("PHOTOID_SHARED_DATASETS", str(folder.parent))
    by_name = resolve_dataset(folder.name, tmp_path)
    assert by_name.dataset.root == folder and by_name.note == f"shared dataset `{folder.name}`"
    with pytest.raises(PhotoidError, match="dataset 'Nope': neither"):
        resolve_dataset("Nope", tmp_path)


def test_synthetic_data_is_rendered_once(work: Path, tiny: BenchmarkDataset) -> None:
    csv = tiny.dataset.root / "metadata.csv"
    before = csv.stat().st_mtime_ns
    again = synthetic_dataset(work, TINY)
    assert again.dataset.root == tiny.dataset.root and csv.stat().st_mtime_ns == before
    assert "(the `make demo` data)" not in again.note


@pytest.mark.slow
def test_local_deep_and_fused_on_both_splits(
    work: Path, tiny: BenchmarkDataset, monkeypatch: Any
) -> None:
    calls: list[dict[str, Any]] = []

    def spy(dataset: Any, column: str, method: str, *args: Any, **kwargs: Any) -> EvaluationResult:
        if method == "fused":
            calls.append({"options": args[0], **kwargs})
        return evaluate(dataset, column, method, *args, **kwargs)

    monkeypatch.setattr("photoid.benchmark.run.evaluate", spy)
    seen: list[str] = []
    # Given out of order, the methods still run local, deep, fused, fused+deep.
    options = BenchmarkOptions(("fused+deep", "fused", "local", "deep"), 0.05, TINY_DEEP, TINY)
    records = run_dataset(
        tiny, work, options, on_result=lambda r: seen.append(f"{r.split}/{r.method}")
    )
    order = [f"{r.split}/{r.method}" for r in records]
    assert (
        order
        == seen
        == [
            "closed 20%/local",
            "closed 20%/deep",
            "closed 20%/fused",
            "closed 20%/fused+deep",
            "open 20%/local",
            "open 20%/deep",
            "open 20%/fused",
            "open 20%/fused+deep",
        ]
    )
    # Closed: 16 photos dealt over 5 folds from fold 0 on: 4 queries, 12 gallery photos.
    # Open: 1 of 4 individuals unseen; 12 photos of the others: 3 queries, 9 gallery; plus
    # round(3 / 4) = 1 photo of the unseen one. fused+deep leaves one photo of each gallery
    # individual (3 photos each: 20% rounds up to 1, two stay) out of its gallery to calibrate.
    for record in records:
        closed = record.split == "closed 20%"
        gallery = (12 if closed else 9) - (4 if closed else 3) * (record.method == "fused+deep")
        assert (record.summary["gallery"], record.summary["queries"]) == (gallery, 4)
        assert (record.summary["acc_new"] is None) == closed
    deep = [r for r in records if r.method == "deep"]
    assert all(r.train_seconds is not None and r.epochs == 1 for r in deep)
    # 4 individuals train on the closed split, 3 on the open one: the batch follows.
    assert deep[0].settings == ("max_minutes=0.05", *TINY_DEEP, "identities_per_batch=4")
    assert deep[1].settings == ("max_minutes=0.05", *TINY_DEEP, "identities_per_batch=3")
    assert (work / "deep" / "synthetic" / "open-20" / "checkpoints" / "last.ckpt").is_file()
    # fused+deep gets the deep run's checkpoint of the same split; the new-individual decision
    # is the default one: fitted on the open split (its unseen individual), never on the closed.
    models = [c["options"].models for c in calls]
    assert [m[0].parent.parent.name if m else None for m in models] == [
        None,
        "closed-20",
        None,
        "open-20",
    ]
    assert all(call.get("new_individual") is None for call in calls)
    rules = [r.summary["new_threshold_fit"]["rule"] for r in records]
    assert rules[:4] == ["never"] * 4 and "never" not in rules[4:]
    calibration = [r.summary["calibration"]["source"] for r in records if "fused" in r.method]
    assert calibration == ["gallery leave-one-out", "calibration rows"] * 2
    assert all(r.summary["new_threshold"] is None for r in records if r.split == "closed 20%")
    # The fused engine's calibrated probabilities give an ECE.
    assert all("ece" in r.summary for r in records if "fused" in r.method)


def test_local_settings_per_dataset() -> None:
    assert local_settings("KoiVideo") == (LocalConfig(use_bbox=False), ("use_bbox=false",))
    assert local_settings("LionData") == (LocalConfig(), ())


class _Captured(Exception):
    """Stops a benchmark run once the engine options it would evaluate with are known."""


def test_fused_with_keypoints_turns_the_learned_engine_on(
    work: Path, tiny: BenchmarkDataset, monkeypatch: Any
) -> None:
    seen: list[tuple[str, Any]] = []

    def spy(dataset: Any, column: str, method: str, options: Any, **kwargs: Any) -> Any:
        seen.append((method, options))
        raise _Captured

    monkeypatch.setattr("photoid.benchmark.run.evaluate", spy)
    for methods, expected in ((("fused",), False), (("fused+keypoints",), True)):
        with pytest.raises(_Captured):
            run_dataset(tiny, work, BenchmarkOptions(methods=methods, synthetic=TINY))
        method, options = seen[-1]
        assert method == "fused" and options.fused.keypoints is expected


def test_pretrained_runs_zero_shot_with_its_model_named(
    work: Path, tiny: BenchmarkDataset, tmp_path: Path
) -> None:
    import timm
    import torch
    from safetensors.torch import save_file

    from photoid.benchmark.run import run_benchmark
    from photoid.engines.pretrained_config import PretrainedConfig

    with pytest.raises(PhotoidError, match=r"--methods pretrained needs a model"):
        run_benchmark([], work, BenchmarkOptions(methods=("pretrained",)))
    torch.manual_seed(0)
    model = timm.create_model("test_resnet", pretrained=False, num_classes=0)
    save_file(dict(model.state_dict()), str(tmp_path / "tiny.safetensors"))
    given = ("pretrained.model=test_resnet", f"pretrained.weights={tmp_path}/tiny.safetensors")
    options = BenchmarkOptions(
        methods=("pretrained",),
        synthetic=TINY,
        pretrained=PretrainedConfig(
            model="test_resnet", weights=str(tmp_path / "tiny.safetensors"), image_size=32
        ),
        pretrained_settings=given,
        device="cpu",
    )
    records = run_dataset(tiny, work, options)
    assert [(r.method, r.split) for r in records] == [
        ("pretrained", records[0].split),
        ("pretrained", records[1].split),
    ]
    assert records[0].settings == ("model=test_resnet", "weights=tiny.safetensors")
    assert all(0.0 <= r.summary["top1"] <= 1.0 and r.summary["queries"] > 0 for r in records)
    assert command_line([], options).endswith(
        "--methods pretrained --set pretrained.model=test_resnet "
        f"--set pretrained.weights={tmp_path}/tiny.safetensors"
    )
