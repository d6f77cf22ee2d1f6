"""The data sets that work offline, each defined once here (BUNDLED_DATASETS): its label,
how it is loaded, and the template that fits it. DatasetSpec(source="bundled", name=ID)
names one; the CLI, the Data page and links read this registry.

- Four snippet sets of Hutto & Gilbert (2014), installed out of the vaderSentiment sdist
  (core.data.assets): movie reviews (Rotten Tomatoes; the demo's), product reviews (Amazon),
  newspaper editorials (NYT) and tweets. Valence > 0 is label 1, < 0 label 0, 0 dropped.
- Factual true/false statements generated here, in the style of the geometry-of-truth
  sets (Marks & Tegmark 2023): number comparisons ("Eighty-one is larger than
  fifty-four.") and sums ("Twelve plus thirty is forty-two."), each also in a negated
  form ("... is not larger than ..."). Label 1: the statement is true. Exactly balanced,
  reproducible, no network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from num2words import num2words

from core.config import BUNDLED_DEFAULT, DatasetSpec, Template
from core.data.assets import bundled_dataset_path
from core.data.templates import REVIEW_FAMILY, TRUTH_FAMILY, NamedTemplate, sentiment_family
from core.data.texts import LabeledTexts, deduplicated, parse_snippets
from core.errors import UserError

STATEMENTS = 2000  # per generated set, half true


@dataclass(frozen=True)
class BundledSet:
    """One offline data set: `load()` returns it, duplicates dropped; `templates` are the
    named wordings it can be asked in (core.data.templates), its own template first."""

    label: str
    load: Callable[[], LabeledTexts]
    templates: dict[str, NamedTemplate]

    @property
    def template(self) -> Template:
        """The set's own template: the first of its named ones."""
        return next(iter(self.templates.values())).template


def _snippets(file: str, prefix: str, description: str) -> Callable[[], LabeledTexts]:
    def load() -> LabeledTexts:
        return parse_snippets(bundled_dataset_path(file).read_text(encoding="utf-8"), prefix, description)

    return load


def words(number: int) -> str:
    """A whole number in English words ("eighty-one")."""
    return num2words(number)


def _balanced(candidates: Callable[[np.random.Generator], tuple[str, bool]], seed: int) -> tuple:
    """STATEMENTS distinct statements, exactly half true, from `candidates(rng)`."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 13]))
    chosen: dict[str, bool] = {}
    wanted = {True: STATEMENTS // 2, False: STATEMENTS - STATEMENTS // 2}
    while wanted[True] or wanted[False]:
        text, truth = candidates(rng)
        if text not in chosen and wanted[truth]:
            chosen[text] = truth
            wanted[truth] -= 1
    texts = list(chosen)
    return texts, np.array([chosen[t] for t in texts], dtype=np.int8)


def _generated(candidate: Callable, seed: int, prefix: str, title: str) -> Callable[[], LabeledTexts]:
    """A loader of STATEMENTS statements drawn by `candidate`, ids `prefix`-i."""

    def load() -> LabeledTexts:
        texts, labels = _balanced(candidate, seed)
        return deduplicated(
            texts,
            labels,
            [f"{prefix}-{i}" for i in range(len(texts))],
            f"{title} generated offline ({len(texts):,} statements, half true)",
        )

    return load


def _comparisons(negated: bool) -> Callable:
    def candidate(rng):
        a, b = (int(x) for x in rng.choice(np.arange(1, 100), size=2, replace=False))
        relation = "is not larger than" if negated else "is larger than"
        return f"{words(a).capitalize()} {relation} {words(b)}.", (a > b) != negated

    return _generated(
        candidate,
        1 + negated,
        "cmp-neg" if negated else "cmp",
        "Number comparisons, negated," if negated else "Number comparisons,",
    )


def _sums(negated: bool) -> Callable:
    def candidate(rng):
        a, b = (int(x) for x in rng.integers(1, 50, size=2))
        total = a + b if rng.random() < 0.5 else a + b + int(rng.choice([-10, -5, -3, -2, -1, 1, 2, 3, 5, 10]))
        if total < 1:
            total = a + b
        relation = "is not" if negated else "is"
        return f"{words(a).capitalize()} plus {words(b)} {relation} {words(total)}.", (total == a + b) != negated

    return _generated(candidate, 3 + negated, "sum-neg" if negated else "sum", "Sums, negated," if negated else "Sums,")


BUNDLED_DATASETS = {
    BUNDLED_DEFAULT: BundledSet(
        "Rotten Tomatoes movie-review snippets",
        _snippets("movieReviewSnippets_GroundTruth.txt", "rt", "Rotten Tomatoes movie-review snippets"),
        REVIEW_FAMILY,
    ),
    "amazon_review_snippets": BundledSet(
        "Amazon product-review snippets",
        _snippets("amazonReviewSnippets_GroundTruth.txt", "amazon", "Amazon product-review snippets"),
        sentiment_family("product review", "review"),
    ),
    "nyt_editorial_snippets": BundledSet(
        "New York Times editorial snippets",
        _snippets("nytEditorialSnippets_GroundTruth.txt", "nyt", "New York Times editorial snippets"),
        sentiment_family("excerpt from a newspaper editorial", "excerpt"),
    ),
    "tweet_snippets": BundledSet(
        "Tweets", _snippets("tweets_GroundTruth.txt", "tweet", "Tweets"), sentiment_family("tweet", "tweet")
    ),
    "larger_than": BundledSet("Number comparisons (true/false)", _comparisons(False), TRUTH_FAMILY),
    "larger_than_negated": BundledSet("Number comparisons, negated (true/false)", _comparisons(True), TRUTH_FAMILY),
    "sums": BundledSet("Sums (true/false)", _sums(False), TRUTH_FAMILY),
    "sums_negated": BundledSet("Sums, negated (true/false)", _sums(True), TRUTH_FAMILY),
}


def bundled_set(name: str) -> BundledSet:
    """The registry entry `name`, or a UserError listing the names there are."""
    if name not in BUNDLED_DATASETS:
        raise UserError(f"Unknown bundled dataset {name!r} (use {', '.join(BUNDLED_DATASETS)}).")
    return BUNDLED_DATASETS[name]


def named_templates(dataset: DatasetSpec) -> dict[str, NamedTemplate]:
    """The named templates a run on `dataset` may use: a bundled set's own family, the
    movie-review family for any other data."""
    if dataset.source == "bundled" and dataset.name in BUNDLED_DATASETS:
        return BUNDLED_DATASETS[dataset.name].templates
    return REVIEW_FAMILY


def named_template(dataset: DatasetSpec, name: str) -> Template:
    """The template `name` of `dataset`'s family, or a UserError listing the names there are."""
    family = named_templates(dataset)
    if name not in family:
        raise UserError(f"Unknown template {name!r} for this data set (use {', '.join(family)}).")
    return family[name].template
