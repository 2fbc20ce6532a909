"""Celery task of the reminders."""
from celery import shared_task
from django.db import DatabaseError


@shared_task(name="kpi.tasks.send_reminders", acks_late=True, autoretry_for=(DatabaseError, OSError),
             retry_backoff=True, max_retries=5)
def send_reminders(today: str | None = None) -> dict | None:
    """Daily at 08:00: on JIXIAO_REMINDER_DAY, remind leads and administrators of last month's overdue
    reports. Other days do nothing. A retry (SMTP and network errors are OSErrors) sends only what is
    not yet recorded as sent."""
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from .services import reminders_send

    day = dt.date.fromisoformat(today) if today else timezone.localdate()
    if day.day != settings.JIXIAO_REMINDER_DAY:
        return None
    result = reminders_send(today=day)
    return {**result, "period": result["period"].isoformat()}
