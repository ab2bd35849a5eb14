"""A composer variant against the shipped composer, on every dev question, in seconds.

    .venv/bin/python -m bench.replay --set min_answer_probability=0
    .venv/bin/python -m bench.replay --set chat_model_weight=1.5 --show natural,check
    .venv/bin/python -m bench.replay --answer-model /tmp/candidate-model

The inner loop of composer work (bench.composer_cv chooses settings; this shows what one
change moves, and where). Every question is searched once, as `Newsdesk.ask` searches it,
over bench.quality's cached dev index, and the searches are kept on disk: natural-dev,
natural-train (the check set: never tune on it, read whether a rule written from the dev
questions holds there), RealTimeQA dev, and RealTimeQA with every article holding the right
option left out (the composer should refuse those). Then the real composer answers each
question twice, shipped and varied; the answer model's logits and the sentence vectors are
kept on disk too, so a second run of any variant takes seconds. A change to search, to
sentence splitting or to the index needs `--search` (the kept searches are then stale).

Printed: one line per composer (right answers / refusals of the unanswerable on each natural
set; RealTimeQA exact option / answerable questions refused / no-option questions refused)
and every question whose outcome the variant changed, with its new answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from bench import tune
from bench.composer_cv import Case, MemoScorer, cases
from bench.console import err, out
from bench.dataset import DEFAULT_DATASET
from bench.index_cache import CACHE_DIR, bench_settings, cache_key
from bench.natural import NATURAL_DEV
from retrieval.answer_model import AnswerModel
from retrieval.answers import Composer, ComposerOptions
from retrieval.config import RetrievalSettings

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

CHECK_SET = NATURAL_DEV.parent / "natural-train"
# Beside the index it replays (keyed like it by the settings measured), so a new index or
# model starts afresh.
REPLAY_DIR = CACHE_DIR / cache_key(DEFAULT_DATASET.name, bench_settings(RetrievalSettings(), llm=False)) / "replay"
KINDS = ("natural", "check", "rtqa", "noopt")


@dataclasses.dataclass(frozen=True)
class Outcome:
    kind: str  # one of KINDS: "noopt" is a RealTimeQA question with the option's articles left out
    question: str
    answerable: bool
    right: bool  # a correct natural answer, a refused unanswerable one, RealTimeQA's exact option, a
    # no-option question refused (Case.right)
    abstained: bool
    because: str
    text: str


def searched(desk, refresh: bool) -> list[Case]:
    """Every question's passages, searched once and kept in REPLAY_DIR."""
    path = REPLAY_DIR / "searches.pkl"
    if path.exists() and not refresh:
        return pickle.loads(path.read_bytes())
    found = cases(desk, folds=1, check=CHECK_SET, no_option=True)
    REPLAY_DIR.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(found))
    return found


def answer_all(composer: Composer, found: Sequence[Case]) -> list[Outcome]:
    outcomes = []
    for case in found:
        answer = composer.compose(case.text, case.passages, recent_since=case.recent_since)
        outcomes.append(Outcome(case.kind, case.text, getattr(case.question, "answerable", True), case.right(answer),
                                answer.abstained, answer.abstained_because, answer.text))
    return outcomes


def summary(outcomes: Sequence[Outcome]) -> str:
    """natural right / unanswerable refused, the same for the check set, and RealTimeQA's exact /
    answerable refused / no-option refused."""
    n = Counter()
    for o in outcomes:
        if o.kind in ("natural", "check"):
            n[o.kind, "right" if o.answerable else "refused"] += o.right
        else:
            n[o.kind, "right"] += o.right
            n[o.kind, "abstained"] += o.abstained
    return (f"natural-dev {n['natural', 'right']} / {n['natural', 'refused']}, "
            f"natural-train {n['check', 'right']} / {n['check', 'refused']}, "
            f"RealTimeQA {n['rtqa', 'right']} / {n['rtqa', 'abstained']} / {n['noopt', 'abstained']}")


def changed(before: Sequence[Outcome], after: Sequence[Outcome]) -> list[tuple[str, Outcome]]:
    """("gained" | "lost" | "moved", outcome after) for each question the variant answers
    otherwise; "moved" is a changed answer or refusal that is no more and no less right."""
    found = []
    for b, a in zip(before, after, strict=True):
        if (b.right, b.abstained, b.text) == (a.right, a.abstained, a.text):
            continue
        found.append(("gained" if a.right > b.right else "lost" if a.right < b.right else "moved", a))
    return found


class DiskMemo:
    """An answer model's logits and the sentence vectors of earlier runs, kept in REPLAY_DIR
    under a digest of the model's weights (a model retrained in the same folder starts afresh)."""

    def __init__(self, model: AnswerModel):
        digest = hashlib.sha256((model.folder / "model.onnx").read_bytes()).hexdigest()[:16]
        self.path = REPLAY_DIR / f"memo-{digest}.pkl"

    def load(self, scorer: MemoScorer, embeddings) -> None:
        if self.path.exists():
            memo = pickle.loads(self.path.read_bytes())
            scorer.memo.update(memo["logits"])
            embeddings.memo.update(memo["vectors"])

    def save(self, scorer: MemoScorer, embeddings) -> None:
        self.path.write_bytes(pickle.dumps({"logits": scorer.memo, "vectors": embeddings.memo}))


def parse_settings(settings: Sequence[str]) -> dict:
    """{"min_evidence": 0.6} from ["min_evidence=0.6"], typed as ComposerOptions' fields are."""
    types = {f.name: f.type for f in dataclasses.fields(ComposerOptions)}
    update = {}
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or name not in types:
            raise typer.BadParameter(f"{setting!r}: expected NAME=VALUE with NAME one of {', '.join(types)}")
        update[name] = int(value) if types[name] in (int, "int") else float(value)
    return update


@app.command()
def main(set_: Annotated[list[str] | None, typer.Option("--set", help="a ComposerOptions field's value for "
                         "the variant, NAME=VALUE (repeatable)")] = None,
         answer_model: Annotated[Path | None, typer.Option(help="the variant's answer model folder (a "
                                 "candidate from training/), with its own calibration")] = None,
         show: Annotated[str, typer.Option(help="whose changed questions to list, of " + ",".join(KINDS))]
         = "natural,rtqa,noopt",
         search: Annotated[bool, typer.Option("--search", help="search every question again")] = False,
         dump: Annotated[Path | None, typer.Option(help="write the variant's outcomes here, a JSON line each")]
         = None) -> None:
    update = parse_settings(set_ or [])  # a typo fails before the index loads
    _, desk = tune.cached_desk(False, memoise=True)
    found = searched(desk, search)
    shipped_scorer = MemoScorer(desk.composer.answer_model)
    memo = DiskMemo(desk.composer.answer_model)
    memo.load(shipped_scorer, desk.embeddings)
    shipped = tune.offline_composer(desk, desk.composer.options, shipped_scorer)
    options, scorer = desk.composer.options, shipped_scorer
    if answer_model:
        candidate = AnswerModel(answer_model)
        scorer = MemoScorer(candidate)
        options = dataclasses.replace(options, min_answer_probability=candidate.min_probability)
        DiskMemo(candidate).load(scorer, desk.embeddings)
    variant = tune.offline_composer(desk, dataclasses.replace(options, **update), scorer)
    with err.status("composing"):
        before, after = answer_all(shipped, found), answer_all(variant, found)
    memo.save(shipped_scorer, desk.embeddings)
    if answer_model:
        DiskMemo(candidate).save(scorer, desk.embeddings)
    out.print(f"shipped: {summary(before)}")
    out.print(f"variant: {summary(after)}")
    wanted = set(show.split(","))
    for change, o in changed(before, after):
        if o.kind in wanted:
            said = f"refused ({o.because})" if o.abstained else o.text[:200]
            out.print(f"  {change} {o.kind}: {o.question[:100]} -> {said}", highlight=False)
    if dump:
        dump.write_text("".join(json.dumps(dataclasses.asdict(o)) + "\n" for o in after), encoding="utf-8")


if __name__ == "__main__":
    app()
