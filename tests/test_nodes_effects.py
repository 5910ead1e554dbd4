"""Effect nodes through the real ComfyUI server: one node per effect with typed widgets from the registry, checked in
``validate_inputs`` (HTTP 400 before anything runs), the grade and the looks, and LUTs only by name from models/luts."""

from __future__ import annotations

import io as _io
import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from draw_to_video.cli.client import ComfyError, output_items
from draw_to_video.effects.registry import EFFECTS, LOOKS

from graphs import CLEAR_ERRORS, error_type, link

_seed = itertools.count(1)
TENSOR = ("mask", "depth", "image", "flow", "lut")
#: Effects that run from widgets alone (no mask, depth or LUT needed).
PLAIN = [n for n, s in EFFECTS.items() if n != "grade" and not any(p.required for p in s.params)]
SECRET = "TOPSECRET-c0ffee-1234"


def node_id(effect: str) -> str:
    return f"DTV_Effect_{effect}"


def widgets(effect: str) -> dict:
    """Every widget of an effect node at its declared default (what the frontend would send)."""
    out: dict = {}
    for p in EFFECTS[effect].params:
        if p.kind in TENSOR:
            continue
        out[p.name] = ", ".join(f"{v:g}" for v in p.default) if p.kind == "floats" and p.length else p.default
    if EFFECTS[effect].seeded:
        out["seed"] = next(_seed)
    return out


@pytest.fixture(scope="module")
def clip_image(comfy_server) -> str:
    import skimage.data

    img = Image.fromarray(skimage.data.chelsea()).resize((48, 32))
    buf = _io.BytesIO()
    img.save(buf, format="PNG")
    return comfy_server.client().upload_image("chelsea_48x32.png", buf.getvalue())


def _clip_nodes(image: str, frames: int = 4) -> dict:
    return {"1": {"class_type": "LoadImage", "inputs": {"image": image}},
            "2": {"class_type": "RepeatImageBatch", "inputs": {"image": link("1"), "amount": frames}}}


def _frames(client, out, node) -> list[np.ndarray]:
    return [np.asarray(Image.open(_io.BytesIO(client.view(i)))) for i in output_items({node: out[node]})]


def _refusal(client, nodes: dict) -> str:
    """The node_errors details of a graph that /prompt must refuse with HTTP 400."""
    with pytest.raises(ComfyError) as err:
        client.queue(nodes)
    assert err.value.status == 400, str(err.value)
    errors = err.value.details["node_errors"]
    return " | ".join(e["details"] for ne in errors.values() for e in ne["errors"])


def test_one_node_per_effect_with_typed_widgets(comfy):
    info = comfy.client().get_json("/object_info")
    for name, spec in EFFECTS.items():
        if name == "grade":
            assert "DTV_ColorGrade" in info
            continue
        n = info[node_id(name)]
        assert n["display_name"] == f"Draw to Video: {name.replace('_', ' ')}"
        assert n["category"] == f"draw-to-video/effects/{spec.group}"
        req = {**n["input"]["required"], **n["input"].get("optional", {})}
        assert "params" not in req and "effect" not in req
        for p in spec.params:
            if p.kind == "float":
                assert req[p.name][0] == "FLOAT" and (req[p.name][1]["min"], req[p.name][1]["max"]) == (p.min, p.max)
                assert req[p.name][1]["default"] == p.default and req[p.name][1]["tooltip"]
            elif p.kind == "int":
                assert req[p.name][0] == "INT" and req[p.name][1]["max"] == p.max
            elif p.kind == "bool":
                assert req[p.name][0] == "BOOLEAN"
            elif p.kind == "choice":
                assert req[p.name][0] == "COMBO" and req[p.name][1]["options"] == list(p.choices)
        assert ("seed" in req) == spec.seeded
    assert info[node_id("tenet_reverse")]["input"]["required"]["mask"][0] == "MASK"
    assert info[node_id("depth_of_field")]["input"]["required"]["depth"][0] == "DTV_DEPTH"
    assert info[node_id("whip_pan")]["input"]["optional"]["clip_b"][0] == "IMAGE"


def test_every_plain_effect_node_runs_with_its_defaults(comfy, clip_image):
    client = comfy.client()
    nodes = _clip_nodes(clip_image)
    for i, name in enumerate(PLAIN):
        nodes[f"e{i}"] = {"class_type": node_id(name), "inputs": {"images": link("2"), **widgets(name)}}
        nodes[f"s{i}"] = {"class_type": "SaveImage", "inputs": {"images": link(f"e{i}"), "filename_prefix": f"fx/{name}"}}
    out = client.run(nodes, timeout=600).outputs
    for i, name in enumerate(PLAIN):
        frames = _frames(client, out, f"s{i}")
        assert frames and frames[0].shape[:2] == (32, 48), name


def test_strength_zero_grade_is_identity_and_look_changes_pixels(comfy, clip_image):
    client = comfy.client()
    nodes = _clip_nodes(clip_image, 2)
    nodes["3"] = {"class_type": "DTV_ColorGrade", "inputs": {"images": link("2"), "preset": "noir", "strength": 0.0,
                                                             "temperature": 0.0, "tint": 0.0, "saturation": 0.0,
                                                             "contrast": 0.0, "highlights": 0.0, "shadows": 0.0}}
    nodes["4"] = {"class_type": "DTV_ColorGrade", "inputs": {**nodes["3"]["inputs"], "strength": 1.0}}
    nodes["5"] = {"class_type": "DTV_CinematicLook", "inputs": {"images": link("2"), "look": "christopher_nolan",
                                                                "seed": next(_seed)}}
    for n in ("2", "3", "4", "5"):
        nodes[f"s{n}"] = {"class_type": "SaveImage", "inputs": {"images": link(n), "filename_prefix": f"g/{n}"}}
    out = client.run(nodes, timeout=300).outputs
    src, same, noir, look = (_frames(client, out, f"s{n}")[0].astype(int) for n in ("2", "3", "4", "5"))
    assert np.array_equal(src, same)
    assert np.abs(noir[..., 0] - noir[..., 1]).max() <= 1 and np.abs(noir[..., 1] - noir[..., 2]).max() <= 1
    assert np.abs(look - src).mean() > 1
    assert set(LOOKS) >= {"hitchcock", "michael_bay", "wes_anderson", "christopher_nolan"}


GRADE = {"preset": "noir", "strength": 1.0, "temperature": 0.0, "tint": 0.0, "saturation": 0.0, "contrast": 0.0,
         "highlights": 0.0, "shadows": 0.0}


@pytest.mark.parametrize(("cls", "inputs", "expect"), [
    ("DTV_Effect_vignette", {**widgets("vignette"), "strength": 2.0}, "vignette.strength must be in [0, 1], got 2"),
    ("DTV_Effect_vignette", {**widgets("vignette"), "radius": float("nan")}, "vignette.radius must be finite"),
    ("DTV_Effect_lens_distortion", {**widgets("lens_distortion"), "padding": "wrap"},
     "lens_distortion.padding: 'wrap' is not one of: border, reflection, zeros"),
    ("DTV_Effect_halation", {**widgets("halation"), "tint": "1, 2"}, "halation.tint must be 3 numbers, got 2"),
    ("DTV_Effect_film_grain", {**widgets("film_grain"), "seed": -4}, "seed must be an integer in [0, 2147483647]"),
    ("DTV_Effect_freeze_frame", {**widgets("freeze_frame"), "duration": 10**6}, "freeze_frame.duration must be in"),
    ("DTV_ColorGrade", {**GRADE, "preset": "sepia"}, "preset: 'sepia' is not one of: natural, cinematic"),
    ("DTV_ColorGrade", {**GRADE, "contrast": float("inf")}, "grade.contrast must be finite"),
    ("DTV_CinematicLook", {"look": "kubrick", "seed": 0}, "look: 'kubrick' is not one of: hitchcock, michael_bay"),
    ("DTV_Effect_apply_lut", {"lut": "nope.cube", "strength": 1.0}, "apply_lut.lut (a file in models/luts): 'nope"),
])
def test_bad_widget_values_are_refused_before_anything_runs(comfy, clip_image, cls, inputs, expect):
    nodes = _clip_nodes(clip_image, 2)
    nodes["3"] = {"class_type": cls, "inputs": {"images": link("2"), **inputs}}
    nodes["4"] = {"class_type": "PreviewAny", "inputs": {"source": link("3")}}
    details = _refusal(comfy.client(), nodes)
    assert expect in details and "\n" not in details, details


def _value(p, draw):
    """In range, out of range, non-finite or the wrong type: for the property test."""
    kind = draw(st.sampled_from(["default", "in", "in", "out", "nan", "type"]))
    if kind == "default" or p.kind in ("str",) and kind != "type":
        return widgets_default(p)
    if p.kind in ("float", "int", "floats") and p.length is None:
        lo = p.min if p.min is not None else (p.above or 0.0) + 1e-3
        hi = min(p.max, lo + 1000.0)
        if kind == "in":
            v = draw(st.floats(lo, hi))
            return int(v) if p.kind == "int" else v
        if kind == "out":
            return p.max + draw(st.floats(0.5, 100.0)) if draw(st.booleans()) else lo - draw(st.floats(0.5, 100.0))
        if kind == "nan":
            return draw(st.sampled_from([float("nan"), float("inf"), -float("inf")])) if p.kind != "int" else 1.5
        return draw(st.sampled_from(["abc", "", True]))
    if p.kind == "choice":
        return draw(st.sampled_from(list(p.choices))) if kind in ("in", "default") else draw(st.sampled_from(
            ["", "nope", "BORDER", 3]))
    if p.kind == "bool":
        return draw(st.booleans())
    return draw(st.sampled_from(["", "0.5", "1, 2, 3", "nan, 1", "0.2, 0.4, 0.6", "x", "1,1"]))


def widgets_default(p):
    return ", ".join(f"{v:g}" for v in p.default) if p.kind == "floats" and p.length else p.default


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(effect=st.sampled_from(PLAIN), frames=st.integers(1, 3), data=st.data())
def test_effect_nodes_property(comfy, clip_image, effect, frames, data):
    """Any effect node with arbitrary widget values: a clip, a 400 naming the bad input before anything runs, or a
    clear one-line error; the server stays up."""
    inputs = {"images": link("2")}
    for p in EFFECTS[effect].params:
        if p.kind not in TENSOR:
            inputs[p.name] = _value(p, data.draw)
    if EFFECTS[effect].seeded:
        inputs["seed"] = data.draw(st.integers(0, 2**31 - 1))
    nodes = _clip_nodes(clip_image, frames)
    nodes["3"] = {"class_type": node_id(effect), "inputs": inputs}
    nodes["4"] = {"class_type": "PreviewAny", "inputs": {"source": link("3")}}
    client = comfy.client()
    try:
        client.run(nodes, timeout=120)
    except ComfyError as exc:
        if exc.status == 400:
            details = json.dumps(exc.details["node_errors"])
            assert "\\n" not in details and ("3" in exc.details["node_errors"]), details
        else:
            assert "\n" not in str(exc) and error_type(exc.details) in CLEAR_ERRORS, (str(exc), error_type(exc.details))
    else:
        bad = [k for k, v in inputs.items() if isinstance(v, float) and not math.isfinite(v)]
        assert not bad, f"non-finite {bad} was accepted"
    assert client.get_json("/system_stats")


def _write_cube(path, n: int = 5) -> None:
    grid = np.linspace(0, 1, n)
    rows = [f"{r:.6f} {g:.6f} {b:.6f}" for b in grid for g in grid for r in grid]  # red varies fastest
    path.write_text(f"LUT_3D_SIZE {n}\n" + "\n".join(rows) + "\n")


def test_effects_with_tensor_inputs(comfy, clip_image):
    """tenet_reverse with a MASK, depth_of_field with depth + a trajectory's focus, apply_lut with a LUT by name."""
    lut_dir = comfy.base / "models" / "luts"
    lut_dir.mkdir(parents=True, exist_ok=True)
    _write_cube(lut_dir / "identity5.cube")
    client = comfy.client()
    nodes = _clip_nodes(clip_image, 3)
    nodes.update({
        "m": {"class_type": "SolidMask", "inputs": {"value": 1.0, "width": 48, "height": 32}},
        "d": {"class_type": "DTV_FallbackDepth", "inputs": {"image": link("1"), "horizon": 0.4, "subject_size": 0.2}},
        "t": {"class_type": "DTV_CameraTrajectory", "inputs": {"preset": "rack_focus", "frames": 3, "fps": 24.0,
                                                               "width": 48, "height": 32, "strength": 1.0,
                                                               "easing": "linear", "fov_deg": 50.0, "shake": 0.0,
                                                               "seed": next(_seed)}},
        "e1": {"class_type": node_id("tenet_reverse"), "inputs": {"images": link("2"), "mask": link("m"),
                                                                  **widgets("tenet_reverse")}},
        "e2": {"class_type": node_id("depth_of_field"), "inputs": {"images": link("2"), "depth": link("d"),
                                                                   "trajectory": link("t"),
                                                                   **widgets("depth_of_field"), "max_blur": 6.0}},
        "e3": {"class_type": node_id("apply_lut"), "inputs": {"images": link("2"), "lut": "identity5.cube",
                                                              "strength": 1.0}},
    })
    for e in ("2", "e1", "e2", "e3"):
        nodes[f"s{e}"] = {"class_type": "SaveImage", "inputs": {"images": link(e), "filename_prefix": f"t/{e}"}}
    out = client.run(nodes, timeout=300).outputs
    src = _frames(client, out, "s2")[0].astype(int)
    assert len(_frames(client, out, "se1")) == 3
    assert np.abs(_frames(client, out, "se3")[0].astype(int) - src).max() <= 1  # identity LUT
    dof = _frames(client, out, "se2")[0].astype(int)
    assert dof.shape == src.shape and np.abs(dof - src).mean() > 0.5  # out-of-focus areas were blurred


def test_no_effect_input_reads_a_file_outside_the_lut_folder(comfy, clip_image, tmp_path_factory):
    """A secret planted outside ComfyUI's folders cannot be read through any effect node input, and its content never
    shows in an answer: LUT names that point outside are refused at /prompt, string inputs never open files, and a
    LUT parse error in the LUT folder gives the line, not the content."""
    outside = tmp_path_factory.mktemp("outside")
    secret = outside / "secret.cube"
    secret.write_text(f'TITLE "{SECRET}"\nLUT_3D_SIZE 2\n{SECRET} 0 0\n')
    client = comfy.client()
    lut_dir = comfy.base / "models" / "luts"
    lut_dir.mkdir(parents=True, exist_ok=True)
    rel = "../" * 12 + str(secret).lstrip("/")
    for name in (str(secret), rel, "../../" + secret.name, f"..\\..\\{secret.name}", f"./{rel}", "luts/" + rel):
        nodes = _clip_nodes(clip_image, 1)
        nodes["3"] = {"class_type": node_id("apply_lut"), "inputs": {"images": link("2"), "lut": name,
                                                                     "strength": 1.0}}
        nodes["4"] = {"class_type": "PreviewAny", "inputs": {"source": link("3")}}
        details = _refusal(client, nodes)
        assert "is not one of" in details and SECRET not in details, details
    answers = []
    for effect in [n for n in EFFECTS if n != "grade"]:
        strings = [p.name for p in EFFECTS[effect].params if p.kind in ("str", "floats") and p.length is not None
                   or p.kind == "str"]
        for pname in strings:
            nodes = _clip_nodes(clip_image, 1)
            nodes["3"] = {"class_type": node_id(effect), "inputs": {"images": link("2"), **widgets(effect),
                                                                    pname: str(secret)}}
            nodes["4"] = {"class_type": "PreviewAny", "inputs": {"source": link("3")}}
            try:
                client.run(nodes, timeout=120)
                answers.append("ran")
            except ComfyError as exc:
                answers.append(str(exc) + json.dumps(exc.details))
    assert len(answers) >= 5 and not [a for a in answers if SECRET in a]
    (lut_dir / "leaky.cube").write_text(f"LUT_3D_SIZE 2\n0 0 0\n{SECRET} 1 0\n")
    nodes = _clip_nodes(clip_image, 1)
    nodes["3"] = {"class_type": node_id("apply_lut"), "inputs": {"images": link("2"), "lut": "leaky.cube",
                                                                 "strength": 1.0}}
    nodes["4"] = {"class_type": "PreviewAny", "inputs": {"source": link("3")}}
    with pytest.raises(ComfyError) as err:
        client.run(nodes, timeout=120)
    text = str(err.value) + json.dumps(err.value.details)
    assert "line 3" in text and SECRET not in text, text
    assert "\n" not in str(err.value)
