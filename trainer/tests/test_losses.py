"""Each objective against numbers derived by hand, invariants between objectives, and TRL's DPO/RPO."""

from __future__ import annotations

import math

import pytest
import torch

from cdpo_trainer.train import losses
from cdpo_trainer.train.preference import objective_loss
from cdpo_trainer.train.config import TrainConfig

from _train_helpers import preference_config


def softplus(x: float) -> float:
    """-log sigma(-x) = log(1 + e^x), written out with math so it is independent of torch."""
    return math.log1p(math.exp(x))


def cfg(objective: str, beta: float = 0.5, alpha: float = 1.0, cdpo_form: str = "sequence") -> TrainConfig:
    """The objective with temperature `beta` (cDPO's gamma); TokenDPO keeps b = 0.1, a = 0.5."""
    fields = {
        "dpo": {"beta": beta},
        "rpo": {"beta": beta, "alpha": alpha},
        "cdpo": {"gamma": beta, "form": cdpo_form},
        "tdpo1": {"beta": 0.1, "alpha": 0.5},
        "tdpo2": {"beta": 0.1, "alpha": 0.5},
    }[objective]
    return preference_config({"name": objective, **fields})


# One pair with hand-picked per-token log-ratios (the reference is zero, so r_t = lp_t).
# chosen:   r^w = [0.5, -0.2, 0.1]            all three tokens real
# rejected: r^l = [-0.3, 0.4, 9.0(pad)]       two real tokens, third is padding (mask 0)
R_W = torch.tensor([[0.5, -0.2, 0.1]])
M_W = torch.tensor([[1.0, 1.0, 1.0]])
R_L = torch.tensor([[-0.3, 0.4, 9.0]])
M_L = torch.tensor([[1.0, 1.0, 0.0]])


def test_dpo_closed_form():
    # sum r^w = 0.4, sum r^l = 0.1 (the 9.0 is padding), margin u = 0.3.
    # L = -log sigma(0.5 * 0.3) = log(1 + e^-0.15).
    u = losses.weighted_logratio_sum(R_W, M_W) - losses.weighted_logratio_sum(R_L, M_L)
    assert u.item() == pytest.approx(0.3, abs=1e-6)
    assert losses.dpo_loss(u, 0.5).item() == pytest.approx(softplus(-0.15), abs=1e-6)


def test_cdpo_sequence_closed_form():
    # weights (1 - s_t) on the rejected tokens: [0.2, 1.0], padding 0.
    # weighted sum r^l = 0.2 * -0.3 + 1.0 * 0.4 = 0.34; margin = 0.4 - 0.34 = 0.06.
    # gamma 1: L = log(1 + e^-0.06).
    w_l = torch.tensor([[0.2, 1.0, 0.0]])
    loss = losses.cdpo_sequence_loss(R_W, M_W, R_L, w_l, 1.0)
    assert loss.item() == pytest.approx(softplus(-0.06), abs=1e-6)


def test_cdpo_position_closed_form():
    # Position form, gamma 2, weights [0.2, 1.0, 0]:
    #   t=0: 2 * (0.5 - 0.2 * -0.3) = 2 * 0.56 = 1.12   -> log(1 + e^-1.12)
    #   t=1: 2 * (-0.2 - 1.0 * 0.4) = -1.2              -> log(1 + e^1.2)
    #   t=2: 2 * (0.1 - 0 * 9.0)    = 0.2               -> log(1 + e^-0.2)
    # mean over the 3 cells of the (1 x 3) padded batch.
    w_l = torch.tensor([[0.2, 1.0, 0.0]])
    expected = (softplus(-1.12) + softplus(1.2) + softplus(-0.2)) / 3
    assert losses.cdpo_position_loss(R_W, M_W, R_L, w_l, 2.0).item() == pytest.approx(expected, abs=1e-6)


def test_cdpo_position_counts_padding_cells_as_log2():
    # Two pairs, T = 2; pair 1 has one token per side, so its t=1 cell is padding on both sides and
    # contributes -log sigma(0) = log 2. Pair 0: r^w=[1,1], r^l=[0,0]; pair 1: r^w=[0,x], r^l=[0,x].
    r_w = torch.tensor([[1.0, 1.0], [0.0, 5.0]])
    m_w = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    r_l = torch.tensor([[0.0, 0.0], [0.0, 7.0]])
    w_l = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    # cells: softplus(-1), softplus(-1), log 2 (0 - 0), log 2 (padding)
    expected = (2 * softplus(-1.0) + 2 * math.log(2)) / 4
    assert losses.cdpo_position_loss(r_w, m_w, r_l, w_l, 1.0).item() == pytest.approx(expected, abs=1e-6)


def test_rpo_closed_form():
    # RPO = DPO + alpha * mean NLL over chosen tokens. Chosen log-probs [-1, -2, -3] (mean NLL 2),
    # margin 0.3, beta 0.5, alpha 0.7: L = log(1 + e^-0.15) + 0.7 * 2.
    logp_w = torch.tensor([[-1.0, -2.0, -3.0]])
    loss = losses.rpo_loss(torch.tensor([0.3]), 0.5, logp_w, M_W, 0.7)
    assert loss.item() == pytest.approx(softplus(-0.15) + 1.4, abs=1e-6)


def test_rpo_nll_averages_over_tokens_of_the_batch_not_sequences():
    # Pair 0 has 1 chosen token (lp -4), pair 1 has 3 (lp -1 each): token mean 7/4, sequence mean 2.5.
    logp_w = torch.tensor([[-4.0, 0.0, 0.0], [-1.0, -1.0, -1.0]])
    mask = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    assert losses.chosen_nll(logp_w, mask).item() == pytest.approx(7 / 4)


def test_token_kl_on_two_word_vocabulary():
    # p_ref = [1/2, 1/2], pi = [1/4, 3/4]: KL = 1/2 ln(2) + 1/2 ln(2/3).
    ref = torch.log(torch.tensor([[[0.5, 0.5]]]))
    pol = torch.log(torch.tensor([[[0.25, 0.75]]]))
    expected = 0.5 * math.log(2) + 0.5 * math.log(2 / 3)
    assert losses.token_kl(ref, pol).item() == pytest.approx(expected, abs=1e-6)
    assert losses.token_kl(ref, ref).item() == pytest.approx(0.0, abs=1e-7)


def test_tdpo_closed_forms_and_stop_gradient():
    # u = 0.3, D(y^w) = 0.2, D(y^l) = 0.5, b = 0.1, a = 0.5.
    # TDPO1: -log sigma(0.1 * (0.3 - (0.5 - 0.2)))       = log 2 (argument 0)
    # TDPO2: -log sigma(0.1 * (0.3 - 0.5 * (0.5 - 0.2))) = log(1 + e^-0.015)
    u = torch.tensor([0.3], requires_grad=True)  # so TDPO2's loss has a graph even with D(y^w) stopped
    d_w = torch.tensor([0.2], requires_grad=True)
    d_l = torch.tensor([0.5])
    l1 = losses.tdpo_loss(u, d_w, d_l, beta=0.1, alpha=0.5, variant=1)
    l2 = losses.tdpo_loss(u, d_w, d_l, beta=0.1, alpha=0.5, variant=2)
    assert l1.item() == pytest.approx(math.log(2), abs=1e-6)
    assert l2.item() == pytest.approx(softplus(-0.015), abs=1e-6)
    # TDPO1 differentiates through D(y^w): z = b(u - D_l + D_w), dL/dD_w = -sigma(-z) * b = -0.5 * 0.1 at z = 0.
    # TDPO2 stops that gradient.
    (g1,) = torch.autograd.grad(l1.sum(), d_w)
    (g2,) = torch.autograd.grad(l2.sum(), d_w, allow_unused=True)
    assert g1.item() == pytest.approx(-0.1 * 0.5, abs=1e-6)  # -b * sigma(-z) at z = 0
    assert g2 is None or g2.item() == 0.0


def _random_pairs(seed: int, b: int = 4, t: int = 6):
    g = torch.Generator().manual_seed(seed)
    logps = -torch.rand((2 * b, t), generator=g) * 3
    ref = -torch.rand((2 * b, t), generator=g) * 3
    lengths = torch.randint(1, t + 1, (2 * b,), generator=g)
    mask = (torch.arange(t)[None, :] < lengths[:, None]).float()
    weights = torch.rand((2 * b, t), generator=g) * mask
    return logps * mask, ref * mask, mask, weights


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cdpo_sequence_with_unit_weights_equals_dpo(seed):
    logps, ref, mask, _ = _random_pairs(seed)
    dpo, _ = objective_loss(cfg("dpo", beta=0.7), logps, ref, mask, mask)
    cdpo, _ = objective_loss(cfg("cdpo", beta=0.7), logps, ref, mask, mask)  # weights = mask: every s_t = 0
    assert cdpo.item() == pytest.approx(dpo.item(), abs=1e-6)


def test_cdpo_position_with_unit_weights_equals_dpo_on_one_token_responses():
    # With one token per response the per-position and per-sequence forms coincide.
    logps, ref, _, _ = _random_pairs(3, t=1)
    mask = torch.ones_like(logps)
    dpo, _ = objective_loss(cfg("dpo"), logps, ref, mask, mask)
    cdpo, _ = objective_loss(cfg("cdpo", cdpo_form="position"), logps, ref, mask, mask)
    assert cdpo.item() == pytest.approx(dpo.item(), abs=1e-6)


def test_cdpo_weights_change_the_loss():
    # Guards the invariant above from passing because weights were ignored.
    logps, ref, mask, weights = _random_pairs(4)
    dpo, _ = objective_loss(cfg("dpo"), logps, ref, mask, weights)
    cdpo, _ = objective_loss(cfg("cdpo"), logps, ref, mask, weights)
    assert abs(cdpo.item() - dpo.item()) > 1e-4


def test_rpo_with_alpha_zero_equals_dpo():
    logps, ref, mask, weights = _random_pairs(5)
    dpo, _ = objective_loss(cfg("dpo"), logps, ref, mask, weights)
    rpo, _ = objective_loss(cfg("rpo", alpha=0.0), logps, ref, mask, weights)
    assert rpo.item() == pytest.approx(dpo.item(), abs=1e-7)


@pytest.mark.parametrize("objective,form", [("dpo", "sequence"), ("cdpo", "sequence"), ("cdpo", "position"), ("tdpo1", "sequence"), ("tdpo2", "sequence")])
def test_policy_equal_to_reference_gives_log2(objective, form):
    # r_t = 0 everywhere and KL = 0, so every sigmoid argument is 0: -log sigma(0) = log 2.
    logps, _, mask, weights = _random_pairs(6)
    seq_kl = torch.zeros(logps.size(0))
    loss, metrics = objective_loss(cfg(objective, cdpo_form=form), logps, logps.clone(), mask, weights, seq_kl)
    assert loss.item() == pytest.approx(math.log(2), abs=1e-7)
    assert metrics["reward_margin"] == 0.0


def test_rpo_policy_equal_to_reference_gives_log2_plus_nll():
    logps, _, mask, weights = _random_pairs(7)
    loss, _ = objective_loss(cfg("rpo", alpha=1.0), logps, logps.clone(), mask, weights)
    b = logps.size(0) // 2
    nll = -(logps[:b] * mask[:b]).sum() / mask[:b].sum()
    assert loss.item() == pytest.approx(math.log(2) + nll.item(), abs=1e-6)


def test_metrics_are_unweighted_rewards_and_summed_logps():
    logps, ref, mask, weights = _random_pairs(8)
    _, m = objective_loss(cfg("cdpo", beta=2.0), logps, ref, mask, weights)
    b = logps.size(0) // 2
    u = ((logps - ref) * mask)[:b].sum(-1) - ((logps - ref) * mask)[b:].sum(-1)
    assert m["reward_margin"] == pytest.approx((2.0 * u).mean().item(), abs=1e-5)
    assert m["reward_accuracy"] == pytest.approx((u > 0).float().mean().item())
    assert m["logp_chosen"] == pytest.approx(logps[:b].sum(-1).mean().item(), abs=1e-5)
    assert m["logp_rejected"] == pytest.approx(logps[b:].sum(-1).mean().item(), abs=1e-5)
