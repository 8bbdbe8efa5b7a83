"""Streamlit glue shared by the pages: the sidebar's image slots, cached images, models and maps.
The maths lives in mixviz; nothing here computes more than it hands to mixviz."""
