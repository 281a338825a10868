// The "Speed" select (SPEC R123): host and cohosts change the room's playback speed
// with RATE; the select shows the speed the room plays at.
import {byId} from "../common.js";

export class Speed {
  constructor(page, connection) {
    this.select = byId("speed");
    this.version = -1;
    this.select.addEventListener("change", () => {
      connection.send("RATE", {rate: Number(this.select.value)});
    });
    connection.on("PLAYBACK_STATE", (payload) => this.onPlaybackState(payload));
  }

  onPlaybackState(payload) {
    if (!payload || typeof payload.rate !== "number" || !(payload.version >= this.version)) {
      return;
    }
    this.version = payload.version;
    const value = String(payload.rate);
    if (![...this.select.options].some((option) => option.value === value)) {
      this.select.append(new Option(value + "×", value));
    }
    this.select.value = value;
  }
}
