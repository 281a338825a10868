// Who is here (SPEC R32-R34): the "Viewers" list, host first, and the viewer count.
import {byId, setText, textElement, viewersLabel} from "../common.js";

// A user of a payload as {id, display_name, is_host}, or null if malformed.
export function viewerFrom(page, user, isHostFlag) {
  if (!user || typeof user !== "object" || typeof user.display_name !== "string") {
    return null;
  }
  const id = Number(user.id);
  return {id: id, display_name: user.display_name, is_host: Boolean(isHostFlag) || id === page.room.host.id};
}

// A "Resync Bob" button (R132, R94a): that person's players seek exactly to the room.
function resyncButton(user, connection) {
  const button = textElement("button", "resync", "Resync");
  button.type = "button";
  button.setAttribute("aria-label", "Resync " + user.display_name);
  button.addEventListener("click", () => connection.send("RESYNC", {user_id: user.id}));
  return button;
}

function viewerItem(user, page, connection) {
  const item = document.createElement("li");
  const label = textElement("span", "viewer-label", user.display_name);
  if (user.is_host) {
    label.append(textElement("span", "host-mark", " (host)"));
  }
  item.append(label);
  if (page.isHost && user.id !== page.userId) {
    item.append(" ", resyncButton(user, connection));
  }
  return item;
}

export class Viewers {
  constructor(page, connection) {
    this.page = page;
    this.connection = connection;
    this.viewers = []; // in the order they arrived
    this.list = byId("viewers");
    this.count = byId("viewer-count");
    connection.on("PRESENCE", (payload) => this.onPresence(payload));
    connection.on("USER_JOINED", (payload) => this.onUserJoined(payload));
    connection.on("USER_LEFT", (payload) => this.onUserLeft(payload));
  }

  // The list as it now is, and the count the payload says.
  show(viewers, count) {
    this.viewers = viewers;
    const hostFirst = viewers.slice().sort((a, b) => (b.is_host ? 1 : 0) - (a.is_host ? 1 : 0));
    this.list.replaceChildren(...hostFirst.map((user) => viewerItem(user, this.page, this.connection)));
    if (typeof count === "number") {
      setText(this.count, viewersLabel(count));
    }
  }

  onPresence(payload) {
    if (payload && Array.isArray(payload.users)) {
      const users = payload.users.map((user) => viewerFrom(this.page, user, user && user.is_host));
      this.show(users.filter(Boolean), payload.viewer_count);
    }
  }

  onUserJoined(payload) {
    const user = viewerFrom(this.page, payload && payload.user, false);
    if (user) {
      const known = this.viewers.some((viewer) => viewer.id === user.id);
      this.show(known ? this.viewers : this.viewers.concat([user]), payload.viewer_count);
    }
  }

  onUserLeft(payload) {
    const user = viewerFrom(this.page, payload && payload.user, false);
    if (user) {
      this.show(this.viewers.filter((viewer) => viewer.id !== user.id), payload.viewer_count);
    }
  }
}
