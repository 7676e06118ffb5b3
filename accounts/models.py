"""Users with one role each: admin, author or learner (INTERFACE.md)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", gettext_lazy("admin")
        AUTHOR = "author", gettext_lazy("author")
        LEARNER = "learner", gettext_lazy("learner")

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.LEARNER)

    class Meta:
        app_label = "accounts"

    @property
    def is_admin(self) -> bool:
        return self.is_active and (self.role == self.Role.ADMIN or self.is_superuser)

    @property
    def is_author(self) -> bool:
        return self.is_active and self.role in (self.Role.AUTHOR, self.Role.ADMIN)

    def save(self, *args, **kwargs):
        # An admin of the product is also an admin of Django's admin site, and back.
        if self.is_superuser:
            self.role = self.Role.ADMIN
        if self.role == self.Role.ADMIN:
            self.is_staff = True
            self.is_superuser = True
        super().save(*args, **kwargs)
