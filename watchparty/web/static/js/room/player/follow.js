// Continuous correction of a <video> that follows the room's playback (SPEC R121, R124).
// The video is compared with the snapshot's position on the server's clock
// (player/timeline.js): time + rate x (now - effective_at). Nothing happens
// under 40 ms of drift; up to 1 s the playback rate leans against the drift (at most
// 5 %, in proportion, inaudible); beyond 1 s, or after a stall, the video seeks, aiming
// where the room will be once the seek is done (the player's measured seek time). A
// scheduled start calls play() as early as the player measured it takes to start moving.

import {effectiveLocal, position} from "./timeline.js";
import {localNow} from "../server-clock.js";

export const DEADBAND = 0.04; // seconds of drift left alone
const SETTLED = 0.01; // a correction under way stops here
const MAX_LEAN = 0.05; // largest playback-rate change, as a fraction
const GAIN = 1.0; // rate change per second of drift: 50 ms -> 5 %
const SEEK_BEYOND = 1.0;
const PAUSED_EXACT = 0.02;
const TICK_MS = 200;
export const HAVE_FUTURE_DATA = 3;

// What to do about `drift` (player minus room, seconds): seek, or play at `factor` x rate.
export function plan(drift, correcting, afterStall) {
  const size = Math.abs(drift);
  if (size > SEEK_BEYOND || (afterStall && size > DEADBAND)) {
    return {seek: true, correcting: false, factor: 1};
  }
  if (size < (correcting ? SETTLED : DEADBAND)) {
    return {seek: false, correcting: false, factor: 1};
  }
  const lean = Math.max(-MAX_LEAN, Math.min(MAX_LEAN, Math.round(GAIN * drift * 100) / 100));
  return {seek: false, correcting: lean !== 0, factor: 1 - lean};
}

// Drives `video` after hooks.state() (a local snapshot, or null); hooks.play() starts it.
export function createFollower(video, hooks) {
  let correcting = false;
  let afterStall = false;
  let seekTime = 0.15; // seconds a seek takes on this player, measured below
  let seekStarted = null;
  let startTimer = null;
  let startTime = 0.05; // seconds from play() until the video moves, measured below
  let playCalled = null;

  function setRate(rate) {
    if (Math.abs(video.playbackRate - rate) > 0.0005) {
      video.playbackRate = rate;
    }
  }

  function seekTo(position) {
    try {
      video.currentTime = Math.max(0, position);
    } catch (error) {
      // Not seekable yet: loadedmetadata follows again.
    }
  }

  function holdUntilStart(state, now) {
    if (!video.paused) {
      video.pause();
    }
    if (Math.abs(video.currentTime - state.time) > PAUSED_EXACT) {
      seekTo(state.time);
    }
    clearTimeout(startTimer);
    startTimer = setTimeout(tick, Math.max(0, (effectiveLocal(state) - startTime - now) * 1000));
  }

  function stayPaused(state) {
    clearTimeout(startTimer);
    correcting = false;
    setRate(state.rate);
    if (!video.paused) {
      video.pause();
    }
    if (!video.seeking && Math.abs(video.currentTime - state.time) > PAUSED_EXACT) {
      seekTo(state.time);
    }
  }

  function keepUp(state, now) {
    if (video.seeking || (!video.paused && video.readyState < HAVE_FUTURE_DATA)) {
      return; // a seek or a stall under way: act once the video can play on
    }
    const drift = video.currentTime - position(state, now);
    if (video.paused) {
      if (Math.abs(drift) > DEADBAND) {
        seekTo(position(state, now + seekTime));
      }
      playCalled = playCalled === null ? now : playCalled;
      hooks.play();
      return;
    }
    const step = plan(drift, correcting, afterStall);
    correcting = step.correcting;
    afterStall = false;
    if (step.seek) {
      setRate(state.rate);
      seekTo(position(state, now + seekTime));
      return;
    }
    setRate(state.rate * step.factor);
  }

  function tick() {
    const state = hooks.state();
    if (!state || video.readyState < 1) {
      return;
    }
    const now = localNow();
    if (!state.is_playing) {
      stayPaused(state);
    } else if (hooks.atEnd(position(state, now))) {
      clearTimeout(startTimer); // the room is past the end: let the video end by itself
    } else if (now < effectiveLocal(state) - startTime) {
      holdUntilStart(state, now); // play() is called the player's start time early
    } else {
      keepUp(state, now);
    }
  }

  // Obey a forced correction (RESYNC, R132): seek exactly, whatever the drift.
  function resync() {
    const state = hooks.state();
    if (state && video.readyState >= 1) {
      seekTo(position(state, localNow() + (state.is_playing ? seekTime : 0)));
    }
  }

  video.addEventListener("seeking", () => {
    seekStarted = localNow();
  });
  video.addEventListener("seeked", () => {
    if (seekStarted !== null) {
      seekTime = 0.7 * seekTime + 0.3 * Math.min(1, localNow() - seekStarted);
      seekStarted = null;
    }
  });
  video.addEventListener("playing", () => {
    if (playCalled !== null) {
      startTime = 0.7 * startTime + 0.3 * Math.min(0.5, localNow() - playCalled);
      playCalled = null;
    }
  });
  video.addEventListener("waiting", () => {
    afterStall = !video.seeking; // a seek's own wait is not a stall
  });
  const timer = setInterval(tick, TICK_MS);

  function stop() {
    clearInterval(timer);
    clearTimeout(startTimer);
  }

  return {follow: tick, resync: resync, stop: stop};
}
