// Keeps the "Public rooms" list of the index page fresh (SPEC R90): polls the
// public list every 5 seconds and rebuilds it with textContent only (R93).
(function () {
  "use strict";

  var POLL_MS = 5000;
  var list = document.getElementById("public-rooms");
  var empty = document.getElementById("public-rooms-empty");
  if (!list || !window.fetch) {
    return;
  }
  var source = list.getAttribute("data-source");
  var lastSignature = null;

  // Same wording as time_ago() in watchparty/web/public_rooms.py.
  function timeAgo(iso) {
    var then = Date.parse(iso);
    if (isNaN(then)) {
      return "";
    }
    var seconds = Math.max(0, Math.floor((Date.now() - then) / 1000));
    if (seconds < 60) {
      return "just now";
    }
    if (seconds < 3600) {
      return Math.floor(seconds / 60) + " min ago";
    }
    if (seconds < 86400) {
      return Math.floor(seconds / 3600) + " h ago";
    }
    var days = Math.floor(seconds / 86400);
    return days === 1 ? "1 day ago" : days + " days ago";
  }

  function viewersLabel(count) {
    var n = Number(count) || 0;
    return n === 1 ? "1 viewer" : n + " viewers";
  }

  function textSpan(className, text) {
    var span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    return span;
  }

  function roomItem(room) {
    var item = document.createElement("li");
    item.className = "room";
    var link = document.createElement("a");
    link.className = "room-title";
    link.href = "/rooms/" + encodeURIComponent(String(room.code));
    link.textContent = room.title || "Untitled room";
    var time = document.createElement("time");
    time.dateTime = String(room.created_at || "");
    time.textContent = timeAgo(room.created_at);
    var meta = document.createElement("span");
    meta.className = "room-meta";
    meta.append(
      "Host: ", textSpan("room-host", (room.host && room.host.display_name) || ""),
      " · ", textSpan("room-viewers", viewersLabel(room.viewer_count)),
      " · ", time,
      " · Code ", textSpan("room-code", String(room.code))
    );
    item.append(link, " ", meta);
    return item;
  }

  function refreshAges() {
    list.querySelectorAll("time[datetime]").forEach(function (time) {
      time.textContent = timeAgo(time.dateTime);
    });
  }

  // Rebuilding only on change, and putting focus back on the same room, keeps
  // keyboard and screen reader users where they were.
  function render(rooms) {
    var signature = JSON.stringify(rooms);
    if (signature === lastSignature) {
      refreshAges();
      return;
    }
    lastSignature = signature;
    var focused = list.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
    list.replaceChildren.apply(list, rooms.map(roomItem));
    if (empty) {
      empty.hidden = rooms.length > 0;
    }
    if (focused) {
      var again = Array.prototype.find.call(list.querySelectorAll("a"), function (a) {
        return a.getAttribute("href") === focused;
      });
      if (again) {
        again.focus();
      }
    }
  }

  function poll() {
    if (document.hidden) {
      return;
    }
    fetch(source, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (body) {
        if (body && Array.isArray(body.rooms)) {
          render(body.rooms);
        }
      })
      .catch(function () {
        // Keep the list as it is; the next poll tries again.
      });
  }

  poll();
  window.setInterval(poll, POLL_MS);
})();
