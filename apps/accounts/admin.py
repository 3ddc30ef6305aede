"""Staff tools for accounts: users (with their profile) and device sessions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import (
    AuthSession,
    KnownDevice,
    KnownNetwork,
    LoginFailure,
    Profile,
    User,
)
from apps.accounts.tokens import revoke_sessions
from apps.audit.models import AuditEvent
from apps.audit.services import record_event

# Changes to these fields are recorded in the audit trail with before and after values.
AUDITED_USER_FIELDS = ("role", "is_staff", "is_superuser", "is_active")


def mask_email(email: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``: enough to tell addresses apart in the
    trail, not enough to name anyone."""
    local, at, domain = email.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)


class UserChangeForm(BaseUserChangeForm):
    class Meta(BaseUserChangeForm.Meta):
        model = User
        fields = "__all__"


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    extra = 0
    fields = ("display_name", "avatar", "timezone", "prefers_explanations", "updated_at")
    readonly_fields = ("updated_at",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    inlines = (ProfileInline,)
    list_display = (
        "email",
        "display_name",
        "role",
        "is_email_verified",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    )
    list_filter = ("role", "is_active", "is_staff", "is_superuser", "is_email_verified")
    search_fields = ("email", "profile__display_name")
    ordering = ("email",)
    list_select_related = ("profile",)
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Role", {"fields": ("role", "is_email_verified")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "role", "usable_password", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ("groups", "user_permissions")

    @admin.display(description="Display name", ordering="profile__display_name")
    def display_name(self, obj: User) -> str:
        profile = getattr(obj, "profile", None)
        return profile.display_name if profile else ""

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        # On the add page the profile is created by save_model; it is edited afterwards.
        return self.inlines if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        Profile.objects.get_or_create(user=obj)
        ip_address = request.META.get("REMOTE_ADDR")
        if change and "email" in form.changed_data:
            # The address is the login: a change by staff is a security event. The trail keeps
            # masked addresses only, so it never holds a full address after the account is gone.
            record_event(
                kind=AuditEvent.Kind.SECURITY,
                action="accounts.user.email_changed_by_staff",
                actor=request.user,
                target=obj,
                subject_user_id=obj.pk,
                before={"email": mask_email(str(form.initial.get("email") or ""))},
                after={"email": mask_email(obj.email)},
                ip_address=ip_address,
            )
        changed = [name for name in AUDITED_USER_FIELDS if name in form.changed_data]
        if change and not changed:
            return
        fields = changed if change else list(AUDITED_USER_FIELDS)
        record_event(
            kind=AuditEvent.Kind.CONTENT,
            action="accounts.user.roles_changed" if change else "accounts.user.created_by_staff",
            actor=request.user,
            target=obj,
            subject_user_id=obj.pk,
            before={name: form.initial.get(name) for name in fields} if change else None,
            after={name: getattr(obj, name) for name in fields},
            ip_address=ip_address,
        )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """Django's password form; a password set by staff also logs the user out everywhere
        and is audited (without any trace of the password)."""
        target = self.get_object(request, unquote(id))
        before = target.password if target is not None else None
        response = super().user_change_password(request, id, form_url)
        if request.method != "POST" or target is None:
            return response
        target.refresh_from_db(fields=["password"])
        if target.password != before:
            ip_address = request.META.get("REMOTE_ADDR")
            revoke_sessions(
                user=target,
                reason="password_set_by_staff",
                actor=request.user,
                ip_address=ip_address,
            )
            record_event(
                kind=AuditEvent.Kind.SECURITY,
                action="accounts.user.password_set_by_staff",
                actor=request.user,
                target=target,
                subject_user_id=target.pk,
                after={"usable": target.has_usable_password()},
                ip_address=ip_address,
            )
        return response

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        before = sorted(form.instance.groups.values_list("name", flat=True)) if change else []
        super().save_related(request, form, formsets, change)
        after = sorted(form.instance.groups.values_list("name", flat=True))
        if before != after:
            record_event(
                kind=AuditEvent.Kind.CONTENT,
                action="accounts.user.groups_changed",
                actor=request.user,
                target=form.instance,
                subject_user_id=form.instance.pk,
                before={"groups": before},
                after={"groups": after},
                ip_address=request.META.get("REMOTE_ADDR"),
            )


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "user_agent",
        "ip_address",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("user__email", "ip_address")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "refresh_jti",
        "user_agent",
        "ip_address",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    actions = ("revoke",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected sessions (log those devices out)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[AuthSession]) -> None:
        total = 0
        by_user: dict[int, list[int]] = {}
        for session_id, user_id in queryset.filter(revoked_at__isnull=True).values_list(
            "pk", "user_id"
        ):
            by_user.setdefault(user_id, []).append(session_id)
        for user in User.objects.filter(pk__in=by_user):
            total += revoke_sessions(
                user=user, session_ids=by_user[user.pk], reason="staff_revoked", actor=request.user
            )
        self.message_user(request, f"{total} session(s) revoked.", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the sign-in flow keeps (apps/accounts/services/limits.py, trust.py): staff read
    them to answer "why was I slowed down?"; only the flow writes them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoginFailure)
class LoginFailureAdmin(ReadOnlyAdmin):
    list_display = ("email", "occurred_at", "ip_address", "source", "trusted")
    list_filter = ("trusted",)
    search_fields = ("email", "ip_address")
    date_hierarchy = "occurred_at"


@admin.register(KnownNetwork)
class KnownNetworkAdmin(ReadOnlyAdmin):
    list_display = ("user", "network", "last_login_at")
    search_fields = ("user__email", "network")
    list_select_related = ("user",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(KnownDevice)
class KnownDeviceAdmin(ReadOnlyAdmin):
    list_display = ("user", "created_at", "last_used_at")  # never the token's hash
    exclude = ("token_hash",)
    search_fields = ("user__email",)
    list_select_related = ("user",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
