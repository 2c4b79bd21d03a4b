"""Provenance: for every kind of output, sign -> verify, tamper -> altered, strip -> none,
another key -> unknown, regenerate -> identical; the ledger; bad uploads; CLI and tab.

Every test runs with its own GANSTUDIO_HOME, on tiny untrained checkpoints made here.
"""

from __future__ import annotations

import io
import json
import struct
import wave
from pathlib import Path

import mido
import pytest
import torch
from PIL import Image, PngImagePlugin

from ganstudio import ImagePipeline, InvalidParameterError, MusicPipeline, TextPipeline
from ganstudio.checkpoint import prefixed, save_pretrained
from ganstudio.midi import VOCAB
from ganstudio.models import dcgan, midinet, seqgan
from ganstudio.provenance import (ALTERED, NONE, TRUSTED, UNKNOWN_KEY, ProvenanceError, export, public_key, regenerate, sign_and_embed,
                                  verify_bytes, verify_ledger)
from ganstudio.provenance import formats
from ganstudio.provenance.formats import text as text_format
from ganstudio.provenance.ledger import ledger_path


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("GANSTUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> Path:
    """Tiny untrained checkpoints of all three families, named as the shipped ones."""
    root = tmp_path_factory.mktemp("provenance-checkpoints")
    torch.manual_seed(0)
    g_args, d_args = {"z_dim": 16, "num_classes": 10, "width": 4}, {"num_classes": 10, "width": 4}
    tensors = {**prefixed("generator_ema", dcgan.Generator(**g_args).state_dict()),
               **prefixed("discriminator", dcgan.Discriminator(**d_args).state_dict())}
    save_pretrained(root / "mnist-cdcgan", {"name": "mnist-cdcgan", "family": "dcgan", "class": "ConditionalDCGAN", "args": {"generator": g_args, "discriminator": d_args},
                                            "labels": [str(i) for i in range(10)], "metrics": {"d_real": 0.07, "d_fake": -0.17}}, tensors, "# tiny\n")
    tokens = ["<eos>", "<bos>", "a", "dog", "cat", "man", "on", "the", "mat", "."]
    g_args = {"vocab_size": len(tokens), "emb_dim": 4, "hidden_dim": 4, "seq_len": 6, "start_token": 1}
    d_args = {"vocab_size": len(tokens), "seq_len": 6, "emb_dim": 4, "filter_sizes": [1, 2], "num_filters": [2, 2]}
    tensors = {**prefixed("generator", seqgan.Generator(**g_args).state_dict()), **prefixed("discriminator", seqgan.Discriminator(**d_args).state_dict())}
    save_pretrained(root / "coco-seqgan", {"name": "coco-seqgan", "family": "seqgan", "class": "SeqGAN", "args": {"generator": g_args, "discriminator": d_args},
                                           "vocabulary": {"kind": "word", "tokens": tokens}}, tensors, "# tiny\n")
    g_args = {"z_dim": 8, "vocab": VOCAB, "width": 16}
    save_pretrained(root / "nottingham-midinet", {"name": "nottingham-midinet", "family": "midinet", "class": "MidiNet", "args": {"generator": g_args}},
                    prefixed("generator", midinet.Generator(**g_args).eval().state_dict()), "# tiny\n")
    return root


@pytest.fixture(scope="module")
def results(checkpoints):
    """One Result of each pipeline."""
    image = ImagePipeline.from_pretrained(checkpoints / "mnist-cdcgan", device="cpu")
    text = TextPipeline.from_pretrained(checkpoints / "coco-seqgan", device="cpu")
    music = MusicPipeline.from_pretrained(checkpoints / "nottingham-midinet", device="cpu")
    return {"image": image(label="4", count=3, seed=2), "walk": image.walk(seed_a=1, seed_b=2, frames=3),
            "text": text(count=3, seed=5), "music": music(chords="C G", bars=2, seed=3)}


# (result key, artefact) for every signed output kind
OUTPUTS = [("image", "grid-marked"), ("image", "grid"), ("image", "sample-1"), ("walk", "strip"),
           ("music", "midi"), ("music", "wav"), ("music", "piano-roll"), ("text", "txt"), ("text", "lines")]


# ---- one small edit of content, and a stripping of provenance, per format -------------------

def png_edit(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data))
    info = PngImagePlugin.PngInfo()
    for k, v in image.text.items():
        info.add_text(k, v)
    image = image.convert("L").copy()  # the grids are grey; the piano roll becomes grey, still one pixel off
    image.putpixel((0, 0), (image.getpixel((0, 0)) + 1) % 256)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def png_strip(data: bytes) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, format="PNG")
    return buf.getvalue()


def wav_data_offset(data: bytes) -> int:
    pos = 12
    while True:
        kind, length = struct.unpack("<4sI", data[pos:pos + 8])
        if kind == b"data":
            return pos + 8
        pos += 8 + length + (length & 1)


def wav_edit(data: bytes) -> bytes:
    at = wav_data_offset(data) + 200
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1:]


def wav_strip(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setparams(params)
        out.writeframes(frames)
    return buf.getvalue()


def _midi_rewrite(data: bytes, change) -> bytes:
    mf = mido.MidiFile(file=io.BytesIO(data))
    change(mf)
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def midi_edit(data: bytes) -> bytes:
    def change(mf):
        for track in mf.tracks:
            for i, msg in enumerate(track):
                if msg.type == "note_on" and msg.velocity > 0:
                    track[i] = msg.copy(velocity=msg.velocity - 1)  # one note, a little softer
                    return
    return _midi_rewrite(data, change)


def midi_strip(data: bytes) -> bytes:
    def change(mf):
        for track in mf.tracks:
            track[:] = [m for m in track if not (m.is_meta and m.type == "text" and m.text.startswith("ganstudio-provenance"))]
    return _midi_rewrite(data, change)


def text_edit(data: bytes) -> bytes:
    body, footer = data.decode().split(text_format.FOOTER_MARK)
    words = body.split(" ")
    words[len(words) // 2] += "s"
    return (" ".join(words) + text_format.FOOTER_MARK + footer).encode()


def text_strip(data: bytes) -> bytes:
    return data.decode().split(text_format.FOOTER_MARK)[0].encode()


EDITS = {"png": (png_edit, png_strip), "wav": (wav_edit, wav_strip), "midi": (midi_edit, midi_strip), "text": (text_edit, text_strip)}


@pytest.mark.parametrize("key, artefact", OUTPUTS)
def test_sign_verify_tamper_strip_regenerate(results, checkpoints, key, artefact):
    signed = export(results[key], artefact, c2pa=False)
    fmt = formats.sniff(signed.data)
    good = verify_bytes(signed.data)
    assert good.status == TRUSTED, good.detail
    assert good.exit_code == 0 and good.manifest["ai_generated"] is True and good.manifest["artefact"] == artefact
    assert good.manifest["model"]["checkpoint_sha256"] == results[key].metadata["checkpoint_sha256"]
    assert good.manifest["generation"]["parameters"] == results[key].metadata["parameters"]
    assert good.ledger.startswith("known")

    edit, strip = EDITS[fmt]
    altered = verify_bytes(edit(signed.data))
    assert altered.status == ALTERED and altered.exit_code == 1 and "content differs" in altered.detail
    stripped = strip(signed.data)
    assert verify_bytes(stripped).status == NONE
    if fmt == "text":  # the sidecar restores what the footer carried
        assert verify_bytes(stripped, signed.sidecar()).status == TRUSTED

    again = regenerate(good.manifest, checkpoints, device="cpu")
    assert again.identical, again.message
    assert again.regenerated_sha256 == good.content_sha256


@pytest.mark.parametrize("key, artefact", [("image", "grid-marked"), ("music", "wav"), ("music", "midi"), ("text", "txt")])
def test_another_studios_key_is_unknown_until_trusted(results, home, monkeypatch, key, artefact):
    from ganstudio.provenance import trust

    monkeypatch.setenv("GANSTUDIO_HOME", str(home.parent / "other-studio"))
    theirs, their_key = export(results[key], artefact, c2pa=False), public_key()
    monkeypatch.setenv("GANSTUDIO_HOME", str(home))
    assert public_key() != their_key
    result = verify_bytes(theirs.data)
    assert result.status == UNKNOWN_KEY and result.exit_code == 4
    assert result.ledger == "not in this studio's ledger"
    trust(their_key, "a friend")
    assert verify_bytes(theirs.data).status == TRUSTED


def test_a_changed_manifest_breaks_the_signature(results):
    signed = export(results["text"], "txt")
    envelope = json.loads(signed.envelope)
    envelope["manifest"]["generation"]["parameters"]["seed"] = 6  # claim another seed
    forged = text_format.embed(signed.data, json.dumps(envelope))
    result = verify_bytes(forged)
    assert result.status == ALTERED and "signature does not match" in result.detail


def test_grid_mark_is_visible_and_optional(results):
    marked = Image.open(io.BytesIO(export(results["image"], "grid-marked").data))
    plain = Image.open(io.BytesIO(export(results["image"], "grid").data))
    sample = Image.open(io.BytesIO(export(results["image"], "sample-0").data))
    assert plain.size == results["image"].grid.size and marked.height > plain.height
    assert marked.crop((0, plain.height, marked.width, marked.height)).getextrema()[1] > 200  # the band has text
    assert sample.size == (28, 28) and sample.tobytes() == results["image"].images[0].tobytes()  # natives stay clean
    assert "ganstudio-provenance" in sample.text and json.loads(sample.text["ganstudio"])["ai_generated"] is True


def test_c2pa_manifest_when_available(results):
    from ganstudio.provenance import c2pa_support

    for artefact in ("grid-marked", "wav"):
        signed = export(results["image" if artefact != "wav" else "music"], artefact)
        result = verify_bytes(signed.data)
        assert result.status == TRUSTED
        if c2pa_support.available():
            assert "C2PA manifest present, Valid" in result.c2pa
        else:
            assert result.c2pa == c2pa_support.UNAVAILABLE


def test_midi_carries_the_copyright_label(results):
    data = export(results["music"], "midi").data
    events = [m for t in mido.MidiFile(file=io.BytesIO(data)).tracks for m in t if m.is_meta and m.type == "copyright"]
    assert events and "AI-generated" in events[0].text


# ---- the ledger ------------------------------------------------------------------------------

def _ledger_lines() -> list[str]:
    return ledger_path().read_text(encoding="utf-8").splitlines()


def _sign_three(results) -> None:
    for artefact in ("grid", "sample-0", "sample-1"):
        export(results["image"], artefact, c2pa=False)


def test_ledger_intact(results):
    _sign_three(results)
    report = verify_ledger()
    assert report.ok and report.records == 3


@pytest.mark.parametrize("damage", ["edit", "delete-middle", "delete-first", "delete-last", "garbage"])
def test_ledger_damage_is_detected(results, damage):
    _sign_three(results)
    lines = _ledger_lines()
    if damage == "edit":
        record = json.loads(lines[1])
        record["model"] = "someone-else"
        lines[1] = json.dumps(record, sort_keys=True)
    elif damage == "garbage":
        lines[1] = "not json"
    else:
        del lines[{"delete-middle": 1, "delete-first": 0, "delete-last": 2}[damage]]
    ledger_path().write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = verify_ledger()
    assert not report.ok and report.problems


def test_ledger_goes_on_after_damage(results):
    _sign_three(results)
    ledger_path().write_text("\n".join(_ledger_lines()[:2] + ["broken"]) + "\n", encoding="utf-8")
    export(results["image"], "grid", c2pa=False)  # still signs, and the damage stays on record
    assert len(_ledger_lines()) == 4 and not verify_ledger().ok


# ---- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"\x00\xff\xfe garbage", "not a PNG, WAV, MIDI or UTF-8 text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "not a readable image"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt \xff\xff\xff\x00", "truncated"),
    (b"MThd\x00\x00\x00\x06\x00\x01", "not a readable MIDI"),
])
def test_unreadable_uploads_are_clear_errors(data, message):
    with pytest.raises(ProvenanceError, match=message):
        verify_bytes(data)


def test_huge_upload_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "MAX_UPLOAD_BYTES", 100)
    big = tmp_path / "big.txt"
    big.write_text("x" * 200)
    with pytest.raises(ProvenanceError, match="larger than"):
        formats.read_limited(big)
    with pytest.raises(ProvenanceError, match="MB"):
        verify_bytes(b"y" * 200)


@pytest.mark.parametrize("envelope, message", [
    ("{not json", "not valid JSON"),
    ('{"format": "something else"}', "not in the ganstudio-provenance/1 format"),
    ('{"format": "ganstudio-provenance/1", "signature": "x", "public_key": "y", "manifest": {"media": "text"}}', "lacks or has malformed fields"),
    ('{"format": "ganstudio-provenance/1", "manifest": {}}', "no signature"),
    ("[" * 100_000, "not valid JSON"),  # nesting too deep for the parser
    ('"' + "x" * (1 << 20) + '"', "larger than 1 MB"),
    ('{"format": "ganstudio-provenance/1", "signature": "x", "public_key": "y", "manifest": {"seed": NaN}}', "not valid JSON"),
], ids=["broken", "other-format", "missing-fields", "unsigned", "deep", "huge", "nan"])
def test_malformed_manifests_are_reported_as_altered(envelope, message):
    data = text_format.embed(b"a dog on the mat.\n", envelope)
    result = verify_bytes(data)
    assert result.status == ALTERED and message in result.detail
    assert verify_bytes(b"a dog on the mat.\n", envelope).status == ALTERED  # as a sidecar too


def test_regenerate_refuses_manifests_it_cannot_run(results, checkpoints):
    manifest = export(results["image"], "grid").manifest
    for change, message in [({"model": {"name": "../../etc"}}, "not a checkpoint name"),
                            ({"model": {"name": "absent-model"}}, "not installed"),
                            ({"generation": {"task": "image", "parameters": {"seed": 1, "evil": 2}}}, "do not fit"),
                            ({"generation": {"task": "image", "parameters": {"count": 10_000}}}, "count must be from 1 to 64"),
                            ({"artefact": "sample-99"}, "has no output"),
                            ({"generation": {"task": "nope"}}, "can run again")]:
        with pytest.raises(ProvenanceError, match=message):
            regenerate({**manifest, **change}, checkpoints, device="cpu")
    other = regenerate({**manifest, "model": {**manifest["model"], "checkpoint_sha256": "0" * 64}}, checkpoints, device="cpu")
    assert not other.identical and "SHA-256 differs" in other.message


def test_the_private_key_is_owner_only_and_never_returned(home):
    key = public_key()
    assert (home / "signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert "PRIVATE" not in key and len(key) == 44  # base64 of the 32 public bytes
    assert public_key() == key  # made once, then kept


def test_keys_never_live_in_the_source_tree(monkeypatch):
    from ganstudio.provenance.home import SOURCE_TREE

    monkeypatch.setenv("GANSTUDIO_HOME", str(SOURCE_TREE / "keys"))
    with pytest.raises(ProvenanceError, match="outside"):
        public_key()
    assert not (SOURCE_TREE / "keys").exists()


# ---- the command line ------------------------------------------------------------------------

def test_cli_verify_exit_codes_ledger_and_key(results, tmp_path, home, monkeypatch, capsys):
    from ganstudio.cli import main

    signed = export(results["image"], "grid-marked")
    good, edited, bare, junk = (tmp_path / n for n in ("good.png", "edited.png", "bare.png", "junk.png"))
    good.write_bytes(signed.data)
    edited.write_bytes(png_edit(signed.data))
    bare.write_bytes(png_strip(signed.data))
    junk.write_bytes(b"\x89PNG\r\n\x1a\nnothing")
    assert [main(["verify", str(p)]) for p in (good, edited, bare, junk)] == [0, 1, 3, 2]
    capsys.readouterr()
    assert main(["verify", str(good), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "trusted" and out["manifest"]["content_sha256"] == signed.manifest["content_sha256"]

    text = export(results["text"], "lines")
    (tmp_path / "t.txt").write_bytes(text_strip(text.data))
    assert main(["verify", str(tmp_path / "t.txt")]) == 3
    (tmp_path / "t.txt.provenance.json").write_text(text.sidecar())  # found beside the file
    assert main(["verify", str(tmp_path / "t.txt")]) == 0

    assert main(["key"]) == 0 and public_key() in capsys.readouterr().out
    assert main(["ledger", "verify"]) == 0
    ledger_path().write_text("\n".join(_ledger_lines()[1:]) + "\n")
    assert main(["ledger", "verify"]) == 1 and "problem" in capsys.readouterr().err

    monkeypatch.setenv("GANSTUDIO_HOME", str(home.parent / "stranger"))
    assert main(["verify", str(good)]) == 4
    odd = sign_and_embed(b"odd text\n", {"model": 7, "checkpoint_sha256": 5, "parameters": {"x": [1, {"y": None}]}}, "txt")
    (tmp_path / "odd.txt").write_bytes(odd.data)
    assert main(["verify", str(tmp_path / "odd.txt")]) == 0  # its own signer: odd fields print, nothing crashes


def test_cli_image_and_text_outputs_are_signed(checkpoints, tmp_path):
    from ganstudio.cli import main

    assert main(["--device", "cpu", "image", "--n", "2", "--out", str(tmp_path / "img"), "--checkpoint", str(checkpoints / "mnist-cdcgan")]) == 0
    for name in ("grid.png", "sample-000.png", "sample-001.png"):
        assert verify_bytes((tmp_path / "img" / name).read_bytes()).status == TRUSTED
    assert main(["--device", "cpu", "image", "--n", "2", "--no-mark", "--out", str(tmp_path / "plain"), "--checkpoint", str(checkpoints / "mnist-cdcgan")]) == 0
    assert Image.open(tmp_path / "plain" / "grid.png").height < Image.open(tmp_path / "img" / "grid.png").height
    out = tmp_path / "s.txt"
    assert main(["--device", "cpu", "text", "--n", "2", "--out", str(out), "--checkpoint", str(checkpoints / "coco-seqgan")]) == 0
    assert text_format.FOOTER_MARK in out.read_text() and verify_bytes(out.read_bytes()).status == TRUSTED
    assert json.loads(out.with_name("s.txt.provenance.json").read_text())["manifest"]["artefact"] == "lines"


# ---- the tab ---------------------------------------------------------------------------------

def test_tab_functions(results, checkpoints, tmp_path):
    import gradio as gr

    from demo.provenance_tab import make_functions

    pipe = ImagePipeline.from_pretrained(checkpoints / "mnist-cdcgan", device="cpu")
    text_pipe = TextPipeline.from_pretrained(checkpoints / "coco-seqgan", device="cpu")
    verify, regenerate_file, score = make_functions(checkpoints, pipe, {"coco-seqgan": text_pipe})
    png = tmp_path / "grid.png"
    png.write_bytes(export(results["image"], "sample-0").data)
    verdict, table, ledger, details = verify(str(png))
    assert "Signed by this studio" in verdict and details["status"] == "trusted" and ledger.startswith("known")
    assert ["generation.parameters.seed", "2"] in table and ["ai_generated", "true"] in table
    assert regenerate_file(str(png)).startswith("**Identical.**")
    text = score(str(png))
    assert "cannot" in text and "+0.07 on real" in text
    wav = tmp_path / "a.wav"
    wav.write_bytes(export(results["music"], "wav").data)
    assert "a WAV has no discriminator" in score(str(wav))
    txt = tmp_path / "a.txt"
    txt.write_bytes(export(results["text"], "txt").data)
    scored = score(str(txt))
    assert "coco-seqgan discriminator" in scored and scored.count("\n| 0.") == 3 and "cannot tell" in scored
    txt.write_text("a zebra on the mat.")
    assert "No installed text model knows" in score(str(txt))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n...")
    for call in (lambda: verify(str(junk)), lambda: verify(None), lambda: regenerate_file(str(junk)), lambda: score(str(tmp_path / "missing.png"))):
        with pytest.raises(gr.Error):
            call()


def test_text_realness_of_a_sentence(checkpoints, results):
    pipe = TextPipeline.from_pretrained(checkpoints / "coco-seqgan", device="cpu")
    sample = results["text"]
    assert pipe.realness_of(sample.samples[0]) == pytest.approx(sample.realness[0], abs=1e-3)  # as the pipeline scored it
    with pytest.raises(InvalidParameterError, match="does not know"):
        pipe.realness_of("a zebra")
    with pytest.raises(InvalidParameterError, match="at most"):
        pipe.realness_of("a dog " * 10)


def test_discriminator_scores(checkpoints):
    pipe = ImagePipeline.from_pretrained(checkpoints / "mnist-cdcgan", device="cpu")
    scores = pipe.discriminator_scores(Image.new("RGB", (56, 40), "white"))  # other sizes and modes are converted
    assert list(scores) == [str(i) for i in range(10)] and all(isinstance(s, float) for s in scores.values())
    assert scores != pipe.discriminator_scores(Image.new("L", (28, 28), 0))


def test_verify_and_regenerate_endpoints_over_http(client, tmp_path):
    from gradio_client import handle_file

    from .conftest import SHIPPED

    shipped = ImagePipeline.from_pretrained(SHIPPED / "mnist-cdcgan", device="cpu")
    png = tmp_path / "digits.png"
    png.write_bytes(export(shipped(label="8", count=2, seed=11), "grid-marked").data)
    verdict, table, ledger, details = client.predict(handle_file(str(png)), None, api_name="/verify")
    assert details["status"] == "trusted" and details["manifest"]["generation"]["parameters"]["seed"] == 11
    assert "Signed by this studio" in verdict and ledger.startswith("known")
    assert "Identical" in client.predict(handle_file(str(png)), None, api_name="/regenerate")
    png.write_bytes(png_edit(png.read_bytes()))
    assert client.predict(handle_file(str(png)), None, api_name="/verify")[3]["status"] == "altered"
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    with pytest.raises(Exception, match="not a readable image|truncated"):
        client.predict(handle_file(str(junk)), None, api_name="/verify")
    assert client.predict(handle_file(str(png)), None, api_name="/verify")[3]["status"] == "altered"  # still serving


def test_export_many_records_every_artefact_and_keeps_the_chain(tmp_path, monkeypatch):
    from ganstudio.provenance import export_many, verify_bytes, verify_ledger
    from tests.conftest import make_image_checkpoint

    monkeypatch.setenv("GANSTUDIO_HOME", str(tmp_path / "home"))
    pipe = ImagePipeline.from_pretrained(make_image_checkpoint(tmp_path / "tiny-many"), device="cpu")
    result = pipe(label="2", count=5, seed=3)
    before = verify_ledger().records
    signed = export_many(result, [f"sample-{i}" for i in range(5)])
    report = verify_ledger()
    assert report.ok and report.records == before + 5
    assert [verify_bytes(s.data).status for s in signed] == ["trusted"] * 5
