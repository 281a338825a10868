// direct: our own <video> (SPEC R74), so play, pause, seek and drift correction act on it.
// It follows the room on the server's clock (player/follow.js, R124), tells the server
// whether it can play (READY, R110) and reports its drift, round trip and buffering
// (SYNC_CHECK, R130) every 2 s while playing.
import {localNow, serverClock} from "../server-clock.js";
import {HAVE_FUTURE_DATA, createFollower} from "./follow.js";
import {SYNC_CHECK_MS, TIMEUPDATE_MS, effectiveLocal, isNumber, playerEvent, position} from "./timeline.js";

const HOST_SEEK_MARGIN = 1.5; // a host's own seek must differ by more than this to be a command
const SHORT_WAIT_MS = 400; // a wait this short is not a stall worth telling the room
const SEEK_WAIT_MS = 1000;
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
    this.lastTimeupdate = 0;
    this.ready = null; // what READY last said
    this.refused = false; // autoplay was refused: wait for start()
    this.readyTimer = null;
    container.replaceChildren(this.element);
    this.follower = createFollower(this.element, {
      state: () => this.actionableState(),
      play: () => this.play(),
      atEnd: (at) => this.atEnd(at),
    });
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
    ["waiting", "stalled", "canplay", "playing"].forEach((event) => {
      video.addEventListener(event, () => this.reportReady());
    });
    video.addEventListener("ended", () => this.report("ended"));
    video.addEventListener("timeupdate", () => this.onTimeupdate());
    video.addEventListener("error", () => this.hooks.note("The video could not be loaded."));
  }

  atEnd(at) {
    return isNumber(this.element.duration) && at >= this.element.duration - 0.25;
  }

  // The current state, or null while the player cannot act on one.
  actionableState() {
    const state = this.hooks.state();
    return state && !this.destroyed && this.element.readyState >= 1 ? state : null;
  }

  play() {
    if (this.refused) {
      return; // the browser wants a user gesture: "Click to start watching" calls start()
    }
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
            this.refused = true;
            this.hooks.blocked(true);
          }
        }
      );
    }
  }

  apply() {
    const state = this.actionableState();
    if (!state) {
      return; // before metadata: loadedmetadata calls apply again
    }
    if (!state.is_playing) {
      this.hooks.blocked(false);
    }
    this.follower.follow();
  }

  // A SYNC_CORRECTION was adopted; `forced` (RESYNC, R132) seeks exactly.
  correct(forced) {
    if (forced) {
      this.follower.resync();
    } else {
      this.follower.follow();
    }
  }

  start() {
    this.refused = false;
    this.hooks.blocked(false);
    this.follower.resync();
    this.follower.follow();
  }

  // Whether the room's video should be moving right now (a scheduled start has come).
  shouldPlay(state) {
    return state.is_playing && localNow() >= effectiveLocal(state);
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
      return this.shouldPlay(state) && !this.element.ended;
    }
    return Math.abs(this.element.currentTime - position(state)) > HOST_SEEK_MARGIN;
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

  // READY (R110): false while the video cannot play on from here, true once it can. A
  // short wait (a seek's own, a start's) is not reported: only one that lasts.
  reportReady() {
    clearTimeout(this.readyTimer);
    const ready = this.element.readyState >= HAVE_FUTURE_DATA;
    if (ready) {
      this.sendReady(true);
    } else {
      const patience = this.element.seeking ? SEEK_WAIT_MS : SHORT_WAIT_MS;
      this.readyTimer = setTimeout(() => {
        if (this.element.readyState < HAVE_FUTURE_DATA) {
          this.sendReady(false);
        }
      }, patience);
    }
  }

  sendReady(ready) {
    if (ready !== this.ready && !this.destroyed) {
      this.ready = ready;
      this.hooks.emit("READY", {ready: ready});
    }
  }

  onTimeupdate() {
    const now = Date.now();
    if (now - this.lastTimeupdate >= TIMEUPDATE_MS && !this.element.paused) {
      this.lastTimeupdate = now;
      this.report("timeupdate");
    }
  }

  // While playing, report where this player is as of the report's arrival (R60, R130).
  checkSync() {
    const state = this.hooks.state();
    const video = this.element;
    if (!state || !this.shouldPlay(state) || video.paused || video.seeking) {
      return;
    }
    const rtt = serverClock.rtt;
    const arrival = rtt === null ? 0 : (video.playbackRate * rtt) / 2;
    const report = {time: video.currentTime + arrival, buffering: video.readyState < HAVE_FUTURE_DATA,
      version: state.version};
    if (rtt !== null) {
      report.rtt = rtt;
    }
    this.hooks.emit("SYNC_CHECK", report);
  }

  stop() {
    this.destroyed = true;
    clearInterval(this.syncTimer);
    clearTimeout(this.readyTimer);
    this.follower.stop();
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
