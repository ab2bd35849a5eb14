"""The `newsdesk` command line: its JSON contract, batch modes, exit codes and messages."""

import json

import pytest
from typer.testing import CliRunner

from retrieval.answers import ABSTAIN_OFF_TOPIC
from retrieval.cli import CHAT_HELP, app, chat_command

from conftest import SEED_ID, SEEDS

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, model):
    folder = tmp_path_factory.mktemp("cli-data")
    result = runner.invoke(app, ["--data-dir", str(folder), "index", str(SEEDS), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"added": 1, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 0,
                                         "failures": [], "chunks_embedded": 3}
    return folder


def cli(data_dir, *args):
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


def test_reindex_says_nothing_changed(data_dir):
    result = cli(data_dir, "index", str(SEEDS))
    assert result.exit_code == 0
    assert result.stdout.strip() == "Nothing changed (added 0, updated 0, unchanged 1, deleted 0, failed 0)."


def test_ask_json_contract(data_dir):
    result = cli(data_dir, "ask", "Which crossings closed?", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"question", "answer", "abstained", "citations", "passages"}
    assert payload["question"] == "Which crossings closed?" and payload["abstained"] is False
    [citation] = payload["citations"]
    assert set(citation) == {"n", "doc_id", "title", "source", "date", "url", "quote"}
    assert (citation["n"], citation["doc_id"], citation["source"]) == (1, SEED_ID, "USA TODAY")
    assert all(set(p) == {"doc_id", "chunk_id", "score", "text"} for p in payload["passages"])


def test_ask_text_lists_sources(data_dir):
    result = cli(data_dir, "ask", "Which crossings closed?")
    assert result.exit_code == 0
    assert result.stdout.endswith(
        "Sources\n[1] Biden, Mexico president agree border crisis needs urgent enforcement — USA TODAY, 2023-12-21\n")


def test_a_refusal_on_a_covered_topic_names_the_closest_articles(data_dir):
    result = cli(data_dir, "ask", "When will the ports of entry reopen?")
    assert result.exit_code == 0
    assert result.stdout == (
        "I couldn't find that in the indexed articles.\n\nClosest articles (they may not say it plainly)\n"
        "- Biden, Mexico president agree border crisis needs urgent enforcement — USA TODAY, 2023-12-21\n")


def test_search_json_contract(data_dir):
    payload = json.loads(cli(data_dir, "search", "Eagle Pass", "--k", "3", "--json").stdout)
    assert payload["query"] == "Eagle Pass"
    assert [r["rank"] for r in payload["results"]] == [1, 2]
    assert set(payload["results"][0]) == {"rank", "doc_id", "chunk_id", "score", "title", "date", "source", "url", "text"}


def test_batch_answers_in_input_order(data_dir, tmp_path):
    batch = tmp_path / "questions.txt"
    batch.write_text('Which crossings closed?\n\n{"question": "Who won the 2022 World Cup?"}\n'
                     '{"question": "Which crossings closed?", "as_of": "2023-12-01"}\n{"question": ""}\n')
    result = cli(data_dir, "ask", "--batch", str(batch), "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r.get("question"), r.get("abstained")) for r in rows] == [
        ("Which crossings closed?", False), ("Who won the 2022 World Cup?", True),
        ("Which crossings closed?", True), ("", None)]
    assert [r.get("abstained_because") for r in rows[:3]] == [None, ABSTAIN_OFF_TOPIC, ABSTAIN_OFF_TOPIC]
    assert rows[3]["line"] == 5 and rows[3]["error"].startswith("Please ask a question")
    searched = [json.loads(line) for line in cli(data_dir, "search", "--batch", str(batch), "--json").stdout.splitlines()]
    assert [len(r.get("results", [])) for r in searched] == [2, 2, 0, 0]


def test_empty_question_is_a_message_not_a_traceback(data_dir):
    result = cli(data_dir, "ask", "   ")
    assert result.exit_code == 1
    assert "error: Please ask a question" in result.stderr and "Traceback" not in result.output


def test_bad_as_of_date(data_dir):
    result = cli(data_dir, "ask", "Which crossings closed?", "--as-of", "last tuesday")
    assert result.exit_code == 2
    assert "--as-of must be a date like 2023-12-21, not 'last tuesday'" in result.stderr


def test_summary_forms(data_dir):
    article = json.loads(cli(data_dir, "summary", "--article", SEED_ID, "--json").stdout)
    assert article["kind"] == "article" and article["citations"][0]["doc_id"] == SEED_ID
    dates = json.loads(cli(data_dir, "summary", "--since", "2023-12-01", "--until", "2023-12-31", "--json").stdout)
    assert dates["subject"] == "2023-12-01 to 2023-12-31" and len(dates["points"]) == 1
    topic = cli(data_dir, "summary", "--topic", "border crossings")
    assert topic.exit_code == 0 and "[1]" in topic.stdout
    both = cli(data_dir, "summary", "--topic", "x", "--article", "y")
    assert both.exit_code == 2 and "exactly one of --article, --topic or --since" in both.stderr


def test_sources_json(data_dir):
    assert [s["doc_id"] for s in json.loads(cli(data_dir, "sources", "--json").stdout)] == [SEED_ID]


def test_chat_reads_piped_questions(data_dir):
    result = runner.invoke(app, ["--data-dir", str(data_dir), "chat"], input="Which crossings closed?\n\nquit\nnever asked\n")
    assert result.exit_code == 0
    assert result.stdout.count("? ") == 1 and "San Ysidro" in result.stdout and "never asked" not in result.stdout


def test_chat_is_one_conversation_until_new(data_dir):
    lines = ["What did Biden and Mexico's president agree?", "and who spoke with him?", "/new", "and who spoke with him?"]
    result = runner.invoke(app, ["--data-dir", str(data_dir), "chat"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0
    first, second = result.stdout.split("A new conversation: the next question is read on its own.")
    # The follow-up is read with the question before it, as in a Discord thread; after /new
    # it stands alone, and alone it names nobody (test_follow_up_uses_the_thread_history).
    assert "López Obrador" in first.split("? and who spoke with him?")[1]
    assert "I couldn't find that in the indexed articles." in second


def test_chat_understands_the_discord_commands_typed_as_lines(data_dir):
    lines = ["help", "/help", "/summary topic: border crossings", "/summary since: 2023-12-01 until: 2023-12-31",
             "/sources", "summary", "/bogus"]
    result = runner.invoke(app, ["--data-dir", str(data_dir), "chat"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0
    assert result.stdout.count(CHAT_HELP.splitlines()[0]) == 2
    assert "border crossings\n- 2023-12-21:" in result.stdout
    assert "2023-12-01 to 2023-12-31\n- 2023-12-21:" in result.stdout
    assert f"{SEED_ID} · 3 chunks" in result.stdout and "1 article" in result.stdout
    assert "I couldn't find that" not in result.stdout  # no command was answered as a question
    assert " ".join(result.stderr.split()) == (
        "Give exactly one of `article:`, `topic:`, or `since:` (with an optional `until:`). "
        "/bogus is not a command here; type /help for the list.")


def test_chat_commands_are_told_from_questions():
    assert chat_command("/summary topic: the port strike") == ("summary", {"topic": "the port strike"}, "")
    assert chat_command("summary since:2024-01-02 until: 2024-01-09") == (
        "summary", {"since": "2024-01-02", "until": "2024-01-09"}, "")
    assert chat_command("Sources") == ("sources", {}, "")
    assert chat_command("help") == ("help", {}, "")
    assert chat_command("what help did the city get?") is None
    assert chat_command("summary of the budget vote?") is None


def test_index_with_failures_exits_1(tmp_path, data_dir):
    (tmp_path / "empty.txt").write_text("")
    result = cli(data_dir, "index", str(tmp_path))
    assert result.exit_code == 1
    assert f"skipped {tmp_path / 'empty.txt'}: article has no text" in " ".join(result.stderr.split())


def test_every_command_has_help():
    for command in ("index", "check", "ask", "search", "summary", "sources", "chat"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_a_rejected_question_with_json_is_a_json_error(data_dir):
    result = cli(data_dir, "ask", "   ", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"error": "Please ask a question, e.g. “which border crossings closed?”",
                                         "kind": "question"}
    missing = cli(data_dir, "summary", "--article", "no-such-article", "--json")
    assert missing.exit_code == 1 and json.loads(missing.stdout)["kind"] == "not_found"


def test_check_on_a_sound_index_repairs_nothing(data_dir):
    result = cli(data_dir, "check", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"articles": 1, "chunks": 3, "discarded_chunks": 0, "discarded_articles": [],
                                         "broken": [], "mixed": [], "tombstones": 0}
