#!/bin/bash
# DocqaStreamFunction's AWS_LAMBDA_EXEC_WRAPPER: Lambda runs this instead of the Python runtime. The Lambda
# Web Adapter extension (its layer) polls for invocations, turns Function URL requests into HTTP requests
# to this uvicorn and streams the response back (AWS_LWA_INVOKE_MODE=response_stream).
set -euo pipefail
export PYTHONPATH="${LAMBDA_TASK_ROOT:-/var/task}:/opt/python${PYTHONPATH:+:${PYTHONPATH}}"
exec python3 -m uvicorn docqa.app:streaming_app --host 127.0.0.1 --port "${AWS_LWA_PORT:-8080}" --lifespan off --no-access-log
