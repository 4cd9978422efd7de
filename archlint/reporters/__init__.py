"""One module per output format; each sees only findings and rule metadata."""

from __future__ import annotations

import importlib
from typing import TextIO

from archlint.engine import Report

FORMATS = ("text", "json", "sarif", "junit", "github", "html")


def write(report: Report, fmt: str, stream: TextIO, *, color: bool = False) -> None:
    module = importlib.import_module(f"archlint.reporters.{fmt}_format")
    module.write(report, stream, color=color)
