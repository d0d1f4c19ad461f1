"""Neural network parts: backbones, cross-correlations, heads, embeddings and whole
models."""
