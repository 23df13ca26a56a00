"""Prompts to look at and time the built-in models with: the demo prompts when the checkout
has them (arena/pages/demo_prompts.toml, read as data), else a small built-in set."""

from __future__ import annotations

import tomllib
from pathlib import Path

DEMO_PROMPTS = Path(__file__).resolve().parents[2] / "arena" / "pages" / "demo_prompts.toml"
REFERENCE = (
    "A glass cube on a wooden table. Inside the cube is a small blue sphere. On top of the cube "
    "sits a red book. A green plant is behind the cube, partially visible through the glass. "
    "Soft window light from the left."
)
BUILT_IN_PROMPTS = [
    REFERENCE,
    "A red ball on the left and a blue cube on the right",
    "Three yellow apples on a wooden table",
    "A small house under a big tree, mountains in the background, sunny day",
    "A lighthouse on the right at night, a full moon and stars above the sea",
    "A rocket flying past a ringed planet in outer space",
]
BUILT_IN_EDITS = [
    (REFERENCE, "Make the sphere red"),
    (REFERENCE, "Remove the book"),
    (REFERENCE, "Convert to black and white"),
    (BUILT_IN_PROMPTS[3], "Add a moon"),
    (BUILT_IN_PROMPTS[3], "Make it night"),
]


def load() -> tuple[list[str], list[tuple[str, str]]]:
    """Text-to-image prompts and (source prompt, instruction) pairs."""
    if not DEMO_PROMPTS.exists():
        return BUILT_IN_PROMPTS, BUILT_IN_EDITS
    data = tomllib.loads(DEMO_PROMPTS.read_text())
    prompts = [entry["text"] for entry in data.get("t2i", [])]
    edits = [(entry["source_prompt"], entry["instruction"]) for entry in data.get("edit", [])]
    return prompts or BUILT_IN_PROMPTS, edits or BUILT_IN_EDITS
