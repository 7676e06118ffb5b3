"""Adapters for external media tools. One module per tool; nothing else runs their binaries.

    from media.ffmpeg import run_ffmpeg, build_test_video_args
    run_ffmpeg(build_test_video_args(Path("/tmp/clip.mp4"), container="mp4"), timeout=60)
"""
