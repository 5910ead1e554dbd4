"""Small camera helpers shared by the renderer's tests (OpenCV convention, float64 torch)."""

from __future__ import annotations

import cv2
import numpy as np
import torch


def intrinsics(fx: float, fy: float, cx: float, cy: float) -> torch.Tensor:
    """``K [3, 3]``."""
    return torch.tensor([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], dtype=torch.float64)


def pose(rvec=(0.0, 0.0, 0.0), t=(0.0, 0.0, 0.0)) -> torch.Tensor:
    """``cam_T_src [4, 4]`` from a Rodrigues rotation vector and a translation."""
    T = np.eye(4)
    T[:3, :3] = cv2.Rodrigues(np.asarray(rvec, dtype=np.float64))[0]
    T[:3, 3] = t
    return torch.from_numpy(T)
