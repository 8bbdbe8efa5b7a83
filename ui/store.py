"""Transitional: the caches moved to ui/uploads.py, ui/images.py and ui/models.py (this module goes)."""
from .images import MAX_SIDE, THUMB_SIDE, at_size, batch, contact_sheet, image, sample_path, thumbnail  # noqa: F401
from .models import default_class, model, own_class, top_class  # noqa: F401
from .uploads import _UPLOADS, add_upload, has_upload, load_image  # noqa: F401
