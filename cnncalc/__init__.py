"""cnncalc: the arithmetic of convolutional networks from a YAML spec, without a framework."""

__version__ = "0.1.0"
