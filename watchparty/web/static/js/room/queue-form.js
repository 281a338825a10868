// "Add to queue" (SPEC R152): the same media fields as creating a room, for host and
// cohosts, and for everyone when the room's queue_mode is "open".
import {byId, setText} from "../common.js";
import {isStaff} from "./roles.js";

// The media object of R20 / R74 from the form's fields.
export function mediaFromFields(fields) {
  if (fields.provider === "direct") {
    return {provider: "direct", type: "movie", url: fields.url.trim()};
  }
  const media = {provider: "vidking", type: fields.type, id: fields.id.trim()};
  if (fields.type === "tv") {
    media.season = Number(fields.season);
    media.episode = Number(fields.episode);
  }
  return media;
}

export class QueueForm {
  constructor(page, queue) {
    this.page = page;
    this.queue = queue;
    this.form = byId("queue-form");
    this.form.addEventListener("submit", (event) => this.add(event));
    page.onRoleChange(() => this.show());
    page.onRoomChange(() => this.show());
    this.show();
  }

  show() {
    const settings = this.page.room.settings || {};
    this.form.hidden = !(isStaff(this.page.role) || settings.queue_mode === "open");
  }

  value(name) {
    return this.form.elements[name].value;
  }

  add(event) {
    event.preventDefault();
    const fields = {provider: this.value("provider"), type: this.value("type"), id: this.value("id"),
      season: this.value("season"), episode: this.value("episode"), url: this.value("url")};
    const body = {media: mediaFromFields(fields), title: this.value("title").trim()};
    this.queue.call("POST", "", body).then((result) => {
      if (result && result.status === 201) {
        this.form.reset();
        setText(byId("queue-error"), "");
      }
    });
  }
}
