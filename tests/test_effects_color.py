"""Colour: grading presets on known colours, controls, .cube parsing and trilinear LUT application."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import draw_to_video.effects as E
from draw_to_video.effects import color as C

LUMA = torch.tensor([0.2126, 0.7152, 0.0722])


def clip(f: int = 2, h: int = 5, w: int = 6, c: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.rand(f, h, w, c, generator=torch.Generator().manual_seed(seed))


def test_noir_is_grey() -> None:
    y = C.grade(clip(c=4), preset="noir")
    assert torch.equal(y[..., 0], y[..., 1]) and torch.equal(y[..., 1], y[..., 2])
    y2 = C.grade(clip(), preset="noir", temperature=0.8, tint=-0.5)
    assert torch.equal(y2[..., 0], y2[..., 2])


def test_saturation_zero_gives_luma_and_natural_is_identity() -> None:
    x = clip()
    y = C.grade(x, preset="natural", saturation=0.0)
    lum = (x * LUMA).sum(-1)
    for ch in range(3):
        torch.testing.assert_close(y[..., ch], lum, rtol=0, atol=1e-6)
    assert torch.equal(C.grade(x, preset="natural"), x)


@pytest.mark.parametrize("preset", list(C.PRESETS))
def test_mid_grey_stays_grey_under_neutral_white_balance(preset: str) -> None:
    grey = torch.full((1, 2, 2, 3), 0.5)
    y = C.grade(grey, preset=preset, temperature=0.0, tint=0.0)
    assert float(y.amax(-1).sub(y.amin(-1)).max()) < 1e-6
    # every grey level stays neutral too (the preset curves act equally on R, G, B)
    ramp = torch.linspace(0, 1, 11).view(1, 1, 11, 1).expand(1, 1, 11, 3).contiguous()
    if preset != "teal_orange":  # split toning tints greys away from mid-grey by design
        yr = C.grade(ramp, preset=preset, temperature=0.0, tint=0.0)
        assert float(yr.amax(-1).sub(yr.amin(-1)).max()) < 1e-6


@pytest.mark.parametrize("preset", list(C.PRESETS))
def test_strength_zero_identity_and_determinism(preset: str) -> None:
    x = clip(c=4)
    assert torch.equal(C.grade(x, preset=preset, strength=0.0), x)
    a, b = C.grade(x, preset=preset), C.grade(x, preset=preset)
    assert torch.equal(a, b) and torch.equal(a[..., 3], x[..., 3])
    assert float(a[..., :3].min()) >= 0 and float(a[..., :3].max()) <= 1


def test_controls_move_colours_the_right_way() -> None:
    grey = torch.full((1, 1, 1, 3), 0.5)
    warm = C.grade(grey, preset="natural", temperature=0.5)[0, 0, 0]
    assert warm[0] > warm[1] > warm[2]
    magenta = C.grade(grey, preset="natural", tint=0.5)[0, 0, 0]
    assert magenta[1] < magenta[0] == magenta[2]
    lo, hi = torch.full((1, 1, 1, 3), 0.2), torch.full((1, 1, 1, 3), 0.8)
    assert float(C.grade(lo, preset="natural", contrast=1.5)[..., 0]) < 0.2 < 0.8 < float(
        C.grade(hi, preset="natural", contrast=1.5)[..., 0])
    assert float(C.grade(hi, preset="natural", highlights=-0.5)[..., 0]) < 0.8
    assert float(C.grade(lo, preset="natural", shadows=0.5)[..., 0]) > 0.2
    red = torch.tensor([0.8, 0.3, 0.3]).view(1, 1, 1, 3)
    sat = C.grade(red, preset="natural", saturation=2.0)[0, 0, 0]
    assert sat[0] - sat[1] > 0.5 - 1e-6
    dfn = C.grade(torch.full((1, 1, 1, 3), 0.6), preset="day_for_night")[0, 0, 0]
    assert dfn[2] > dfn[0] and float(dfn.mean()) < 0.4
    to = C.grade(torch.tensor([[[[0.9, 0.9, 0.9], [0.1, 0.1, 0.1]]]]), preset="teal_orange", temperature=0.0)[0, 0]
    assert to[0, 0] > to[0, 2] and to[1, 2] > to[1, 0]  # orange highlights, teal shadows


def test_bad_grade_arguments() -> None:
    for kw in ({"preset": "sepia"}, {"saturation": -1.0}, {"temperature": 2.0}, {"strength": float("nan")}):
        with pytest.raises(ValueError):
            E.grade(clip(), **kw)  # the checked entry point


# ---------------------------------------------------------------------------------------- LUTs


def write_cube(path: Path, n: int, fn, header: str = "") -> Path:  # type: ignore[no-untyped-def]
    lines = ["# test LUT", 'TITLE "t"', f"LUT_3D_SIZE {n}", header]
    ax = [i / (n - 1) for i in range(n)]
    for b, g, r in itertools.product(ax, ax, ax):  # red varies fastest
        lines.append("%.6f %.6f %.6f" % fn(r, g, b))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_identity_lut_is_identity(tmp_path: Path) -> None:
    x = clip(2, 7, 9, c=4)
    for lut in (C.identity_lut(2), C.identity_lut(17), C.load_cube(write_cube(tmp_path / "i.cube", 5, lambda r, g, b: (r, g, b)))):
        y = C.apply_lut(x, lut)
        torch.testing.assert_close(y, x, rtol=0, atol=1e-6)
        assert torch.equal(y[..., 3], x[..., 3])
    assert torch.equal(C.apply_lut(x, C.identity_lut(3), strength=0.0), x)


def test_cube_channel_order_and_known_colours(tmp_path: Path) -> None:
    swap = C.load_cube(write_cube(tmp_path / "s.cube", 3, lambda r, g, b: (b, g, r)))
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 1, 1, 3)
    torch.testing.assert_close(C.apply_lut(red, swap)[0, 0, 0], torch.tensor([0.0, 0.0, 1.0]), rtol=0, atol=1e-6)
    inv = tmp_path / "inv.cube"
    write_cube(inv, 2, lambda r, g, b: (1 - r, 1 - g, 1 - b))
    x = clip()
    torch.testing.assert_close(C.apply_lut(x, C.load_cube(inv)), 1 - x, rtol=0, atol=1e-6)  # linear LUT is exact
    half = C.apply_lut(x, C.load_cube(inv), strength=0.5)
    torch.testing.assert_close(half, torch.full_like(x, 0.5), rtol=0, atol=1e-6)


def test_cube_domain(tmp_path: Path) -> None:
    # table sampled over [0, 2]: output = input / 2, so over 0..1 the LUT halves the colour
    p = write_cube(tmp_path / "d.cube", 5, lambda r, g, b: (r, g, b), header="DOMAIN_MIN 0 0 0\nDOMAIN_MAX 2 2 2")
    raw = C.read_cube(p)
    assert raw.domain_max == (2.0, 2.0, 2.0) and raw.title == "t"
    x = clip()
    torch.testing.assert_close(C.apply_lut(x, C.load_cube(p)), x / 2, rtol=0, atol=1e-6)
    torch.testing.assert_close(C.apply_lut(x, raw.table, domain_min=raw.domain_min, domain_max=raw.domain_max),
                               x / 2, rtol=0, atol=1e-6)


BAD_CUBES = {
    "no size": "0 0 0\n1 1 1\n",
    "wrong count": "LUT_3D_SIZE 2\n0 0 0\n1 1 1\n",
    "non numeric": "LUT_3D_SIZE 2\n" + "0 0 x\n" * 8,
    "two values": "LUT_3D_SIZE 2\n" + "0 0\n" * 8,
    "1d": "LUT_1D_SIZE 4\n",
    "size text": "LUT_3D_SIZE big\n",
    "size 1": "LUT_3D_SIZE 1\n0 0 0\n",
    "nan": "LUT_3D_SIZE 2\n" + "0 0 nan\n" * 8,
    "keyword after data": "LUT_3D_SIZE 2\n" + "0 0 0\n" * 8 + "DOMAIN_MIN 0 0 0\n",
    "bad domain": "LUT_3D_SIZE 2\nDOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 0 0\n" + "0 0 0\n" * 8,
    "empty": "",
}


@pytest.mark.parametrize("case", list(BAD_CUBES))
def test_malformed_cube_files_raise_one_line(tmp_path: Path, case: str) -> None:
    p = tmp_path / "bad.cube"
    p.write_text(BAD_CUBES[case])
    with pytest.raises(ValueError) as e:
        C.load_cube(p)
    assert "\n" not in str(e.value)


def test_missing_and_binary_cube_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        C.load_cube(tmp_path / "nope.cube")
    b = tmp_path / "bin.cube"
    b.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError):
        C.load_cube(b)
    with pytest.raises(ValueError):
        C.apply_lut(clip(), torch.zeros(3, 3, 2, 3))


GOOD = "# c\nTITLE \"x\"\nLUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n" + "".join(
    f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_cube_files_load_or_raise(tmp_path: Path, data: st.DataObject) -> None:
    text = GOOD
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["del", "ins", "dup"]))
        if op == "del":
            text = text[:i] + text[i + data.draw(st.integers(1, 8)):]
        elif op == "ins":
            text = text[:i] + data.draw(st.sampled_from(["x", "1", " ", "\n", "#", "-", "9e9", "."])) + text[i:]
        else:
            text = text[:i] + text[i:i + 12] + text[i:]
    p = tmp_path / "m.cube"
    p.write_text(text)
    try:
        lut = C.load_cube(p)
    except ValueError as e:
        assert "\n" not in str(e)
        return
    n = lut.shape[0]
    assert lut.shape == (n, n, n, 3) and bool(torch.isfinite(lut).all())
    y = C.apply_lut(clip(1, 3, 3), lut)
    assert bool(torch.isfinite(y).all())


@settings(max_examples=150, deadline=None)
@given(f=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 7), c=st.sampled_from([3, 4]),
       preset=st.sampled_from(list(C.PRESETS)), nan=st.sampled_from([False, False, True]), seed=st.integers(0, 50))
def test_grade_and_lut_odd_sizes_alpha_nan(f: int, h: int, w: int, c: int, preset: str, nan: bool, seed: int) -> None:
    x = clip(f, h, w, c, seed)
    if nan:
        x[-1, -1, -1, -1] = float("nan")
        with pytest.raises(ValueError):
            C.grade(x, preset=preset)
        with pytest.raises(ValueError):
            C.apply_lut(x, C.identity_lut(2))
        return
    y = C.grade(x, preset=preset, strength=0.7)
    assert y.shape == x.shape and bool(torch.isfinite(y).all())
    if c == 4:
        assert torch.equal(y[..., 3], x[..., 3])
    torch.testing.assert_close(C.apply_lut(x, C.identity_lut(4)), x, rtol=0, atol=1e-6)


SECRET = "TOPSECRET-7f3a"


@pytest.mark.parametrize("text", [
    f"{SECRET}\n", f"LUT_3D_SIZE {SECRET}\n", f"LUT_3D_SIZE 2\n{SECRET} 1 2\n", f"LUT_3D_SIZE 2\n0 0 {SECRET}\n",
    f"LUT_3D_SIZE 2\n0 0 0\n{SECRET}_KEY 1\n", f"DOMAIN_MIN {SECRET} 0 0\n", f"root:x:0:0:{SECRET}:/root:/bin/bash\n",
])
def test_cube_errors_never_quote_the_file(tmp_path: Path, text: str) -> None:
    """A parser error gives the line number and what is wrong, never the file's content (a LUT could be any file)."""
    p = tmp_path / "secret.cube"
    p.write_text(text)
    with pytest.raises(ValueError) as e:
        C.load_cube(p)
    assert SECRET not in str(e.value) and "root" not in str(e.value) and "\n" not in str(e.value)
