"""Long operations run in the background: a state row per job, a Huey task, a reaper."""
