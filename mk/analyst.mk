# analyst: the embedded Chinook sample, built from the shared data beside the repository (../shared/data).
# The file ships with the function code (functions/analyst/sample/, git-ignored), so `sam build` picks it up.

ANALYST_SHARED_DATA ?= $(CURDIR)/../shared/data/text-to-sql
ANALYST_CHINOOK_SQL := $(ANALYST_SHARED_DATA)/chinook/Chinook_Sqlite.sql
ANALYST_SAMPLE := functions/analyst/sample/chinook.sqlite

.PHONY: analyst-sample bench-analyst

analyst-sample: $(ANALYST_SAMPLE) ## Build the analyst's Chinook sample database

$(ANALYST_SAMPLE): $(ANALYST_CHINOOK_SQL) functions/analyst/sample.py | $(STAMP)
	$(PY) -m analyst.sample $(ANALYST_CHINOOK_SQL) $@

bench-analyst: $(ANALYST_SAMPLE) ## Analyst: guard+execution overhead, offline accuracy, attack corpus
	$(PY) bench/analyst.py
