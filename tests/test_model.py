"""Encoder and decoder layers equal PyTorch's in both placements; the assembled model is causal; one matrix can be
shared by both embeddings and the output layer (the paper's section 3.4)."""
import pytest
import torch
from torch import nn

from transformer_lesson import (Decoder, DecoderLayer, Encoder, EncoderLayer, Transformer, causal_mask,
                                padding_mask)
from transformer_lesson.runtime import count_parameters


def randomise_norms(module):
    """Non-trivial LayerNorm parameters, so a swapped norm1/norm2 would show."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_equals_torch_in_eval_mode(norm_first, activation):
    torch.manual_seed(0)
    theirs = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, activation=activation,
                                        batch_first=True, norm_first=norm_first)
    randomise_norms(theirs)
    theirs.eval()
    ours = EncoderLayer.from_torch(theirs).eval()
    x = torch.randn(2, 6, 16)
    src = torch.tensor([[1, 2, 3, 4, 0, 0], [1, 2, 3, 4, 5, 6]])
    torch.testing.assert_close(ours(x), theirs(x))
    # in eval mode PyTorch's fast path may zero the outputs at padded positions; compare the real ones
    out_ours, out_theirs = ours(x, padding_mask(src, 0)), theirs(x, src_key_padding_mask=src == 0)
    real = src != 0
    torch.testing.assert_close(out_ours[real], out_theirs[real])


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_equals_torch_in_eval_mode(norm_first):
    torch.manual_seed(0)
    theirs = nn.TransformerDecoderLayer(16, 4, 32, dropout=0.1, batch_first=True, norm_first=norm_first)
    randomise_norms(theirs)
    theirs.eval()
    ours = DecoderLayer.from_torch(theirs).eval()
    x, memory = torch.randn(2, 5, 16), torch.randn(2, 7, 16)
    src = torch.tensor([[1, 2, 3, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7]])
    expected = theirs(x, memory, tgt_mask=~causal_mask(5), memory_key_padding_mask=src == 0)
    torch.testing.assert_close(ours(x, memory, causal_mask(5), padding_mask(src, 0)), expected)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_gradients_equal_torch_in_train_mode_without_dropout(norm_first):
    torch.manual_seed(0)
    theirs = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm_first)
    ours = EncoderLayer.from_torch(theirs)
    x1 = torch.randn(2, 6, 16, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    ours(x1).square().sum().backward()
    theirs(x2).square().sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(ours.feed_forward.linear1.weight.grad, theirs.linear1.weight.grad)


def small_model(seed=0, **kw):
    torch.manual_seed(seed)
    args = dict(d_model=16, num_heads=2, num_encoder_layers=2, num_decoder_layers=2, d_ff=32, dropout=0.0, max_len=40)
    args.update(kw)
    return Transformer(11, 13, **args).eval()


def test_changing_a_future_target_token_leaves_earlier_decoder_outputs_unchanged():
    model = small_model()
    src = torch.tensor([[4, 5, 6, 7, 2]])
    tgt = torch.tensor([[1, 5, 6, 7, 8, 9]])
    changed = tgt.clone()
    changed[0, 4] = 3                                        # change the token at position 4
    a, b = model(src, tgt), model(src, changed)
    torch.testing.assert_close(a[:, :4], b[:, :4])           # positions 0..3 cannot see position 4
    assert not torch.allclose(a[:, 4:], b[:, 4:])            # position 4 onwards does change


def test_padding_the_source_does_not_change_the_output():
    model = small_model()
    src = torch.tensor([[4, 5, 6]])
    padded = torch.tensor([[4, 5, 6, 0, 0]])
    tgt = torch.tensor([[1, 5, 6]])
    torch.testing.assert_close(model(src, tgt), model(padded, tgt))


def test_output_is_a_probability_distribution_over_the_target_vocabulary():
    model = small_model()
    logits = model(torch.tensor([[4, 5, 6]]), torch.tensor([[1, 7]]))
    assert logits.shape == (1, 2, 13)
    torch.testing.assert_close(logits.softmax(-1).sum(-1), torch.ones(1, 2))


def test_embeddings_are_scaled_by_sqrt_d_model_before_the_positional_encoding():
    model = small_model()
    src = torch.tensor([[4]])
    embedded = model._embed(src, model.src_embed, "src")
    expected = model.src_embed.weight[4] * 4.0 + model.positional.pe[0]  # sqrt(16) = 4
    torch.testing.assert_close(embedded[0, 0], expected)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # nn.Transformer's own note about Pre-LN
@pytest.mark.parametrize("norm_first", [False, True])
def test_whole_model_equals_nn_transformer_with_copied_weights(norm_first):
    torch.manual_seed(0)
    theirs = nn.Transformer(16, 2, 2, 2, 32, dropout=0.0, batch_first=True, norm_first=norm_first).eval()
    randomise_norms(theirs)
    ours = small_model(norm_first=norm_first, final_norm=True)  # nn.Transformer always ends each stack with a norm
    for mine, their in zip(ours.encoder.layers, theirs.encoder.layers):
        mine.load_state_dict(EncoderLayer.from_torch(their).state_dict())
    for mine, their in zip(ours.decoder.layers, theirs.decoder.layers):
        mine.load_state_dict(DecoderLayer.from_torch(their).state_dict())
    ours.encoder.norm.load_state_dict(theirs.encoder.norm.state_dict())
    ours.decoder.norm.load_state_dict(theirs.decoder.norm.state_dict())
    x, y = torch.randn(2, 6, 16), torch.randn(2, 4, 16)
    expected = theirs(x, y, tgt_mask=~causal_mask(4))
    memory = ours.encoder(x)
    torch.testing.assert_close(ours.decoder(y, memory, causal_mask(4)), expected)


def test_stacks_have_a_final_norm_only_for_pre_ln_by_default():
    assert Encoder(2, 8, 2, 16).norm is None
    assert Encoder(2, 8, 2, 16, norm_first=True).norm is not None
    assert Decoder(2, 8, 2, 16, final_norm=True).norm is not None


def test_decode_without_the_causal_mask_lets_an_early_position_see_a_later_one():
    torch.manual_seed(0)
    model = Transformer(7, 9, d_model=8, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=16,
                        dropout=0.0).eval()
    src = torch.tensor([[1, 2, 3]])
    memory = model.encode(src)
    a, b = torch.tensor([[1, 4, 5]]), torch.tensor([[1, 4, 6]])      # differ only in the last token
    with torch.no_grad():
        assert torch.equal(model.decode(a, memory)[:, :2], model.decode(b, memory)[:, :2])
        assert not torch.allclose(model.decode(a, memory, causal=False)[:, :2],
                                  model.decode(b, memory, causal=False)[:, :2])
    with pytest.raises(TypeError, match="causal"):
        model.decode(a, memory, causal="no")


# ---- sharing one matrix between the embeddings and the output layer (the paper's section 3.4) ------------

def test_shared_embeddings_are_one_parameter_for_source_target_and_output():
    torch.manual_seed(0)
    model = Transformer(13, 13, d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32,
                        share_embeddings=True)
    assert model.src_embed.weight is model.tgt_embed.weight is model.generator.weight
    assert model.generator.weight.shape == (13, 16)                   # (V, d_model): a row per token
    names = [name for name, p in model.named_parameters() if p is model.src_embed.weight]
    assert names == ["src_embed.weight"]                              # listed (and so trained, counted) once
    default = Transformer(13, 13, d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32)
    matrices = {id(default.src_embed.weight), id(default.tgt_embed.weight), id(default.generator.weight)}
    assert len(matrices) == 3                                         # the default shares nothing


def test_the_shared_matrix_gets_the_gradient_of_all_three_uses():
    """Its gradient is the sum of the gradients an untied copy gives its three matrices, each non-zero."""
    torch.manual_seed(0)
    args = dict(d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32, dropout=0.0)
    tied = Transformer(13, 13, share_embeddings=True, **args)
    untied = Transformer(13, 13, **args)
    untied.load_state_dict(tied.state_dict())        # its tgt_embed and generator keys hold the shared matrix
    src, tgt = torch.tensor([[4, 5, 6, 7]]), torch.tensor([[1, 8, 9]])
    for model in (tied, untied):
        model(src, tgt).logsumexp(-1).sum().backward()
    parts = [untied.src_embed.weight.grad, untied.tgt_embed.weight.grad, untied.generator.weight.grad]
    assert all(g.abs().sum() > 0 for g in parts)
    torch.testing.assert_close(tied.src_embed.weight.grad, sum(parts))
    assert parts[0][[4, 5, 6, 7]].abs().sum() > 0 and parts[0][[8, 9]].abs().sum() == 0   # rows of the ids used
    assert parts[1][[8, 9]].abs().sum() > 0 and parts[1][[4, 5, 6, 7]].abs().sum() == 0


def test_sharing_removes_exactly_two_vocabulary_by_d_model_matrices():
    V, d = 13, 16
    args = dict(d_model=d, num_heads=2, num_encoder_layers=2, num_decoder_layers=3, d_ff=32)
    untied = count_parameters(Transformer(V, V, **args))
    tied = count_parameters(Transformer(V, V, share_embeddings=True, **args))   # the shared matrix once
    assert untied - tied == 2 * V * d                                  # the target embedding and the output weight


def test_a_shared_model_keeps_its_tie_through_a_state_dict():
    torch.manual_seed(0)
    args = dict(d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1, d_ff=32, dropout=0.0)
    a = Transformer(13, 13, share_embeddings=True, **args).eval()
    torch.manual_seed(1)
    b = Transformer(13, 13, share_embeddings=True, **args).eval()
    b.load_state_dict(a.state_dict())
    assert b.src_embed.weight is b.generator.weight
    src, tgt = torch.tensor([[4, 5, 6]]), torch.tensor([[1, 8]])
    torch.testing.assert_close(a(src, tgt), b(src, tgt))


def test_sharing_needs_one_vocabulary_for_both_languages():
    with pytest.raises(ValueError, match=r"src_vocab_size == tgt_vocab_size\), got src_vocab_size=11 and "
                                         r"tgt_vocab_size=13; build one vocabulary over both languages"):
        small_model(share_embeddings=True)
    with pytest.raises(TypeError, match="share_embeddings to be True or False"):
        Transformer(13, 13, d_model=16, num_heads=2, share_embeddings="yes")
