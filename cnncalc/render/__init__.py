"""Renderers: Report → text. They format what the engine computed and never compute themselves."""

FORMATS = ("table", "json", "csv", "markdown")
