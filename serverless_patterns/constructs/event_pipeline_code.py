"""Packaging your own processor with the pipeline's batching, retries and idempotency.

Write a package with a module such as::

    # my_processor/handler.py
    from serverless_patterns.lambdas.event_pipeline.process import build_handler

    def enrich(message, stream):          # PipelineMessage, a byte stream
        ...                               # raise InvalidContentError to park, RetryLaterError to defer
        return {"rows": rows}             # the summary written to processed/{key}.json

    handler = build_handler(enrich)

and give the pipeline ``process_code=processor_code("path/to/my_processor")`` and
``process_handler="my_processor.handler.handler"``.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from aws_cdk import aws_lambda as lambda_

from serverless_patterns.constructs.lambda_code import staged_package

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


def processor_code(package_dir: str | Path) -> lambda_.Code:
    """One asset: your processor package beside ``serverless_patterns.lambdas.event_pipeline``."""
    source = Path(package_dir).resolve()
    if not (source / "__init__.py").is_file():
        raise ValueError(f"{source} is not a Python package (no __init__.py)")
    if source.name == "serverless_patterns":
        raise ValueError("name your processor package something other than serverless_patterns")
    root = Path(tempfile.mkdtemp(prefix="event-pipeline-processor-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    shutil.copytree(staged_package("event_pipeline"), root, dirs_exist_ok=True)
    shutil.copytree(source, root / source.name, ignore=_IGNORED)
    return lambda_.Code.from_asset(str(root))
