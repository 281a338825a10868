// Where the room's video is: playback snapshots on the server's clock (SPEC R38, R39,
// R121), and the PLAYER_EVENT payload (R62) every adapter reports in.

import {isNumber, localNow, serverClock} from "../server-clock.js";

export const SYNC_CHECK_MS = 2000; // how often a playing player reports its drift (R60, R124, R130)
export const TIMEUPDATE_MS = 5000; // how often the host's player reports its position (R62)

export {isNumber};

// A PLAYBACK_STATE or SYNC_CORRECTION payload as a local snapshot, or null if malformed.
// `effectiveAt` stays on the server's clock and is read on the local one when used, so a
// better clock estimate (TIME_SYNC, R124) moves every snapshot with it. Without a server
// time (the room as the page was rendered) the snapshot is anchored on arrival.
export function snapshot(payload) {
  if (!payload || typeof payload !== "object") {
    return null;
  }
  if (typeof payload.is_playing !== "boolean" || !isNumber(payload.time) || payload.time < 0 ||
      !isNumber(payload.version)) {
    return null;
  }
  const serverTime = isNumber(payload.server_time) ? payload.server_time : null;
  serverClock.hint(serverTime);
  const effectiveAt = isNumber(payload.effective_at) ? payload.effective_at : serverTime;
  return {
    is_playing: payload.is_playing,
    time: payload.time,
    version: payload.version,
    rate: isNumber(payload.rate) && payload.rate > 0 ? payload.rate : 1,
    effectiveAt: effectiveAt,
    anchor: effectiveAt === null ? localNow() : null,
  };
}

// When, on the local clock, the snapshot's position starts to move.
export function effectiveLocal(state) {
  return state.effectiveAt === null ? state.anchor : serverClock.toLocal(state.effectiveAt);
}

// The authoritative position at local time `now` (R121): it holds at `time` until the
// snapshot takes effect, then advances at `rate` while playing.
export function position(state, now = localNow()) {
  const start = effectiveLocal(state);
  if (!state.is_playing || now <= start) {
    return state.time;
  }
  return state.time + state.rate * (now - start);
}

// 65 -> "1:05", 3725 -> "1:02:05".
export function formatTime(seconds) {
  const total = Math.max(0, Math.floor(isNumber(seconds) ? seconds : 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours > 0 ? hours + ":" + String(minutes).padStart(2, "0") + ":" + secs : minutes + ":" + secs;
}

export function playerEvent(event, currentTime, duration) {
  return {
    event: event,
    currentTime: Math.max(0, currentTime),
    duration: isNumber(duration) && duration > 0 ? duration : null,
  };
}
