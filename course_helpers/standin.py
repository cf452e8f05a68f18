"""Procedural horses and humans: the offline stand-in for the horse-or-human data.

Each scene is drawn with Pillow from random parts, so it comes with an exact
pixel mask of the figure. The two classes are built to differ **only in shape**:
a horse is a quadruped (body, four jointed legs, neck, head, tail, mane), a human
a biped (head, torso, two jointed arms, two jointed legs). Everything else is
drawn from the same distributions for both: figure colour and texture, figure
area, position, rotation, and the background (sky and ground gradients, horizon
height, noise, distractor shapes). ``tests/test_data.py`` checks that colour and
area alone cannot tell the classes apart.

All randomness comes from one ``numpy.random.Generator``, so a seed fixes the
picture exactly.
"""
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = ["render_scene", "CLASSES"]

CLASSES = ("horses", "humans")

# The figure's area as a fraction of the image, drawn for both classes from this range.
AREA_RANGE = (0.07, 0.2)
# The most of the picture's width or height a figure may span.
MAX_EXTENT = 0.94
# How far (as a fraction of its own size) a figure may reach over the picture's edge.
OVER_EDGE = 0.0
# The least colour difference (sum over R, G, B in [0, 1]) between a figure and what is behind it.
MIN_CONTRAST = 0.6


# ----------------------------------------------------------------------------
# Shapes as polygons, in figure coordinates (x right, y down)
# ----------------------------------------------------------------------------
def _ellipse(cx, cy, rx, ry, angle=0.0, points=20):
    t = np.linspace(0, 2 * np.pi, points, endpoint=False)
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def _limb(start, end, width_start, width_end=None):
    """A tapered segment from start to end, with round ends."""
    width_end = width_start if width_end is None else width_end
    start, end = np.asarray(start, float), np.asarray(end, float)
    direction = end - start
    length = np.hypot(*direction) or 1e-6
    normal = np.array([-direction[1], direction[0]]) / length
    quad = np.array([start + normal * width_start / 2, end + normal * width_end / 2,
                     end - normal * width_end / 2, start - normal * width_start / 2])
    return [quad, _ellipse(*start, width_start / 2, width_start / 2, points=12),
            _ellipse(*end, width_end / 2, width_end / 2, points=12)]


def _jointed(start, angles, lengths, widths):
    """A chain of segments (a leg or an arm): each angle is absolute, 0 = pointing down."""
    parts, point = [], np.asarray(start, float)
    for angle, length, (w0, w1) in zip(angles, lengths, widths):
        end = point + length * np.array([np.sin(angle), np.cos(angle)])
        parts += _limb(point, end, w0, w1)
        point = end
    return parts


def _horse(rng):
    """Polygons of a horse whose body is 1 unit long, centred near the origin."""
    length = 1.0
    depth = rng.uniform(0.32, 0.42)
    parts = [_ellipse(0, 0, length / 2, depth / 2)]
    facing = 1.0  # the head is on the right; the whole figure may be mirrored later
    # Neck and head: the neck rises from the front of the body; the head hangs from it.
    neck_base = np.array([0.38 * facing, -0.08])
    neck_angle = rng.uniform(np.radians(25), np.radians(60))  # from vertical, leaning forward
    neck_length = rng.uniform(0.38, 0.5)
    neck_top = neck_base + neck_length * np.array([np.sin(neck_angle) * facing, -np.cos(neck_angle)])
    parts += _limb(neck_base, neck_top, 0.2, 0.12)
    head_angle = rng.uniform(np.radians(15), np.radians(70))  # nose pointing forward and down
    head_length = rng.uniform(0.28, 0.36)
    nose = neck_top + head_length * np.array([np.cos(head_angle) * facing, np.sin(head_angle)])
    parts += _limb(neck_top, nose, 0.14, 0.09)
    parts.append(_ellipse(*(neck_top + np.array([-0.02, -0.06])), 0.03, 0.07, points=8))  # ear
    # Mane: a ridge of short tufts along the top of the neck.
    for t in np.linspace(0.15, 0.95, 5):
        point = neck_base + t * (neck_top - neck_base) + np.array([-0.06 * facing, -0.03])
        parts.append(_ellipse(*point, 0.05, 0.03, angle=neck_angle, points=8))
    # Tail: from the rump, hanging down and back.
    tail_base = np.array([-0.48 * facing, -0.06])
    tail_angle = rng.uniform(np.radians(10), np.radians(60))
    tail_end = tail_base + rng.uniform(0.3, 0.45) * np.array([-np.sin(tail_angle) * facing, np.cos(tail_angle)])
    parts += _limb(tail_base, tail_end, 0.08, 0.04)
    # Four legs, two segments each, in a walking, trotting or standing pose.
    leg_length = rng.uniform(0.55, 0.7)
    gait = rng.uniform(0, 2 * np.pi)
    for hip_x, phase in [(0.33, 0.0), (0.22, np.pi), (-0.3, np.pi / 2), (-0.4, 3 * np.pi / 2)]:
        swing = rng.uniform(0.1, 0.45) * np.sin(gait + phase)
        knee_bend = rng.uniform(0.0, 0.6) * max(0.0, np.sin(gait + phase + 1.0))
        hip = np.array([hip_x * facing, depth * 0.3])
        upper, lower = leg_length * 0.5, leg_length * 0.5
        parts += _jointed(hip, [swing * facing, (swing - knee_bend) * facing], [upper, lower],
                          [(0.12, 0.09), (0.08, 0.065)])
    return parts


def _human(rng):
    """Polygons of a human 1 unit tall, centred near the origin."""
    height = 1.0
    head_radius = rng.uniform(0.06, 0.075) * height
    neck = np.array([0.0, -0.36])
    hip = np.array([0.0, 0.05])
    lean = rng.uniform(-0.15, 0.15)
    hip = hip + np.array([lean * 0.2, 0.0])
    parts = [_ellipse(neck[0] - lean * 0.05, neck[1] - head_radius * 1.1, head_radius, head_radius * 1.15)]
    torso_width = rng.uniform(0.13, 0.18)
    parts += _limb(neck, hip, torso_width, torso_width * rng.uniform(0.75, 0.95))
    # Two arms from the shoulders and two legs from the hips, two segments each.
    arm_length, leg_length = rng.uniform(0.32, 0.38), rng.uniform(0.42, 0.5)
    stride = rng.uniform(-0.6, 0.6)
    for side in (-1, 1):
        shoulder = neck + np.array([side * torso_width * 0.45, 0.03])
        raise_arm = rng.uniform(0.1, 2.6)  # from hanging down to raised overhead
        elbow = rng.uniform(0.0, 1.2)
        parts += _jointed(shoulder, [side * raise_arm, side * (raise_arm + elbow)], [arm_length / 2] * 2,
                          [(0.065, 0.055), (0.055, 0.045)])
        hip_side = hip + np.array([side * torso_width * 0.3, 0.0])
        swing = side * stride * rng.uniform(0.5, 1.0)
        knee = rng.uniform(0.0, 0.7) * (swing < 0)
        parts += _jointed(hip_side, [swing, swing - knee], [leg_length / 2] * 2, [(0.085, 0.07), (0.07, 0.06)])
    return parts


def _polygon_area(parts, size):
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    for polygon in parts:
        draw.polygon([tuple(p) for p in polygon], fill=255)
    return np.asarray(mask) > 127, mask


def _place(parts, rng, size):
    """Rotate, mirror, scale and move the figure; scale is set from a target area."""
    angle = rng.uniform(-np.radians(20), np.radians(20))
    mirror = -1.0 if rng.random() < 0.5 else 1.0
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s], [s, c]]) @ np.diag([mirror, 1.0])
    oriented = [poly @ rotation.T for poly in parts]
    points = np.concatenate(oriented)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    oriented = [poly - centre for poly in oriented]
    # Measure the area at a reference scale, then scale to the target area.
    reference = size * 0.4
    unit_mask, _ = _polygon_area([poly * reference + size / 2 for poly in oriented], size)
    unit_area = max(unit_mask.mean(), 1e-6)
    target = rng.uniform(*AREA_RANGE)
    scale = reference * np.sqrt(target / unit_area)
    extent = (np.concatenate(oriented).max(axis=0) - np.concatenate(oriented).min(axis=0)) * scale
    limit = MAX_EXTENT * size
    if extent.max() > limit:  # keep the whole figure inside the picture
        scale *= limit / extent.max()
        extent *= limit / extent.max()
    # Anywhere in the picture, even partly over the edge (as subjects in photos are),
    # so that "the middle of the picture" is not a good guess for where the figure is.
    margin = (size - extent) / 2 + OVER_EDGE * extent
    offset = size / 2 + rng.uniform(-margin, margin)
    return [poly * scale + offset for poly in oriented]


# ----------------------------------------------------------------------------
# Colours, textures and backgrounds: the same distributions for both classes
# ----------------------------------------------------------------------------
def _smooth_noise(rng, size, cells):
    """Smooth random texture in [0, 1]: a small random grid, upscaled."""
    grid = (rng.random((cells, cells)) * 255).astype(np.uint8)
    smooth = Image.fromarray(grid).resize((size, size), Image.Resampling.BILINEAR)
    smooth = smooth.filter(ImageFilter.BoxBlur(max(1, size // (2 * cells))))  # hide the grid's cells
    return np.asarray(smooth, dtype=np.float32) / 255


def _random_colour(rng):
    return rng.uniform(0.05, 0.95, size=3).astype(np.float32)


def _background(rng, size):
    rows = np.linspace(0, 1, size, dtype=np.float32)[:, np.newaxis, np.newaxis]
    horizon = rng.uniform(0.3, 0.8)
    sky_top, sky_bottom = _random_colour(rng), _random_colour(rng)
    ground_top, ground_bottom = _random_colour(rng), _random_colour(rng)
    sky = sky_top + (sky_bottom - sky_top) * np.clip(rows / horizon, 0, 1)
    ground = ground_top + (ground_bottom - ground_top) * np.clip((rows - horizon) / (1 - horizon), 0, 1)
    picture = np.where(rows < horizon, sky, ground) * np.ones((1, size, 1), np.float32)
    texture = _smooth_noise(rng, size, int(rng.integers(4, 24)))[:, :, np.newaxis] - 0.5
    picture = picture + rng.uniform(0.0, 0.35) * texture
    # Distractors: blobs, boxes and sticks in random colours (none of them jointed like a figure).
    layer = Image.fromarray((np.clip(picture, 0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(layer)
    for _ in range(int(rng.integers(0, 6))):
        colour = tuple(int(v * 255) for v in _random_colour(rng))
        x, y = rng.uniform(0, size, 2)
        r = rng.uniform(0.03, 0.15) * size
        kind = rng.integers(0, 3)
        if kind == 0:
            draw.ellipse([x - r, y - r * rng.uniform(0.4, 1), x + r, y + r * rng.uniform(0.4, 1)], fill=colour)
        elif kind == 1:
            draw.rectangle([x - r, y - r / 2, x + r, y + r / 2], fill=colour)
        else:
            angle = rng.uniform(0, np.pi)
            draw.line([x, y, x + 2 * r * np.cos(angle), y + 2 * r * np.sin(angle)], fill=colour,
                      width=max(1, int(r / 5)))
    return np.asarray(layer, dtype=np.float32) / 255


def render_scene(kind, rng, size=300):
    """Draw one scene with a horse or a human.

    Parameters
    ----------
    kind : {"horses", "humans"}
    rng : numpy.random.Generator
        The only source of randomness.
    size : int, optional
        Side of the square picture in pixels. Default 300.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The picture, uint8 (size, size, 3), and the figure's mask, bool (size, size).
    """
    if kind not in CLASSES:
        raise ValueError(f"kind must be one of {CLASSES}; got {kind!r}.")
    parts = _horse(rng) if kind == "horses" else _human(rng)
    background = _background(rng, size)
    placed = _place(parts, rng, size)
    mask, mask_image = _polygon_area(placed, size)
    # The figure: a base colour with a smooth texture and, sometimes, patches of a second colour.
    # The base colour must stand out from the background behind the figure (the same rule for
    # both classes), or the shape would be invisible and the label a coin toss.
    behind = background[mask].mean(axis=0) if mask.any() else background.mean(axis=(0, 1))
    for _ in range(50):
        base = _random_colour(rng)
        if np.abs(base - behind).sum() > MIN_CONTRAST:
            break
    figure = base + rng.uniform(0.0, 0.3) * (_smooth_noise(rng, size, int(rng.integers(4, 24)))[:, :, None] - 0.5)
    if rng.random() < 0.4:
        patches = _smooth_noise(rng, size, int(rng.integers(3, 10))) > rng.uniform(0.5, 0.7)
        figure = np.where(patches[:, :, None], _random_colour(rng), figure)
    # Soft edges, as in a photo; the mask stays the sharp, true outline.
    alpha = np.asarray(mask_image.filter(ImageFilter.GaussianBlur(0.6)), dtype=np.float32)[:, :, None] / 255
    picture = background * (1 - alpha) + np.clip(figure, 0, 1) * alpha
    picture = np.clip(picture, 0, 1)
    return (picture * 255 + 0.5).astype(np.uint8), mask
