"""cnncalc: the arithmetic of convolutional networks from a YAML spec, without a framework.

The Python API (cnncalc/api.py, docs/api.md): `cnncalc.load`, `cnncalc.analyze`, `cnncalc.memory`,
`cnncalc.SpecError`. They are imported when first used: the command line starts without them.
"""

__version__ = "0.1.0"

_API = ("Problem", "SpecError", "analyze", "load", "memory")


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


__all__ = ["__version__", *_API]
