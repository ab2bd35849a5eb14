"""Train the answer model: does this sentence state the answer to this question?

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python -m training.train_answer_model            # writes retrieval/answer_model/

A cross-encoder fine-tuned from the packaged all-MiniLM-L6-v2 (the same weights the
embeddings use, so nothing new is downloaded): the question and one sentence go in together,
mean-pooled, and a linear head gives the logit that the sentence states the answer. It is
exported to ONNX and quantised to int8, so answering needs onnxruntime and tokenizers only,
never torch.

Training data is `../shared/eval/natural-train` (chat-style questions written for this
project over RealTimeQA articles that are not gold for any natural-dev question), read by
path and never copied into the repository:
- an answerable question's `evidence` sentence is a positive;
- the other sentences of its source article are negatives, the ones sharing most words with
  the question first (the sentences retrieval will put in front of the model), except those
  that hold every answer group too (they may well answer it: left out, not mislabelled);
- an unanswerable question's most similar sentences are negatives: topical, even near
  misses (an estimate where a count is asked), and the model must learn to say no to them.

The model is chosen and calibrated on natural-dev and RealTimeQA (bench/quality.py), never
on this training set. The script prints the share of natural-dev questions whose
first-ranked sentence of the gold article holds every answer group, for the torch model and
for the exported int8 ONNX model, as a check that export and quantisation lost nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer

from bench.natural import holds  # the natural set's scoring rule: every answer group present
from retrieval.answer_model import CALIBRATION, MAX_TOKENS, AnswerModel
from retrieval.embeddings import resolve_model_path
from retrieval.lexical import terms
from retrieval.sentences import sentence_spans

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"
OUT = ROOT / "retrieval" / "answer_model"
MIN_SENTENCE_CHARS = 25


class PairScorer(nn.Module):
    """MiniLM over "[CLS] question [SEP] sentence [SEP]", mean-pooled, one logit."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.config.hidden_size, 1)

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)


def load_articles(path: Path) -> dict[str, dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return {a["id"]: a for a in map(json.loads, fh)}


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text) if e - s >= MIN_SENTENCE_CHARS]


def by_overlap(question: str, sentences: list[str]) -> list[str]:
    """Sentences sharing most (stemmed) words with the question first."""
    asked = set(terms(question))
    return sorted(sentences, key=lambda s: -len(asked & set(terms(s))))


def training_pairs(questions: list[dict], articles: dict[str, dict], negatives: int, unanswerable_negatives: int,
                   hard: int, rng: random.Random) -> list[tuple[str, str, float]]:
    """(question, sentence, label) pairs: `negatives` per answerable question (the `hard`
    sharing most words with it, the rest sampled) and `unanswerable_negatives` per
    unanswerable one (its most similar sentences)."""
    pairs = []
    for q in questions:
        article = articles.get(q["source_doc_id"])
        if article is None:
            continue
        sentences = sentences_of(article["text"])
        if q["answerable"]:
            evidence = q["evidence"]
            pairs.append((q["question"], evidence, 1.0))
            others = [s for s in sentences if s not in evidence and evidence not in s
                      and not holds(s, q["must_include"])]
            ranked = by_overlap(q["question"], others)
            chosen = ranked[:hard] + rng.sample(ranked[hard:], max(0, min(negatives - hard, len(ranked) - hard)))
        else:
            chosen = by_overlap(q["question"], sentences)[:unanswerable_negatives]
        pairs += [(q["question"], s, 0.0) for s in chosen]
    rng.shuffle(pairs)
    return pairs


def top1_holds(score, questions: list[dict], articles: dict[str, dict]) -> float:
    """Share of answerable questions whose best-scored gold-article sentence holds every group."""
    right = total = 0
    for q in questions:
        if not q["answerable"]:
            continue
        sentences = [s for d in q["gold_doc_ids"] if d in articles for s in sentences_of(articles[d]["text"])]
        if not sentences:
            continue
        scores = score(q["question"], sentences)
        right += holds(sentences[int(np.argmax(scores))], q["must_include"])
        total += 1
    return right / total


def train_one(seed: int, args: argparse.Namespace, tokenizer, base: Path, train: list[dict],
              articles: dict[str, dict]) -> PairScorer:
    """One model fine-tuned from `base`, its pairs sampled and shuffled with `seed`."""
    random.seed(seed)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = PairScorer(AutoModel.from_pretrained(str(base)))
    pairs = training_pairs(train, articles, args.negatives, args.unanswerable_negatives, args.hard, rng)
    if args.extra_pairs:
        pairs += [tuple(json.loads(line)) for line in args.extra_pairs.open(encoding="utf-8")]
        rng.shuffle(pairs)
    print(f"seed {seed}: {len(pairs)} pairs ({sum(p[2] for p in pairs):.0f} positive) from {len(train)} questions")
    optimiser = torch.optim.AdamW([
        {"params": model.encoder.parameters(), "lr": args.lr},
        {"params": model.head.parameters(), "lr": args.lr * args.head_lr_factor},
    ], weight_decay=0.01)
    steps = args.epochs * ((len(pairs) + args.batch - 1) // args.batch)
    warmup = 0.1 * steps

    def rate(step: int) -> float:
        if step < warmup or not args.decay:
            return min(1.0, (step + 1) / warmup)
        return max(0.0, (steps - step) / (steps - warmup))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    loss_fn = nn.BCEWithLogitsLoss()
    model.train()
    started = time.perf_counter()
    for epoch in range(args.epochs):
        for i in range(0, len(pairs), args.batch):
            batch = pairs[i:i + args.batch]
            inputs = encode(tokenizer, batch)
            logits = model(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"])
            loss = loss_fn(logits, torch.tensor([p[2] for p in batch]))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            if (i // args.batch) % 50 == 0:
                print(f"seed {seed} epoch {epoch} step {i // args.batch}/{steps}: loss {loss.item():.3f} "
                      f"({time.perf_counter() - started:.0f} s)", flush=True)
    model.eval()
    return model


def encode(tokenizer, batch):
    return tokenizer([q for q, _, _ in batch], [s for _, s, _ in batch], truncation="only_second",
                     max_length=MAX_TOKENS, padding=True, return_tensors="pt")


def soup(states: list[dict], base: Path) -> PairScorer:
    """The uniform average of the weights of models fine-tuned from the same base: one model,
    at one model's cost, that does as well as its best ingredient and steadier than any."""
    model = PairScorer(AutoModel.from_pretrained(str(base)))
    model.load_state_dict({name: sum(s[name].float() for s in states) / len(states)
                           if states[0][name].is_floating_point() else states[0][name] for name in states[0]})
    model.eval()
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--negatives", type=int, default=6, help="negatives per answerable question")
    parser.add_argument("--hard", type=int, default=0, help="of them, those sharing most words with the question")
    parser.add_argument("--unanswerable-negatives", type=int, default=3,
                        help="negatives per unanswerable question: its most similar sentences")
    parser.add_argument("--head-lr-factor", type=float, default=1.0, help="the fresh head's learning rate, "
                        "as a multiple of --lr")
    parser.add_argument("--decay", action="store_true", help="decay the learning rate linearly to 0 after the "
                        "warm-up (default: hold it)")
    parser.add_argument("--extra-pairs", type=Path, help="more (question, sentence, label) pairs, a JSON list a line")
    parser.add_argument("--seeds", default="13", help="comma-separated: one model is trained per seed and their "
                        "weights averaged (a model soup)")
    parser.add_argument("--save-torch", type=Path, help="also save each seed's weights in this folder "
                        "(seed-N.pt state dicts)")
    parser.add_argument("--soup-of", type=Path, nargs="+", help="train nothing: average these saved state dicts")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    base = resolve_model_path("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    articles = load_articles(EVAL / "realtimeqa-dev" / "articles.jsonl.gz")
    train = [json.loads(line) for line in (EVAL / "natural-train" / "questions.jsonl").open(encoding="utf-8")]
    dev = [json.loads(line) for line in (EVAL / "natural-dev" / "questions.jsonl").open(encoding="utf-8")]
    started = time.perf_counter()

    def torch_scorer(model: PairScorer):
        @torch.no_grad()
        def score(question: str, sentences: list[str]) -> np.ndarray:
            inputs = encode(tokenizer, [(question, s, 0.0) for s in sentences])
            return model(inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"]).numpy()
        return score

    if args.soup_of:
        states = [torch.load(path, map_location="cpu") for path in args.soup_of]
    else:
        states = []
        for seed in (int(s) for s in args.seeds.split(",")):
            model = train_one(seed, args, tokenizer, base, train, articles)
            print(f"seed {seed}: natural-dev top-1 answer sentence of the gold article, torch: "
                  f"{top1_holds(torch_scorer(model), dev, articles):.3f}", flush=True)
            states.append(model.state_dict())
            if args.save_torch:
                args.save_torch.mkdir(parents=True, exist_ok=True)
                torch.save(states[-1], args.save_torch / f"seed-{seed}.pt")
    model = soup(states, base)  # of one seed: that seed's model
    print(f"natural-dev top-1 answer sentence of the gold article, torch: "
          f"{top1_holds(torch_scorer(model), dev, articles):.3f}")
    export(model, tokenizer, base, args.out)
    onnx_model = AnswerModel(args.out)
    print(f"natural-dev top-1 answer sentence of the gold article, int8 ONNX: "
          f"{top1_holds(onnx_model.logits, dev, articles):.3f}")
    print(f"done in {time.perf_counter() - started:.0f} s; wrote {args.out}")
    print("The model's probability rule is off until its threshold is chosen for these weights: "
          "python -m bench.composer_cv --grid 'min_answer_probability=0,0.05,0.1,0.15', "
          f"then set it in {args.out / CALIBRATION}")


def export(model: PairScorer, tokenizer, base: Path, out: Path) -> None:
    """ONNX (fp32, then dynamically quantised to int8) and the tokenizer beside it."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    sample = tokenizer(["who spoke?"], ["Biden spoke with Mexico's president."], return_tensors="pt")
    fp32 = out / "model-fp32.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(model, tuple(sample[n] for n in names), str(fp32), input_names=names,
                      output_names=["logits"], dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names} | {
                          "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    shutil.copy(base / "tokenizer.json", out / "tokenizer.json")
    # Another model's threshold would be wrong for these weights (a second seed's probabilities
    # ran lower, and 0.1 refused 0.275 of natural-dev's answerable questions): off until chosen.
    (out / CALIBRATION).write_text(json.dumps({
        "min_answer_probability": 0.0,
        "chosen_by": "not chosen yet for these weights: python -m bench.composer_cv "
                     "--grid 'min_answer_probability=0,0.05,0.1,0.15'",
    }, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
