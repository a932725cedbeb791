"""The objectives of method.md section 4 as pure functions of response-aligned tensors.

Every function takes per-token tensors of shape [B, T] (pair b, response token j, EOS included)
for the chosen (suffix _w, "winner") and rejected (_l, "loser") responses. Masking and token
weights travel together: a weight tensor is already zero on padding, so `weights = mask` gives
plain DPO and `weights = mask * (1 - s_t)` gives cDPO. That is the one per-token weight interface:
the cDPO path adds one elementwise product to DPO and no forward pass.

Per-pair losses are returned unreduced ([B]) where the objective is per pair, so callers choose
the reduction (the trainer takes the batch mean, as TRL and the paper's code do).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def weighted_logratio_sum(logratio: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum_t w_t * r_t per row. logratio, weights: [B, T] -> [B]."""
    return (logratio * weights).sum(dim=-1)


def dpo_loss(margin: torch.Tensor, beta: float) -> torch.Tensor:
    """-log sigma(beta * margin), margin = sum r^w - sum r^l (possibly token-weighted). [B] -> [B].

    logsigmoid is used instead of log(sigmoid(.)) because it stays finite for large negative margins.
    """
    return -F.logsigmoid(beta * margin)


def cdpo_sequence_loss(
    r_w: torch.Tensor, mask_w: torch.Tensor, r_l: torch.Tensor, weights_l: torch.Tensor, gamma: float
) -> torch.Tensor:
    """cDPO, paper form: -log sigma(g * (sum_t r^w_t - sum_t (1 - s_t) r^l_t)). [B, T] inputs -> [B].

    weights_l holds (1 - s_t) on rejected tokens, 1 on EOS and 0 on padding; the chosen side is
    unweighted (mask_w only).
    """
    margin = weighted_logratio_sum(r_w, mask_w) - weighted_logratio_sum(r_l, weights_l)
    return dpo_loss(margin, gamma)


def cdpo_position_loss(
    r_w: torch.Tensor, mask_w: torch.Tensor, r_l: torch.Tensor, weights_l: torch.Tensor, gamma: float
) -> torch.Tensor:
    """cDPO, per-position form (after the paper's reference code): the mean over every cell of the
    response-aligned [B, T] batch of -log sigma(g * (m^w_t r^w_t - (1 - s_t) m^l_t r^l_t)), chosen
    response token t paired with rejected response token t. [B, T] inputs -> scalar.

    A cell where both sides are padding adds the constant log 2 and no gradient. Two differences
    from the reference code, which this form does not reproduce: that code averaged over every
    position of its padded prompt + response batch, so the prompt's positions (log 2 each) also
    entered the mean, which rescales the loss and its gradient by the response's share of the
    positions; and it weighted the chosen side by the chosen response's own CE scores unless its
    `only_neg` switch was set, where this form, like the paper's sequence form, leaves the chosen
    side unweighted.
    """
    per_position = -F.logsigmoid(gamma * (mask_w * r_w - weights_l * r_l))  # [B, T]
    return per_position.mean()


def chosen_nll(logp_w: torch.Tensor, mask_w: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood over all chosen tokens of the batch (EOS included). -> scalar.

    Averaged over tokens of the whole batch (not per sequence first), as TRL's "sft" term of RPO.
    """
    return -(logp_w * mask_w).sum() / mask_w.sum().clamp(min=1.0)


def rpo_loss(margin: torch.Tensor, beta: float, logp_w: torch.Tensor, mask_w: torch.Tensor, alpha: float) -> torch.Tensor:
    """RPO: mean_b DPO(b) + alpha * NLL(chosen tokens). -> scalar."""
    return dpo_loss(margin, beta).mean() + alpha * chosen_nll(logp_w, mask_w)


def token_kl(ref_logprobs: torch.Tensor, policy_logprobs: torch.Tensor) -> torch.Tensor:
    """KL(pi_ref(.|prefix) || pi(.|prefix)) at every position, over the full vocabulary.

    ref_logprobs, policy_logprobs: [B, T, V] log-softmax outputs -> [B, T].
    sum_v p_ref(v) (log p_ref(v) - log pi(v)); exp of a log-softmax is the probability.
    """
    return (ref_logprobs.exp() * (ref_logprobs - policy_logprobs)).sum(dim=-1)


def tdpo_loss(
    u: torch.Tensor,
    seq_kl_w: torch.Tensor,
    seq_kl_l: torch.Tensor,
    beta: float,
    alpha: float,
    variant: int,
) -> torch.Tensor:
    """TokenDPO. u = sum r^w - sum r^l, seq_kl_* = D(y) = sum_t KL_t over response tokens. [B] -> [B].

    TDPO1: -log sigma(b (u - (D(y^l) - D(y^w))))
    TDPO2: -log sigma(b (u - a (D(y^l) - sg(D(y^w)))))   sg = stop-gradient (detach)
    """
    if variant == 1:
        delta = seq_kl_l - seq_kl_w
    elif variant == 2:
        delta = alpha * (seq_kl_l - seq_kl_w.detach())
    else:
        raise ValueError(f"Cannot compute TDPO: variant is {variant!r}, expected 1 or 2")
    return -F.logsigmoid(beta * (u - delta))
