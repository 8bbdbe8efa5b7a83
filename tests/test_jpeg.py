"""ui/jpeg.py makes the very bytes st.image makes of mixviz.imaging.to_pil(t) as JPEG (the Mixing Lab's shaded
inputs rely on it: the page must look as it did when st.image encoded them)."""
import torch
from streamlit.elements.lib.image_utils import _pil_to_bytes

from mixviz.imaging import to_pil
from ui.jpeg import jpeg


def test_jpeg_is_the_bytes_st_image_makes():
    torch.manual_seed(0)
    pictures = [torch.rand(3, 50, 70), torch.rand(3, 17, 9) * 1.4 - 0.2,  # values outside [0, 1] are clipped
                torch.linspace(0, 1, 3 * 40 * 60).reshape(3, 40, 60)]
    for t in pictures:
        assert jpeg(t) == _pil_to_bytes(to_pil(t), "JPEG")
