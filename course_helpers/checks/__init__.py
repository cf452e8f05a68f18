"""Checkers for the "Check your understanding" exercises, one module per notebook.

Each checker takes a learner's answer and prints one line: a clear pass, or a
hint that points at the mistake without giving the answer away. Checkers never
raise on a malformed answer; they say what shape or type was expected.

Notebook 01 (convolution basics): :func:`check_window_sums`,
:func:`check_my_conv_layer`, :func:`check_horizontal_edge_kernel`,
:func:`check_conv_params`, :func:`check_blur_edge_widths`.

Notebook 02 (padding, stride, pooling): :func:`check_output_size`,
:func:`check_same_padding`, :func:`check_receptive_field`,
:func:`check_my_max_pool`, :func:`check_fully_read_sizes`.

Notebook 03 (convolutions on a cat): :func:`check_cat_output_shape`,
:func:`check_mystery_kernel` (with :func:`mystery_map`),
:func:`check_relu_then_pool`, :func:`check_relu_pool_order`,
:func:`check_sum_experiment`.

Notebook 04 (training the classifier): :func:`check_flatten_size`,
:func:`check_dense_params`, :func:`check_humans_called_horses`,
:func:`check_unsafe_augmentation`, :func:`check_build_model`, :func:`check_mirror_test`,
:func:`check_recipe_experiment`, :func:`check_gap_or_overfitting`.

Notebook 05 (intermediate activations): :func:`check_conv3_shape`,
:func:`check_flat_picture`, :func:`check_dead_meaning`,
:func:`check_preferring`, :func:`check_most_preferring`, :func:`check_central_share`,
:func:`check_pools_leaving_unread`.

Notebook 06 (filter visualization): :func:`check_ascent_step`,
:func:`check_total_variation`, :func:`check_receptive_layer`,
:func:`check_flat_colour`, :func:`check_tv_experiment`, :func:`check_neuron_extent`.

Notebook 07 (Grad-CAM): :func:`check_channel_weights`,
:func:`check_weighted_map`, :func:`check_why_logit`,
:func:`check_centre_bias`, :func:`check_conv4_stretch`,
:func:`check_seed_map_experiment`, :func:`check_ig_steps`, :func:`check_occlusion_fill`,
:func:`check_saliency_randomization`.
"""
from .answers import FAIL, PASS
from .convolution_basics import (WINDOW_SUMS_IMAGE, WINDOW_SUMS_KERNEL, check_blur_edge_widths, check_conv_params,
                                 check_horizontal_edge_kernel, check_my_conv_layer, check_window_sums)
from .convolutions_on_a_cat import (check_cat_output_shape, check_mystery_kernel, check_relu_pool_order,
                                    check_relu_then_pool, check_sum_experiment, mystery_map)
from .filter_visualization import (MADE_UP_KERNEL, check_ascent_step, check_flat_colour, check_neuron_extent,
                                   check_receptive_layer, check_total_variation, check_tv_experiment)
from .grad_cam import (check_centre_bias, check_channel_weights, check_conv4_stretch, check_ig_steps,
                       check_occlusion_fill, check_saliency_randomization, check_seed_map_experiment,
                       check_weighted_map, check_why_logit)
from .intermediate_activations import (check_central_share, check_conv3_shape, check_dead_meaning,
                                       check_flat_picture, check_most_preferring, check_pools_leaving_unread,
                                       check_preferring)
from .padding_stride_pooling import (check_fully_read_sizes, check_my_max_pool, check_output_size,
                                     check_receptive_field, check_same_padding)
from .training import (EXAMPLE_CONFUSION, check_build_model, check_dense_params, check_flatten_size,
                       check_gap_or_overfitting, check_humans_called_horses, check_mirror_test,
                       check_recipe_experiment, check_unsafe_augmentation)

__all__ = [
    "PASS",
    "FAIL",
    "check_window_sums",
    "check_my_conv_layer",
    "check_horizontal_edge_kernel",
    "check_conv_params",
    "check_blur_edge_widths",
    "WINDOW_SUMS_IMAGE",
    "WINDOW_SUMS_KERNEL",
    "check_output_size",
    "check_same_padding",
    "check_receptive_field",
    "check_my_max_pool",
    "check_fully_read_sizes",
    "check_cat_output_shape",
    "mystery_map",
    "check_mystery_kernel",
    "check_relu_then_pool",
    "check_relu_pool_order",
    "check_sum_experiment",
    "check_flatten_size",
    "check_dense_params",
    "check_unsafe_augmentation",
    "check_build_model",
    "check_recipe_experiment",
    "check_mirror_test",
    "check_humans_called_horses",
    "check_gap_or_overfitting",
    "EXAMPLE_CONFUSION",
    "check_conv3_shape",
    "check_flat_picture",
    "check_dead_meaning",
    "check_preferring",
    "check_most_preferring",
    "check_central_share",
    "check_pools_leaving_unread",
    "check_ascent_step",
    "check_total_variation",
    "check_receptive_layer",
    "check_tv_experiment",
    "check_neuron_extent",
    "check_flat_colour",
    "MADE_UP_KERNEL",
    "check_channel_weights",
    "check_weighted_map",
    "check_why_logit",
    "check_centre_bias",
    "check_conv4_stretch",
    "check_seed_map_experiment",
    "check_ig_steps",
    "check_occlusion_fill",
    "check_saliency_randomization",
]
