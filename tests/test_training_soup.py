"""The answer model's training script averages the weights of several seeds' models (a soup)."""

import torch
from transformers import AutoModel

from retrieval.embeddings import resolve_model_path
from training.train_answer_model import PairScorer, soup


def test_a_soup_is_the_average_of_its_ingredients_weights():
    base = resolve_model_path("all-MiniLM-L6-v2")
    states = []
    for fill in (1.0, 3.0):
        model = PairScorer(AutoModel.from_pretrained(str(base)))
        torch.nn.init.constant_(model.head.weight, fill)
        states.append({name: value.clone() for name, value in model.state_dict().items()})
    mixed = soup(states, base).state_dict()
    assert torch.equal(mixed["head.weight"], torch.full_like(mixed["head.weight"], 2.0))
    name = "encoder.embeddings.word_embeddings.weight"
    assert torch.allclose(mixed[name], states[0][name])  # the same base weights stay as they were
    one = soup(states[:1], base).state_dict()
    assert all(torch.equal(one[k], states[0][k]) for k in one)  # a soup of one model is that model
