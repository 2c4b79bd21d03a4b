"""The music path: MIDI <-> bar tokens, chords, MidiNet, a tiny training run, the pipeline,
the CLI and the Music tab over HTTP. Own tiny data only; nothing here trains a real model."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import wave

import numpy as np
import pytest
import torch

from ganstudio.checkpoint import load_pretrained, verify
from ganstudio.chords import Chord, name_chord, parse_chord, parse_progression
from ganstudio.errors import InvalidParameterError
from ganstudio.midi import HOLD, LOWEST, REST, VOCAB, Note, notes_to_steps, read_midi, steps_to_notes, write_midi
from ganstudio.models.midinet import Discriminator, Generator, generate_bars

from .conftest import free_port

H, R = HOLD, REST


def n(pitch: int) -> int:
    return pitch - LOWEST


# Two bars: repeated E crotchets (not one minim), a rest, a dotted figure, a note tied over
# the bar line, a semiquaver run and a final held note.
TUNE = np.array([
    [n(64), H, H, H, n(64), H, H, H, R, R, n(67), H, H, n(69), n(71), H],
    [H, H, n(72), n(74), n(76), n(77), n(79), H, R, n(60), H, H, H, H, H, H],
])


def test_midi_round_trip_is_exact_on_a_hand_made_tune():
    melody = steps_to_notes(TUNE)
    assert [(x.start, x.end, x.pitch) for x in melody[:3]] == [(0, 4, 64), (4, 8, 64), (10, 13, 67)]
    assert (14, 18, 71) in [(x.start, x.end, x.pitch) for x in melody]  # tied across the bar line
    chords = [parse_chord("C"), parse_chord("G7/B")]
    meta = {"model": "test", "seed": 3, "ai_generated": True}
    data = write_midi(melody, chords, 96, 73, meta)
    contents = read_midi(data)
    assert contents.names[1:] == ["melody", "chords"]
    assert contents.time_signatures == [(0, 4, 4)]
    assert "AI-generated" in contents.meta["copyright"]
    assert json.loads(contents.meta["text"].removeprefix("ganstudio ")) == meta
    step = contents.ticks_per_beat / 4
    back = notes_to_steps(contents.tracks[1], step, 32).reshape(2, 16)
    np.testing.assert_array_equal(back, TUNE)
    chord_pcs = {x.pitch % 12 for x in contents.tracks[2] if x.start >= 16 * step}
    assert chord_pcs == {7, 11, 2, 5}

    import mido

    mf = mido.MidiFile(file=io.BytesIO(data))
    tempo = [m.tempo for m in mf.tracks[0] if m.type == "set_tempo"]
    assert mido.tempo2bpm(tempo[0]) == pytest.approx(96)
    assert [m.program for m in mf.tracks[1] if m.type == "program_change"] == [73]


def test_corrupt_and_empty_midi_are_clear_errors():
    with pytest.raises(InvalidParameterError, match="not a readable MIDI"):
        read_midi(b"RIFF....WAVEfmt this is not midi")
    with pytest.raises(InvalidParameterError, match="not a readable MIDI"):
        read_midi(write_midi(steps_to_notes(TUNE), [Chord(0)] * 2, 120, 0, {})[:40])


@pytest.mark.parametrize("symbol, root, minor, pcs", [
    ("C", 0, False, {0, 4, 7}), ("Am", 9, True, {9, 0, 4}), ("F#m7", 6, True, {6, 9, 1, 4}),
    ("Bbmaj7", 10, False, {10, 2, 5, 9}), ("G7", 7, False, {7, 11, 2, 5}), ("Dm7", 2, True, {2, 5, 9, 0}),
    ("C/E", 0, False, {0, 4, 7}), ("Bdim", 11, True, {11, 2, 5}), ("Eb+", 3, False, {3, 7, 11}), ("Dsus4", 2, False, {2, 7, 9}),
])
def test_chord_parsing(symbol, root, minor, pcs):
    chord = parse_chord(symbol)
    assert (chord.root, chord.minor, set(chord.pitch_classes)) == (root, minor, pcs)
    vec = chord.vector()
    assert vec[root] == 1.0 and sum(vec[:12]) == 1.0 and vec[12] == float(minor)


def test_chord_parsing_slash_progression_and_errors():
    assert parse_chord("C/E").bass == 4 and str(parse_chord("C/E")) == "C/E"
    assert [str(c) for c in parse_progression("Dm7 G7 | Cmaj7, N.C.")] == ["Dm7", "G7", "Cmaj7", "N.C."]
    assert parse_chord("N.C.").vector() == [0.0] * 13
    assert str(parse_chord("Am").transpose(3)) == "Cm"
    for bad in ("H7", "Cxyz", "7", ""):
        with pytest.raises(InvalidParameterError, match="accepted"):
            parse_progression(bad) if bad == "" else parse_chord(bad)


def test_chord_naming_from_pitch_classes():
    assert str(name_chord({7, 11, 2})) == "G"
    assert str(name_chord({9, 0, 4})) == "Am"
    assert str(name_chord({7, 11, 2, 5})) == "G7"
    assert str(name_chord({0, 4, 7}, bass=4)) == "C/E"
    assert name_chord(set()).root is None


def tiny_generator(seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    return Generator(z_dim=8, vocab=VOCAB, width=16, cond_channels=4).eval()


def test_generator_shapes_determinism_and_creativity():
    g = tiny_generator()
    z = torch.randn(3, 8)
    chord = torch.tensor([parse_chord(s).vector() for s in ("C", "Am", "G7")])
    prev = torch.nn.functional.one_hot(torch.as_tensor(TUNE[:1]).repeat(3, 1), VOCAB).float()[:, None]
    with torch.no_grad():
        logits = g(z, chord, prev, creativity=1)
        assert logits.shape == (3, 1, 16, VOCAB)
        assert torch.equal(logits, g(z, chord, prev, creativity=1))
        # creativity 4: the previous bar joins no layer, so changing it changes nothing
        assert torch.equal(g(z, chord, prev, 4), g(z, chord, torch.zeros_like(prev), 4))
        assert not torch.equal(g(z, chord, prev, 0), g(z, chord, torch.zeros_like(prev), 0))
    d = Discriminator(vocab=VOCAB, width=8)
    score, features = d(prev, chord)
    assert score.shape == (3,) and features.shape == (3, 8, 8, 1)

    zs = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(1))
    chords = chord[:2, None].repeat(1, 5, 1)
    a, b = generate_bars(g, zs, chords, creativity=2), generate_bars(g, zs, chords, creativity=2)
    assert a.shape == (2, 5, 16) and torch.equal(a, b)
    assert int(a.max()) < VOCAB


def test_key_of_reads_the_key_from_the_chords():
    from ganstudio.chords import key_of

    def key(text):
        return key_of([c.vector() for c in parse_progression(text)])

    assert key("C G Am F") == 0 and key("Am F C G") == 0  # A minor: C major's scale
    assert key("G C D G") == 7 and key("E A B7 E") == 4 and key("Em C G D") == 7
    assert key("Dm7 G7 Cmaj7 Cmaj7") == 0 and key("Bb Eb F Bb") == 10
    assert key("C G") == 0 and key("G C") == 7  # a tie: the chord that opens the progression is the tonic
    assert key("N.C.") == 0


def plain_discriminator(d, bar, cond):
    """The discriminator's logit computed the plain way: every condition tiled as input
    channels, the triad and scale as channels of every step, one convolution each."""
    import torch.nn.functional as F

    from ganstudio.models.midinet import _tile

    h1 = F.leaky_relu(d.first(torch.cat([bar, _tile(cond, 16, bar.shape[3])], 1)), 0.2)
    h = F.leaky_relu(d.second(torch.cat([h1, _tile(cond, h1.shape[2])], 1)), 0.2)
    moving, fixed = d.contour_inputs(bar, cond)
    steady = fixed[:, :, None].expand(-1, -1, 16, -1)
    order = [moving[:, 0], moving[:, 1], steady[:, 0], moving[:, 2]]
    if d.tune:
        order += [steady[:, 1], moving[:, 3], moving[:, 4]]
    contour = F.leaky_relu(d.contour(torch.stack(order, 1)), 0.2).amax(3)
    h = F.leaky_relu(d.fc(torch.cat([h.flatten(1), contour.flatten(1), cond], 1)), 0.2)
    return d.head(h).squeeze(1)


@pytest.mark.parametrize("tune", [False, True])
def test_discriminator_computes_its_conditions_as_biases_exactly(tune):
    from ganstudio.models.midinet import condition_dim

    torch.manual_seed(0)
    d = Discriminator(vocab=VOCAB, width=8, hidden=16, tune=tune)
    bar = torch.nn.functional.one_hot(torch.randint(0, VOCAB, (6, 16)), VOCAB).float()[:, None]
    cond = torch.rand(6, condition_dim(tune))
    with torch.no_grad():
        fast, plain = d(bar, cond)[0], plain_discriminator(d, bar, cond)
    assert fast.abs().max() > 1e-3 and torch.allclose(fast, plain, atol=1e-5)


def test_the_tune_condition_moves_with_the_bar_and_the_register_is_drawn_from_the_training_tunes():
    from ganstudio.midi import N_PITCHES
    from ganstudio.models.midinet import draw_register
    from training.music import Bars

    split = {"tokens": TUNE, "prev": np.full_like(TUNE, REST), "has_prev": np.array([False, True]), "roots": np.array([0, 7]),
             "minor": np.array([False, False]), "key": np.array([0, 0]), "register": np.array([20.0, 20.0])}
    _, _, cond = Bars(split, torch.device("cpu")).batch(torch.tensor([0, 1, 0, 1]), torch.Generator().manual_seed(3))
    shift = cond[:, :12].argmax(1) - torch.tensor([0, 7, 0, 7])  # the chord root shows each bar's transposition
    assert cond.shape == (4, 26)
    assert torch.equal(cond[:, 13:25].argmax(1), shift % 12)  # the key moved with the bar
    assert torch.allclose(cond[:, 25], (20.0 + ((shift + 6) % 12 - 6) - N_PITCHES / 2) / 12)  # so did the register

    table = torch.tensor([[0.0, 20.0], [7.0, 30.0]])
    draws = [draw_register(table, 2, g) for g in [torch.Generator().manual_seed(s) for s in range(40)]]
    assert set(draws) == {22.0, 25.0}  # each tune's register moved to D the short way: C up 2, G down 5
    assert draws == [draw_register(table, 2, torch.Generator().manual_seed(s)) for s in range(40)]


def test_training_bars_find_copies_in_any_key_only():
    from ganstudio.melody_stats import TrainingBars

    bars = TrainingBars.of(np.concatenate([TUNE, np.full((1, 16), REST)]))
    assert len(bars) == 2  # the empty bar is no bar to copy
    up_a_fourth = np.where(TUNE < 48, TUNE + 5, TUNE)
    other_rhythm = TUNE.copy()
    other_rhythm[0, 1] = REST
    empty = np.full((1, 16), REST)
    assert bars.copies(np.concatenate([TUNE, up_a_fourth, other_rhythm[:1], empty])).tolist() == [True, True, True, True, False, False]
    assert TrainingBars(bars.keys).copies(up_a_fourth).all()  # rebuilt from the stored keys


def test_generate_bars_replaces_a_copy_with_the_nearest_fresh_candidate():
    from ganstudio.models.midinet import candidate_noise

    g = tiny_generator()
    chords = torch.tensor([parse_chord("C").vector()] * 4)[None].repeat(2, 1, 1)
    z = 50 * candidate_noise(2, 4, 8, 3, torch.Generator().manual_seed(0))  # large: an untrained net barely hears z
    one = generate_bars(g, z[:, :, 0], chords)
    assert torch.equal(generate_bars(g, z, chords), one)  # no guard: the first candidate
    never = lambda t: np.zeros(len(t), dtype=bool)  # noqa: E731
    assert torch.equal(generate_bars(g, z, chords, is_copy=never), one)
    always = lambda t: np.ones(len(t), dtype=bool)  # noqa: E731
    assert torch.equal(generate_bars(g, z, chords, is_copy=always), one)  # nothing fresh: the first again
    # one bar: whatever the first noise writes counts as a copy, so the nearer of the other two wins
    firsts = {tuple(b) for b in one[:, 0].tolist()}
    copies = lambda t: np.array([tuple(b) in firsts for b in t.tolist()])  # noqa: E731
    second, third = generate_bars(g, z[:, :1, 1], chords[:, :1]), generate_bars(g, z[:, :1, 2], chords[:, :1])
    expected = []
    for f, *others in zip(one[:, 0].tolist(), second[:, 0].tolist(), third[:, 0].tolist()):
        fresh = [o for o in others if tuple(o) not in firsts]
        expected.append(min(fresh, key=lambda o: sum(a != b for a, b in zip(o, f))) if fresh else f)
    assert expected != one[:, 0].tolist()
    assert generate_bars(g, z[:, :1], chords[:, :1], is_copy=copies)[:, 0].tolist() == expected


def test_generate_bars_with_a_judge_keeps_its_favourite_fresh_candidate():
    from ganstudio.models.midinet import candidate_noise

    g = tiny_generator()
    torch.manual_seed(1)
    d = Discriminator(vocab=VOCAB, width=8, hidden=16)
    chords = torch.tensor([parse_chord(c).vector() for c in ("C", "Am", "F")])[None].repeat(2, 1, 1)
    z = 50 * candidate_noise(2, 3, 8, 4, torch.Generator().manual_seed(0))
    chosen = generate_bars(g, z, chords, judge=d)
    one_hot = lambda t: torch.nn.functional.one_hot(t, VOCAB).float()[:, None]  # noqa: E731
    prev = torch.zeros(2, 1, 16, VOCAB)
    for i in range(3):  # each bar: of the candidates written after the bar chosen before it, the judge's favourite
        cands = torch.stack([g.sample(z[:, i, j], chords[:, i], prev) for j in range(4)], 1)
        scores = torch.stack([d(one_hot(cands[:, j]), chords[:, i])[0] for j in range(4)], 1)
        assert torch.equal(chosen[:, i], cands[torch.arange(2), scores.argmax(1)])
        prev = one_hot(chosen[:, i])
    assert not torch.equal(chosen, generate_bars(g, z, chords))  # the judge did choose other draws than the first
    # its favourites, when they are copies, are passed over
    favourites = {tuple(b) for b in chosen.flatten(0, 1).tolist()}
    copies = lambda t: np.array([tuple(b) in favourites for b in t.tolist()])  # noqa: E731
    guarded = generate_bars(g, z, chords, is_copy=copies, judge=d)
    assert not any(torch.equal(guarded[k, 0], chosen[k, 0]) for k in range(2))


def test_chord_fit_is_the_share_of_notes_on_the_beats_that_are_chord_tones():
    from ganstudio.models.midinet import chord_fit

    bar = torch.tensor([[n(64), H, n(62), H, n(79), H, H, H, R, R, R, R, n(61), H, H, H],  # E (D) G C# on beats 1, 2, 4
                        [R] * 16,
                        [H, H, n(57), H] + [R] * 12,  # a held note from the bar before, an A off the beat
                        [R] * 4 + [n(57), n(59), n(60), n(62)] + [H] * 8])  # A on beat 2, then B C D off it
    fit = lambda chord: chord_fit(bar, torch.tensor([parse_chord(chord).vector()] * 4), VOCAB - 2).tolist()  # noqa: E731
    assert fit("C") == pytest.approx([2 / 3, 0, 0, 0])  # E and G (in any octave) of C E G; nothing on a beat: 0
    assert fit("Am") == pytest.approx([1 / 3, 0, 0, 1])  # E of A C E; the off-beat C is not counted
    assert fit("A") == pytest.approx([2 / 3, 0, 0, 1])  # C# and E of A C# E
    assert fit("N.C.") == [0, 0, 0, 0]


def test_the_seam_leap_runs_from_the_last_note_before_a_bar_to_its_first():
    from ganstudio.models.midinet import last_note, seam_leap

    bars = torch.tensor([[n(64), H, n(67), H, H, H, H, H, R, R, R, R, R, R, R, R],  # E G: ends on G
                         [R] * 16,
                         [H, H, n(57), H] + [R] * 12])  # a held note, then A
    assert last_note(bars, VOCAB - 2).tolist() == [n(67), -1, n(57)]
    assert last_note(bars, VOCAB - 2, torch.tensor([n(60)] * 3)).tolist() == [n(67), n(60), n(57)]  # no notes: the one before
    before = torch.tensor([n(72), n(72), -1])
    assert seam_leap(bars, before, VOCAB - 2).tolist() == [8, 0, 0]  # C5 to E4; no notes, no note before: no leap


def test_repeated_notes_are_the_share_of_note_starts_striking_the_pitch_before_again():
    from ganstudio.models.midinet import repeated_notes

    bars = torch.tensor([[n(64), H, n(64), n(67), R, n(67), H, n(76)] + [R] * 8,  # E E G (rest) G E': two of five notes repeat
                         [R] * 16,
                         [H, H, n(57), H, n(57)] + [R] * 11])  # held, then A A
    before = torch.tensor([n(64), n(60), n(57)])
    assert repeated_notes(bars, torch.full((3,), -1), VOCAB - 2).tolist() == pytest.approx([2 / 5, 0, 1 / 2])
    assert repeated_notes(bars, before, VOCAB - 2).tolist() == pytest.approx([3 / 5, 0, 1])  # and the first, after the note before


def test_harmony_continuity_and_repetition_lean_the_judges_choice():
    from ganstudio.models.midinet import candidate_noise, chord_fit, last_note, repeated_notes, seam_leap

    g = tiny_generator()
    with torch.no_grad():  # weights large enough that the candidates differ (a fresh generator writes much the same bar)
        for p in g.parameters():
            p.normal_(0, 0.5)
    torch.manual_seed(1)
    d = Discriminator(vocab=VOCAB, width=8, hidden=16)
    chords = torch.tensor([parse_chord(c).vector() for c in ("C", "Am", "F", "G")])[None].repeat(3, 1, 1)
    z = candidate_noise(3, 4, 8, 6, torch.Generator().manual_seed(0))
    pitches = VOCAB - 2
    plain = generate_bars(g, z, chords, judge=d)
    assert torch.equal(generate_bars(g, z, chords, judge=d, harmony=0.0, continuity=0.0), plain)

    def candidates(songs, i):  # the six drawn for bar i after the bars the song kept before it
        prev = torch.nn.functional.one_hot(songs[:, i - 1], VOCAB).float()[:, None] if i else torch.zeros(3, 1, 16, VOCAB)
        return [g.sample(z[:, i, j], chords[:, i], prev) for j in range(6)]

    # with a weight that dwarfs the judge's logits, each bar is a candidate with the most chord
    # tones on its beats, or with the smallest leap into it, or with the fewest repeated notes
    harmonic, smooth = generate_bars(g, z, chords, judge=d, harmony=1e4), generate_bars(g, z, chords, judge=d, continuity=1e4)
    varied = generate_bars(g, z, chords, judge=d, repetition=1e4)
    before, before_varied = torch.full((3,), -1), torch.full((3,), -1)
    for i in range(4):
        fit = torch.stack([chord_fit(c, chords[:, i], pitches) for c in candidates(harmonic, i)], 1)
        assert torch.equal(chord_fit(harmonic[:, i], chords[:, i], pitches), fit.amax(1))
        leap = torch.stack([seam_leap(c, before, pitches) for c in candidates(smooth, i)], 1)
        assert torch.equal(seam_leap(smooth[:, i], before, pitches), leap.amin(1))
        repeats = torch.stack([repeated_notes(c, before_varied, pitches) for c in candidates(varied, i)], 1)
        assert torch.equal(repeated_notes(varied[:, i], before_varied, pitches), repeats.amin(1))
        before, before_varied = last_note(smooth[:, i], pitches, before), last_note(varied[:, i], pitches, before_varied)
    fits = lambda songs: chord_fit(songs.flatten(0, 1), chords.flatten(0, 1), pitches).mean()  # noqa: E731
    assert fits(harmonic) > fits(plain)  # the leaning changed the choice


def test_the_shipped_music_checkpoint_avoids_its_training_bars():
    from ganstudio import MusicPipeline

    pipe = MusicPipeline.from_pretrained("checkpoints/nottingham-midinet", device="cpu")
    assert pipe.training_bars is not None and len(pipe.training_bars) > 1000
    cond, _ = pipe.conditions([parse_chord(c).vector() for c in ["C", "G", "Am", "F"] * 2], None, torch.Generator().manual_seed(3))
    raw = generate_bars(pipe.generator, torch.randn(16, 8, pipe.generator.z_dim, generator=torch.Generator().manual_seed(3)),
                        cond.repeat(16, 1, 1))
    assert pipe.training_bars.copies(raw.flatten(0, 1).numpy()).any()  # unguarded, the generator does copy some bars
    copied = sum(int(pipe.training_bars.copies(pipe(chords="C G Am F", bars=8, seed=s).melody).sum()) for s in range(16))
    assert copied <= 1  # guarded: 128 bars, at most one that every one of its eight candidates copied


def tiny_dataset(path):
    """Six four-bar tunes over C F G C: arpeggios of each bar's chord, in quavers."""
    from ganstudio.chords import parse_chord as pc

    tokens, roots, minor, pcs, tune = [], [], [], [], []
    for t in range(6):
        for i, sym in enumerate(["C", "F", "G", "C"]):
            c = pc(sym)
            notes = [60 + (p - 0) % 12 + (t % 2) * 12 for p in c.pitch_classes]
            bar = [n(notes[(k // 2) % 3]) if k % 2 == 0 else H for k in range(16)]
            tokens.append(bar)
            roots.append(c.root)
            minor.append(c.minor)
            pcs.append(sum(1 << p for p in c.pitch_classes))
            tune.append(t)
    np.savez(path, tokens=np.array(tokens, np.uint8), roots=np.array(roots, np.int8), minor=np.array(minor),
             chord_pcs=np.array(pcs, np.uint16), tune=np.array(tune, np.int32),
             names=np.array([f"t{i}" for i in range(6)]), test_tunes=np.array([False] * 5 + [True]))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A checkpoints folder holding a MidiNet trained for 3 steps on tiny data by the real trainer."""
    from training import music

    root = tmp_path_factory.mktemp("music")
    tiny_dataset(root / "bars.npz")
    parser = argparse.ArgumentParser()
    music.add_arguments(parser)
    args = parser.parse_args([
        "--data", str(root / "bars.npz"), "--out", str(root / "checkpoints" / "nottingham-midinet"),
        "--run-dir", str(root / "run"), "--batch-size", "8", "--epochs", "2", "--max-steps", "3",
        "--z-dim", "8", "--g-width", "16", "--d-width", "8", "--device", "cpu", "--threads", "1",
    ])
    music.train(args)
    return root / "checkpoints"


def test_tiny_training_run_writes_a_verified_checkpoint(checkpoints):
    config = verify(checkpoints / "nottingham-midinet")
    assert config["family"] == "midinet" and config["schedule"]["steps"] == 3
    assert set(config["metrics"]) == {"generated", "real"}
    assert 0 <= config["metrics"]["generated"]["chord_tone_ratio"] <= 1
    assert config["metrics"]["real"]["chord_tone_ratio"] == 1.0  # the tiny tunes are pure arpeggios
    card = (checkpoints / "nottingham-midinet" / "README.md").read_text()
    assert "python -m training music" in card and "AI-generated" in card and "GPL-3.0" in card


def test_targets_are_judged_as_the_issue_sets_them():
    from ganstudio.melody_stats import TARGETS, meets, shortfall, target_score

    assert meets("pitch_range", 18.5, 16.9) and not meets("pitch_range", 18.7, 16.9)  # within 10%
    assert meets("chord_tone_ratio", 0.9, 0.7) and not meets("chord_tone_ratio", 0.69, 0.7)  # at least the real one
    assert meets("large_leap_rate", 0.009, 0.001) and not meets("large_leap_rate", 0.02, 0.001)  # rare in both: equal
    assert meets("training_copy_rate", 0.0, 0.5) and not meets("training_copy_rate", 0.02, 0.0)
    assert shortfall("notes_per_bar", 6.0, 5.0) == pytest.approx(1.0)  # 20% off: the allowance missed by its own size
    real = {k: 0.5 for k in TARGETS} | {"training_copy_rate": 0.0}
    roomy = dict(real) | {"chord_tone_ratio": 0.55}  # 10% above the real chord-tone ratio, the rest equal: room everywhere
    assert target_score(roomy, real) == 0
    assert 0 < target_score(dict(real), real) < 1  # met, but at the edge on chord tones
    assert target_score(roomy | {"mean_interval": 0.52}, real) < target_score(roomy | {"mean_interval": 0.54}, real) < 1  # room wins
    one_off = roomy | {"mean_interval": 0.6}
    two_off = roomy | {"mean_interval": 0.56, "pitch_range": 0.56}
    assert 1 < target_score(one_off, real) < 2 < target_score(two_off, real) < 3  # misses count first, then their size


def test_hold_out_sets_whole_tunes_aside():
    from training import music_data

    split = {"tune": np.repeat(np.arange(25), 3), "tokens": np.arange(75)}
    rest, held = music_data.hold_out(split)
    assert sorted(set(held["tune"].tolist())) == [0, 10, 20] and len(held["tokens"]) == 9
    assert not set(rest["tune"].tolist()) & set(held["tune"].tolist()) and len(rest["tokens"]) == 66


def test_keep_best_ships_the_pair_of_its_best_held_out_evaluation(tmp_path):
    from safetensors.torch import load_file

    from training import music

    tiny_dataset(tmp_path / "bars.npz")
    parser = argparse.ArgumentParser()
    music.add_arguments(parser)
    out = tmp_path / "nottingham-midinet"
    music.train(parser.parse_args([
        "--data", str(tmp_path / "bars.npz"), "--out", str(out), "--run-dir", str(tmp_path / "run"), "--batch-size", "4",
        "--epochs", "3", "--z-dim", "8", "--g-width", "16", "--d-width", "8", "--device", "cpu", "--threads", "1", "--keep-best",
        "--fm-chord", "1.5",
    ]))
    config = json.loads((out / "config.json").read_text())
    scores = [float(row["val_score"]) for row in csv.DictReader(open(tmp_path / "run" / "metrics.csv"))]
    assert len(scores) == 3 and config["kept"]["held_out_score"] == pytest.approx(min(scores), abs=1e-4)
    assert config["kept"]["held_out_tunes"] == 1 and config["data"]["train_tunes"] == 4  # tune 0 of the 5 set aside
    shipped, best = load_file(out / "model.safetensors"), torch.load(tmp_path / "run" / "state.pt", weights_only=True)["extra"]["best"]
    assert all(torch.equal(shipped[f"generator_ema.{k}"], v) for k, v in best["G"].items())
    assert all(torch.equal(shipped[f"discriminator.{k}"], v) for k, v in best["D"].items())
    assert "--keep-best" in (out / "README.md").read_text()
    assert config["schedule"]["fm_chord"] == 1.5 and "chord-relative note starts\n1.5" in (out / "README.md").read_text()
    assert all(float(row["fm_chord"]) > 0 for row in csv.DictReader(open(tmp_path / "run" / "metrics.csv")))


def test_init_fine_tunes_a_checkpoint_and_records_where_it_started(checkpoints, tmp_path, capsys, monkeypatch):
    from training import music

    base, out = checkpoints / "nottingham-midinet", tmp_path / "tuned"
    parser = argparse.ArgumentParser()
    music.add_arguments(parser)
    arguments = ["--data", str(checkpoints.parent / "bars.npz"), "--run-dir", str(tmp_path / "run"), "--batch-size", "4",
                 "--epochs", "1", "--device", "cpu", "--threads", "1", "--keep-best", "--fm-chord", "1", "--lr", "0"]
    with pytest.raises(SystemExit, match="--init: checkpoint directory not found"):
        music.train(parser.parse_args([*arguments, "--out", str(out), "--init", str(tmp_path / "missing")]))
    assert not out.exists()
    arguments += ["--out", str(out), "--init", str(base)]
    monkeypatch.setattr("sys.argv", ["training", "music", *arguments])  # the command line the card records
    music.train(parser.parse_args(arguments))

    (base_config, before), (config, after) = load_pretrained(base), load_pretrained(out)
    assert config["args"] == base_config["args"]  # the checkpoint's sizes, not the trainer's defaults
    assert config["init"] == {"weights_sha256": base_config["weights_sha256"], "steps": 3, "kept_step": None}
    assert config["commands"][:-1] == base_config["commands"] and config["commands"][-1].endswith(f"--init {base}")
    card = (out / "README.md").read_text()
    assert all(c in card for c in config["commands"]) and base_config["weights_sha256"][:16] in card
    # at learning rate 0 the weights are the ones it started from (running statistics aside)
    weights = [k for k in after if k.startswith(("generator_ema.", "discriminator.")) and "running_" not in k and "num_batches" not in k]
    assert weights and all(torch.equal(after[k], before[k]) for k in weights)
    # the starting pair is judged on the held-out tunes too, and nothing worse is kept
    start = float(re.search(r"step 0 \(the --init checkpoint\): .*val_score ([0-9.]+)", capsys.readouterr().out).group(1))
    assert config["kept"]["held_out_score"] <= start + 1e-4


def test_chord_profile_counts_note_starts_by_degree_above_the_root_and_beat():
    from training.music import chord_profile, chord_vectors, transpose_tokens

    tokens = torch.full((3, 16), REST)
    tokens[0, 0], tokens[0, 2], tokens[0, 3] = 57 - LOWEST, 60 - LOWEST, HOLD  # Am: A on the beat, C off it (held once)
    tokens[1, 4], tokens[1, 5] = 64 - LOWEST, 76 - LOWEST  # C: E on beat 2, E an octave up just after
    tokens[2, 0] = 60 - LOWEST  # no chord: counted nowhere
    cond = chord_vectors(torch.tensor([9, 0, -1]), torch.tensor([True, False, False]))
    bars = torch.nn.functional.one_hot(tokens, VOCAB).float()[:, None].requires_grad_()
    profile = chord_profile(bars, cond)  # (quality, beat, degree)
    expected = torch.zeros(2, 2, 12)
    expected[1, 0, 0] = expected[1, 1, 3] = 1.0  # the one minor bar: the root on a beat, the minor third off it
    expected[0, 0, 4] = expected[0, 1, 4] = 1.0  # the one major bar: the major third on and off the beat
    assert torch.equal(profile.detach(), expected)
    profile.sum().backward()
    assert bars.grad[2].abs().sum() == 0 and bars.grad[0, 0, 0, 57 - LOWEST] == 1  # no chord: no gradient
    shift = torch.tensor([3, -5, 2])  # bar and chord moved together: the same profile
    moved = torch.nn.functional.one_hot(transpose_tokens(tokens, shift), VOCAB).float()[:, None]
    moved_cond = chord_vectors(torch.tensor([(9 + 3) % 12, (0 - 5) % 12, -1]), torch.tensor([True, False, False]))
    assert torch.equal(chord_profile(moved, moved_cond), expected)


def test_the_chord_profile_target_is_the_whole_training_set_in_any_key(tmp_path):
    from training import music, music_data

    tiny_dataset(tmp_path / "bars.npz")
    split = music_data.split(music_data.load(str(tmp_path / "bars.npz")), test=False)
    bars = music.Bars(split, torch.device("cpu"))
    as_written = music.chord_profile(torch.nn.functional.one_hot(bars.tokens, VOCAB).float()[:, None],
                                     music.chord_vectors(bars.roots, bars.minor))
    assert as_written.sum() > 0
    for seed in (0, 1):  # every bar in a random key: the same profile
        assert torch.allclose(music.training_profile(bars, seed), as_written)


def test_training_step_moves_the_weights():
    from training.music import straight_through

    g, d = tiny_generator(), Discriminator(vocab=VOCAB, width=8)
    g.train()
    opt = torch.optim.Adam(g.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in g.parameters()]
    chord = torch.tensor([parse_chord("C").vector()] * 4)
    fake = straight_through(g(torch.randn(4, 8), chord, torch.zeros(4, 1, 16, VOCAB), torch.tensor([0, 1, 2, 4])))
    assert torch.all((fake.detach() > 0.5).sum(-1) == 1)  # one token per step, as the real bars
    loss = torch.nn.functional.softplus(-d(fake, chord)[0]).mean()
    loss.backward()
    opt.step()
    assert any(not torch.equal(a, b) for a, b in zip(before, g.parameters()))


@pytest.fixture(scope="module")
def pipe(checkpoints):
    from ganstudio import MusicPipeline

    return MusicPipeline.from_pretrained(checkpoints / "nottingham-midinet", device="cpu")


def test_pipeline_outputs_and_determinism(pipe):
    song = pipe(chords="Dm7 G7 Cmaj7", bars=5, tempo=90, key="D", instrument="flute", creativity=2, seed=7)
    assert song.melody.shape == (5, 16)
    assert song.chords == ["Em7", "A7", "Dmaj7", "Em7", "A7"]  # repeated to fill, moved from C to D
    contents = read_midi(song.midi)
    assert contents.names[1:] == ["melody", "chords"]
    meta = json.loads(contents.meta["text"].removeprefix("ganstudio "))
    assert meta["parameters"] == {"chords": "Dm7 G7 Cmaj7", "bars": 5, "tempo": 90, "key": "D", "instrument": "Flute",
                                  "creativity": 2, "seed": 7, "primer_sha256": None}
    assert meta["ai_generated"] is True and meta["checkpoint_sha256"] == pipe.checkpoint_sha256
    with wave.open(io.BytesIO(song.wav)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 5 * 4 * 60 / 90 <= seconds <= 5 * 4 * 60 / 90 + 1
    assert song.piano_roll.width == 5 * 16 * 8 + 1
    again = pipe(chords="Dm7 G7 Cmaj7", bars=5, tempo=90, key="D", instrument="Flute", creativity=2, seed=7)
    assert again.midi == song.midi and again.wav == song.wav
    other = pipe(chords="Dm7 G7 Cmaj7", bars=5, tempo=90, key="D", instrument="Flute", creativity=2, seed=8)
    assert other.midi != song.midi
    # the register: one of the training tunes' moved to the song's key (C). Tiny data: C F G C arpeggios
    # from C4 or C5, in quavers, C E G C E G C E a bar: (26 + 42 + 58 + 26) / 32 semitones above the C
    registers = {pipe(chords="C F G", bars=1, seed=s).metadata["register"] for s in range(12)}
    assert registers == {n(60) + 4.75, n(72) + 4.75}


def test_pipeline_primer(pipe, tmp_path):
    primer = write_midi(steps_to_notes(TUNE), [Chord(0)] * 2, 120, 0, {})
    path = tmp_path / "primer.mid"
    path.write_bytes(primer)
    song = pipe(bars=2, seed=1, primer=str(path))
    assert len(song.metadata["parameters"]["primer_sha256"]) == 64
    assert song.metadata["register"] == pytest.approx(np.mean(TUNE[0][TUNE[0] < 48]), abs=0.01)  # the primer's register
    assert song.midi == pipe(bars=2, seed=1, primer=primer).midi
    bad = tmp_path / "notes.mid"
    bad.write_text("these are not notes")
    with pytest.raises(InvalidParameterError, match="primer: not a readable MIDI"):
        pipe(primer=str(bad))


@pytest.mark.parametrize("kwargs, message", [
    ({"chords": "C Q7 F"}, "cannot read the chord 'Q7'"),
    ({"chords": "   "}, "chords is empty"),
    ({"bars": 0}, "bars must be from 1 to 32"),
    ({"bars": 33}, "bars must be from 1 to 32"),
    ({"tempo": 300}, "tempo must be from 40 to 240"),
    ({"key": "H"}, "key must be one of"),
    ({"instrument": "kazoo"}, "General MIDI program"),
    ({"creativity": 5}, "creativity must be from 0 to 4"),
    ({"seed": -1}, "seed"),
])
def test_pipeline_rejects_bad_values(pipe, kwargs, message):
    with pytest.raises(InvalidParameterError, match=message.replace("(", r"\(")):
        pipe(**kwargs)


def test_cli(checkpoints, tmp_path, capsys):
    from ganstudio.cli import main

    out, wav = tmp_path / "song.mid", tmp_path / "song.wav"
    ck = str(checkpoints / "nottingham-midinet")
    assert main(["music", "--chords", "C G Am F", "--bars", "8", "--seed", "1", "--out", str(out), "--wav", str(wav), "--checkpoint", ck]) == 0
    assert read_midi(out.read_bytes()).names[1:] == ["melody", "chords"]
    assert wav.read_bytes()[:4] == b"RIFF"
    assert main(["music", "--chords", "C Zz", "--out", str(out), "--checkpoint", ck]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read the chord 'Zz'" in err[0]
    with pytest.raises(SystemExit) as exc:
        main(["music", "--bars", "many", "--out", str(out)])
    assert exc.value.code == 2


def test_music_tab_over_http(checkpoints, tmp_path):
    from gradio_client import Client, handle_file

    from demo.app import build_app

    app = build_app(checkpoints)
    port = free_port()
    app.launch(prevent_thread_lock=True, server_port=port, server_name="127.0.0.1", quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/generate_music"]
        names = [p["parameter_name"] for p in api["parameters"]]
        assert names == ["chords", "bars", "tempo", "key", "instrument", "creativity", "seed", "primer"]
        assert all(p["parameter_has_default"] for p in api["parameters"])

        roll, audio, midi, meta = client.predict(chords="Am F C G", bars=4, seed=3, api_name="/generate_music")
        assert open(roll, "rb").read()[:8] == b"\x89PNG\r\n\x1a\n"
        assert open(audio, "rb").read()[:4] == b"RIFF"
        assert read_midi(open(midi, "rb").read()).names[1:] == ["melody", "chords"]
        assert meta["parameters"]["chords"] == "Am F C G" and meta["ai_generated"] is True

        primer = tmp_path / "primer.mid"
        primer.write_bytes(write_midi(steps_to_notes(TUNE), [Chord(0)] * 2, 120, 0, {}))
        *_, meta = client.predict(chords="C", bars=2, primer=handle_file(str(primer)), api_name="/generate_music")
        assert meta["parameters"]["primer_sha256"]

        with pytest.raises(Exception, match="cannot read the chord"):
            client.predict(chords="C Blah", api_name="/generate_music")
        bogus = tmp_path / "bogus.mid"
        bogus.write_bytes(b"MThd garbage")
        with pytest.raises(Exception, match="not a readable MIDI"):
            client.predict(primer=handle_file(str(bogus)), api_name="/generate_music")
        *_, meta = client.predict(api_name="/generate_music")  # still serving, defaults work
        assert meta["parameters"]["bars"] == 8
    finally:
        app.close()


def test_the_discriminator_scores_each_bar_of_a_song_and_the_provenance_tab_shows_it(tmp_path):
    from demo.provenance_tab import make_functions
    from ganstudio import MusicPipeline
    from tests.conftest import make_studio_checkpoints

    checkpoints = make_studio_checkpoints(tmp_path / "ck")
    pipe = MusicPipeline.from_pretrained(checkpoints / "nottingham-midinet", device="cpu")
    song = pipe(chords="C G Am F", bars=6, seed=2)
    scores = pipe.realness_of(song.midi)
    assert len(scores) == 6 and all(0.0 <= s <= 1.0 for s in scores)
    assert scores == pipe.realness_of(song.midi)
    path = tmp_path / "song.mid"
    path.write_bytes(song.midi)
    _, _, score = make_functions(checkpoints, music_pipe=pipe)
    shown = score(str(path))
    assert "P(real) per bar" in shown and shown.count("\n| ") >= 6
    assert "cannot tell" in shown
