"""Dense optical flow (OpenCV DIS) between frames and flow warping, shared by lens and deflicker.

Flow convention: ``flow[y, x] = (du, dv)`` in pixels such that pixel ``(x, y)`` of ``src`` is found
at ``(x + du, y + dv)`` in ``dst``. DIS runs on 8-bit grey images at a working resolution (long side
at most ``max_side``; each side at least 32 px, because DIS rejects or crashes on smaller images),
and the flow is resized back and rescaled per axis. Identical frames give exactly zero flow.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ._core import LUMA_709, pixel_grid, sample_pixels

#: Smallest side DIS is given (OpenCV's DIS fails below 16 px and can crash on thin images).
MIN_SIDE = 32


class FlowEstimator:
    """Reusable DIS optical flow (``cv2.DISOpticalFlow_create``) at a bounded working resolution."""

    def __init__(self, max_side: int = 512, preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST) -> None:
        self.max_side = int(max_side)
        self._dis = cv2.DISOpticalFlow_create(preset)

    def _work_size(self, h: int, w: int) -> tuple[int, int]:
        s = min(1.0, self.max_side / max(h, w))
        return max(MIN_SIDE, round(h * s)), max(MIN_SIDE, round(w * s))

    def grey(self, rgb: torch.Tensor) -> np.ndarray:
        """``[3, H, W]`` 0..1 -> uint8 grey at the working resolution."""
        h, w = rgb.shape[-2:]
        y = (LUMA_709[0] * rgb[0] + LUMA_709[1] * rgb[1] + LUMA_709[2] * rgb[2]).float()
        g = (y.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8).cpu().numpy()
        wh, ww = self._work_size(h, w)
        if (wh, ww) != (h, w):
            interp = cv2.INTER_AREA if wh <= h and ww <= w else cv2.INTER_LINEAR
            g = cv2.resize(g, (ww, wh), interpolation=interp)
        return np.ascontiguousarray(g)

    def flow_grey(self, src: np.ndarray, dst: np.ndarray, h: int, w: int,
                  device: torch.device) -> torch.Tensor:
        """Flow ``[H, W, 2]`` (float32, full-resolution pixels) between two prepared grey images."""
        if np.array_equal(src, dst):
            return torch.zeros(h, w, 2, device=device)
        fl = self._dis.calc(src, dst, None)
        wh, ww = src.shape
        if (wh, ww) != (h, w):
            fl = cv2.resize(fl, (w, h), interpolation=cv2.INTER_LINEAR)
            fl[..., 0] *= w / ww
            fl[..., 1] *= h / wh
        return torch.from_numpy(np.ascontiguousarray(fl, dtype=np.float32)).to(device)

    def flow(self, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
        """Flow ``[H, W, 2]`` from ``src`` to ``dst`` (both ``[3, H, W]`` in 0..1)."""
        h, w = src.shape[-2:]
        return self.flow_grey(self.grey(src), self.grey(dst), h, w, src.device)


def backward_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample ``x [N, C, H, W]`` at ``p + flow[p]`` (``flow [N, H, W, 2]``), border padding."""
    h, w = x.shape[-2:]
    uv = pixel_grid(h, w, x.device, flow.dtype).unsqueeze(0) + flow
    return sample_pixels(x, uv, padding="border")


def fb_consistent(flow_fw: torch.Tensor, flow_bw: torch.Tensor, alpha: float = 0.01,
                  beta: float = 0.5) -> torch.Tensor:
    """Forward-backward check: ``[H, W]`` bool, True where ``flow_fw`` (a->b) is confirmed by ``flow_bw`` (b->a).

    Uses the usual test ``|fw + bw(p + fw)|^2 < alpha (|fw|^2 + |bw(p + fw)|^2) + beta``.
    """
    bw_at = backward_warp(flow_bw.permute(2, 0, 1).unsqueeze(0), flow_fw.unsqueeze(0))[0].permute(1, 2, 0)
    err = (flow_fw + bw_at).square().sum(-1)
    mag = flow_fw.square().sum(-1) + bw_at.square().sum(-1)
    return err < alpha * mag + beta
