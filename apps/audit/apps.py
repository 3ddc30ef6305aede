from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate

# The database itself keeps the trail append-only: UPDATE and DELETE are refused, with two
# exceptions, both for the erasure of an account (GDPR):
# - unlinking a deleted actor: actor_id set to NULL and actor_label kept or replaced by the
#   pseudonym of ``services.actor_pseudonym``, nothing else changed (Django's SET_NULL);
# - inside ``services.erasure()`` (a transaction-local flag): actor_id, actor_label, before and
#   after may change, so that a deleted person's address can be replaced; the event itself
#   (when, what, about whom) still cannot.
# Installed after every migrate (idempotent) rather than in a migration, so that test databases
# built without migrations have it too.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
DECLARE
    kept text[] := ARRAY['actor_id', 'actor_label'];
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - kept) = (to_jsonb(OLD) - kept)
       AND (NEW.actor_label = OLD.actor_label OR NEW.actor_label LIKE 'deleted user #%') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('openmrcs.audit_erasure', true) = 'on'
       AND (NEW.actor_id IS NULL OR NEW.actor_id = OLD.actor_id)
       AND (to_jsonb(NEW) - (kept || ARRAY['before', 'after']))
           = (to_jsonb(OLD) - (kept || ARRAY['before', 'after'])) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_append_only();
"""


def install_append_only_trigger(using: str = "default", **kwargs: Any) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(APPEND_ONLY_SQL)


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import pre_delete

        from apps.audit.services import forget_deleted_actor

        post_migrate.connect(
            install_append_only_trigger, sender=self, dispatch_uid="audit_append_only"
        )
        # However an account is deleted (API, admin, shell), the trail stops naming it.
        pre_delete.connect(
            forget_deleted_actor, sender=settings.AUTH_USER_MODEL, dispatch_uid="audit_forget"
        )
