"""Colour: grading presets with temperature/tint/saturation/contrast/highlights/shadows controls, and
``.cube`` 3-D LUTs (parser + trilinear application on the clip's device).

Grade pipeline per pixel (RGB, display-referred 0..1):

1. white balance gains ``R *= 1 + 0.25 T``, ``B *= 1 - 0.25 T``, ``G *= 1 - 0.25 tint``;
2. the preset's own curve (same function on every channel, or luma-keyed split toning that is zero at
   mid-grey, so greys stay grey);
3. contrast about 0.5;
4. highlights / shadows: a luma-keyed shift added equally to R, G, B;
5. saturation about Rec.709 luma (0 gives the luma exactly);
6. clamp to 0..1, then blend with the input by ``strength``.

Neutral controls skip their step, so ``natural`` with default controls is the identity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ..trajectory.checks import CancelFn, ProgressFn
from ._core import Steps, check_frames, check_shape, copy_clip, fail, luma_last, map_colour


def _smoothstep(e0: float, e1: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - e0) / (e1 - e0)).clamp_(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _s_curve(amount: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """Blend ``amount`` of a smoothstep S-curve into ``x`` (channels-last, modified in place)."""
    def f(x: torch.Tensor) -> torch.Tensor:
        return x.lerp_(_smoothstep(0.0, 1.0, x), amount)
    return f


def _cinematic(x: torch.Tensor) -> torch.Tensor:
    return _s_curve(0.25)(x).mul_(0.94).add_(0.03)  # filmic S with lifted blacks and rolled-off whites


def _teal_orange(x: torch.Tensor) -> torch.Tensor:
    k = (luma_last(x).clamp_(0.0, 1.0).sub_(0.5).mul_(2.0)).unsqueeze(-1)
    orange = x.new_tensor([0.10, 0.03, -0.08])
    teal = x.new_tensor([0.08, -0.02, -0.07])  # negated: applied with the negative k below
    return _s_curve(0.2)(x).add_(torch.where(k > 0, k * orange, k * teal))


def _bleach_bypass(x: torch.Tensor) -> torch.Tensor:
    lum = luma_last(x).clamp_(0.0, 1.0).unsqueeze(-1)
    xc = x.clamp(0.0, 1.0)
    over = torch.where(lum < 0.5, 2.0 * xc * lum, 1.0 - 2.0 * (1.0 - xc) * (1.0 - lum))
    return x.lerp_(over, 0.6)


def _noir(x: torch.Tensor) -> torch.Tensor:
    return _s_curve(0.6)(x)


def _day_for_night(x: torch.Tensor) -> torch.Tensor:
    return x.clamp_(0.0, 1.0).pow_(1.5).mul_(0.5)  # about two stops under, crushed shadows


@dataclass(frozen=True)
class GradePreset:
    """Default control values of a grading preset plus its own curve."""

    temperature: float = 0.0
    tint: float = 0.0
    saturation: float = 1.0
    contrast: float = 1.0
    highlights: float = 0.0
    shadows: float = 0.0
    curve: Callable[[torch.Tensor], torch.Tensor] | None = None


PRESETS: dict[str, GradePreset] = {
    "natural": GradePreset(),
    "cinematic": GradePreset(temperature=0.05, saturation=0.9, contrast=1.1, highlights=-0.1, shadows=0.05,
                             curve=_cinematic),
    "vibrant": GradePreset(saturation=1.35, contrast=1.08, shadows=0.03, curve=_s_curve(0.15)),
    "teal_orange": GradePreset(temperature=0.05, saturation=1.1, contrast=1.1, highlights=-0.05,
                               curve=_teal_orange),
    "bleach_bypass": GradePreset(saturation=0.55, contrast=1.15, highlights=-0.05, curve=_bleach_bypass),
    "noir": GradePreset(saturation=0.0, contrast=1.3, shadows=-0.05, curve=_noir),
    "day_for_night": GradePreset(temperature=-0.7, tint=-0.1, saturation=0.45, contrast=1.1, highlights=-0.15,
                                 curve=_day_for_night),
}

def grade(frames: torch.Tensor, *, preset: str = "cinematic", strength: float = 1.0,
          temperature: float | None = None, tint: float | None = None, saturation: float | None = None,
          contrast: float | None = None, highlights: float | None = None, shadows: float | None = None,
          seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None,
          out: torch.Tensor | None = None) -> torch.Tensor:
    """Colour grade with a preset; any control left ``None`` takes the preset's value (ranges: the registry).

    ``temperature`` > 0 warms (more red, less blue), ``tint`` > 0 is magenta (less green),
    ``saturation`` 0 gives Rec.709 luma, ``contrast`` pivots about 0.5, ``highlights``/``shadows``
    lift (> 0) or lower the bright/dark tones. ``strength`` 0 is the identity.
    """
    frames = check_frames(frames)
    p = PRESETS[preset]
    given = {"temperature": temperature, "tint": tint, "saturation": saturation, "contrast": contrast,
             "highlights": highlights, "shadows": shadows}
    c = {k: float(getattr(p, k) if v is None else v) for k, v in given.items()}
    if strength == 0.0:
        return copy_clip(frames, out)

    def fn(x: torch.Tensor) -> torch.Tensor:
        y = x.clone() if strength < 1.0 else x  # [n, 3] block, ours to modify
        if c["temperature"] != 0.0 or c["tint"] != 0.0:
            y.mul_(x.new_tensor([1.0 + 0.25 * c["temperature"], 1.0 - 0.25 * c["tint"], 1.0 - 0.25 * c["temperature"]]))
        if p.curve is not None:
            y = p.curve(y)
        if c["contrast"] != 1.0:
            y.mul_(c["contrast"]).add_(0.5 * (1.0 - c["contrast"]))
        if c["highlights"] != 0.0 or c["shadows"] != 0.0:
            lum = luma_last(y)
            shift = _smoothstep(0.5, 1.0, lum).mul_(0.5 * c["highlights"])
            shift.add_((1.0 - _smoothstep(0.0, 0.5, lum)).mul_(0.5 * c["shadows"]))
            y.add_(shift.unsqueeze(-1))
        if c["saturation"] != 1.0:
            y = torch.lerp(luma_last(y).unsqueeze(-1).expand_as(y), y, c["saturation"])
        y.clamp_(0.0, 1.0)
        return y if strength == 1.0 else x.lerp_(y, strength)

    return map_colour(frames, fn, out, Steps("grade", progress, cancel))


# ----------------------------------------------------------------------------------------- LUTs


@dataclass(frozen=True)
class CubeLUT:
    """A parsed ``.cube`` file: ``table [N, N, N, 3]`` indexed ``[b, g, r]`` (red varies fastest in the file)."""

    table: torch.Tensor
    domain_min: tuple[float, float, float]
    domain_max: tuple[float, float, float]
    title: str


def _floats(tokens: Sequence[str], n: int, what: str, lineno: int) -> list[float]:
    if len(tokens) != n:
        fail(f"line {lineno}: {what} needs {n} numbers, got {len(tokens)}")
    try:
        vals = [float(t) for t in tokens]
    except ValueError:
        fail(f"line {lineno}: {what} has a value that is not a number")
    if not all(math.isfinite(v) for v in vals):
        fail(f"line {lineno}: {what} has a non-finite value")
    return vals


def read_cube(path: str | Path) -> CubeLUT:
    """Parse a ``.cube`` 3-D LUT (Adobe/Resolve): comments ``#``, ``TITLE``, ``LUT_3D_SIZE``,
    ``DOMAIN_MIN``/``DOMAIN_MAX`` (or ``LUT_3D_INPUT_RANGE``), then ``N^3`` rows of ``r g b``.
    Unknown keywords are ignored. Every problem is a one-line ``ValueError`` giving the line number and what is wrong;
    it never quotes the file's content (a LUT may be any file a user points at)."""
    p = Path(path)
    if not p.is_file():
        fail(f"LUT file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read LUT file {p}: {type(e).__name__}")
    size = None
    dmin, dmax, title = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], ""
    rows: list[list[float]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tok = line.split()
        key = tok[0].upper()
        if key[0].isalpha():
            if rows:
                fail(f"line {lineno}: a keyword after the table data")
            if key == "LUT_3D_SIZE":
                n = _floats(tok[1:], 1, "LUT_3D_SIZE", lineno)[0]
                if not n.is_integer() or not 2 <= n <= 256:
                    fail(f"line {lineno}: LUT_3D_SIZE must be an integer in [2, 256]")
                size = int(n)
            elif key == "LUT_1D_SIZE":
                fail(f"line {lineno}: 1-D LUTs (LUT_1D_SIZE) are not supported, only 3-D")
            elif key == "DOMAIN_MIN":
                dmin = _floats(tok[1:], 3, "DOMAIN_MIN", lineno)
            elif key == "DOMAIN_MAX":
                dmax = _floats(tok[1:], 3, "DOMAIN_MAX", lineno)
            elif key == "LUT_3D_INPUT_RANGE":
                lo, hi = _floats(tok[1:], 2, "LUT_3D_INPUT_RANGE", lineno)
                dmin, dmax = [lo] * 3, [hi] * 3
            elif key == "TITLE":
                title = line[len(tok[0]):].strip().strip('"')
            elif not key.replace("_", "").isalnum():
                fail(f"line {lineno}: not a keyword and not a table row")
            continue
        rows.append(_floats(tok, 3, "table row", lineno))
    if size is None:
        fail(f"{p.name}: missing LUT_3D_SIZE")
    assert size is not None
    if len(rows) != size**3:
        fail(f"{p.name}: LUT_3D_SIZE {size} needs {size**3} rows, found {len(rows)}")
    if any(abs(v) > 1e30 for v in dmin + dmax):
        fail(f"{p.name}: DOMAIN values are out of range")
    if any(hi <= lo for lo, hi in zip(dmin, dmax, strict=True)):
        fail(f"{p.name}: DOMAIN_MAX must exceed DOMAIN_MIN in every channel")
    table = torch.tensor(rows, dtype=torch.float32).view(size, size, size, 3)
    if not bool(torch.isfinite(table).all()):
        fail(f"{p.name}: table values overflow float32")
    return CubeLUT(table, (dmin[0], dmin[1], dmin[2]), (dmax[0], dmax[1], dmax[2]), title)


def _trilinear(table: torch.Tensor, rgb: torch.Tensor, dmin: torch.Tensor, dmax: torch.Tensor) -> torch.Tensor:
    """Look up channels-last ``rgb [f, H, W, 3]`` in ``table [N,N,N,3]`` (``[b,g,r]``), trilinearly.

    Returns ``[f, H, W, 3]`` (a strided view of the ``grid_sample`` result)."""
    vol = table.permute(3, 0, 1, 2).unsqueeze(0).to(rgb.dtype)  # [1, 3, D=b, H=g, W=r]
    grid = ((rgb - dmin) * (2.0 / (dmax - dmin))).sub_(1.0).unsqueeze(0)  # [1, f, H, W, (r, g, b) = (x, y, z)]
    res = F.grid_sample(vol, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return res[0].permute(1, 2, 3, 0)


def load_cube(path: str | Path) -> torch.Tensor:
    """Load a ``.cube`` file as ``[N, N, N, 3]`` (indexed ``[b, g, r]``) over the 0..1 input domain.

    A file whose DOMAIN is not 0..1 is resampled onto a 0..1 grid (use :func:`read_cube` for the raw
    table and pass its domain to :func:`apply_lut` to avoid that second interpolation)."""
    lut = read_cube(path)
    if lut.domain_min == (0.0, 0.0, 0.0) and lut.domain_max == (1.0, 1.0, 1.0):
        return lut.table
    n = lut.table.shape[0]
    ax = torch.linspace(0.0, 1.0, n)
    b, g, r = torch.meshgrid(ax, ax, ax, indexing="ij")
    pts = torch.stack((r, g, b), dim=-1)  # [n(b), n(g), n(r), 3] read as n frames of n x n pixels
    return _trilinear(lut.table, pts, torch.tensor(lut.domain_min), torch.tensor(lut.domain_max)).contiguous()


def identity_lut(n: int = 17) -> torch.Tensor:
    """The identity table ``[n, n, n, 3]`` (``[b, g, r]`` -> ``(r, g, b)``)."""
    ax = torch.linspace(0.0, 1.0, n)
    b, g, r = torch.meshgrid(ax, ax, ax, indexing="ij")
    return torch.stack((r, g, b), dim=-1)


def apply_lut(frames: torch.Tensor, lut: torch.Tensor, *, strength: float = 1.0,
              domain_min: Sequence[float] = (0.0, 0.0, 0.0), domain_max: Sequence[float] = (1.0, 1.0, 1.0),
              seed: int = 0, progress: ProgressFn | None = None, cancel: CancelFn | None = None,
              out: torch.Tensor | None = None) -> torch.Tensor:
    """Apply a 3-D LUT table ``[N,N,N,3]`` (see :func:`load_cube`; never a path: files are the caller's to choose)
    with trilinear interpolation (``grid_sample`` on a 5-D volume, on the clip's device); inputs outside the domain
    clamp to its edge. ``strength`` blends with the input (0 = identity)."""
    frames = check_frames(frames)
    if check_shape(lut, "N N N 3", "lut")["N"] < 2:
        fail("lut must be [N,N,N,3] with N >= 2")
    dmin = torch.tensor([float(v) for v in domain_min], device=frames.device)
    dmax = torch.tensor([float(v) for v in domain_max], device=frames.device)
    if dmin.numel() != 3 or dmax.numel() != 3 or bool((dmax <= dmin).any()):
        fail("domain_min/domain_max must be 3 numbers each with max > min")
    if strength == 0.0:
        return copy_clip(frames, out)
    table = lut.to(frames.device)

    def fn(x: torch.Tensor) -> torch.Tensor:  # [n, 3] block
        y = _trilinear(table, x.view(1, 1, -1, 3), dmin.to(x.dtype), dmax.to(x.dtype)).reshape(-1, 3)
        return y if strength == 1.0 else x.lerp_(y, strength)

    return map_colour(frames, fn, out, Steps("apply_lut", progress, cancel))
