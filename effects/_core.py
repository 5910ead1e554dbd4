"""Shared plumbing of the effects library: validation, layout, chunking, noise, blur, sampling.

Frames are ``[F, H, W, C]`` float tensors in 0..1 (ComfyUI ``IMAGE`` layout) with ``C`` = 3 (RGB) or
4 (RGBA). Effects work on the RGB part in frame chunks -- ``[f, 3, H, W]`` (:func:`map_rgb`) for
filters and warps, channels-last ``[f, H, W, 3]`` (:func:`map_pixels`) or cache-sized pixel blocks
(:func:`map_colour`) for per-pixel maps -- write into one preallocated output and copy alpha through
untouched. NaN/inf input raises :class:`EffectError` (a ``ValueError``); nothing is silently repaired.
Parameter ranges are checked once, by :mod:`.registry`; effects check only shapes and clip-dependent limits.
Loops run through :class:`Steps` (progress and cancel per chunk or frame). Noise is drawn on the CPU from a seeded :class:`torch.Generator` and then moved, so results are the
same bytes on the CPU for the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..trajectory.checks import CancelFn, ProgressFn, ShapeError, poll
from ..trajectory.checks import check_shape as _check_shape

T = TypeVar("T")

#: Pixels (frames x H x W) processed per chunk: one 1024x576 frame. Small chunks keep temporaries
#: cheap (large fresh allocations cost page faults on the CPU) and memory bounded.
CHUNK_PIXELS = 600_000

#: Pixels per block for pure colour maps (no neighbourhood): small enough to stay in cache.
COLOUR_BLOCK_PIXELS = 131_072

#: Rec.709 luma weights.
LUMA_709 = (0.2126, 0.7152, 0.0722)


class EffectError(ValueError):
    """A bad argument to an effect: a plain ``ValueError`` whose one-line message names the effect and the problem,
    e.g. ``vignette.strength must be in [0, 1], got 2``."""


def fail(msg: str) -> None:
    """Raise :class:`EffectError` with a one-line message."""
    raise EffectError(msg.replace("\n", " "))


def check_shape(x: object, spec: str, name: str) -> dict[str, int]:
    """:func:`draw_to_video.trajectory.checks.check_shape`, raising :class:`EffectError` (same one-line message)."""
    try:
        return _check_shape(x, spec, name)
    except ShapeError as e:
        raise EffectError(str(e)) from None


class Steps:
    """Progress and cancel of one effect run: :meth:`each` polls ``cancel()`` before every item (raising
    ``Cancelled`` on a true return) and reports ``progress(done, total)`` after it; a later phase extends ``total``."""

    def __init__(self, what: str, progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                 total: int = 0) -> None:
        self.what, self.progress, self.cancel = what, progress, cancel
        self.done, self.total = 0, total

    def each(self, items: Iterable[T]) -> Iterator[T]:
        seq = list(items)
        self.total = max(self.total, self.done + len(seq))
        for it in seq:
            poll(self.cancel, self.what)
            yield it
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, self.total)

    def check(self) -> None:  # for effects without a loop
        poll(self.cancel, self.what)


def check_frames(frames: object, name: str = "frames", *, min_frames: int = 1) -> torch.Tensor:
    """Validate a clip ``[F, H, W, C]`` (float, C in {3, 4}, finite: NaN/inf raise) and return it. The finiteness
    check runs in frame chunks so it never allocates a full-clip boolean mask."""
    check_shape(frames, "F H W 3|4", name)
    if not isinstance(frames, torch.Tensor):
        fail(f"{name} must be a torch.Tensor [F,H,W,C], got {type(frames).__name__}")
    f, h, w, _ = frames.shape
    if f < min_frames or h < 1 or w < 1:
        fail(f"{name} needs at least {min_frames} frame(s) and H,W >= 1, got shape {tuple(frames.shape)}")
    if not frames.dtype.is_floating_point:
        fail(f"{name} must be a float tensor, got {frames.dtype}")
    if not all_finite(frames):
        fail(f"{name} contains NaN or infinite values")
    return frames


def all_finite(x: torch.Tensor) -> bool:
    """Every value finite? A chunked sum (one cheap pass), with an exact ``isfinite`` check only when it overflows."""
    if x.numel() == 0:
        return True
    for sl in chunks(x.shape[0], *(x.shape[1:3] if x.ndim >= 3 else (1, 1))):
        part = x[sl]
        if not math.isfinite(float(part.sum())) and not bool(torch.isfinite(part).all()):
            return False
    return True


def check_range(value: float, name: str, lo: float = 0.0, hi: float = 1.0) -> float:
    """Validate a scalar in ``[lo, hi]`` (for the public helpers outside the registry, e.g. ``retime_timestamps``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        fail(f"{name} must be a finite number, got {value!r}")
    if not lo <= value <= hi:
        fail(f"{name} must be in [{lo:g}, {hi:g}], got {value:g}")
    return float(value)


def chunks(f: int, h: int, w: int, budget: int = CHUNK_PIXELS) -> Iterator[slice]:
    """Frame slices holding about ``budget`` pixels each (at least one frame)."""
    step = max(1, budget // max(1, h * w))
    for a in range(0, f, step):
        yield slice(a, min(f, a + step))


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """float16/bfloat16 are computed in float32; float32/float64 as they are."""
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def new_output(frames: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
    """The tensor to write results into: ``out`` (checked) or a fresh ``empty_like(frames)``."""
    if out is None:
        return torch.empty_like(frames)
    if not isinstance(out, torch.Tensor) or out.shape != frames.shape or out.dtype != frames.dtype \
            or out.device != frames.device:
        fail("out must be a tensor with the same shape, dtype and device as frames")
    return out


def rgb_chunk(frames: torch.Tensor, sl: slice) -> torch.Tensor:
    """``frames[sl]`` RGB as a fresh contiguous ``[f, 3, H, W]`` tensor in the compute dtype."""
    f, h, w = frames[sl].shape[:3]
    x = torch.empty((f, 3, h, w), dtype=compute_dtype(frames.dtype), device=frames.device)
    x.copy_(frames[sl, ..., :3].permute(0, 3, 1, 2))
    return x


def pixel_chunk(frames: torch.Tensor, sl: slice) -> torch.Tensor:
    """``frames[sl]`` RGB as a fresh contiguous channels-last ``[f, H, W, 3]`` tensor (safe to modify)."""
    f, h, w = frames[sl].shape[:3]
    x = torch.empty((f, h, w, 3), dtype=compute_dtype(frames.dtype), device=frames.device)
    x.copy_(frames[sl, ..., :3])
    return x


def map_pixels(frames: torch.Tensor, fn: Callable[[torch.Tensor, slice], torch.Tensor],
               out: torch.Tensor | None = None, steps: Steps | None = None) -> torch.Tensor:
    """Like :func:`map_rgb` but ``fn`` gets channels-last ``[f, H, W, 3]`` chunks (no layout copies);
    the chunk is a fresh tensor that ``fn`` may modify in place and return."""
    res = new_output(frames, out)
    f, h, w, c = frames.shape
    for sl in (steps or Steps("effect")).each(chunks(f, h, w)):
        res[sl, ..., :3] = fn(pixel_chunk(frames, sl), sl)
    if c == 4 and res is not frames:
        res[..., 3:] = frames[..., 3:]
    return res


def map_colour(frames: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor],
               out: torch.Tensor | None = None, steps: Steps | None = None) -> torch.Tensor:
    """Apply a pure per-pixel colour map ``fn([n, 3]) -> [n, 3]`` block by block (rows of pixels small
    enough to stay in cache); the block is a fresh tensor ``fn`` may modify. Alpha copied through."""
    res = new_output(frames, out)
    f, h, w, c = frames.shape
    rows = max(1, COLOUR_BLOCK_PIXELS // w)
    cd = compute_dtype(frames.dtype)
    for t in (steps or Steps("effect")).each(range(f)):
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            x = torch.empty((r1 - r0, w, 3), dtype=cd, device=frames.device)
            x.copy_(frames[t, r0:r1, :, :3])
            res[t, r0:r1, :, :3] = fn(x.view(-1, 3)).view(r1 - r0, w, 3)
    if c == 4 and res is not frames:
        res[..., 3:] = frames[..., 3:]
    return res


def luma_last(x: torch.Tensor) -> torch.Tensor:
    """Rec.709 luma of channels-last ``[..., 3]`` -> ``[...]`` (one matrix-vector pass)."""
    return torch.matmul(x, torch.tensor(LUMA_709, dtype=x.dtype, device=x.device))


def write_rgb(out: torch.Tensor, sl: slice, rgb: torch.Tensor) -> None:
    """Write a ``[f, 3, H, W]`` chunk into ``out[sl, ..., :3]``."""
    out[sl, ..., :3] = rgb.permute(0, 2, 3, 1).to(out.dtype)


def map_rgb(frames: torch.Tensor, fn: Callable[[torch.Tensor, slice], torch.Tensor],
            out: torch.Tensor | None = None, steps: Steps | None = None) -> torch.Tensor:
    """Apply ``fn(rgb [f,3,H,W], frame_slice) -> [f,3,H,W]`` chunk by chunk; alpha copied through.

    ``out`` may be ``frames`` itself (in-place) because each chunk only reads its own frames.
    """
    res = new_output(frames, out)
    f, h, w, c = frames.shape
    for sl in (steps or Steps("effect")).each(chunks(f, h, w)):
        write_rgb(res, sl, fn(rgb_chunk(frames, sl), sl))
    if c == 4 and res is not frames:
        res[..., 3:] = frames[..., 3:]
    return res


def copy_clip(frames: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """The identity result: a copy (never the input object)."""
    res = new_output(frames, out)
    if res is not frames:
        res.copy_(frames)
    return res


def cpu_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (any int, checked by the registry; reduced mod 2**63)."""
    return torch.Generator(device="cpu").manual_seed(int(seed) % (2**63))


def randn(shape: Sequence[int], gen: torch.Generator, device: torch.device,
          dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal noise drawn on the CPU (deterministic) and moved to ``device``."""
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float32).to(device=device, dtype=dtype)


def rand(shape: Sequence[int], gen: torch.Generator, device: torch.device,
         dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Uniform 0..1 noise drawn on the CPU and moved to ``device``."""
    return torch.rand(tuple(shape), generator=gen, dtype=torch.float32).to(device=device, dtype=dtype)


def luma(rgb: torch.Tensor) -> torch.Tensor:
    """Rec.709 luma of ``[..., 3, H, W]`` -> ``[..., 1, H, W]``."""
    r, g, b = rgb.unbind(-3)
    return (LUMA_709[0] * r + LUMA_709[1] * g + LUMA_709[2] * b).unsqueeze(-3)


def _blur_torch(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``[N, C, H, W]`` with torch convolutions (the non-CPU path)."""
    n, c, h, w = x.shape
    r = max(1, int(math.ceil(4.0 * sigma)))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, device=x.device, dtype=x.dtype) / sigma) ** 2)
    k = k / k.sum()
    y = x.reshape(n * c, 1, h, w)
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
    return y.reshape(n, c, h, w)


def _blur_cv2(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """CPU Gaussian blur of ``[N, C, H, W]`` with OpenCV (an order of magnitude faster than torch's
    CPU convolutions for these thin separable kernels); replicate borders, radius ``ceil(4 sigma)``."""
    k = 2 * max(1, int(math.ceil(4.0 * sigma))) + 1
    out = torch.empty_like(x)
    for n in range(x.shape[0]):
        for c0 in range(0, x.shape[1], 4):
            img = np.ascontiguousarray(x[n, c0:c0 + 4].permute(1, 2, 0).numpy())
            res = cv2.GaussianBlur(img, (k, k), sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)
            out[n, c0:c0 + 4] = torch.from_numpy(res.reshape(img.shape)).permute(2, 0, 1)
    return out


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``[N, C, H, W]`` with replicate borders (any size, 1x1 included).

    OpenCV on the CPU, a torch separable convolution elsewhere (radius ``ceil(4 sigma)`` in both).
    Large sigmas are computed at a reduced resolution and upsampled bilinearly.
    """
    if sigma <= 0.0:
        return x.clone()
    n, c, h, w = x.shape
    down = 1
    while sigma / down > 8.0 and min(h, w) // (down * 2) >= 8:
        down *= 2
    y = F.avg_pool2d(x, down, ceil_mode=True) if down > 1 else x
    s = sigma / down
    cpu = y.device.type == "cpu" and y.dtype in (torch.float32, torch.float64)
    y = _blur_cv2(y, s) if cpu else _blur_torch(y, s)
    if down > 1:
        y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
    return y


def pixel_grid(h: int, w: int, device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Pixel-centre coordinates ``[H, W, 2]`` as ``(u, v)`` = (column, row)."""
    v, u = torch.meshgrid(torch.arange(h, device=device, dtype=dtype),
                          torch.arange(w, device=device, dtype=dtype), indexing="ij")
    return torch.stack((u, v), dim=-1)


def sample_pixels(x: torch.Tensor, uv: torch.Tensor, padding: str = "border") -> torch.Tensor:
    """Bilinearly sample ``x [N, C, H, W]`` at pixel coordinates ``uv [N, H', W', 2]`` (u, v)."""
    h, w = x.shape[-2:]
    sx = 2.0 / max(w - 1, 1)
    sy = 2.0 / max(h - 1, 1)
    grid = torch.stack((uv[..., 0] * sx - 1.0, uv[..., 1] * sy - 1.0), dim=-1).to(x.dtype)
    if w == 1:
        grid[..., 0] = 0.0
    if h == 1:
        grid[..., 1] = 0.0
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=True)


def _norm(n: int, dtype: torch.dtype) -> tuple[float, float]:
    """Pixel -> normalised (align_corners=True) scale and offset along an axis of ``n`` pixels."""
    return (2.0 / (n - 1), -1.0) if n > 1 else (0.0, 0.0)


def affine_sample(x: torch.Tensor, m: torch.Tensor, padding: str = "border") -> torch.Tensor:
    """Sample ``x [N, C, H, W]`` through per-image pixel-space affine maps ``m [N, 2, 3]`` (output pixel
    ``(u, v, 1)`` -> source pixel), bilinearly, using ``affine_grid`` (one batched matrix product)."""
    n, _, h, w = x.shape
    if h == 1 or w == 1:  # affine_grid does not support unit-size grids with align_corners=True
        uv1 = torch.cat((pixel_grid(h, w, x.device), torch.ones(h, w, 1, device=x.device)), -1)
        return sample_pixels(x, torch.einsum("nij,hwj->nhwi", m.to(uv1.dtype), uv1), padding)
    sx, ox = _norm(w, x.dtype)
    sy, oy = _norm(h, x.dtype)
    to_norm = torch.tensor([[sx, 0.0, ox], [0.0, sy, oy], [0.0, 0.0, 1.0]], dtype=torch.float64, device=x.device)
    from_norm = torch.tensor([[(w - 1) / 2.0, 0.0, (w - 1) / 2.0], [0.0, (h - 1) / 2.0, (h - 1) / 2.0],
                              [0.0, 0.0, 1.0]], dtype=torch.float64, device=x.device)
    m3 = torch.cat((m.to(torch.float64), m.new_tensor([0.0, 0.0, 1.0], dtype=torch.float64).expand(n, 1, 3)), 1)
    theta = (to_norm @ m3 @ from_norm)[:, :2].to(x.dtype)
    grid = F.affine_grid(theta, [n, x.shape[1], h, w], align_corners=True)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=True)


def translate(x: torch.Tensor, dx: float, dy: float, padding: str = "border") -> torch.Tensor:
    """``x [N, C, H, W]`` shifted so output pixel ``p`` shows source ``p + (dx, dy)`` (bilinear).

    Uses padded slices (four weighted integer shifts) instead of ``grid_sample``; same result for
    ``border``/``zeros``/``reflection`` padding (reflection falls back to sampling for shifts larger
    than the image)."""
    h, w = x.shape[-2:]
    ix, iy = math.floor(dx), math.floor(dy)
    fx, fy = dx - ix, dy - iy
    px, py = max(abs(ix), abs(ix + 1)), max(abs(iy), abs(iy + 1))
    if padding == "reflection" and (px >= w or py >= h):
        m = torch.tensor([[1.0, 0.0, dx], [0.0, 1.0, dy]], device=x.device).expand(x.shape[0], 2, 3)
        return affine_sample(x, m, padding)
    if padding == "zeros":
        xp = F.pad(x, (px, px, py, py))
    else:
        xp = F.pad(x, (px, px, py, py), mode="replicate" if padding == "border" else "reflect")

    def win(ox: int, oy: int) -> torch.Tensor:
        return xp[..., py + oy:py + oy + h, px + ox:px + ox + w]

    out = win(ix, iy) * ((1 - fx) * (1 - fy))
    if fx:
        out += win(ix + 1, iy) * (fx * (1 - fy))
    if fy:
        out += win(ix, iy + 1) * ((1 - fx) * fy)
    if fx and fy:
        out += win(ix + 1, iy + 1) * (fx * fy)
    return out


def parse_index_list(spec: str | Sequence[int] | int, n: int, name: str = "frames") -> list[int]:
    """Frame indices from ``"3, 10, -1"`` (negative counts from the end), a list or an int."""
    if isinstance(spec, bool):
        fail(f"{name} must be frame indices, got {spec!r}")
    if isinstance(spec, int):
        items: list[object] = [spec]
    elif isinstance(spec, str):
        items = [s.strip() for s in spec.split(",") if s.strip()]
    else:
        items = list(spec)
    out: list[int] = []
    for it in items:
        try:
            i = int(it) if not isinstance(it, float) or float(it).is_integer() else None
        except (TypeError, ValueError):
            i = None
        if i is None:
            fail(f"{name}: {it!r} is not a frame index")
        assert i is not None
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            fail(f"{name}: index {i} out of range for a {n}-frame clip")
        out.append(j)
    return sorted(set(out))


def per_frame(value: float | Sequence[float] | torch.Tensor, n: int, name: str,
              device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Broadcast one value or one value per frame (already checked by the registry) to an ``[n]`` tensor."""
    t = value.detach().flatten().to(torch.float64).cpu() if isinstance(value, torch.Tensor) \
        else torch.as_tensor(value, dtype=torch.float64).flatten()
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        fail(f"{name} needs 1 or {n} values (one per frame), got {t.numel()}")
    return t.to(device=device, dtype=dtype)
