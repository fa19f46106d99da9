"""The decoder-only model (transformer_lesson/decoder_only.py): one block, three families; the KV cache changes
nothing but the work; generation with and without it gives the same tokens; bad input gets a clear error."""
from __future__ import annotations

import pytest
import torch

from transformer_lesson import Transformer, causal_mask
from transformer_lesson.decoder_only import (
    DecoderOnlyTransformer,
    causal_mask_with_past,
    choose_next_token,
    generate,
    next_token_logits,
)
from transformer_lesson.model import EncoderLayer
from transformer_lesson.multihead import KVCache


def small(seed: int = 0, **kw) -> DecoderOnlyTransformer:
    torch.manual_seed(seed)
    sizes = dict(d_model=16, num_heads=2, num_layers=2, d_ff=32, max_len=40) | kw
    return DecoderOnlyTransformer(11, **sizes).eval()


def tokens(B: int, T: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, 11, (B, T), generator=torch.Generator().manual_seed(seed))


def test_the_mask_with_past_lets_each_new_position_see_the_cache_and_itself():
    assert torch.equal(causal_mask_with_past(4), causal_mask(4))
    m = causal_mask_with_past(2, past=3)                     # positions 3 and 4 after 3 cached ones
    assert m.tolist() == [[True, True, True, True, False], [True, True, True, True, True]]


@pytest.mark.parametrize("rotary", [False, True], ids=["sinusoidal", "rotary"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-ln", "pre-ln"])
def test_feeding_a_sequence_in_chunks_through_the_cache_gives_the_logits_of_one_full_pass(rotary, norm_first):
    model, x = small(rotary=rotary, norm_first=norm_first), tokens(3, 9)
    with torch.no_grad():
        full = model(x)                                      # (B, T, V)
        cache = model.new_cache()
        parts = [model(x[:, a:b], cache) for a, b in ((0, 4), (4, 6), (6, 7), (7, 8), (8, 9))]
    torch.testing.assert_close(torch.cat(parts, dim=1), full, atol=1e-5, rtol=1e-5)
    assert all(len(c) == 9 for c in cache) and cache[0].keys.shape == (3, 2, 9, 8)   # (B, h, T, d_k)


@pytest.mark.parametrize("rotary", [False, True], ids=["sinusoidal", "rotary"])
def test_cached_greedy_generation_gives_the_tokens_and_logits_of_full_recomputation(rotary):
    model, prompt = small(rotary=rotary), tokens(4, 5)
    cached = generate(model, prompt, 12, use_cache=True)
    full = generate(model, prompt, 12, use_cache=False)
    assert torch.equal(cached.tokens, full.tokens) and cached.tokens.shape == (4, 17)
    torch.testing.assert_close(cached.logits, full.logits, atol=1e-5, rtol=1e-5)


def test_cached_sampling_with_top_k_and_top_p_draws_the_same_tokens_as_full_recomputation():
    model, prompt = small(3), tokens(5, 3)
    draws = [generate(model, prompt, 10, use_cache=use, sample=True, temperature=1.5, top_k=6, top_p=0.9,
                      generator=torch.Generator().manual_seed(7)).tokens for use in (True, False)]
    assert torch.equal(draws[0], draws[1])


def test_each_step_chooses_from_the_logits_of_the_whole_sequence_so_far():
    model, prompt = small(4), tokens(2, 4)
    out = generate(model, prompt, 6)
    for step in range(out.steps):
        seen = out.tokens[:, :prompt.size(1) + step]
        torch.testing.assert_close(out.logits[:, step], next_token_logits(model, seen), atol=1e-5, rtol=1e-5)
        assert torch.equal(out.tokens[:, prompt.size(1) + step], out.logits[:, step].argmax(-1))


def test_a_finished_row_repeats_eos_and_generation_stops_when_every_row_has_finished():
    model = small(5)
    with torch.no_grad():
        model.lm_head.bias.zero_()
        model.lm_head.bias[2] = 100.0                        # <eos> (id 2) always wins
    out = generate(model, tokens(3, 4), 10, eos_id=2)
    assert out.steps == 1 and out.tokens[:, -1].tolist() == [2, 2, 2]


def test_changing_a_later_token_moves_earlier_outputs_only_without_the_causal_mask():
    decoder = small(6)
    encoder = small(6, causal=False)                         # the same weights, no mask
    x = tokens(1, 7)
    y = x.clone()
    y[0, 5] = (y[0, 5] + 1) % 11
    with torch.no_grad():
        assert torch.equal(decoder(x)[:, :5], decoder(y)[:, :5])            # the past cannot see the future
        assert (encoder(x)[:, :5] - encoder(y)[:, :5]).abs().max() > 1e-3   # every position sees every position


def test_three_families_are_one_block_under_different_masks():
    """Encoder-only = EncoderLayer without a mask, decoder-only = the same layer with a causal mask, the
    encoder-decoder's encoder = the same layer again: one set of weights gives all three."""
    torch.manual_seed(0)
    paper = Transformer(11, 11, d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32,
                        dropout=0.0).eval()
    block = paper.encoder.layers[0]
    assert isinstance(block, EncoderLayer)
    x = torch.randn(2, 6, 16)
    for causal in (False, True):
        model = small(causal=causal, num_layers=1)
        assert isinstance(model.layers[0], EncoderLayer)
        model.layers[0].load_state_dict(block.state_dict())
        seen = {}
        model.layers[0].register_forward_hook(lambda m, args, out: seen.update(out=out))
        with torch.no_grad():
            model(tokens(2, 6))
            h = model.embed(tokens(2, 6)) * 4.0 + model.pe[:6]            # the layer's input (sqrt(16) = 4)
            expected = block(h, causal_mask(6) if causal else None)
        torch.testing.assert_close(seen["out"], expected)
    with torch.no_grad():
        assert not torch.allclose(block(x), block(x, causal_mask(6)))     # the mask is the whole difference


def test_sampling_with_top_k_1_or_a_tiny_top_p_is_greedy():
    logits = torch.randn(6, 11, generator=torch.Generator().manual_seed(0))
    greedy = choose_next_token(logits)
    for kw in (dict(top_k=1), dict(top_p=1e-6)):
        drawn = choose_next_token(logits, sample=True, temperature=2.0, generator=torch.Generator().manual_seed(1),
                                  **kw)
        assert torch.equal(drawn, greedy)


@pytest.mark.parametrize("call, error, phrase", [
    (lambda m: m(torch.randn(2, 3)), TypeError, "integer"),
    (lambda m: m(torch.tensor([[1, 11]])), ValueError, "token ids in 0..10"),
    (lambda m: m(torch.zeros(1, 41, dtype=torch.long)), ValueError, "max_len=40"),
    (lambda m: m(torch.zeros(1, 0, dtype=torch.long)), ValueError, "at least one token"),
    (lambda m: m(torch.tensor([[1, 2]]), [KVCache()]), TypeError, "list of 2 KVCache"),
    (lambda m: m(torch.tensor([[1, 2]]), "cache"), TypeError, "model.new_cache()"),
    (lambda m: generate(m, torch.tensor([[1, 2]]), 0), ValueError, "max_new_tokens"),
    (lambda m: generate(m, torch.tensor([[[1, 2]]]), 3), ValueError, "(T0,) or (B, T0)"),
    (lambda m: generate(m, torch.tensor([1, 2]), 39), ValueError, "max_len=40"),
    (lambda m: generate(m, torch.tensor([1, 2]), 3, eos_id=11), ValueError, "eos_id"),
    (lambda m: generate(m, torch.tensor([1, 2]), 3, sample=True, temperature=0.0), ValueError, "temperature"),
    (lambda m: generate(m, torch.tensor([1, 2]), 3, sample=True, top_p=1.5), ValueError, "p in (0, 1]"),
    (lambda m: generate(torch.nn.Linear(2, 2), torch.tensor([1, 2]), 3), TypeError, "DecoderOnlyTransformer"),
], ids=["float-tokens", "id-too-large", "too-long", "empty", "cache-too-short", "cache-not-a-list",
        "no-new-tokens", "3-d-prompt", "prompt-plus-new-too-long", "bad-eos", "zero-temperature", "top-p-above-1",
        "not-the-model"])
def test_bad_input_gets_a_clear_error(call, error, phrase):
    with pytest.raises(error) as caught:
        call(small())
    assert phrase in str(caught.value), str(caught.value)


def test_a_cache_belongs_to_one_batch_and_an_encoder_only_model_has_none():
    model = small()
    cache = model.new_cache()
    with torch.no_grad():
        model(tokens(2, 3), cache)
        with pytest.raises(ValueError, match="batch size 2 as in the cache"):
            model(tokens(3, 1), cache)
    with pytest.raises(ValueError, match="encoder-only"):
        small(causal=False)(tokens(1, 2), small(causal=False).new_cache())
    with pytest.raises(ValueError, match="causal"):
        generate(small(causal=False), tokens(1, 2), 3)
