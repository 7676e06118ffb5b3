"""Demo content: course-like channels with real media made on this machine, never downloaded.

    from channels.demo.generate import generate_demo_channel
    generate_demo_channel(nodes=40, seed=1)          # "Demo: Science"

Modules: `vocabulary` (words), `thumbnails` (pure-Python PNGs), `pdf` (worksheets),
`media` (ffmpeg clips and tones, stored once), `tree` (the N-node tree), `generate` (the
whole run), `setup` (the two channels `make run` creates the first time).
"""
