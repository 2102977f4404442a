from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from photoid.errors import PhotoidError
from photoid.train.config import TrainConfig, resolve_config, save_config


def test_defaults_file_then_overrides(tmp_path: Path) -> None:
    experiment = tmp_path / "cpu.yaml"
    experiment.write_text("backbone: resnet18\nimage_size: 128\nepochs: 3\n")
    config = resolve_config(experiment, ["epochs=5", "head_params.margin=0.3", "lr=0.01"])
    assert config.backbone == "resnet18"  # from the file
    assert config.image_size == 128
    assert config.epochs == 5  # the override wins over the file
    assert config.lr == 0.01
    assert config.head_params == {"margin": 0.3}  # the head's other settings keep its defaults
    assert config.embedding_size == 512  # untouched default
    assert config.batch_size == 16 * 4


def test_unknown_keys_and_bad_values_are_errors(tmp_path: Path) -> None:
    experiment = tmp_path / "bad.yaml"
    experiment.write_text("backbon: resnet18\n")
    with pytest.raises(PhotoidError, match=r"bad.yaml: unknown training setting\(s\) backbon"):
        resolve_config(experiment)
    with pytest.raises(PhotoidError, match="setting epochs must be int, got 'many'"):
        resolve_config(None, ["epochs=many"])
    with pytest.raises(PhotoidError, match="use KEY=VALUE"):
        resolve_config(None, ["epochs"])
    with pytest.raises(PhotoidError, match="only head_params takes a dotted key"):
        resolve_config(None, ["lr.x=1"])
    with pytest.raises(PhotoidError, match="images_per_identity must be at least 2"):
        resolve_config(None, ["images_per_identity=1"])


def test_int_is_accepted_for_float_and_none_for_optional() -> None:
    config = resolve_config(None, ["lr=1", "weights=null"])
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert config.weights is None


def test_saved_config_round_trips_and_fingerprint_tracks_settings(tmp_path: Path) -> None:
    config = resolve_config(None, ["epochs=7", "head=cosface"])
    path = save_config(config, tmp_path / "run" / "config.yaml")
    saved = yaml.safe_load(path.read_text())
    assert saved["epochs"] == 7 and saved["head"] == "cosface"
    again = resolve_config(path)
    assert again == config
    assert again.fingerprint() == config.fingerprint()
    assert TrainConfig().fingerprint() != config.fingerprint()


def test_yaml_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(PhotoidError, match="must be a mapping"):
        resolve_config(path)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert resolve_config(empty) == TrainConfig()
