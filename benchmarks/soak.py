"""Scenario 9: the soak run: 200 learners for 10 minutes on loopback, with an encode running.

    .venv/bin/python -m benchmarks.soak                 # make soak: 10 minutes
    .venv/bin/python -m benchmarks.soak --minutes 2     # shorter

1. In a throwaway home: a course of 30 topics of 30 nodes, 6 videos (one 60 MiB file of random
   bytes behind them) and a 10-question test; 200 learner accounts; an author's draft with
   short 480p clips made by ffmpeg.
2. The production server with its task consumer (`kolibri-like start`) on 127.0.0.1.
3. The learners (benchmarks/soak_client.py, its own process) sign in through the login form
   during the first minute, then browse, watch videos by paced 1 MiB Range requests and take
   the test until the time is up; one encode of a clip runs all along (a new one starts when
   one ends), through the same task as an upload's.
4. Every 30 s, the server's and the consumer's RSS and open descriptors. Print and record
   errors (goal 0), p50/p95/p99 per kind of request, RSS and descriptors at the start of the
   load and at the end (goal: flat), and the encodes done.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from benchmarks.home import use_throwaway_home

LEARNERS = 200
PASSWORD = "learner-pass-soak"
VIDEO_MIB = 60
TOPICS, NODES_PER_TOPIC, VIDEOS, QUESTIONS = 30, 30, 6, 10
LOGIN_SPREAD_SECONDS = 60
SAMPLE_SECONDS = 30
CLIP_SECONDS = 10
CLIPS = 3
MAX_ENCODES = 200
MAX_FAILED_ENCODES = 3


def build_course(video_source: Path) -> dict[str, object]:
    from authoring.testsets import build_exercise_file, exercise_options
    from channels.builder import ChannelSpec, FileSpec, NodeSpec, build_channel, stable_id

    root = NodeSpec(title="Soak course")
    topic_ids, leaf_ids, video_ids = [], [], []
    for topic_number in range(TOPICS):
        topic = NodeSpec(title=f"Unit {topic_number}", description="a unit of the course")
        for number in range(NODES_PER_TOPIC):
            topic.children.append(NodeSpec(
                title=f"Reading {topic_number}.{number}", kind="document",
                description=f"reading {number} of unit {topic_number}",
                files=[FileSpec("document", "pdf", f"%PDF-1.4 {topic_number} {number}".encode())]))
        root.children.append(topic)
    videos = NodeSpec(title="Videos")
    for number in range(VIDEOS):
        videos.children.append(NodeSpec(title=f"Lesson {number}", kind="video", files=[
            FileSpec("high_res_video", "mp4", video_source)]))
    root.children.append(videos)
    test_set = {"id": stable_id("soak", "test"), "title": "Final test", "pass_mark": 0.8,
                "display": "all", "max_attempts": None, "topic": "", "questions": [
                    {"id": stable_id("soak", "question", index), "text": f"{index} + 1?",
                     "multiple": False, "image": None,
                     "answers": [{"id": stable_id("soak", "answer", index, choice),
                                  "text": str(index + choice), "correct": choice == 1,
                                  "image": None} for choice in range(3)]}
                    for index in range(QUESTIONS)]}
    test = NodeSpec(title="Final test", kind="exercise", id=test_set["id"],
                    options=exercise_options(test_set),
                    files=[FileSpec("exercise", "perseus", build_exercise_file(
                        test_set, image_loader=lambda file_id: (b"", "png")))])
    root.children.append(test)
    result = build_channel(ChannelSpec(name="Soak course", root=root))
    for topic in root.children:
        if topic is videos:
            video_ids = [child.id or "" for child in topic.children]
        elif topic.children:
            topic_ids.append(topic.id or "")
            leaf_ids += [child.id or "" for child in topic.children]
    return {"channel_id": result.channel_id, "topic_ids": topic_ids, "leaf_ids": leaf_ids,
            "video_ids": video_ids, "test_id": test.id}


def write_random_video(path: Path, size: int) -> str:
    import hashlib

    digest = hashlib.md5()
    with open(path, "wb") as handle:
        for _ in range(size // (1024 * 1024)):
            chunk = os.urandom(1024 * 1024)
            handle.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


HASH_CPU_SECONDS: list[float] = []


def make_learners(count: int) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    user_model = get_user_model()
    started = time.process_time()
    hashed = make_password(PASSWORD)  # hashed once: 200 hashes would take minutes here
    HASH_CPU_SECONDS.append(time.process_time() - started)
    names = [f"learner{number:03d}" for number in range(count)]
    user_model.objects.bulk_create([user_model(username=name, password=hashed, role="learner")
                                    for name in names])
    return names


def process_figures(pid: int) -> tuple[float, int]:
    """(RSS in MB, open descriptors) of a process; (nan, -1) once it is gone."""
    try:
        rss = next(int(line.split()[1]) / 1024
                   for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration):
        return float("nan"), -1


def consumer_pid(server_pid: int) -> int | None:
    for task in Path(f"/proc/{server_pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            if b"run_huey" in command:
                return int(child)
    return None


class EncodeLoop:
    """Keeps one encode running: a draft file of one of the clips, started as an upload's is;
    when it is Finished (or fails), the next. Bounded by MAX_ENCODES and by `stop`; gives up
    after MAX_FAILED_ENCODES failures in a row (a broken encoder would otherwise be retried
    in a tight loop)."""

    def __init__(self, clips: list[Path]) -> None:
        self.clips = clips
        self.stop = threading.Event()
        self.finished = 0
        self.failed: list[str] = []
        self.durations: list[float] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connections

        from authoring.encoding import start_encode
        from authoring.models import Draft, DraftFile
        from storage.files import put_file

        author = get_user_model().objects.create_user("soak-author", password="x" * 12,
                                                      role="author")
        draft = Draft.objects.create(owner=author, name="Soak encodes")
        try:
            for number in range(MAX_ENCODES):
                if self.stop.is_set() or len(self.failed) >= MAX_FAILED_ENCODES:
                    return
                clip = self.clips[number % len(self.clips)]
                stored = put_file(clip, "mp4")
                size = clip.stat().st_size
                item = DraftFile.objects.create(
                    draft=draft, name=f"{number}-{clip.name}", file_type="video",
                    extension="mp4", size=size, received=size, checksum=stored.checksum,
                    state=DraftFile.State.UPLOADING)
                started = time.monotonic()
                start_encode(item)
                while not self.stop.wait(1.0):
                    item.refresh_from_db()
                    if item.state == DraftFile.State.FINISHED:
                        self.failed.clear()
                        self.finished += 1
                        self.durations.append(time.monotonic() - started)
                        break
                    if item.state == DraftFile.State.ERROR:
                        self.failed.append(str(item.error)[:200])
                        break
        finally:
            connections.close_all()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--learners", type=int, default=LEARNERS)
    arguments = parser.parse_args()
    seconds = arguments.minutes * 60

    home = use_throwaway_home()
    os.environ["ZEROCONF_ENABLED"] = "0"
    os.environ["QUEUE_NAME"] = f"soak-{uuid.uuid4().hex[:8]}"
    server = None
    encodes: EncodeLoop | None = None
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from benchmarks.encode import make_clip
        from benchmarks.report import record_result
        from storage.paths import storage_path, storage_url
        from tests.servers import ServerProcess

        print("building the course, the learners and the clips", flush=True)
        source = Path(settings.CONTENT_TEMP_DIR) / "soak-video.mp4"
        checksum = write_random_video(source, VIDEO_MIB * 1024 * 1024)
        course = build_course(source)
        source.unlink()
        usernames = make_learners(arguments.learners)
        clips_dir = home / "clips"
        clips_dir.mkdir()
        clips = [make_clip(clips_dir, number, CLIP_SECONDS) for number in range(CLIPS)]

        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        server = ServerProcess(home, consumer=True,
                               env={"QUEUE_NAME": os.environ["QUEUE_NAME"]}).start()
        assert server.process is not None
        server_pid = server.process.pid
        os.environ["DJANGO_SETTINGS_MODULE"] = "kolibri_like.settings"
        time.sleep(3)  # the consumer's start-up
        worker_pid = consumer_pid(server_pid)

        samples: list[tuple[float, float, int, float, int]] = []
        started = time.monotonic()

        def sample() -> None:
            rss, descriptors = process_figures(server_pid)
            worker_rss, worker_descriptors = (process_figures(worker_pid) if worker_pid
                                              else (float("nan"), -1))
            samples.append((time.monotonic() - started, rss, descriptors, worker_rss,
                            worker_descriptors))
            print(f"{samples[-1][0]:6.0f} s: server {rss:.0f} MB, {descriptors} descriptors; "
                  f"consumer {worker_rss:.0f} MB, {worker_descriptors} descriptors; "
                  f"encodes done {encodes.finished if encodes else 0}", flush=True)

        sample()
        encodes = EncodeLoop(clips)
        encodes.thread.start()
        job = {"port": server.port, "usernames": usernames, "password": PASSWORD,
               "seconds": seconds, "login_spread": min(LOGIN_SPREAD_SECONDS, seconds / 4),
               "seed": 1, "video_url": storage_url(checksum, "mp4"),
               "video_file": str(storage_path(checksum, "mp4")), **course}
        client = subprocess.Popen([sys.executable, "-m", "benchmarks.soak_client"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert client.stdin is not None and client.stdout is not None
        client.stdin.write(json.dumps(job))
        client.stdin.close()
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.append(client.stdout.read()),
                                  daemon=True)
        reader.start()
        next_sample = started + SAMPLE_SECONDS
        hard_stop = started + seconds + 300
        while reader.is_alive() and time.monotonic() < hard_stop:
            reader.join(max(0.1, min(5.0, next_sample - time.monotonic())))
            if time.monotonic() >= next_sample:
                sample()
                next_sample += SAMPLE_SECONDS
        client.wait(timeout=60)
        sample()
        encodes.stop.set()
        encodes.thread.join(30)
        result = json.loads(output[0])

        lines = report_lines(arguments, seconds, result, samples, encodes)
        print("\n".join(lines))
        record_result("soak", "Scenario 9: soak", lines)
    finally:
        if encodes is not None:
            encodes.stop.set()
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


def report_lines(arguments: argparse.Namespace, seconds: float, result: dict[str, object],
                 samples: list[tuple[float, float, int, float, int]],
                 encodes: EncodeLoop) -> list[str]:
    timed: dict[str, list[list[float]]] = result["latencies_ms"]  # type: ignore[assignment]
    errors: dict[str, int] = result["errors"]  # type: ignore[assignment]
    # Once every learner has signed in (and a minute more), the steady state a class lives in.
    settled_after = min(LOGIN_SPREAD_SECONDS, seconds / 4) + 60
    latencies = {kind: [ms for _at, ms in pairs] for kind, pairs in timed.items()}
    settled = {kind: [ms for at, ms in pairs if at >= settled_after]
               for kind, pairs in timed.items()}
    every = [value for values in latencies.values() for value in values]
    every_settled = [value for values in settled.values() for value in values]
    total_errors = sum(errors.values())
    lines = [f"{arguments.learners} learners for {seconds / 60:g} min on 127.0.0.1 "
             f"(benchmarks.soak_client, its own process; sign-ins spread over the first "
             f"{min(LOGIN_SPREAD_SECONDS, seconds / 4):.0f} s, 1-5 s between actions, video "
             f"ranges of 1 MiB 1.5-3 s apart); server: `kolibri-like start` with its consumer; "
             f"course of {TOPICS}x{NODES_PER_TOPIC} nodes, {VIDEOS} videos, a {QUESTIONS}-"
             f"question test; encodes of a {CLIP_SECONDS} s 480p clip one after another all "
             f"along: {encodes.finished} done"
             + (f" (median {statistics.median(encodes.durations):.0f} s each)"
                if encodes.durations else "")
             + (f"; then {len(encodes.failed)} failed in a row and the loop stopped: "
                f"{encodes.failed[0]}" if encodes.failed else "") + ".",
             "",
             f"| requests | count | errors | p50 ms | p95 ms | p99 ms | after {settled_after:.0f} s:"
             f" p50 ms | p95 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for kind in sorted(set(latencies) | set(errors)):
        values, later = latencies.get(kind, []), settled.get(kind, [])
        lines.append(f"| {kind} | {len(values)} | {errors.get(kind, 0)} | "
                     f"{percentile(values, 0.5):.1f} | {percentile(values, 0.95):.1f} | "
                     f"{percentile(values, 0.99):.1f} | {percentile(later, 0.5):.1f} | "
                     f"{percentile(later, 0.95):.1f} |")
    lines.append(f"| all | {len(every)} | {total_errors} | {percentile(every, 0.5):.1f} | "
                 f"{percentile(every, 0.95):.1f} | {percentile(every, 0.99):.1f} | "
                 f"{percentile(every_settled, 0.5):.1f} | "
                 f"{percentile(every_settled, 0.95):.1f} |")
    first, load_start, last = samples[0], samples[min(1, len(samples) - 1)], samples[-1]
    lines += ["",
              "| process | idle, before the load | first sample under load | end |",
              "|---|---|---|---|",
              f"| server RSS MB | {first[1]:.0f} | {load_start[1]:.0f} | {last[1]:.0f} |",
              f"| server open descriptors | {first[2]} | {load_start[2]} | {last[2]} |",
              f"| consumer RSS MB | {first[3]:.0f} | {load_start[3]:.0f} | {last[3]:.0f} |",
              f"| consumer open descriptors | {first[4]} | {load_start[4]} | {last[4]} |",
              "",
              "Server RSS every 30 s (MB): " + ", ".join(f"{row[1]:.0f}" for row in samples),
              "Server descriptors every 30 s: " + ", ".join(str(row[2]) for row in samples),
              ""]
    if HASH_CPU_SECONDS:
        rush = arguments.learners * HASH_CPU_SECONDS[0]
        lines += [f"Every sign-in checks the password's PBKDF2 hash (Django's default "
                  f"iterations): {HASH_CPU_SECONDS[0] * 1000:.0f} ms of CPU each here, so "
                  f"{arguments.learners} sign-ins in {min(LOGIN_SPREAD_SECONDS, seconds / 4):.0f}"
                  f" s are {rush:.0f} CPU-seconds on {os.cpu_count()} cores: while they last, "
                  f"every other request waits behind them for a server thread (the columns "
                  f"after {settled_after:.0f} s are the class at work).", ""]
    messages: list[str] = result["messages"]  # type: ignore[assignment]
    if messages:
        lines += ["First errors:", *[f"- `{message}`" for message in messages[:5]], ""]
    lines.append(f"Goal 0 errors: {'met' if total_errors == 0 else f'NOT met ({total_errors})'}"
                 f"; unfinished learners at the end: {result['unfinished_learners']}.")
    return lines


if __name__ == "__main__":
    main()
