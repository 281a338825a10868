// The playback state (SPEC R38, R39, R60): the newest snapshot, the line that says it,
// and the player that follows it (rebuilt when the room's video changes), with the
// start, mute and full screen buttons around it.
import {byId, getJson, setText} from "../common.js";
import {createPlayer} from "./player/player.js";
import {formatTime, position, snapshot} from "./player/timeline.js";

function initialState(room) {
  const playback = room.playback;
  return {
    is_playing: Boolean(playback && playback.is_playing),
    time: playback ? Number(playback.time) || 0 : 0,
    version: playback ? Number(playback.version) || 0 : 0,
  };
}

// The provider's URL at a position (R73): the iframe players are reloaded there.
function embedUrl(media, progress, autoPlay) {
  const query = new URLSearchParams();
  ["type", "id", "season", "episode"].forEach((key) => {
    if (media[key] !== undefined && media[key] !== null) {
      query.set(key, String(media[key]));
    }
  });
  if (autoPlay) {
    query.set("autoPlay", "true");
  }
  query.set("progress", String(Math.max(0, Math.floor(progress))));
  const provider = encodeURIComponent(String(media.provider));
  return getJson("/api/providers/" + provider + "/embed/?" + query.toString()).then((body) => body && body.url);
}

export class Playback {
  constructor(page, connection) {
    this.page = page;
    this.connection = connection;
    this.state = null; // the newest snapshot applied (see player/timeline.js)
    this.player = null;
    this.el = {
      player: byId("player"),
      startWatching: byId("start-watching"),
      status: byId("playback-status"),
      note: byId("player-note"),
      mute: byId("mute"),
      fullscreen: byId("fullscreen"),
    };
    this.el.startWatching.addEventListener("click", () => this.player.start());
    this.el.mute.addEventListener("click", () => this.toggleMute());
    this.el.fullscreen.addEventListener("click", () => this.showFullscreen());
    connection.on("PLAYBACK_STATE", (payload) => this.onPlaybackState(payload));
    connection.on("SYNC_CORRECTION", (payload) => this.onSyncCorrection(payload));
    page.onRoomChange((room, previous) => this.onRoomChange(room, previous));
    page.onClose(() => this.close());
    this.adopt(initialState(page.room));
    this.showStatus();
    this.buildPlayer();
  }

  // Snapshots older than the newest applied are dropped (R39).
  adopt(payload) {
    const next = snapshot(payload);
    if (!next || (this.state && next.version < this.state.version)) {
      return false;
    }
    this.state = next;
    return true;
  }

  showStatus() {
    if (this.state) {
      const at = formatTime(position(this.state));
      setText(this.el.status, this.state.is_playing ? "Playing from " + at : "Paused at " + at);
    }
  }

  onPlaybackState(payload) {
    if (!this.page.closed && this.adopt(payload)) {
      this.showStatus();
      this.player.apply();
    }
  }

  onSyncCorrection(payload) {
    const before = this.state;
    if (this.page.closed || !this.adopt(payload)) {
      return;
    }
    if (!before || before.version !== this.state.version || before.is_playing !== this.state.is_playing) {
      this.showStatus();
      this.player.apply();
      return;
    }
    this.player.correct(payload.forced === true);
  }

  onRoomChange(room, previous) {
    if (room.embed_url !== previous.embed_url && !this.page.closed) {
      this.buildPlayer();
    }
  }

  showStartButton(blocked) {
    this.el.startWatching.hidden = !blocked || this.page.closed;
  }

  playerHooks() {
    const page = this.page;
    return {
      get isHost() {
        return page.isHost; // read at each use: a handover makes another user the host (R103)
      },
      state: () => this.state,
      emit: (event, payload) => this.connection.sendIfConnected(event, payload),
      blocked: (blocked) => this.showStartButton(blocked),
      note: (text) => setText(this.el.note, text),
      embedUrl: (progress, autoPlay) => embedUrl(this.page.room.media || {}, progress, autoPlay),
    };
  }

  buildPlayer() {
    if (this.player) {
      this.player.destroy();
    }
    this.player = createPlayer(this.el.player, this.page.room, this.playerHooks());
    // The host's <video> has native controls, and the vidking player has its own buttons.
    const bare = this.player.kind === "direct" && !this.page.isHost;
    this.el.mute.hidden = !bare;
    this.el.fullscreen.hidden = !bare;
    this.el.mute.parentElement.hidden = !bare;
    setText(this.el.mute, "Mute");
    setText(this.el.note, "");
    this.showStartButton(false);
    this.player.apply();
  }

  toggleMute() {
    const video = this.player.kind === "direct" ? this.player.element : null;
    if (video) {
      video.muted = !video.muted;
      setText(this.el.mute, video.muted ? "Unmute" : "Mute");
    }
  }

  showFullscreen() {
    const target = this.player.element;
    if (target && target.requestFullscreen) {
      target.requestFullscreen().catch(() => {});
    }
  }

  close() {
    this.showStartButton(false);
    this.player.stop();
  }
}
