// Per-person buttons in the "Viewers" list (SPEC R94a): the host's "Make cohost" /
// "Make viewer" / "Make host", and "Kick" / "Ban" where R100 allows, each named with the
// person ("Kick Bob"). Refusals are said next to the list.
import {byId, namedButton, setText} from "../common.js";
import {errorMessage, requestJson, roomPath} from "./api.js";
import {isStaff} from "./roles.js";

// May someone with role `mine` remove someone with role `theirs`? (R100, R105)
function mayRemove(mine, theirs) {
  return (mine === "host" && theirs !== "host") || (mine === "cohost" && theirs === "viewer");
}


export class People {
  constructor(page, viewers, bans) {
    this.page = page;
    this.bans = bans;
    this.error = byId("people-error");
    viewers.addDecorator((item, user) => this.decorate(item, user));
  }

  decorate(item, user) {
    const mine = this.page.role;
    if (user.id === this.page.userId || !isStaff(mine)) {
      return;
    }
    const name = user.display_name;
    const buttons = [];
    if (mine === "host" && user.role !== "host") {
      const next = user.role === "cohost" ? "viewer" : "cohost";
      buttons.push(namedButton("Make " + next, name, () => this.setRole(user, next)));
      buttons.push(namedButton("Make host", name, () => this.call("POST", "host/", {user_id: user.id})));
    }
    if (mayRemove(mine, user.role)) {
      const person = roomPath(this.page) + "participants/" + user.id + "/";
      buttons.push(namedButton("Kick", name, () => this.call("POST", person + "kick/")));
      buttons.push(namedButton("Ban", name, () => this.call("POST", person + "ban/").then(() => this.bans.refresh())));
    }
    if (buttons.length) {
      const row = document.createElement("span");
      row.className = "person-actions";
      row.append(...buttons);
      item.append(" ", row);
    }
  }

  setRole(user, role) {
    return this.call("PATCH", roomPath(this.page) + "participants/" + user.id + "/", {role: role});
  }

  // One API call; a refusal is said in words (R10's message).
  call(method, path, body) {
    setText(this.error, "");
    const url = path.startsWith("/") ? path : roomPath(this.page) + path;
    return requestJson(this.page, method, url, body).then(
      (result) => {
        if (result.status >= 400) {
          setText(this.error, errorMessage(result, "That did not work."));
        }
      },
      () => setText(this.error, "The server did not answer.")
    );
  }
}
