"""Security: nothing read from disk or a user can run code, the signing key never leaves its
directory, uploads are capped, typed by content and kept inside Gradio's cache, outputs do not
pile up. The server tests run `python app.py` as a person would, on tiny checkpoints."""

from __future__ import annotations

import ast
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from demo import common

from .conftest import ROOT, connect, free_port, make_studio_checkpoints

PROJECT = [ROOT / "app.py", *(p for d in ("ganstudio", "demo", "training", "benchmarks") for p in sorted((ROOT / d).rglob("*.py")))]
PICKLING_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


# ---- no pickle anywhere ----------------------------------------------------------------------

def unsafe_loading(source: str, name: str = "<source>") -> list[str]:
    """Where `source` imports a pickling module or loads without weights_only=True / with allow_pickle."""
    problems = []
    torch_load_names = {"torch.load"}  # what `torch.load` is called in this file
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PICKLING_MODULES:
                    problems.append(f"{name}:{node.lineno} imports {alias.name}")
                if alias.name == "torch" and alias.asname:
                    torch_load_names.add(f"{alias.asname}.load")
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in PICKLING_MODULES:
                problems.append(f"{name}:{node.lineno} imports from {node.module}")
            if node.module in ("torch", "torch.serialization"):
                torch_load_names |= {a.asname or a.name for a in node.names if a.name == "load"}
    for node in ast.walk(ast.parse(source, name)):
        if not isinstance(node, ast.Call):
            continue
        called = ast.unparse(node.func)
        keywords = {k.arg: k.value for k in node.keywords}
        if called in torch_load_names or called == "torch.serialization.load":
            flag = keywords.get("weights_only")
            if not (isinstance(flag, ast.Constant) and flag.value is True):
                problems.append(f"{name}:{node.lineno} calls {called} without weights_only=True")
        flag = keywords.get("allow_pickle")
        if flag is not None and not (isinstance(flag, ast.Constant) and flag.value is False):
            problems.append(f"{name}:{node.lineno} calls {called} with allow_pickle")
    return problems


def test_the_checker_finds_each_kind_of_unsafe_loading():
    bad = ("import pickle\nfrom joblib import load\nimport torch as T\nfrom torch import load as L\nimport torch\n"
           "torch.load('a')\nT.load('b', weights_only=False)\nL('c')\nnp.load('d', allow_pickle=True)\ntorch.load('e', weights_only=flag)\n")
    assert len(unsafe_loading(bad)) == 7, unsafe_loading(bad)
    assert unsafe_loading("import torch\ntorch.load('a', map_location='cpu', weights_only=True)\nnp.load('x')\n") == []


def test_no_project_file_can_unpickle():
    assert len(PROJECT) > 20
    problems = [p for path in PROJECT for p in unsafe_loading(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert problems == []


# ---- the studio as app.py serves it -----------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`python app.py` on tiny checkpoints with its own data directory, Gradio cache and log."""
    root = tmp_path_factory.mktemp("served")
    home, cache, log = root / "home", root / "gradio-cache", root / "server.log"
    checkpoints = make_studio_checkpoints(root / "checkpoints")
    port = free_port()
    env = {**os.environ, "GANSTUDIO_HOME": str(home), "GANSTUDIO_CHECKPOINTS": str(checkpoints), "GRADIO_TEMP_DIR": str(cache),
           "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--no-mcp"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(log.read_text()[-3000:])
            time.sleep(0.5)
    yield {"url": url, "home": home, "cache": cache, "log": log, "root": root, "client": connect(url + "/")}
    proc.terminate()
    proc.wait(timeout=30)


def private_key_forms(home: Path) -> dict[str, bytes]:
    pem = (home / "signing-key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    return {"PEM body": body, "raw key": raw, "raw key base64": base64.b64encode(raw), "raw key hex": raw.hex().encode(),
            "DER": der, "DER base64": base64.b64encode(der), "raw key urlsafe base64": base64.urlsafe_b64encode(raw).rstrip(b"=")}


def every_file_under(value) -> list[Path]:
    """The files an API answer points to (paths, or dicts with a path)."""
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in every_file_under(v)]
    if isinstance(value, dict):
        return [p for v in value.values() for p in every_file_under(v)]
    if isinstance(value, str) and len(value) < 4096 and os.path.isfile(value):
        return [Path(value)]
    return []


def test_the_signing_key_never_appears_in_a_response_or_the_log(served):
    from gradio_client import handle_file

    client = served["client"]
    answers = [client.predict("4", 3, 9, 1.0, True, api_name="/generate_image"),
               client.predict("any", 1, 2, 3, 1.0, api_name="/latent_walk"),
               client.predict("coco", "a dog", 2, 0, 1.0, 0, 4, api_name="/generate_text"),
               client.predict("C G Am F", 2, 100, "D", "Flute", 1, 5, None, api_name="/generate_music")]
    grid = answers[0][1]
    for name in ("/verify", "/regenerate"):
        answers.append(client.predict(handle_file(grid), None, api_name=name))
    answers.append(client.predict(handle_file(grid), api_name="/discriminator_score"))
    assert answers[4][0].startswith("### ✅"), answers[4][0]  # signed with the key under test
    pages = [urllib.request.urlopen(served["url"] + path, timeout=30).read() for path in ("/", "/config", "/gradio_api/info")]
    time.sleep(0.5)  # let the server flush its log
    seen = {"answers": json.dumps(answers, ensure_ascii=False, default=str).encode(), "pages": b"".join(pages),
            "log": served["log"].read_bytes(), **{str(p): p.read_bytes() for p in every_file_under(answers)}}
    assert len(seen) > 10
    for form, secret in private_key_forms(served["home"]).items():
        for where, data in seen.items():
            assert secret not in data, f"the private key ({form}) appears in {where}"


def test_the_key_file_is_owner_only_and_not_served(served):
    key = served["home"] / "signing-key.pem"
    assert key.stat().st_mode & 0o077 == 0 and served["home"].stat().st_mode & 0o077 == 0
    for path in (key, Path("/etc/passwd"), served["home"] / "ledger.jsonl", ROOT / "app.py"):
        for route in (f"/gradio_api/file={path}", f"/gradio_api/file/{path}", f"/file={path}",
                      f"/gradio_api/file={served['cache']}/../home/{key.name}"):
            status = httpx.get(served["url"] + route, timeout=30).status_code
            assert status in (403, 404), (route, status)


# ---- uploads ------------------------------------------------------------------------------------

def upload(url: str, name: str, data: bytes) -> httpx.Response:
    return httpx.post(url + "/gradio_api/upload", files={"files": (name, data, "application/octet-stream")}, timeout=60)


def files_in(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_an_upload_over_the_cap_is_refused_and_not_kept(served):
    before = files_in(served["cache"])
    marker = uuid.uuid4().hex
    response = upload(served["url"], f"{marker}.mid", b"MThd" + b"\0" * (6 << 20))  # app.py caps uploads at 5 MB
    assert response.status_code in (400, 413), response.status_code
    assert str(5 << 20) in response.text, response.text[:300]  # Gradio says: maximum allowed size of 5242880 bytes
    assert not any(marker in p.name for p in files_in(served["cache"]) - before)
    assert upload(served["url"], "small.mid", b"MThd" + b"\0" * (1 << 20)).status_code == 200  # under the cap: accepted


@pytest.mark.parametrize("name", ["../../../../escape-{m}.png", "..\\..\\escape-{m}.png", "/tmp/escape-{m}.png",
                                  "sub/../../escape-{m}.png", "%2e%2e%2fescape-{m}.png", "escape-{m}.png\x00.txt"])
def test_an_upload_name_cannot_leave_the_cache(served, name):
    marker = uuid.uuid4().hex
    response = upload(served["url"], name.format(m=marker), b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    if response.status_code == 200:
        stored = Path(response.json()[0]).resolve()
        assert stored.is_relative_to(served["cache"].resolve()), stored
    escaped = [p for p in (*served["root"].rglob(f"*{marker}*"), *Path("/tmp").glob(f"*{marker}*"))
               if not p.resolve().is_relative_to(served["cache"].resolve())]
    assert escaped == []


@pytest.mark.parametrize("name, data, words", [
    ("digits.png", b"PK\x03\x04\x14\x00\x08\x08\xff\xfe" + b"\0" * 60, "not a PNG, WAV, MIDI or UTF-8 text"),
    ("notes.txt", b"PK\x03\x04" + b"\0" * 60, "No provenance"),  # bytes that decode as text are checked as text
    ("song.mid", b"\x89PNG\r\n\x1a\n" + b"\0" * 60, "not a readable image"),
    ("poem.txt", b"\xff\xfe\x00\xd8 binary", "not a PNG, WAV, MIDI or UTF-8 text"),
    ("take.wav", b"MThd\x00\x00\x00\x06", "MIDI"),
])
def test_uploads_are_typed_by_content_not_by_name(served, tmp_path, name, data, words):
    """The verdict names what the bytes are, whatever the file is called."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    path = tmp_path / name
    path.write_bytes(data)
    try:
        text = json.dumps(served["client"].predict(handle_file(str(path)), None, api_name="/verify"), ensure_ascii=False)
    except AppError as e:
        text = str(e)
    assert words in text, text[:500]


# ---- output files ------------------------------------------------------------------------------

def test_output_names_cannot_leave_the_output_folder():
    for name in ("../../escape.png", "/etc/escape.png", "a/../../b.png"):
        path = Path(common.write_output(b"x", name)).resolve()
        assert path.parent.parent == common.OUTPUT_DIR.resolve() and ".." not in path.parts


def test_old_output_folders_are_removed():
    old, new = Path(common.write_output(b"old", "old.png")), Path(common.write_output(b"new", "new.png"))
    an_hour_ago = time.time() - 3600
    os.utime(old.parent, (an_hour_ago, an_hour_ago))
    common.prune_outputs()
    assert not old.parent.exists() and new.read_bytes() == b"new"
