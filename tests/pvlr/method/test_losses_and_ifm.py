"""Eq. 11 and Eq. 6 against float64 evaluations written here; α of Eq. 7 stays in [0, 1]."""

import math
from dataclasses import replace

import pytest
import torch

from pvlr_kedro.pvlr.method.ifm import RelationAggregation, kcr_loss
from pvlr_kedro.pvlr.method.losses import LossConfig, asymmetric_loss, total_loss

PAPER = LossConfig()  # γ+ = 0, γ− = 2, ASL's clip 0.05


def eq11_by_hand(logits, targets, config: LossConfig, ignore=None):
    """−(1/C) Σ_j [...] per image, then the mean over images; ignored entries left out of both."""
    total, kept = 0.0, 0
    for row, (z_row, y_row) in enumerate(zip(logits.tolist(), targets.tolist())):
        for col, (z, y) in enumerate(zip(z_row, y_row)):
            if ignore is not None and ignore[row][col]:
                continue
            p = 1 / (1 + math.exp(-z))
            if y == 1:
                term = (1 - p) ** config.gamma_pos * math.log(max(p, config.eps))
            else:
                p_m = max(p - config.clip, 0.0)
                term = p_m**config.gamma_neg * math.log(max(1 - p_m, config.eps))
            total, kept = total - term, kept + 1
    return total / kept


@pytest.mark.parametrize(
    "config", [PAPER, replace(PAPER, clip=0.0), replace(PAPER, gamma_pos=1.0, gamma_neg=4.0)]
)
def test_asymmetric_loss_equals_eq11(config):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 7, generator=generator, dtype=torch.float64) * 4
    targets = (torch.rand(6, 7, generator=generator) < 0.3).long()
    ours = asymmetric_loss(logits, targets, config)
    assert ours.item() == pytest.approx(eq11_by_hand(logits, targets, config), rel=1e-12)


def test_ignored_entries_are_left_out_of_the_mean():
    logits = torch.tensor([[3.0, -2.0, 0.5], [-1.0, 4.0, 0.0]], dtype=torch.float64)
    targets = torch.tensor([[1, 0, 1], [0, 1, 0]])
    ignore = torch.tensor([[False, True, False], [True, False, False]])
    ours = asymmetric_loss(logits, targets, PAPER, ignore=ignore)
    assert ours.item() == pytest.approx(
        eq11_by_hand(logits, targets, PAPER, ignore=ignore.tolist()), rel=1e-12
    )
    flipped = targets.clone()
    flipped[ignore] = 1 - flipped[ignore]
    assert asymmetric_loss(logits, flipped, PAPER, ignore=ignore).item() == pytest.approx(
        ours.item()
    )


def test_sum_reduction_sums_over_classes_and_averages_over_images():
    logits = torch.tensor([[3.0, -2.0, 0.5], [-1.0, 4.0, 0.0]], dtype=torch.float64)
    targets = torch.tensor([[1, 0, 1], [0, 1, 0]])
    ignore = torch.tensor([[False, True, False], [False, False, False]])
    mean = asymmetric_loss(logits, targets, LossConfig(), ignore=ignore)
    summed = asymmetric_loss(logits, targets, LossConfig(reduction="sum"), ignore=ignore)
    # 5 kept entries, 2 images
    assert summed.item() == pytest.approx(mean.item() * 5 / 2, rel=1e-12)


def test_detached_focusing_keeps_the_value_and_changes_the_gradient():
    targets = torch.tensor([[0, 1, 0, 1]])
    values, gradients = [], []
    for detach in (False, True):
        logits = torch.tensor([[2.0, -1.0, 0.3, 1.5]], dtype=torch.float64, requires_grad=True)
        loss = asymmetric_loss(logits, targets, LossConfig(gamma_pos=1.0, detach_focusing=detach))
        loss.backward()
        values.append(loss.item())
        gradients.append(logits.grad.clone())
    assert values[0] == pytest.approx(values[1], rel=1e-12)
    assert not torch.allclose(gradients[0], gradients[1])


def test_loss_gradient_is_finite_at_extreme_logits():
    logits = torch.tensor([[80.0, -80.0, 0.0]], requires_grad=True)
    asymmetric_loss(logits, torch.tensor([[0, 1, 1]]), LossConfig()).backward()
    assert torch.isfinite(logits.grad).all()


def test_kcr_equals_eq6():
    generator = torch.Generator().manual_seed(1)
    t_ka = torch.randn(5, 8, generator=generator, dtype=torch.float64)
    t_ca = torch.randn(3, 5, 8, generator=generator, dtype=torch.float64)
    by_hand = (
        sum(
            1
            - sum(a * b for a, b in zip(t_ka[j].tolist(), t_ca[i, j].tolist()))
            / (
                math.sqrt(sum(a * a for a in t_ka[j].tolist()))
                * math.sqrt(sum(b * b for b in t_ca[i, j].tolist()))
            )
            for i in range(3)
            for j in range(5)
        )
        / 15
    )
    per_image = kcr_loss(t_ka, t_ca)
    assert per_image.shape == (3,)
    assert per_image.mean().item() == pytest.approx(by_hand, rel=1e-12)


def test_total_loss_is_eq12_with_its_terms_visible():
    logits, targets = torch.randn(2, 4), torch.randint(0, 2, (2, 4))
    kcr = torch.tensor([0.2, 0.3])  # one L_KCR per image
    alone = total_loss(logits, targets, None, LossConfig())
    assert alone.kcr is None and alone.total.item() == alone.classification.item()
    terms = total_loss(logits, targets, kcr, LossConfig())
    assert terms.classification.item() == pytest.approx(alone.total.item())
    assert terms.kcr.item() == pytest.approx(0.25)
    assert terms.total.item() == pytest.approx(alone.total.item() + 4.0 * 0.25)
    unweighted = total_loss(logits, targets, kcr, LossConfig(kcr_weight=0.0))
    assert unweighted.total.item() == pytest.approx(
        alone.total.item()
    ) and unweighted.kcr.item() == pytest.approx(0.25)


def test_alpha_stays_in_unit_interval_under_any_update():
    aggregation = RelationAggregation(residual=False)
    assert aggregation.alpha.item() == pytest.approx(0.5)
    m_ka, m_ca = torch.eye(3), torch.full((1, 3, 3), 1 / 3)
    t_ca = torch.randn(1, 3, 4)
    optimiser = torch.optim.SGD(aggregation.parameters(), lr=1e4)
    for sign in (1.0, -1.0):
        for _ in range(5):
            optimiser.zero_grad()
            out, relation = aggregation(m_ka, m_ca, t_ca)
            (sign * (out * t_ca).sum()).backward()
            optimiser.step()
            assert 0.0 <= aggregation.alpha.item() <= 1.0
            # still a row-stochastic map
            torch.testing.assert_close(relation.sum(-1), torch.ones(1, 3))


def test_relation_aggregation_is_eq7():
    aggregation = RelationAggregation(residual=False)
    with torch.no_grad():
        aggregation.alpha_logit.fill_(math.log(0.3 / 0.7))  # α = 0.3
    m_ka = torch.softmax(torch.randn(4, 4), -1)
    m_ca = torch.softmax(torch.randn(2, 4, 4), -1)
    t_ca = torch.randn(2, 4, 6)
    out, _ = aggregation(m_ka, m_ca, t_ca)
    torch.testing.assert_close(out, (0.3 * m_ka + 0.7 * m_ca) @ t_ca)
