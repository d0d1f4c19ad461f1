"""Whole models, a family a module: each with its `Config` presets, network, loss,
training function and the importer of the weights its papers' releases published.

- `siamlab.models.siamfc`: SiamFC (Bertinetto et al. 2016), cross-correlation of
  AlexNet features (`siamlab.nn.models` re-exports it under its older name);
- `siamlab.models.siamrpn`: SiamRPN (Li et al. 2018), the up-channel RPN on AlexNet,
  the DaSiamRPN release's weights (Zhu et al. 2018), and the training of every RPN
  tracker (SiamRPN, DaSiamRPN, SiamRPN++);
- `siamlab.models.siamrpnpp`: SiamRPN++ (Li et al. 2019), depthwise RPNs on a padded
  ResNet's last three stages, and the SiamRPN++ release's weights.
"""
