"""A piano-roll picture of a song: melody over chords, bar and beat lines, chord names."""

from __future__ import annotations

from PIL import Image, ImageDraw

from .midi import STEPS_PER_BAR, Note

CELL_W, ROW_H, TOP = 8, 5, 14
BACKGROUND, BEAT, BAR = (250, 250, 247), (228, 228, 222), (140, 140, 135)
MELODY, CHORD, TEXT = (214, 96, 38), (120, 150, 200), (60, 60, 60)


def piano_roll(melody: list[Note], chord_notes: list[Note], chord_names: list[str], bars: int) -> Image.Image:
    pitches = [n.pitch for n in melody + chord_notes] or [60]
    low, high = min(pitches) - 2, max(pitches) + 2
    width, height = bars * STEPS_PER_BAR * CELL_W + 1, TOP + (high - low + 1) * ROW_H + 12
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    for step in range(0, bars * STEPS_PER_BAR + 1, 4):
        x = step * CELL_W
        draw.line([(x, TOP), (x, height - 12)], fill=BAR if step % STEPS_PER_BAR == 0 else BEAT)
    for b, name in enumerate(chord_names):
        draw.text((b * STEPS_PER_BAR * CELL_W + 3, 1), name, fill=TEXT)
    for notes, colour in ((chord_notes, CHORD), (melody, MELODY)):
        for n in notes:
            y = TOP + (high - n.pitch) * ROW_H
            draw.rectangle([n.start * CELL_W + 1, y, n.end * CELL_W - 1, y + ROW_H - 1], fill=colour)
    draw.text((3, height - 11), "AI-generated (GAN Studio)", fill=TEXT)
    return img
