"""The admin app with the project's site class (two-factor for staff; see ``admin_site``).

Kept apart from the site class because this module is imported while apps are still loading.
"""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "apps.accounts.admin_site.StaffAdminSite"
