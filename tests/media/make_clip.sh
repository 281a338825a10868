#!/usr/bin/env bash
# Remake tests/media/clip.webm, the video of tests/test_browser.py: 60 s of a test
# pattern with a seconds counter, 160x90 at 10 fps, VP8 with a silent Opus track
# (an audible track keeps Chromium's autoplay policy in play), about 140 KB.
# Needs ffmpeg (apt-get install ffmpeg); the tests themselves do not.
set -euo pipefail
cd "$(dirname "$0")"
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc=size=160x90:rate=10:duration=60" \
  -f lavfi -i "anullsrc=r=48000:cl=mono" \
  -t 60 -c:v libvpx -b:v 16k -crf 50 -qmax 60 -g 20 -deadline good \
  -c:a libopus -b:a 6k -ac 1 -shortest -map_metadata -1 clip.webm
