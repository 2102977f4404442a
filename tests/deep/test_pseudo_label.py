"""Pseudo-labelling: confident query predictions become train rows of a new split column."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from checkpoint_support import random_checkpoint
from photoid.core import Candidate, Identification, Match
from photoid.data.synth import generate
from photoid.data.table import load_dataset
from photoid.deep.pseudo_label import (
    PseudoLabels,
    decide,
    pseudo_label,
    with_pseudo_labels,
    write_pseudo_labels,
)
from photoid.errors import DatasetError, PhotoidError

EMPTY = np.zeros((0, 2), np.float32)


def _checkpoint(path: Path) -> Path:
    return random_checkpoint(path)


def _answer(*scored: tuple[str, float]) -> Identification:
    return Identification(
        "q", [Candidate(name, score, Match("g", score, 0, EMPTY, EMPTY)) for name, score in scored]
    )


def test_decide_needs_the_score_and_the_margin() -> None:
    answers = [
        _answer(("A", 0.9), ("B", 0.85)),  # margin 0.05
        _answer(("B", 0.95), ("A", 0.5)),
        _answer(("C", 0.7)),  # no second identity: margin inf
        _answer(("C", 0.79)),
        Identification("broken", warning="cannot read"),
    ]
    decided = decide(answers, min_score=0.7, min_margin=0.1)
    assert decided["predicted"].tolist() == ["A", "B", "C", "C", ""]
    assert decided["accepted"].tolist() == [False, True, True, True, False]
    np.testing.assert_allclose(decided["margin"][:3], [0.05, 0.45, np.inf])
    assert decide(answers, min_score=0.8)["accepted"].tolist() == [True, True, False, False, False]


def test_the_table_keeps_the_identity_a_row_had_before() -> None:
    table = pd.DataFrame(
        {
            "image": ["a", "b", "c"],
            "identity": ["A", "X", "unknown"],
            "split": ["train", "test", "test"],
            "identity_before_pseudo": ["", "", "Z"],  # c was pseudo-labelled in an earlier round
            "label": [0, 1, -1],
        },
        index=[2, 3, 4],
    )
    queries = pd.DataFrame(
        {"predicted": ["B", "C"], "score": [0.91, 0.8], "accepted": [True, True]}, index=[3, 4]
    )
    out = with_pseudo_labels(table, "split", queries, "pseudo_split")
    assert "label" not in out.columns
    assert out["pseudo_split"].tolist() == ["train", "train", "train"]
    assert out["split"].tolist() == ["train", "test", "test"]
    assert out["identity"].tolist() == ["A", "B", "C"]
    assert out["identity_before_pseudo"].tolist() == ["", "X", "Z"]
    assert out["pseudo_identity"].tolist() == ["", "B", "C"]
    assert out["pseudo_score"].tolist() == ["", "0.910000", "0.800000"]
    assert table["identity"].tolist() == ["A", "X", "unknown"]  # the input is not modified


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PseudoLabels]:
    """Gallery: 3 individuals x 2 photos. Queries: copies of gallery photos (one with a wrong
    truth, one unknown), and one photo of a fourth individual."""
    root = tmp_path_factory.mktemp("pseudo")
    data = root / "data"
    csv = generate(data, individuals=4, images_per=2, seed=6, size=64)
    cells = pd.read_csv(csv, dtype=str, keep_default_na=False)
    cells["split"] = ["train"] * 6 + ["test", ""]
    names = list(cells["identity"].iloc[[0, 2, 4]])
    extra = []
    for source, identity, split, name in [
        (0, names[0], "test", "right.jpg"),
        (2, names[0], "query", "wrong.jpg"),  # a photo of names[1] labelled names[0]
        (4, "unknown", "", "unknown.jpg"),
        (1, names[0], "val", "val.jpg"),
    ]:
        shutil.copy(data / cells["image"].iloc[source], data / "images" / name)
        row = cells.iloc[source].copy()
        row["image"], row["identity"], row["split"] = f"images/{name}", identity, split
        extra.append(row)
    cells = pd.concat([cells, pd.DataFrame(extra)], ignore_index=True)
    cells.to_csv(csv, index=False)
    model = _checkpoint(root / "m.ckpt")
    return data, pseudo_label(load_dataset(data), [model], "split", min_score=0.9999)


def test_copies_of_gallery_photos_are_labelled(labelled: tuple[Path, PseudoLabels]) -> None:
    data, labels = labelled
    dataset = load_dataset(data)
    queries = labels.queries
    # Lines 8-9: the fourth individual, a test row (a query, unlike its other photo outside
    # the split) that matches no gallery photo exactly. Lines 10-12: the copies; 13: val.
    assert queries.index.tolist() == [8, 10, 11, 12]
    assert queries["accepted"].tolist() == [False, True, True, True]
    names = dataset.table["identity"].loc[[2, 4, 6]].tolist()
    assert queries["predicted"].loc[10:].tolist() == names
    assert (labels.labelled, labels.checked, labels.right) == (3, 2, 1)
    table = labels.table
    assert labels.column == "pseudo_split"
    assert table["pseudo_split"].tolist() == ["train"] * 6 + ["test", ""] + ["train"] * 3 + ["val"]
    assert table["identity"].loc[10:].tolist() == [names[0], names[1], names[2], names[0]]
    assert table["identity_before_pseudo"].loc[10:].tolist() == [names[0], names[0], "unknown", ""]
    assert table["pseudo_identity"].loc[9:].tolist() == ["", *names, ""]


def test_writing_a_new_folder_leaves_the_input_alone(
    labelled: tuple[Path, PseudoLabels], tmp_path: Path
) -> None:
    data, labels = labelled
    before = (data / "metadata.csv").read_bytes()
    dataset = load_dataset(data)
    written = write_pseudo_labels(labels, dataset, out=tmp_path / "round2")
    assert (data / "metadata.csv").read_bytes() == before
    copy = load_dataset(tmp_path / "round2")
    assert written == tmp_path / "round2" / "metadata.csv"
    assert copy.table["image"].tolist() == dataset.table["image"].tolist()
    assert all(p.is_file() for p in copy.paths())
    assert copy.split_columns == ["split", "pseudo_split"]
    assert (copy.table["pseudo_split"] == "train").sum() == 9
    with pytest.raises(DatasetError, match=r"already holds metadata\.csv"):
        write_pseudo_labels(labels, dataset, out=tmp_path / "round2")
    with pytest.raises(PhotoidError, match="exactly one of --out FOLDER and --in-place"):
        write_pseudo_labels(labels, dataset)


def test_a_linked_new_folder_holds_hard_links_to_the_input_images(
    labelled: tuple[Path, PseudoLabels], tmp_path: Path
) -> None:
    data, labels = labelled
    dataset = load_dataset(data)
    write_pseudo_labels(labels, dataset, out=tmp_path / "round2", link=True)
    copy = load_dataset(tmp_path / "round2")
    for linked, original in zip(copy.paths(), dataset.paths(), strict=True):
        assert not linked.is_symlink()
        assert os.stat(linked).st_ino == os.stat(original).st_ino


def test_in_place_rewrites_the_metadata(
    labelled: tuple[Path, PseudoLabels], tmp_path: Path
) -> None:
    data, labels = labelled
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    write_pseudo_labels(labels, load_dataset(copy), in_place=True)
    header = (copy / "metadata.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("image,identity,species,viewpoint,bbox,date,encounter,split,")
    reloaded = load_dataset(copy)
    assert reloaded.table["pseudo_score"].loc[10] == labels.table["pseudo_score"].loc[10]
    assert float(reloaded.table["pseudo_score"].loc[10]) == pytest.approx(1.0, abs=1e-4)


def test_bad_requests_are_refused(labelled: tuple[Path, PseudoLabels], tmp_path: Path) -> None:
    data, _ = labelled
    dataset = load_dataset(data)
    with pytest.raises(PhotoidError, match="'pseudo': a new split column must be named"):
        pseudo_label(dataset, [tmp_path / "m.ckpt"], "split", min_score=0.5, column="pseudo")
    with pytest.raises(DatasetError, match="no split column 'wd_split'"):
        pseudo_label(dataset, [tmp_path / "m.ckpt"], "wd_split", min_score=0.5)
