// Where the room's video is: playback snapshots on the local clock (SPEC R38, R39),
// and the PLAYER_EVENT payload (R62) every adapter reports in.

const CLOCK_SKEW_LIMIT = 2.0;
export const SYNC_CHECK_MS = 3000; // how often a playing player asks the server whether it drifted (R60)
export const TIMEUPDATE_MS = 5000; // how often the host's player reports its position (R62)

export function isNumber(value) {
  return typeof value === "number" && isFinite(value);
}

export function monotonic() {
  return performance.now() / 1000;
}

// A PLAYBACK_STATE or SYNC_CORRECTION payload as a local snapshot, or null if malformed.
// `anchor` is when, on the local monotonic clock, the position was `time`: the server's
// `server_time` read on the local clock (one machine, or synchronised clocks), or the moment
// the payload arrived when the two clocks disagree by more than a couple of seconds.
export function snapshot(payload) {
  if (!payload || typeof payload !== "object") {
    return null;
  }
  if (typeof payload.is_playing !== "boolean" || !isNumber(payload.time) || payload.time < 0 ||
      !isNumber(payload.version)) {
    return null;
  }
  let age = isNumber(payload.server_time) ? Date.now() / 1000 - payload.server_time : 0;
  if (!(Math.abs(age) <= CLOCK_SKEW_LIMIT)) {
    age = 0;
  }
  return {
    is_playing: payload.is_playing,
    time: payload.time,
    version: payload.version,
    anchor: monotonic() - Math.max(0, age),
  };
}

// The authoritative position now.
export function position(state) {
  return state.is_playing ? state.time + Math.max(0, monotonic() - state.anchor) : state.time;
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
