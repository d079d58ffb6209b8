from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.bodies import CheckedRoute
from api.deps import Service, get_service

router = APIRouter(tags=["health"], route_class=CheckedRoute)


class Health(BaseModel):
    status: str
    ruleset_version: str
    engine: str
    rules: int


@router.get("/healthz", response_model=Health, summary="Liveness and what is loaded")
def healthz(service: Service = Depends(get_service)) -> Health:
    return Health(status="ok", ruleset_version=service.ruleset.version,
                  engine=service.evaluator.engine.name, rules=len(service.ruleset.rules))
