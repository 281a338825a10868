// A viewer's "Pause" (SPEC R106): shown when the room gives viewers a pause budget, with
// what is left of it beside it. The server counts; the page counts along to say so.
import {byId, setText} from "../common.js";

export class ViewerPause {
  constructor(page, connection) {
    this.page = page;
    this.connection = connection;
    this.used = 0;
    this.playing = false;
    this.el = {box: byId("viewer-pause-box"), button: byId("viewer-pause"), left: byId("pauses-left")};
    this.el.button.addEventListener("click", () => this.pause());
    connection.on("PLAYBACK_STATE", (state) => {
      this.playing = Boolean(state && state.is_playing);
    });
    connection.on("ERROR", (error) => {
      if (error && error.code === "pause_limit") {
        this.used = this.limit();
        this.show();
      }
    });
    page.onRoomChange(() => this.show());
    page.onRoleChange(() => this.show());
    this.show();
  }

  limit() {
    const settings = this.page.room.settings || {};
    return Number(settings.viewer_pause_limit) || 0;
  }

  show() {
    const limit = this.limit();
    this.el.box.hidden = this.page.role !== "viewer" || limit === 0;
    const left = Math.max(0, limit - this.used);
    setText(this.el.left, left === 1 ? "1 pause left" : left + " pauses left");
  }

  pause() {
    if (this.playing && this.used < this.limit()) {
      this.used += 1;
    }
    this.connection.send("PAUSE", {});
    this.show();
  }
}
