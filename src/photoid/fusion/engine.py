"""The fused engine: local features, colour and (when a model exists) deep embeddings, each
calibrated, combined into one probability per candidate, with the probability of a new individual.

Per query: every engine scores every gallery identity (:mod:`photoid.fusion.scores`); the
candidates are the identities some engine ranks among its ``shortlist`` best (the local engine's
own answer is already geometrically verified over its vote shortlist); the fusion model
(:mod:`photoid.fusion.stack`) turns their scores into probabilities. It is fitted when the
engine is built, on calibration queries with known answers: photos the engines never saw
(``calibration``, e.g. a split's ``val`` rows) or, without them, gallery photos each left out of
every engine's gallery together with its group of dependent photos (its encounter, day or
near-duplicates: :mod:`photoid.calibrate.groups`), since a query's own near-duplicates make
every engine look perfect. Leaving out is honest for the local and colour engines, which learn
nothing; a deep model trained on the gallery knows those photos, so give it calibration photos
it was not trained on.

The new-individual probability (:mod:`photoid.decide.open_set`) is fitted on the same queries:
each also plays a new individual by dropping its own identity from its candidates, and a photo
whose identity has no gallery photo outside its group always does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from photoid.appearance import BINS, HUE_SATURATION_BINS, ColourEngine
from photoid.calibrate.groups import SAME_COLOURS, PhotoGroups, dataset_groups
from photoid.core import Candidate, Identification, Match
from photoid.data.table import Dataset
from photoid.decide.open_set import NewIndividualModel, fit_new_individual
from photoid.decide.policy import DEFAULT_NEW_FRACTION
from photoid.fusion.config import FusedAnswers, FusedConfig, Queries
from photoid.fusion.rows import (
    engine_rows,
    gallery_positions,
    local_answers,
    text_cell,
    without_own,
)
from photoid.fusion.scores import ScoreTable, answer_table, global_table
from photoid.fusion.stack import CandidatePairs, FusionModel, fit_fusion, shortlist
from photoid.fusion.verify import cross_fitted, verifier_table
from photoid.local.config import LocalConfig
from photoid.local.engine import LocalEngine
from photoid.progress import StageProgress, stage_callback

if TYPE_CHECKING:  # torch: loaded only with a deep model or learned keypoints
    from photoid.calibrate.verifier import PairVerifier
    from photoid.deep.engine import DeepEngine
    from photoid.keypoints.config import KeypointConfig
    from photoid.keypoints.engine import KeypointEngine

Progress = Callable[[int], None]
_EMPTY = np.zeros((0, 2), np.float32)


@dataclass
class FusedEngine:
    """Build with :meth:`build`; ask with :meth:`identify`. ``groups``: each gallery
    position's group of dependent photos, left out together when the gallery calibrates itself
    (None: each photo alone)."""

    local: LocalEngine
    gallery: Queries
    globals: dict[str, ColourEngine | DeepEngine]
    universe: list[str]
    config: FusedConfig
    fusion: FusionModel | None = None
    new_model: NewIndividualModel | None = None
    calibration: dict[str, object] = field(default_factory=dict)
    top: int = 5
    positions: dict[str, list[int]] = field(default_factory=dict)
    scaled: dict[str, LocalEngine] = field(default_factory=dict)
    verifier: PairVerifier | None = None
    groups: PhotoGroups | None = None
    learned: KeypointEngine | None = None

    @property
    def engines(self) -> tuple[str, ...]:
        extra = ("verifier",) if self.verifier is not None else ()
        learned = ("keypoints",) if self.learned is not None else ()
        return ("local", *self.scaled, *learned, *self.globals, *extra)

    @classmethod
    def build(
        cls,
        gallery: Dataset,
        *,
        local_config: LocalConfig | None = None,
        cache_dir: Path | None = None,
        deep: DeepEngine | None = None,
        calibration: Dataset | None = None,
        config: FusedConfig | None = None,
        keypoint_config: KeypointConfig | None = None,
        progress: StageProgress | None = None,
    ) -> FusedEngine:
        """Build the engines' galleries from ``gallery`` (``deep``: an engine whose gallery is
        already these rows) and fit the fusion and new-individual models (on ``calibration``
        rows, else on the gallery, each photo's group left out: see the module)."""
        config = config or FusedConfig()
        local_config = (local_config or LocalConfig()).with_overrides(
            top=max(LocalConfig().top, 5 * config.shortlist)
        )
        local = LocalEngine.from_dataset(
            gallery, local_config, cache_dir, stage_callback(progress, "gallery", len(gallery))
        )
        scaled = {
            f"local@{side}": LocalEngine.from_dataset(
                gallery,
                local_config.with_overrides(max_side=side),
                cache_dir,
                stage_callback(progress, f"gallery @{side}px", len(gallery)),
            )
            for side in config.scales
            if side != local_config.max_side
        }
        for name, built in {"local": local, **scaled}.items():
            built.build_index(progress, f"{name} index")
        globals_: dict[str, ColourEngine | DeepEngine] = {}
        colours = (
            ("colour", BINS, config.colour),
            ("hue-saturation", HUE_SATURATION_BINS, config.hue_saturation),
        )
        for key, bins, wanted in colours:
            if wanted:
                globals_[key] = ColourEngine.from_dataset(
                    gallery,
                    bins=bins,
                    use_bbox=local_config.use_bbox,
                    progress=stage_callback(progress, key, len(gallery)),
                )
        if deep is not None:
            globals_["deep"] = deep
        names = set(local.identities)
        for member in globals_.values():
            names |= set(member.identities)
        images = [str(n) for n in gallery.table["image"]]
        owners = [str(t) for t in gallery.table["identity"]]
        positions = {
            key: gallery_positions(member.images, member.identities, images, owners)
            for key, member in {"local": local, **scaled, **globals_}.items()
        }
        engine = cls(
            local,
            Queries.of(gallery),
            globals_,
            sorted(names),
            config,
            positions=positions,
            scaled=scaled,
        )
        if config.keypoints:
            from photoid.keypoints.config import KeypointConfig
            from photoid.keypoints.engine import KeypointEngine

            keypoints = (keypoint_config or KeypointConfig()).with_overrides(top=local_config.top)
            engine.learned = KeypointEngine.over(
                local,
                gallery,
                keypoints,
                cache_dir,
                stage_callback(progress, "gallery (learned keypoints)", len(gallery)),
            )
        if calibration is None or len(calibration) == 0:
            engine.groups = dataset_groups(
                gallery,
                use_bbox=local_config.use_bbox,
                thresholds=(config.near_duplicate, SAME_COLOURS),
            )
        if deep is not None and config.verifier and len(set(deep.identities)) >= 2:
            from photoid.calibrate.verifier import train_verifier

            engine.verifier = train_verifier(
                deep.gallery.embeddings, deep.gallery.labels, seed=config.seed
            )
        engine._fit(calibration, progress)
        return engine

    # -- scoring -------------------------------------------------------------------------

    def tables(
        self,
        queries: Queries,
        exclude: Sequence[Collection[int]] | None = None,
        progress: Progress | None = None,
        verifiers: tuple[list[PairVerifier], np.ndarray] | None = None,
    ) -> tuple[list[ScoreTable], list[Identification], list[str | None]]:
        """Each engine's score table for the queries, the local answers (evidence) and each
        query's load error (None when it was read). ``exclude[i]``: gallery positions (rows of
        :attr:`gallery`) left out of every engine's gallery for query ``i`` (its group);
        ``verifiers``: pair verifiers and the one scoring each query (default: the engine's)."""
        count = len(queries.paths)
        boxes = queries.bboxes or [None] * count
        rows = {key: {p: r for r, p in enumerate(kept)} for key, kept in self.positions.items()}
        answers, errors = local_answers(self.local, queries, exclude, rows["local"], progress)
        tables = [answer_table(answers, self.universe)]
        for name, member in self.scaled.items():
            more, _ = local_answers(member, queries, exclude, rows[name], None)
            tables.append(answer_table(more, self.universe))
        if self.learned is not None:
            learned = self.learned.answers(queries, exclude, rows["local"])
            tables.append(answer_table(learned, self.universe))
        for name, engine in self.globals.items():
            vectors, failed = engine.embed(queries.paths, boxes)
            excluded = None if exclude is None else [engine_rows(e, rows[name]) for e in exclude]
            floor = 0.0 if isinstance(engine, ColourEngine) else -1.0
            tables.append(
                global_table(engine.gallery, vectors, self.universe, exclude=excluded, floor=floor)
            )
            errors = [a or b for a, b in zip(errors, failed, strict=True)]
            if name == "deep" and self.verifier is not None:
                models, chosen = verifiers or ([self.verifier], np.zeros(count, np.int64))
                size = self.config.shortlist
                deep_table = tables[-1]
                tables_verifier = verifier_table(
                    models,
                    chosen,
                    vectors,
                    engine.gallery,
                    self.universe,
                    deep_table,
                    size,
                    excluded,
                )
        if self.verifier is not None:
            tables.append(tables_verifier)
        return tables, answers, errors

    # -- fitting -------------------------------------------------------------------------

    def _fit(self, calibration: Dataset | None, progress: StageProgress | None) -> None:
        counts = Counter(self.local.identities)
        grouping: dict[str, object] = {}
        if calibration is not None and len(calibration) > 0:
            queries = Queries.of(calibration)
            truth = [str(t) for t in calibration.table["identity"]]
            exclude: list[np.ndarray] | None = None
            source = "calibration rows"
        else:
            groups = self.groups or PhotoGroups(np.arange(len(self.gallery.paths)), "photos")
            rows = self._loo_rows()
            picked = [self.positions["local"][r] for r in rows]
            queries = self.gallery.take(picked)
            truth = [self.local.identities[r] for r in rows]
            exclude = [groups.members(p) for p in picked]
            source = "gallery leave-one-out"
            grouping = {"groups": groups.kind, "group_count": groups.count}
        step = stage_callback(progress, "calibration", len(queries.paths))
        verifiers = self._cross_fitted(truth) if exclude is not None else None
        tables, _, errors = self.tables(queries, exclude, step, verifiers)
        good = [i for i, e in enumerate(errors) if e is None]
        lookup = {name: c for c, name in enumerate(self.universe)}
        # A photo whose identity has no gallery photo outside its group (or none in the
        # gallery at all) is new.
        left = [counts[t] for t in truth]
        if exclude is not None:
            owners = np.asarray(self.local.identities)
            local_rows = {p: r for r, p in enumerate(self.positions["local"])}
            for i, t in enumerate(truth):
                gone = engine_rows(exclude[i], local_rows)
                left[i] -= int((owners[gone] == t).sum())
        own = np.asarray(
            [lookup[t] if t in lookup and n > 0 else -1 for t, n in zip(truth, left, strict=True)],
            np.int64,
        )
        known = [i for i in good if own[i] >= 0]
        pairs = shortlist(tables, self.config.shortlist)
        keep = np.isin(pairs.query, known)
        pairs = CandidatePairs(pairs.query[keep], pairs.column[keep])
        same = pairs.column == own[pairs.query]
        self.fusion = fit_fusion(self.engines, tables, pairs, same, method=self.config.method)
        ranked = self._ranked(tables, own_removed=None)
        dropped = self._ranked(tables, own_removed=own)
        new_rows = [i for i in good if own[i] < 0]
        known_p = np.stack([self._padded(ranked[i][1]) for i in known])
        new_p = np.stack(
            [self._padded(dropped[i][1]) for i in known]
            + [self._padded(ranked[i][1]) for i in new_rows]
        )
        share = sum(1 for n in counts.values() if n == 1) / max(1, len(self.local.identities))
        fraction = share if share > 0 else DEFAULT_NEW_FRACTION
        species = [text_cell(v) for v in queries.species] if queries.species else None
        self.new_model = fit_new_individual(
            known_p,
            new_p,
            new_fraction=fraction,
            species_known=None if species is None else [species[i] for i in known],
            species_new=None if species is None else [species[i] for i in known + new_rows],
        )
        self.calibration = {
            "source": source,
            "queries": len(good),
            "known": len(known),
            "new": len(new_p),
            "new_fraction": round(fraction, 4),
            "pairs": len(pairs),
            "engines": list(self.engines),
            "weights": [round(w, 4) for w in self.fusion.weights],
            **grouping,
        }

    def _cross_fitted(self, truth: Sequence[str]) -> tuple[list[PairVerifier], np.ndarray] | None:
        """Verifiers that never saw a leave-one-out query's identity, and which scores each;
        without them (too few identities to split), the verifier is not used."""
        deep = self.globals.get("deep")
        if self.verifier is None or deep is None:
            return None
        fitted = cross_fitted(deep.gallery, seed=self.config.seed)
        if fitted is None:
            self.verifier = None
            return None
        models, fold = fitted
        label = {name: i for i, name in enumerate(deep.gallery.names)}
        return models, np.asarray([fold[label[t]] if t in label else 0 for t in truth], np.int64)

    def _loo_rows(self) -> list[int]:
        """Gallery photos for leave-one-out: a seeded sample of ``calibration_queries``."""
        order = np.random.default_rng(self.config.seed).permutation(len(self.local))
        return sorted(order[: self.config.calibration_queries].tolist())

    def _ranked(
        self, tables: Sequence[ScoreTable], own_removed: np.ndarray | None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per query: candidate columns best first and their ``(columns,)`` probabilities
        (0-padded), optionally with column ``own_removed[i]`` dropped from query ``i``."""
        assert self.fusion is not None
        if own_removed is not None:
            tables = [without_own(table, own_removed) for table in tables]
        pairs = shortlist(tables, self.config.shortlist)
        if own_removed is not None:
            keep = pairs.column != own_removed[pairs.query]
            pairs = CandidatePairs(pairs.query[keep], pairs.column[keep])
        probability = self.fusion.predict(tables, pairs)
        # Isotonic calibration maps a range of scores to one probability; where candidates
        # tie, the engines' own order (their summed ranks) decides instead of column order.
        ranks = sum(table.ranks[pairs.query, pairs.column] for table in tables)
        n = tables[0].scores.shape[0]
        out = []
        for i in range(n):
            mine = np.flatnonzero(pairs.query == i)
            order = mine[np.lexsort((ranks[mine], -probability[mine]))]
            out.append((pairs.column[order], probability[order]))
        return out

    def _padded(self, values: np.ndarray) -> np.ndarray:
        """The first ``columns`` probabilities, 0-padded."""
        out = np.zeros(self.config.columns, np.float64)
        top = values[: self.config.columns]
        out[: top.size] = top
        return out

    # -- answering -----------------------------------------------------------------------

    def identify(self, queries: Queries, progress: Progress | None = None) -> FusedAnswers:
        """Fused candidates (``top`` of them) and the new-individual probability per query."""
        assert self.fusion is not None
        tables, local_answers, errors = self.tables(queries, None, progress)
        ranked = self._ranked(tables, None)
        answers: list[Identification] = []
        for i, (columns, values) in enumerate(ranked):
            if errors[i] is not None:
                answers.append(Identification(queries.names[i], warning=errors[i]))
                continue
            evidence = {c.identity: c.best for c in local_answers[i].candidates}
            candidates = [
                Candidate(
                    self.universe[c],
                    float(p),
                    evidence.get(self.universe[c]) or self._any_photo(self.universe[c]),
                )
                for c, p in zip(columns[: self.top].tolist(), values.tolist(), strict=False)
            ]
            answers.append(
                Identification(queries.names[i], candidates, keypoints=local_answers[i].keypoints)
            )
        new = None
        if self.new_model is not None:
            padded = np.stack([self._padded(v) for _, v in ranked]) if ranked else None
            species = None if queries.species is None else [text_cell(s) for s in queries.species]
            new = np.zeros(0) if padded is None else self.new_model.predict(padded, species)
        return FusedAnswers(answers, new)

    def _any_photo(self, identity: str) -> Match:
        """A gallery photo of ``identity`` shown when no keypoints verified it."""
        return Match(self._first_photos.get(identity, ""), 0.0, 0, _EMPTY, _EMPTY)

    @cached_property
    def _first_photos(self) -> dict[str, str]:
        """Each identity's first gallery photo in the local engine (one pass, then looked up)."""
        first: dict[str, str] = {}
        for name, owner in zip(self.local.images, self.local.identities, strict=True):
            first.setdefault(owner, name)
        return first
