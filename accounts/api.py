"""The user API: admins manage accounts; every signed-in user changes their own password.

    GET   /api/users/                  -> paginated users (?role=, ?search=, ?is_active=)
    POST  /api/users/                  {username, full_name, role, password} -> 201 the user
    GET   /api/users/<id>/             -> the user
    PATCH /api/users/<id>/             {full_name, role, is_active} -> the user
    POST  /api/users/<id>/password/    {password} sets it; {} -> {"password": <generated>}
    POST  /api/users/import/           multipart `file` (CSV) -> {created, bad_rows, summary}
    POST  /api/account/password/       {old_password, new_password} (any signed-in user)

Errors are `{"detail": ..., "errors": {field: [...]}}` (400). Callers that are not admins get
403, anonymous ones 401; a disabled account's token and session stop working (DRF and Django
refuse inactive users).
"""

from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.csv_import import MAX_FILE_BYTES, UserFileError, import_users
from accounts.models import User
from accounts.permissions import IsAdmin, IsSignedIn
from accounts.serializers import (
    OwnPasswordSerializer,
    PasswordResetSerializer,
    UserCreateSerializer,
    UserImportSerializer,
    UserSerializer,
    UserUpdateSerializer,
)


def field_errors(error: services.AccountInputError) -> ValidationError:
    return ValidationError(error.errors)


class UserListView(GenericAPIView):
    permission_classes = [IsAdmin]
    serializer_class = UserSerializer

    def get(self, request: Request) -> Response:
        params = request.query_params
        users = services.find_users(role=params.get("role", ""),
                                    is_active=params.get("is_active", ""),
                                    search=params.get("search", ""))
        page = self.paginate_queryset(users)
        assert page is not None, "the user list is always paginated"
        return self.get_paginated_response(UserSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        given = UserCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            user = services.create_account(**given.validated_data)
        except services.AccountInputError as error:
            raise field_errors(error) from None
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailView(GenericAPIView):
    permission_classes = [IsAdmin]
    serializer_class = UserSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(UserSerializer(get_object_or_404(User, pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        user = get_object_or_404(User, pk=pk)
        given = UserUpdateSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        try:
            user = services.update_account(request.user, user, **given.validated_data)
        except services.AccountInputError as error:
            raise field_errors(error) from None
        return Response(UserSerializer(user).data)


class UserPasswordResetView(GenericAPIView):
    permission_classes = [IsAdmin]
    serializer_class = PasswordResetSerializer

    def post(self, request: Request, pk: int) -> Response:
        user = get_object_or_404(User, pk=pk)
        given = PasswordResetSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        chosen = given.validated_data.get("password")
        try:
            password = services.reset_password(user, chosen)
        except services.AccountInputError as error:
            raise field_errors(error) from None
        if chosen is not None:
            return Response({"detail": gettext("The password of %(username)s was changed.")
                             % {"username": user.username}})
        # The only time the generated password exists in clear: the admin passes it on.
        return Response({"detail": gettext("The password of %(username)s was changed; give them "
                                           "this one.") % {"username": user.username},
                         "password": password},
                        headers={"Cache-Control": "no-store"})


class UserImportView(GenericAPIView):
    permission_classes = [IsAdmin]
    serializer_class = UserImportSerializer

    def post(self, request: Request) -> Response:
        given = UserImportSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        upload = given.validated_data["file"]
        try:
            # One byte over the cap is enough for import_users to refuse the file.
            result = import_users(upload.read(MAX_FILE_BYTES + 1))
        except UserFileError as error:
            raise ValidationError({"file": [str(error)]}) from None
        return Response({
            "detail": result.summary,
            "created": result.created,
            "bad_rows": [{"row": bad.row, "username": bad.username, "reason": bad.reason}
                         for bad in result.bad_rows],
        })


class OwnPasswordView(GenericAPIView):
    permission_classes = [IsSignedIn]
    serializer_class = OwnPasswordSerializer

    def post(self, request: Request) -> Response:
        given = OwnPasswordSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            services.change_own_password(request.user, **given.validated_data)
        except services.AccountInputError as error:
            raise field_errors(error) from None
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # Keep this browser signed in; other sessions of the user end.
            update_session_auth_hash(request._request, request.user)
        return Response({"detail": gettext("Your password was changed.")})
