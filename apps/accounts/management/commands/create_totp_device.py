"""``manage.py create_totp_device <email>``: enrols a TOTP device for a staff member.

Prints the ``otpauth://`` URL (and, with ``--qr``, a terminal QR code) for an authenticator app.
The URL contains the shared secret: it is shown once, here, and never logged or audited.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.accounts.services import normalise_email
from apps.audit.models import AuditEvent
from apps.audit.services import record_event


class Command(BaseCommand):
    help = "Create a confirmed TOTP device for a staff user and print its otpauth:// URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--name", default="authenticator", help="device name (default: %(default)s)"
        )
        parser.add_argument(
            "--replace", action="store_true", help="replace an existing device of the same name"
        )
        parser.add_argument("--qr", action="store_true", help="also print a terminal QR code")

    def handle(self, *args: Any, **options: Any) -> None:
        email = normalise_email(options["email"])
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"No user with the address {email}.")
        if not (user.is_active and user.is_staff):
            raise CommandError(f"{email} is not active staff; only staff use the admin.")
        name = options["name"]
        with transaction.atomic():
            existing = TOTPDevice.objects.filter(user=user, name=name)
            if existing.exists():
                if not options["replace"]:
                    raise CommandError(
                        f"{email} already has a device named {name!r}; pass --replace to rotate it."
                    )
                existing.delete()
            device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
            record_event(
                kind=AuditEvent.Kind.SECURITY,
                action="admin.totp_device_created",
                target=user,
                subject_user_id=user.pk,
                after={"device": name, "replaced": bool(options["replace"])},
            )
        url = device.config_url
        self.stdout.write(f"TOTP device {name!r} created for {email}.")
        self.stdout.write("Add it to an authenticator app with this URL (shown only now):")
        self.stdout.write(url)
        if options["qr"]:
            import io

            import qrcode

            qr = qrcode.QRCode(border=1)
            qr.add_data(url)
            buffer = io.StringIO()
            qr.print_ascii(out=buffer, invert=True)
            self.stdout.write(buffer.getvalue())
