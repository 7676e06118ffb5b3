from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import api, views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", views.password_change, name="password-change"),
    path("api/users/", api.UserListView.as_view(), name="user-list"),
    path("api/users/import/", api.UserImportView.as_view(), name="user-import"),
    path("api/users/<int:pk>/", api.UserDetailView.as_view(), name="user-detail"),
    path("api/users/<int:pk>/password/", api.UserPasswordResetView.as_view(),
         name="user-password-reset"),
    path("api/account/password/", api.OwnPasswordView.as_view(), name="own-password"),
]
