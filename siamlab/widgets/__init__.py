"""Interactive explorers built on `siamlab.viz`, one module per chapter.

Each explorer is a small class whose `update(**values)` redraws its figure from slider
values and whose `widget()` returns its controls above the figure, made by
`siamlab.widgets.static.explorer`: live ipywidgets in JupyterLab, and in the HTML book,
which has no kernel, the same sliders over states drawn ahead of time. Tests call
`update` directly, without a browser.
"""
