#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kolibri_like.settings")
    from kolibri_like.cli import main

    sys.exit(main(sys.argv))
