"""platform: accounts, API keys, agents with versions and deploys, runs, and metered usage (routes under /platform).

The package carries a trailing underscore (PEP 8) because ``platform`` is a standard-library module that
botocore and others import: a top-level package of that name would shadow it.
"""
