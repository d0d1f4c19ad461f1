"""Interactive explorers for JupyterLab, built on `siamlab.viz` with ipywidgets, one module per chapter.

Each explorer is a small class whose `update(**values)` redraws its figure from slider values and
whose `widget()` returns the ipywidgets layout. Tests call `update` directly, without a browser;
the book shows a static figure of the default state before the live widget.
"""
