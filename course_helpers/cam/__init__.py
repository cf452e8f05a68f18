"""Where does the network look? Explanation maps, and how to measure them.

* :mod:`course_helpers.cam.maps`: :func:`grad_cam`, :func:`grad_cam_plus_plus`,
  :func:`saliency`, :func:`smoothgrad`, :func:`guided_backprop`,
  :func:`integrated_gradients`, :func:`occlusion`;
* :mod:`course_helpers.cam.measures`: :func:`pointing_game`,
  :func:`energy_in_mask`, :func:`deletion_insertion`, :func:`randomization_test`,
  :func:`spearman`.

The figures (:func:`overlay`, :func:`plot_grad_cam`) live in
:mod:`course_helpers.plotting`, and the model's anatomy (:func:`default_layer`,
:func:`unit_centres`) in :mod:`course_helpers.anatomy`; all are importable from
here too, as the notebooks use them.
"""
from ..anatomy import default_layer, unit_centres
from ..plotting import overlay, plot_grad_cam
from .maps import grad_cam, grad_cam_plus_plus, guided_backprop, integrated_gradients, occlusion, saliency, smoothgrad
from .measures import deletion_insertion, energy_in_mask, pointing_game, randomization_test, spearman

__all__ = [
    "default_layer",
    "unit_centres",
    "grad_cam",
    "grad_cam_plus_plus",
    "saliency",
    "smoothgrad",
    "guided_backprop",
    "integrated_gradients",
    "occlusion",
    "overlay",
    "plot_grad_cam",
    "pointing_game",
    "energy_in_mask",
    "deletion_insertion",
    "randomization_test",
    "spearman",
]
