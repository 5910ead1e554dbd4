"""Weight-free frame interpolation from OpenCV DIS optical flow: the ``"flow"`` backend of :mod:`.frames`.

All the work is OpenCV and NumPy on the CPU, in float32. The motion (DIS flow both ways, their soft
forward-backward consistency, the flows splatted to time ``t``) lives on the *flow grid*: the resolution DIS
actually estimates at. A DIS preset with finest scale ``s`` run on a working image (long side at most ``max_side``)
only refines its flow down to ``1/2**s`` of that image and then upsamples it, so here DIS runs directly on the
image area-downscaled to ``1/2**s`` of the working size with finest scale 0 (the preset's other settings kept),
and the pipeline stays at that size. Only the two warps and the blend run at full resolution (``cv2.remap``).

Flow convention as in :mod:`.._flow`: ``flow[y, x] = (du, dv)`` in pixels of its grid, pixel ``(x, y)`` of the source
found at ``(x + du, y + dv)`` in the destination.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import torch

from .._core import LUMA_709, fail
from .._flow import MIN_SIDE

FLOW_PRESETS = {"fast": cv2.DISOPTICAL_FLOW_PRESET_FAST, "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
_LUMA = np.array([LUMA_709], dtype=np.float32)
_EPS = 1e-2  # weight of the linear-motion estimate where no splat lands (holes)


@lru_cache(maxsize=8)
def pixel_grid(h: int, w: int) -> np.ndarray:
    """Read-only pixel-centre coordinates ``[h, w, 2]`` float32 as ``(x, y)``."""
    g = np.dstack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))
    g.setflags(write=False)
    return g


def sample(x: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``x [h, w(, C)]`` sampled bilinearly at ``p + flow[p]`` (``flow [h, w, 2]``, same grid), border replicated."""
    return cv2.remap(x, pixel_grid(*flow.shape[:2]) + flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def splat(motion: np.ndarray, payload: np.ndarray) -> np.ndarray:
    """Forward-splat ``payload [h, w, C]`` from each pixel ``p`` to ``p + motion[p]`` (bilinear): sums ``[h, w, C]``.

    Contributions landing outside the grid are dropped: targets are clamped into a one-pixel frame around the grid
    (a clamped target keeps all its weight on the frame) and the frame is cut off. One ``np.bincount`` per channel
    (deterministic).
    """
    h, w = motion.shape[:2]
    pos = pixel_grid(h, w) + motion
    x = np.clip(pos[..., 0], -1, w).ravel()
    y = np.clip(pos[..., 1], -1, h).ravel()
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    stride = w + 3  # padded grid: columns -1..w+1, rows -1..h+1
    i00 = (y0.astype(np.int64) + 1) * stride + x0.astype(np.int64) + 1
    at = np.concatenate((i00, i00 + 1, i00 + stride, i00 + stride + 1))
    gx, gy = 1 - fx, 1 - fy
    bil = np.stack((gx * gy, fx * gy, gx * fy, fx * fy))  # [4, h*w], the corners in the order of ``at``
    flat = payload.reshape(h * w, -1)
    n = (h + 3) * stride
    sums = [np.bincount(at, (bil * flat[:, c]).ravel(), minlength=n) for c in range(flat.shape[1])]
    return np.stack(sums, -1).reshape(h + 3, stride, -1)[1:h + 1, 1:w + 1].astype(np.float32)


def _sq(v: np.ndarray) -> np.ndarray:
    """``|v|^2`` of ``[h, w, 2]`` vectors."""
    return np.einsum("...k,...k->...", v, v)


def soft_consistency(fw: np.ndarray, bw: np.ndarray, beta: float) -> np.ndarray:
    """``[h, w]`` in (0, 1]: how well ``fw`` (a->b) is confirmed by ``bw`` (b->a); 1 = perfectly.

    ``exp(-|fw + bw(p + fw)|^2 / (0.01 (|fw|^2 + |bw(p + fw)|^2) + beta))``, ``beta`` in squared grid pixels.
    """
    bw_at = sample(bw, fw)
    return np.exp(-_sq(fw + bw_at) / (0.01 * (_sq(fw) + _sq(bw_at)) + beta))


class FlowBackend:
    """Weight-free interpolation from OpenCV DIS optical flow.

    Per pair, on the flow grid: DIS flow both ways and a soft forward-backward consistency. Per in-between frame at
    ``t``: each frame's flow is forward-splatted to time ``t`` (weighted by its consistency, so occluded pixels give
    way) to get the flows from ``t`` back to both frames; holes fall back to the linear-motion estimate. Both frames
    are warped to ``t`` at full resolution (``cv2.remap``) and blended by ``(1-t, t)``, with a frame's weight dropped
    where the other frame's source pixel is visible only there (occlusion reasoning). Inputs on another device are
    processed on the CPU and the result is returned on their device.
    """

    def __init__(self, preset: str = "medium", max_side: int = 720) -> None:
        if preset not in FLOW_PRESETS:
            fail(f"flow preset must be one of {sorted(FLOW_PRESETS)}, got {preset!r}")
        if isinstance(max_side, bool) or not isinstance(max_side, int) or max_side < 32:
            fail(f"flow max_side must be an int >= 32, got {max_side!r}")
        self.max_side = max_side
        self._dis = cv2.DISOpticalFlow_create(FLOW_PRESETS[preset])
        self.finest_scale = int(self._dis.getFinestScale())
        self._dis.setFinestScale(0)
        # the consistency's constant term, 0.5 squared working-resolution pixels, in squared grid pixels
        self._beta = 0.5 / 4 ** self.finest_scale

    def grid_size(self, h: int, w: int) -> tuple[int, int]:
        """The flow grid ``(h, w)`` for ``h x w`` frames (each side at least ``MIN_SIDE``, for DIS)."""
        s = min(1.0, self.max_side / max(h, w)) / 2 ** self.finest_scale
        return max(MIN_SIDE, round(h * s)), max(MIN_SIDE, round(w * s))

    @staticmethod
    def grey(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """``[H, W, 3]`` float32 0..1 -> uint8 Rec. 709 luma at ``size = (h, w)`` (area downscaling)."""
        y = cv2.transform(rgb, _LUMA)
        if y.shape[:2] != size:
            shrink = size[0] <= y.shape[0] and size[1] <= y.shape[1]
            y = cv2.resize(y, size[::-1], interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return cv2.convertScaleAbs(y, alpha=255.0)  # rounds and saturates

    def motion(self, a: np.ndarray, b: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, ...]:
        """``(flow a->b, flow b->a, consistency of a's, of b's)`` on the ``size`` grid; identical frames: zero flow."""
        ga, gb = self.grey(a, size), self.grey(b, size)
        if np.array_equal(ga, gb):
            fw = bw = np.zeros((*size, 2), np.float32)
        else:
            fw, bw = self._dis.calc(ga, gb, None), self._dis.calc(gb, ga, None)
        return fw, bw, soft_consistency(fw, bw, self._beta), soft_consistency(bw, fw, self._beta)

    @staticmethod
    def frame(a: np.ndarray, b: np.ndarray, motion: tuple[np.ndarray, ...], t: float, out: torch.Tensor) -> None:
        """Write the frame at time ``t`` between ``a`` and ``b`` (``[H, W, 3]`` float32) into ``out [H, W, 3]``."""
        f01, f10, k0, k1 = motion
        gh, gw = f01.shape[:2]
        h, w = a.shape[:2]
        lin0 = -(1 - t) * t * f01 + t * t * f10  # linear-motion estimates of the flows t->0, t->1
        lin1 = (1 - t) ** 2 * f01 - t * (1 - t) * f10
        c0, c1 = k0[..., None] + _EPS, k1[..., None] + _EPS
        acc0 = splat(t * f01, np.concatenate((-t * f01 * c0, c0), -1))
        acc1 = splat((1 - t) * f10, np.concatenate((-(1 - t) * f10 * c1, c1), -1))
        ft0 = (acc0[..., :2] + _EPS * lin0) / (acc0[..., 2:] + _EPS)
        ft1 = (acc1[..., :2] + _EPS * lin1) / (acc1[..., 2:] + _EPS)
        v0, v1 = sample(k0, ft0), sample(k1, ft1)  # visibility of each source pixel where the warps read
        wt0 = (1 - t) * (1 - v0 * (1 - v1)) + 1e-4
        wt1 = t * (1 - v1 * (1 - v0)) + 1e-4
        share0 = wt0 / (wt0 + wt1)
        warps = []
        for img, ft in ((a, ft0), (b, ft1)):
            if (gh, gw) != (h, w):
                ft = cv2.resize(ft * np.array([w / gw, h / gh], np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
            warps.append(sample(img, ft))
        if (gh, gw) != (h, w):
            share0 = cv2.resize(share0, (w, h), interpolation=cv2.INTER_LINEAR)
        w0, w1 = torch.from_numpy(warps[0]), torch.from_numpy(warps[1])
        torch.lerp(w1, w0, torch.from_numpy(share0).unsqueeze(-1), out=out)

    def __call__(self, a: torch.Tensor, b: torch.Tensor, pair: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        h, w = a.shape[-2:]
        size = self.grid_size(h, w)
        rows = pair.tolist()

        def hwc(x: torch.Tensor) -> np.ndarray:
            return np.ascontiguousarray(x.detach().permute(1, 2, 0).to("cpu", torch.float32).numpy())

        frames = {p: (hwc(a[p]), hwc(b[p])) for p in dict.fromkeys(rows)}
        motion: dict[int, tuple[np.ndarray, ...]] = {}
        out = torch.empty(len(rows), h, w, 3)
        for j, (p, tj) in enumerate(zip(rows, t.tolist())):
            if p not in motion:
                motion[p] = self.motion(*frames[p], size)
            self.frame(*frames[p], motion[p], float(tj), out[j])
        return out.to(a.device).permute(0, 3, 1, 2)
