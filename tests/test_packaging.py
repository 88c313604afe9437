"""pyproject.toml builds a wheel with the `assistant` command, the py.typed marker and the package data."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

from web_support import ROOT


def test_wheel_has_the_console_script_types_marker_and_data(tmp_path):
    # Built from a copy: setuptools leaves build/ and *.egg-info/ beside the sources it builds.
    src = tmp_path / "src"
    shutil.copytree(ROOT / "assistant", src / "assistant", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(src)], check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
        metadata = next(zf.read(n).decode() for n in names if n.endswith("METADATA"))
    assert "assistant = assistant.cli:main" in entry_points
    assert {"assistant/py.typed", "assistant/data/intents.tsv", "assistant/pool.py"} <= names
    assert not any(n.startswith(("tests/", "eval/", "corpus/")) for n in names)
    assert "Requires-Dist: torch==2.13.0" in metadata  # the pins of requirements.txt, not looser ones

    # The command's target is the CLI every README example uses.
    out = subprocess.run([sys.executable, "-c", "from assistant.cli import main; main(['--help'])"], cwd=ROOT,
                         capture_output=True, text=True)
    assert "plans" in out.stdout and "ask" in out.stdout
