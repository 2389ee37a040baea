"""MS-TCN: shapes, padding-invariance of outputs and loss, gradients, the class and valence heads."""

import pytest
import torch
import torch.nn.functional as F

from sendflow.models.bigru import BiGRU
from sendflow.models.heads import split_outputs
from sendflow.models.losses import ccc_loss, mstcn_loss
from sendflow.models.mstcn import MSTCN
from sendflow.models.sstcn import single_stage_tcn

D, C = 6, 3


def tcn(task="multitask", **shape):
    """A small MS-TCN (the model has no defaults)."""
    return MSTCN(D, shape.pop("num_classes", C), task, **{"channels": 8, "dropout": 0.5, **shape})


def gru(task="multitask", hidden=4):
    return BiGRU(D, C, task, hidden=hidden, layers=1, dropout=0.5)


# The loss settings these tests hold fixed unless a test says otherwise (the library has no defaults).
LOSS = {"task": "multitask", "smooth_weight": 0.15, "tau": 4.0, "regression_loss": "ccc", "regression_weight": 1.0}


def loss_of(outputs, mask, classes=None, valence=None, **settings):
    return mstcn_loss(outputs, mask, classes, valence, **{**LOSS, **settings})


def pad_batch(xs, targets, fill):
    """Stack [D, T_i] clips into [B, D, T] with zero padding at the end, mask and targets."""
    T = max(x.shape[1] for x in xs)
    x = torch.zeros(len(xs), D, T)
    mask = torch.zeros(len(xs), 1, T)
    y = torch.full((len(xs), T), fill, dtype=targets[0].dtype)
    for i, (xi, ti) in enumerate(zip(xs, targets)):
        x[i, :, : xi.shape[1]], mask[i, :, : xi.shape[1]], y[i, : len(ti)] = xi, 1, ti
    return x, mask, y


@pytest.fixture
def clips():
    g = torch.Generator().manual_seed(0)
    xs = [torch.randn(D, 13, generator=g), torch.randn(D, 30, generator=g)]
    ys = [torch.randint(0, C, (13,), generator=g), torch.randint(0, C, (30,), generator=g)]
    ys[1][4] = -1  # an unrated step
    return xs, ys


def test_shapes():
    torch.manual_seed(0)
    model = tcn("multitask", stages=3, layers=4)
    assert model(torch.randn(2, D, 17), torch.ones(2, 1, 17)).shape == (3, 2, C + 1, 17)
    assert single_stage_tcn(D, C, "multitask", layers=3, channels=8, dropout=0.5)(torch.randn(2, D, 5)).shape == (
        1,
        2,
        C + 1,
        5,
    )
    assert gru()(torch.randn(2, D, 5)).shape == (1, 2, C + 1, 5)
    for task, k in (("classification", C), ("regression", 1)):
        assert tcn(task, stages=2, layers=3)(torch.randn(2, D, 5)).shape == (2, 2, k, 5)
        assert gru(task)(torch.randn(2, D, 5)).shape == (1, 2, k, 5)
    logits, valence = split_outputs(torch.arange(2 * (C + 1) * 5.0).view(2, C + 1, 5), "multitask")
    assert logits.shape == (2, C, 5) and torch.equal(valence, torch.arange(2 * (C + 1) * 5.0).view(2, C + 1, 5)[:, C])


@pytest.mark.parametrize("make", [lambda: tcn("multitask", stages=3, layers=6), lambda: gru(hidden=5)])
def test_padding_changes_no_real_output(clips, make):
    torch.manual_seed(0)
    model = make().eval()
    xs, ys = clips
    x, mask, _ = pad_batch(xs, ys, -1)
    x[0, :, 13:] = 7.0  # garbage in the padding must not matter either
    with torch.no_grad():
        together = model(x, mask)
        for i, xi in enumerate(xs):
            alone = model(xi[None], torch.ones(1, 1, xi.shape[1]))
            n = xi.shape[1]
            assert torch.allclose(together[:, i, :, :n], alone[:, 0], atol=1e-5)
            assert torch.all(together[:, i, :, n:] == 0)


def test_loss_of_a_batch_is_the_valid_step_weighted_mix(clips):
    torch.manual_seed(0)
    model = tcn("classification", stages=2, layers=6).eval()

    def loss(out, y, m, **kw):
        return loss_of(out, m, classes=y, task="classification", **kw)

    xs, ys = clips
    x, mask, y = pad_batch(xs, ys, -1)
    with torch.no_grad():
        out = model(x, mask)
        alone = [model(xi[None], torch.ones(1, 1, xi.shape[1])) for xi in xs]
        ones = [torch.ones(1, 1, xi.shape[1]) for xi in xs]
        # Cross-entropy alone: batch mean over valid steps = (n1 L1 + n2 L2) / (n1 + n2).
        ce = [loss(a, yi[None], m, smooth_weight=0) for a, yi, m in zip(alone, ys, ones)]
        n = [int((yi >= 0).sum()) for yi in ys]  # 13 and 29
        assert torch.allclose(loss(out, y, mask, smooth_weight=0), (n[0] * ce[0] + n[1] * ce[1]) / sum(n), atol=1e-6)
        # Smoothing alone (CE removed by ignoring every label): weights = valid pairs 12, 29.
        sm = [loss(a, torch.full_like(yi[None], -1), m) for a, yi, m in zip(alone, ys, ones)]
        assert torch.allclose(loss(out, torch.full_like(y, -1), mask), (12 * sm[0] + 29 * sm[1]) / 41, atol=1e-6)


def test_padding_does_not_dilute_the_loss(clips):
    torch.manual_seed(0)
    model = tcn("classification", stages=2, layers=6).eval()

    def loss(out, y, m):
        return loss_of(out, m, classes=y, task="classification")

    xs, ys = clips
    x, y = xs[0][None], ys[0][None]
    padded_x = F.pad(x, (0, 40))
    padded_mask = F.pad(torch.ones(1, 1, 13), (0, 40))
    padded_y = F.pad(y, (0, 40), value=-1)
    with torch.no_grad():
        alone = loss(model(x, torch.ones(1, 1, 13)), y, torch.ones(1, 1, 13))
        padded = loss(model(padded_x, padded_mask), padded_y, padded_mask)
        smooth_alone = loss(model(x), torch.full_like(y, -1), torch.ones(1, 1, 13))
        smooth_padded = loss(model(padded_x, padded_mask), torch.full_like(padded_y, -1), padded_mask)
    assert smooth_alone > 0
    assert torch.allclose(alone, padded, atol=1e-6)
    assert torch.allclose(smooth_alone, smooth_padded, atol=1e-6)


def test_smoothing_matches_the_reference_on_one_clip():
    # Reference: 0.15 * mean(clamp((logp[1:] - logp.detach()[:-1])^2, 0, 16)) with CE over all steps.
    torch.manual_seed(0)
    p = torch.randn(1, 1, C, 9) * 5
    y = torch.randint(0, C, (1, 9))
    lp = F.log_softmax(p[0], dim=1)
    expected = F.cross_entropy(p[0], y) + 0.15 * torch.clamp((lp[:, :, 1:] - lp[:, :, :-1]) ** 2, 0, 16).mean()
    assert torch.allclose(loss_of(p, torch.ones(1, 1, 9), classes=y, task="classification"), expected)


def test_gradients_flow_to_every_stage(clips):
    torch.manual_seed(0)
    model = tcn("multitask", stages=3, layers=3)
    x, mask, y = pad_batch(*clips, -1)
    valence = torch.where(y >= 0, y.float() - 1, torch.nan)
    loss_of(model(x, mask), mask, classes=y, valence=valence).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
    assert all(s.conv_in.weight.grad.abs().sum() > 0 for s in model.stages)


@pytest.mark.parametrize("kind", ["mse", "ccc"])
def test_regression_variant(clips, kind):
    torch.manual_seed(0)
    model = tcn("regression", num_classes=1, stages=2, layers=4)
    xs, _ = clips
    vals = [torch.linspace(-1, 1, xi.shape[1]) for xi in xs]
    vals[1][3] = float("nan")
    x, mask, y = pad_batch(xs, vals, float("nan"))
    out = model(x, mask)
    assert out.shape == (2, 2, 1, 30)
    loss = loss_of(out, mask, valence=y, task="regression", regression_loss=kind)
    assert torch.isfinite(loss) and loss > 0
    loss.backward()
    if kind == "mse":  # masked MSE of a perfect prediction is 0, whatever the padding holds
        perfect = torch.nan_to_num(y)[None, :, None].repeat(2, 1, 1, 1)
        assert loss_of(perfect, mask, valence=y, task="regression", regression_loss="mse") == 0
    else:  # 1 - CCC of a perfect prediction is 0 in each sequence
        perfect = torch.nan_to_num(y)[None, :, None]
        assert loss_of(perfect, mask, valence=y, task="regression", regression_loss="ccc").abs() < 1e-6


def _reference_ccc(p, t):
    mp, mt = p.mean(), t.mean()
    return 2 * ((p - mp) * (t - mt)).mean() / (p.var(unbiased=False) + t.var(unbiased=False) + (mp - mt) ** 2)


def test_multitask_loss_is_the_sum_of_its_terms_on_hand_made_tensors():
    """Two stages, two clips (5 and 3 real steps, padded to 5), classes and valence each with an
    unrated step: every term computed by hand, padding (filled with garbage) never counts."""
    g = torch.Generator().manual_seed(1)
    out = torch.randn(2, 2, C + 1, 5, generator=g)
    mask = torch.tensor([[[1, 1, 1, 1, 1]], [[1, 1, 1, 0, 0]]], dtype=torch.float32)
    classes = torch.tensor([[0, 1, 2, -1, 1], [2, 2, 0, 1, 1]])  # clip 2's padding holds labels
    valence = torch.tensor([[-0.5, 0.1, 0.6, 0.2, float("nan")], [0.3, 0.4, -0.2, 9.0, 9.0]])
    weight, lam, tau = 0.7, 0.15, 4.0
    expected = 0.0
    for s in range(2):
        logits, v = out[s, :, :C], out[s, :, C]
        # cross-entropy over the 4 + 3 real, rated steps
        steps = [(0, 0), (0, 1), (0, 2), (0, 4), (1, 0), (1, 1), (1, 2)]
        ce = torch.stack([F.cross_entropy(logits[b, :, t][None], classes[b, t][None]) for b, t in steps]).mean()
        # smoothing over the 4 + 2 pairs of real neighbours, averaged over classes too
        lp = F.log_softmax(logits, dim=1)
        pairs = [(0, t) for t in range(1, 5)] + [(1, t) for t in range(1, 3)]
        sm = torch.stack([torch.clamp((lp[b, :, t] - lp[b, :, t - 1]) ** 2, max=tau**2) for b, t in pairs]).mean()
        # 1 - CCC per clip over its rated real steps, then the mean over clips
        ccc = (_reference_ccc(v[0, :4], valence[0, :4]) + _reference_ccc(v[1, :3], valence[1, :3])) / 2
        expected = expected + ce + lam * sm + weight * (1 - ccc)
    got = loss_of(out, mask, classes, valence, smooth_weight=lam, tau=tau, regression_weight=weight)
    assert torch.allclose(got, expected, atol=1e-5)
    # each term on its own: the class head alone, the valence head alone (MSE too)
    no_classes = torch.full_like(classes, -1)
    only_valence = loss_of(out, mask, no_classes, valence, smooth_weight=0.0, tau=tau, regression_weight=weight)
    assert torch.allclose(
        only_valence,
        sum(
            weight
            * (
                1
                - (_reference_ccc(out[s, 0, C, :4], valence[0, :4]) + _reference_ccc(out[s, 1, C, :3], valence[1, :3]))
                / 2
            )
            for s in range(2)
        ),
        atol=1e-5,
    )
    mse = loss_of(out, mask, no_classes, valence, smooth_weight=0.0, tau=tau, regression_loss="mse")
    rated = [(0, t) for t in range(4)] + [(1, t) for t in range(3)]
    assert torch.allclose(
        mse,
        sum(torch.stack([(out[s, b, C, t] - valence[b, t]) ** 2 for b, t in rated]).mean() for s in range(2)),
        atol=1e-5,
    )


def test_multitask_refinement_sees_probabilities_and_valence():
    """Stage 2 reads stage 1's class probabilities (softmax of its logits) and its raw valence:
    its output is what it gives for that input built by hand; a constant added to every logit
    (same probabilities) changes nothing; a change of stage 1's valence alone changes it."""
    torch.manual_seed(0)
    model = tcn("multitask", stages=2, layers=2).eval()
    assert model.stages[1].conv_in.in_channels == C + 1
    x, ones = torch.randn(1, D, 9), torch.ones(1, 1, 9)
    with torch.no_grad():
        out = model(x)
        first = model.stages[0](x, ones)
        by_hand = torch.cat([F.softmax(first[:, :C], dim=1), first[:, C:]], dim=1)
        assert torch.allclose(out[1], model.stages[1](by_hand, ones), atol=1e-6)
        bias = model.stages[0].conv_out.bias
        bias[:C] += 3.0  # every logit up by 3: the same probabilities
        assert torch.allclose(model(x)[1], out[1], atol=1e-5)
        bias[C] += 0.5  # stage 1's valence up by 0.5, its probabilities unchanged
        moved = model(x)
    assert torch.allclose(moved[0, :, C], out[0, :, C] + 0.5, atol=1e-5)
    assert (moved[1] - out[1]).abs().max() > 1e-3
    logits, valence = split_outputs(out, "multitask")
    assert logits.shape == (2, 1, C, 9) and valence.shape == (2, 1, 9)


def test_ccc_loss_skips_sequences_too_short_to_score():
    pred = torch.tensor([[0.1, 0.5, 0.2], [0.3, 0.0, 0.0]])
    target = torch.tensor([[0.0, 1.0, 0.5], [0.2, 0.0, 0.0]])
    valid = torch.tensor([[True, True, True], [True, False, False]])
    assert torch.allclose(ccc_loss(pred, target, valid), 1 - _reference_ccc(pred[0], target[0]))
