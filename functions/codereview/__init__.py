"""codereview: the GitHub pull-request review agent (signed webhooks, staged review, inline comments, feedback)."""
