import json
import subprocess
import sys

from PIL import Image

from ganstudio.cli import main

from .conftest import ROOT


def test_image_command_writes_grid_and_native_samples(tmp_path, capsys):
    assert main(["--device", "cpu", "image", "--label", "7", "--n", "3", "--seed", "1", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["grid.png", "sample-000.png", "sample-001.png", "sample-002.png"]
    sample = Image.open(tmp_path / "sample-001.png")
    assert sample.size == (28, 28)
    meta = json.loads(sample.text["ganstudio"])
    assert meta["parameters"] == {"label": "7", "count": 3, "seed": 1, "truncation": 2.0}
    assert meta["ai_generated"] is True


def test_same_command_same_pixels(tmp_path):
    for d in ("a", "b"):
        main(["--device", "cpu", "image", "--label", "any", "--n", "4", "--seed", "9", "--out", str(tmp_path / d)])
    for i in range(4):
        a = Image.open(tmp_path / "a" / f"sample-00{i}.png").tobytes()
        assert a == Image.open(tmp_path / "b" / f"sample-00{i}.png").tobytes()


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ganstudio", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_bad_arguments_exit_2_with_one_line(tmp_path):
    for args in (["image", "--n", "0", "--out", str(tmp_path)],
                 ["image", "--label", "x", "--out", str(tmp_path)],
                 ["image", "--seed", "-5", "--out", str(tmp_path)],
                 ["image", "--n", "many", "--out", str(tmp_path)],
                 ["image"]):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ganstudio: error:"), proc.stderr
    assert not list(tmp_path.iterdir()), "a refused command must write nothing"


def test_missing_checkpoint_exits_2(tmp_path):
    proc = run_cli("image", "--checkpoint", str(tmp_path / "none"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "not found" in proc.stderr
