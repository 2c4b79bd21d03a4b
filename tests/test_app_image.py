"""The Image tab through the HTTP API, as a script would use it."""

import json

import pytest
from gradio_client import Client
from PIL import Image


def test_generate_image_by_keyword(client: Client):
    gallery, grid, meta = client.predict(label="5", count=4, seed=3, truncation=1.5, api_name="/generate_image")
    assert len(gallery) == 4
    assert all("AI-generated" in item["caption"] for item in gallery)
    png = Image.open(grid)
    params = json.loads(png.text["ganstudio"])["parameters"]
    assert params == {"label": "5", "count": 4, "seed": 3, "truncation": 1.5}
    assert meta["parameters"]["seed"] == 3


def test_defaults_are_usable(client: Client):
    gallery, _, meta = client.predict(api_name="/generate_image")
    assert len(gallery) == 16 and meta["parameters"]["label"] == "any"


# Sliders and dropdowns check their own bounds before the pipeline sees the value.
@pytest.mark.parametrize("kwargs, message", [
    ({"count": 0}, "less than minimum value 1"),
    ({"count": 10000}, "greater than maximum value 64"),
    ({"seed": -1}, "seed must be from 0 to 4294967295"),
    ({"seed": 2.5}, "seed must be a whole number"),
    ({"label": "12"}, "12"),
])
def test_bad_input_is_a_readable_error_and_the_app_keeps_serving(client: Client, kwargs, message):
    with pytest.raises(Exception, match=message):
        client.predict(**kwargs, api_name="/generate_image")
    gallery, _, _ = client.predict(count=1, api_name="/generate_image")
    assert len(gallery) == 1


def test_latent_walk(client: Client):
    gif, strip, meta = client.predict(label="any", seed_a=1, seed_b=2, frames=5, truncation=2.0, api_name="/latent_walk")
    anim = Image.open(gif)
    assert anim.format == "GIF" and anim.n_frames == 8
    assert meta["parameters"]["frames"] == 5
