"""Load: concurrent gradio_client clients making mixed requests across every endpoint.

Starts `python app.py` on loopback (127.0.0.1 only) with its own data directory, Gradio cache
and temp dir, warms every endpoint up, then lets N clients make M requests each (bounded in
count and in time). Reports failures (the target is 0), latency p50/p95/p99 overall and per
endpoint, throughput, the server's resident memory after warm-up and at the end (target: growth
under 50 MB), and how much the output and cache folders grew. Writes benchmarks/results/load.md.

    python benchmarks/load.py --clients 16 --requests 25 --time-limit 300

Model families with no shipped checkpoint are served by tiny untrained stand-ins (made the way
the tests make them), so their latencies say nothing about the real models; the report says which.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from speed import free_port, rss_mb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.conftest import connect, make_studio_checkpoints  # noqa: E402  (the tests' tiny stand-ins, and a retrying Client)

SHIPPED = ROOT / "checkpoints"
# endpoint -> (weight in the mix, arguments); files are filled in once the warm-up made them
MIX = {
    "/generate_image": (4, lambda r, f: ("any", r.choice([1, 4, 16]), r.randrange(2**32), 2.0, r.random() < 0.5)),
    "/latent_walk": (1, lambda r, f: ("any", r.randrange(1000), r.randrange(1000), 8, 2.0)),
    "/generate_text": (3, lambda r, f: (r.choice(["coco", "poems"]), "", 4, 0, 1.0, 0, r.randrange(2**32))),
    "/generate_music": (3, lambda r, f: (r.choice(["C G Am F", "Dm7 G7 Cmaj7", "A E F#m D"]), 4, 120, "C",
                                         "Acoustic Grand Piano", 1, r.randrange(2**32), None)),
    "/verify": (2, lambda r, f: (f(r.choice(["png", "wav", "mid"])), None)),
    "/regenerate": (1, lambda r, f: (f("png"), None)),
    "/discriminator_score": (1, lambda r, f: (f("png"),)),
}


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) under `path`."""
    sizes = [p.stat().st_size for p in path.rglob("*") if p.is_file()] if path.exists() else []
    return sum(sizes), len(sizes)


def studio_checkpoints(folder: Path) -> list[str]:
    """Shipped checkpoints where present, tiny stand-ins for the rest; returns the stand-ins' names."""
    make_studio_checkpoints(folder)
    stand_ins = []
    for ck in sorted(folder.iterdir()):
        if (SHIPPED / ck.name / "config.json").exists():
            shutil.rmtree(ck)
            ck.symlink_to(SHIPPED / ck.name, target_is_directory=True)
        else:
            stand_ins.append(ck.name)
    return stand_ins


def start_server(work: Path, checkpoints: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "GANSTUDIO_HOME": str(work / "home"), "GANSTUDIO_CHECKPOINTS": str(checkpoints),
           "GRADIO_TEMP_DIR": str(work / "gradio-cache"), "TMPDIR": str(work / "tmp"), "PYTHONUNBUFFERED": "1",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    (work / "tmp").mkdir()
    log = open(work / "server.log", "wb")
    server = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), "--no-mcp"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}/"


def percentile(sorted_times: list[float], q: float) -> float:
    return sorted_times[min(len(sorted_times) - 1, int(len(sorted_times) * q))] * 1000


def main() -> None:
    p = argparse.ArgumentParser(description="GAN Studio load test (loopback only)")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--requests", type=int, default=25, help="per client")
    p.add_argument("--warmup", type=int, default=3, help="requests per client before measuring")
    p.add_argument("--time-limit", type=float, default=300, help="seconds; no request starts after it")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "load.md"))
    args = p.parse_args()
    from gradio_client import handle_file

    work = Path(tempfile.mkdtemp(prefix="ganstudio-load-"))
    stand_ins = studio_checkpoints(work / "checkpoints")
    server, url = start_server(work, work / "checkpoints")
    outputs, cache = work / "tmp" / "ganstudio-outputs", work / "gradio-cache"
    try:
        client = connect(url, wait_s=180)
        endpoints = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
        mix = {name: spec for name, spec in MIX.items() if name in endpoints}
        # Warm-up: every endpoint a few times; keep one file of each kind for the uploads.
        image = client.predict("7", 4, 1, 2.0, True, api_name="/generate_image")
        song = client.predict("C G Am F", 4, 120, "C", "Acoustic Grand Piano", 1, 1, None, api_name="/generate_music") \
            if "/generate_music" in mix else None
        files = {"png": image[1], "wav": song[1] if song else image[1], "mid": song[2] if song else image[1]}
        uploads = lambda kind: handle_file(files[kind])  # noqa: E731
        names, weights = list(mix), [mix[n][0] for n in mix]

        def run_clients(requests: int, seed: int, stop_at: float) -> tuple[dict[str, list[float]], list[str]]:
            """`args.clients` threads, each its own Client making `requests` mixed requests."""
            latencies: dict[str, list[float]] = defaultdict(list)
            failures: list[str] = []
            lock = threading.Lock()

            def one_client(index: int) -> None:
                r = random.Random(seed * 1000 + index)
                c = connect(url)
                for _ in range(requests):
                    if time.time() > stop_at:
                        return
                    name = r.choices(names, weights)[0]
                    t = time.perf_counter()
                    try:
                        c.predict(*mix[name][1](r, uploads), api_name=name)
                        failure = None
                    except Exception as e:  # any failure counts; the report lists them
                        failure = f"{name}: {str(e)[:200]}"
                    with lock:
                        latencies[name].append(time.perf_counter() - t)
                        if failure:
                            failures.append(failure)

            threads = [threading.Thread(target=one_client, args=(i,)) for i in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return latencies, failures

        # Warm-up, concurrent as the run itself (threads, allocator arenas, batch shapes), not counted.
        _, warm_failures = run_clients(args.warmup, args.seed + 1, time.time() + args.time_limit)
        rss_warm, disk_warm = rss_mb(server.pid), (folder_size(outputs), folder_size(cache))

        rss_samples: list[float] = []
        sampling = threading.Event()

        def sample_rss() -> None:
            while not sampling.wait(2.0):
                rss_samples.append(rss_mb(server.pid))

        sampler = threading.Thread(target=sample_rss)
        sampler.start()
        started = time.time()
        latencies, failures = run_clients(args.requests, args.seed, started + args.time_limit)
        wall = time.time() - started
        sampling.set()
        sampler.join()
        failures = warm_failures + failures
        rss_end, disk_end = rss_mb(server.pid), (folder_size(outputs), folder_size(cache))
    finally:
        server.terminate()
        server.wait(timeout=30)

    everything = sorted(t for ts in latencies.values() for t in ts)
    n = len(everything)
    lines = [
        "# Load test",
        "",
        f"`python benchmarks/load.py --clients {args.clients} --requests {args.requests} --warmup {args.warmup} "
        f"--time-limit {args.time_limit:g} --seed {args.seed}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs ({platform.processor() or platform.platform()}), "
        f"Python {platform.python_version()}, server `python app.py` on 127.0.0.1 (queue: 4 concurrent, 64 waiting).",
        f"Stand-in checkpoints (tiny, untrained; latencies not representative): {', '.join(stand_ins) or 'none'}.",
        "",
        f"- requests: {n} by {args.clients} concurrent clients in {wall:.1f} s: **{n / wall:.2f} requests/s**",
        f"- failures: **{len(failures)}**",
        f"- latency p50 / p95 / p99: **{percentile(everything, .5):.0f} / {percentile(everything, .95):.0f} / {percentile(everything, .99):.0f} ms**",
        f"- server RSS after warm-up ({args.clients} x {args.warmup} concurrent requests) {rss_warm:.0f} MB, "
        f"after the run {rss_end:.0f} MB: growth **{rss_end - rss_warm:+.1f} MB**; sampled every 2 s during the run "
        f"(quarters of the run): {' / '.join(f'{rss_samples[min(len(rss_samples) - 1, len(rss_samples) * q // 4)]:.0f}' for q in range(4)) if rss_samples else 'n/a'} MB, peak {max(rss_samples, default=rss_end):.0f} MB",
        f"- output folder (`$TMPDIR/ganstudio-outputs`): {disk_warm[0][0] / 1e6:.1f} MB ({disk_warm[0][1]} files) after warm-up, "
        f"{disk_end[0][0] / 1e6:.1f} MB ({disk_end[0][1]} files) after; folders older than 10 minutes are removed as new ones are written",
        f"- Gradio cache (`GRADIO_TEMP_DIR`): {disk_warm[1][0] / 1e6:.1f} MB ({disk_warm[1][1]} files) after warm-up, "
        f"{disk_end[1][0] / 1e6:.1f} MB ({disk_end[1][1]} files) after; `delete_cache=(3600, 3600)` removes files older than an hour, hourly",
        "",
        "| endpoint | requests | p50 (ms) | p95 (ms) |",
        "| --- | --- | --- | --- |",
        *(f"| {name} | {len(ts)} | {percentile(sorted(ts), .5):.0f} | {percentile(sorted(ts), .95):.0f} |"
          for name, ts in sorted(latencies.items())),
    ]
    if failures:
        lines += ["", "Failures:", "", *(f"- {f}" for f in failures[:20])]
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report, encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
