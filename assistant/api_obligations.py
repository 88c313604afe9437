"""REST route for a plan's school obligations (the records behind the 校长视角 checklist).

    GET /api/plans/{plan_id}/obligations?party=小学&before=2020-06-30

`party` is one of 学校 幼儿园 小学 初中 普通高中 中职 特殊教育 民办 高校 (a duty of schools in
general binds every type); `before` (ISO date) keeps the obligations due on or before it. Unknown
plan → 404; a bad party or date → 422 (the app's JSON error handlers shape both).
"""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, get_args

from collections.abc import Sequence

from fastapi import APIRouter, HTTPException, Query, params
from pydantic import BaseModel

from . import obligations
from .schemas import ErrorOut
from .web_item_page import PlanSource

# The school types spelled out for the type checker; the assert keeps them equal to obligations.PARTIES.
Party = Literal["学校", "幼儿园", "小学", "初中", "普通高中", "中职", "特殊教育", "民办", "高校"]
assert list(get_args(Party)) == [obligations.SCHOOLS, *obligations.PARTIES]


class DeadlineOut(BaseModel):
    """A deadline as printed and as dates (`kind`: date, period or recurring)."""

    printed: str
    kind: str
    due: date | None = None
    start: date | None = None
    every: str | None = None


class TargetOut(BaseModel):
    """A quantity the clause sets, and the phrase it stands in."""

    value: str
    phrase: str


class ObligationOut(BaseModel):
    """One requirement binding schools: a whole clause of one item; `quote` = offsets in the item's text."""

    plan_id: str
    plan: str
    item_id: str
    item: str | None
    item_title: str
    action: str
    parties: list[str]
    deadline: DeadlineOut | None
    targets: list[TargetOut]
    quote: dict[str, int]
    link_text: str
    link: str  # the item page with the clause marked (relative URL)


def obligations_router(assistant: PlanSource, dependencies: Sequence[params.Depends]) -> APIRouter:
    """The obligations route, guarded by the same dependencies as the rest of /api."""
    router = APIRouter(dependencies=dependencies, tags=["plans"])

    @router.get("/api/plans/{plan_id}/obligations", response_model=list[ObligationOut],
                responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}})
    def plan_obligations(plan_id: str,
                         party: Annotated[Party | None, Query(description="school type; 学校 = every school")] = None,
                         before: Annotated[date | None, Query(description="due on or before (YYYY-MM-DD)")] = None,
                         ) -> list[dict[str, Any]]:
        """What the plan requires of schools, clause by clause, optionally for one school type and due by a date."""
        plan = next((p for p in assistant.plans() if p.id == plan_id), None)
        if plan is None:
            raise HTTPException(404, f"no plan with id '{plan_id}'")
        return [ob.to_dict() for ob in obligations.for_plan(plan, party, before)]

    return router
