"""The one check for a channel id at the routing boundary: 32 lowercase hex characters.

`re.fullmatch`, not `match` with `$` (which accepts a trailing newline), and not `uuid.UUID` or
`int(x, 16)`, which accept braces, dashes, `0x`, spaces and non-ASCII digits.
"""

from __future__ import annotations

import re

CHANNEL_ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def is_valid_channel_id(value: object) -> bool:
    return isinstance(value, str) and CHANNEL_ID_PATTERN.fullmatch(value) is not None
