"""What every area of the API description is built from: the AutoSchema our settings name,
named JSON shapes, `{"detail"}` errors, page envelopes, query and header parameters, and
`document()`, which attaches a description to a view from the outside.

    from kolibri_like.openapi.pieces import document, errors, many, shape

    Thing = shape("Thing", {"id": serializers.CharField()})
    document("things.api.ThingListView", get=extend_schema(
        summary="List the things", responses={200: many(Thing), **errors(401)}))
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from accounts.permissions import GuestReadable

HEX_ID = "32 lowercase hex characters"
ANY_OBJECT = serializers.DictField(child=serializers.JSONField())


class AutoSchema(SpectacularAutoSchema):
    """REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS: drf-spectacular's, knowing our guest readers.

    `GuestReadable` lets anyone read while ALLOW_GUEST_ACCESS is on (the default), so reads
    it guards list "no credentials" (`{}`) beside the token and the session.
    """

    def get_auth(self) -> list[Any]:
        auths = super().get_auth()
        guest_readable = any(isinstance(permission, GuestReadable)
                             for permission in self.view.get_permissions())
        if guest_readable and self.method in SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths


def shape(name: str, fields: dict[str, Any], **kwargs: Any) -> Any:
    """A named JSON object (a schema component). DRF's serializer metaclass pops the fields
    from the dict it is given, so it gets a copy: the field dicts of the areas are
    shared."""
    return inline_serializer(name, dict(fields), **kwargs)


Error = shape("Error", {"detail": serializers.CharField()})
FieldErrors = shape("FieldErrors", {
    "detail": serializers.CharField(),
    "errors": serializers.DictField(child=serializers.JSONField(), required=False,
                                    help_text="field name -> what is wrong"),
})

ERROR_TEXTS = {
    400: "Bad input: `{\"detail\"}`, with `errors` {field: problem} where fields are at fault.",
    401: "Not signed in: send a session cookie or `Authorization: Token <key>`.",
    403: "Signed in, but this role may not do this.",
    404: "Not found, or someone else's private object.",
    409: "Conflict: another operation on the same channel or draft is running, or it is done.",
    412: "tus: the `Tus-Resumable` header is missing or names another version.",
    413: "The upload is larger than the server accepts.",
    415: "tus: a chunk must be `application/offset+octet-stream`.",
    416: "The requested byte range is outside the file.",
    503: "Unhealthy or not ready.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """`{"detail"}` error responses for the given statuses (400 also lists field errors)."""
    return {code: OpenApiResponse(FieldErrors if code == 400 else Error,
                                  description=ERROR_TEXTS[code]) for code in codes}


PAGE_FIELDS: dict[str, Any] = {
    "count": serializers.IntegerField(),
    "next": serializers.URLField(allow_null=True),
    "previous": serializers.URLField(allow_null=True),
}


def page_of(name: str, child: Any) -> Any:
    """`{count, next, previous, results}` for views that paginate by hand (plain APIView)."""
    return shape(name, {**PAGE_FIELDS, "results": child})


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description="Results per page, up to 1000."),
]


def many(shape: serializers.Serializer) -> serializers.ListSerializer:
    """A list of an inline shape, sharing its component."""
    return type(shape)(many=True)


def query(name: str, description: str, type_: Any = str, **kwargs: Any) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description,
                            **kwargs)


def header(name: str, description: str, *, response: Any = False,
           required: bool = False) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.HEADER, description=description,
                            response=response, required=required)


def document(target: str, **methods: Any) -> None:
    """Register the schema of view class `target` (dotted path): method name -> extend_schema.

    The extension hands drf-spectacular a subclass of the view carrying the annotations, so
    the real view is never changed.
    """

    def view_replacement(self: OpenApiViewExtension) -> Any:
        # A dotted path until drf-spectacular matches a view: then the class itself.
        view_class = cast(type, self.target_class)
        annotated = type(view_class.__name__, (view_class,), {})
        return extend_schema_view(**methods)(annotated)

    name = target.rsplit(".", 1)[1] + "Schema"
    type(name, (OpenApiViewExtension,), {"target_class": target,
                                         "view_replacement": view_replacement})
