import io
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from ganstudio import ImagePipeline, InvalidParameterError
from ganstudio.models.dcgan import Discriminator, Generator
from ganstudio.pipelines.image import slerp


def test_generator_and_discriminator_shapes():
    g, d = Generator(z_dim=16, width=4), Discriminator(width=4)
    x = g(torch.randn(5, 16), torch.arange(5))
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x, torch.arange(5)).shape == (5,)


def test_soft_labels_equal_hard_labels_for_one_hot():
    g = Generator(z_dim=16, width=4).eval()
    z, y = torch.randn(4, 16), torch.tensor([0, 3, 7, 9])
    assert torch.allclose(g(z, y), g(z, torch.eye(10)[y]), atol=1e-6)


def test_inference_norm_folds_the_running_statistics_and_the_class_affine():
    from ganstudio.models.dcgan import ConditionalBatchNorm2d

    torch.manual_seed(0)
    cbn = ConditionalBatchNorm2d(5, 3)
    torch.nn.init.normal_(cbn.gain.weight)
    torch.nn.init.normal_(cbn.bias.weight)
    cbn.bn.running_mean.normal_()
    cbn.bn.running_var.uniform_(0.5, 2.0)
    x, y = torch.randn(4, 5, 6, 6), torch.tensor([0, 2, 1, 2])
    cbn.eval()
    normed = (x - cbn.bn.running_mean[:, None, None]) / torch.sqrt(cbn.bn.running_var[:, None, None] + cbn.bn.eps)
    expected = normed * cbn.gain(y)[:, :, None, None] + cbn.bias(y)[:, :, None, None]
    torch.testing.assert_close(cbn(x, y), expected)
    # a channels-last generator computes the same images
    g = Generator(width=8).eval()
    z, labels = torch.randn(3, 128), torch.tensor([1, 4, 7])
    with torch.no_grad():
        plain = g(z, labels)
        fast = g.to(memory_format=torch.channels_last)(z, labels)
    assert g.up1.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fast, plain, atol=1e-5, rtol=1e-5)


def test_same_seed_same_bytes_other_seed_other_images(tiny_image_checkpoint):
    pipe = ImagePipeline.from_pretrained(tiny_image_checkpoint, device="cpu")
    a, b = pipe(label="3", count=8, seed=42), pipe(label="3", count=8, seed=42)
    assert a.png_bytes() == b.png_bytes()
    assert [im.tobytes() for im in a.images] == [im.tobytes() for im in b.images]
    c = pipe(label="3", count=8, seed=43)
    assert a.images[0].tobytes() != c.images[0].tobytes()


def test_from_pretrained_is_loaded_once(tiny_image_checkpoint):
    assert ImagePipeline.from_pretrained(tiny_image_checkpoint, "cpu") is ImagePipeline.from_pretrained(tiny_image_checkpoint, "cpu")


def test_result_images_labels_and_metadata(tiny_image_checkpoint):
    r = ImagePipeline.from_pretrained(tiny_image_checkpoint, device="cpu")(label="any", count=12, seed=5, truncation=1.5)
    assert len(r.images) == 12 and all(im.size == (28, 28) and im.mode == "L" for im in r.images)
    assert r.labels == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert r.metadata["parameters"] == {"label": "any", "count": 12, "seed": 5, "truncation": 1.5}
    assert r.metadata["ai_generated"] is True and len(r.metadata["checkpoint_sha256"]) == 64
    png = Image.open(io.BytesIO(r.png_bytes()))
    assert json.loads(png.text["ganstudio"])["parameters"]["seed"] == 5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"count": 0}, "count must be from 1 to 64"),
        ({"count": 10_000}, "count must be from 1 to 64"),
        ({"count": 2.5}, "whole number"),
        ({"seed": -1}, "seed must be from 0"),
        ({"seed": 2**40}, "seed must be from 0"),
        ({"label": "11"}, "label must be one of"),
        ({"label": "cat"}, "label must be one of"),
        ({"truncation": math.nan}, "truncation must be a number"),
        ({"truncation": 0.0}, "truncation must be a number"),
        ({"truncation": "lots"}, "truncation must be a number"),
    ],
)
def test_invalid_parameters_raise_one_readable_error(tiny_image_checkpoint, kwargs, match):
    pipe = ImagePipeline.from_pretrained(tiny_image_checkpoint, device="cpu")
    with pytest.raises(InvalidParameterError, match=match):
        pipe(**kwargs)


def test_truncation_bounds_the_latent(tiny_image_checkpoint):
    from ganstudio.pipelines.image import truncated_normal

    z = truncated_normal((1000, 16), 0.5, torch.Generator().manual_seed(0))
    assert z.abs().max() <= 0.5 and z.std() > 0.2


def test_walk_starts_and_ends_at_the_two_seeds(tiny_image_checkpoint):
    pipe = ImagePipeline.from_pretrained(tiny_image_checkpoint, device="cpu")
    w = pipe.walk(label="4", seed_a=10, seed_b=20, frames=6)
    assert len(w.frames) == 6
    assert w.frames[0].tobytes() == pipe(label="4", count=1, seed=10).images[0].tobytes()
    assert w.frames[-1].tobytes() == pipe(label="4", count=1, seed=20).images[0].tobytes()
    gif = Image.open(io.BytesIO(w.gif_bytes()))
    assert gif.format == "GIF" and gif.n_frames == 10  # forward 6, back 4
    assert w.strip.width > w.strip.height


def test_slerp_keeps_norm_between_equal_norm_ends():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    path = slerp(a, b, torch.linspace(0, 1, 5))
    assert torch.allclose(path.norm(dim=1), torch.ones(5), atol=1e-5)
    assert torch.allclose(path[0], a, atol=1e-6) and torch.allclose(path[-1], b, atol=1e-6)


def test_shipped_checkpoint_draws_the_asked_digit():
    """The shipped model, judged by the shipped classifier, on a small sample."""
    from tests.conftest import SHIPPED
    from ganstudio.metrics import features_and_predictions, load_classifier, to_model_range

    pipe = ImagePipeline.from_pretrained(SHIPPED / "mnist-cdcgan", device="cpu")
    clf = load_classifier(SHIPPED / "mnist-classifier")
    r = pipe(label="any", count=60, seed=7)
    _, pred = features_and_predictions(clf, to_model_range(np.stack([np.asarray(i) for i in r.images])))
    assert (pred == torch.tensor(r.labels)).float().mean() >= 0.95
