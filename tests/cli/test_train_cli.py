from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from photoid.cli.app import app
from photoid.data.synth import generate


def test_train_command_runs_and_reports_checkpoints(tmp_path: Path) -> None:
    generate(tmp_path / "ds", individuals=4, images_per=4, seed=2, size=96)
    runner = CliRunner()
    split = runner.invoke(app, ["data", "split", str(tmp_path / "ds"), "--kind", "closed"])
    assert split.exit_code == 0, split.output
    settings = [
        "backbone=test_resnet", "image_size=32", "embedding_size=8", "epochs=1",
        "identities_per_batch=2", "images_per_identity=2", "workers=0", "policy=none",
    ]  # fmt: skip
    args = ["train", str(tmp_path / "ds"), "--out", str(tmp_path / "run"), "--split-column"]
    args += ["split", *[x for s in settings for x in ("--set", s)]]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "last checkpoint:" in result.output
    assert "best checkpoint:" in result.output
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()


def test_train_rejects_unknown_setting(tmp_path: Path) -> None:
    generate(tmp_path / "ds", individuals=2, images_per=2, seed=2, size=64)
    result = CliRunner().invoke(
        app, ["train", str(tmp_path / "ds"), "--out", str(tmp_path / "run"), "--set", "epoch=3"]
    )
    assert result.exit_code == 2
    assert "unknown training setting(s) epoch" in result.output


def test_train_folds_writes_one_model_per_fold(tmp_path: Path) -> None:
    generate(tmp_path / "ds", individuals=4, images_per=4, seed=2, size=96)
    settings = [
        "backbone=test_resnet", "image_size=32", "embedding_size=8", "epochs=1",
        "identities_per_batch=2", "images_per_identity=2", "workers=0", "policy=none",
    ]  # fmt: skip
    args = ["train", str(tmp_path / "ds"), "--out", str(tmp_path / "run"), "--folds", "2"]
    result = CliRunner().invoke(app, args + [x for s in settings for x in ("--set", s)])
    assert result.exit_code == 0, result.output
    assert "fold 0:" in result.output and "fold 1:" in result.output
    for fold in (0, 1):
        assert (tmp_path / "run" / f"fold{fold}" / "checkpoints" / "last.ckpt").is_file()
        assert (tmp_path / "run" / f"fold{fold}" / "config.yaml").is_file()
    one = CliRunner().invoke(app, [*args[:-1], "1"])
    assert one.exit_code == 2
    assert "--folds needs at least 2 folds" in one.output
