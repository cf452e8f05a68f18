"""Where does the network look? Explanation maps, and how to measure them.

* :mod:`course_helpers.cam.maps`: :func:`grad_cam`, :func:`grad_cam_plus_plus`,
  :func:`saliency`, :func:`smoothgrad`, :func:`guided_backprop`,
  :func:`integrated_gradients`, :func:`occlusion`;
* :mod:`course_helpers.cam.measures`: :func:`pointing_game`,
  :func:`energy_in_mask`, :func:`deletion_insertion`, :func:`randomization_test`,
  :func:`spearman`, and the tables built from them (:func:`mask_scores`,
  :func:`deletion_insertion_table`, :func:`randomization_table`).

The figures (:func:`overlay`, :func:`plot_grad_cam`, :func:`add_heat_colorbar`,
:func:`show_explanation_grid`) live in
:mod:`course_helpers.plotting`, and the model's anatomy (:func:`default_layer`,
:func:`unit_centres`) in :mod:`course_helpers.anatomy`; all are importable from
here too, as the notebooks use them.
"""
from ..anatomy import default_layer, unit_centres
from ..plotting import add_heat_colorbar, add_outlines, overlay, plot_grad_cam, show_explanation_grid
from .maps import grad_cam, grad_cam_plus_plus, guided_backprop, integrated_gradients, occlusion, saliency, smoothgrad
from .measures import (blank_maps, compare_with, correlations_per_step, deletion_insertion, deletion_insertion_table,
                       energy_in_mask, mask_scores, mean_and_margin, pointing_game, randomization_table,
                       randomization_test, spearman)

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
    "mean_and_margin",
    "compare_with",
    "mask_scores",
    "deletion_insertion_table",
    "correlations_per_step",
    "blank_maps",
    "randomization_table",
    "add_heat_colorbar",
    "add_outlines",
    "show_explanation_grid",
]
