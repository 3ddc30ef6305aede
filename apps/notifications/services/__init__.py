"""Notifications: the platform's outbound voice.

In-app notifications and their read state, per-user delivery preferences, staff broadcasts
fanned out in batches by a Celery task (safe to run twice), study reminders (one per inactivity
spell), weekly progress summaries, and pruning. These are the only functions that write the
app's rows; tasks and views call them.
"""

from apps.notifications.services.broadcasts import (
    create_broadcast,
    fan_out_broadcast,
    send_broadcast_email,
    start_broadcast,
)
from apps.notifications.services.inbox import (
    mark_all_notifications_read,
    mark_notification_read,
    notify_user,
    prune_read_notifications,
    update_preferences,
)
from apps.notifications.services.reminders import (
    send_study_reminder_email,
    send_study_reminders,
    send_weekly_summaries,
    send_weekly_summary_email,
)

__all__ = [
    "create_broadcast",
    "fan_out_broadcast",
    "mark_all_notifications_read",
    "mark_notification_read",
    "notify_user",
    "prune_read_notifications",
    "send_broadcast_email",
    "send_study_reminder_email",
    "send_study_reminders",
    "send_weekly_summaries",
    "send_weekly_summary_email",
    "start_broadcast",
    "update_preferences",
]
