"""Contract tests: template.yaml, the handlers, the HTTP routes, state machines and sample events agree."""
