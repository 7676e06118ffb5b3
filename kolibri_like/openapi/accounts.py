"""The accounts API: users (admins), CSV import, password resets and one's own password."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from accounts.serializers import (
    OwnPasswordSerializer,
    PasswordResetSerializer,
    UserCreateSerializer,
    UserImportSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from kolibri_like.openapi.pieces import document, errors, query, shape

Detail = shape("Detail", {"detail": serializers.CharField()})
document("accounts.api.UserListView",
         get=extend_schema(summary="List users (admins)", parameters=[
             query("role", "admin, author or learner."),
             query("is_active", "true or false."),
             query("search", "Part of the username or full name.")],
             responses={200: UserSerializer(many=True), **errors(401, 403)}),
         post=extend_schema(summary="Create a user (admins)", request=UserCreateSerializer,
                            responses={201: UserSerializer, **errors(400, 401, 403)}))
document("accounts.api.UserDetailView",
         get=extend_schema(summary="One user (admins)",
                           responses={200: UserSerializer, **errors(401, 403, 404)}),
         patch=extend_schema(summary="Change a user (admins)", request=UserUpdateSerializer,
                             responses={200: UserSerializer, **errors(400, 401, 403, 404)}))
document("accounts.api.UserPasswordResetView", post=extend_schema(
    summary="Set a user's password, or generate one with {} (admins)",
    request=PasswordResetSerializer,
    responses={200: shape("PasswordResetResult", {
        "detail": serializers.CharField(),
        "password": serializers.CharField(required=False, help_text="Only when generated.")}),
        **errors(400, 401, 403, 404)}))
document("accounts.api.UserImportView", post=extend_schema(
    summary="Create users from a CSV file (admins)",
    request={"multipart/form-data": UserImportSerializer},
    responses={200: shape("UserImportResult", {
        "detail": serializers.CharField(help_text="The summary."),
        "created": serializers.IntegerField(),
        "bad_rows": shape("BadRow", {
            "row": serializers.IntegerField(), "username": serializers.CharField(),
            "reason": serializers.CharField()}, many=True)}), **errors(400, 401, 403)}))
document("accounts.api.OwnPasswordView", post=extend_schema(
    summary="Change your own password", request=OwnPasswordSerializer,
    responses={200: Detail, **errors(400, 401)}))
