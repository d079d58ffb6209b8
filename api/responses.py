"""Answers serialised once, by pydantic's Rust serialiser.

A route that returns a model lets FastAPI dump it to a dict, validate that dict against the
route's ``response_model`` again and encode it with the standard library: three passes over a
decision that PeerCheck has just built from validated data. Routes that answer with
``model_response`` skip the repeat (FastAPI sends a returned ``Response`` as it is); their
``response_model`` still documents the answer in OpenAPI, and tests/test_schemathesis.py checks live
answers against that schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel


def model_response(model: BaseModel, status_code: int = 200, exclude: set[str] | dict[str, Any] | None = None) -> Response:
    """``model`` as an ``application/json`` response, encoded once (without the ``exclude`` fields)."""
    return Response(model.model_dump_json(exclude=exclude or None), status_code=status_code, media_type="application/json")
