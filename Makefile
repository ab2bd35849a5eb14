# `make run` and `make test` set themselves up on a fresh clone: they create .venv and install.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1

.PHONY: install run test bench chat clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch lies on the machines' disk; install it first so nothing pulls CUDA.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,llm]'
	touch $(STAMP)

install: $(STAMP)

# Index seeds/ (incrementally: a second run embeds nothing), then start the bot when a
# Discord token is configured, else an interactive terminal session.
run: $(STAMP)
	@# A broken article is named and skipped (exit 1): the rest is indexed, so start anyway.
	$(BIN)/newsdesk index seeds || echo "Some articles could not be indexed (see above); starting with the rest."
	$(BIN)/python -m bot.launch

test: $(STAMP)
	$(BIN)/pytest -q

# The quality benchmark's inner loop (two weeks of the dev set); figures in bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m bench.quality --quick

chat: $(STAMP)
	$(BIN)/newsdesk chat

clean:
	rm -rf $(VENV) data
