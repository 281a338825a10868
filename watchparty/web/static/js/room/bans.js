// The "Bans" list for host and cohosts (SPEC R105, R94a): who is banned, with "Unban".
import {byId, namedButton, setText} from "../common.js";
import {errorMessage, requestJson, roomPath} from "./api.js";
import {isStaff} from "./roles.js";

export class Bans {
  constructor(page) {
    this.page = page;
    this.list = byId("bans");
    this.error = byId("bans-error");
    page.onRoleChange(() => this.refresh());
    this.refresh();
  }

  refresh() {
    if (!isStaff(this.page.role) || this.page.closed) {
      return Promise.resolve();
    }
    return requestJson(this.page, "GET", roomPath(this.page) + "bans/").then((result) => {
      if (result.status === 200 && result.body && Array.isArray(result.body.bans)) {
        this.show(result.body.bans);
      }
    }, () => {});
  }

  show(bans) {
    this.list.replaceChildren(...bans.map((ban) => this.item(ban)));
    setText(byId("bans-empty"), bans.length ? "" : "Nobody is banned.");
  }

  item(ban) {
    const item = document.createElement("li");
    const name = String(ban.user.display_name);
    item.append(name + " ", namedButton("Unban", name, () => this.unban(ban.user.id)));
    return item;
  }

  unban(userId) {
    setText(this.error, "");
    const path = roomPath(this.page) + "participants/" + userId + "/ban/";
    requestJson(this.page, "DELETE", path).then((result) => {
      if (result.status !== 204) {
        setText(this.error, errorMessage(result, "The ban could not be lifted."));
      }
      this.refresh();
    }, () => setText(this.error, "The server did not answer."));
  }
}
