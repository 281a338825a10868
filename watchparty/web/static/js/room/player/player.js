// The players of the room page (SPEC R74, R92): one interface, one adapter per
// provider (direct.js, vidking.js). A player follows the room's playback state,
// which only the host's commands change on the server; it never decides playback
// on its own.
//
//   const player = createPlayer(container, room, hooks);
//   player.kind        // "direct", "vidking" or "none"; player.element is what it shows
//   player.apply();    // the playback state changed: follow it
//   player.correct();  // a SYNC_CORRECTION was adopted as the state: close the gap
//   player.start();    // "Click to start watching" was pressed (a user gesture)
//   player.stop();     // the room closed: stay, but stop following
//   player.destroy();
//
// hooks: isHost (bool), state() -> the current snapshot or null, emit(event, payload),
// blocked(bool) -> show or hide the start button, note(text) -> a line under the player,
// embedUrl(progressSeconds, autoPlay) -> Promise of a provider URL (asked from the server: R73).
import {DirectPlayer} from "./direct.js";
import {VidkingPlayer, isVidkingUrl} from "./vidking.js";

// No video yet: the controls still work and the playback state still syncs.
class NoPlayer {
  constructor(container, text) {
    this.kind = "none";
    this.container = container;
    this.element = document.createElement("p");
    this.element.className = "no-video";
    this.element.textContent = text;
    container.replaceChildren(this.element);
  }

  apply() {}
  correct() {}
  start() {}
  stop() {}

  destroy() {
    this.container.replaceChildren();
  }
}

export function createPlayer(container, room, hooks) {
  const media = room && room.media;
  const url = room && room.embed_url;
  if (!media) {
    return new NoPlayer(container, "No video chosen yet.");
  }
  if (typeof url === "string" && media.provider === "direct" && /^https?:\/\//i.test(url)) {
    return new DirectPlayer(container, url, hooks);
  }
  if (media.provider === "vidking" && isVidkingUrl(url)) {
    return new VidkingPlayer(container, url, hooks);
  }
  return new NoPlayer(container, "This video cannot be played here.");
}
