"""Draw the synthetic demo seal ``demo_seal.png``: a red square stamp reading 見本 (specimen).

Run from the repository root: ``.venv/bin/python gateway/pdf/assets/make_demo_seal.py``. The PNG is committed;
rerun only to change it. A real office configures an image of its own seal instead.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

HERE = Path(__file__).resolve().parent
FONT = HERE.parent / "fonts" / "ipaexg.ttf"
SIZE = 240
RED = (200, 30, 30, 255)


def main() -> None:
    image = Image.new("RGBA", (SIZE, SIZE), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, SIZE - 9, SIZE - 9), outline=RED, width=14)
    font = ImageFont.truetype(str(FONT), 92)
    # Written vertically, like a seal: 見 above 本.
    draw.text((SIZE / 2, SIZE / 2 - 4), "見", fill=RED, font=font, anchor="md")
    draw.text((SIZE / 2, SIZE / 2 + 4), "本", fill=RED, font=font, anchor="ma")
    image.save(HERE / "demo_seal.png", format="PNG", optimize=True)


if __name__ == "__main__":
    main()
