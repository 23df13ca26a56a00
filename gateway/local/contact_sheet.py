"""Render a contact sheet of the built-in models, to look at them.

    .venv/bin/python -m gateway.local.contact_sheet OUT.png [--edits] [--size 512] [--tile 256]

Rows are prompts, columns are models; with --edits, rows are (source, instruction) pairs and
columns are the source followed by each editor's result. `--seed` picks the renditions; run it
twice with different seeds to see what a seed changes.
"""

from __future__ import annotations

import argparse
import textwrap

from PIL import Image, ImageDraw, ImageFont

from gateway import local
from gateway.local import samples

T2I_MODELS = ["lumen-xl", "prism-2", "sketchbook", "palette", "blockworld", "daydream"]
EDIT_MODELS = ["lumen-xl", "prism-2", "sketchbook", "retouch"]
LABEL = 44


def sheet(rows: list[tuple[str, list[Image.Image]]], headers: list[str], tile: int) -> Image.Image:
    font = ImageFont.load_default(size=13)
    columns = len(headers)
    out = Image.new("RGB", (columns * tile, 24 + len(rows) * (tile + LABEL)), (255, 255, 255))
    draw = ImageDraw.Draw(out)
    for c, header in enumerate(headers):
        draw.text((c * tile + 6, 4), header, fill=(0, 0, 0), font=font)
    for r, (caption, images) in enumerate(rows):
        top = 24 + r * (tile + LABEL)
        draw.multiline_text(
            (6, top + 2),
            "\n".join(textwrap.wrap(caption, columns * tile // 7)[:2]),
            fill=(60, 60, 60),
            font=font,
        )
        for c, image in enumerate(images):
            out.paste(
                image.resize((tile, tile), Image.Resampling.LANCZOS), (c * tile, top + LABEL)
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--edits", action="store_true")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    prompts, edits = samples.load()
    size, seed = args.size, args.seed
    rows: list[tuple[str, list[Image.Image]]] = []
    if args.edits:
        for source_prompt, instruction in edits[args.offset : args.offset + args.limit]:
            source = local.render("lumen-xl", source_prompt, size, size, seed=seed)
            results = [local.edit(m, source, instruction, seed=seed) for m in EDIT_MODELS]
            rows.append((instruction, [source, *results]))
        headers = ["source", *EDIT_MODELS]
    else:
        for prompt in prompts[args.offset : args.offset + args.limit]:
            images = [local.render(m, prompt, size, size, seed=seed) for m in T2I_MODELS]
            rows.append((prompt, images))
        headers = T2I_MODELS
    sheet(rows, headers, args.tile).save(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
