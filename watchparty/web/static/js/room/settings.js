// The host's "Room settings" form (SPEC R107, R94a): each change PATCHes that one
// setting; ROOM_UPDATED brings the room's settings back to every page.
import {byId, setText} from "../common.js";
import {errorMessage, requestJson, roomPath} from "./api.js";

const CHECKBOXES = ["auto_advance", "start_when_ready", "pause_on_buffering"];

// The value of one field as the API wants it; undefined when it is not a valid entry.
export function settingValue(name, input) {
  if (CHECKBOXES.includes(name)) {
    return input.checked;
  }
  if (name === "queue_mode") {
    return input.value;
  }
  const raw = input.value.trim();
  if (name === "skip_vote_ratio" && raw === "") {
    return null; // vote-skip off
  }
  const number = Number(raw);
  if (raw === "" || !isFinite(number)) {
    return undefined;
  }
  return name === "viewer_pause_limit" ? Math.trunc(number) : number;
}

export class RoomSettings {
  constructor(page) {
    this.page = page;
    this.form = byId("settings-form");
    this.status = byId("settings-status");
    this.form.addEventListener("change", (event) => this.save(event.target));
    this.form.addEventListener("submit", (event) => event.preventDefault());
    page.onRoomChange((room) => this.fill(room.settings));
    this.fill(page.room.settings);
  }

  fill(settings) {
    if (!settings) {
      return;
    }
    for (const [name, value] of Object.entries(settings)) {
      const input = this.form.elements[name];
      if (!input || input === document.activeElement) {
        continue;
      }
      if (CHECKBOXES.includes(name)) {
        input.checked = Boolean(value);
      } else {
        input.value = value === null ? "" : String(value);
      }
    }
  }

  save(input) {
    const name = input && input.name;
    const value = settingValue(name, input);
    if (!name || value === undefined) {
      return;
    }
    setText(this.status, "Saving…");
    requestJson(this.page, "PATCH", roomPath(this.page), {settings: {[name]: value}}).then(
      (result) => {
        if (result.status === 200 && result.body && result.body.room) {
          this.page.updateRoom(result.body.room);
          setText(this.status, "Saved.");
        } else {
          setText(this.status, errorMessage(result, "The setting was not saved."));
        }
      },
      () => setText(this.status, "The server did not answer.")
    );
  }
}
