"""Greedy decoding, beam search and sampling over the course's Transformer."""
import pytest
import torch

from transformer_lesson import Transformer, beam_search, greedy_decode, sample_decode
from transformer_lesson.decoding import length_penalty


def peaked_model(seed):
    """A small random model whose output distributions are sharp enough to make search matter."""
    torch.manual_seed(seed)
    model = Transformer(12, 10, d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1,
                        d_ff=32, dropout=0.0, max_len=32).eval()
    with torch.no_grad():
        model.generator.weight.mul_(3.0)
    return model


def sequence_log_prob(model, src, tokens, finished):
    """Score a token sequence with teacher forcing: the sum of log P(token | prefix), plus <eos> if finished."""
    tgt = torch.tensor([[1] + tokens])
    targets = tokens + ([2] if finished else [])
    log_p = torch.log_softmax(model(src[None], tgt), dim=-1)[0]
    return sum(log_p[i, t].item() for i, t in enumerate(targets))


@pytest.mark.parametrize("seed", range(5))
def test_beam_of_one_equals_greedy(seed):
    model = peaked_model(seed)
    src = torch.tensor([4, 5, 6, 7])
    greedy = greedy_decode(model, src[None], max_len=12)[0]
    beam = beam_search(model, src, beam_size=1, max_len=12, length_penalty_alpha=0.0)[0]
    assert beam.tokens == greedy.tokens
    assert beam.log_prob == pytest.approx(greedy.log_prob, abs=1e-5)


@pytest.mark.parametrize("seed", range(8))
def test_beam_log_probability_is_never_below_greedy(seed):
    model = peaked_model(seed)
    for src in ([4, 5, 6], [7, 8, 9, 10, 4], [11, 3]):
        src = torch.tensor(src)
        greedy = greedy_decode(model, src[None], max_len=12)[0]
        beam = beam_search(model, src, beam_size=4, max_len=12, length_penalty_alpha=0.0)[0]
        assert beam.log_prob >= greedy.log_prob - 1e-4  # float32 noise only


def test_reported_log_probability_equals_teacher_forced_score():
    model = peaked_model(0)
    src = torch.tensor([4, 5, 6])
    for hyp in [greedy_decode(model, src[None], max_len=10)[0], *beam_search(model, src, 3, max_len=10)]:
        assert hyp.log_prob == pytest.approx(sequence_log_prob(model, src, hyp.tokens, hyp.finished), abs=1e-4)


def test_beam_results_are_sorted_by_length_penalised_score():
    model = peaked_model(1)
    hyps = beam_search(model, torch.tensor([4, 5, 6]), beam_size=4, max_len=10, length_penalty_alpha=0.6)
    scores = [h.score for h in hyps]
    assert scores == sorted(scores, reverse=True)
    for h in hyps:
        if h.finished:
            assert h.score == pytest.approx(h.log_prob / length_penalty(len(h.tokens) + 1, 0.6))


def test_greedy_decodes_a_batch_like_one_sentence_at_a_time():
    model = peaked_model(2)
    a, b = torch.tensor([4, 5, 6, 7]), torch.tensor([8, 9, 0, 0])
    batch = greedy_decode(model, torch.stack([a, b]), max_len=8)
    assert batch[0].tokens == greedy_decode(model, a, max_len=8)[0].tokens
    assert batch[1].tokens == greedy_decode(model, b[:2], max_len=8)[0].tokens


def test_low_temperature_sampling_equals_greedy():
    model = peaked_model(3)
    src = torch.tensor([[4, 5, 6]])
    sampled = sample_decode(model, src, temperature=1e-3, max_len=10, generator=torch.Generator().manual_seed(0))
    assert sampled[0].tokens == greedy_decode(model, src, max_len=10)[0].tokens


def test_decoding_restores_training_mode():
    model = peaked_model(0).train()
    greedy_decode(model, torch.tensor([[4, 5]]), max_len=3)
    assert model.training


@pytest.mark.parametrize("seed", range(4))
def test_a_traced_beam_search_returns_what_an_untraced_one_returns(seed):
    model = peaked_model(seed)
    src = torch.tensor([4, 5, 6, 7])
    trace = []
    plain = beam_search(model, src, beam_size=2, max_len=10)
    traced = beam_search(model, src, beam_size=2, max_len=10, trace=trace)
    assert trace, "the search appended nothing to the trace"
    assert [(h.tokens, h.log_prob, h.score, h.finished) for h in traced] == \
           [(h.tokens, h.log_prob, h.score, h.finished) for h in plain]


@pytest.mark.parametrize("seed, src", [(2, [4, 5, 6]), (11, [4, 5, 6]), (14, [11, 3]), (8, [7, 8, 9, 10, 4])])
def test_following_the_trace_back_from_the_best_finished_candidate_spells_the_best_hypothesis(seed, src):
    model = peaked_model(seed)
    trace = []
    best = beam_search(model, torch.tensor(src), beam_size=2, max_len=10, trace=trace)[0]
    assert best.finished and best.tokens, "chosen so that the best hypothesis ends with <eos> after a few tokens"
    step, entry = max(((s, e) for s, candidates in enumerate(trace) for e in candidates if e["status"] == "finished"),
                      key=lambda se: se[1]["score"])
    assert entry["log_prob"] == pytest.approx(best.log_prob) and entry["score"] == pytest.approx(best.score)
    tokens, parent = [], entry["parent"]
    for s in range(step - 1, -1, -1):                   # back through the kept candidates of each earlier step
        kept = [e for e in trace[s] if e["status"] == "kept"]
        tokens.append(kept[parent]["token"])
        parent = kept[parent]["parent"]
    assert tokens[::-1] == best.tokens


def test_the_trace_keeps_at_most_beam_size_candidates_per_step_and_ranks_them_best_first():
    trace = []
    beam_search(peaked_model(1), torch.tensor([4, 5, 6, 7, 8]), beam_size=2, max_len=10, trace=trace)
    for candidates in trace:
        assert len(candidates) <= 4                      # the 2 * beam_size best extensions are ranked
        assert sum(e["status"] == "kept" for e in candidates) <= 2
        log_probs = [e["log_prob"] for e in candidates]
        assert log_probs == sorted(log_probs, reverse=True)
    assert {e["status"] for candidates in trace for e in candidates} >= {"kept", "pruned"}


def test_a_trace_that_is_not_a_list_is_refused_with_a_hint():
    with pytest.raises(TypeError, match="expected trace to be a list"):
        beam_search(peaked_model(0), torch.tensor([4, 5]), beam_size=2, max_len=4, trace={})


# ---- top-k and top-p (nucleus) filtering ---------------------------------------------------------------

def test_top_k_keeps_exactly_the_k_likeliest_tokens():
    from transformer_lesson.decoding import top_k_filter
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.5], [0.0, -1.0, 5.0, 4.0]])
    kept = top_k_filter(logits, 2).isfinite()
    assert kept.tolist() == [[False, True, True, False], [False, False, True, True]]
    assert torch.equal(top_k_filter(logits, 2)[kept], logits[kept])


def test_top_p_keeps_the_fewest_tokens_reaching_p():
    from transformer_lesson.decoding import top_p_filter
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    logits = probs.log()
    assert top_p_filter(logits, 0.5).isfinite().tolist() == [True, False, False, False]    # 0.5 reaches 0.5
    assert top_p_filter(logits, 0.6).isfinite().tolist() == [True, True, False, False]     # 0.5 < 0.6 <= 0.8
    assert top_p_filter(logits, 0.8).isfinite().tolist() == [True, True, False, False]
    assert top_p_filter(logits, 0.81).isfinite().tolist() == [True, True, True, False]
    assert top_p_filter(logits, 1.0).isfinite().all()
    assert top_p_filter(logits, 0.01).isfinite().tolist() == [True, False, False, False]   # the top one always


def test_top_p_works_in_vocabulary_order_not_ranked_order():
    from transformer_lesson.decoding import top_p_filter
    logits = torch.tensor([0.05, 0.5, 0.15, 0.3]).log()
    assert top_p_filter(logits, 0.7).isfinite().tolist() == [False, True, False, True]


def test_filters_refuse_bad_k_and_p():
    from transformer_lesson.decoding import top_k_filter, top_p_filter
    with pytest.raises(ValueError, match="vocabulary size"):
        top_k_filter(torch.zeros(4), 5)
    with pytest.raises(ValueError, match=r"p in \(0, 1\]"):
        top_p_filter(torch.zeros(4), 1.5)


def test_top_k_of_one_and_a_tiny_nucleus_sample_the_greedy_sentence():
    model = peaked_model(3)
    src = torch.tensor([[4, 5, 6]])
    greedy = greedy_decode(model, src, max_len=10)[0].tokens
    for options in ({"top_k": 1}, {"top_p": 1e-6}):
        sampled = sample_decode(model, src, temperature=5.0, max_len=10,
                                generator=torch.Generator().manual_seed(0), **options)
        assert sampled[0].tokens == greedy, options
