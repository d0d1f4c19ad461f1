"""Static figures and animations for the book (matplotlib), one module per topic.

- `siamlab.viz.tracking`: frames with boxes, success / precision plots, attribute bars,
  animations;
- `siamlab.viz.siamese`: contrastive-loss curves, embeddings and distance histograms
  (chapter 1);
- `siamlab.viz.siamfc`: score maps and the tracker's steps (chapter 2);
- `siamlab.viz.anchors`: anchor grids and labels (chapter 3);
- `siamlab.viz.schematics`: the block diagrams that open the chapters;
- `siamlab.viz.benchmark`: the per-attribute heat map of several trackers (chapter 7).

Functions return the figure (or animation) they draw and never call `plt.show`; every
axis has a label and every figure a title, so a page of the book reads on its own."""
