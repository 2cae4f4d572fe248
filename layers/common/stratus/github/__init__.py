"""GitHub for services: the REST client with rate-limit handling (``client``), App authentication (``auth``),
webhook signatures (``webhooks``), unified diffs (``diff``) and the errors they raise (``errors``).

Import the submodule you need: this package imports nothing itself, so a webhook handler that only checks
signatures pays for neither httpx, pyjwt nor the diff parser.
"""
