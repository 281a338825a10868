// Keeps the "Public rooms" list of the index page fresh (SPEC R90): polls the
// public list every 5 seconds and rebuilds it with textContent only (R93).
import {getJson, textElement, viewersLabel} from "./common.js";

const POLL_MS = 5000;
let lastSignature = null;

// Same wording as time_ago() in watchparty/web/public_rooms.py.
function timeAgo(iso) {
  const then = Date.parse(iso);
  if (isNaN(then)) {
    return "";
  }
  const seconds = Math.max(0, Math.floor((Date.now() - then) / 1000));
  if (seconds < 60) {
    return "just now";
  }
  if (seconds < 3600) {
    return Math.floor(seconds / 60) + " min ago";
  }
  if (seconds < 86400) {
    return Math.floor(seconds / 3600) + " h ago";
  }
  const days = Math.floor(seconds / 86400);
  return days === 1 ? "1 day ago" : days + " days ago";
}

function roomItem(room) {
  const item = textElement("li", "room", "");
  const link = textElement("a", "room-title", room.title || "Untitled room");
  link.href = "/rooms/" + encodeURIComponent(String(room.code));
  const time = document.createElement("time");
  time.dateTime = String(room.created_at || "");
  time.textContent = timeAgo(room.created_at);
  const meta = textElement("span", "room-meta", "");
  meta.append(
    "Host: ", textElement("span", "room-host", (room.host && room.host.display_name) || ""),
    " · ", textElement("span", "room-viewers", viewersLabel(room.viewer_count)),
    " · ", time,
    " · Code ", textElement("span", "room-code", String(room.code))
  );
  item.append(link, " ", meta);
  return item;
}

function refreshAges(list) {
  list.querySelectorAll("time[datetime]").forEach((time) => {
    time.textContent = timeAgo(time.dateTime);
  });
}

// Rebuilding only on change, and putting focus back on the same room, keeps
// keyboard and screen reader users where they were.
function render(list, empty, rooms) {
  const signature = JSON.stringify(rooms);
  if (signature === lastSignature) {
    refreshAges(list);
    return;
  }
  lastSignature = signature;
  const focused = list.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
  list.replaceChildren(...rooms.map(roomItem));
  if (empty) {
    empty.hidden = rooms.length > 0;
  }
  const again = focused && Array.from(list.querySelectorAll("a")).find((a) => a.getAttribute("href") === focused);
  if (again) {
    again.focus();
  }
}

function poll(list, empty) {
  if (document.hidden) {
    return;
  }
  getJson(list.getAttribute("data-source"))
    .then((body) => {
      if (body && Array.isArray(body.rooms)) {
        render(list, empty, body.rooms);
      }
    })
    .catch(() => {
      // Keep the list as it is; the next poll tries again.
    });
}

const list = document.getElementById("public-rooms");
if (list) {
  const empty = document.getElementById("public-rooms-empty");
  poll(list, empty);
  window.setInterval(() => poll(list, empty), POLL_MS);
}
