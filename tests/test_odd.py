"""docs/ODD.md must describe the code: its parameter table is generated from the configuration,
and its outcomes section names every summary key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helsesim import odd
from helsesim.config import parameter_table
from helsesim.outcomes import SUMMARY_KEYS

ODD_PATH = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"

#: Summary keys the ODD's outcomes section must define (every key of the registry).
REQUIRED_SUMMARY_KEYS = list(SUMMARY_KEYS)


@pytest.fixture(scope="module")
def odd_text() -> str:
    return ODD_PATH.read_text(encoding="utf-8")


def outcomes_section(text: str) -> str:
    """The level-2 section whose heading contains 'Outcomes', up to the next level-2 heading."""
    m = re.search(r"^## [^\n]*Outcomes[^\n]*\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert m, "docs/ODD.md has no level-2 section with 'Outcomes' in its heading"
    return m.group(1)


def test_parameter_table_matches_config(odd_text):
    in_file = odd.current_table(odd_text)
    assert in_file == odd.parameter_table_markdown(), (
        "the parameter table in docs/ODD.md differs from helsesim.config; "
        "run `python -m helsesim.odd` to regenerate it")


@pytest.mark.parametrize("section", ["year outcome table", "run outcome table"])
def test_outcome_tables_match_the_registry(odd_text, section):
    begin, end, render = odd.SECTIONS[section]
    assert odd.current_table(odd_text, begin, end) == render(), (
        f"the {section} in docs/ODD.md differs from helsesim.outcomes; "
        "run `python -m helsesim.odd` to regenerate it")


def test_every_parameter_is_in_the_odd(odd_text):
    table = odd.current_table(odd_text)
    missing = [r["path"] for r in parameter_table() if f"| `{r['path']}` |" not in table]
    assert not missing, f"parameters missing from docs/ODD.md: {missing}"


@pytest.mark.parametrize("key", REQUIRED_SUMMARY_KEYS)
def test_summary_key_defined_in_outcomes_section(odd_text, key):
    assert f"`{key}`" in outcomes_section(odd_text), (
        f"summary key {key!r} is not defined in the outcomes section of docs/ODD.md")


def test_documented_summary_keys_exist_and_all_are_documented(odd_text):
    """The ODD lists exactly the keys the code returns (a short synthetic run)."""
    import helsesim

    keys = set(helsesim.simulate("synthetic", "open_call", seed=1, years=2,
                                 n_municipalities=12).summary)
    assert set(REQUIRED_SUMMARY_KEYS) <= keys
    section = outcomes_section(odd_text)
    undocumented = sorted(k for k in keys if f"`{k}`" not in section)
    assert not undocumented, (f"summary keys returned by the model but not defined in the "
                              f"outcomes section of docs/ODD.md: {undocumented}")


def test_the_odd_has_the_seven_elements_and_eleven_design_concepts(odd_text):
    for n, title in enumerate(["Purpose and patterns", "Entities, state variables and scales",
                               "Process overview and scheduling", "Design concepts",
                               "Initialization", "Input data", "Submodels"], start=1):
        assert re.search(rf"^## {n}\. {re.escape(title)}", odd_text, flags=re.M), title
    for concept in ["Basic principles", "Emergence", "Adaptation", "Objectives", "Learning",
                    "Prediction", "Sensing", "Interaction", "Stochasticity", "Collectives",
                    "Observation"]:
        assert re.search(rf"^### 4\.\d+ {concept}", odd_text, flags=re.M), concept
    for pattern in [f"P{i}" for i in range(1, 10)]:
        assert f"| {pattern} |" in odd_text, pattern


def test_check_mode_fails_on_a_stale_table_and_passes_after_regeneration(tmp_path, capsys):
    path = tmp_path / "ODD.md"
    stale = "".join(f"{begin}\nstale\n{end}\n\n" for begin, end, _ in odd.SECTIONS.values())
    path.write_text(f"# x\n\n{stale}tail\n", encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        odd.main(["--check", "--path", str(path)])
    assert e.value.code == 1
    assert "python -m helsesim.odd" in capsys.readouterr().err
    assert odd.main(["--path", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# x\n") and text.endswith("\ntail\n") and "stale" not in text
    assert odd.main(["--check", "--path", str(path)]) == 0


def test_missing_markers_are_an_error(tmp_path):
    path = tmp_path / "ODD.md"
    path.write_text("no markers here\n", encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        odd.main(["--check", "--path", str(path)])
    assert e.value.code == 2


@pytest.mark.parametrize("value, text", [
    (280e6, "280,000,000"), (0.015, "0.015"), (-0.156, "-0.156"), (5000, "5,000"),
    ([0.3, 0.4, 0.3], "[0.3, 0.4, 0.3]"), (None, "— (derived)"), ("open_call", "`open_call`"),
    (False, "`False`"),
])
def test_format_default(value, text):
    assert odd.format_default(value) == text


def test_escape_pipes_and_line_breaks():
    assert odd.escape("a | b\n c") == "a \\| b c"
