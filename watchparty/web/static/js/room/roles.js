// The user's own role (SPEC R100-R104), kept current from ROLE_CHANGED and HOST_CHANGED,
// and the controls that depend on it: cohosts get every host control except "Delete room",
// "Room settings" and the role buttons (R94a).
import {byId} from "../common.js";

// The page's "Hosted by …" line, after a handover (R103, R104).
function showHost(host, userId) {
  document.querySelector(".room-host").textContent = String(host.display_name);
  document.querySelector(".room-host-you").textContent = Number(host.id) === userId ? " (you)" : "";
}

export function isStaff(role) {
  return role === "host" || role === "cohost";
}

// The role a user holds after a HOST_CHANGED, or null when it does not concern them.
export function roleAfterHandover(payload, userId) {
  if (!payload || !payload.host || !payload.previous) {
    return null;
  }
  if (Number(payload.host.id) === userId) {
    return "host";
  }
  return Number(payload.previous.id) === userId ? "cohost" : null;
}

export class Roles {
  constructor(page, connection) {
    this.page = page;
    connection.on("ROLE_CHANGED", (payload) => {
      if (payload && payload.user && Number(payload.user.id) === page.userId) {
        page.setRole(String(payload.role));
      }
    });
    connection.on("HOST_CHANGED", (payload) => {
      if (payload && payload.host) {
        showHost(payload.host, page.userId);
      }
      const role = roleAfterHandover(payload, page.userId);
      if (role) {
        page.setRole(role);
      }
    });
    page.onRoleChange((role) => this.show(role));
    this.show(page.role);
  }

  show(role) {
    byId("host-controls").hidden = !isStaff(role);
    byId("delete-room").hidden = role !== "host";
    byId("settings-panel").hidden = role !== "host";
    byId("bans-panel").hidden = !isStaff(role);
  }
}
