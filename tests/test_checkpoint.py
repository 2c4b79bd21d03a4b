import json

import pytest
import torch

from ganstudio import CheckpointError, ImagePipeline
from ganstudio.checkpoint import CONFIG_NAME, WEIGHTS_NAME, load_pretrained, prefixed, save_pretrained, sha256_file


def test_round_trip_keeps_tensors_and_records_hash(tmp_path):
    tensors = {"a.weight": torch.randn(3, 4), "a.bias": torch.arange(5, dtype=torch.int64)}
    written = save_pretrained(tmp_path / "ck", {"family": "x", "class": "Y", "args": {}}, tensors, "# card\n")
    config, loaded = load_pretrained(tmp_path / "ck")
    assert config["weights_sha256"] == sha256_file(tmp_path / "ck" / WEIGHTS_NAME) == written["weights_sha256"]
    assert config["format_version"] == 1
    assert set(loaded) == set(tensors)
    for k in tensors:
        assert torch.equal(loaded[k], tensors[k])
    assert (tmp_path / "ck" / "README.md").read_text() == "# card\n"
    assert not list((tmp_path / "ck").glob("*.tmp")), "temporary files must be renamed away"


def test_tampered_weights_are_refused(tiny_image_checkpoint):
    weights = tiny_image_checkpoint / WEIGHTS_NAME
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its config"):
        ImagePipeline.from_pretrained(tiny_image_checkpoint)


def test_truncated_weights_are_refused(tiny_image_checkpoint):
    weights = tiny_image_checkpoint / WEIGHTS_NAME
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="altered or is truncated"):
        load_pretrained(tiny_image_checkpoint)


def test_newer_format_is_refused_with_version_named(tiny_image_checkpoint):
    path = tiny_image_checkpoint / CONFIG_NAME
    config = json.loads(path.read_text())
    config["format_version"] = 99
    path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="version 99"):
        load_pretrained(tiny_image_checkpoint)


def test_config_that_does_not_match_weights_is_refused(tiny_image_checkpoint):
    path = tiny_image_checkpoint / CONFIG_NAME
    config = json.loads(path.read_text())
    config["args"]["generator"]["width"] = 8  # weights were saved for width 4
    path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="do not match config.json"):
        ImagePipeline.from_pretrained(tiny_image_checkpoint)


def test_missing_directory_and_corrupt_config(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_pretrained(tmp_path / "nothing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / CONFIG_NAME).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_pretrained(tmp_path / "bad")


def test_wrong_family_is_refused(tmp_path):
    save_pretrained(tmp_path / "t", {"family": "seqgan", "class": "X", "args": {}}, prefixed("g", {"w": torch.ones(1)}), "")
    with pytest.raises(CheckpointError, match="needs 'dcgan'"):
        ImagePipeline.from_pretrained(tmp_path / "t")


def test_skip_weight_init_is_scoped_and_loading_fills_every_weight(tiny_image_checkpoint):
    from ganstudio.models.dcgan import Generator
    from ganstudio.pipelines.base import skip_weight_init

    import threading

    other = {}
    with skip_weight_init():
        t = torch.full((3,), 7.0)
        assert torch.equal(torch.nn.init.normal_(t), torch.zeros(3))  # no random draw
        assert torch.equal(torch.full((3,), 7.0).uniform_(), torch.zeros(3))
        # another thread (a request drawing its noise) is not affected
        thread = threading.Thread(target=lambda: other.setdefault("x", torch.nn.init.normal_(torch.full((3,), 7.0))))
        thread.start()
        thread.join()
    assert not torch.equal(other["x"], torch.full((3,), 7.0))
    assert not torch.equal(torch.nn.init.normal_(torch.full((3,), 7.0)), torch.full((3,), 7.0))
    pipe = ImagePipeline.from_pretrained(tiny_image_checkpoint, device="cpu")
    built = pipe.build(Generator, pipe.config["args"]["generator"], load_pretrained(tiny_image_checkpoint)[1], "generator_ema")
    for (name, a), (_, b) in zip(built.state_dict().items(), pipe.generator.state_dict().items()):
        assert torch.equal(a, b), name
