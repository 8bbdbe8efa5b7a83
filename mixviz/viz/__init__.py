"""The presentation layer: one style (`style`), slide figures (`slides`), plotly charts (`charts`), map
figures (`map_figures`), the pictures of the maps that guided a mix (`guides`), the Theory page's figures
(`theory`) and the command line. matplotlib through `Figure` only, never pyplot's global state; plotly and
matplotlib are imported by the functions that draw, when first called. Nothing here imports streamlit."""
