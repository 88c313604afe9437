"""REST routes over the stored conversations of the web chat (for scripts).

    GET /api/conversations           the caller's conversations, newest first (no turns)
    GET /api/conversations/{id}      one conversation with its turns (question, answer contract, plan)

With auth on, HTTP Basic sees that login's conversations (the ones its browser sessions made); the
bearer token, which belongs to no user, sees everyone's. With auth off (loopback), every
conversation is listed; `?owner=browser:<id>` narrows the list.
"""
from __future__ import annotations

from base64 import b64decode
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from .conversations import store_for
from .schemas import ErrorOut
from .security import Settings


def owner_of(settings: Settings, authorization: str | None) -> str | None:
    """`user:<name>` for HTTP Basic, None (all owners) for the bearer token or when auth is off."""
    if not settings.auth_required or not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        name = b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[0]
    except (ValueError, UnicodeDecodeError):
        return None
    return f"user:{name}"


def conversations_router(settings: Settings) -> APIRouter:
    """The conversation routes, guarded like the rest of /api."""

    def require_auth(request: Request) -> None:
        if settings.auth_required and not settings.header_ok(request.headers.get("authorization")):
            raise HTTPException(401, "authentication required: Authorization: Bearer <token> or HTTP Basic",
                                headers={"WWW-Authenticate": 'Basic realm="assistant", Bearer'})

    router = APIRouter(dependencies=[Depends(require_auth)], tags=["conversations"])

    @router.get("/api/conversations")
    def list_conversations(request: Request,
                           owner: str | None = Query(None, max_length=80, description="only this owner's")) -> list[dict[str, Any]]:
        """Stored conversations, newest first: id, owner, title, created, updated, turn_count."""
        caller = owner_of(settings, request.headers.get("authorization"))
        if caller is not None and owner is not None and owner != caller:
            raise HTTPException(403, "a login sees only its own conversations")
        return [c.summary() for c in store_for(settings.data_dir).list(caller or owner)]

    @router.get("/api/conversations/{conversation_id}", responses={404: {"model": ErrorOut}})
    def get_conversation(conversation_id: str, request: Request) -> dict[str, Any]:
        """One conversation with its turns."""
        caller = owner_of(settings, request.headers.get("authorization"))
        found = store_for(settings.data_dir).get(caller, conversation_id)
        if found is None:
            raise HTTPException(404, f"no conversation with id '{conversation_id}'")
        return found.to_dict()

    return router
