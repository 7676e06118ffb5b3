"""Scenario 7 of issue 7: encode a video through the Huey task against raw ffmpeg, same arguments.

    .venv/bin/python -m benchmarks.encode            # a 10 s 480p clip, 3 rounds
    .venv/bin/python -m benchmarks.encode --quick    # a 3 s clip, 1 round

1. In a throwaway KOLIBRI_LIKE_HOME: synthetic 854x480 clips with sound (ffmpeg's testsrc2,
   a different hue each, so each is its own source), stored like uploads; an author and a draft.
2. The Huey consumer runs as in production (`kolibri-like run_huey`, its 2 worker threads).
3. Each round (which goes first alternates): the baseline, i.e. the raw ffmpeg commands the
   job runs, built with the same `media.ffmpeg.build_encode_args` / `build_thumbnail_args`
   (mp4, webm, ogv, PNG thumbnail), one after the other; then the task: `authoring.encoding.start_encode` on a
   draft file of a fresh clip, timed until the file is Finished (queueing, probe, the encodes,
   storing the outputs, marking the rows).
4. Two workers in parallel: two fresh clips started together through the task, against the two
   raw command sequences run in parallel (two threads); whether the jobs overlapped in time.
Goal: overhead of the task over the raw commands <= 5% (median of the per-round pairs: the
machine is shared and noisy); two encodes run in parallel. CPU time of both is shown too.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from benchmarks.home import use_throwaway_home

WIDTH, HEIGHT, RATE = 854, 480, 25
POLL_SECONDS = 0.05
WAIT_BOUND_SECONDS = 900


def make_clip(folder: Path, number: int, duration: float) -> Path:
    from media.ffmpeg import build_test_video_args, run_ffmpeg

    output = folder / f"clip-{number}.mp4"
    run_ffmpeg([*build_test_video_args(output, container="mp4", duration=duration, width=WIDTH,
                                       height=HEIGHT, rate=RATE, pattern="testsrc2",
                                       hue_degrees=(number * 37) % 360 or 1)], timeout=300)
    return output


def process_cpu(pid: int) -> float:
    """CPU seconds of a process and of its children it has reaped (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def raw_commands(source: Path, work: Path, duration: float) -> float:
    """The job's ffmpeg commands with the same arguments, one after the other; seconds."""
    from authoring.encoding import THUMBNAIL_LATEST_SECONDS
    from media.ffmpeg import ENCODE_TARGETS, build_encode_args, build_thumbnail_args, \
        ffmpeg_binary

    work.mkdir(parents=True, exist_ok=True)
    commands = [build_encode_args(source, work / f"video.{target}", target=target,
                                  has_audio=True) for target in ENCODE_TARGETS]
    commands.append(build_thumbnail_args(source, work / "thumbnail.png",
                                         at_seconds=min(duration / 4, THUMBNAIL_LATEST_SECONDS)))
    binary = ffmpeg_binary()
    started = time.perf_counter()
    for args in commands:
        # The command line media.ffmpeg runs (`-nostdin -hide_banner` first), stdin closed.
        subprocess.run([binary, "-nostdin", "-hide_banner", *args], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True,
                       timeout=WAIT_BOUND_SECONDS)
    seconds = time.perf_counter() - started
    shutil.rmtree(work, ignore_errors=True)
    return seconds


def stats(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--duration", type=float, default=None, help="clip seconds")
    arguments = parser.parse_args()
    rounds = arguments.rounds or (1 if arguments.quick else 3)
    # The goal speaks of a 10 s clip; the quick run's 3 s clip shows the same overheads, larger
    # in proportion (the fixed costs weigh more).
    duration = arguments.duration or (3.0 if arguments.quick else 10.0)

    home = use_throwaway_home()
    os.environ["ZEROCONF_ENABLED"] = "0"
    consumer = None
    try:
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from authoring.encoding import start_encode
        from authoring.models import Draft, DraftFile
        from benchmarks.report import record_result
        from jobs.models import Job
        from storage.files import put_file

        clips_dir = home / "clips"
        clips_dir.mkdir()
        clip_count = rounds + 2
        clips = [make_clip(clips_dir, number, duration) for number in range(clip_count)]
        author = get_user_model().objects.create_superuser("bench-author", password="x" * 12)
        draft = Draft.objects.create(owner=author, name="Encode bench")

        def draft_file(clip: Path) -> DraftFile:
            stored = put_file(clip, "mp4")
            size = clip.stat().st_size
            return DraftFile.objects.create(
                draft=draft, name=clip.name, file_type="video", extension="mp4", size=size,
                received=size, checksum=stored.checksum, state=DraftFile.State.UPLOADING)

        items = [draft_file(clip) for clip in clips]
        env = {key: value for key, value in os.environ.items()
               if key != "DJANGO_SETTINGS_MODULE"}
        consumer = subprocess.Popen(
            [str(Path(sys.executable).with_name("kolibri-like")), "run_huey"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(3)  # the consumer's start-up is not part of an encode

        def wait_finished(pks: list[object]) -> None:
            deadline = time.monotonic() + WAIT_BOUND_SECONDS
            while time.monotonic() < deadline:
                states = list(DraftFile.objects.filter(pk__in=pks).values_list("state",
                                                                                flat=True))
                if all(state == DraftFile.State.FINISHED for state in states):
                    return
                if any(state == DraftFile.State.ERROR for state in states):
                    raise RuntimeError("an encode failed")
                time.sleep(POLL_SECONDS)
            raise RuntimeError(f"encodes not finished within {WAIT_BOUND_SECONDS} s")

        task_times, raw_times = [], []
        queue_waits: list[float] = []
        raw_cpu: list[float] = []
        task_cpu: list[float] = []
        job_runs: list[float] = []
        for round_number in range(rounds):
            # Alternate which goes first, so neither always gets the warmer machine.
            item = items[round_number]
            def raw_round(clip: Path = clips[round_number]) -> None:
                before = children_cpu()
                raw_times.append(raw_commands(clip, home / "raw", duration))
                raw_cpu.append(children_cpu() - before)

            if round_number % 2 == 0:
                raw_round()
            cpu_before = process_cpu(consumer.pid)
            started = time.perf_counter()
            start_encode(item)
            wait_finished([item.pk])
            task_times.append(time.perf_counter() - started)
            time.sleep(0.2)  # the job's last ffmpeg is reaped by then
            task_cpu.append(process_cpu(consumer.pid) - cpu_before)
            if round_number % 2 == 1:
                raw_round()
            job = Job.objects.filter(kind="encode", params__checksum=item.checksum).values_list(
                "created_at", "started_at", "finished_at").first()
            if job and all(job):
                queue_waits.append((job[1] - job[0]).total_seconds())
                job_runs.append((job[2] - job[1]).total_seconds())
            print(f"round {round_number + 1}: raw {raw_times[-1]:.2f} s, task "
                  f"{task_times[-1]:.2f} s", flush=True)

        # Two videos at once: raw in two threads, then two jobs on the consumer's two workers.
        pair = clips[rounds:rounds + 2]
        raw_pair: list[float] = [0.0, 0.0]

        def raw_one(index: int) -> None:
            raw_pair[index] = raw_commands(pair[index], home / f"raw-{index}", duration)

        started = time.perf_counter()
        threads = [threading.Thread(target=raw_one, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_BOUND_SECONDS)
        raw_parallel = time.perf_counter() - started
        started = time.perf_counter()
        for item in items[rounds:rounds + 2]:
            start_encode(item)
        wait_finished([item.pk for item in items[rounds:rounds + 2]])
        task_parallel = time.perf_counter() - started
        jobs = list(Job.objects.filter(kind="encode", params__checksum__in=[
            item.checksum for item in items[rounds:rounds + 2]]).values_list(
            "started_at", "finished_at", "created_at").order_by("created_at"))
        spans = "; ".join(
            f"job {index + 1} ran {(job[0] - jobs[0][2]).total_seconds():.1f}-"
            f"{(job[1] - jobs[0][2]).total_seconds():.1f} s" for index, job in enumerate(jobs)
            if job[0] and job[1])
        jobs = [job[:2] for job in jobs]
        overlap = len(jobs) == 2 and all(value for pair_ in jobs for value in pair_) and \
            max(job[0] for job in jobs) < min(job[1] for job in jobs)
        overlap_seconds = (min(job[1] for job in jobs) - max(job[0] for job in jobs)
                           ).total_seconds() if overlap else 0.0

        per_round = [task / raw - 1 for task, raw in zip(task_times, raw_times, strict=True)]
        cpu_overhead = statistics.median(task_cpu) / statistics.median(raw_cpu) - 1
        paired = statistics.median(per_round)
        lines = [
            f"clip: {duration:.0f} s, {WIDTH}x{HEIGHT} {RATE} fps with sound (testsrc2 + sine, "
            f"H.264 mp4); outputs mp4 + webm + ogv + PNG thumbnail; consumer `kolibri-like "
            f"run_huey` (2 worker threads); {rounds} round(s), each on a fresh clip; figures are "
            "median | min | max, seconds.",
            "",
            "| what | median | min | max |",
            "|---|---|---|---|",
            f"| task: start_encode until Finished | {stats(task_times)} |",
            f"| baseline: the same ffmpeg commands, raw | {stats(raw_times)} |",
            f"| overhead task / raw - 1, per round, % | {stats([100 * v for v in per_round])} |",
            f"| CPU s, task: the consumer and the ffmpeg it ran | {stats(task_cpu)} |",
            f"| CPU s, baseline: the raw ffmpeg processes | {stats(raw_cpu)} |",
            f"| CPU overhead task / raw - 1, per round, % | "
            f"{stats([100 * (t / r - 1) for t, r in zip(task_cpu, raw_cpu, strict=True)])} |",
            f"| of the task: job created until a worker started it | "
            f"{stats(queue_waits) if queue_waits else 'n/a'} |",
            f"| of the task: the job's run (probe, encodes, store, rows) | "
            f"{stats(job_runs) if job_runs else 'n/a'} |",
            "",
            f"Two videos at once: raw in two threads {raw_parallel:.2f} s (each "
            f"{raw_pair[0]:.2f} and {raw_pair[1]:.2f} s); through the task on the consumer "
            f"{task_parallel:.2f} s; the two jobs overlapped: "
            f"{'yes' if overlap else 'NO'} ({overlap_seconds:.1f} s in common; after the first "
            f"was created: {spans}).",
            "On this shared 2-core machine both wall-clock and CPU times of the same work swing "
            "by up to 2x between rounds (other engineers' jobs, a VM), more than the 5% goal: "
            "the figure that counts is the per-round pair (same clip, back to back), judged by "
            "its median; the wait before a worker takes the job is shown on its own.",
            f"Goals: overhead <= 5%: {'met' if paired <= 0.05 else 'NOT met'} (paired median "
            f"{100 * paired:+.1f}%, range {100 * min(per_round):+.1f}% to "
            f"{100 * max(per_round):+.1f}%; CPU time {100 * cpu_overhead:+.1f}%; queue wait "
            f"median {statistics.median(queue_waits) if queue_waits else 0:.2f} s); two workers "
            f"encode in parallel: {'met' if overlap else 'NOT met'}.",
            "",
            "The queue wait is Huey's idle back-off: an idle consumer worker sleeps 0.1 s, then "
            "1.15 times longer after each empty poll, up to 10 s (huey.consumer defaults, "
            "`max_delay=10`), so a job queued after a quiet spell waits up to 10 s for a worker, "
            "more than 5% of a 10 s clip's encode. Fix: in kolibri_like/settings.py set "
            "HUEY[\"consumer\"][\"max_delay\"] to 1.0 (a poll of the SQLite queue a second per "
            "idle worker costs nothing measurable), or wake the consumer on enqueue.",
        ]
        print("\n".join(lines))
        record_result("encode", "Scenario 7: encoding", lines)
    finally:
        if consumer is not None:
            os.killpg(consumer.pid, 15)
            try:
                consumer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(consumer.pid, 9)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
