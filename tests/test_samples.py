"""The bundled photos: each has its attribution and the ImageNet class it shows, spelled as the models'
class list spells it."""
import re

from mixviz.maps.models import imagenet_classes
from mixviz.samples import PHOTOS, samples


def test_every_bundled_photo_has_its_imagenet_class():
    photos = samples()
    assert len(photos) == len(list(PHOTOS.glob("*.jpg"))) == 21
    classes = imagenet_classes()
    for name, s in photos.items():
        assert s.attribution, name
        assert s.imagenet_class in classes, (name, s.imagenet_class)
    assert photos["boat"].imagenet_class == "canoe" and photos["airplane"].imagenet_class == "airliner"
    assert photos["cow"].imagenet_class == "ox" and photos["warplane_f22"].imagenet_class == "warplane"


def test_each_class_is_among_the_top3_that_sources_md_lists():
    """SOURCES.md gives EfficientNet-Lite0's top 3 on each file: the recorded class is one of them (a class
    the network never considers would be a typo or a wrong guess)."""
    text = (PHOTOS / "SOURCES.md").read_text(encoding="utf-8")
    for name, s in samples().items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {name}.jpg |"))
        top3 = [re.sub(r" [\d.]+$", "", p.strip()) for p in row.strip().strip("|").split("|")[-1].split(";")]
        assert s.imagenet_class in top3, (name, top3)
