"""AdmissionReview v1: decoding requests, and the only place admission responses are built.

Two error channels, kept apart: a malformed review is a ``BadReview`` (HTTP 400, never a policy
decision); a refused operation is a ``Response`` with ``allowed: false``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NotRequired, TypedDict, cast

API_VERSION = "admission.k8s.io/v1"
WARNING_LIMIT = 120
"""Warnings stay shorter than this, so kubectl shows each on one line."""

Operation = Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]
OPERATIONS: tuple[Operation, ...] = ("CREATE", "UPDATE", "DELETE", "CONNECT")


class GroupVersionKind(TypedDict):
    group: str
    version: str
    kind: str


class UserInfo(TypedDict, total=False):
    username: str
    uid: str
    groups: list[str]


class AdmissionRequest(TypedDict):
    uid: str
    kind: GroupVersionKind
    operation: Operation
    namespace: NotRequired[str]
    name: NotRequired[str]
    userInfo: NotRequired[UserInfo]
    object: NotRequired[dict[str, Any] | None]
    oldObject: NotRequired[dict[str, Any] | None]
    dryRun: NotRequired[bool]


class BadReview(ValueError):
    """The webhook request itself is malformed: answered with HTTP 400 and this one-line reason."""


def decode(body: bytes) -> AdmissionRequest:
    """The request of an AdmissionReview v1 body, or BadReview saying what is wrong with it."""
    try:
        review = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadReview(f"body is not JSON: {error}") from None
    if not isinstance(review, dict):
        raise BadReview("body is not a JSON object")
    if review.get("apiVersion") != API_VERSION or review.get("kind") != "AdmissionReview":
        got = f"{review.get('kind')!r} of {review.get('apiVersion')!r}"
        raise BadReview(f"expected kind AdmissionReview of {API_VERSION}, got {got}")
    request = review.get("request")
    if not isinstance(request, dict):
        raise BadReview("request is missing or not an object")
    _check_request(request)
    return cast(AdmissionRequest, request)


def _check_request(request: dict[str, Any]) -> None:
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise BadReview("request.uid is missing or not a non-empty string")
    operation = request.get("operation")
    if operation not in OPERATIONS:
        raise BadReview(f"request.operation must be one of {', '.join(OPERATIONS)}, got {operation!r}")
    kind = request.get("kind")
    if not isinstance(kind, dict) or not isinstance(kind.get("kind"), str):
        raise BadReview("request.kind is missing or has no kind")
    needed = "oldObject" if operation == "DELETE" else "object"
    if operation != "CONNECT" and not isinstance(request.get(needed), dict):
        raise BadReview(f"request.{needed} is missing or not an object for {operation}")
    for key in ("object", "oldObject"):  # null where the operation has none; never another JSON value
        if request.get(key) is not None and not isinstance(request[key], dict):
            raise BadReview(f"request.{key} is not an object")
    for key in ("namespace", "name"):
        if not isinstance(request.get(key, ""), str):
            raise BadReview(f"request.{key} is not a string")
    if not isinstance(request.get("dryRun", False), bool):
        raise BadReview("request.dryRun is not a boolean")
    user = request.get("userInfo", {})
    if not isinstance(user, dict) or not isinstance(user.get("groups", []), list):
        raise BadReview("request.userInfo is malformed")


@dataclass(frozen=True)
class Response:
    """An admission decision; build it with allowed(), denied(), patched() or errored()."""

    allowed: bool
    patch: Sequence[Mapping[str, Any]] = ()
    warnings: tuple[str, ...] = ()
    code: int | None = None
    message: str = ""
    audit_annotations: Mapping[str, str] = field(default_factory=dict)


def allowed(*, warnings: Sequence[str] = ()) -> Response:
    return Response(allowed=True, warnings=_short(warnings))


def patched(patch: Sequence[Mapping[str, Any]], *, warnings: Sequence[str] = ()) -> Response:
    """Allowed with a JSON Patch; an empty patch is a plain allow."""
    return Response(allowed=True, patch=tuple(patch), warnings=_short(warnings))


def denied(message: str, *, code: int = 403) -> Response:
    return Response(allowed=False, code=code, message=message)


def errored(message: str, *, code: int = 500) -> Response:
    """nsmigrate itself failed to decide: refused, the way a Fail failure policy would."""
    return Response(allowed=False, code=code, message=message)


def with_audit(response: Response, annotations: Mapping[str, str]) -> Response:
    return replace(response, audit_annotations={**response.audit_annotations, **annotations})


def encode(uid: str, response: Response) -> dict[str, Any]:
    """The AdmissionReview v1 body answering request ``uid``."""
    body: dict[str, Any] = {"uid": uid, "allowed": response.allowed}
    if response.patch:
        body["patchType"] = "JSONPatch"
        body["patch"] = base64.b64encode(json.dumps(list(response.patch)).encode()).decode()
    if response.warnings:
        body["warnings"] = list(response.warnings)
    if response.code is not None or response.message:
        body["status"] = {"code": response.code or 200, "message": response.message}
        if not response.allowed:
            body["status"]["reason"] = "Forbidden" if response.code == 403 else "InternalError"
    if response.audit_annotations:
        body["auditAnnotations"] = dict(response.audit_annotations)
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": body}


def _short(warnings: Sequence[str]) -> tuple[str, ...]:
    prefixed = (f"nsmigrate: {warning}" for warning in warnings)
    return tuple(w if len(w) < WARNING_LIMIT else w[: WARNING_LIMIT - 2] + "…" for w in prefixed)
