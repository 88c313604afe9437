"""REST routes for managing plans (upload → parse report → accept; delete; correct metadata).

    POST   /api/plans                   multipart `file` (.txt/.md/.docx/.pdf) → 201 parse report, pending
    GET    /api/uploads/{upload_id}     the parse report of a pending upload
    POST   /api/uploads/{upload_id}/accept   move it into the corpus, update the index → the new plan id
    DELETE /api/uploads/{upload_id}     discard a pending upload
    PATCH  /api/plans/{plan_id}         {"title"?, "issuer"?, "year"?} → stored in the plan's sidecar file
    DELETE /api/plans/{plan_id}         remove a plan (its file is kept under <data>/deleted/)

All need credentials whenever auth is on (the same check as every /api route). The work is in
`plan_admin.py`; this module only maps it to HTTP.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from .plan_admin import MAX_UPLOAD_BYTES, AdminError, PlanAdmin
from .schemas import ErrorOut
from .security import Settings

UPLOAD_PATH = "/api/plans"
UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 64 * 1024  # the file plus the multipart envelope


class MetaIn(BaseModel):
    """A metadata correction: any of title, issuer, year."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = None
    issuer: str | None = None
    year: int | None = None


def plan_admin_for(assistant: Any, data_dir: Path) -> PlanAdmin:
    """The one PlanAdmin of an Assistant (the API and the browser panel share its lock)."""
    admin: PlanAdmin | None = getattr(assistant, "_plan_admin", None)
    if admin is None:
        admin = PlanAdmin(assistant, getattr(assistant, "corpus_dir", None), data_dir)
        assistant._plan_admin = admin
    return admin


def plans_router(assistant: Any, settings: Settings) -> APIRouter:
    """The plan-management routes, guarded like the rest of /api."""

    def require_auth(request: Request) -> None:
        if settings.auth_required and not settings.header_ok(request.headers.get("authorization")):
            raise HTTPException(401, "authentication required: Authorization: Bearer <token> or HTTP Basic",
                                headers={"WWW-Authenticate": 'Basic realm="assistant", Bearer'})

    admin = plan_admin_for(assistant, settings.data_dir)
    router = APIRouter(dependencies=[Depends(require_auth)], tags=["plan management"])
    errors: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (400, 401, 404, 409, 413, 415, 422)}

    async def call(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await run_in_threadpool(fn, *args)
        except AdminError as exc:
            raise HTTPException(exc.status, str(exc)) from exc

    @router.post(UPLOAD_PATH, status_code=201, responses=errors)
    async def upload_plan(file: UploadFile = File(..., description=".txt, .md, .docx or .pdf, at most 10 MB")) -> dict[str, Any]:
        """Upload a plan file: it is checked and parsed, and its parse report returned. Nothing is indexed
        until the upload is accepted (`POST /api/uploads/{upload_id}/accept`)."""
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"file too large (at most {MAX_UPLOAD_BYTES} bytes)")
        report = await call(admin.stage, data, file.filename or "")
        staged: dict[str, Any] = report.to_dict()
        return staged

    @router.get("/api/uploads/{upload_id}", responses=errors)
    async def upload_report(upload_id: str) -> dict[str, Any]:
        """The parse report of a pending upload."""
        pending: dict[str, Any] = (await call(admin.pending, upload_id))[1].to_dict()
        return pending

    @router.post("/api/uploads/{upload_id}/accept", responses=errors)
    async def accept_upload(upload_id: str) -> dict[str, Any]:
        """Add the uploaded plan to the corpus and update the index (only its chunks are embedded)."""
        accepted: dict[str, Any] = await call(admin.accept, upload_id)
        return accepted

    @router.delete("/api/uploads/{upload_id}", responses=errors)
    async def discard_upload(upload_id: str) -> dict[str, Any]:
        """Throw a pending upload away."""
        await call(admin.discard, upload_id)
        return {"discarded": upload_id}

    @router.patch("/api/plans/{plan_id}", responses=errors)
    async def correct_plan(plan_id: str, body: MetaIn) -> dict[str, Any]:
        """Correct a plan's title, issuer or year; kept in a sidecar file, so a rebuild keeps it."""
        corrected: dict[str, Any] = await call(admin.correct, plan_id, body.model_dump(exclude_none=True))
        return corrected

    @router.delete("/api/plans/{plan_id}", responses=errors)
    async def delete_plan(plan_id: str) -> dict[str, Any]:
        """Remove a plan from the corpus and the index (its file is moved to <data>/deleted/)."""
        deleted: dict[str, Any] = await call(admin.delete, plan_id)
        return deleted

    return router
