"""Event streams from still images by simulated saccades, as a DVS sensor would record them.

The N-MNIST recipe (Orchard et al., Front. Neurosci. 9, 437, 2015) moves a
dynamic vision sensor in front of a still image along a small triangular
path; each pixel emits an ON (OFF) event whenever its log intensity has risen
(fallen) by a contrast threshold since its last event (Lichtsteiner, Posch &
Delbruck, IEEE JSSC 43, 566, 2008). Here the sensor motion is a sub-pixel
shift of the image (bilinear interpolation, zero outside), one frame per time
bin, and every pixel keeps its reference log intensity::

    L_t = log(I_t + eps),   n_on = floor((L_t - ref) / theta)  if L_t > ref,
    n_off = floor((ref - L_t) / theta)  if L_t < ref,   ref += theta (n_on - n_off).

The result is deterministic (no sensor noise): the same images give the same
events.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__ = ["saccade_path", "saccade_events"]


def _positive(name: str, value) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def saccade_path(steps: int, amplitude: float = 1.0) -> np.ndarray:
    """Image offsets ``(dy, dx)`` in pixels of frames ``0 .. steps``: three saccades along a triangle.

    The path runs linearly through the corners ``(0, 0) -> (a, a/2) -> (0, a)
    -> (0, 0)`` (``a = amplitude``), the isosceles triangle of N-MNIST, and
    frame 0 is the starting point (the sensor's reference).

    Examples
    --------
    >>> p = saccade_path(6, amplitude=2.0)
    >>> p.shape, p[0].tolist(), p[2].tolist(), p[-1].tolist()
    ((7, 2), [0.0, 0.0], [2.0, 1.0], [0.0, 0.0])
    """
    if not (isinstance(steps, (int, np.integer)) and not isinstance(steps, bool) and steps >= 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    a = _positive("amplitude", amplitude)
    corners = np.array([[0.0, 0.0], [a, a / 2], [0.0, a], [0.0, 0.0]])
    s = np.linspace(0.0, 3.0, steps + 1)
    i = np.minimum(np.floor(s).astype(int), 2)
    f = (s - i)[:, None]
    return corners[i] * (1 - f) + corners[i + 1] * f


def saccade_events(images, *, steps: int = 10, amplitude: float = 1.0, threshold: float = 0.3,
                   eps: float = 0.1) -> np.ndarray:
    """ON/OFF event counts of images seen by a DVS pixel array moved along :func:`saccade_path`.

    Parameters
    ----------
    images : (..., H, W) array of intensities in [0, 1].
    steps : int
        Time bins (frames after the reference frame).
    amplitude : float
        Size of the saccade triangle (pixels).
    threshold : float
        Contrast threshold ``theta`` on the log intensity (> 0).
    eps : float
        Dark level added before the logarithm (> 0): a black pixel has log
        intensity ``log(eps)``.

    Returns
    -------
    uint8 array ``(..., steps, 2, H, W)``: events per time bin, channel 0 ON
    and 1 OFF (clipped at 255).

    Examples
    --------
    >>> img = np.zeros((4, 4)); img[:, :2] = 1.0  # bright left half
    >>> ev = saccade_events(img, steps=6)
    >>> ev.shape, int(ev[:, 0].sum()) > 0, int(ev[:, 1].sum()) > 0  # ON and OFF events
    ((6, 2, 4, 4), True, True)
    """
    x = np.asarray(images, dtype=float)
    if x.ndim < 2 or x.shape[-1] < 1 or x.shape[-2] < 1:
        raise ValueError(f"images must have shape (..., H, W), got {x.shape}")
    if x.size and not (np.all(np.isfinite(x)) and x.min() >= 0 and x.max() <= 1):
        raise ValueError("images must hold finite intensities in [0, 1]")
    theta = _positive("threshold", threshold)
    eps = _positive("eps", eps)
    path = saccade_path(steps, amplitude)
    lead = x.shape[:-2]
    flat = x.reshape((-1,) + x.shape[-2:])
    ref = np.log(flat + eps)
    out = np.zeros((flat.shape[0], steps, 2) + x.shape[-2:], dtype=np.uint8)
    for t in range(1, steps + 1):
        dy, dx = path[t]
        frame = ndimage.shift(flat, (0.0, dy, dx), order=1, mode="grid-constant", cval=0.0)
        d = np.log(np.clip(frame, 0.0, 1.0) + eps) - ref
        n_on = np.floor(np.maximum(d, 0.0) / theta + 1e-9)
        n_off = np.floor(np.maximum(-d, 0.0) / theta + 1e-9)
        ref = ref + theta * (n_on - n_off)
        out[:, t - 1, 0] = np.minimum(n_on, 255)
        out[:, t - 1, 1] = np.minimum(n_off, 255)
    return out.reshape(lead + out.shape[1:])
