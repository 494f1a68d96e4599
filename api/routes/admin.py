"""Keys, the audit log and the settings view (admin), and ``/auth/whoami`` (any key)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status

from api.deps import OPEN, AdminDep, ReaderDep, SettingsDep, StaffDep
from api.schemas import AuditOut, KeyCreated, KeyIn, KeyOut, WhoAmI
from index.staff import StaffError, embed_snippet

router = APIRouter(tags=["staff"])
SECRET_SETTINGS = frozenset({"api_key", "admin_key", "llm_api_key"})


@router.get("/auth/whoami", response_model=WhoAmI, summary="Which role the presented key has")
def whoami(caller: ReaderDep) -> WhoAmI:
    return WhoAmI(name=caller.name, role=caller.role, key_id=caller.key_id, keys_configured=caller != OPEN)


@router.get("/admin/keys", response_model=list[KeyOut], summary="List keys (never the keys themselves)")
def list_keys(_: AdminDep, staff: StaffDep) -> list[KeyOut]:
    return [KeyOut.model_validate(asdict(k)) for k in staff.list_keys()]


@router.post("/admin/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED,
             summary="Create a key", description="The key is in this response only; it is stored as a hash. "
             "A reader key comes with the HTML snippet that embeds the chat page.")
def create_key(body: KeyIn, caller: AdminDep, staff: StaffDep, request: Request) -> KeyCreated:
    key, info = staff.create_key(body.name, body.role, by=caller)
    snippet = embed_snippet(str(request.base_url), key) if body.role == "reader" else None
    return KeyCreated(**asdict(info), key=key, embed_snippet=snippet)


@router.delete("/admin/keys/{key_id}", response_model=KeyOut, summary="Revoke a key (takes effect at once)",
               responses={404: {"description": "no such key"}})
def revoke_key(key_id: Annotated[int, Path(ge=1, le=2**62)], caller: AdminDep, staff: StaffDep) -> KeyOut:
    try:
        return KeyOut.model_validate(asdict(staff.revoke_key(key_id, by=caller)))
    except StaffError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc


@router.get("/admin/audit", response_model=list[AuditOut], summary="Every write, newest first")
def audit(_: AdminDep, staff: StaffDep, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AuditOut]:
    return [AuditOut.model_validate(asdict(e)) for e in staff.audit_log(offset, limit)]


@router.get("/admin/settings", summary="The running settings, secrets masked")
def settings_view(_: AdminDep, settings: SettingsDep) -> dict[str, Any]:
    out = settings.model_dump(mode="json")
    return {k: ("***" if k in SECRET_SETTINGS and v else v) for k, v in out.items()}
