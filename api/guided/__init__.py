"""The guided form at ``/ui``: a program's review, one section at a time, without writing JSON.

* ``state`` — the form's one piece of state: the profile so far, carried by the form itself and
  re-validated on every post (nothing is kept on the server between steps, nothing is logged);
* ``form`` — which questions a step shows (the question catalog's sections, the ranking's most
  valuable first), how each is drawn, and reading posted answers with errors tied to fields;
* ``findings`` — what the answers so far already show: the findings, worst first, and the
  questions that matter most.

The routes (api/routes/pages.py) stay thin: read the post, call these, render.
"""

from api.guided.findings import so_far
from api.guided.form import REVIEW, StepView, build_step, read_answers, steps
from api.guided.state import FormState, decode, encode, read_state

__all__ = ["FormState", "REVIEW", "StepView", "build_step", "decode", "encode", "read_answers", "read_state",
           "so_far", "steps"]
