"""JSON shapes of the user API (accounts/api.py). They translate only: every write goes through
accounts/services.py, which checks usernames, roles and passwords."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="first_name", read_only=True)

    class Meta:
        model = User
        fields = ("id", "username", "full_name", "role", "is_active", "date_joined",
                  "last_login")
        read_only_fields = fields


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=True)
    full_name = serializers.CharField(required=False, allow_blank=True,
                                      default="")
    # Checked by the service with the other fields, so one answer lists every problem.
    role = serializers.CharField(required=False, allow_blank=True, default=User.Role.LEARNER)
    password = serializers.CharField(trim_whitespace=False)


class UserUpdateSerializer(serializers.Serializer):
    full_name = serializers.CharField(required=False, allow_blank=True)
    role = serializers.CharField(required=False)
    is_active = serializers.BooleanField(required=False)


class PasswordResetSerializer(serializers.Serializer):
    """`{"password": "..."}` sets it; `{}` generates one, returned once in the answer."""

    password = serializers.CharField(required=False, trim_whitespace=False)


class OwnPasswordSerializer(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False)
    new_password = serializers.CharField(trim_whitespace=False)


class UserImportSerializer(serializers.Serializer):
    file = serializers.FileField()
