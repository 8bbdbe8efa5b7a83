"""Pictures as the JPEG bytes st.image would make of them, made here in one pass, so that st.image only
registers the bytes (given a PIL image, it encodes it itself; given JPEG bytes, it reads their header and
keeps them)."""
from __future__ import annotations

import cv2
import numpy as np
import torch

# st.image encodes a PIL image at quality 100 (streamlit.elements.lib.image_utils._pil_to_bytes): the same
# quality, and libjpeg-turbo's other defaults (4:2:0, no optimisation) in both Pillow and cv2, give the same bytes
QUALITY = 100


def jpeg(t: torch.Tensor) -> bytes:
    """(3, H, W) float in [0, 1] as the JPEG that st.image(mixviz.imaging.to_pil(t), output_format="JPEG")
    sends: values clipped and rounded as to_pil does, turned to 8-bit (H, W, 3) BGR in one numpy pass and
    encoded by cv2 (about a third of the time of to_pil, Pillow's encoder and streamlit's conversions)."""
    f = t.detach().float().cpu().clamp(0, 1).mul_(255.0).add_(0.5)
    bgr = f.numpy()[::-1].transpose(1, 2, 0).astype(np.uint8)  # truncation after +0.5, as to_pil rounds
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    if not ok:
        raise ValueError("cv2 could not encode the picture as JPEG")
    return buf.tobytes()
