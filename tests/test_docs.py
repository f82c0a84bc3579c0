"""The docs match the code: every setting is in the README's configuration table."""

from __future__ import annotations

import re

from reader.config import ENV_NAMES, Settings
from tests.conftest import ROOT


def _readme_variables() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(READER_[A-Z_]+)` \|", table, flags=re.M)


def test_every_setting_is_in_the_readme_table_in_order() -> None:
    assert _readme_variables() == [f"READER_{name.upper()}" for name in ENV_NAMES]


def test_every_settings_field_has_a_variable() -> None:
    fields = set(Settings.__dataclass_fields__) - {"extra", "rules_files", "lexicon_files"}
    names = set(ENV_NAMES) - {"rules", "lexicon"}
    assert fields == names
