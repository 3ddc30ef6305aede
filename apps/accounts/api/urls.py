from django.urls import URLPattern, URLResolver, path

from apps.accounts.api import totp_views, views

app_name = "accounts"

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/verify-email", views.VerifyEmailView.as_view(), name="auth-verify-email"),
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/unlock", views.UnlockView.as_view(), name="auth-unlock"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all", views.LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/forgot-password", views.ForgotPasswordView.as_view(), name="auth-forgot-password"),
    path("auth/reset-password", views.ResetPasswordView.as_view(), name="auth-reset-password"),
    path("auth/change-password", views.ChangePasswordView.as_view(), name="auth-change-password"),
    path("me", views.MeView.as_view(), name="me"),
    path("me/export", views.ExportView.as_view(), name="me-export"),
    path("me/devices", views.DeviceListView.as_view(), name="device-list"),
    path("me/devices/<int:device_id>", views.DeviceView.as_view(), name="device-revoke"),
    path("me/totp", totp_views.TOTPView.as_view(), name="me-totp"),
    path("me/totp/confirm", totp_views.TOTPConfirmView.as_view(), name="me-totp-confirm"),
]
