from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.bodies import CheckedRoute
from api.deps import Service, get_service

router = APIRouter(tags=["health"], route_class=CheckedRoute)


class Health(BaseModel):
    status: str
    ruleset_version: str
    engine: str
    rules: int
    decision_log: Literal["ok", "unavailable", "full", "disabled"] = Field(
        description="`ok`; `unavailable`: the last write failed and writes are paused for a moment (answers carry "
        "recorded=false); `full`: the size budget is reached; `disabled`: no decision log. The service answers "
        "in every case."
    )


@router.get("/healthz", response_model=Health, summary="Liveness and what is loaded")
async def healthz(service: Service = Depends(get_service)) -> Health:
    writer = service.decision_writer
    return Health(status="ok", ruleset_version=service.ruleset.version, engine=service.evaluator.engine.name,
                  rules=len(service.ruleset.rules), decision_log=writer.state if writer is not None else "disabled")
