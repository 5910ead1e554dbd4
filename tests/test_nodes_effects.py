"""Effect nodes through the real ComfyUI server: every group node, the grade and the looks."""

from __future__ import annotations

import io as _io
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from draw_to_video.cli.client import ComfyError, output_items
from draw_to_video.effects.registry import EFFECTS, LOOKS

from graphs import CLEAR_ERRORS, error_type, link

_seed = itertools.count(1)
GROUP_NODES = {"time": "DTV_EffectTime", "lens": "DTV_EffectLens", "color": "DTV_EffectColor",
               "frame": "DTV_EffectFrame", "stylised": "DTV_EffectStylised", "deflicker": "DTV_EffectDeflicker"}


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


def _group_inputs(effect: str, params: str, seed: int) -> dict:
    return {"images": link("2"), "effect": effect, "params": params, "seed": seed}


@pytest.mark.parametrize("group", sorted(GROUP_NODES))
def test_every_group_node_runs_each_default_effect(comfy, clip_image, group):
    """Each effect of the group with its default parameters (tensor-only ones skipped: they need inputs)."""
    client = comfy.client()
    nodes = _clip_nodes(clip_image)
    names = [n for n, s in EFFECTS.items() if s.group == group and not any(p.required for p in s.params)]
    for i, name in enumerate(names):
        nodes[f"e{i}"] = {"class_type": GROUP_NODES[group], "inputs": _group_inputs(name, "", next(_seed))}
        nodes[f"s{i}"] = {"class_type": "SaveImage", "inputs": {"images": link(f"e{i}"),
                                                                "filename_prefix": f"fx/{name}"}}
    out = client.run(nodes, timeout=600).outputs
    for i, name in enumerate(names):
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


def test_bad_params_give_one_line_errors(comfy, clip_image):
    nodes = _clip_nodes(clip_image, 2)
    nodes["3"] = {"class_type": "DTV_EffectLens", "inputs": _group_inputs("vignette", "strength=banana", 1)}
    nodes["4"] = {"class_type": "SaveImage", "inputs": {"images": link("3"), "filename_prefix": "bad"}}
    with pytest.raises(ComfyError) as err:
        comfy.client().run(nodes, timeout=120)
    assert "vignette.strength must be a number" in str(err.value) and "\n" not in str(err.value)


_param_line = st.tuples(st.sampled_from(["strength", "radius", "k1", "aspect", "preset", "curve", "index", "at",
                                         "angle", "shutter_angle", "sigma", "bogus", ""]),
                        st.one_of(st.floats(-5, 500).map(lambda v: f"{v:.3g}"), st.sampled_from(
                            ["true", "noir", "ramp_up", "0:1, 1:0.5", "nan", "", "1,2", "x"])))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(effect=st.sampled_from([n for n, s in EFFECTS.items() if not any(p.required for p in s.params)]),
       lines=st.lists(_param_line, max_size=3), frames=st.integers(1, 3))
def test_effect_nodes_property(comfy, clip_image, effect, lines, frames):
    """Any effect with arbitrary parameter text: a clip of sane size, or a clear one-line error; the server stays up."""
    params = "\n".join(f"{k}={v}" for k, v in lines)
    group = EFFECTS[effect].group
    nodes = _clip_nodes(clip_image, frames)
    nodes["3"] = {"class_type": GROUP_NODES[group], "inputs": _group_inputs(effect, params, next(_seed))}
    nodes["4"] = {"class_type": "PreviewAny", "inputs": {"source": link("3")}}
    client = comfy.client()
    try:
        client.run(nodes, timeout=120)
    except ComfyError as exc:
        assert "\n" not in str(exc) and error_type(exc.details) in CLEAR_ERRORS, (str(exc), error_type(exc.details))
    assert client.get_json("/system_stats")


def test_effects_with_tensor_inputs(comfy, clip_image):
    """tenet_reverse with a MASK, depth_of_field with depth + a trajectory's focus, apply_lut with a .cube file."""
    lut_dir = comfy.base / "models" / "luts"
    lut_dir.mkdir(parents=True, exist_ok=True)
    n = 5
    grid = np.linspace(0, 1, n)
    rows = [f"{r:.6f} {g:.6f} {b:.6f}" for b in grid for g in grid for r in grid]  # red varies fastest
    (lut_dir / "identity5.cube").write_text(f"LUT_3D_SIZE {n}\n" + "\n".join(rows) + "\n")
    client = comfy.client()
    nodes = _clip_nodes(clip_image, 3)
    nodes.update({
        "m": {"class_type": "SolidMask", "inputs": {"value": 1.0, "width": 48, "height": 32}},
        "d": {"class_type": "DTV_FallbackDepth", "inputs": {"image": link("1"), "horizon": 0.4, "subject_size": 0.2}},
        "t": {"class_type": "DTV_CameraTrajectory", "inputs": {"preset": "rack_focus", "frames": 3, "fps": 24.0,
                                                               "width": 48, "height": 32, "strength": 1.0,
                                                               "easing": "linear", "fov_deg": 50.0, "shake": 0.0,
                                                               "seed": next(_seed)}},
        "e1": {"class_type": "DTV_EffectTime", "inputs": {**_group_inputs("tenet_reverse", "", 1), "mask": link("m")}},
        "e2": {"class_type": "DTV_EffectLens", "inputs": {**_group_inputs("depth_of_field", "max_blur=6", 1),
                                                          "depth": link("d"), "trajectory": link("t")}},
        "e3": {"class_type": "DTV_EffectColor", "inputs": {**_group_inputs("apply_lut", "", 1),
                                                           "lut": "identity5.cube"}},
    })
    for e in ("2", "e1", "e2", "e3"):
        nodes[f"s{e}"] = {"class_type": "SaveImage", "inputs": {"images": link(e), "filename_prefix": f"t/{e}"}}
    out = client.run(nodes, timeout=300).outputs
    src = _frames(client, out, "s2")[0].astype(int)
    assert len(_frames(client, out, "se1")) == 3
    assert np.abs(_frames(client, out, "se3")[0].astype(int) - src).max() <= 1  # identity LUT
    dof = _frames(client, out, "se2")[0].astype(int)
    assert dof.shape == src.shape and np.abs(dof - src).mean() > 0.5  # out-of-focus areas were blurred
