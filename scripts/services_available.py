"""Exit 0 when the PostgreSQL and Redis servers named on the command line answer, else 1.

    python -m scripts.services_available postgres://postgres@127.0.0.1:5432/test redis://127.0.0.1:6379/15
"""

from __future__ import annotations

import sys


def postgres_answers(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return True
    except Exception as error:  # noqa: BLE001 - any failure means "not available"
        print(f"PostgreSQL at {url}: {error}", file=sys.stderr)
        return False


def redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except Exception as error:  # noqa: BLE001
        print(f"Redis at {url}: {error}", file=sys.stderr)
        return False


def main(argv: list[str]) -> int:
    postgres_url, redis_url = argv[1], argv[2]
    both = postgres_answers(postgres_url) & redis_answers(redis_url)
    return 0 if both else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
