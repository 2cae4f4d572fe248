# Complexity gate (issue 10): a function or method of cyclomatic complexity rank D (21 and over) or worse
# fails `make lint`. Module and average limits sit at C, which only a D-or-worse block can exceed.

.PHONY: complexity

complexity: $(STAMP) ## xenon: no block ranked D or worse in the layer or the services
	$(VENV)/bin/xenon --max-absolute C --max-modules C --max-average C layers/common/stratus functions

lint: complexity
