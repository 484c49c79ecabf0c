"""Renderers: Report → text. They format what the engine computed and never compute themselves."""

FORMATS = ("table", "json", "csv", "markdown")

# `check --format NAME` → the module under cnncalc/render/ whose render_check(results) writes it.
CHECK_FORMATS = {"text": "problems", "github": "github", "json": "check_json", "sarif": "sarif", "junit": "junit"}
