"""The README's promises: its test command is what CI runs, and every CLI command is documented."""
import re
from pathlib import Path

from web.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def fenced_commands() -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S)]


def test_readme_opens_with_demo_then_test_command():
    first, second = fenced_commands()[:2]
    assert first.endswith("newsdex demo") and "pip install" in first
    assert "pytest" in second and "pip install" in second


def test_ci_runs_exactly_the_readme_test_command():
    test_command = fenced_commands()[1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_every_cli_command_is_documented():
    for name in main.commands:
        assert f"`newsdex {name}" in README, f"newsdex {name} is not documented in README.md"
