// The room page's shared state, handed to every module of the page: the room as the
// server last described it (SPEC R20), who is looking and with which role (R100), and
// three page events: the room changed (ROOM_UPDATED, or the host's own change), the
// user's role changed (ROLE_CHANGED, HOST_CHANGED) and the page closed (R45, R105).

export const CLOSED_TEXT = {
  deleted: "This room was closed: the host deleted it.",
  expired: "This room was closed: it expired.",
  other: "This room was closed.",
};

// The words for a KICKED reason (R105).
export const REMOVED_TEXT = {
  kicked: "You were removed from this room.",
  banned: "You were removed and banned from this room.",
};

// The words for a ROOM_CLOSED reason (R45).
export function closedText(reason) {
  return Object.hasOwn(CLOSED_TEXT, reason) ? CLOSED_TEXT[reason] : CLOSED_TEXT.other;
}

export function createPage(root) {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const listeners = {roomChange: [], roleChange: [], close: []};
  const room = JSON.parse(root.getAttribute("data-room"));
  const page = {
    root: root,
    room: room,
    code: room.code,
    userId: Number(root.getAttribute("data-user-id")),
    isHost: root.getAttribute("data-is-host") === "true",
    role: room.role || "viewer",
    csrfToken: csrfMeta ? csrfMeta.getAttribute("content") : "",
    closed: false,
    // listener(room, previous): a newer description of this room was adopted.
    onRoomChange: (listener) => listeners.roomChange.push(listener),
    // listener(message): the page closed; message is a list of strings and nodes saying why.
    onClose: (listener) => listeners.close.push(listener),
    // listener(role): the user's own role in the room changed (R102-R104).
    onRoleChange: (listener) => listeners.roleChange.push(listener),
    setRole(role) {
      if (role === page.role) {
        return;
      }
      page.role = role;
      page.isHost = role === "host";
      listeners.roleChange.forEach((listener) => listener(role));
    },
    updateRoom(next) {
      if (!next || next.code !== page.code) {
        return;
      }
      const previous = page.room;
      page.room = next;
      listeners.roomChange.forEach((listener) => listener(next, previous));
    },
    close(...message) {
      if (page.closed) {
        return;
      }
      page.closed = true;
      listeners.close.forEach((listener) => listener(message));
    },
  };
  return page;
}
