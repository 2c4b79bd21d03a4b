"""SeqGAN: oracle equations, rollouts and rewards, vocabulary, BLEU, training, pipeline, CLI, tab.

Everything runs on tiny data made here; the session fixture trains two tiny checkpoints
(English words, Chinese characters) through the real trainer, adversarial phase included.
"""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ganstudio import InvalidParameterError, TextPipeline
from ganstudio.checkpoint import read_config
from ganstudio.metrics_text import bleu, self_bleu
from ganstudio.models.seqgan import Discriminator, Generator
from ganstudio.text import Vocabulary, detokenize, tokenize
from training import text as trainer

CAPTIONS = [
    "a man riding a horse on a beach.", "a dog sitting on a couch.", "a woman holding an umbrella in the rain.",
    "two cats sleeping on a bed.", "a man riding a bike down the street.", "a plate of food on a table.",
    "a dog running on the beach.", "a woman riding a horse.", "a cat sitting on a table.", "a man holding a dog.",
]
POEMS = ["春 眠 不 觉 晓 ， 处 处 闻 啼 鸟 。", "床 前 明 月 光 ， 疑 是 地 上 霜 。", "白 日 依 山 尽 ， 黄 河 入 海 流 。",
         "红 豆 生 南 国 ， 春 来 发 几 枝 。", "千 山 鸟 飞 绝 ， 万 径 人 踪 灭 。", "空 山 不 见 人 ， 但 闻 人 语 响 。"]
TINY = ["--mle-epochs", "2", "--d-pretrain-rounds", "1", "--d-pretrain-epochs", "1", "--epochs", "2", "--d-rounds", "1",
        "--d-epochs", "1", "--rollouts", "2", "--batch-size", "4", "--d-batch-size", "8", "--eval-every", "1",
        "--eval-samples", "8", "--emb-dim", "8", "--hidden-dim", "8", "--d-emb-dim", "8", "--threads", "1"]


def oracle_arrays(vocab=7, emb=3, hidden=4, seed=0) -> dict[str, np.ndarray]:
    r = np.random.default_rng(seed)
    a = {"embedding": r.normal(size=(vocab, emb)), "W_out": r.normal(size=(hidden, vocab)), "b_out": r.normal(size=vocab)}
    for k in "ifoc":
        a[f"W_{k}"], a[f"U_{k}"], a[f"b_{k}"] = r.normal(size=(emb, hidden)), r.normal(size=(hidden, hidden)), r.normal(size=hidden)
    return {k: v.astype(np.float32) for k, v in a.items()}


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("text")
    (root / "captions.txt").write_text("\n".join(CAPTIONS) + "\n", encoding="utf-8")
    (root / "test.txt").write_text("a dog sitting on a bed.\na man riding a horse.\na cat on a couch.\n", encoding="utf-8")
    (root / "poems.txt").write_text("\n".join(POEMS) + "\n", encoding="utf-8")
    ckpts = root / "checkpoints"
    trainer.main(["--data", str(root / "captions.txt"), "--test-data", str(root / "test.txt"), "--out", str(ckpts / "coco-seqgan"), "--run-dir", str(root / "run-coco"), *TINY])
    trainer.main(["--data", str(root / "poems.txt"), "--kind", "char", "--holdout", "0.2", "--out", str(ckpts / "poems-seqgan"), "--run-dir", str(root / "run-poems"), *TINY, "--mle-every", "1"])
    return ckpts


def test_interleaved_mle_gives_the_seqgan_generator_the_twins_mle_epochs(checkpoints):
    def adam_steps(run: str, opt: str) -> float:
        state = torch.load(checkpoints.parent / run / "state.pt", map_location="cpu", weights_only=True)
        return float(next(iter(state["objects"][opt]["state"].values()))["step"])

    # without --mle-every (the paper): the twin's extra MLE epochs are the only MLE after pretraining
    assert adam_steps("run-coco", "g_opt") < adam_steps("run-coco", "twin_opt")
    # with --mle-every 1 and --twin-every 1 both generators see the same MLE epochs
    assert adam_steps("run-poems", "g_opt") == adam_steps("run-poems", "twin_opt")
    assert adam_steps("run-poems", "pg_opt") == 2  # and the SeqGAN generator its 2 policy-gradient steps


def test_oracle_step_matches_the_published_equations():
    a = oracle_arrays()
    g = Generator.from_oracle(a)
    seqs = torch.tensor([[3, 5, 1]])
    logits = g(seqs)[0].detach().numpy()
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h, c = np.zeros(4), np.zeros(4)
    for t, prev in enumerate([0, 3, 5]):  # start token 0, then the sequence shifted right
        x = a["embedding"][prev]
        i = sig(x @ a["W_i"] + h @ a["U_i"] + a["b_i"])
        f = sig(x @ a["W_f"] + h @ a["U_f"] + a["b_f"])
        o = sig(x @ a["W_o"] + h @ a["U_o"] + a["b_o"])
        gg = np.tanh(x @ a["W_c"] + h @ a["U_c"] + a["b_c"])
        c = f * c + i * gg
        h = o * np.tanh(c)
        np.testing.assert_allclose(logits[t], h @ a["W_out"] + a["b_out"], rtol=1e-4, atol=1e-5)
    # NLL is the mean over tokens of -log softmax at the true token
    logp = torch.log_softmax(torch.tensor(logits), -1)[torch.arange(3), seqs[0]]
    assert g.nll(seqs).item() == pytest.approx(-logp.mean().item(), rel=1e-5)


def test_rollouts_keep_each_prefix_and_rewards_have_one_value_per_token():
    torch.manual_seed(0)
    g = Generator(vocab_size=11, emb_dim=4, hidden_dim=5, seq_len=6, start_token=0)
    d = Discriminator(vocab_size=11, seq_len=6, emb_dim=4)
    seqs = g.sample(3)
    done = g.rollout(seqs, 4)
    assert done.shape == (3, 5, 4, 6)
    for t in range(5):
        assert torch.equal(done[:, t, :, : t + 1], seqs[:, None, : t + 1].expand(3, 4, t + 1))
    assert not torch.equal(done[:, 0, 0, 1:], seqs[:, 1:])  # completions are drawn, not copied
    r = trainer.rewards(g, d, seqs, 4, chunk=7)
    assert r.shape == (3, 6)
    assert ((r > 0) & (r < 1)).all()
    torch.testing.assert_close(r[:, -1], d.eval().realness(seqs))


def test_rollout_completions_follow_the_generator_from_each_prefix():
    # The first drawn token of every completion of prefix t must be distributed as
    # G(y_(t+1) | y_0 .. y_t): the branch starts from the state after that very prefix.
    torch.manual_seed(3)
    g = Generator(vocab_size=4, emb_dim=3, hidden_dim=5, seq_len=5, start_token=0)
    for p in g.parameters():
        torch.nn.init.normal_(p, 0.0, 1.0)
    seqs = g.sample(2)
    done = g.rollout(seqs, 6000)
    expected = torch.softmax(g(seqs), dim=-1)  # (B, T, V): next-token probabilities
    for t in range(4):
        first = done[:, t, :, t + 1]  # (B, n)
        freq = torch.stack([(first == v).float().mean(1) for v in range(4)], dim=1)
        torch.testing.assert_close(freq, expected[:, t + 1], atol=0.03, rtol=0)


def test_discriminator_skips_padding_windows_without_changing_its_features():
    torch.manual_seed(4)
    d = Discriminator(vocab_size=12, seq_len=30, emb_dim=6, filter_sizes=[1, 3, 8, 20], num_filters=[5, 4, 3, 2]).eval()
    seqs = torch.randint(1, 12, (5, 30))
    for row, length in enumerate([3, 9, 0, 14, 6]):  # content, then padding with token 0
        seqs[row, length:] = 0
    with torch.no_grad():
        full = d.pooled(seqs)
        torch.testing.assert_close(d.pooled(seqs, pad=0), full)
        torch.testing.assert_close(d.pooled(seqs[2:3], pad=0), d.pooled(seqs[2:3]))  # all padding
        torch.testing.assert_close(d.realness(seqs, pad=0), d.realness(seqs))


def test_sampling_stops_once_every_row_has_ended_and_keeps_the_tokens_before():
    torch.manual_seed(5)
    g = Generator(vocab_size=6, emb_dim=4, hidden_dim=4, seq_len=25)
    noise = torch.rand(7, 25)
    plain = g.sample(7, noise=noise)
    stopped = g.sample(7, noise=noise, stop=0)
    assert stopped.shape == plain.shape
    for a, b in zip(plain.tolist(), stopped.tolist()):
        end = a.index(0) if 0 in a else len(a)
        assert b[: end + 1] == a[: end + 1]  # the same draws up to and with the first stop
        assert all(t == 0 for t in b[end:])  # and nothing but the stop token after it


def test_policy_gradient_step_moves_the_generator_and_follow_applies_the_delay():
    torch.manual_seed(1)
    g = Generator(vocab_size=9, emb_dim=4, hidden_dim=4, seq_len=5)
    rollout_net = Generator(vocab_size=9, emb_dim=4, hidden_dim=4, seq_len=5)
    d = Discriminator(vocab_size=9, seq_len=5, emb_dim=4)
    before = [p.detach().clone() for p in g.parameters()]
    args = type("A", (), {"batch_size": 8, "pg_batch_size": 4, "rollouts": 3, "reward_chunk": 100, "grad_clip": 5.0})()
    ctx = trainer.Context(device=torch.device("cpu"), amp=False)
    loss, reward = trainer.policy_gradient_step(g, torch.optim.Adam(g.parameters(), lr=0.01), rollout_net, d, args, ctx)
    assert np.isfinite(loss) and 0 < reward < 1
    assert all(not torch.equal(b, p) for b, p in zip(before, g.parameters()))
    old = rollout_net.out.weight.detach().clone()
    trainer.follow(rollout_net, g, 0.8)
    torch.testing.assert_close(rollout_net.out.weight, 0.8 * old + 0.2 * g.out.weight)
    torch.testing.assert_close(rollout_net.embedding.weight, g.embedding.weight)


def test_vocabulary_round_trip_and_tokenisation():
    v = Vocabulary.build(CAPTIONS, "word")
    assert v.tokens[:2] == ["<eos>", "<bos>"]
    for line in CAPTIONS:
        ids = v.encode(line, 12)
        assert len(ids) == 12 and ids[-1] == v.eos
        assert v.decode(ids) == line
    assert tokenize("A Dog, running!", "word") == ["a", "dog", ",", "running", "!"]
    assert detokenize(["a", "dog", ",", "running", "!"]) == "a dog, running!"
    assert v.unknown("a zebra on a skateboard") == ["zebra", "skateboard"]
    c = Vocabulary.build(POEMS, "char")
    assert c.decode(c.encode(POEMS[0])) == POEMS[0].replace(" ", "")
    assert Vocabulary(v.tokens, "word").index == v.index  # rebuilt from config as saved


def test_bleu_and_self_bleu_equal_nltk_sentence_bleu_method1():
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    rng = np.random.default_rng(3)
    words = list("abcdef")
    refs = [list(rng.choice(words, rng.integers(1, 9))) for _ in range(25)]
    hyps = [list(rng.choice(words, rng.integers(0, 9))) for _ in range(15)]
    smooth = nltk_bleu.SmoothingFunction().method1
    for n in (2, 3, 4, 5):
        w = (1 / n,) * n
        expect = np.mean([nltk_bleu.sentence_bleu(refs, h, w, smoothing_function=smooth) for h in hyps])
        assert bleu(hyps, refs, n) == pytest.approx(expect, abs=1e-12)
        expect_self = np.mean([nltk_bleu.sentence_bleu(refs[:i] + refs[i + 1:], refs[i], w, smoothing_function=smooth) for i in range(len(refs))])
        assert self_bleu(refs, n) == pytest.approx(expect_self, abs=1e-12)


def test_training_writes_a_loadable_checkpoint_with_both_generators(checkpoints):
    config = read_config(checkpoints / "coco-seqgan")
    assert config["family"] == "seqgan" and config["vocabulary"]["kind"] == "word"
    assert config["schedule"]["rollouts"] == 2 and config["dataset"]["test"]["lines"] == 3
    assert {"test_nll", "test_nll_mle", "bleu2_seqgan", "self_bleu4_mle"} <= set(config["metrics"])
    assert "python -m training text --data" in (checkpoints / "coco-seqgan" / "README.md").read_text()
    rows = list(csv.DictReader((checkpoints.parent / "run-coco" / "metrics.csv").open()))
    assert [r["phase"] for r in rows] == ["mle", "mle", "d_pretrain", "adversarial", "adversarial"]
    assert float(rows[-1]["reward"]) > 0
    weights = load_file(checkpoints / "coco-seqgan" / "model.safetensors")
    assert not torch.equal(weights["generator.out.weight"], weights["mle_generator.out.weight"])  # the PG steps moved it


def test_pipeline_is_deterministic_and_continues_the_beginning(checkpoints):
    pipe = TextPipeline.from_pretrained(checkpoints / "coco-seqgan")
    a = pipe(prefix="a man", count=5, seed=7, temperature=1.5)
    b = pipe(prefix="a man", count=5, seed=7, temperature=1.5)
    c = pipe(prefix="a man", count=5, seed=8, temperature=1.5)
    assert a.samples == b.samples and a.realness == b.realness
    assert a.samples != c.samples
    assert all(s.startswith("a man") for s in a.samples)
    assert all(0 <= r <= 1 for r in a.realness) and len(a.realness) == 5
    assert all(len(ids) <= pipe.max_tokens for ids in a.token_ids)
    assert a.metadata["ai_generated"] and a.metadata["parameters"]["seed"] == 7
    txt = a.txt_bytes().decode()
    assert txt.startswith("# AI-generated") and a.metadata["checkpoint_sha256"] in txt
    short = pipe(count=3, max_length=2, seed=1)
    assert all(len(ids) <= 2 for ids in short.token_ids)
    poems = TextPipeline.from_pretrained(checkpoints / "poems-seqgan")(prefix="春", count=2, seed=0)
    assert all(s.startswith("春") and " " not in s for s in poems.samples)


@pytest.mark.parametrize("kwargs, words", [
    ({"prefix": "a zebra on a skateboard"}, ["'zebra'", "'skateboard'"]),
    ({"temperature": 0}, ["temperature", "above 0"]),
    ({"temperature": -1}, ["temperature"]),
    ({"top_k": -1}, ["top_k", "at least 1"]),
    ({"prefix": "a man riding a horse", "max_length": 3}, ["5 tokens", "maximum length 3"]),
    ({"count": 33}, ["count"]),
])
def test_pipeline_rejects_bad_parameters_with_a_message_that_names_the_problem(checkpoints, kwargs, words):
    pipe = TextPipeline.from_pretrained(checkpoints / "coco-seqgan")
    with pytest.raises(InvalidParameterError) as e:
        pipe(**kwargs)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_cli_writes_one_sample_per_line_and_exits_2_on_bad_arguments(checkpoints, tmp_path):
    out = tmp_path / "s.txt"
    base = [sys.executable, "-m", "ganstudio", "text", "--model", "coco", "--checkpoint", str(checkpoints / "coco-seqgan")]
    ok = subprocess.run([*base, "--n", "3", "--seed", "2", "--prefix", "a dog", "--out", str(out)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    body, footer = out.read_text(encoding="utf-8").split("\n\n---- AI-generated by GAN Studio ----\n")
    lines = body.splitlines()
    assert len(lines) == 3 and all(line.startswith("a dog") for line in lines)
    assert "provenance: " in footer  # the signed label; see tests/test_provenance.py
    bad = subprocess.run([*base, "--prefix", "a zebra", "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "'zebra'" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_text_tab_through_gradio_client(checkpoints):
    pytest.importorskip("gradio_client")
    from gradio_client import Client

    from demo.app import build_app

    app = build_app(checkpoints)
    port = _free_port()
    app.launch(prevent_thread_lock=True, server_port=port, server_name="127.0.0.1", quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        table, path, meta = client.predict(model="coco", prefix="a cat", count=3, max_length=0, temperature=0.8, top_k=5, seed=4, api_name="/generate_text")
        rows = table["data"]
        assert len(rows) == 3 and all(r[1].startswith("a cat") and 0 <= r[2] <= 1 for r in rows)
        assert meta["parameters"]["top_k"] == 5 and meta["ai_generated"] is True
        assert Path(path).read_text(encoding="utf-8").startswith("# AI-generated")
        default = client.predict(api_name="/generate_text")  # every parameter has a default
        assert len(default[0]["data"]) == 4
        with pytest.raises(Exception) as e:
            client.predict(model="coco", prefix="a zebra", api_name="/generate_text")
        assert "zebra" in str(e.value)
        again = client.predict(model="poems", prefix="春", count=1, seed=0, api_name="/generate_text")  # still serving
        assert again[0]["data"][0][1].startswith("春")
    finally:
        app.close()


def test_keep_best_ships_the_generator_of_the_best_evaluation_across_a_resume(tmp_path):
    np.savez(tmp_path / "oracle.npz", **oracle_arrays(vocab=12, emb=4, hidden=6, seed=1))
    args = ["--data", str(tmp_path / "oracle.npz"), "--out", str(tmp_path / "ck"), "--run-dir", str(tmp_path / "run"),
            "--oracle-samples", "64", "--keep-best", "--pg-batch-size", "8", "--negatives", "32", *TINY]
    args[args.index("--epochs") + 1] = "3"
    trainer.main(args)  # 3 adversarial epochs ...
    args[args.index("--epochs") + 1] = "6"
    trainer.main([*args, "--resume"])  # ... and 3 more in a second invocation
    with open(tmp_path / "run" / "metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["phase"] == "adversarial" and r["nll_oracle"] not in ("", "nan")]
    assert len(rows) == 6
    best = min(rows, key=lambda r: float(r["nll_oracle"]))
    metrics = read_config(tmp_path / "ck")["metrics"]
    assert metrics["kept_unit"] == int(best["epoch"]) and metrics["kept_nll_oracle_at_evaluation"] == pytest.approx(float(best["nll_oracle"]))
    state = torch.load(tmp_path / "run" / "state.pt", map_location="cpu", weights_only=True)
    shipped = load_file(tmp_path / "ck" / "model.safetensors")
    kept = state["extra"]["best"]["state"]
    assert all(torch.equal(shipped[f"generator.{k}"], v) for k, v in kept.items())
    last = state["objects"]["g"]
    assert int(best["epoch"]) == int(rows[-1]["epoch"]) or any(not torch.equal(last[k], v) for k, v in kept.items())
