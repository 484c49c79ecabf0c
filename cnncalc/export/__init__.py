"""Exporters: a spec translated into another framework's source code, returned as text."""
