"""The README's settings table is how an operator learns the platform's knobs: every setting must be in it."""

from __future__ import annotations

import re
from pathlib import Path

from api.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def documented_variables() -> set[str]:
    section = README.read_text().split("## Settings", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for cell in re.findall(r"^\| ([^|]+) \|", section, flags=re.MULTILINE):
        full = re.findall(r"`(PEERLEND_[A-Z0-9_]+)`", cell)
        names.update(full)
        # "`PEERLEND_SMTP_HOST`, `_PORT`" shares the first variable's prefix
        if full:
            prefix = full[0].rsplit("_", 1)[0]
            names.update(prefix + suffix for suffix in re.findall(r"`(_[A-Z0-9_]+)`", cell))
    return names


def test_every_setting_is_in_the_readme() -> None:
    expected = {f"PEERLEND_{name.upper()}" for name in Settings.model_fields}
    missing = sorted(expected - documented_variables())
    assert not missing, f"README.md's Settings table lacks {missing}"
