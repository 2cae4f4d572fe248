"""The Step Functions tasks of the multi-agent state machine: ``control`` (the supervisor's steps) and ``agent``
(one agent step)."""
