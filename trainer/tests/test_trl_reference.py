"""DPO and RPO against TRL 1.16's DPOTrainer on the same model, pairs and reference log-probs.

TRL 1.16 has no free-standing `dpo_loss`: the loss lives in `DPOTrainer._compute_loss`, which
takes the collated batch. RPO there is loss_type ["sigmoid", "sft"] with loss_weights [1, alpha]
(the former `rpo_alpha`). Both sides get the same reference log-probs (TRL through its
precomputed-reference path), so any difference comes from the policy scoring or the loss.
TRL is a test-only dependency; it is never imported by the trainer.
"""

from __future__ import annotations

import pytest
import torch

from _train_helpers import BOS, EOS, PAD, preference_config, tiny_llama

trl = pytest.importorskip("trl")

PAIRS = [  # ids include EOS, as the trainer's readers produce them
    {"prompt_ids": [BOS, 5, 9], "chosen_ids": [6, 7, 8, EOS], "rejected_ids": [11, EOS]},
    {"prompt_ids": [BOS, 4], "chosen_ids": [12, EOS], "rejected_ids": [13, 14, 15, 16, EOS]},
    {"prompt_ids": [BOS, 20, 21, 22], "chosen_ids": [23, 24, EOS], "rejected_ids": [25, 26, 27, EOS]},
]


def _trl_trainer(model_dir, loss_type, loss_weights, beta, out):
    from datasets import Dataset
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast
    from trl import DPOConfig, DPOTrainer

    tok = Tokenizer(models.WordLevel({f"t{i}": i for i in range(48)}, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=f"t{EOS}", pad_token=f"t{PAD}", bos_token=f"t{BOS}")
    # The dataset only satisfies the constructor; batches are collated from PAIRS below.
    dataset = Dataset.from_list([{"prompt": "t1 t5", "chosen": " t6", "rejected": " t8"}])
    args = DPOConfig(
        output_dir=str(out), beta=beta, loss_type=loss_type, loss_weights=loss_weights, report_to=[], use_cpu=True
    )
    model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    trainer = DPOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    trainer.precompute_ref_logps = True
    trainer.model.train()
    return trainer


@pytest.mark.parametrize("objective,alpha", [("dpo", 0.0), ("rpo", 1.0), ("rpo", 0.3)])
def test_matches_trl(tmp_path, objective, alpha):
    from cdpo_trainer.train.batching import PairExample, pair_batch
    from cdpo_trainer.models.model_dir import load_model
    from cdpo_trainer.train.preference import objective_loss
    from cdpo_trainer.train.response_logprobs import response_logits, token_logps

    model_dir = tiny_llama(tmp_path / "m")
    beta = 0.3
    # Reference log-probs: arbitrary fixed per-token values (any frozen reference would do),
    # fed to TRL as their sums, which is all sigmoid DPO reads.
    g = torch.Generator().manual_seed(0)
    examples = [PairExample(p["prompt_ids"], p["chosen_ids"], p["rejected_ids"], [1.0] * len(p["rejected_ids"])) for p in PAIRS]
    batch = pair_batch(examples, PAD)
    ref = -torch.rand(batch.resp_mask.shape, generator=g) * 4 * batch.resp_mask  # [2B, T]
    b = len(PAIRS)

    ours_model = load_model(model_dir, torch.float32, "cpu").train()
    logps = token_logps(response_logits(ours_model, batch), batch.resp_targets, batch.resp_mask)
    cfg = preference_config({"name": "dpo", "beta": beta} if objective == "dpo" else {"name": "rpo", "beta": beta, "alpha": alpha})
    ours, metrics = objective_loss(cfg, logps, ref, batch.resp_mask, batch.resp_weights)

    loss_type = ["sigmoid"] if objective == "dpo" else ["sigmoid", "sft"]
    weights = [1.0] if objective == "dpo" else [1.0, alpha]
    trainer = _trl_trainer(model_dir, loss_type, weights, beta, tmp_path / "trl")
    ref_sums = ref.sum(-1)
    trl_batch = trainer.data_collator(
        [dict(p, ref_chosen_logps=float(ref_sums[i]), ref_rejected_logps=float(ref_sums[b + i])) for i, p in enumerate(PAIRS)]
    )
    theirs = trainer._compute_loss(trainer.model, trl_batch, return_outputs=False)

    assert ours.item() == pytest.approx(theirs.item(), abs=1e-5)
    logged = trainer._metrics["train"]
    assert metrics["logp_chosen"] == pytest.approx(logged["logps/chosen"][-1], abs=1e-4)
    assert metrics["logp_rejected"] == pytest.approx(logged["logps/rejected"][-1], abs=1e-4)
    assert metrics["reward_margin"] == pytest.approx(logged["rewards/margins"][-1], abs=1e-5)

    # Gradients agree too, so training with either follows the same path.
    ours.backward()
    theirs.backward()
    ours_grads = dict(ours_model.named_parameters())
    for name, p in trainer.model.named_parameters():
        assert torch.allclose(ours_grads[name].grad, p.grad, atol=1e-5), name
