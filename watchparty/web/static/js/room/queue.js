// The room queue (SPEC R150-R156, R94a): a list labelled "Queue" kept from QUEUE_UPDATED
// (older versions dropped, R153), with "Remove", "Move up", "Move down" per item and
// "Play next" for host and cohosts.
import {byId, namedButton, setText, textElement} from "../common.js";
import {errorMessage, requestJson, roomPath} from "./api.js";
import {isStaff} from "./roles.js";

// How an item reads: its title, or what the media is.
export function describeMedia(title, media) {
  if (title) {
    return title;
  }
  if (!media) {
    return "Nothing";
  }
  if (media.provider === "direct") {
    return String(media.url);
  }
  const episode = media.type === "tv" ? " S" + media.season + "E" + media.episode : "";
  return (media.type === "tv" ? "TV " : "Movie ") + media.id + episode;
}


export class Queue {
  constructor(page, connection) {
    this.page = page;
    this.version = -1;
    this.items = [];
    this.el = {list: byId("queue"), empty: byId("queue-empty"), next: byId("play-next"), error: byId("queue-error")};
    connection.on("QUEUE_UPDATED", (payload) => this.onQueue(payload));
    this.el.next.addEventListener("click", () => this.call("POST", "next/"));
    page.onRoleChange(() => this.show());
    page.onRoomChange(() => this.show());
  }

  onQueue(payload) {
    if (!payload || !Array.isArray(payload.items) || !(Number(payload.version) > this.version)) {
      return; // an older version than the one shown (R153)
    }
    this.version = Number(payload.version);
    this.items = payload.items;
    this.show();
  }

  show() {
    const staff = isStaff(this.page.role);
    this.el.list.replaceChildren(...this.items.map((item, index) => this.itemView(item, index, staff)));
    setText(this.el.empty, this.items.length ? "" : "The queue is empty.");
    this.el.next.hidden = !staff;
  }

  itemView(item, index, staff) {
    const view = document.createElement("li");
    const name = describeMedia(item.title, item.media);
    view.append(textElement("span", "queue-title", name));
    view.append(textElement("span", "hint", " added by " + item.added_by.display_name + " "));
    if (staff || item.added_by.id === this.page.userId) {
      view.append(namedButton("Remove", name, () => this.call("DELETE", item.id + "/")));
    }
    if (staff && index > 0) {
      view.append(namedButton("Move up", name, () => this.move(item.id, index - 1)));
    }
    if (staff && index < this.items.length - 1) {
      view.append(namedButton("Move down", name, () => this.move(item.id, index + 1)));
    }
    return view;
  }

  move(itemId, index) {
    this.call("POST", itemId + "/move/", {index: index});
  }

  // One queue call; QUEUE_UPDATED brings the result, a refusal is said in words.
  call(method, path, body) {
    setText(this.el.error, "");
    const url = roomPath(this.page) + "queue/" + path;
    return requestJson(this.page, method, url, body).then(
      (result) => {
        if (result.status >= 400) {
          setText(this.el.error, errorMessage(result, "The queue could not be changed."));
        }
        return result;
      },
      () => setText(this.el.error, "The server did not answer.")
    );
  }
}
