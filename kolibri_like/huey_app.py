"""The Huey instance, configured from settings.HUEY by huey.contrib.djhuey.

    from kolibri_like.huey_app import HUEY
"""

from huey.contrib.djhuey import HUEY  # noqa: F401
