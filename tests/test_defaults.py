"""One source for every default: ``Settings``. The README's settings table, the chart's values and its
Deployment, and the CLI's help texts must agree with it; a default changed in one place alone fails here."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from webhook.cli.serve import serve_arguments
from webhook.core.settings import Settings, _text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = Settings()
ROW = re.compile(r"^\| `(?P<name>\w+)` \| `(?P<env>\w+)` \| (?P<default>[^|]+) \| (?P<chart>[^|]+) \|", re.M)


def readme_rows() -> dict[str, dict[str, str]]:
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| setting | `NSMIGRATE_` variable |") :]
    table = table[: table.index("\n\n")]
    return {m["name"]: {k: v.strip() for k, v in m.groupdict().items()} for m in ROW.finditer(table)}


def shown(value: Any) -> str:
    """How the README writes a default."""
    return "none" if value in (None, "") else f"`{_text(value)}`"


def chart_value(path: str) -> Any:
    node: Any = yaml.safe_load((ROOT / "chart" / "values.yaml").read_text())
    for key in path.split("."):
        node = node[key]
    return node


def test_the_readme_table_lists_every_setting_with_its_default_and_variable() -> None:
    rows = readme_rows()
    assert list(rows) == [spec.name for spec in fields(Settings)]
    for name, row in rows.items():
        assert row["env"] == name.upper()
        assert row["default"] == shown(getattr(DEFAULT, name)), name


CHART_VALUES = [
    (name, row["chart"].strip("`")) for name, row in readme_rows().items() if re.fullmatch(r"`[\w.]+`", row["chart"])
]


@pytest.mark.parametrize(("name", "path"), CHART_VALUES, ids=[name for name, _ in CHART_VALUES])
def test_a_chart_value_defaults_to_the_setting_and_reaches_its_variable(name: str, path: str) -> None:
    value = chart_value(path)
    expected = getattr(DEFAULT, name)
    if isinstance(expected, tuple):
        assert sorted(value) == sorted(expected)
    elif isinstance(expected, bool | str):
        assert value == expected
    else:
        assert float(value) == float(expected)
    deployment = (ROOT / "chart" / "templates" / "deployment.yaml").read_text()
    passed = re.search(rf"- name: NSMIGRATE_{name.upper()}\n\s+value: [^\n]*\.Values\.{re.escape(path)}\b", deployment)
    assert passed, f"the Deployment does not pass {path} as NSMIGRATE_{name.upper()}"


def test_the_chart_passes_the_excluded_namespaces_to_the_core() -> None:
    assert ("excluded_namespaces", "webhook.excludedNamespaces") in CHART_VALUES
    narrowed = Settings(excluded_namespaces=("legacy-tools",))
    assert "legacy-tools" in narrowed.protected_namespaces
    assert {"kube-system", "kube-public", "kube-node-lease"} <= narrowed.protected_namespaces


def test_the_serve_help_quotes_the_settings_defaults() -> None:
    helps = {action.dest: action.help or "" for action in serve_arguments()._actions}
    for name in ("host", "port", "cert_file", "key_file", "cluster_domain", "failure_policy"):
        assert f"(default {getattr(DEFAULT, name)})" in helps[name], name
