"""Simulated learners for the soak run (benchmarks/soak.py), in their own process.

Each learner is a thread with its own `requests.Session` (cookies, keep-alive): it signs in
through the login form at a random moment of the first `login_spread` seconds, then until the
deadline picks what a learner does next: browse (the home page, the channel list, a topic's
children, a node), watch a video (1 MiB Range requests paced like a player filling its buffer,
a few seconds apart), take the test (its questions, a pause, an attempt), look at its progress;
with a pause between actions. Every answer is checked (status, and the bytes of a video range
against the file); anything else counts as an error.

Reads one JSON job on stdin, writes one JSON result on stdout: per kind of request, each
answer's [seconds since the start, latency in ms]; error counts per kind and the first few
error messages.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import threading
import time
from collections import defaultdict
from typing import Any

import requests

TIMEOUT_SECONDS = 60
RANGE_BYTES = 1024 * 1024
VIDEO_CHUNKS = (3, 10)        # ranges per viewing
VIDEO_PACE_SECONDS = (1.5, 3.0)
THINK_SECONDS = (1.0, 5.0)
TEST_THINK_SECONDS = (2.0, 6.0)
KEPT_ERROR_MESSAGES = 20
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = time.perf_counter()
        self.latencies: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.messages: list[str] = []

    def ok(self, kind: str, started: float) -> None:
        now = time.perf_counter()
        with self.lock:
            self.latencies[kind].append((round(now - self.started, 2),
                                         round((now - started) * 1000, 2)))

    def error(self, kind: str, message: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.messages) < KEPT_ERROR_MESSAGES:
                self.messages.append(f"{kind}: {message}")


class Learner:
    def __init__(self, job: dict[str, Any], index: int, recorder: Recorder,
                 deadline: float) -> None:
        self.base = f"http://127.0.0.1:{job['port']}"
        self.job = job
        self.username = job["usernames"][index]
        self.recorder = recorder
        self.deadline = deadline
        self.chooser = random.Random(job["seed"] * 1_000_003 + index)
        self.session = requests.Session()
        self.video_descriptor = os.open(job["video_file"], os.O_RDONLY)
        self.video_size = os.fstat(self.video_descriptor).st_size

    def request(self, kind: str, method: str, path: str, expected: int, **options: Any
                ) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, timeout=TIMEOUT_SECONDS,
                                            allow_redirects=False, **options)
        except requests.RequestException as error:
            self.recorder.error(kind, f"{error.__class__.__name__}: {error}")
            return None
        if response.status_code != expected:
            self.recorder.error(kind, f"{method} {path}: {response.status_code} "
                                      f"{response.text[:200]!r}")
            return None
        self.recorder.ok(kind, started)
        return response

    def pause(self, bounds: tuple[float, float]) -> None:
        time.sleep(max(0.0, min(self.chooser.uniform(*bounds),
                                self.deadline - time.monotonic())))

    def log_in(self) -> bool:
        form = self.request("login", "GET", "/login/", 200)
        if form is None:
            return False
        match = CSRF_INPUT.search(form.text)
        if match is None:
            self.recorder.error("login", "no CSRF token in the login form")
            return False
        answer = self.request("login", "POST", "/login/", 302, data={
            "username": self.username, "password": self.job["password"],
            "csrfmiddlewaretoken": match.group(1)}, headers={"Referer": self.base + "/login/"})
        return answer is not None

    def browse(self) -> None:
        channel_id = self.job["channel_id"]
        choice = self.chooser.random()
        if choice < 0.2:
            self.request("page", "GET", "/", 200)
        elif choice < 0.4:
            self.request("browse", "GET", "/api/channels/", 200)
        elif choice < 0.8:
            topic = self.chooser.choice(self.job["topic_ids"])
            self.request("browse", "GET", f"/api/content/{channel_id}/contentnode/"
                                          f"?parent={topic}&page_size=30", 200)
        else:
            node = self.chooser.choice(self.job["leaf_ids"])
            self.request("node", "GET", f"/api/content/{channel_id}/contentnode/{node}/", 200)

    def watch(self) -> None:
        node = self.chooser.choice(self.job["video_ids"])
        self.request("node", "GET",
                     f"/api/content/{self.job['channel_id']}/contentnode/{node}/", 200)
        start = self.chooser.randrange(0, max(1, self.video_size - RANGE_BYTES * 10))
        for _chunk in range(self.chooser.randint(*VIDEO_CHUNKS)):
            if time.monotonic() >= self.deadline:
                return
            end = min(start + RANGE_BYTES, self.video_size) - 1
            answer = self.request("video", "GET", self.job["video_url"], 206,
                                  headers={"Range": f"bytes={start}-{end}"})
            if answer is not None and answer.content != os.pread(
                    self.video_descriptor, end - start + 1, start):
                self.recorder.error("video", f"wrong bytes for {start}-{end}")
            start = end + 1 if end + 1 < self.video_size else 0
            self.pause(VIDEO_PACE_SECONDS)

    def take_test(self) -> None:
        channel_id, node = self.job["channel_id"], self.job["test_id"]
        body = self.request("questions", "GET",
                            f"/api/content/{channel_id}/contentnode/{node}/questions/", 200)
        if body is None:
            return
        answers = {question["id"]: [self.chooser.choice(question["choices"])["id"]]
                   for question in body.json()["questions"]}
        self.pause(TEST_THINK_SECONDS)
        self.request("attempt", "POST", "/api/attempts/", 201,
                     json={"channel_id": channel_id, "node_id": node, "answers": answers},
                     headers={"X-CSRFToken": self.session.cookies.get("csrftoken", ""),
                              "Referer": self.base + "/"})

    def run(self) -> None:
        try:
            time.sleep(self.chooser.uniform(0, self.job["login_spread"]))
            if not self.log_in():
                return
            while time.monotonic() < self.deadline:
                choice = self.chooser.random()
                if choice < 0.45:
                    self.browse()
                elif choice < 0.75:
                    self.watch()
                elif choice < 0.92:
                    self.take_test()
                else:
                    self.request("progress", "GET", "/api/progress/", 200)
                self.pause(THINK_SECONDS)
        finally:
            self.session.close()
            os.close(self.video_descriptor)


def run_learners(job: dict[str, Any]) -> dict[str, Any]:
    recorder = Recorder()
    deadline = time.monotonic() + float(job["seconds"])
    learners = [Learner(job, index, recorder, deadline)
                for index in range(len(job["usernames"]))]
    threads = [threading.Thread(target=learner.run, daemon=True) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic()) + TIMEOUT_SECONDS * 2)
    with recorder.lock:
        return {"latencies_ms": dict(recorder.latencies), "errors": dict(recorder.errors),
                "messages": list(recorder.messages),
                "unfinished_learners": sum(thread.is_alive() for thread in threads)}


def main() -> None:
    json.dump(run_learners(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main()
