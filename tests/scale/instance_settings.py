"""Settings of the application instances the scale-out tests start under gunicorn: the test
settings, with one cache namespace for every instance (the test settings give each process its
own) and a login limit low enough to reach."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import CACHES, REST_FRAMEWORK

CACHES["default"]["KEY_PREFIX"] = "scale"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "login": os.environ.get("SCALE_LOGIN_RATE", "100000/min"),
    },
}
