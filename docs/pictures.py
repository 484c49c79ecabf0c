"""Draw the pictures shown in docs/picture.md: `python docs/pictures.py` (from anywhere) writes them into docs/;
`python docs/pictures.py --check` only says whether they are current (exit 1 when one is not). The tests run
the check, so a change to the drawing that is not regenerated here fails them."""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
PICTURES = {"vgg16.svg": "specs/vgg16.yaml", "resnet50.svg": "specs/resnet50.yaml"}  # picture → spec


def picture(spec: str) -> str:
    """What `cnncalc shapes SPEC --format svg` prints for the spec (a path from the repository's root)."""
    sys.path.insert(0, str(ROOT))
    from cnncalc.engine import analyze
    from cnncalc.parser import parse_file
    from cnncalc.render.svg import render_svg

    return render_svg(analyze(parse_file(str(ROOT / spec))))


def stale() -> list[str]:
    """The pictures in docs/ that differ from what cnncalc draws now."""
    return [name for name, spec in PICTURES.items()
            if not (DOCS / name).exists() or (DOCS / name).read_text(encoding="utf-8") != picture(spec)]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        names = stale()
        for name in names:
            print(f"docs/{name} is not current: run python docs/pictures.py", file=sys.stderr)
        return 1 if names else 0
    for name, spec in PICTURES.items():
        (DOCS / name).write_text(picture(spec), encoding="utf-8")
        print(f"docs/{name} from {spec}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
