"""Notebook 07 (Grad-CAM): the experiment checkers, and the helpers that build its tables and grids."""
import matplotlib
import numpy as np
import pytest

from course_helpers import cam, checks


def printed_by(capsys, checker, *answer):
    checker(*answer)
    return capsys.readouterr().out.strip()


def passes(capsys, checker, *answer):
    out = printed_by(capsys, checker, *answer)
    assert out.startswith(checks.PASS), out
    return out


def hints(capsys, checker, *answer, words=()):
    out = printed_by(capsys, checker, *answer)
    assert out.startswith(checks.FAIL + " Hint:"), out
    for word in words:
        assert word in out, f"expected {word!r} in {out!r}"
    return out


# ----------------------------------------------------------------------------
# the checkers of exercises 2, 6 and 7
# ----------------------------------------------------------------------------
def test_seed_map_experiment_reads_the_learners_median(capsys):
    loose = np.linspace(-0.2, 0.9, 32)                       # median 0.35: "b"
    passes(capsys, checks.check_seed_map_experiment, loose, "b")
    hints(capsys, checks.check_seed_map_experiment, loose, "a", words=["0.35"])
    passes(capsys, checks.check_seed_map_experiment, np.full(32, 0.1), "c")
    passes(capsys, checks.check_seed_map_experiment, np.full(32, 0.9), "a")
    hints(capsys, checks.check_seed_map_experiment, np.ones(32), "a", words=["itself"])
    hints(capsys, checks.check_seed_map_experiment, np.full(5, 0.5), "b", words=["at least 16"])
    hints(capsys, checks.check_seed_map_experiment, np.full(32, 2.0), "a", words=["between -1 and 1"])
    hints(capsys, checks.check_seed_map_experiment, loose, None, words=["replace None"])


def ig_results(change=20.0, errors=(0.5, 0.2, 0.06, 0.02, 0.01, 0.001)):
    return {steps: (change * (1 + error), change) for steps, error in zip([2, 4, 8, 16, 32, 64], errors)}


def test_ig_steps_takes_the_fewest_steps_within_three_percent(capsys):
    passes(capsys, checks.check_ig_steps, ig_results(), 16)
    hints(capsys, checks.check_ig_steps, ig_results(), 8, words=["below 0.03"])
    hints(capsys, checks.check_ig_steps, ig_results(), 64)
    passes(capsys, checks.check_ig_steps, ig_results(-1.5, (0.5, 0.4, 0.3, 0.2, 0.1, 0.05)), None)
    hints(capsys, checks.check_ig_steps, ig_results(-1.5, (0.5, 0.4, 0.3, 0.2, 0.1, 0.05)), 64, words=["None"])
    drifting = {steps: (20.0, 20.0 + steps) for steps in [2, 4, 8, 16, 32, 64]}
    hints(capsys, checks.check_ig_steps, drifting, 2, words=["same whatever the steps"])
    hints(capsys, checks.check_ig_steps, {2: (1.0, 1.0)}, 2, words=["2, 4, 8, 16, 32 and 64"])
    hints(capsys, checks.check_ig_steps, ig_results(), words=["pass your answer too"])
    hints(capsys, checks.check_ig_steps, ig_results(), "16", words=["number of steps"])


def test_occlusion_fill_reads_the_learners_means(capsys):
    black = np.array([[0.9, 0.7], [0.8, 0.8]])
    mean = np.array([[0.7, 0.9], [0.6, 0.9]])
    passes(capsys, checks.check_occlusion_fill, {"black": black, "mean": mean}, "a")
    hints(capsys, checks.check_occlusion_fill, {"black": black, "mean": mean}, "b", words=["lower"])
    passes(capsys, checks.check_occlusion_fill, {"black": mean, "mean": black}, "b")
    mixed = np.array([[0.7, 0.6], [0.6, 0.7]])
    passes(capsys, checks.check_occlusion_fill, {"black": black, "mean": mixed}, "c")
    hints(capsys, checks.check_occlusion_fill, {"black": black, "mean": black}, "a", words=["same areas"])
    hints(capsys, checks.check_occlusion_fill, {"black": black, "mean": mean * 2}, "a", words=["between 0 and 1"])
    hints(capsys, checks.check_occlusion_fill, {"black": black[:, 0], "mean": mean[:, 0]}, "a", words=["shape"])
    hints(capsys, checks.check_occlusion_fill, {"zero": black, "mean": mean}, "a", words=["dict"])


def test_saliency_randomization_reads_the_learners_numbers(capsys):
    check = checks.check_saliency_randomization
    near_guided = {"saliency": 0.6, "guided backprop": 0.66, "Grad-CAM": -0.03}
    passes(capsys, check, near_guided, "a")
    hints(capsys, check, near_guided, "c", words=["0.60", "thirds"])
    between = {**near_guided, "saliency": 0.3}
    passes(capsys, check, between, "b")
    hints(capsys, check, between, "a", words=["0.30"])
    near_grad_cam = {**near_guided, "saliency": 0.0}
    passes(capsys, check, near_grad_cam, "c")
    hints(capsys, check, near_grad_cam, "b")
    hints(capsys, check, {**near_guided, "saliency": 0.66}, "a", words=["method=cam.saliency"])
    hints(capsys, check, {**near_guided, "Grad-CAM": 0.9}, "a", words=["section 10"])
    hints(capsys, check, {**near_guided, "saliency": 1.5}, "a", words=["between -1 and 1"])
    hints(capsys, check, {"saliency": 0.6}, "a", words=["dict"])
    hints(capsys, check, near_guided, None, words=["replace None"])


@pytest.mark.parametrize("checker", [checks.check_seed_map_experiment, checks.check_ig_steps,
                                     checks.check_occlusion_fill,
                                     checks.check_saliency_randomization])
@pytest.mark.parametrize("junk", [None, "abc", float("nan"), {2: "x"}, [[1, 2], [3]], object()])
def test_experiment_checkers_never_raise_on_junk(capsys, checker, junk):
    hints(capsys, checker, junk, "a")


# ----------------------------------------------------------------------------
# the helpers behind the notebook's tables and grids
# ----------------------------------------------------------------------------
def test_mean_and_margin():
    mean, margin = cam.mean_and_margin([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert np.isclose(margin, 1.96 * np.std([1, 2, 3, 4], ddof=1) / 2)
    with pytest.raises(ValueError):
        cam.mean_and_margin([1.0])


def test_compare_with_groups_scores_as_printed():
    assert cam.compare_with(0.93, {"a": 0.89, "b": 0.931, "c": 0.96}) == \
        "more than a (0.89); the same as b (0.93); less than c (0.96)"
    assert cam.compare_with(0.5, {"a": 0.1, "b": 0.2}) == "more than every one"
    assert cam.compare_with(0.5, {"a": 0.1}, words=("above", "level with", "below")) == "above a (0.10)"
    with pytest.raises(ValueError):
        cam.compare_with(0.5, {})


def test_mask_scores_and_its_table():
    masks = np.zeros((3, 10, 10), dtype=bool)
    masks[:, 2:4, 2:4] = True
    on_figure = np.zeros((3, 10, 10))
    on_figure[:, 3, 3] = 1.0
    in_strip = np.zeros((3, 10, 10))
    in_strip[:, 9, 9] = 1.0                                   # heat only where the network never reads
    away = np.array([True, False, False])
    scores, table = cam.mask_scores({"good": (on_figure, None), "strip": (in_strip, None),
                                     "one image": (on_figure[:1], np.array([1]))}, masks, away, unread_from=8)
    assert scores["good"] == {"images": 3, "pointing": 1.0, "away": 1.0, "n_away": 1, "energy": 1.0}
    assert scores["strip"]["pointing"] == 0.0 and scores["strip"]["energy"] == 0.0   # cleared: a blank map
    assert np.isnan(scores["one image"]["away"]) and scores["one image"]["images"] == 1
    assert table.splitlines()[0].startswith("method") and len(table.splitlines()) == 4
    assert table.splitlines()[3].split()[4] == "-"          # a dash: none of its figures is away from the middle


def test_deletion_insertion_table_compares_image_by_image():
    areas = {"method": np.array([[0.5, 0.9], [0.6, 0.8]]),
             "random": np.array([[0.7, 0.7], [0.8, 0.6], [0.9, 0.5]])}
    text = cam.deletion_insertion_table(areas, {"method": [10, 30], "random": [10, 20, 30]})
    lines = text.splitlines()
    assert len(lines) == 5 and lines[1].startswith("method") and lines[3].startswith("differences")
    difference = [line for line in lines if line.startswith("method") and "deletion" in line][0]
    # image 10: 0.5 - 0.7, image 30: 0.6 - 0.9: a mean of -0.25 on deletion; +0.20 and +0.30 on insertion
    assert "deletion -0.25" in difference and "insertion +0.25" in difference
    with pytest.raises(ValueError):
        cam.deletion_insertion_table(areas, {"method": [10, 30]}, reference="centre")


def test_correlations_blank_maps_and_the_randomization_table():
    rng = np.random.default_rng(0)
    trained = rng.random((4, 6, 6))
    steps = {"trained": trained, "out": trained.copy(), "conv": np.zeros((4, 6, 6))}
    per_step = cam.correlations_per_step(steps)
    assert list(per_step) == ["out", "conv"]
    assert np.allclose(per_step["out"], 1.0) and np.allclose(per_step["conv"], 0.0)
    inner = cam.correlations_per_step(steps, region=np.s_[:3, :3])
    assert np.allclose(inner["out"], 1.0)
    assert cam.blank_maps(steps["conv"]) == 4 and cam.blank_maps(trained) == 0
    table = cam.randomization_table({"A": per_step, "B": per_step}, blanks={"out": 0, "conv": 4},
                                    whole_picture={"out": 1.0, "conv": 0.0})
    lines = table.splitlines()
    assert "over 4 images" in lines[0] and "blank maps" in lines[1] and "(B, whole picture)" in lines[1]
    assert lines[2].startswith("out") and "4 of 4" in lines[3] and lines[3].endswith("(0.00)")


def test_add_heat_colorbar_and_the_explanation_grid():
    picture = np.random.default_rng(1).random((20, 20, 3))
    figure = cam.show_explanation_grid(
        [picture, picture], [[np.ones((20, 20)) * 0.5, np.linspace(-2, 3, 400).reshape(20, 20)]] * 2,
        kinds=[["unit", "signed"], ["pixels", "signed"]], column_titles=["picture", "A", "B\nmore"],
        row_titles=["one", "two"],
        outlines=[np.ones((20, 20), bool), None], unread_from=15)
    axes = figure.axes
    assert len(axes) == 6 and axes[0].get_title() == "one" and axes[1].get_title() == "A"
    assert axes[2].get_title() == "B\nmore\n±3.0"             # a signed map: centred on 0, its range given
    assert axes[5].get_title() == "B\n±3.0"                   # below the first row it still names its column
    assert axes[1].images[0].get_clim() == (0.0, 1.0)
    assert axes[2].images[0].get_clim() == (-3.0, 3.0)
    assert axes[4].images[0].get_cmap().name == "magma"
    assert any(line.get_linestyle() == "--" for line in axes[5].lines)
    with pytest.raises(ValueError):
        cam.show_explanation_grid([picture], [[picture[:, :, 0]]], kinds=["wrong"])
    cam.add_heat_colorbar(figure, axes=axes[:3], label="0 = none, 1 = the maximum")
    bar = figure.axes[-1]
    assert len(figure.axes) == 7 and "1 = the maximum" in bar.get_ylabel()
    colours = bar.collections[0].get_cmap() if bar.collections else None
    assert colours is None or isinstance(colours, matplotlib.colors.Colormap)


def test_add_outlines_draws_one_contour_per_mask():
    picture = np.zeros((10, 10, 3))
    figure = cam.show_explanation_grid([picture], [[np.zeros((10, 10))]], kinds=["unit"])
    mask = np.zeros((10, 10), bool)
    mask[3:6, 3:6] = True
    cam.add_outlines(figure, [mask, None])
    assert len(figure.axes[0].collections) == 1 and not figure.axes[1].collections


def test_why_logit_hint_for_the_missing_factor_names_it(capsys):
    # option (d) is the bracket without p_cat: the hint points at that factor, without giving the answer
    out = hints(capsys, checks.check_why_logit, "d", words=["p_cat"])
    assert "-0.35" not in out and "(c)" not in out


def test_mask_scores_name_width_widens_the_first_column_only():
    masks = np.zeros((2, 10, 10), dtype=bool)
    masks[:, 2:4, 2:4] = True
    heat = np.zeros((2, 10, 10))
    heat[:, 3, 3] = 1.0
    away = np.array([True, False])
    long_name = "Grad-CAM conv5 stretched"                     # 24 characters
    narrow_scores, narrow = cam.mask_scores({"short": (heat, None)}, masks, away)
    wide_scores, wide = cam.mask_scores({long_name: (heat, None), "short": (heat, None)}, masks, away, name_width=24)
    assert wide_scores["short"] == narrow_scores["short"]       # the scores do not depend on the layout
    header, long_row, short_row = wide.splitlines()
    assert header.index("images") == narrow.splitlines()[0].index("images") + 4
    assert long_row.startswith(long_name + " ")
    assert long_row.split()[-1] == short_row.split()[-1] == "1.00"
    assert len({len(line) for line in (long_row, short_row)}) == 1   # the two rows line up


def test_ig_steps_asks_about_tolerance_when_every_error_is_tiny(capsys):
    adapted = ig_results(errors=(0.008, 0.006, 0.005, 0.004, 0.003, 0.001))   # the helper added steps itself
    hints(capsys, checks.check_ig_steps, adapted, 2, words=["tolerance=None"])
    passes(capsys, checks.check_ig_steps, ig_results(), 16)                    # a real sweep still passes


def test_seed_map_hint_names_the_cells_variable(capsys):
    hints(capsys, checks.check_seed_map_experiment, None, None, words=["my_seed_reading"])


def test_explanation_grid_outlines_only_the_columns_asked_for():
    picture = np.zeros((20, 20, 3))
    mask = np.zeros((20, 20), dtype=bool)
    mask[5:15, 5:15] = True
    heat = np.random.default_rng(0).random((20, 20))
    everywhere = cam.show_explanation_grid([picture], [[heat, heat]], kinds=["unit"], outlines=[mask])
    assert [bool(ax.collections) for ax in everywhere.axes[:3]] == [True, True, True]
    pictures_only = cam.show_explanation_grid([picture], [[heat, heat]], kinds=["unit"], outlines=[mask],
                                              outline_columns=(0,))
    assert [bool(ax.collections) for ax in pictures_only.axes[:3]] == [True, False, False]
    matplotlib.pyplot.close("all")
