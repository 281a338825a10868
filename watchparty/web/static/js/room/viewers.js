// Who is here (SPEC R32-R34, R100a): the "Viewers" list, host first, each with a role,
// and the viewer count. Other modules add per-person buttons through addDecorator.
import {byId, setText, textElement, viewersLabel} from "../common.js";

const ROLES = ["host", "cohost", "viewer"];

// A user of a payload as {id, display_name, role}, or null if malformed.
export function viewerFrom(page, user, isHostFlag) {
  if (!user || typeof user !== "object" || typeof user.display_name !== "string") {
    return null;
  }
  const id = Number(user.id);
  const host = Boolean(isHostFlag) || id === page.room.host.id;
  const role = host ? "host" : ROLES.includes(user.role) ? user.role : "viewer";
  return {id: id, display_name: user.display_name, role: role};
}

// <li><span class="person">Bob (cohost)</span> …buttons added by decorators…</li>
function viewerItem(user) {
  const item = document.createElement("li");
  const person = textElement("span", "person", user.display_name);
  if (user.role !== "viewer") {
    person.append(textElement("span", "host-mark", " (" + user.role + ")"));
  }
  item.append(person);
  return item;
}

export class Viewers {
  constructor(page, connection) {
    this.page = page;
    this.viewers = []; // in the order they arrived
    this.decorators = [];
    this.list = byId("viewers");
    this.count = byId("viewer-count");
    connection.on("PRESENCE", (payload) => this.onPresence(payload));
    connection.on("USER_JOINED", (payload) => this.onUserJoined(payload));
    connection.on("USER_LEFT", (payload) => this.onUserLeft(payload));
    connection.on("ROLE_CHANGED", (payload) => this.onRoleChanged(payload));
    connection.on("HOST_CHANGED", (payload) => this.onHostChanged(payload));
    page.onRoleChange(() => this.show(this.viewers));
  }

  // decorate(item, user): add to each person's list item (buttons named with the person).
  addDecorator(decorate) {
    this.decorators.push(decorate);
  }

  // The list as it now is, and the count the payload says.
  show(viewers, count) {
    this.viewers = viewers;
    const order = (user) => ROLES.indexOf(user.role);
    const sorted = viewers.slice().sort((a, b) => order(a) - order(b));
    this.list.replaceChildren(
      ...sorted.map((user) => {
        const item = viewerItem(user);
        this.decorators.forEach((decorate) => decorate(item, user));
        return item;
      })
    );
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

  setRoles(roles) {
    this.show(this.viewers.map((viewer) => (Object.hasOwn(roles, viewer.id) ? {...viewer, role: roles[viewer.id]} : viewer)));
  }

  onRoleChanged(payload) {
    if (payload && payload.user && ROLES.includes(payload.role)) {
      this.setRoles({[Number(payload.user.id)]: payload.role});
    }
  }

  onHostChanged(payload) {
    if (payload && payload.host && payload.previous) {
      this.page.room = {...this.page.room, host: payload.host};
      this.setRoles({[Number(payload.host.id)]: "host", [Number(payload.previous.id)]: "cohost"});
    }
  }
}
