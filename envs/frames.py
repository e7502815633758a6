"""Frame pre-processing shared by the real environments: crop, then resize to 64x64x3 uint8.

The authors (spec §1.1) cropped the frame, then called ``scipy.misc.imresize`` on a float image, which stretched
each frame's own min..max to 0..255 before a PIL bilinear resize, and then mapped v -> v-1 (0 -> 255) by a uint8
overflow. We keep the crop and the PIL bilinear resize (Pillow anti-aliases when shrinking, as the 2018 Pillow
did) and drop both the per-frame contrast stretch and the v-1 artefact (README "Deviations").
"""
from __future__ import annotations

import numpy as np
from PIL import Image

SIZE = 64


def crop_resize(frame: np.ndarray, rows: int) -> np.ndarray:
    """Keep rows 0..rows-1 of an RGB uint8 frame [H, W, 3] and resize it to uint8 [64, 64, 3] (PIL bilinear)."""
    frame = np.ascontiguousarray(frame[:rows], dtype=np.uint8)
    return np.asarray(Image.fromarray(frame, "RGB").resize((SIZE, SIZE), Image.BILINEAR), dtype=np.uint8)
