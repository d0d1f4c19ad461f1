"""Whole models, a family a module: each with its `Config` presets, network, loss,
training function and the importer of the weights its papers' releases published.

- `siamlab.models.siamfc`: SiamFC (Bertinetto et al. 2016), cross-correlation of
  AlexNet features (`siamlab.nn.models` re-exports it under its older name);
- `siamlab.models.siamrpn`: SiamRPN (Li et al. 2018), the up-channel RPN on AlexNet,
  and the DaSiamRPN release's weights (Zhu et al. 2018).
"""
