"""Hierarchical taxonomy heads (e.g. Herbarium 2020's family > genus > species).

One linear classifier per level on the embedding, chained by the probability chain rule, so the
fine levels are conditioned on the coarse ones (the Herbarium 2020 winners predicted family,
genus and species jointly). Level 0 is a softmax over its values; at a finer level each value's
raw score is normalised among its siblings only (the values with the same parent) and added to
its parent's log-probability::

    log p(genus) = log p(family(genus)) + log softmax_{siblings of genus}(score)[genus]

Each level is therefore a proper distribution whose mass per parent equals the parent's
probability (a parent without any child in the data keeps its mass out of the finer level), a
genus is only as likely as its family, and the loss of a fine level trains the coarse
classifiers too. Each level is trained with the focal loss on these log-probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from photoid.errors import PhotoidError
from photoid.models.heads.focal import focal_loss


@dataclass(frozen=True)
class Taxonomy:
    """A tree of class names, coarse to fine.

    ``columns`` (L,) level names (metadata columns), coarse to fine; ``names[l]`` the values of
    level ``l`` (a level-``l`` label indexes it); ``parents[l][i]`` the index in level ``l - 1``
    of value ``i``'s parent, and ``parents[0]`` is empty (the roots have no parent).
    """

    columns: tuple[str, ...]
    names: tuple[tuple[str, ...], ...]
    parents: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        levels = len(self.columns)
        if levels == 0 or len(self.names) != levels or len(self.parents) != levels:
            raise PhotoidError(
                f"a taxonomy needs one names and one parents entry per level; got "
                f"{levels} columns, {len(self.names)} names, {len(self.parents)} parents"
            )
        if self.parents[0]:
            raise PhotoidError(f"taxonomy level {self.columns[0]!r} is the top: no parents")
        for level, column in enumerate(self.columns):
            if not self.names[level]:
                raise PhotoidError(f"taxonomy level {column!r} has no value")
            if level == 0:
                continue
            above = len(self.names[level - 1])
            if len(self.parents[level]) != len(self.names[level]) or not all(
                0 <= p < above for p in self.parents[level]
            ):
                raise PhotoidError(
                    f"taxonomy level {column!r}: each of its {len(self.names[level])} values "
                    f"needs a parent index in [0, {above})"
                )

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of values per level, coarse to fine."""
        return tuple(len(n) for n in self.names)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists, for a checkpoint's hyperparameters."""
        return {
            "columns": list(self.columns),
            "names": [list(n) for n in self.names],
            "parents": [list(p) for p in self.parents],
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Taxonomy:
        """The inverse of :meth:`to_dict`."""
        return cls(
            columns=tuple(values["columns"]),
            names=tuple(tuple(n) for n in values["names"]),
            parents=tuple(tuple(int(i) for i in p) for p in values["parents"]),
        )


class TaxonomyHead(nn.Module):
    """Chained linear classifiers, one per taxonomy level, with a focal loss per level.

    Args:
        embedding_size: D, the embedding's width.
        taxonomy: the tree; level sizes and parent links come from it.
        gamma: the focal loss's focusing exponent (0: cross-entropy).
    """

    def __init__(self, embedding_size: int, taxonomy: Taxonomy, *, gamma: float = 2.0) -> None:
        super().__init__()
        self.taxonomy = taxonomy
        self.gamma = gamma
        self.classifiers = nn.ModuleList(nn.Linear(embedding_size, n) for n in taxonomy.sizes)
        for level, parents in enumerate(taxonomy.parents):
            # Derived from the taxonomy (saved in the hyperparameters), so kept out of state_dict.
            self.register_buffer(
                f"parents_{level}", torch.tensor(parents, dtype=torch.int64), persistent=False
            )

    def forward(self, embeddings: torch.Tensor) -> list[torch.Tensor]:
        """embeddings (B, D) float -> per level, coarse to fine, (B, C_l) float32 log-probs."""
        levels: list[torch.Tensor] = []
        for level, classifier in enumerate(self.classifiers):
            scores = classifier(embeddings).float()
            if level == 0:
                levels.append(torch.log_softmax(scores, dim=1))
                continue
            parents: torch.Tensor = getattr(self, f"parents_{level}")
            index = parents.unsqueeze(0).expand_as(scores)
            above = levels[-1]
            levels.append(
                above.gather(1, index) + sibling_log_softmax(scores, index, above.shape[1])
            )
        return levels

    def level_losses(
        self, log_probs: Sequence[torch.Tensor], labels: torch.Tensor
    ) -> list[torch.Tensor]:
        """``forward``'s output and labels (B, L) int64 (-1: unknown) -> L scalar focal losses.

        A level whose mass is short of 1 (childless parents above) is renormalised by the
        focal loss's softmax, so its loss only compares the values that level has.
        """
        if labels.ndim != 2 or labels.shape[1] != len(log_probs):
            raise PhotoidError(
                f"taxonomy labels must be (batch, {len(log_probs)}), got {tuple(labels.shape)}"
            )
        return [
            focal_loss(level, labels[:, i], gamma=self.gamma) for i, level in enumerate(log_probs)
        ]


def sibling_log_softmax(scores: torch.Tensor, index: torch.Tensor, parents: int) -> torch.Tensor:
    """Log-softmax of each value's score among its siblings.

    ``scores`` (B, C) float32, ``index`` (B, C) int64 parent of each column, ``parents`` P the
    number of parent values -> (B, C): ``scores - logsumexp`` over the columns sharing a parent.
    """
    batch = scores.shape[0]
    # The per-parent maximum only keeps exp() in range; logsumexp's gradient does not depend on it.
    peak = scores.new_full((batch, parents), float("-inf"))
    peak = peak.scatter_reduce(1, index, scores.detach(), reduce="amax")
    shifted = scores - peak.gather(1, index)
    total = scores.new_zeros((batch, parents)).scatter_add(1, index, shifted.exp())
    # Gathered per child, every total is >= 1 (its largest sibling adds exp(0)), so the log is
    # finite; childless parents' zero totals are never taken.
    return shifted - total.gather(1, index).log()
