"""`photoid embed` and `photoid index`: stored embeddings and a faiss index over them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from photoid.cli.app import app
from photoid.cli.options import DeviceOption, PrecisionOption, SetOption, TtaOption
from photoid.cli.progress import QuietOption, progress_bar

if TYPE_CHECKING:
    from photoid.search.vector_index import Kind


@app.command("embed")
def embed(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder (with metadata.csv).")],
    out: Annotated[Path, typer.Option(help="Embeddings file to write (.npz).")],
    model: Annotated[
        Path | None,
        typer.Option(
            help="A checkpoint written by `photoid train`; or, with no training, give "
            "--set pretrained.model=NAME --set pretrained.weights=PATH instead."
        ),
    ] = None,
    settings: SetOption = None,
    tta: TtaOption = None,
    device: DeviceOption = "auto",
    precision: PrecisionOption = "auto",
    quiet: QuietOption = False,
) -> None:
    """Embed every photo: float32 vectors with image ids and the model's fingerprint."""
    from photoid.cli.options import pretrained_config
    from photoid.data import load_dataset
    from photoid.deep.embed import embed_dataset
    from photoid.deep.store import save_embeddings
    from photoid.errors import PhotoidError

    pretrained = pretrained_config(settings)
    if (model is None) == (not pretrained.model):
        raise PhotoidError(
            "give --model CHECKPOINT (from photoid train) or --set pretrained.model=NAME "
            "(a timm model used as it is, with --set pretrained.weights=PATH offline), not both"
        )
    data = load_dataset(dataset)
    with progress_bar("Embedding photos", len(data)) as (bar, task):
        embeddings = embed_dataset(
            data,
            model or pretrained,
            tta=tta or (),
            progress=lambda n: bar.advance(task, n),
            device=None if pretrained.device != "auto" else device,
            precision=precision,
        )
    save_embeddings(embeddings, out)
    typer.echo(
        f"wrote {len(embeddings)} embeddings of size {embeddings.vectors.shape[1]} "
        f"(model {embeddings.model}) to {out}"
    )


@app.command("index")
def index(
    embeddings: Annotated[Path, typer.Argument(help="Embeddings file from `photoid embed`.")],
    out: Annotated[Path, typer.Option(help="Folder for the index (index.faiss, ids.npy).")],
    kind: Annotated[
        str, typer.Option(help="auto (exact, HNSW above 1M vectors), exact, hnsw or ivf.")
    ] = "auto",
) -> None:
    """Build a faiss index over stored embeddings (row numbers are the ids)."""
    from photoid.deep.store import load_embeddings
    from photoid.search.vector_index import VectorIndex

    loaded = load_embeddings(embeddings)
    if kind not in ("auto", "exact", "hnsw", "ivf"):
        raise typer.BadParameter(f"unknown kind {kind!r}; choose auto, exact, hnsw or ivf")
    chosen: Kind = kind  # type: ignore[assignment]
    vector_index = VectorIndex(loaded.vectors.shape[1], kind=chosen)
    vector_index.add(loaded.vectors)
    vector_index.search(loaded.vectors[:1], 1)  # builds the approximate index when due
    vector_index.save(out)
    typer.echo(
        f"indexed {vector_index.size} embeddings "
        f"({'approximate' if vector_index.approximate else 'exact'}) in {out}"
    )
