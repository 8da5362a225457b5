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


def test_every_data_file_of_the_packages_is_installed():
    """A non-editable install ships what setup.cfg's package_data names: every non-Python file must match it."""
    import configparser
    from fnmatch import fnmatch
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    for package, patterns in cfg["options.package_data"].items():
        globs = [p.strip() for p in patterns.split(",") if p.strip()]
        base = ROOT / package
        for path in base.rglob("*"):
            rel = path.relative_to(base).as_posix()
            if path.is_file() and path.suffix != ".py" and "__pycache__" not in rel:
                assert any(fnmatch(rel, g) for g in globs), f"{package}/{rel} is not in package_data"
