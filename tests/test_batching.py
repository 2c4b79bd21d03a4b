import threading

import torch

from ganstudio import ImagePipeline
from ganstudio.batching import BlockBatcher


def test_concurrent_calls_share_passes_and_get_their_own_rows():
    calls = []

    def fn(x):
        calls.append(x.shape[0])
        return x * 2

    batcher = BlockBatcher(fn, block=8, window_s=0.2)
    inputs = [torch.full((n, 3), float(i)) for i, n in enumerate([3, 2, 1, 2])]
    outputs = [None] * 4
    barrier = threading.Barrier(4)

    def call(i):
        barrier.wait()
        outputs[i] = batcher(inputs[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    for x, y in zip(inputs, outputs):
        assert torch.equal(y, x * 2)
    assert all(n == 8 for n in calls), "every pass runs at the fixed block size"
    assert len(calls) < 4, "concurrent requests were not combined"


def test_larger_than_a_block_is_split():
    batcher = BlockBatcher(lambda x: x + 1, block=4)
    x = torch.arange(10.0)[:, None]
    assert torch.equal(batcher(x), x + 1)


def test_errors_reach_the_caller():
    def broken(x):
        raise RuntimeError("boom")

    batcher = BlockBatcher(broken, block=4)
    try:
        batcher(torch.zeros(1, 1))
    except RuntimeError as e:
        assert "boom" in str(e)
    else:
        raise AssertionError("the error was swallowed")


def test_concurrent_image_requests_give_the_same_bytes_as_alone(tiny_image_checkpoint):
    pipe = ImagePipeline.from_pretrained(tiny_image_checkpoint, device="cpu")
    params = [dict(label=str(i % 10), count=1 + 5 * i, seed=i) for i in range(6)]
    alone = [[im.tobytes() for im in pipe(**p).images] for p in params]
    together = [None] * len(params)

    def call(i):
        together[i] = [im.tobytes() for im in pipe(**params[i]).images]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(params))]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert together == alone
