// The room's Socket.IO connection to /room (SPEC R30, R31): a fresh token for every
// attempt, reconnects after a drop, and what is going on said on the connection line.
import {byId, setText} from "../common.js";
import {requestJson} from "./api.js";
import {CLOSED_TEXT, REMOVED_TEXT} from "./page.js";

const TOKEN_MARGIN_MS = 60000;
const DEFAULT_TOKEN_MS = 3600000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;
// Refusals (R31) that end the page, and the words for them.
const CLOSING_REFUSALS = {
  room_closed: CLOSED_TEXT.other,
  room_not_found: "This room no longer exists.",
  banned: REMOVED_TEXT.banned,
};

class LoggedOut extends Error {}

// The socket token (R30), fetched again when it is about to expire or was refused.
class TokenSource {
  constructor(page) {
    this.page = page;
    this.token = null; // {value, expiresAt}
  }

  fresh() {
    if (this.token && Date.now() < this.token.expiresAt - TOKEN_MARGIN_MS) {
      return Promise.resolve(this.token.value);
    }
    return requestJson(this.page, "POST", "/api/auth/token/").then((result) => {
      if (result.status === 401) {
        throw new LoggedOut();
      }
      if (result.status !== 200 || !result.body) {
        throw new Error("token " + result.status);
      }
      const seconds = Number(result.body.expires_in);
      const lifetime = seconds > 0 ? seconds * 1000 : DEFAULT_TOKEN_MS;
      this.token = {value: String(result.body.access_token), expiresAt: Date.now() + lifetime};
      return this.token.value;
    });
  }

  forget() {
    this.token = null;
  }
}

function loggedOutMessage(page) {
  const link = document.createElement("a");
  link.href = "/login?next=" + encodeURIComponent("/rooms/" + page.code);
  link.textContent = "Log in";
  return ["You are logged out. Log in again to come back to this room.", " ", link];
}

export class Connection {
  constructor(page) {
    this.page = page;
    this.line = byId("connection");
    this.tokens = new TokenSource(page);
    this.retryDelay = FIRST_RETRY_MS;
    this.retryTimer = null;
    this.socket = window.io("/room", {
      autoConnect: false,
      // Called for every connection attempt, so a reconnect presents a valid token.
      auth: (send) => this.authenticate(send),
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("connect_error", (error) => this.onConnectError(error));
    this.socket.on("disconnect", (reason) => this.onDisconnect(reason));
    // Removed from the room (R105): say so and do not come back.
    this.socket.on("KICKED", (payload) => {
      const reason = payload && payload.reason === "banned" ? "banned" : "kicked";
      page.close(REMOVED_TEXT[reason]);
    });
    page.onClose(() => this.close());
  }

  // handler(payload) for every `event` the server sends (R32-R64).
  on(event, handler) {
    this.socket.on(event, handler);
  }

  // Send now, or once connected again (Socket.IO buffers it), unless the page closed.
  send(event, payload) {
    if (!this.page.closed) {
      this.socket.emit(event, payload);
    }
  }

  // Send only while connected: player reports are worth nothing later.
  sendIfConnected(event, payload) {
    if (this.socket.connected) {
      this.send(event, payload);
    }
  }

  open() {
    this.socket.connect();
  }

  close() {
    clearTimeout(this.retryTimer);
    setText(this.line, "");
    this.socket.io.reconnection(false);
    this.socket.disconnect();
  }

  authenticate(send) {
    const code = this.page.code;
    this.tokens.fresh().then(
      (value) => send({token: value, room: code}),
      (error) => {
        if (error instanceof LoggedOut) {
          this.page.close(...loggedOutMessage(this.page));
        }
        send({token: "", room: code});
      }
    );
  }

  warn(text) {
    this.line.classList.add("warning");
    setText(this.line, text);
  }

  onConnect() {
    this.retryDelay = FIRST_RETRY_MS;
    setText(this.line, "Connected.");
    this.line.classList.remove("warning");
  }

  onConnectError(error) {
    if (this.page.closed) {
      return;
    }
    const refusal = error && error.data && error.data.code;
    if (!refusal) {
      this.warn("Cannot reach the server. Trying again…");
    } else if (Object.hasOwn(CLOSING_REFUSALS, refusal)) {
      this.line.classList.add("warning");
      this.page.close(CLOSING_REFUSALS[refusal]);
    } else if (refusal === "not_a_participant") {
      this.warn("You are not in this room yet. Reload the page to join it.");
    } else if (refusal === "unauthorized") {
      this.tokens.forget();
      this.warn("Connecting again…");
      this.retryLater();
    } else {
      this.warn("The server is busy. Trying again…");
      this.retryLater();
    }
  }

  onDisconnect(reason) {
    if (this.page.closed) {
      return;
    }
    this.warn("Connection lost. Reconnecting…");
    if (reason === "io server disconnect") {
      this.retryLater(); // the server let us go without closing the room: come back
    }
  }

  // A refusal the client can recover from: connect again later, with a fresh token.
  retryLater() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.page.closed && !this.socket.connected) {
        this.socket.connect();
      }
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_MS);
  }
}
