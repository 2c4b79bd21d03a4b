"""Inference speed, cold start and memory of the studio.

In process: p50/p95 of each pipeline call (the model, no file writing or signing) for the UI's typical request (64 digits; 16 sentences;
8 bars rendered to MIDI and audio). Through HTTP: the same requests by gradio_client against
`python app.py` started by this script on loopback, whose cold start (seconds from launch to
the first successful request) is shown beside the time to merely import gradio and torch.
Memory: the server's resident set idle with all models loaded, and after the requests.

HTTP is measured two ways: by gradio_client (what scripts use), and by Gradio's plain REST
route (POST /gradio_api/call/NAME, then GET its result stream) with nothing but urllib. Each
beside its floor: the same route to a one-line endpoint (x + 1) of a bare Blocks app with the
same queue settings, started here too, so the studio's own HTTP overhead can be told from the
client's and the framework's.

    python benchmarks/speed.py --repeats 50
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = {
    "image: 64 digits": ("/generate_image", {"label": "any", "count": 64, "seed": 1}),
    "text: 16 sentences": ("/generate_text", {"model": "coco", "count": 16, "seed": 1}),
    "music: 8 bars, MIDI + audio": ("/generate_music", {"chords": "C G Am F", "bars": 8, "seed": 1}),
}


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return times[len(times) // 2] * 1000, times[min(len(times) - 1, int(len(times) * 0.95))] * 1000


def timed(fn, repeats: int, warmup: int = 3) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return percentiles(out)


def in_process(repeats: int) -> dict[str, tuple[float, float]]:
    from ganstudio import ImagePipeline, MusicPipeline, TextPipeline

    ck = ROOT / "checkpoints"
    calls = {}
    if (ck / "mnist-cdcgan").exists():
        image = ImagePipeline.from_pretrained(ck / "mnist-cdcgan")
        calls["image: 64 digits"] = lambda: image(label="any", count=64, seed=1).png_bytes()
    if (ck / "coco-seqgan").exists():
        text = TextPipeline.from_pretrained(ck / "coco-seqgan")
        calls["text: 16 sentences"] = lambda: text(count=16, seed=1)
    if (ck / "nottingham-midinet").exists():
        music = MusicPipeline.from_pretrained(ck / "nottingham-midinet")
        calls["music: 8 bars, MIDI + audio"] = lambda: music(chords="C G Am F", bars=8, seed=1)
    return {name: timed(fn, repeats) for name, fn in calls.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def import_floor() -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio, torch"], check=True)
    return time.perf_counter() - t


def over_http(repeats: int) -> dict:
    from gradio_client import Client

    start = time.perf_counter()
    with serving([sys.executable, "app.py", "--port"]) as (server, url):
        # The response itself, without fetching each returned file in turn afterwards
        # (gradio_client downloads them one by one: 64 gallery files are 64 more requests).
        client = Client(url, verbose=False, download_files=False)
        client.predict(count=1, api_name="/generate_image")
        cold = time.perf_counter() - start
        endpoints = {e for e in client.view_api(print_info=False, return_format="dict")["named_endpoints"]}
        idle = rss_mb(server.pid)
        results, rest, n_requests = {}, {}, 0
        for name, (api, kwargs) in REQUESTS.items():
            if api in endpoints:
                results[name] = timed(lambda: client.predict(**kwargs, api_name=api), repeats)
                rest[name] = timed(lambda: rest_call(url, api, kwargs), repeats)
                n_requests += 2 * (repeats + 3)
        return {"cold_start_s": cold, "rss_idle_mb": idle, "rss_after_mb": rss_mb(server.pid), "requests": n_requests, "http": results, "rest": rest}


BARE_APP = """
import sys, gradio as gr
with gr.Blocks() as demo:
    a, b = gr.Number(), gr.Number()
    gr.Button().click(lambda x: x + 1, a, b, api_name="inc")
demo.queue(default_concurrency_limit=4, max_size=64).launch(server_name="127.0.0.1", server_port=int(sys.argv[1]))
"""


def rest_call(url: str, api: str, kwargs: dict) -> bytes:
    """One request by Gradio's REST route: POST the inputs, then read the result stream."""
    info = _api_info(url)[api]
    data = [kwargs.get(p["parameter_name"], p["parameter_default"]) for p in info["parameters"]]
    req = urllib.request.Request(f"{url}gradio_api/call{api}", data=json.dumps({"data": data}).encode(),
                                 headers={"Content-Type": "application/json"})
    event = json.loads(urllib.request.urlopen(req, timeout=60).read())["event_id"]
    body = urllib.request.urlopen(f"{url}gradio_api/call{api}/{event}", timeout=60).read()
    if b"event: complete" not in body:
        raise RuntimeError(f"{api} failed: {body[:200]!r}")
    return body


_INFO: dict[str, dict] = {}


def _api_info(url: str) -> dict:
    if url not in _INFO:
        _INFO[url] = json.loads(urllib.request.urlopen(url + "gradio_api/info", timeout=30).read())["named_endpoints"]
    return _INFO[url]


@contextmanager
def serving(command: list[str]) -> Iterator[tuple[subprocess.Popen, str]]:
    """(server, url) of `command` + a free port, started on loopback and answering; stopped afterwards."""
    port = free_port()
    server = subprocess.Popen([*command, str(port)], cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, start = f"http://127.0.0.1:{port}/", time.perf_counter()
    try:
        while True:  # a plain HTTP probe: a Client() on a closed port costs seconds to fail
            try:
                urllib.request.urlopen(url + "config", timeout=1)
                break
            except OSError:
                if time.perf_counter() - start > 120 or server.poll() is not None:
                    raise RuntimeError(f"{' '.join(command[1:2])} did not start") from None
                time.sleep(0.05)
        yield server, url
    finally:
        server.terminate()
        server.wait(timeout=30)


def http_floor(repeats: int) -> dict[str, tuple[float, float]]:
    """gradio_client and REST round trips to a one-line endpoint of a bare Blocks app."""
    from gradio_client import Client

    with serving([sys.executable, "-c", BARE_APP]) as (_, url):
        client = Client(url, verbose=False, download_files=False)
        return {"gradio_client": timed(lambda: client.predict(1, api_name="/inc"), repeats),
                "REST": timed(lambda: rest_call(url, "/inc", {"x": 1}), repeats)}


def main() -> None:
    p = argparse.ArgumentParser(description="GAN Studio speed benchmark")
    p.add_argument("--repeats", type=int, default=50)
    args = p.parse_args()
    import torch

    print(f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads; python {sys.version.split()[0]}")
    local = in_process(args.repeats)
    floor = import_floor()
    http = over_http(args.repeats)
    bare = http_floor(args.repeats)
    nan = (float("nan"),) * 2
    print("\n| request | in process p50 / p95 (ms) | gradio_client p50 / p95 (ms) | overhead at p50 | REST p50 / p95 (ms) | overhead at p50 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (p50, p95) in local.items():
        h50, h95 = http["http"].get(name, nan)
        r50, r95 = http["rest"].get(name, nan)
        print(f"| {name} | {p50:.1f} / {p95:.1f} | {h50:.1f} / {h95:.1f} | {h50 - p50:.1f} | {r50:.1f} / {r95:.1f} | {r50 - p50:.1f} |")
    (g50, g95), (b50, b95) = bare["gradio_client"], bare["REST"]
    print(f"| floor: x + 1 on a bare Blocks app | | {g50:.1f} / {g95:.1f} | | {b50:.1f} / {b95:.1f} | |")
    print(f"\ncold start to first request: {http['cold_start_s']:.2f} s; import gradio+torch alone: {floor:.2f} s; "
          f"difference {http['cold_start_s'] - floor:.2f} s")
    print(f"server memory (RSS): idle with models loaded {http['rss_idle_mb']:.0f} MB; after {http['requests']} requests {http['rss_after_mb']:.0f} MB")


if __name__ == "__main__":
    main()
