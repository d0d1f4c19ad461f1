"""SiamFC's config, network, loss and training, now in `siamlab.models.siamfc` (a model
family a module, beside `siamlab.models.siamrpn`); this module keeps the old import
path `siamlab.nn.models` working."""

from siamlab.models.siamfc import (
    DEFAULT_SIAMFC_WEIGHTS,
    SiamFCConfig,
    SiamFCNet,
    config_dict,
    load_siamfc,
    siamfc_loss,
    train_siamfc,
)

__all__ = [
    "DEFAULT_SIAMFC_WEIGHTS",
    "SiamFCConfig",
    "SiamFCNet",
    "config_dict",
    "load_siamfc",
    "siamfc_loss",
    "train_siamfc",
]
