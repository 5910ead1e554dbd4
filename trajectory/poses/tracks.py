"""The drawn camera as point tracks for ComfyUI core's ``WanTrackToVideo`` (Wan 2.1 ATI): points of the photo are
lifted with their depth, carried through every camera of the trajectory, and written as the JSON core parses.

What core reads (ComfyUI 0.3.75 ``comfy_extras/nodes_wan.py``):

* ``parse_json_tracks``: JSON text (single quotes are turned into double ones) holding a list of tracks, each a
  list of ``{"x": .., "y": ..}`` points (one bare track is wrapped). Any other key is ignored: **there is no
  visibility field.**
* ``pad_pts``: each track becomes :data:`SAMPLES` (121) rows ``(x, y, 1)``, cut at 121 or padded with
  ``(0, 0, 0)``: a given point is visible, a missing tail is invisible. So a track can only say "not visible from
  here on" by ending: a point that leaves the frame, passes behind the camera or is hidden behind nearer parts of
  the scene ends its track at the first sample where that happens, even if it comes back (ATI is trained with the
  same truncation, its "tail dropout"). Tracks shorter than 2 samples carry no motion and are left out.
* ``process_tracks(tracks, (width, height), length - 1)``: ``x, y`` are pixels of the ``width x height`` video
  with the picture spanning ``[0, W] x [0, H]`` (its ``grid_sample`` with ``align_corners=False`` reads pixel
  ``j``'s centre at ``x = j + 0.5``; the pack's centre of pixel ``j`` is ``u = j``, so ``x = u + 0.5``), normalised
  by the short edge; visibility becomes ``+-1``. The 121 samples span the clip ("samples align with 24 fps, model
  trained with 16 fps": 121 samples at 24 fps and 81 frames at 16 fps are both 5 s); video frame 0 reads sample 0
  and frame ``k >= 1`` reads sample ``1 + (1 + a (k - 1)) // b`` with ``g = gcd(120, length - 1)``,
  ``a = 120 / g``, ``b = (length - 1) / g`` (:func:`core_sample_index`).

So :func:`sample_positions` inverts core's pick: the sample core reads for video frame ``k`` holds exactly camera
``k``'s projection (for ``length <= 121``; beyond, core reads some samples for two frames and they hold the mean),
and the samples core skips are interpolated. ``length - 1`` a multiple of 120 (121, 241 frames) is refused: core
then makes one frame too few and its ``patch_motion`` fails.

Video frame ``k`` shows trajectory frame ``round(k (F - 1) / (L - 1))`` with ``L`` the nearest ``4n + 1`` to the
trajectory's ``F`` frames (as :mod:`draw_to_video.trajectory.render.vace` resamples the render), and the video is
the trajectory's frame cut about its centre to multiples of 16 (:func:`~draw_to_video.trajectory.render.vace.crop16`).

Occlusion (``occlusion=True``): the photo's depth is splatted into a z-buffer of every camera (long side
:data:`ZBUFFER_LONG_SIDE` px, twice as many source points as cells, and a point the camera magnifies more than that
covers the cells around it, so surfaces have no holes to see through); a point is hidden where the z-buffer holds
something nearer than its own depth by more than :data:`OCCLUSION_TOL` plus its surface's own depth slope across a
cell (:func:`occlusion_visible`). Points the test cannot tell from a nearer surface in the first frame (right
behind a depth edge) are left out with the others visible in fewer than 2 samples.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import torch

from ..camera.model import CameraTrajectory
from ..conventions import centre_crop
from ..render.vace import crop16, frame_indices, wan_length

SAMPLES = 121  #: samples per track core's pad_pts makes (FIXED_LENGTH)
Sampling = Literal["grid", "features"]
SAMPLINGS = ("grid", "features")
MAX_POINTS = 1024
NEAR = 1e-3  #: points nearer than this to a camera (or behind it) are not visible
ZBUFFER_LONG_SIDE = 192  #: long side in pixels of the occlusion z-buffer
OCCLUSION_TOL = 0.03  #: relative depth margin before something counts as in front
EDGE_LOG_DEPTH = 0.05  #: log-depth step between neighbours that is a depth edge (not a surface)
MAX_RADIUS = 3  #: widest footprint (cells each side) of a magnified source point: surfaces magnified up to 8x have no holes
MIN_LENGTH = 5  #: shortest video core's motion patch can take (two latent frames)
_CHUNK_POINTS = 1 << 22  # projected points per chunk of frames (bounds the temporary memory)


class TrackError(ValueError):
    """Bad input for the tracks; the message is one line."""


@dataclass(frozen=True)
class WanTracks:
    """Tracks for a ``length``-frame ``width x height`` Wan video.

    ``xy [N, L, 2]``: each point's position in every video frame (core's pixels: the picture spans
    ``[0, W] x [0, H]``); ``visible [N, L]``: inside the picture, in front of the camera and not hidden;
    ``samples [N, 121, 2]`` with ``lengths [N]`` (the leading visible samples): what :meth:`to_json` writes;
    ``source_uv [N, 2]``: where each point was taken in the image (its pixels, centre of pixel ``j`` at ``j``);
    ``indices [L]``: the trajectory frame each video frame shows; ``dropped``: points left out (visible in fewer
    than 2 samples)."""

    xy: np.ndarray
    visible: np.ndarray
    samples: np.ndarray
    lengths: np.ndarray
    source_uv: np.ndarray
    width: int
    height: int
    length: int
    indices: np.ndarray
    dropped: int
    sampling_note: str = ""

    @property
    def count(self) -> int:
        return int(self.xy.shape[0])

    def to_json(self) -> str:
        """The tracks as core's ``parse_json_tracks`` reads them: each track's leading visible samples."""
        rounded = np.round(self.samples.astype(np.float64), 3).tolist()
        tracks = [[{"x": x, "y": y} for x, y in tr[:n]] for tr, n in zip(rounded, self.lengths.tolist())]
        return json.dumps(tracks, separators=(",", ":"))

    def note(self) -> str:
        ended = int((self.lengths < SAMPLES).sum())
        parts = [f"{self.count} tracks over {self.length} frames at {self.width}x{self.height}"]
        if ended:
            parts.append(f"{ended} end early (leave the frame or are hidden)")
        if self.dropped:
            parts.append(f"{self.dropped} points left out (hidden or outside from the start)")
        if self.sampling_note:
            parts.append(self.sampling_note)
        if not self.count:
            parts.append("no track: WanTrackToVideo then makes a plain image-to-video")
        return "; ".join(parts)


def check_length(length: int) -> None:
    """Refuse video lengths core's track processing cannot take (see the module docstring)."""
    if length < MIN_LENGTH:
        raise TrackError(f"tracks need a video of at least {MIN_LENGTH} frames (two latent frames), got {length}: "
                         f"give the trajectory more frames (e.g. 81)")
    if (length - 1) % (SAMPLES - 1) == 0:
        raise TrackError(f"core's process_tracks makes one frame too few for {length} frames (length - 1 a "
                         f"multiple of 120) and WanTrackToVideo fails: use {length - 4} or {length + 4} frames")


def core_sample_index(length: int) -> np.ndarray:
    """``[length]``: the sample of the 121 that core's ``process_tracks`` reads for each video frame."""
    n = int(length) - 1
    out = np.zeros(int(length), dtype=np.int64)
    if n < 1:
        return out
    g = math.gcd(SAMPLES - 1, n)
    a, b = (SAMPLES - 1) // g, n // g
    k = np.arange(1, n + 1, dtype=np.int64)
    out[1:] = 1 + (1 + a * (k - 1)) // b
    return out


def sample_positions(length: int) -> np.ndarray:
    """``[121]`` fractional video frame of each sample: the frame(s) core reads it for (their mean), the samples
    it never reads interpolated between their neighbours."""
    idx = core_sample_index(length)
    sums = np.bincount(idx, weights=np.arange(len(idx), dtype=np.float64), minlength=SAMPLES)[:SAMPLES]
    counts = np.bincount(idx, minlength=SAMPLES)[:SAMPLES]
    read = np.flatnonzero(counts)
    return np.interp(np.arange(SAMPLES, dtype=np.float64), read, sums[read] / counts[read])


def _as_numpy(x: object, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TrackError(f"{name} must be numeric") from None


def depth_slope(depth: np.ndarray) -> np.ndarray:
    """``[H, W]`` relative depth change per pixel of a surface: per axis the smaller one-sided ``|d log z|``
    (so a depth edge next to a pixel does not count), the larger of the two axes."""
    logd = np.log(np.where(np.isfinite(depth) & (depth > 0), depth, 1.0))

    def axis(d: np.ndarray, ax: int) -> np.ndarray:
        diff = np.abs(np.diff(d, axis=ax))
        pad = [(0, 0), (0, 0)]
        pad[ax] = (1, 0)
        back = np.pad(diff, pad, constant_values=np.inf)
        pad[ax] = (0, 1)
        fwd = np.pad(diff, pad, constant_values=np.inf)
        out = np.minimum(back, fwd)
        return np.where(np.isfinite(out), out, 0.0)

    return np.maximum(axis(logd, 0), axis(logd, 1))


def sample_points(gray: np.ndarray, valid: np.ndarray, sampling: Sampling, max_points: int) -> tuple[np.ndarray, str]:
    """Points of the image to track, ``[N, 2]`` pixel ``(u, v)``, at most ``max_points``, only where ``valid``:
    ``grid`` = a regular grid with the image's aspect; ``features`` = OpenCV's ``goodFeaturesToTrack`` (strong
    corners, spread at least half the grid spacing apart; a grid if the image has none). Also a note (or "")."""
    h, w = gray.shape
    if sampling not in SAMPLINGS:
        raise TrackError(f"sampling must be one of {', '.join(SAMPLINGS)}, got {sampling!r:.40}")
    if isinstance(max_points, bool) or not isinstance(max_points, int | np.integer) or not 1 <= max_points <= MAX_POINTS:
        raise TrackError(f"max_points must be a whole number in [1, {MAX_POINTS}], got {max_points!r:.40}")
    note = ""
    if sampling == "features":
        u8 = np.clip(np.nan_to_num(gray) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        spacing = 0.5 * math.sqrt(w * h / max_points)
        found = cv2.goodFeaturesToTrack(u8, maxCorners=int(max_points), qualityLevel=0.01,
                                        minDistance=max(1.0, spacing), mask=valid.astype(np.uint8), blockSize=3)
        if found is not None and len(found):
            return found.reshape(-1, 2).astype(np.float64), note
        note = "the image has no strong features: a grid was used"
    ny = max(1, min(h, int(math.floor(math.sqrt(max_points * h / w)))))
    nx = max(1, min(w, max_points // ny))
    gu, gv = np.meshgrid((np.arange(nx) + 0.5) * w / nx - 0.5, (np.arange(ny) + 0.5) * h / ny - 0.5)
    uv = np.stack([gu.ravel(), gv.ravel()], axis=-1)
    keep = valid[np.rint(uv[:, 1]).astype(int).clip(0, h - 1), np.rint(uv[:, 0]).astype(int).clip(0, w - 1)]
    return uv[keep], note


def _unproject(K: np.ndarray, u: np.ndarray, v: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Points ``[..., 3]`` at pixel ``(u, v)`` and depth ``d`` of the camera with intrinsics ``K`` (at the origin)."""
    x = (u - K[0, 2]) / K[0, 0]
    y = (v - K[1, 2]) / K[1, 1]
    return np.stack([x * d, y * d, d], axis=-1)


def _project(Kc: np.ndarray, T: np.ndarray, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``X [M, 3]`` (world) through cameras ``K [c, 3, 3]``, ``cam_T_world [c, 4, 4]`` -> ``u, v, z [c, M]``."""
    P = torch.from_numpy(Kc @ T[:, :3, :]).to(X)  # [c, 3, 4]
    p = torch.einsum("cij,mj->cmi", P[:, :, :3], X) + P[:, None, :, 3]
    z = p[..., 2].contiguous()
    zs = torch.where(z > NEAR, z, torch.ones_like(z))
    return p[..., 0] / zs, p[..., 1] / zs, z


def _pairs(ok: np.ndarray, logd: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Index pairs ``[2, P]`` (into the flattened valid points) of horizontal and vertical neighbours on one surface
    (log-depths within :data:`EDGE_LOG_DEPTH`)."""
    hs, ws = ok.shape
    order = np.full(ok.shape, -1, dtype=np.int64)
    order[ok] = np.arange(int(ok.sum()))
    a, b = [], []
    for sa, sb in (((slice(None), slice(1, None)), (slice(None), slice(None, -1))),
                   ((slice(1, None), slice(None)), (slice(None, -1), slice(None)))):
        m = ok[sa] & ok[sb] & (np.abs(logd[sa] - logd[sb]) < EDGE_LOG_DEPTH)
        a.append(order[sa][m])
        b.append(order[sb][m])
    return torch.from_numpy(np.concatenate(a)), torch.from_numpy(np.concatenate(b))


def occlusion_visible(traj: CameraTrajectory, depth: np.ndarray, uv: np.ndarray, points: np.ndarray,
                      frames: np.ndarray) -> np.ndarray:
    """``[len(frames), N]``: True where the photo's points at pixels ``uv [N, 2]`` (world ``points [N, 3]``) are not
    hidden behind the photo's surface (``depth [h, w]``) in the trajectory's ``frames``.

    The photo's depth, at twice the z-buffer's resolution, is splatted into a z-buffer of each camera (long side
    :data:`ZBUFFER_LONG_SIDE`) with ``scatter_reduce(amin)``; a source point that lands farther than a cell from
    a neighbour on the same surface (the camera magnifies it more than 2x) covers the ``(2r + 1)^2`` cells around
    it, so no surface has holes to see through. A point is hidden where the z-buffer cell it projects to holds a
    depth nearer than its own by more than :data:`OCCLUSION_TOL` plus 1.5 cells of the steepest surface slope
    (:func:`depth_slope`) within 1.5 cells of the point (a crease next to it counts)."""
    h, w = depth.shape
    scale = min(1.0, ZBUFFER_LONG_SIDE / max(traj.width, traj.height))
    wz, hz = max(8, round(traj.width * scale)), max(8, round(traj.height * scale))
    x0, y0 = centre_crop(w, h, traj.width, traj.height)  # the photo's part frame 0 shows, at twice the cells
    ws, hs = round(2 * wz * w / (w - 2 * x0)), round(2 * hz * h / (h - 2 * y0))
    src = torch.from_numpy(depth).float()[None, None]
    ds = torch.nn.functional.interpolate(src, size=(hs, ws), mode="nearest-exact")[0, 0].double().numpy()
    ok = np.isfinite(ds) & (ds > 0)
    gv, gu = np.nonzero(ok)
    X = torch.from_numpy(_unproject(traj.source_K(ws, hs), gu.astype(np.float64), gv.astype(np.float64),
                                    ds[ok])).float()
    pa, pb = _pairs(ok, np.log(np.where(ok, ds, 1.0)))
    probe = torch.arange(0, len(pa), 5)  # a fifth of the pairs tells whether any surface is magnified 2x
    P = torch.from_numpy(points).float()
    Kz, T = traj.rescaled(wz, hz).K, traj.cam_T_world()
    reach = 1.5 * (w - 2 * x0) / wz  # photo pixels in 1.5 cells
    k = 2 * math.ceil(reach) + 1
    steep = cv2.dilate(depth_slope(depth).astype(np.float32), np.ones((k, k), np.uint8))
    iu = np.rint(uv[:, 0]).astype(int).clip(0, w - 1)
    iv = np.rint(uv[:, 1]).astype(int).clip(0, h - 1)
    tol = OCCLUSION_TOL + torch.from_numpy(steep[iv, iu]).float()[None] * reach
    out = np.ones((len(frames), len(points)), dtype=bool)
    cells = hz * wz
    step = max(1, _CHUNK_POINTS // max(1, X.shape[0]))
    for a in range(0, len(frames), step):
        sel = frames[a:a + step]
        c = len(sel)
        U, V, Z = _project(Kz[sel], T[sel], X)
        col, row = torch.round(U), torch.round(V)
        base = (torch.arange(c) * cells)[:, None]
        trash = c * cells  # one extra cell takes every point outside the picture or behind the camera
        zbuf = torch.full((trash + 1,), math.inf)
        good = (Z > NEAR) & (col >= 0) & (col < wz) & (row >= 0) & (row < hz)
        key = torch.where(good, (row * wz + col).long() + base, torch.full_like(base, trash))
        zbuf.scatter_reduce_(0, key.view(-1), Z.view(-1), "amin")
        gap = torch.hypot(U[:, pa[probe]] - U[:, pb[probe]], V[:, pa[probe]] - V[:, pb[probe]])
        if len(probe) and bool((gap > 0.8).any()):  # some surface lands over a cell apart: footprints
            dist = torch.hypot(U[:, pa] - U[:, pb], V[:, pa] - V[:, pb])
            far = torch.zeros_like(U)
            far.scatter_reduce_(1, pa.expand(c, -1), dist, "amax")
            far.scatter_reduce_(1, pb.expand(c, -1), dist, "amax")
            radius = torch.clamp(torch.ceil(far) - 1, 0, MAX_RADIUS).long()
            near = (col > -MAX_RADIUS - 1) & (col < wz + MAX_RADIUS) & (row > -MAX_RADIUS - 1) & (row < hz + MAX_RADIUS)
            fi, pi = torch.nonzero((radius > 0) & (Z > NEAR) & near, as_tuple=True)
            rad, cf, rf = radius[fi, pi], col[fi, pi], row[fi, pi]
            zf, bf = Z[fi, pi], fi * cells
            for r in range(1, int(rad.max()) + 1 if len(rad) else 1):
                m = rad >= r  # the ring at distance r of every footprint at least that wide
                cr, rr, zr, br = cf[m], rf[m], zf[m], bf[m]
                ring = [(dx, dy) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if max(abs(dx), abs(dy)) == r]
                for dx, dy in ring:
                    cc, ry = cr + dx, rr + dy
                    inb = (cc >= 0) & (cc < wz) & (ry >= 0) & (ry < hz)
                    zbuf.scatter_reduce_(0, torch.where(inb, (ry * wz + cc).long() + br, trash), zr, "amin")
        pu, pv, pz = _project(Kz[sel], T[sel], P)
        pc, pr = torch.round(pu), torch.round(pv)
        pin = (pz > NEAR) & (pc >= 0) & (pc < wz) & (pr >= 0) & (pr < hz)
        idx = torch.where(pin, (pr * wz + pc).long() + base, torch.full_like(base, trash))
        front = zbuf[idx]
        out[a:a + c] = ~(pin & (pz > front * (1.0 + tol))).numpy()
    return out


def start_frame(image: torch.Tensor, traj: CameraTrajectory) -> torch.Tensor:
    """The photo ``[h, w, C]`` as the trajectory's first camera shows it, cut to the video's multiple-of-16 box:
    ``[1, H', W', 3]`` (what the tracks' first samples point into, so WanTrackToVideo's start image).

    The photo is cut and resized to the trajectory's size as ComfyUI's centre crop does
    (:func:`~draw_to_video.trajectory.conventions.centre_crop`; its camera is then
    :meth:`~.CameraTrajectory.source_K`, as the renderer maps it), then resampled through frame 0's camera: a zoom by ``1 / overscan`` for a shot with
    overscan, any turn of the first camera. Frame 0's own translation (none for the pack's shots) is not a
    resampling of the photo and is left out."""
    W, H = traj.width, traj.height
    img = image[..., :3].float().permute(2, 0, 1)[None]
    x0, y0 = centre_crop(int(img.shape[3]), int(img.shape[2]), W, H)
    img = img[:, :, y0:img.shape[2] - y0, x0:img.shape[3] - x0]
    if tuple(img.shape[2:]) != (H, W):
        img = torch.nn.functional.interpolate(img, size=(H, W), mode="bilinear", align_corners=False, antialias=True)
    M = traj.source_K(W, H) @ traj.cam_T_world()[0, :3, :3].T @ np.linalg.inv(traj.K[0])  # frame-0 px -> photo px
    if not np.allclose(M, np.eye(3), atol=1e-9):
        gu, gv = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
        q = np.einsum("ij,hwj->hwi", M, np.stack([gu, gv, np.ones_like(gu)], axis=-1))
        q = q[..., :2] / q[..., 2:3]
        grid = torch.from_numpy(np.stack([(q[..., 0] + 0.5) / W * 2 - 1, (q[..., 1] + 0.5) / H * 2 - 1], -1))
        img = torch.nn.functional.grid_sample(img, grid[None].to(img), mode="bilinear", padding_mode="border",
                                              align_corners=False)
    x0, y0, cw, ch = crop16(W, H)
    return img[0, :, y0:y0 + ch, x0:x0 + cw].permute(1, 2, 0)[None].clamp(0, 1).contiguous()


def wan_tracks(traj: CameraTrajectory, depth: np.ndarray | torch.Tensor, gray: np.ndarray | torch.Tensor,
               sampling: Sampling = "grid", max_points: int = 64, occlusion: bool = True) -> WanTracks:
    """Tracks of ``max_points`` points of the photo (``gray [h, w]`` 0..1, for the sampling; ``depth [h, w]`` its
    scene depth, OpenCV ``z``) through every camera of ``traj`` (see the module docstring)."""
    if not isinstance(traj, CameraTrajectory):
        raise TrackError(f"trajectory must be a camera trajectory, got {type(traj).__name__}")
    dep = _as_numpy(depth, "depth")
    g = _as_numpy(gray, "image")
    if dep.ndim != 2 or g.shape != dep.shape:
        raise TrackError(f"depth and image must be [H, W] of one size, got {list(dep.shape)} and {list(g.shape)}")
    h, w = dep.shape
    if h < 2 or w < 2:
        raise TrackError(f"the image is {w}x{h} px: too small to track points on")
    valid = np.isfinite(dep) & (dep > 0)
    if not valid.any():
        raise TrackError("the depth map has no finite positive depth: connect a real depth (or the approximate prior)")
    length = wan_length(traj.num_frames)
    check_length(length)
    x0, y0, cw, ch = crop16(traj.width, traj.height)
    cx, cy = centre_crop(w, h, traj.width, traj.height)  # points only in the part frame 0 shows
    uv, note = sample_points(g[cy:h - cy, cx:w - cx], valid[cy:h - cy, cx:w - cx], sampling, max_points)
    uv = uv + np.array([cx, cy], dtype=np.float64)
    iu = np.rint(uv[:, 0]).astype(int).clip(0, w - 1)
    iv = np.rint(uv[:, 1]).astype(int).clip(0, h - 1)
    d = dep[iv, iu]
    world = _unproject(traj.source_K(w, h), uv[:, 0], uv[:, 1], d)  # the photo's camera sits at the world origin
    idx = frame_indices(traj.num_frames, length)
    T = traj.cam_T_world()[idx]
    cam = np.einsum("fij,nj->fni", T[:, :3, :3], world) + T[:, None, :3, 3]  # [L, N, 3]
    z = cam[..., 2]
    zs = np.where(z > NEAR, z, 1.0)
    K = traj.K[idx]
    u = K[:, None, 0, 0] * cam[..., 0] / zs + K[:, None, 0, 2]
    v = K[:, None, 1, 1] * cam[..., 1] / zs + K[:, None, 1, 2]
    x, y = u - x0 + 0.5, v - y0 + 0.5  # core's pixels of the cut video (see the module docstring)
    vis = (z > NEAR) & (x >= 0) & (x <= cw) & (y >= 0) & (y <= ch)
    if occlusion and len(uv):
        frames, inverse = np.unique(idx, return_inverse=True)
        vis &= occlusion_visible(traj, dep, uv, world, frames)[inverse]
    xy = np.stack([x, y], axis=-1).transpose(1, 0, 2)  # [N, L, 2]
    vis = vis.T
    pos = sample_positions(length)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, length - 1)
    t = (pos - lo)[None, :, None]
    samples = xy[:, lo] * (1 - t) + xy[:, hi] * t
    svis = vis[:, lo] & np.where(t[0, :, 0] > 0, vis[:, hi], True)
    lengths = np.cumprod(svis, axis=1).sum(axis=1)
    keep = lengths >= 2
    return WanTracks(xy=xy[keep], visible=vis[keep], samples=samples[keep], lengths=lengths[keep],
                     source_uv=uv[keep], width=cw, height=ch, length=length, indices=idx,
                     dropped=int((~keep).sum()), sampling_note=note)


def preview(start: torch.Tensor, tracks: WanTracks) -> torch.Tensor:
    """The start frame ``[1, H, W, 3]`` with each track's visible path drawn (green, from a red start dot)."""
    img = np.ascontiguousarray((start[0].cpu().numpy() * 255.0).round().astype(np.uint8))
    if tracks.count:
        lines = [np.rint(xy[:n] - 0.5).astype(np.int32).reshape(-1, 1, 2)
                 for xy, n in zip(tracks.xy, tracks.visible.cumprod(axis=1).sum(axis=1))]
        cv2.polylines(img, lines, isClosed=False, color=(60, 230, 60), thickness=1, lineType=cv2.LINE_AA)
        h, w = img.shape[:2]
        p = np.rint(tracks.xy[:, 0] - 0.5).astype(int)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                img[(p[:, 1] + dy).clip(0, h - 1), (p[:, 0] + dx).clip(0, w - 1)] = (230, 40, 40)
    return torch.from_numpy(img).float().div(255.0)[None]


__all__ = ["MAX_POINTS", "SAMPLES", "SAMPLINGS", "TrackError", "WanTracks", "check_length", "core_sample_index",
           "depth_slope", "occlusion_visible", "preview", "sample_points", "sample_positions", "start_frame",
           "wan_tracks"]
