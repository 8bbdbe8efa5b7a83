"""Streamlit glue shared by the pages: the sidebar (sidebar.py), the controls several pages show
(controls.py), the one error boundary (errors.py), the upload store (uploads.py), cached images and tensors
(images.py), the serving model (models.py), per-image maps (maps.py, cam_maps.py) and parameter widgets
(params.py). The maths lives in mixviz; nothing here computes more than it hands to mixviz."""
