"""The server as app.py starts it: login, upload cap, MCP tools, queue limits."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from argparse import Namespace

import pytest

from demo.app import launch_options

from .conftest import ROOT, free_port


def args(**kw):
    return Namespace(**{"host": "127.0.0.1", "port": 7860, "share": False, "auth": None, "no_mcp": False, **kw})


def test_auth_is_parsed_and_checked():
    assert launch_options(args(auth="ada:s3cret"))["auth"] == ("ada", "s3cret")
    assert launch_options(args())["auth"] is None
    for bad in ("ada", ":pw", "ada:"):
        with pytest.raises(SystemExit, match="USER:PASSWORD"):
            launch_options(args(auth=bad))


def test_uploads_are_capped_and_mcp_can_be_turned_off():
    assert launch_options(args())["max_file_size"] == "5mb"
    assert launch_options(args(no_mcp=True))["mcp_server"] is False


@pytest.fixture(scope="module")
def app_server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()[-2000:])
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_mcp_endpoint_lists_the_generate_tools(app_server):
    pytest.importorskip("mcp", reason="the optional mcp package is not installed")
    with urllib.request.urlopen(app_server + "/gradio_api/mcp/schema", timeout=30) as r:
        tools = json.loads(r.read())
    names = {t["name"] for t in tools}
    assert {"generate_image"} <= names, names
    image = next(t for t in tools if t["name"] == "generate_image")
    assert {"label", "count", "seed", "truncation"} <= set(image["inputSchema"]["properties"])


def test_every_control_starts_at_its_endpoints_default():
    """What the browser shows first is what a script gets by leaving a parameter out."""
    import inspect

    from demo.app import build_app

    from .conftest import SHIPPED

    demo = build_app(SHIPPED)
    checked = 0
    for fn in demo.fns.values():
        if fn.api_name not in ("generate_image", "latent_walk", "generate_text", "generate_music"):
            continue
        params = list(inspect.signature(fn.fn).parameters.values())
        assert len(params) == len(fn.inputs), fn.api_name
        for component, param in zip(fn.inputs, params):
            assert component.value == param.default, f"{fn.api_name}: {param.name} shows {component.value!r}, defaults to {param.default!r}"
            checked += 1
    assert checked == 25
