"""Camera fidelity: recover the camera motion of any clip and compare it with the requested trajectory.

Motion is estimated **directly against frame 0** (SIFT, ratio-test matching, RANSAC). When frame ``f`` shares
too few matches with frame 0 the rotation and focal ratio are **chained** through frame ``f-1`` (translation
direction is then unknown: NaN). Per pair the model is chosen by parallax:

* fit a homography ``H`` and an essential matrix ``E`` (frame 0 normalised with ``K[0]``, frame ``f`` with
  ``K[f]``); if at least ``parallax_frac`` of the ``E`` inliers are off ``H`` by more than ``parallax_px``, the
  pair has parallax: ``R`` and the unit translation come from ``recoverPose`` on the essential matrices of three
  robust estimators (RANSAC, MAGSAC, LMedS), each refined by a Cauchy-robust Sampson-error fit; the one with the
  lowest median error wins (single estimates are unstable on near-planar scenes). The focal ratio is not
  measured there (a zoom is not separable from a dolly in two views without depth: NaN);
* otherwise (rotation/zoom/tiny motion) ``K0^-1 H K0 = lambda diag(s, s, 1) R`` gives the rotation ``R`` and the
  focal ratio ``s``; the translation direction is unobservable (NaN).

Directions follow :mod:`draw_to_video.trajectory.conventions`: ``R, t`` map frame-0 camera coordinates to frame ``f`` (``cam_T_src``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import least_squares

from ..checks import check_shape

MIN_MATCHES = 30


class FidelityError(ValueError):
    """Bad input to the fidelity estimator."""


@dataclass
class MotionEstimate:
    """Per-frame motion relative to frame 0: ``R [F,3,3]``, ``t_dir [F,3]`` (unit or NaN), ``focal_ratio [F]``
    (NaN when not measured), ``model [F]`` ("reference", "homography", "essential", "chained", "degenerate"),
    ``inliers [F]``."""

    R: np.ndarray
    t_dir: np.ndarray
    focal_ratio: np.ndarray
    model: list[str]
    inliers: np.ndarray


def _gray_u8(frames: np.ndarray) -> np.ndarray:
    f = np.asarray(frames)
    check_shape(f, "F H W 1|3|4", "frames", error=FidelityError)
    if f.shape[0] < 1 or min(f.shape[1:3]) < 8:
        raise FidelityError(f"frames must have at least one frame of at least 8x8 pixels, got {f.shape}")
    if f.dtype != np.uint8:
        f = np.asarray(f, dtype=np.float64)
        if not np.isfinite(f).all():
            raise FidelityError("frames contain non-finite values")
        f = np.clip(np.round(f * 255.0 if f.max() <= 1.0 else f), 0, 255).astype(np.uint8)
    if f.shape[-1] == 1:
        return f[..., 0]
    return np.stack([cv2.cvtColor(np.ascontiguousarray(x[..., :3]), cv2.COLOR_RGB2GRAY) for x in f])


def _intrinsics(K: np.ndarray, n: int) -> np.ndarray:
    k = np.asarray(K, dtype=np.float64)
    k = np.broadcast_to(k, (n, 3, 3)) if k.shape == (3, 3) else k
    check_shape(k, "F 3 3", "K", bound={"F": n}, error=FidelityError)
    if not np.isfinite(k).all() or (k[:, 0, 0] <= 0).any() or (k[:, 1, 1] <= 0).any():
        raise FidelityError("K must be finite with positive focal lengths")
    return k


def nearest_rotation(m: np.ndarray) -> np.ndarray:
    """Closest rotation matrix (SVD, det +1)."""
    u, _, vt = np.linalg.svd(m)
    r = u @ vt
    if np.linalg.det(r) < 0:
        r = u @ np.diag([1.0, 1.0, -1.0]) @ vt
    return r


def rotation_angle_deg(r: np.ndarray) -> np.ndarray:
    """Rotation angle(s) of ``[...,3,3]`` matrices in degrees."""
    tr = np.trace(r, axis1=-2, axis2=-1)
    return np.degrees(np.arccos(np.clip((tr - 1.0) / 2.0, -1.0, 1.0)))


class _Matcher:
    def __init__(self, n_features: int) -> None:
        self.sift = cv2.SIFT_create(nfeatures=n_features)
        self.bf = cv2.BFMatcher(cv2.NORM_L2)

    def features(self, gray: np.ndarray):
        kp, desc = self.sift.detectAndCompute(gray, None)
        pts = np.array([k.pt for k in kp], dtype=np.float64).reshape(-1, 2)
        return pts, desc

    def match(self, fa, fb, ratio: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
        (pa, da), (pb, db) = fa, fb
        if da is None or db is None or len(pa) < 2 or len(pb) < 2:
            return np.zeros((0, 2)), np.zeros((0, 2))
        good = [m[0] for m in self.bf.knnMatch(da, db, k=2) if len(m) == 2 and m[0].distance < ratio * m[1].distance]
        ia = np.array([m.queryIdx for m in good], dtype=np.int64)
        ib = np.array([m.trainIdx for m in good], dtype=np.int64)
        return pa[ia].reshape(-1, 2), pb[ib].reshape(-1, 2)


def _skew(v: np.ndarray) -> np.ndarray:
    return np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])


def _sampson(R: np.ndarray, t: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """Sampson distances (normalised units) of homogeneous matches ``x0 -> x1`` under ``E = [t]x R``."""
    e = _skew(t / max(np.linalg.norm(t), 1e-12)) @ R
    ex0, etx1 = x0 @ e.T, x1 @ e
    num = np.sum(x1 * ex0, axis=1)
    return num / (np.sqrt(ex0[:, 0] ** 2 + ex0[:, 1] ** 2 + etx1[:, 0] ** 2 + etx1[:, 1] ** 2) + 1e-15)


def _refine_pose(R: np.ndarray, t: np.ndarray, x0: np.ndarray, x1: np.ndarray, scale: float):
    """Robust (Cauchy, redescending) Sampson-error refinement of ``E = [t]x R`` over all matches."""

    def residual(p: np.ndarray) -> np.ndarray:
        return np.r_[_sampson(cv2.Rodrigues(p[:3])[0], p[3:], x0, x1), np.linalg.norm(p[3:]) - 1.0]

    sol = least_squares(residual, np.r_[cv2.Rodrigues(R)[0].ravel(), t], loss="cauchy", f_scale=scale, max_nfev=200)
    return cv2.Rodrigues(sol.x[:3])[0], sol.x[3:] / max(np.linalg.norm(sol.x[3:]), 1e-12)


def _cheirality_sign(R: np.ndarray, t: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> float:
    """Normalised correlation (-1..1) over matches of the derotated displacement with its direction under translation
    ``t``: > 0 when the points lie in front of both cameras. The Sampson error cannot tell ``t`` from ``-t`` and at
    small baselines the refinement can cross over; this first-order cheirality test settles the sign."""
    y = x0 @ R.T
    y = y[:, :2] / y[:, 2:3]
    d = x1[:, :2] / x1[:, 2:3] - y
    v = t[None, :2] - y * t[2]
    return float(np.sum(d * v) / (np.sum(np.linalg.norm(d, axis=1) * np.linalg.norm(v, axis=1)) + 1e-15))


def _essential_pose(n0: np.ndarray, n1: np.ndarray, px: float):
    """Best ``(R, t, inliers)`` over several robust estimators (RANSAC, MAGSAC, LMedS), each refined; the
    candidate with the lowest median Sampson error wins. Near-planar scenes make single estimates unstable."""
    x0, x1 = np.c_[n0, np.ones(len(n0))], np.c_[n1, np.ones(len(n1))]
    best = None
    for method in (cv2.RANSAC, cv2.USAC_MAGSAC, cv2.LMEDS):
        E, mask = cv2.findEssentialMat(n0, n1, np.eye(3), method=method, prob=0.999, threshold=px)
        if E is None or E.shape != (3, 3) or mask is None:
            continue
        n_good, R, t, _ = cv2.recoverPose(E, n0, n1, np.eye(3), mask=mask.copy())
        if n_good < 15:
            continue
        t0 = t.ravel() / max(np.linalg.norm(t), 1e-12)
        R, t = _refine_pose(nearest_rotation(R), t0, x0, x1, 0.3 * px)
        res = np.abs(_sampson(R, t, x0, x1))
        good = res < px
        # the sign: a clear first-order cheirality verdict wins; when the parallax is too weak for one, keep the
        # sign recoverPose's triangulation chose (the refinement itself is blind to it)
        corr = _cheirality_sign(R, t, x0[good], x1[good])
        if (corr < 0 if abs(corr) > 0.3 else float(np.dot(t, t0)) < 0):
            t = -t
        if best is None or np.median(res) < best[0]:
            best = (float(np.median(res)), nearest_rotation(R), t, int(np.sum(res < px)))
    return None if best is None else best[1:]


def _pair_motion(p0, p1, k0, k1, parallax_px: float, parallax_frac: float):
    """``(R, t_dir, focal_ratio, model, inliers)`` of one pair (points in pixels)."""
    nan3 = np.full(3, np.nan)
    if len(p0) < 8:
        return np.eye(3), nan3, np.nan, "degenerate", len(p0)
    H, mh = cv2.findHomography(p0, p1, cv2.RANSAC, 1.5)
    n0 = cv2.undistortPoints(p0.reshape(-1, 1, 2), k0, None).reshape(-1, 2)
    n1 = cv2.undistortPoints(p1.reshape(-1, 1, 2), k1, None).reshape(-1, 2)
    f_mean = 0.25 * (k0[0, 0] + k0[1, 1] + k1[0, 0] + k1[1, 1])
    E, me = cv2.findEssentialMat(n0, n1, np.eye(3), method=cv2.USAC_MAGSAC, prob=0.999, threshold=1.0 / f_mean)
    use_e = False
    if E is not None and E.shape == (3, 3) and H is not None:
        ine = me.ravel().astype(bool)
        q = cv2.perspectiveTransform(p0[ine].reshape(-1, 1, 2), H).reshape(-1, 2)
        off = np.linalg.norm(q - p1[ine], axis=1) > parallax_px
        use_e = ine.sum() >= 15 and off.sum() >= max(8, parallax_frac * ine.sum())
    if use_e:
        pose = _essential_pose(n0, n1, 1.0 / f_mean)
        if pose is not None:
            return pose[0], pose[1], np.nan, "essential", pose[2]
    if H is None or mh is None or int(mh.sum()) < 8:
        return np.eye(3), nan3, np.nan, "degenerate", 0 if mh is None else int(mh.sum())
    a = np.linalg.inv(k0) @ H @ k0
    lam = np.linalg.norm(a[2])
    s = 0.5 * (np.linalg.norm(a[0]) + np.linalg.norm(a[1])) / max(lam, 1e-12)
    r = np.diag([1.0 / s, 1.0 / s, 1.0]) @ a / lam
    r = r if np.linalg.det(r) > 0 else -r
    return nearest_rotation(r), nan3, float(s), "homography", int(mh.sum())


def estimate_motion(
    frames: np.ndarray,
    K: np.ndarray,
    *,
    n_features: int = 2000,
    min_matches: int = MIN_MATCHES,
    parallax_px: float = 2.0,
    parallax_frac: float = 0.1,
) -> MotionEstimate:
    """Camera motion of every frame relative to frame 0 (see the module docstring). ``frames [F,H,W,3]`` uint8 or
    float 0..1; ``K`` ``[3,3]`` or ``[F,3,3]`` for that frame size."""
    gray = _gray_u8(frames)
    n = gray.shape[0]
    ks = _intrinsics(K, n)
    cv2.setRNGSeed(0)
    matcher = _Matcher(n_features)
    feats0 = matcher.features(gray[0])
    R = np.tile(np.eye(3), (n, 1, 1))
    t = np.full((n, 3), np.nan)
    s = np.ones(n)
    model = ["reference"] + [""] * (n - 1)
    inl = np.zeros(n, dtype=np.int64)
    prev = feats0
    for f in range(1, n):
        cur = matcher.features(gray[f])
        p0, p1 = matcher.match(feats0, cur)
        if len(p0) >= min_matches:
            R[f], t[f], s[f], model[f], inl[f] = _pair_motion(p0, p1, ks[0], ks[f], parallax_px, parallax_frac)
        if len(p0) < min_matches or model[f] == "degenerate":
            q0, q1 = matcher.match(prev, cur)
            r_rel, _, s_rel, m_rel, n_rel = _pair_motion(q0, q1, ks[f - 1], ks[f], parallax_px, parallax_frac)
            ok = m_rel != "degenerate" and model[f - 1] != "degenerate"
            R[f] = r_rel @ R[f - 1] if ok else np.eye(3)
            s[f] = (s_rel if np.isfinite(s_rel) else ks[f, 0, 0] / ks[f - 1, 0, 0]) * s[f - 1] if ok else np.nan
            t[f], model[f], inl[f] = np.nan, ("chained" if ok else "degenerate"), n_rel
        prev = cur
    return MotionEstimate(R, t, s, model, inl)


def _requested(K: np.ndarray, cam_T_src: np.ndarray, n: int):
    T = np.asarray(cam_T_src, dtype=np.float64)
    check_shape(T, "F 4 4", "cam_T_src_requested", bound={"F": n}, error=FidelityError)
    if not np.isfinite(T).all():
        raise FidelityError("cam_T_src_requested must be finite")
    rel = T @ np.linalg.inv(T[0])  # frame-0 camera -> frame-f camera
    return rel[:, :3, :3], rel[:, :3, 3], K[:, 0, 0] / K[0, 0, 0]


def score(
    frames: np.ndarray,
    K_requested: np.ndarray,
    cam_T_src_requested: np.ndarray,
    *,
    min_translation: float = 0.01,
    **estimate_kwargs,
) -> dict:
    """Compare the motion recovered from ``frames`` with the requested cameras.

    Returns ``rot_err_deg``, ``trans_dir_err_deg``, ``focal_err`` (means over the frames after 0 where each is
    measured and the frame is not degenerate; NaN if none), ``n_frames``, ``degenerate_frames`` (motion not
    recovered, or a requested translation of at least ``min_translation`` scene units whose direction could not be
    measured -- too little parallax, or the clip did not translate), ``static_translation_frames``
    (requested translation below ``min_translation``: excluded from the translation error) and ``per_frame``
    arrays (``rot_err_deg``, ``trans_dir_err_deg``, ``focal_err`` = ``|s_est / s_req - 1|``, ``rot_req_deg``,
    ``rot_est_deg``, ``focal_req``, ``focal_est``, ``t_req``, ``t_est``, ``model``)."""
    gray_n = check_shape(np.asarray(frames), "F H W C", "frames", error=FidelityError)["F"]
    if gray_n < 1:
        raise FidelityError("frames must have at least one frame")
    ks = _intrinsics(K_requested, gray_n)
    r_req, t_req, s_req = _requested(ks, cam_T_src_requested, gray_n)
    est = estimate_motion(frames, ks, **estimate_kwargs)
    rot_err = rotation_angle_deg(est.R @ np.transpose(r_req, (0, 2, 1)))
    t_norm = np.linalg.norm(t_req, axis=1)
    moving = t_norm >= min_translation
    with np.errstate(invalid="ignore", divide="ignore"):
        cosang = np.sum(est.t_dir * (t_req / np.maximum(t_norm, 1e-12)[:, None]), axis=1)
    trans_err = np.where(moving, np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0))), np.nan)
    focal_err = np.abs(est.focal_ratio / s_req - 1.0)
    degenerate = np.array([m == "degenerate" for m in est.model]) | (moving & ~np.isfinite(trans_err))
    degenerate[0] = False
    # a homography that absorbed a requested translation mixes it into R and s: those frames are degenerate
    rot_err = np.where(degenerate, np.nan, rot_err)
    focal_err = np.where(degenerate, np.nan, focal_err)

    def mean(x: np.ndarray) -> float:
        x = x[1:][np.isfinite(x[1:])]
        return float(x.mean()) if x.size else float("nan")

    return {
        "rot_err_deg": mean(rot_err),
        "trans_dir_err_deg": mean(trans_err),
        "focal_err": mean(focal_err),
        "n_frames": int(gray_n),
        "degenerate_frames": [int(i) for i in np.flatnonzero(degenerate)],
        "static_translation_frames": [int(i) for i in np.flatnonzero(~moving)],
        "per_frame": {
            "rot_err_deg": rot_err, "trans_dir_err_deg": trans_err, "focal_err": focal_err,
            "rot_req_deg": rotation_angle_deg(r_req), "rot_est_deg": rotation_angle_deg(est.R),
            "focal_req": s_req, "focal_est": est.focal_ratio, "t_req": t_req, "t_est": est.t_dir,
            "model": list(est.model), "inliers": est.inliers,
        },
    }


def _panel(w: int, h: int, title: str, series: list[tuple[np.ndarray, tuple[int, int, int], str]]) -> np.ndarray:
    img = np.full((h, w, 3), 255, np.uint8)
    m_l, m_r, m_t, m_b = 56, 12, 24, 22
    vals = np.concatenate([s[np.isfinite(s)] for s, _, _ in series] + [np.zeros(1)])
    lo, hi = float(vals.min()), float(vals.max())
    hi = hi if hi - lo > 1e-9 else lo + 1.0
    n = max(max(len(s) for s, _, _ in series), 2)
    cv2.rectangle(img, (m_l, m_t), (w - m_r, h - m_b), (200, 200, 200), 1)

    def xy(i: int, v: float) -> tuple[int, int]:
        x = m_l + (w - m_l - m_r) * i / (n - 1)
        y = h - m_b - (h - m_t - m_b) * (v - lo) / (hi - lo)
        return int(round(x)), int(round(y))

    for s, colour, _ in series:
        for i in range(len(s)):
            if not np.isfinite(s[i]):
                continue
            if i + 1 < len(s) and np.isfinite(s[i + 1]):
                cv2.line(img, xy(i, s[i]), xy(i + 1, s[i + 1]), colour, 2, cv2.LINE_AA)
            cv2.circle(img, xy(i, s[i]), 2, colour, -1, cv2.LINE_AA)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, title, (m_l, 16), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, f"{hi:.3g}", (2, m_t + 8), font, 0.38, (60, 60, 60), 1, cv2.LINE_AA)
    cv2.putText(img, f"{lo:.3g}", (2, h - m_b), font, 0.38, (60, 60, 60), 1, cv2.LINE_AA)
    cv2.putText(img, f"frame 0..{n - 1}", (m_l, h - 6), font, 0.38, (60, 60, 60), 1, cv2.LINE_AA)
    x = w - m_r - 8
    for _, colour, label in reversed(series):
        (tw, _), _ = cv2.getTextSize(label, font, 0.4, 1)
        x -= tw + 22
        cv2.line(img, (x, 12), (x + 14, 12), colour, 2)
        cv2.putText(img, label, (x + 18, 16), font, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return img


def fidelity_plot(report: dict, width: int = 640, panel_height: int = 160) -> np.ndarray:
    """Requested vs achieved per frame, drawn with OpenCV: rotation angle, translation-direction error and focal
    ratio panels stacked -> ``uint8 [3*panel_height, width, 3]`` (RGB)."""
    pf = report.get("per_frame") if isinstance(report, dict) else None
    if not isinstance(pf, dict):
        raise FidelityError("report must be a dict from score() with a 'per_frame' entry")
    req, est = (0, 90, 200), (220, 80, 0)
    panels = [
        _panel(width, panel_height, f"rotation vs frame 0 (deg), mean err {report['rot_err_deg']:.2f}",
               [(np.asarray(pf["rot_req_deg"], float), req, "requested"),
                (np.asarray(pf["rot_est_deg"], float), est, "achieved")]),
        _panel(width, panel_height, f"translation direction error (deg), mean {report['trans_dir_err_deg']:.2f}",
               [(np.asarray(pf["trans_dir_err_deg"], float), est, "error")]),
        _panel(width, panel_height, f"focal ratio vs frame 0, mean err {report['focal_err']:.3f}",
               [(np.asarray(pf["focal_req"], float), req, "requested"),
                (np.asarray(pf["focal_est"], float), est, "achieved")]),
    ]
    return np.ascontiguousarray(np.concatenate(panels, axis=0))
