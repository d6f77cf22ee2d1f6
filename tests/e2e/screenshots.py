"""The pictures of the README and the docs, taken from the current app: `make screenshots`
runs the browser suite (tests/e2e), which photographs every page and step as it walks them,
then copies the ones the docs show under the names the docs use (DOC_PICTURES), so no picture
in the docs is made by hand or can go stale. The across-models figure is the grid's own
chart: `--grid DIR` copies DIR/grid.png from `python -m core grid examples/grid-models.toml
--out DIR` (hours on a CPU; left as it is when not given)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# docs picture -> the e2e screenshot it is (tests/e2e/test_walkthrough.py, test_shared_mode.py)
DOC_PICTURES = {
    "overview.png": "overview.png",
    "data.png": "data.png",
    "sweep.png": "sweep.png",
    "sweep_fast.png": "sweep_fast.png",
    "inspector.png": "inspector.png",
    "mechanism.png": "mechanism.png",
    "layers.png": "layers.png",
    "remedies.png": "remedies.png",
    "runs.png": "runs.png",
    "present.png": "present_5.png",  # the demo deck's inspector step
    "present_compare.png": "present_9.png",  # its compare step
    "talk_html.png": "talk_html.png",
    "shared_model_path.png": "shared_model_path.png",
    "shared_bad_link.png": "shared_bad_link.png",
}
GRID_PICTURE = "models_grid.png"  # the across-models grid's chart (core.views.charts.drop_chart)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shots", type=Path, default=ROOT / "out" / "screenshots", help="where the e2e suite saved them"
    )
    parser.add_argument("--grid", type=Path, help="the output folder of the across-models grid")
    args = parser.parse_args(argv)
    missing = [shot for shot in DOC_PICTURES.values() if not (args.shots / shot).is_file()]
    if missing:
        print(f"no screenshot {', '.join(missing)} in {args.shots}: run make test-e2e first", file=sys.stderr)
        return 1
    for picture, shot in DOC_PICTURES.items():
        shutil.copyfile(args.shots / shot, DOCS / picture)
    print(f"{len(DOC_PICTURES)} pictures in {DOCS} from {args.shots}")
    if args.grid is not None:
        shutil.copyfile(args.grid / "grid.png", DOCS / GRID_PICTURE)
        print(f"{GRID_PICTURE} from {args.grid / 'grid.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
