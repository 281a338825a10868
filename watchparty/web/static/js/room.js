// The room page (SPEC R92-R94), wired here from one module per job in room/: each gets the
// shared page state (room/page.js) and the connection, and keeps its own part of the page.
// A new panel (clock-synced player, sync health) is one more module in room/, mounted in
// start() below, that listens to the connection and the page events.
import {byId, setText} from "./common.js";
import {Bans} from "./room/bans.js";
import {Chat} from "./room/chat.js";
import {Connection} from "./room/connection.js";
import {HostControls} from "./room/host-controls.js";
import {HostPresence} from "./room/host-presence.js";
import {closedText, createPage} from "./room/page.js";
import {People} from "./room/people.js";
import {Playback} from "./room/playback.js";
import {ReadyCheck} from "./room/ready-check.js";
import {followServerClock} from "./room/server-clock.js";
import {QueueForm} from "./room/queue-form.js";
import {Queue} from "./room/queue.js";
import {Roles} from "./room/roles.js";
import {RoomSettings} from "./room/settings.js";
import {mountShareLink} from "./room/share.js";
import {SkipVotes} from "./room/skip-votes.js";
import {Speed} from "./room/speed.js";
import {SyncHealth} from "./room/sync-health.js";
import {ViewerPause} from "./room/viewer-pause.js";
import {Viewers} from "./room/viewers.js";

function showTitle(room) {
  const title = room.title || "Untitled room";
  setText(byId("room-title"), title);
  document.title = title + " · Watch Party";
}

// The room closed or the user logged out: say why, and leave only the share link usable.
function showClosed(page, message) {
  const notice = byId("room-closed");
  notice.hidden = false;
  notice.replaceChildren(...message);
  const keep = [byId("room-link"), byId("copy-link")];
  page.root.querySelectorAll("button, input").forEach((control) => {
    if (!keep.includes(control)) {
      control.disabled = true;
    }
  });
}

function start(root) {
  const page = createPage(root);
  const connection = new Connection(page);
  page.onRoomChange(showTitle);
  page.onClose((message) => showClosed(page, message));
  connection.on("ROOM_UPDATED", (payload) => page.updateRoom(payload && payload.room));
  connection.on("ROOM_CLOSED", (payload) => page.close(closedText(payload && payload.reason)));
  mountShareLink(page);
  followServerClock(connection);
  new Playback(page, connection);
  const viewers = new Viewers(page, connection);
  new HostPresence(page, connection);
  new Chat(page, connection);
  new HostControls(page, connection); // shown to host and cohosts by Roles
  new Roles(page, connection);
  new People(page, viewers, new Bans(page));
  new QueueForm(page, new Queue(page, connection));
  new SkipVotes(page, connection);
  new ViewerPause(page, connection);
  new RoomSettings(page);
  new ReadyCheck(page, connection);
  new Speed(page, connection);
  new SyncHealth(page, connection, viewers);
  connection.open();
}

const root = byId("room");
if (root && typeof window.io === "function") {
  start(root);
}
