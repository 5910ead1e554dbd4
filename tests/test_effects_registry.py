"""Registry: the one declaration of effect parameters, the validation generated from it, progress/cancel, looks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import draw_to_video.effects as E
from draw_to_video.effects import registry as R
from draw_to_video.effects.color import identity_lut
from draw_to_video.trajectory.checks import Cancelled

F, H, W = 3, 10, 14
TENSORS = {
    "mask": lambda: torch.ones(H, W) * 0.5,
    "depth": lambda: torch.linspace(0.5, 4.0, W).expand(F, H, W).contiguous(),
    "lut": lambda: identity_lut(3),
}


def clip(c: int = 3) -> torch.Tensor:
    return torch.rand(F, H, W, c, generator=torch.Generator().manual_seed(0))


def required(spec: R.EffectSpec) -> dict:
    return {p.name: TENSORS[p.kind]() for p in spec.params if p.required}


def test_at_least_twenty_effects_with_described_params() -> None:
    assert len(R.EFFECTS) >= 20
    groups = {s.group for s in R.EFFECTS.values()}
    assert groups == {"time", "lens", "color", "frame", "stylised", "deflicker"}
    for spec in R.EFFECTS.values():
        assert spec.description and callable(spec.fn)
        for p in spec.params:
            assert p.kind in R.KINDS and p.description, (spec.name, p.name)
            if p.kind == "choice":
                assert p.default in p.choices
            if p.kind in ("float", "int") and p.default is not None:
                assert p.min <= p.default <= p.max, (spec.name, p.name)


@pytest.mark.parametrize("name", list(R.EFFECTS))
def test_defaults_run_and_keep_shape_and_alpha(name: str) -> None:
    spec = R.EFFECTS[name]
    x = clip(4)
    y = R.apply_effect(name, x, required(spec), seed=1)
    assert bool(torch.isfinite(y).all())
    if not spec.changes_length:
        assert y.shape == x.shape
    assert y.shape[1:] == x.shape[1:]
    assert torch.equal(R.apply_effect(name, x, required(spec), seed=1), y)


ZERO = {"speed_ramp": {"strength": 0.0}, "tenet_reverse": {"strength": 0.0}, "motion_blur": {"shutter_angle": 0.0},
        "depth_of_field": {"aperture": 0.0}, "vignette": {"strength": 0.0}, "chromatic_aberration": {"strength": 0.0},
        "lens_distortion": {"k1": 0.0, "k2": 0.0}, "film_grain": {"strength": 0.0}, "halation": {"strength": 0.0},
        "dolly_zoom": {"focal_ratio": 1.0}, "grade": {"strength": 0.0}, "apply_lut": {"strength": 0.0},
        "handheld_shake": {"strength": 0.0}, "shake_impulse": {"amplitude": 0.0, "rotation": 0.0},
        "whip_pan": {"blur": 0.0}, "inception_fold": {"angle": 0.0}, "quantum_glitch": {"strength": 0.0},
        "deflicker": {"strength": 0.0}, "freeze_frame": {"duration": 0}}


@pytest.mark.parametrize("name", sorted(ZERO))
def test_every_strength_at_zero_is_exactly_the_input(name: str) -> None:
    x = clip(4)
    y = R.apply_effect(name, x, {**required(R.EFFECTS[name]), **ZERO[name]}, seed=3)
    assert torch.equal(y, x) and y is not x


def _numeric() -> list[tuple[str, R.ParamSpec]]:
    return [(n, p) for n, s in R.EFFECTS.items() for p in s.params if p.kind in ("float", "int", "floats")]


def _bad_values(p: R.ParamSpec) -> list[object]:
    bad: list[object] = [float("nan"), float("inf"), "0.5", True, [0.5]] if p.kind != "floats" else \
        [float("nan"), "1, nan", "x", True, {"a": 1}]
    if p.max is not None:
        bad.append(p.max + 1.0)
    if p.min is not None:
        bad.append(p.min - 1.0)
    if p.above is not None:
        bad.append(p.above)
    if p.kind == "int":
        bad.append(0.5 + (p.default or 0))
    if p.length:
        bad.append(", ".join(["0.5"] * (p.length + 1)))
    return bad


@pytest.mark.parametrize(("name", "p"), _numeric(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_generated_validation_refuses_out_of_range_nan_and_wrong_types(name: str, p: R.ParamSpec) -> None:
    """Every numeric parameter of every effect: the declaration alone refuses bad values, before the effect runs, with
    one line naming effect.param (the effect functions hold no range checks of their own)."""
    ran: list[object] = []
    spec = R.EFFECTS[name]
    probe = R.EffectSpec(name, spec.group, lambda *a, **k: ran.append(1), spec.description, spec.params)
    for v in _bad_values(p):
        with pytest.raises(ValueError) as e:
            probe.run(clip(), {**required(spec), p.name: v})
        msg = str(e.value)
        assert msg.startswith(f"{name}.{p.name} ") and "\n" not in msg, (v, msg)
        assert isinstance(e.value, E.EffectError)
    assert ran == []
    ok = p.default if p.default is not None else (p.min if p.min is not None else 1.0)
    probe.run(clip(), {**required(spec), p.name: ok})
    assert ran == [1]


@pytest.mark.parametrize("name", list(R.EFFECTS))
def test_declared_range_ends_run(name: str) -> None:
    """The ends of every declared range are values the effect runs with (a declaration never promises more)."""
    spec = R.EFFECTS[name]
    for p in spec.params:
        if p.kind not in ("float", "int") or p.default is None or p.name in ("index", "at"):
            continue  # index/at are bounded by the clip length, checked by the effect
        for v in {p.min, p.max}:
            params = {**required(spec), p.name: int(v) if p.kind == "int" else float(v)}
            if name == "inception_fold" and p.name in ("start", "end"):
                params.update({"start": 0.0, "end": 1.0})
            assert R.apply_effect(name, clip(), params).shape[1:] == (H, W, 3)


def test_choices_bools_and_tensors_are_checked_by_the_declaration() -> None:
    x = clip()
    cases = [("lens_distortion", {"padding": "wrap"}, "lens_distortion.padding must be one of border, reflection"),
             ("quantum_glitch", {"trigger": "sometimes"}, "quantum_glitch.trigger must be one of"),
             ("boomerang", {"seamless": 1}, "boomerang.seamless must be true or false"),
             ("tenet_reverse", {"mask": torch.full((H, W), 1.5)}, "tenet_reverse.mask values must be in [0, 1]"),
             ("depth_of_field", {"depth": torch.zeros(H, W)}, "depth_of_field.depth values must be > 0"),
             ("apply_lut", {"lut": identity_lut(3) * float("nan")}, "apply_lut.lut contains NaN"),
             ("depth_of_field", {"depth": torch.ones(2, 2, 2, 2)}, "depth_of_field: depth must "),
             ("apply_lut", {"lut": torch.zeros(3, 3, 2, 3)}, "apply_lut: lut must "),
             ("freeze_frame", {"index": 7}, "freeze_frame: index must be in [-3, 2]")]
    for name, params, start in cases:
        with pytest.raises(E.EffectError) as e:
            R.apply_effect(name, x, {**required(R.EFFECTS[name]), **params})
        assert str(e.value).startswith(start), str(e.value)


def test_progress_advances_per_step_and_cancel_stops_inside() -> None:
    x = torch.rand(6, 480, 640, 3, generator=torch.Generator().manual_seed(0))  # 307k px a frame: 1 frame a chunk
    seen: list[tuple[int, int]] = []
    R.apply_effect("vignette", x, {}, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(k, 6) for k in range(1, 7)]
    seen.clear()
    R.apply_effect("deflicker", x[:, :64, :64], {}, progress=lambda d, t: seen.append((d, t)))
    assert [d for d, _ in seen] == list(range(1, 7)) and {t for _, t in seen} == {6}  # exposure pass + 5 flows
    calls: list[int] = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        R.apply_effect("motion_blur", x[:, :32, :32], {}, cancel=cancel)
    assert len(calls) == 3  # stopped on the third frame, not after the whole clip
    seen.clear()
    R.apply_look("hitchcock", x[:, :16, :16], progress=lambda d, t: seen.append((d, t)))
    assert seen == [(k, 4) for k in range(1, 5)]
    R.apply_effect("reverse", x, {}, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (1, 1)


def test_checked_entry_points_match_the_raw_functions() -> None:
    x = clip()
    assert torch.equal(E.vignette(x, strength=0.5), R.EFFECTS["vignette"].fn(x, strength=0.5, radius=0.75,
                                                                              softness=0.5))
    with pytest.raises(E.EffectError, match=r"^vignette.strength must be in \[0, 1\], got 2$"):
        E.vignette(x, strength=2.0)


@pytest.mark.parametrize(("name", "params"), [
    ("vignette", {"strenght": 0.3}), ("vignette", {"strength": "0.3"}), ("vignette", {"strength": 2.0}),
    ("vignette", {"strength": True}), ("vignette", {"strength": float("nan")}), ("grade", {"preset": "sepia"}),
    ("freeze_frame", {"duration": 1.5}), ("boomerang", {"seamless": 1}), ("speed_ramp", {"curve": 3}),
    ("tenet_reverse", {}), ("depth_of_field", {"depth": [1, 2]}), ("apply_lut", {"lut": 5}),
    ("halation", {"tint": "1, 2, 0"}), ("dolly_zoom", {"focal_ratio": "a, b"}), ("nope", {}),
    ("apply_lut", {"lut": "/etc/passwd"}), ("apply_lut", {"lut": "x.cube"}),
    ("grade", {"saturation": None, "strength": None}), ("speed_ramp", {"curve": "0:1:1"}),
])
def test_bad_params_raise_one_line_value_errors(name: str, params: dict) -> None:
    with pytest.raises(ValueError) as e:
        R.apply_effect(name, clip(), params)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError):
        R.apply_effect("vignette", clip(), {}, seed="1")  # type: ignore[arg-type]


def test_params_are_converted_and_optional_none_is_allowed() -> None:
    x = clip()
    a = R.apply_effect("grade", x, {"preset": "noir", "saturation": None, "contrast": 1})
    assert torch.equal(a[..., 0], a[..., 1])
    b = R.apply_effect("dolly_zoom", x, {"focal_ratio": "1.0, 1.2, 1.4"})
    assert torch.equal(b[0], x[0]) and not torch.equal(b[2], x[2])
    assert R.apply_effect("freeze_frame", x, {"duration": 2.0}).shape[0] == F + 2


@pytest.mark.parametrize("look", list(R.LOOKS))
def test_looks_run_deterministically(look: str) -> None:
    assert look in ("hitchcock", "michael_bay", "wes_anderson", "christopher_nolan")
    x = clip(4)
    y = R.apply_look(look, x, seed=2)
    assert y.shape == x.shape and torch.equal(y, R.apply_look(look, x, seed=2)) and not torch.equal(y, x)
    assert torch.equal(y[..., 3], x[..., 3])
    assert {e for e, _ in R.LOOKS[look]} & {"grade"}
    for eff, params in R.LOOKS[look]:
        R.validate(eff, params)
    with pytest.raises(ValueError):
        R.apply_look("kubrick", x)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(R.EFFECTS)), data=st.data())
def test_random_in_range_params_never_crash(name: str, data: st.DataObject) -> None:
    spec = R.EFFECTS[name]
    params = required(spec)
    for p in spec.params:
        if p.kind == "float" and p.default is not None and data.draw(st.booleans()):
            params[p.name] = data.draw(st.floats(p.min, p.max, allow_nan=False))
        elif p.kind == "int" and p.name not in ("index", "at") and data.draw(st.booleans()):
            params[p.name] = data.draw(st.integers(int(p.min), int(min(p.max, 64))))
        elif p.kind == "choice" and data.draw(st.booleans()):
            params[p.name] = data.draw(st.sampled_from(p.choices))
    if name == "inception_fold":
        params["start"], params["end"] = 0.0, 1.0
    x = torch.rand(2, 5, 7, 3, generator=torch.Generator().manual_seed(1))
    try:
        y = R.apply_effect(name, x, params, seed=data.draw(st.integers(0, 3)))
    except ValueError as e:  # only cross-parameter constraints may still refuse
        assert "\n" not in str(e)
        return
    assert bool(torch.isfinite(y).all())


def test_library_is_pure() -> None:
    forbidden = {"comfy", "folder_paths", "server", "nodes", "execution"}
    mine = ("__init__", "_core", "_flow", "time", "lens", "color", "frame", "stylised", "deflicker", "registry",
            "params", "params_text")
    for path in (Path(R.__file__).parent / f"{m}.py" for m in mine):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            for n in names:
                assert n.split(".")[0] not in forbidden, (path.name, n)
        assert len(path.read_text().splitlines()) < 400, path.name
