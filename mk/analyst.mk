# analyst: the embedded Chinook sample, built from the shared data beside the repository (../shared/data).
# The file ships with the function code (functions/analyst/sample/, git-ignored), so `sam build` picks it up;
# without it the service builds the sample on first use when the shared data is there, else answers 503.

ANALYST_SHARED_DATA ?= $(CURDIR)/../shared/data/text-to-sql
ANALYST_CHINOOK_SQL := $(ANALYST_SHARED_DATA)/chinook/Chinook_Sqlite.sql
ANALYST_SAMPLE := functions/analyst/sample/chinook.sqlite

.PHONY: analyst-sample bench-analyst

ifneq ($(wildcard $(ANALYST_CHINOOK_SQL)),)
analyst-sample: $(ANALYST_SAMPLE) ## Build the analyst's Chinook sample database

$(ANALYST_SAMPLE): $(ANALYST_CHINOOK_SQL) functions/analyst/sample.py | $(STAMP)
	$(PY) -m analyst.sample $(ANALYST_CHINOOK_SQL) $@
else
analyst-sample:
	@echo "analyst: $(ANALYST_CHINOOK_SQL) not found; the Chinook sample is not built (see SOURCES.md)"
endif

# The sample must be in place before the tests, the local stack and the SAM build that packages it.
test dev build: analyst-sample

bench-analyst: analyst-sample ## Analyst: guard+execution overhead, offline accuracy, attack corpus
	$(PY) bench/analyst.py
