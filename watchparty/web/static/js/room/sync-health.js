// The "Sync health" table for host and cohosts (SPEC R131, R94a): each viewer's drift,
// round trip and buffering, as SYNC_HEALTH last said; and a "Resync Bob" button per person
// in "Viewers" (R132).
import {byId, namedButton, setText} from "../common.js";
import {isStaff} from "./roles.js";

function milliseconds(seconds, signed) {
  if (typeof seconds !== "number") {
    return "–";
  }
  const value = Math.round(seconds * 1000);
  return (signed && value > 0 ? "+" : "") + value + " ms";
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function row(user) {
  const tr = document.createElement("tr");
  const name = document.createElement("th");
  name.scope = "row";
  name.textContent = String(user.display_name);
  const buffering = user.buffering === true ? "yes" : user.buffering === false ? "no" : "–";
  tr.append(name, cell(milliseconds(user.drift, true)), cell(milliseconds(user.rtt, false)), cell(buffering));
  return tr;
}

export class SyncHealth {
  constructor(page, connection, viewers) {
    this.panel = byId("sync-health-panel");
    this.body = byId("sync-health-rows");
    this.note = byId("sync-health-note");
    connection.on("SYNC_HEALTH", (payload) => this.onSyncHealth(payload));
    viewers.addDecorator((item, user) => {
      if (isStaff(page.role) && user.id !== page.userId) {
        const resync = namedButton("Resync", user.display_name, () => connection.send("RESYNC", {user_id: user.id}));
        item.append(" ", resync);
      }
    });
    page.onRoleChange((role) => {
      this.panel.hidden = !isStaff(role);
    });
  }

  onSyncHealth(payload) {
    if (!payload || !Array.isArray(payload.users)) {
      return;
    }
    const users = payload.users.filter((user) => user && typeof user.display_name === "string");
    this.body.replaceChildren(...users.map(row));
    setText(this.note, users.length ? "" : "Nobody has reported yet.");
  }
}
