// The host's state (SPEC R40-R44): here, or away with the grace countdown before the room closes.
import {byId, setText} from "../common.js";
import {formatTime} from "./player/timeline.js";
import {viewerFrom} from "./viewers.js";

export class HostPresence {
  constructor(page, connection) {
    this.page = page;
    this.line = byId("host-state");
    this.countdown = byId("grace-countdown");
    this.timer = null;
    connection.on("PRESENCE", (payload) => this.onPresence(payload));
    connection.on("USER_JOINED", (payload) => this.onUserJoined(payload));
    connection.on("HOST_DISCONNECTED", (payload) => this.onHostDisconnected(payload));
    connection.on("HOST_RECONNECTED", () => this.onHostReconnected());
    page.onClose(() => {
      setText(this.line, "");
      this.stopCountdown();
    });
  }

  stopCountdown() {
    clearInterval(this.timer);
    this.timer = null;
    this.countdown.hidden = true;
    setText(this.countdown, "");
  }

  here(text) {
    this.stopCountdown();
    setText(this.line, text);
  }

  // Away; with expiresAt (ms since the epoch), count down to the room's close.
  away(text, expiresAt) {
    setText(this.line, text);
    this.stopCountdown();
    if (expiresAt === null) {
      return;
    }
    const tick = () => {
      const left = Math.max(0, (expiresAt - Date.now()) / 1000);
      setText(
        this.countdown,
        left > 0
          ? "The room closes in " + formatTime(Math.ceil(left)) + " unless the host comes back."
          : "The host did not come back in time: the room is closing."
      );
    };
    this.countdown.hidden = false;
    tick();
    this.timer = setInterval(tick, 1000);
  }

  onPresence(payload) {
    if (!payload || !Array.isArray(payload.users)) {
      return;
    }
    if (payload.host_connected) {
      this.here(this.page.isHost ? "You are the host." : "The host is here.");
    } else {
      this.away("The host is not here right now.", null);
    }
  }

  onUserJoined(payload) {
    const user = viewerFrom(this.page, payload && payload.user, false);
    if (user && user.role === "host" && !this.timer) {
      this.here("The host is here.");
    }
  }

  onHostReconnected() {
    this.here(this.page.isHost ? "You are the host." : "The host reconnected.");
  }

  onHostDisconnected(payload) {
    let expiresAt = Date.parse(payload && payload.grace_expires_at);
    if (isNaN(expiresAt) && payload && typeof payload.grace_seconds === "number") {
      expiresAt = Date.now() + payload.grace_seconds * 1000;
    }
    this.away("The host is disconnected.", isNaN(expiresAt) ? null : expiresAt);
  }
}
