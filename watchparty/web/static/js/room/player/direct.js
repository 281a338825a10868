// direct: our own <video> (SPEC R74), so play, pause, seek and drift correction act on it.
import {SYNC_CHECK_MS, TIMEUPDATE_MS, isNumber, playerEvent, position} from "./timeline.js";

const SEEK_TOLERANCE = 1.0; // seconds a playing player may be off before it seeks
const PAUSED_TOLERANCE = 0.2; // a paused player shows the exact frame
const HOST_SEEK_MARGIN = 1.5; // a host's own seek must differ by more than this to be a command
const LARGE_DRIFT = 3.0; // from here a correction seeks; below it the playback rate is nudged
const NUDGE_RATE = 0.1;
const MAX_NUDGE_SECONDS = 10;
// What the host's native controls mean as a command (R62, R63).
const USER_ACTIONS = {play: "PLAY", pause: "PAUSE", seeked: "SEEK"};

function createVideo(url, isHost) {
  const video = document.createElement("video");
  video.id = "video";
  video.className = "video";
  video.preload = "auto";
  video.playsInline = true;
  // Viewers follow the host: no native controls to drive playback with (mute and
  // full screen are buttons of the page). The host's native controls send commands.
  video.controls = isHost;
  video.setAttribute("aria-label", "Video");
  video.src = url;
  return video;
}

export class DirectPlayer {
  constructor(container, url, hooks) {
    this.kind = "direct";
    this.container = container;
    this.hooks = hooks;
    this.element = createVideo(url, hooks.isHost);
    this.destroyed = false;
    this.nudgeTimer = null;
    this.lastTimeupdate = 0;
    container.replaceChildren(this.element);
    this.listen();
    this.syncTimer = setInterval(() => this.checkSync(), SYNC_CHECK_MS);
  }

  listen() {
    const video = this.element;
    video.addEventListener("loadedmetadata", () => this.apply());
    ["play", "pause", "seeked"].forEach((event) => {
      video.addEventListener(event, () => {
        this.report(event);
        this.onUserAction(event);
      });
    });
    video.addEventListener("ended", () => this.report("ended"));
    video.addEventListener("timeupdate", () => this.onTimeupdate());
    video.addEventListener("error", () => this.hooks.note("The video could not be loaded."));
  }

  // The state's position, within the video.
  target(state) {
    const at = position(state);
    return isNumber(this.element.duration) ? Math.min(at, this.element.duration) : at;
  }

  atEnd(at) {
    return isNumber(this.element.duration) && at >= this.element.duration - 0.25;
  }

  // The current state, or null while the player cannot act on one.
  actionableState() {
    const state = this.hooks.state();
    return state && !this.destroyed && this.element.readyState >= 1 ? state : null;
  }

  seek(at) {
    try {
      this.element.currentTime = at;
    } catch (error) {
      // Not seekable yet; loadedmetadata applies the state again.
    }
  }

  play() {
    let attempt;
    try {
      attempt = this.element.play();
    } catch (error) {
      return;
    }
    if (attempt && typeof attempt.then === "function") {
      attempt.then(
        () => this.hooks.blocked(false),
        (error) => {
          // Autoplay refused: the viewer must press a button (a user gesture).
          if (error && error.name === "NotAllowedError" && !this.destroyed) {
            this.hooks.blocked(true);
          }
        }
      );
    }
  }

  stopNudge() {
    clearTimeout(this.nudgeTimer);
    this.nudgeTimer = null;
    this.element.playbackRate = 1;
  }

  apply() {
    const state = this.actionableState();
    if (!state) {
      return; // before metadata: loadedmetadata calls apply again
    }
    const video = this.element;
    const at = this.target(state);
    if (state.is_playing && !this.atEnd(at)) {
      if (Math.abs(video.currentTime - at) > SEEK_TOLERANCE) {
        this.seek(at);
      }
      if (video.paused) {
        this.play();
      }
      return;
    }
    this.hooks.blocked(false);
    this.stopNudge();
    if (!video.paused) {
      video.pause();
    }
    if (Math.abs(video.currentTime - at) > PAUSED_TOLERANCE) {
      this.seek(at);
    }
  }

  correct() {
    const state = this.actionableState();
    if (!state) {
      return;
    }
    if (!state.is_playing || this.element.paused) {
      this.apply();
      return;
    }
    const at = this.target(state);
    const drift = this.element.currentTime - at;
    if (Math.abs(drift) >= LARGE_DRIFT) {
      this.stopNudge();
      this.seek(at);
      return;
    }
    // Small drift: play a little faster or slower until the gap is gone.
    clearTimeout(this.nudgeTimer);
    this.element.playbackRate = drift > 0 ? 1 - NUDGE_RATE : 1 + NUDGE_RATE;
    const seconds = Math.min(Math.abs(drift) / NUDGE_RATE, MAX_NUDGE_SECONDS);
    this.nudgeTimer = setTimeout(() => this.stopNudge(), seconds * 1000);
  }

  start() {
    const state = this.hooks.state();
    this.hooks.blocked(false);
    if (state && state.is_playing) {
      this.seek(this.target(state));
      this.play();
    }
  }

  // The player no longer shows what the room's state says: the user acted on it.
  differsFromState(event) {
    const state = this.hooks.state();
    if (!state) {
      return false;
    }
    if (event === "play") {
      return !state.is_playing;
    }
    if (event === "pause") {
      return state.is_playing;
    }
    return Math.abs(this.element.currentTime - this.target(state)) > HOST_SEEK_MARGIN;
  }

  report(event) {
    if (this.hooks.isHost) {
      this.hooks.emit("PLAYER_EVENT", playerEvent(event, this.element.currentTime, this.element.duration));
    }
  }

  // What the state changes are, for the host's native controls; viewers are put back in line.
  onUserAction(event) {
    if (!this.differsFromState(event)) {
      return;
    }
    if (this.hooks.isHost) {
      this.hooks.emit(USER_ACTIONS[event], {time: Math.max(0, this.element.currentTime)});
    } else {
      setTimeout(() => this.apply(), 0);
    }
  }

  onTimeupdate() {
    const now = Date.now();
    if (now - this.lastTimeupdate >= TIMEUPDATE_MS && !this.element.paused) {
      this.lastTimeupdate = now;
      this.report("timeupdate");
    }
  }

  // While playing, ask the server now and then whether this player drifted (R60).
  checkSync() {
    const state = this.hooks.state();
    const video = this.element;
    if (state && state.is_playing && !video.paused && !video.seeking && video.readyState >= 2) {
      this.hooks.emit("SYNC_CHECK", {time: video.currentTime});
    }
  }

  stop() {
    this.destroyed = true;
    clearInterval(this.syncTimer);
    clearTimeout(this.nudgeTimer);
    this.element.pause();
    this.element.controls = false;
  }

  destroy() {
    this.stop();
    this.element.removeAttribute("src");
    this.element.load();
    this.container.replaceChildren();
  }
}
