// vidking: a cross-origin iframe we cannot drive; it is reloaded at a position (SPEC R72, R74).
import {localNow} from "../server-clock.js";
import {SYNC_CHECK_MS, TIMEUPDATE_MS, isNumber, playerEvent, position} from "./timeline.js";

export const VIDKING_ORIGIN = "https://www.vidking.net";
const RELOAD_TOLERANCE = 5.0; // an iframe can only be reloaded: do it for real jumps only
const RELOAD_COOLDOWN = 10.0;
const PLAYER_EVENTS = ["timeupdate", "play", "pause", "seeked", "ended"];

export function isVidkingUrl(url) {
  return typeof url === "string" && url.indexOf(VIDKING_ORIGIN + "/") === 0;
}

function createIframe(url) {
  const iframe = document.createElement("iframe");
  iframe.id = "vidking-player";
  iframe.className = "video";
  iframe.title = "Video player";
  iframe.allow = "autoplay; fullscreen";
  iframe.setAttribute("allowfullscreen", "");
  iframe.src = url;
  return iframe;
}

// The iframe's postMessage reports as PLAYER_EVENT payloads; anything malformed is null.
function readReport(data) {
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch (error) {
      return null;
    }
  }
  if (!data || typeof data !== "object") {
    return null;
  }
  const body = data.data && typeof data.data === "object" ? data.data : data;
  if (PLAYER_EVENTS.indexOf(body.event) === -1 || !isNumber(body.currentTime) || body.currentTime < 0) {
    return null;
  }
  return playerEvent(body.event, body.currentTime, body.duration);
}

export class VidkingPlayer {
  constructor(container, url, hooks) {
    this.kind = "vidking";
    this.container = container;
    this.hooks = hooks;
    this.element = createIframe(url);
    this.destroyed = false;
    // Where the iframe's player is believed to be: from its load, then from its own reports.
    this.known = {position: 0, at: localNow(), playing: false};
    this.lastReload = -Infinity;
    this.reloads = 0;
    this.lastTimeupdate = 0;
    container.replaceChildren(this.element);
    this.onMessage = (message) => this.receive(message);
    window.addEventListener("message", this.onMessage);
    this.syncTimer = setInterval(() => this.checkSync(), SYNC_CHECK_MS);
  }

  expected(state) {
    const moving = this.known.playing && state.is_playing;
    return this.known.position + (moving ? localNow() - this.known.at : 0);
  }

  reload(at, playing) {
    const ticket = ++this.reloads;
    this.lastReload = localNow();
    this.hooks.embedUrl(Math.floor(at), playing).then(
      (next) => {
        if (this.destroyed || ticket !== this.reloads || !isVidkingUrl(next)) {
          return;
        }
        this.element.src = next;
        this.known = {position: Math.floor(at), at: localNow(), playing: playing};
      },
      () => {
        // Keep the current iframe; the next state change tries again.
      }
    );
  }

  follow(force) {
    const state = this.hooks.state();
    if (!state || this.destroyed) {
      return;
    }
    this.hooks.note(state.is_playing || this.hooks.isHost ? "" : "The host paused.");
    const at = position(state);
    const cooled = localNow() - this.lastReload > RELOAD_COOLDOWN;
    if (Math.abs(at - this.expected(state)) > RELOAD_TOLERANCE && (force || cooled)) {
      this.reload(at, state.is_playing);
    }
  }

  apply() {
    this.follow(true);
  }

  correct() {
    this.follow(false);
  }

  start() {}

  receive(message) {
    const fromOurIframe = message.origin === VIDKING_ORIGIN && message.source === this.element.contentWindow;
    const report = fromOurIframe && !this.destroyed ? readReport(message.data) : null;
    if (!report) {
      return;
    }
    this.known = {
      position: report.currentTime,
      at: localNow(),
      playing: report.event !== "pause" && report.event !== "ended",
    };
    if (this.hooks.isHost && !this.throttled(report.event)) {
      this.hooks.emit("PLAYER_EVENT", report);
    }
  }

  // A host's timeupdate reports go to the server once every TIMEUPDATE_MS at most.
  throttled(event) {
    if (event !== "timeupdate") {
      return false;
    }
    const now = Date.now();
    if (now - this.lastTimeupdate < TIMEUPDATE_MS) {
      return true;
    }
    this.lastTimeupdate = now;
    return false;
  }

  // With reports from the iframe, ask the server whether it drifted, as the <video> does (R60).
  checkSync() {
    const state = this.hooks.state();
    const fresh = localNow() - this.known.at < (SYNC_CHECK_MS / 1000) * 2;
    if (state && state.is_playing && this.known.playing && fresh) {
      this.hooks.emit("SYNC_CHECK", {time: this.expected(state)});
    }
  }

  stop() {
    this.destroyed = true;
    clearInterval(this.syncTimer);
    window.removeEventListener("message", this.onMessage);
  }

  destroy() {
    this.stop();
    this.container.replaceChildren();
  }
}
